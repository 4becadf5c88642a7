use super::*;

#[test]
fn webhook_urls_parse_with_or_without_version() {
    let u = Url::parse("https://discord.com/api/webhooks/123456789012345678/abcDEF_tok-en")
        .expect("url");
    let w = Webhook::parse(&u).expect("webhook");
    assert_eq!(w.id, "123456789012345678");
    assert_eq!(w.token, "abcDEF_tok-en");
    assert_eq!(w.api, "https://discord.com/api");
    let u = Url::parse("http://127.0.0.1:8080/api/v10/webhooks/1/t").expect("url");
    assert_eq!(
        Webhook::parse(&u).expect("w").api,
        "http://127.0.0.1:8080/api"
    );
    assert!(Webhook::parse(&Url::parse("https://discord.com/api/channels/1").expect("u")).is_err());
    assert!(
        format!("{w:?}").find("abcDEF").is_none(),
        "Debug hides the token"
    );
}

#[test]
fn webhook_urls_wait_and_take_components() {
    let w = Webhook {
        id: "1".into(),
        token: "t".into(),
        api: "http://x/api".into(),
    };
    assert_eq!(
        RestClient::webhook_url(&w, "", Some("9"), true, true),
        "http://x/api/v10/webhooks/1/t?wait=true&thread_id=9&with_components=true"
    );
    assert_eq!(
        RestClient::webhook_url(&w, "/messages/5", None, false, false),
        "http://x/api/v10/webhooks/1/t/messages/5"
    );
}

#[tokio::test]
async fn a_webhook_network_error_keeps_its_cause_without_the_token() {
    // A port nobody listens on: the connection is refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let token = "T0KEN-abcdefghijklmnopqrstuvwxyz-0123456789-ABCDEFGHIJKLMNOPQR";
    let url =
        Url::parse(&format!("http://127.0.0.1:{port}/api/webhooks/123/{token}")).expect("url");
    let w = Webhook::parse(&url).expect("webhook");
    let api = Url::parse(&format!("http://127.0.0.1:{port}/api")).expect("api");
    let c =
        RestClient::new(&api, None, Settings::default(), Duration::from_secs(5)).expect("client");
    let e = c
        .execute_webhook(&w, &serde_json::json!({"content": "x"}), None)
        .await
        .expect_err("nothing listens");
    let RestError::Network { sent, message } = &e else {
        panic!("{e:?}");
    };
    assert!(!sent, "{e}");
    assert!(
        message.starts_with("cannot connect: ") && message.to_lowercase().contains("refused"),
        "the cause is kept: {message}"
    );
    assert!(!e.to_string().contains(token), "{e}");
}

#[test]
fn tokens_are_redacted_from_errors() {
    let s = redact(
        "error sending request for url (https://discord.com/api/v10/webhooks/123/SECRETTOKEN?wait=true)",
    );
    assert!(!s.contains("SECRETTOKEN"), "{s}");
    assert!(s.contains("/webhooks/123/***?wait=true"), "{s}");
    let s = redact(
        "error sending request for url (http://x/api/v10/interactions/55/INTERACTIONTOKEN/callback)",
    );
    assert!(!s.contains("INTERACTIONTOKEN"), "{s}");
    assert!(s.contains("/interactions/55/***/callback"), "{s}");
}
