//! Files on the fake Discord: multipart messages (`payload_json` +
//! `files[n]`), their attachments served from the fake's CDN on
//! 127.0.0.1, and files users attach to slash commands.

use serde_json::{Value, json};

use crate::discord::{TEXT, fake};
use crate::support::client;

async fn post_with_file(f: &crier_fakes::FakeDiscord, payload: Value, part: &str) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("payload_json", payload.to_string())
        .part(
            part.to_string(),
            reqwest::multipart::Part::bytes(b"<opml/>".to_vec()).file_name("out.opml"),
        );
    let r = client()
        .post(format!("{}/v10/channels/{TEXT}/messages", f.api_url()))
        .header("Authorization", format!("Bot {}", f.token()))
        .multipart(form)
        .send()
        .await
        .expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_multipart_file_is_kept_and_served_and_attachment_ids_must_match() {
    let f = fake().await;
    let (s, v) = post_with_file(
        &f,
        json!({"content": "", "attachments": [{"id": 0, "filename": "out.opml"}]}),
        "files[0]",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let a = &v["attachments"][0];
    assert_eq!(a["filename"], "out.opml");
    assert_eq!(a["size"], 7);
    let url = a["url"].as_str().expect("url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        url.contains("/attachments/") && url.contains("?ex="),
        "{url}"
    );
    let r = client().get(url).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.expect("body").as_ref(), b"<opml/>");
    assert_eq!(
        f.attachment_bytes(url).as_deref(),
        Some(b"<opml/>".as_slice())
    );
    let missing = format!("{}/attachments/1/2/nope.opml", f.base_url());
    assert_eq!(
        client()
            .get(missing)
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        404
    );

    // An attachment entry naming no uploaded part.
    let (s, v) = post_with_file(
        &f,
        json!({"content": "x", "attachments": [{"id": 1, "filename": "out.opml"}]}),
        "files[0]",
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], 50035);
}
