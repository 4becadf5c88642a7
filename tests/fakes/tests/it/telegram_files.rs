//! Documents on the fake Bot API: `getFile`, the file endpoint,
//! `sendDocument`, through plain HTTP.

use crier_fakes::FakeTelegram;
use crier_fakes::telegram::{GET_FILE_LIMIT, TelegramLimits, TgUser};
use serde_json::{Value, json};

use crate::support::{client, post_json};

const USER: i64 = 4242;

async fn fake() -> (FakeTelegram, TgUser) {
    let f = FakeTelegram::start().await.expect("start");
    f.set_limits(TelegramLimits::unlimited());
    let u = TgUser::new(USER, "Ada");
    f.add_private(&u);
    (f, u)
}

fn url(f: &FakeTelegram, method: &str) -> String {
    format!("{}bot{}/{}", f.api_url(), f.token(), method)
}

async fn get(url: &str) -> (u16, Vec<u8>) {
    let r = client().get(url).send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.bytes().await.expect("body").to_vec())
}

async fn multipart(f: &FakeTelegram, method: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let r = client()
        .post(url(f, method))
        .multipart(form)
        .send()
        .await
        .expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The document of the last update (a user's message).
fn last_document(f: &FakeTelegram) -> Value {
    f.pending_updates()
        .last()
        .and_then(|u| u["message"]["document"].as_object().cloned())
        .map(Value::Object)
        .expect("a document")
}

#[tokio::test]
async fn get_file_then_download_with_the_real_shapes_and_errors() {
    let (f, u) = fake().await;
    f.user_sends_document(USER, &u, "feeds.opml", b"<opml/>", Some("/import"));
    let doc = last_document(&f);
    assert_eq!(doc["file_name"], "feeds.opml");
    assert_eq!(doc["file_size"], 7);
    let update = f.pending_updates().last().cloned().expect("update");
    assert_eq!(update["message"]["caption"], "/import");
    assert_eq!(
        update["message"]["caption_entities"][0]["type"],
        "bot_command"
    );

    let (s, v) = post_json(&url(&f, "getFile"), &json!({"file_id": doc["file_id"]})).await;
    assert_eq!(s, 200, "{v}");
    let r = &v["result"];
    assert_eq!(r["file_id"], doc["file_id"]);
    assert_eq!(r["file_unique_id"], doc["file_unique_id"]);
    assert_eq!(r["file_size"], 7);
    let path = r["file_path"].as_str().expect("file_path");
    let (s, body) = get(&format!("{}file/bot{}/{path}", f.api_url(), f.token())).await;
    assert_eq!((s, body.as_slice()), (200, b"<opml/>".as_slice()));
    // The path as one escaped segment (as teloxide sends it) works too.
    let escaped = path.replace('/', "%2F");
    let (s, _) = get(&format!("{}file/bot{}/{escaped}", f.api_url(), f.token())).await;
    assert_eq!(s, 200);
    // Wrong token, unknown path.
    let (s, _) = get(&format!("{}file/bot1:nope/{path}", f.api_url())).await;
    assert_eq!(s, 401);
    let (s, _) = get(&format!(
        "{}file/bot{}/documents/nope.opml",
        f.api_url(),
        f.token()
    ))
    .await;
    assert_eq!(s, 404);

    let (s, v) = post_json(&url(&f, "getFile"), &json!({"file_id": "nope"})).await;
    assert_eq!(
        (s, v["description"].as_str()),
        (400, Some("Bad Request: invalid file_id"))
    );
    f.user_sends_document_of_size(USER, &u, "big.opml", b"x", GET_FILE_LIMIT + 1, None);
    let big = last_document(&f);
    let (s, v) = post_json(&url(&f, "getFile"), &json!({"file_id": big["file_id"]})).await;
    assert_eq!(
        (s, v["description"].as_str()),
        (400, Some("Bad Request: file is too big"))
    );
}

#[tokio::test]
async fn send_document_needs_a_document_and_a_short_caption() {
    let (f, _) = fake().await;
    let (s, v) = post_json(&url(&f, "sendDocument"), &json!({"chat_id": USER})).await;
    assert_eq!(
        (s, v["description"].as_str()),
        (
            400,
            Some("Bad Request: there is no document in the request")
        )
    );
    let part = || reqwest::multipart::Part::bytes(b"<opml/>".to_vec()).file_name("out.opml");
    let form = reqwest::multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("caption", "x".repeat(1025))
        .part("document", part());
    let (s, v) = multipart(&f, "sendDocument", form).await;
    assert_eq!(s, 400, "{v}");
    assert!(f.bot_posts(USER).is_empty());

    // Uploaded as `attach://` (teloxide's way) or as the `document` part.
    let form = reqwest::multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("document", "attach://f1")
        .part("f1", part());
    let (s, v) = multipart(&f, "sendDocument", form).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"]["document"]["file_name"], "out.opml");
    let form = reqwest::multipart::Form::new()
        .text("chat_id", USER.to_string())
        .text("document", "attach://missing")
        .part("f1", part());
    let (s, _) = multipart(&f, "sendDocument", form).await;
    assert_eq!(s, 400);
    let form = reqwest::multipart::Form::new()
        .text("chat_id", USER.to_string())
        .part("document", part());
    let (s, v) = multipart(&f, "sendDocument", form).await;
    assert_eq!(s, 200, "{v}");
    let posts = f.bot_posts(USER);
    assert_eq!(posts.len(), 2);
    assert_eq!(
        f.document_bytes(USER, posts[1].message_id).as_deref(),
        Some(b"<opml/>".as_slice())
    );
    // A sent document's id can be sent again.
    let id = v["result"]["document"]["file_id"].clone();
    let (s, _) = post_json(
        &url(&f, "sendDocument"),
        &json!({"chat_id": USER, "document": id}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = post_json(
        &url(&f, "sendDocument"),
        &json!({"chat_id": USER, "document": "nope"}),
    )
    .await;
    assert_eq!(s, 400);
}
