//! The fake's Discord answers through serenity 0.12.5: its Message JSON
//! deserializes (`serde_json::from_value::<Message>`), and serenity's own
//! `Http` (pointed at the fake with `proxy`, its rate limiter off) works
//! against it.

use serde_json::{Value, json};
use serenity::all::{ChannelId, MessageFlags, WebhookId};
use serenity::http::HttpBuilder;
use serenity::model::channel::Message;

use crate::discord::{FORUM, NEWS, TAG, TEXT, THREAD, call, fake};
use crate::support::client;

fn message(v: &Value) -> Message {
    match serde_json::from_value::<Message>(v.clone()) {
        Ok(m) => m,
        Err(e) => panic!("serenity cannot read {v}: {e}"),
    }
}

#[tokio::test]
async fn serenity_reads_every_message_shape() {
    let f = fake().await;
    // A bot message with embeds, components, mentions, flags and a nonce.
    let a = call(
        &f,
        "POST",
        &format!("/channels/{TEXT}/messages"),
        Some(json!({
            "content": "<@222222222222222222> <@&111111111111111111> new post",
            "embeds": [{
                "title": "Title", "description": "Body", "url": "https://example.org/a",
                "color": 3_368_601, "timestamp": "2026-01-02T03:04:05Z",
                "footer": {"text": "Feed"}, "author": {"name": "Author"},
                "image": {"url": "https://example.org/i.png"},
                "fields": [{"name": "F", "value": "V", "inline": true}],
            }],
            "components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "Read", "url": "https://example.org/a"}]}],
            "flags": 4096,
            "nonce": "crier-abc",
            "enforce_nonce": true,
        })),
        true,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let m = message(&a.body);
    assert_eq!(m.channel_id.get(), TEXT);
    assert_eq!(m.author.id.get(), crier_fakes::FakeDiscord::BOT_ID);
    assert!(m.author.bot);
    assert_eq!(m.embeds[0].title.as_deref(), Some("Title"));
    assert_eq!(m.components.len(), 1);
    assert_eq!(m.mentions.len(), 1);
    assert_eq!(m.mention_roles.len(), 1);
    assert_eq!(m.flags, Some(MessageFlags::SUPPRESS_NOTIFICATIONS));
    assert!(m.webhook_id.is_none());

    // Edited, crossposted.
    let n = call(
        &f,
        "POST",
        &format!("/channels/{NEWS}/messages"),
        Some(json!({"content": "news"})),
        true,
    )
    .await;
    let nid = n.body["id"].as_str().unwrap_or("").to_string();
    let e = call(
        &f,
        "PATCH",
        &format!("/channels/{NEWS}/messages/{nid}"),
        Some(json!({"content": "news!"})),
        true,
    )
    .await;
    assert!(message(&e.body).edited_timestamp.is_some());
    let c = call(
        &f,
        "POST",
        &format!("/channels/{NEWS}/messages/{nid}/crosspost"),
        None,
        true,
    )
    .await;
    assert_eq!(message(&c.body).flags, Some(MessageFlags::CROSSPOSTED));

    // Webhook messages, in a thread and as a forum post.
    let hook = f.add_webhook(TEXT);
    let r = client()
        .post(format!(
            "{}?wait=true&thread_id={THREAD}",
            f.webhook_url(&hook)
        ))
        .json(&json!({"content": "hook", "username": "Feed"}))
        .send()
        .await
        .expect("send");
    let v: Value = r.json().await.expect("json");
    let m = message(&v);
    assert_eq!(m.webhook_id.map(|w| w.get()), Some(hook.id));
    assert_eq!(m.author.name, "Feed");
    assert_eq!(m.channel_id.get(), THREAD);
    let forum_hook = f.add_webhook(FORUM);
    let r = client()
        .post(format!("{}?wait=true", f.webhook_url(&forum_hook)))
        .json(&json!({"content": "post", "thread_name": "T", "applied_tags": [TAG.to_string()]}))
        .send()
        .await
        .expect("send");
    let v: Value = r.json().await.expect("json");
    assert_eq!(message(&v).id.get(), message(&v).channel_id.get());

    // Interaction responses.
    let i = f.add_interaction(TEXT);
    call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", i.id, i.token),
        Some(json!({"type": 5})),
        false,
    )
    .await;
    let o = call(
        &f,
        "PATCH",
        &format!(
            "/webhooks/{}/{}/messages/@original",
            crier_fakes::FakeDiscord::APPLICATION_ID,
            i.token
        ),
        Some(json!({"content": "done"})),
        false,
    )
    .await;
    assert_eq!(message(&o.body).content, "done");
}

#[tokio::test]
async fn serenity_http_against_the_fake() {
    let f = fake().await;
    let http = HttpBuilder::new(f.token())
        .proxy(f.base_url())
        .ratelimiter_disabled(true)
        .build();
    let me = http.get_current_user().await.expect("users/@me");
    assert_eq!(me.id.get(), crier_fakes::FakeDiscord::BOT_ID);
    let gw = http.get_gateway().await.expect("gateway");
    assert_eq!(gw.url, "wss://gateway.discord.gg");

    let m = http
        .send_message(
            ChannelId::new(TEXT),
            Vec::new(),
            &json!({"content": "from serenity", "allowed_mentions": {"parse": []}, "nonce": "n1", "enforce_nonce": true}),
        )
        .await
        .expect("send_message");
    assert_eq!(m.content, "from serenity");
    let again = http
        .send_message(
            ChannelId::new(TEXT),
            Vec::new(),
            &json!({"content": "from serenity", "nonce": "n1", "enforce_nonce": true}),
        )
        .await
        .expect("send_message again");
    assert_eq!(again.id, m.id);

    // serenity's Discord error type carries the fake's code and message.
    let err = http
        .send_message(
            ChannelId::new(1_399_999_999_999_999_999),
            Vec::new(),
            &json!({"content": "x"}),
        )
        .await
        .expect_err("unknown channel");
    let text = format!("{err:?}");
    assert!(
        text.contains("10003") && text.contains("Unknown Channel"),
        "{text}"
    );

    // Webhooks: serenity accepts the fake's id and token shapes.
    let hook = f.add_webhook(TEXT);
    let real_shape = url::Url::parse(&format!(
        "https://discord.com/api/webhooks/{}/{}",
        hook.id, hook.token
    ))
    .expect("url");
    let (id, token) = serenity::utils::parse_webhook(&real_shape).expect("parse_webhook");
    assert_eq!((id.get(), token), (hook.id, hook.token.as_str()));
    let w = http
        .get_webhook_with_token(WebhookId::new(hook.id), &hook.token)
        .await
        .expect("get webhook");
    assert_eq!(w.channel_id.map(|c| c.get()), Some(TEXT));
    let sent = http
        .execute_webhook(
            WebhookId::new(hook.id),
            Some(ChannelId::new(THREAD)),
            &hook.token,
            true,
            Vec::new(),
            &json!({"content": "via webhook"}),
        )
        .await
        .expect("execute")
        .expect("wait=true returns the message");
    assert_eq!(sent.channel_id.get(), THREAD);
    let none = http
        .execute_webhook(
            WebhookId::new(hook.id),
            None,
            &hook.token,
            false,
            Vec::new(),
            &json!({"content": "no wait"}),
        )
        .await
        .expect("execute");
    assert!(none.is_none());
    assert_eq!(f.visible(TEXT).len(), 2);
}
