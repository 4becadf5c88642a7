//! Albums in the fake Bot API: `sendMediaGroup` and `deleteMessages`
//! through plain HTTP (the error texts), and through teloxide (the
//! answers deserialize as Crier reads them).

use std::time::Duration;

use crier_fakes::telegram::{BotStatus, PhotoFailure, TelegramLimits};
use crier_fakes::{FakeTelegram, Window};
use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{InputFile, InputMedia, InputMediaPhoto, MessageId, ParseMode};

use crate::support::post_json;

const CHANNEL: i64 = -1_001_234_567_890;
const GROUP: i64 = -1_001_234_567_891;

async fn fake() -> FakeTelegram {
    let f = FakeTelegram::start().await.expect("start");
    f.set_limits(TelegramLimits::unlimited());
    f.add_channel(CHANNEL, Some("crier_news"));
    f.add_supergroup(GROUP, None, false, &[]);
    f
}

async fn call(f: &FakeTelegram, method: &str, body: Value) -> (u16, Value) {
    let url = format!("{}bot{}/{}", f.api_url(), f.token(), method);
    post_json(&url, &body).await
}

fn photo(i: usize) -> Value {
    json!({"type": "photo", "media": format!("https://pics.example/{i}.jpg")})
}

fn album(n: usize) -> Value {
    let mut items: Vec<Value> = (0..n).map(photo).collect();
    if let Some(Value::Object(first)) = items.first_mut() {
        first.insert("caption".into(), json!("<b>Three</b> days"));
        first.insert("parse_mode".into(), json!("HTML"));
    }
    Value::Array(items)
}

async fn refused(f: &FakeTelegram, method: &str, body: Value) -> String {
    let (status, v) = call(f, method, body).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["ok"], json!(false));
    v["description"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn an_album_is_one_message_per_picture_with_the_caption_on_the_first() {
    let f = fake().await;
    let (status, v) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(3), "disable_notification": true}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let sent = v["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 3, "{v}");
    let ids: Vec<i64> = sent
        .iter()
        .filter_map(|m| m["message_id"].as_i64())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    let group = sent[0]["media_group_id"].clone();
    assert!(group.is_string());
    assert!(
        sent.iter()
            .all(|m| m["media_group_id"] == group && m["photo"].is_array())
    );
    assert_eq!(sent[0]["caption"], json!("Three days"));
    assert_eq!(sent[0]["caption_entities"][0]["type"], json!("bold"));
    assert!(sent[1].get("caption").is_none() && sent[2].get("caption").is_none());
    let posts = f.bot_posts(CHANNEL);
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|m| m.is_photo() && m.disable_notification));
    assert_eq!(
        posts[1].photo.as_deref(),
        Some("https://pics.example/1.jpg")
    );
    // The caption of the first is edited like any photo's.
    let (status, v) = call(
        &f,
        "editMessageCaption",
        json!({"chat_id": CHANNEL, "message_id": 1, "caption": "Four days"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        f.message(CHANNEL, 1).map(|m| m.shown),
        Some("Four days".into())
    );
    // As a form sends it (a JSON string) too.
    let (status, v) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(2).to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn malformed_albums_are_refused_with_telegrams_words() {
    let f = fake().await;
    let send = |media: Value| json!({"chat_id": CHANNEL, "media": media});
    let cases = [
        (
            json!({"chat_id": CHANNEL}),
            "Bad Request: parameter \"media\" is required",
        ),
        (
            send(json!("[{")),
            "Bad Request: can't parse media JSON object",
        ),
        (
            send(json!({"type": "photo"})),
            "Bad Request: expected an Array of InputMedia",
        ),
        (send(json!([])), "Bad Request: there is no messages to send"),
        (
            send(Value::Array((0..11).map(photo).collect())),
            "Bad Request: too much messages to send as an album",
        ),
        (
            send(json!([photo(0), "x"])),
            "Bad Request: can't parse InputMedia: expected an Object",
        ),
        (
            send(json!([photo(0), {"type": "photo", "media": ""}])),
            "Bad Request: can't parse InputMedia: media not found",
        ),
        (
            send(json!([photo(0), {"type": "animation", "media": "https://a.example/a.gif"}])),
            "Bad Request: can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup",
        ),
        (
            send(json!([photo(0), {"type": "sticker", "media": "x"}])),
            "Bad Request: can't parse InputMedia: type \"sticker\" is unsupported",
        ),
        (
            send(
                json!([{"type": "photo", "media": "https://a.example/1.jpg", "caption": "<b>x", "parse_mode": "HTML"}, photo(1)]),
            ),
            "Bad Request: can't parse InputMedia: Can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            send(
                json!([{"type": "photo", "media": "https://a.example/1.jpg", "caption": "x".repeat(1025)}, photo(1)]),
            ),
            "Bad Request: message caption is too long",
        ),
        (
            send(json!([photo(0), {"type": "photo", "media": "not a file id"}])),
            "Bad Request: failed to send message #2 with the error message \"wrong file identifier/http url specified\"",
        ),
        (
            json!({"chat_id": -1_009_999, "media": album(2)}),
            "Bad Request: chat not found",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            refused(&f, "sendMediaGroup", body.clone()).await,
            want,
            "{body}"
        );
    }
    // Crier's stricter checks say so.
    for media in [
        json!([photo(0)]),
        json!([photo(0), {"type": "photo", "media": "https://a.example/2.jpg", "caption": "late"}]),
        json!([photo(0), {"type": "document", "media": "https://a.example/d.pdf"}]),
    ] {
        let d = refused(&f, "sendMediaGroup", send(media)).await;
        assert!(d.ends_with("(crier strict check)"), "{d}");
    }
    // A picture Telegram cannot fetch fails the album.
    f.fail_photo_url("https://pics.example/1.jpg", PhotoFailure::FetchFailed);
    assert_eq!(
        refused(&f, "sendMediaGroup", send(album(3))).await,
        "Bad Request: failed to send message #2 with the error message \"failed to get http url content\""
    );
    // A chat that forbids photos.
    f.set_bot_status(GROUP, BotStatus::TextOnly);
    assert_eq!(
        refused(
            &f,
            "sendMediaGroup",
            json!({"chat_id": GROUP, "media": album(2)})
        )
        .await,
        "Bad Request: not enough rights to send photos to the chat"
    );
    assert!(f.bot_posts(CHANNEL).is_empty() && f.bot_posts(GROUP).is_empty());
}

#[tokio::test]
async fn an_album_counts_one_message_per_picture_against_the_limits() {
    let f = fake().await;
    f.set_limits(TelegramLimits {
        per_chat: Some(Window::new(3, Duration::from_secs(3))),
        per_group: None,
        global: None,
    });
    let (status, _) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(3)}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(
        &f,
        "sendMessage",
        json!({"chat_id": CHANNEL, "text": "next"}),
    )
    .await;
    assert_eq!(status, 429, "{v}");
    assert!(
        v["parameters"]["retry_after"]
            .as_u64()
            .is_some_and(|s| s >= 1)
    );
    // Once the window is empty, two fit; two more do not fit beside them.
    f.clock().advance(Duration::from_secs(3));
    let (status, v) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(2)}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(2)}),
    )
    .await;
    assert_eq!(status, 429, "two more do not fit beside two");
}

#[tokio::test]
async fn delete_messages_removes_an_album_and_skips_what_it_cannot_find() {
    let f = fake().await;
    let (status, _) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(3)}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(
        &f,
        "deleteMessages",
        json!({"chat_id": CHANNEL, "message_ids": [1, 2, 3, 99]}),
    )
    .await;
    assert_eq!((status, v["result"].clone()), (200, json!(true)), "{v}");
    assert!(f.visible(CHANNEL).is_empty());
    // Gone already: skipped, still true.
    let (status, _) = call(
        &f,
        "deleteMessages",
        json!({"chat_id": CHANNEL, "message_ids": [1, 2]}),
    )
    .await;
    assert_eq!(status, 200);
    let del = |ids: Value| json!({"chat_id": CHANNEL, "message_ids": ids});
    for (body, want) in [
        (
            json!({"chat_id": CHANNEL}),
            "Bad Request: message identifiers are not specified",
        ),
        (
            del(json!([])),
            "Bad Request: message identifiers are not specified",
        ),
        (
            del(json!("[1,")),
            "Bad Request: can't parse message_ids JSON object",
        ),
        (
            del(json!({"a": 1})),
            "Bad Request: expected an Array of message identifiers",
        ),
        (
            del(Value::Array((1..=101).map(|i| json!(i)).collect())),
            "Bad Request: too many message identifiers specified",
        ),
        (
            del(json!([1, true])),
            "Bad Request: message identifier must be a Number",
        ),
        (
            del(json!([1, "x"])),
            "Bad Request: can't parse message identifier as Number",
        ),
        (
            del(json!([0])),
            "Bad Request: invalid message identifier specified",
        ),
    ] {
        assert_eq!(
            refused(&f, "deleteMessages", body.clone()).await,
            want,
            "{body}"
        );
    }
    // Too old to delete.
    let (_, v) = call(
        &f,
        "sendMediaGroup",
        json!({"chat_id": CHANNEL, "media": album(2)}),
    )
    .await;
    let first = v["result"][0]["message_id"].as_i64().unwrap_or_default();
    f.age_message(CHANNEL, first, Duration::from_secs(49 * 3600));
    assert_eq!(
        refused(&f, "deleteMessages", del(json!([first, first + 1]))).await,
        "Bad Request: message can't be deleted for everyone"
    );
    assert_eq!(f.visible(CHANNEL).len(), 2);
}

#[tokio::test]
async fn teloxide_reads_albums_and_deletes_them() {
    let f = fake().await;
    let bot = Bot::new(f.token()).set_api_url(url::Url::parse(&f.api_url()).expect("url"));
    let media: Vec<InputMedia> = (0..3)
        .map(|i| {
            let url = url::Url::parse(&format!("https://pics.example/{i}.jpg")).expect("url");
            let p = InputMediaPhoto::new(InputFile::url(url));
            InputMedia::Photo(if i == 0 {
                p.caption("<i>Caption</i>").parse_mode(ParseMode::Html)
            } else {
                p
            })
        })
        .collect();
    let sent = bot
        .send_media_group(ChatId(CHANNEL), media)
        .await
        .expect("sendMediaGroup");
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].caption(), Some("Caption"));
    assert!(
        sent.iter()
            .all(|m| m.media_group_id() == sent[0].media_group_id())
    );
    assert!(sent[0].media_group_id().is_some());
    let ids: Vec<MessageId> = sent.iter().map(|m| m.id).collect();
    bot.delete_messages(ChatId(CHANNEL), ids)
        .await
        .expect("deleteMessages");
    assert!(f.visible(CHANNEL).is_empty());
}
