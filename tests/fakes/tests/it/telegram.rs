//! The fake Bot API through plain HTTP.

use std::time::{Duration, Instant};

use crier_fakes::telegram::{BotStatus, PhotoFailure, TelegramLimits, TgUser};
use crier_fakes::{FakeTelegram, Fault, Window};
use serde_json::{Value, json};

use crate::support::{client, post_json};

const CHANNEL: i64 = -1_001_234_567_890;
const GROUP: i64 = -4_001_234_567;
const FORUM: i64 = -1_009_876_543_210;

async fn fake() -> FakeTelegram {
    let f = FakeTelegram::start().await.expect("start");
    f.set_limits(TelegramLimits::unlimited());
    f.add_channel(CHANNEL, Some("crier_news"));
    f.add_group(GROUP, "Readers");
    f.add_supergroup(FORUM, Some("crier_forum"), true, &[7, 9]);
    f
}

fn url(f: &FakeTelegram, method: &str) -> String {
    format!("{}bot{}/{}", f.api_url(), f.token(), method)
}

async fn call(f: &FakeTelegram, method: &str, body: Value) -> (u16, Value) {
    post_json(&url(f, method), &body).await
}

fn description(v: &Value) -> &str {
    v["description"].as_str().unwrap_or("")
}

async fn assert_error(f: &FakeTelegram, method: &str, body: Value, code: u16, text: &str) -> Value {
    let (status, v) = call(f, method, body).await;
    assert_eq!(status, code, "{v}");
    assert_eq!(v["ok"], json!(false));
    assert_eq!(v["error_code"], json!(code));
    assert_eq!(description(&v), text);
    v
}

#[tokio::test]
async fn get_me_token_and_method_names() {
    let f = fake().await;
    let (s, v) = call(&f, "getMe", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["result"]["is_bot"], json!(true));
    assert_eq!(v["result"]["id"], json!(f.bot_id()));
    assert_eq!(v["result"]["has_main_web_app"], json!(false));
    assert_eq!(v["result"]["username"], json!(FakeTelegram::BOT_USERNAME));

    // Method names are case-insensitive.
    let (s, _) = call(&f, "GETME", json!({})).await;
    assert_eq!(s, 200);

    let wrong = format!("{}bot123:nope/getMe", f.api_url());
    let (s, v) = post_json(&wrong, &json!({})).await;
    assert_eq!(s, 401);
    assert_eq!(
        v,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    assert_error(&f, "sendMassage", json!({}), 404, "Not Found").await;
    let (s, v) = post_json(&format!("{}nothing", f.api_url()), &json!({})).await;
    assert_eq!((s, description(&v)), (404, "Not Found"));
}

#[tokio::test]
async fn parameters_from_query_form_and_multipart() {
    let f = fake().await;
    let c = client();
    // Query string.
    let r = c
        .get(format!(
            "{}?chat_id=%40crier_news&text=from+query",
            url(&f, "sendMessage")
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    // Form body, with reply_markup as a JSON string.
    let r = c
        .post(url(&f, "sendMessage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "chat_id={CHANNEL}&text=from%20form&reply_markup=%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22Read%22%2C%22url%22%3A%22https%3A%2F%2Fx.y%22%7D%5D%5D%7D"
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    // Multipart text fields.
    let body = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n{CHANNEL}\r\n--b0undary\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nfrom multipart\r\n--b0undary--\r\n"
    );
    let r = c
        .post(url(&f, "sendMessage"))
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let posts = f.bot_posts(CHANNEL);
    let texts: Vec<&str> = posts.iter().map(|m| m.shown.as_str()).collect();
    assert_eq!(texts, ["from query", "from form", "from multipart"]);
    assert!(posts[1].reply_markup.is_some());

    // A JSON body that is not JSON.
    let r = c
        .post(url(&f, "sendMessage"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(description(&v), "Bad Request: can't parse JSON object");
}

#[tokio::test]
async fn send_message_answers_a_real_message_and_records_it() {
    let f = fake().await;
    let (s, v) = call(
        &f,
        "sendMessage",
        json!({
            "chat_id": "@crier_news",
            "text": "<b>Title</b> &amp; more <a href=\"https://example.org/a\">link</a>",
            "parse_mode": "HTML",
            "disable_notification": true,
            "protect_content": true,
            "link_preview_options": {"is_disabled": true},
            "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "https://example.org/a"}]]},
        }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let m = &v["result"];
    assert_eq!(m["message_id"], json!(1));
    assert_eq!(m["chat"]["id"], json!(CHANNEL));
    assert_eq!(m["chat"]["type"], json!("channel"));
    assert_eq!(m["sender_chat"]["id"], json!(CHANNEL));
    assert_eq!(m["text"], json!("Title & more link"));
    assert_eq!(
        m["entities"],
        json!([
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "text_link", "url": "https://example.org/a", "offset": 13, "length": 4},
        ])
    );
    assert_eq!(m["has_protected_content"], json!(true));
    assert_eq!(m["link_preview_options"], json!({"is_disabled": true}));
    assert!(m["date"].as_i64().unwrap_or(0) > 1_600_000_000);

    let rec = f.bot_posts(CHANNEL);
    assert_eq!(rec.len(), 1);
    let r = &rec[0];
    assert_eq!(r.parse_mode.as_deref(), Some("HTML"));
    assert!(r.text.as_deref().unwrap_or("").starts_with("<b>Title</b>"));
    assert!(r.disable_notification && r.protect_content);
    assert_eq!(r.edit_count, 0);
    assert!(!r.deleted);

    // In a group the bot is `from`.
    let (_, v) = call(&f, "sendMessage", json!({"chat_id": GROUP, "text": "hi"})).await;
    assert_eq!(v["result"]["from"]["id"], json!(f.bot_id()));
    assert_eq!(v["result"]["chat"]["type"], json!("group"));
}

#[tokio::test]
async fn chat_errors() {
    let f = fake().await;
    assert_error(
        &f,
        "sendMessage",
        json!({"text": "x"}),
        400,
        "Bad Request: chat_id is empty",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": -100, "text": "x"}),
        400,
        "Bad Request: chat not found",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": "@nobody", "text": "x"}),
        400,
        "Bad Request: chat not found",
    )
    .await;

    f.set_bot_status(CHANNEL, BotStatus::Kicked);
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x"}),
        403,
        "Forbidden: bot was kicked from the channel chat",
    )
    .await;
    f.set_bot_status(GROUP, BotStatus::Kicked);
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": GROUP, "text": "x"}),
        403,
        "Forbidden: bot was kicked from the group chat",
    )
    .await;
    f.set_bot_status(CHANNEL, BotStatus::NotMember);
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x"}),
        403,
        "Forbidden: bot is not a member of the channel chat",
    )
    .await;
    f.set_bot_status(CHANNEL, BotStatus::NoRights);
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x"}),
        400,
        "Bad Request: not enough rights to send text messages to the chat",
    )
    .await;
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "https://x.y/a.jpg"}),
        400,
        "Bad Request: not enough rights to send photos to the chat",
    )
    .await;

    f.set_bot_status(GROUP, BotStatus::Member);
    f.migrate_group(GROUP, -1_005_555_555_555);
    let v = assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": GROUP, "text": "x"}),
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
    )
    .await;
    assert_eq!(
        v["parameters"]["migrate_to_chat_id"],
        json!(-1_005_555_555_555i64)
    );
    let (s, _) = call(
        &f,
        "sendMessage",
        json!({"chat_id": -1_005_555_555_555i64, "text": "x"}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(f.bot_posts(CHANNEL).is_empty());
}

#[tokio::test]
async fn forum_topics() {
    let f = fake().await;
    let (s, v) = call(
        &f,
        "sendMessage",
        json!({"chat_id": "@crier_forum", "message_thread_id": 7, "text": "in topic"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["result"]["message_thread_id"], json!(7));
    assert_eq!(v["result"]["is_topic_message"], json!(true));
    assert_eq!(v["result"]["chat"]["is_forum"], json!(true));
    assert_eq!(f.bot_posts(FORUM)[0].thread_id, Some(7));
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": FORUM, "message_thread_id": 8, "text": "x"}),
        400,
        "Bad Request: message thread not found",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "message_thread_id": 7, "text": "x"}),
        400,
        "Bad Request: message thread not found",
    )
    .await;
}

#[tokio::test]
async fn text_validation() {
    let f = fake().await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL}),
        400,
        "Bad Request: message text is empty",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": ""}),
        400,
        "Bad Request: message text is empty",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x".repeat(4097)}),
        400,
        "Bad Request: message is too long",
    )
    .await;
    // 4096 UTF-16 units fit; an emoji counts two.
    let (s, _) = call(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x".repeat(4096)}),
    )
    .await;
    assert_eq!(s, 200);
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "😀".repeat(2049)}),
        400,
        "Bad Request: message is too long",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x", "parse_mode": "html5"}),
        400,
        "Bad Request: unsupported parse_mode",
    )
    .await;
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "https://x.y/a.jpg", "caption": "c".repeat(1025)}),
        400,
        "Bad Request: message caption is too long",
    )
    .await;
}

#[tokio::test]
async fn inline_keyboards_are_checked() {
    let f = fake().await;
    let kb = |b: Value| json!({"chat_id": CHANNEL, "text": "x", "reply_markup": {"inline_keyboard": [[b]]}});
    assert_error(
        &f,
        "sendMessage",
        kb(json!({"text": "Read", "url": "javascript:alert(1)"})),
        400,
        "Bad Request: BUTTON_URL_INVALID",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        kb(json!({"text": "Read", "url": "example.org"})),
        400,
        "Bad Request: BUTTON_URL_INVALID",
    )
    .await;
    assert_error(
        &f,
        "sendMessage",
        kb(json!({"text": "", "url": "https://x.y"})),
        400,
        "Bad Request: BUTTON_TEXT_INVALID",
    )
    .await;
    assert_error(&f, "sendMessage", kb(json!({"text": "Read"})), 400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard").await;
    assert_error(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "x", "reply_markup": "{oops"}),
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    )
    .await;
    let (s, _) = call(
        &f,
        "sendMessage",
        kb(json!({"text": "Open", "url": "tg://resolve?domain=crier_news"})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(f.bot_posts(CHANNEL).len() == 1);
}

#[tokio::test]
async fn photos() {
    let f = fake().await;
    let (s, v) = call(&f, "sendPhoto", json!({"chat_id": CHANNEL, "photo": "https://example.org/a.jpg", "caption": "<i>Cap</i>", "parse_mode": "HTML"})).await;
    assert_eq!(s, 200, "{v}");
    let m = &v["result"];
    assert_eq!(m["caption"], json!("Cap"));
    assert_eq!(
        m["caption_entities"],
        json!([{"type": "italic", "offset": 0, "length": 3}])
    );
    let sizes = m["photo"].as_array().cloned().unwrap_or_default();
    assert_eq!(sizes.len(), 3);
    let file_id = sizes[2]["file_id"].as_str().unwrap_or("").to_string();
    assert_eq!(
        f.bot_posts(CHANNEL)[0].photo.as_deref(),
        Some("https://example.org/a.jpg")
    );

    // The file id Telegram gave can be sent again.
    let (s, _) = call(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": file_id}),
    )
    .await;
    assert_eq!(s, 200);

    f.fail_photo_url("https://example.org/gone.jpg", PhotoFailure::FetchFailed);
    f.fail_photo_url(
        "https://example.org/html.jpg",
        PhotoFailure::WrongIdentifier,
    );
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "https://example.org/gone.jpg"}),
        400,
        "Bad Request: failed to get HTTP URL content",
    )
    .await;
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "https://example.org/html.jpg"}),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    .await;
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "not-a-file-id"}),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    .await;
    assert_error(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL}),
        400,
        "Bad Request: there is no photo in the request",
    )
    .await;

    // An uploaded file (multipart).
    let body = format!(
        "--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n{CHANNEL}\r\n--XX\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--XX--\r\n"
    );
    let r = client()
        .post(url(&f, "sendPhoto"))
        .header("content-type", "multipart/form-data; boundary=XX")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let last = f.bot_posts(CHANNEL).pop().expect("posted");
    assert_eq!(last.photo_upload.map(|u| u.size), Some(8));
}

#[tokio::test]
async fn audio() {
    let f = fake().await;
    let mp3 = "https://cdn.example.org/ep/7.mp3?src=rss";
    let (s, v) = call(&f, "SENDAUDIO", json!({"chat_id": CHANNEL, "audio": mp3, "caption": "<b>Ep. 7</b>", "parse_mode": "HTML", "disable_notification": true})).await;
    assert_eq!(s, 200, "{v}");
    let m = &v["result"];
    assert_eq!(m["caption"], json!("Ep. 7"));
    assert_eq!(
        m["caption_entities"],
        json!([{"type": "bold", "offset": 0, "length": 5}])
    );
    assert!(m.get("text").is_none() && m.get("photo").is_none(), "{m}");
    let a = &m["audio"];
    assert_eq!(a["mime_type"], json!("audio/mpeg"));
    assert_eq!(a["file_name"], json!("7.mp3"));
    assert_eq!(a["duration"], json!(crier_fakes::telegram::AUDIO_DURATION));
    assert_eq!(a["file_size"], json!(crier_fakes::telegram::URL_AUDIO_SIZE));
    assert!(a["file_unique_id"].is_string());
    let file_id = a["file_id"].as_str().unwrap_or("").to_string();
    let posted = f.bot_posts(CHANNEL).pop().expect("posted");
    assert_eq!(posted.audio.as_ref().map(|a| a.source.as_str()), Some(mp3));
    assert!(posted.disable_notification);

    // The file id Telegram gave can be sent again; no caption is fine.
    let (s, v) = call(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "audio": file_id}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["result"].get("caption").is_none());

    // A caption is a caption: 1024 after entity parsing.
    let (s, _) = call(&f, "sendAudio", json!({"chat_id": CHANNEL, "audio": mp3, "caption": format!("<b>{}</b>", "a".repeat(1024)), "parse_mode": "HTML"})).await;
    assert_eq!(s, 200);
    assert_error(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "audio": mp3, "caption": "a".repeat(1025)}),
        400,
        "Bad Request: message caption is too long",
    )
    .await;
    assert_error(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "caption": "x"}),
        400,
        "Bad Request: there is no audio in the request",
    )
    .await;
    assert_error(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "audio": "not-a-file-id"}),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    .await;
    f.fail_audio_url(
        "https://cdn.example.org/gone.mp3",
        PhotoFailure::FetchFailed,
    );
    assert_error(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "audio": "https://cdn.example.org/gone.mp3"}),
        400,
        "Bad Request: failed to get HTTP URL content",
    )
    .await;
    f.set_bot_status(CHANNEL, BotStatus::NoRights);
    assert_error(
        &f,
        "sendAudio",
        json!({"chat_id": CHANNEL, "audio": mp3}),
        400,
        "Bad Request: not enough rights to send music to the chat",
    )
    .await;
    f.set_bot_status(CHANNEL, BotStatus::Member);

    // Its caption is edited as a caption; it has no text.
    let id = posted.message_id;
    let (s, v) = call(
        &f,
        "editMessageCaption",
        json!({"chat_id": CHANNEL, "message_id": id, "caption": "Ep. 7, fixed"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"]["caption"], json!("Ep. 7, fixed"));
    assert!(v["result"]["audio"].is_object());
    assert_error(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": id, "text": "x"}),
        400,
        "Bad Request: there is no text in the message to edit",
    )
    .await;
}

#[tokio::test]
async fn edits() {
    let f = fake().await;
    let (_, v) = call(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "<b>one</b>", "parse_mode": "HTML"}),
    )
    .await;
    let id = v["result"]["message_id"].clone();
    let (_, v) = call(
        &f,
        "sendPhoto",
        json!({"chat_id": CHANNEL, "photo": "https://x.y/p.jpg", "caption": "cap"}),
    )
    .await;
    let photo_id = v["result"]["message_id"].clone();

    assert_error(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": 999, "text": "x"}),
        400,
        "Bad Request: message to edit not found",
    )
    .await;
    // Same result (strong = b) and no markup either side: not modified.
    assert_error(&f, "editMessageText", json!({"chat_id": CHANNEL, "message_id": id, "text": "<strong>one</strong>", "parse_mode": "HTML"}), 400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message").await;
    assert_error(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": photo_id, "text": "x"}),
        400,
        "Bad Request: there is no text in the message to edit",
    )
    .await;
    assert_error(
        &f,
        "editMessageCaption",
        json!({"chat_id": CHANNEL, "message_id": id, "caption": "x"}),
        400,
        "Bad Request: there is no caption in the message to edit",
    )
    .await;
    assert_error(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": id}),
        400,
        "Bad Request: message text is empty",
    )
    .await;
    assert_error(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "text": "x"}),
        400,
        "Bad Request: message identifier is not specified",
    )
    .await;

    let (s, v) = call(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": id, "text": "two"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["result"]["text"], json!("two"));
    assert!(v["result"]["edit_date"].is_i64());
    let (s, _) = call(
        &f,
        "editMessageCaption",
        json!({"chat_id": CHANNEL, "message_id": photo_id, "caption": "new cap"}),
    )
    .await;
    assert_eq!(s, 200);
    let kb = json!({"inline_keyboard": [[{"text": "Go", "url": "https://x.y"}]]});
    let (s, _) = call(
        &f,
        "editMessageReplyMarkup",
        json!({"chat_id": CHANNEL, "message_id": id, "reply_markup": kb}),
    )
    .await;
    assert_eq!(s, 200);
    assert_error(&f, "editMessageReplyMarkup", json!({"chat_id": CHANNEL, "message_id": id, "reply_markup": kb}), 400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message").await;

    let m = f
        .message(CHANNEL, id.as_i64().unwrap_or(0))
        .expect("message");
    assert_eq!(m.shown, "two");
    assert_eq!(m.edit_count, 2);
    assert_eq!(
        f.message(CHANNEL, photo_id.as_i64().unwrap_or(0))
            .map(|m| m.shown),
        Some("new cap".into())
    );
}

#[tokio::test]
async fn deletes_and_the_48_hour_rule() {
    let f = fake().await;
    let mut ids = Vec::new();
    for t in ["a", "b", "c"] {
        let (_, v) = call(&f, "sendMessage", json!({"chat_id": CHANNEL, "text": t})).await;
        ids.push(v["result"]["message_id"].as_i64().unwrap_or(0));
    }
    let (s, v) = call(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": ids[0]}),
    )
    .await;
    assert_eq!((s, v["result"].clone()), (200, json!(true)));
    assert_error(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": ids[0]}),
        400,
        "Bad Request: message to delete not found",
    )
    .await;
    assert_error(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": 12345}),
        400,
        "Bad Request: message to delete not found",
    )
    .await;
    f.age_message(CHANNEL, ids[1], Duration::from_secs(48 * 3600));
    assert_error(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": ids[1]}),
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    .await;
    // The clock can be skewed instead.
    f.clock().advance(Duration::from_secs(49 * 3600));
    assert_error(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": ids[2]}),
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    .await;
    let visible: Vec<String> = f.visible(CHANNEL).into_iter().map(|m| m.shown).collect();
    assert_eq!(visible, ["b", "c"]);
    assert_eq!(f.messages(CHANNEL).len(), 3);
}

async fn send_n(f: &FakeTelegram, chat: i64, n: usize) -> Vec<(u16, Value)> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            call(
                f,
                "sendMessage",
                json!({"chat_id": chat, "text": format!("m{i}")}),
            )
            .await,
        );
    }
    out
}

#[tokio::test]
async fn flood_control_per_chat_per_group_and_global() {
    let f = fake().await;
    f.set_limits(TelegramLimits {
        per_chat: Some(Window::new(2, Duration::from_millis(1500))),
        per_group: None,
        global: None,
    });
    let r = send_n(&f, CHANNEL, 3).await;
    assert_eq!(r[0].0, 200);
    assert_eq!(r[1].0, 200);
    assert_eq!(r[2].0, 429);
    assert_eq!(
        r[2].1,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 2", "parameters": {"retry_after": 2}})
    );
    // Another chat is not affected.
    assert_eq!(send_n(&f, GROUP, 1).await[0].0, 200);
    f.clock().advance(Duration::from_secs(2));
    assert_eq!(send_n(&f, CHANNEL, 1).await[0].0, 200);
    // Refused sends are not recorded.
    assert_eq!(f.bot_posts(CHANNEL).len(), 3);

    // The default 20 per minute per channel.
    let f = fake().await;
    f.set_limits(TelegramLimits {
        per_chat: None,
        ..TelegramLimits::default()
    });
    let r = send_n(&f, CHANNEL, 21).await;
    assert!(r[..20].iter().all(|(s, _)| *s == 200));
    assert_eq!(r[20].0, 429);
    let retry = r[20].1["parameters"]["retry_after"].as_u64().unwrap_or(0);
    assert!((55..=60).contains(&retry), "{retry}");
    // Edits count too.
    let (s, _) = call(
        &f,
        "editMessageText",
        json!({"chat_id": CHANNEL, "message_id": 1, "text": "edited"}),
    )
    .await;
    assert_eq!(s, 429);
    // ... deletes do not.
    let (s, _) = call(
        &f,
        "deleteMessage",
        json!({"chat_id": CHANNEL, "message_id": 1}),
    )
    .await;
    assert_eq!(s, 200);

    // The bot-wide limit.
    let f = fake().await;
    f.set_limits(TelegramLimits {
        per_chat: None,
        per_group: None,
        global: Some(Window::new(3, Duration::from_secs(1))),
    });
    f.add_channel(-1_000_000_000_001, None);
    f.add_channel(-1_000_000_000_002, None);
    let mut statuses = Vec::new();
    for chat in [CHANNEL, GROUP, -1_000_000_000_001, -1_000_000_000_002] {
        statuses.push(send_n(&f, chat, 1).await[0].0);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn default_limits_allow_a_small_burst_per_chat() {
    let f = FakeTelegram::start().await.expect("start");
    f.add_channel(CHANNEL, None);
    let r = send_n(&f, CHANNEL, 4).await;
    let statuses: Vec<u16> = r.iter().map(|x| x.0).collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert_eq!(f.limits(), TelegramLimits::default());
}

#[tokio::test]
async fn faults() {
    let f = fake().await;
    // 5xx with Telegram's body, only on the matched method and chat.
    f.inject(
        Fault::Status(502, Value::Null)
            .on("sendMessage")
            .target(CHANNEL),
    );
    let (s, _) = call(&f, "getMe", json!({})).await;
    assert_eq!(s, 200);
    let (s, _) = call(&f, "sendMessage", json!({"chat_id": GROUP, "text": "x"})).await;
    assert_eq!(s, 200);
    let (s, v) = call(&f, "sendMessage", json!({"chat_id": CHANNEL, "text": "x"})).await;
    assert_eq!(s, 502);
    assert_eq!(
        v,
        json!({"ok": false, "error_code": 502, "description": "Bad Gateway"})
    );
    assert!(f.bot_posts(CHANNEL).is_empty());
    assert_eq!(f.pending_faults(), 0);

    // A forced 429, matched by @username.
    f.inject(
        Fault::RateLimit(Duration::from_millis(2500))
            .on("SendMessage")
            .target("@crier_news"),
    );
    let (s, v) = call(
        &f,
        "sendMessage",
        json!({"chat_id": "@crier_news", "text": "x"}),
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(v["parameters"]["retry_after"], json!(3));

    // Dropped before applying: no answer, nothing posted.
    f.inject(Fault::DropBeforeApply.on("sendMessage"));
    let r = client()
        .post(url(&f, "sendMessage"))
        .json(&json!({"chat_id": CHANNEL, "text": "lost"}))
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    assert!(f.bot_posts(CHANNEL).is_empty());

    // Applied, then dropped: no answer, but the message is there.
    f.inject(Fault::ApplyThenDrop.on("sendMessage"));
    let r = client()
        .post(url(&f, "sendMessage"))
        .json(&json!({"chat_id": CHANNEL, "text": "ghost"}))
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(f.bot_posts(CHANNEL).len(), 1);
    assert_eq!(f.bot_posts(CHANNEL)[0].shown, "ghost");

    // Slow answers.
    f.inject(Fault::Delay(Duration::from_millis(300)).on("getMe"));
    let t = Instant::now();
    let (s, _) = call(&f, "getMe", json!({})).await;
    assert_eq!(s, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    f.inject(Fault::DelayAfterApply(Duration::from_millis(300)).on("sendMessage"));
    let c = client();
    let req = c
        .post(url(&f, "sendMessage"))
        .json(&json!({"chat_id": CHANNEL, "text": "slow"}))
        .send();
    let handle = tokio::spawn(req);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(f.bot_posts(CHANNEL).len(), 2, "applied before the answer");
    let r = handle.await.expect("join").expect("answer");
    assert_eq!(r.status().as_u16(), 200);

    let log = f.requests_to("sendMessage");
    let faults: Vec<Option<String>> = log.iter().map(|r| r.fault.clone()).collect();
    assert!(faults.contains(&Some("DropBeforeApply".into())));
    assert!(
        log.iter()
            .any(|r| r.status == 0 && r.fault.as_deref() == Some("ApplyThenDrop"))
    );
}

#[tokio::test]
async fn long_polling_offsets_and_conflicts() {
    let f = fake().await;
    let user = TgUser::new(42, "Ann").with_username("ann");
    f.add_private(&user);

    // Nothing queued: a short poll answers [] after its timeout.
    let t = Instant::now();
    let (s, v) = call(&f, "getUpdates", json!({"timeout": 1})).await;
    assert_eq!((s, v["result"].clone()), (200, json!([])));
    assert!(t.elapsed() >= Duration::from_millis(900));

    // A long poll wakes up when an update arrives.
    let f2 = f.clone();
    let poll = tokio::spawn(async move { call(&f2, "getUpdates", json!({"timeout": 30})).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (uid, mid) = f.user_says(42, &user, "/start now");
    let (s, v) = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("woke")
        .expect("join");
    assert_eq!(s, 200);
    let ups = v["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0]["update_id"], json!(uid));
    assert_eq!(ups[0]["message"]["message_id"], json!(mid));
    assert_eq!(
        ups[0]["message"]["entities"],
        json!([{"type": "bot_command", "offset": 0, "length": 6}])
    );

    // Not confirmed yet: delivered again; offset confirms.
    let (_, v) = call(&f, "getUpdates", json!({})).await;
    assert_eq!(v["result"].as_array().map(Vec::len), Some(1));
    let (_, v) = call(&f, "getUpdates", json!({"offset": uid + 1})).await;
    assert_eq!(v["result"], json!([]));
    assert!(f.pending_updates().is_empty());

    // Replies, photos and button presses.
    let (_, bot_msg) = call(&f, "sendMessage", json!({"chat_id": 42, "text": "pick", "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}})).await;
    let bot_mid = bot_msg["result"]["message_id"].as_i64().unwrap_or(0);
    f.user_replies(42, &user, bot_mid, "reply");
    f.user_sends_photo(42, &user, Some("look"));
    let cb = f.press_button(42, bot_mid, &user, "a");
    let (_, v) = call(&f, "getUpdates", json!({"offset": uid + 1})).await;
    let ups = v["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(ups.len(), 3);
    assert_eq!(
        ups[0]["message"]["reply_to_message"]["message_id"],
        json!(bot_mid)
    );
    assert_eq!(ups[1]["message"]["caption"], json!("look"));
    assert_eq!(ups[2]["callback_query"]["data"], json!("a"));
    assert_eq!(ups[2]["callback_query"]["id"], json!(cb));

    let (s, _) = call(
        &f,
        "answerCallbackQuery",
        json!({"callback_query_id": cb, "text": "ok"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        f.callbacks()[0].answer.as_ref().map(|a| a["text"].clone()),
        Some(json!("ok"))
    );
    assert_error(
        &f,
        "answerCallbackQuery",
        json!({"callback_query_id": cb}),
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    .await;

    // A second poller terminates the first with 409.
    let f2 = f.clone();
    let first = tokio::spawn(async move {
        call(
            &f2,
            "getUpdates",
            json!({"offset": uid + 100, "timeout": 30}),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let f3 = f.clone();
    let second = tokio::spawn(async move {
        call(
            &f3,
            "getUpdates",
            json!({"offset": uid + 100, "timeout": 1}),
        )
        .await
    });
    let (s, v) = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .expect("ended")
        .expect("join");
    assert_eq!(s, 409);
    assert_eq!(
        description(&v),
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    );
    let (s, _) = second.await.expect("join");
    assert_eq!(s, 200);
}

#[tokio::test]
async fn commands_by_scope() {
    let f = fake().await;
    let cmds = json!([{"command": "start", "description": "Start"}, {"command": "status", "description": "Feeds"}]);
    let (s, _) = call(&f, "setMyCommands", json!({"commands": cmds})).await;
    assert_eq!(s, 200);
    let scope = json!({"type": "chat", "chat_id": 42});
    let (s, _) = call(
        &f,
        "setMyCommands",
        json!({"commands": [{"command": "admin", "description": "Admin"}], "scope": scope}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = call(&f, "getMyCommands", json!({})).await;
    assert_eq!(v["result"], cmds);
    let (_, v) = call(&f, "getMyCommands", json!({"scope": scope})).await;
    assert_eq!(v["result"][0]["command"], json!("admin"));
    assert_eq!(f.commands().len(), 2);
    assert_error(
        &f,
        "setMyCommands",
        json!({"commands": [{"command": "Bad-Name", "description": "x"}]}),
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )
    .await;
    assert_error(
        &f,
        "setMyCommands",
        json!({"commands": [{"command": "ok", "description": ""}]}),
        400,
        "Bad Request: command description must be non-empty",
    )
    .await;
    let (s, _) = call(&f, "deleteMyCommands", json!({"scope": scope})).await;
    assert_eq!(s, 200);
    assert_eq!(f.commands().len(), 1);
}

#[tokio::test]
async fn get_chat_and_request_log() {
    let f = fake().await;
    let (s, v) = call(&f, "getChat", json!({"chat_id": "@crier_news"})).await;
    assert_eq!(s, 200);
    assert_eq!(v["result"]["id"], json!(CHANNEL));
    assert_eq!(v["result"]["username"], json!("crier_news"));
    assert_error(
        &f,
        "getChat",
        json!({"chat_id": 5}),
        400,
        "Bad Request: chat not found",
    )
    .await;
    let log = f.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].name, "getChat");
    assert_eq!(log[0].path, "/bot<token>/getChat");
    assert_eq!(log[0].target.as_deref(), Some("@crier_news"));
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].error.as_deref(), Some("Bad Request: chat not found"));
    assert!(log[0].elapsed <= log[1].elapsed);
}

/// A plain `#[test]` that blocks its thread while the fake runs on its own.
#[test]
fn background_fake_serves_a_blocking_test() {
    use std::io::{Read, Write};
    let f = FakeTelegram::start_background().expect("start");
    f.add_channel(CHANNEL, None);
    let addr = f
        .api_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let body = format!("{{\"chat_id\":{CHANNEL},\"text\":\"from a blocking test\"}}");
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        s,
        "POST /bot{}/sendMessage HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        f.token(),
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(f.bot_posts(CHANNEL)[0].shown, "from a blocking test");
}
