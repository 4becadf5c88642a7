//! The fake Discord REST API through plain HTTP.

use std::time::{Duration, Instant};

use crier_fakes::discord::{
    Access, Author, ChannelKind, DiscordLimits, SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS,
};
use crier_fakes::{FakeDiscord, Fault, Window};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::support::client;

pub const TEXT: u64 = 1_300_000_000_000_000_001;
pub const NEWS: u64 = 1_300_000_000_000_000_002;
pub const FORUM: u64 = 1_300_000_000_000_000_003;
pub const THREAD: u64 = 1_300_000_000_000_000_004;
pub const TAG: u64 = 1_300_000_000_000_000_099;

pub async fn fake() -> FakeDiscord {
    let f = FakeDiscord::start().await.expect("start");
    f.set_limits(DiscordLimits::unlimited());
    f.add_text_channel(TEXT);
    f.add_announcement_channel(NEWS);
    f.add_forum_channel(FORUM, &[TAG]);
    f.add_thread(TEXT, THREAD);
    f
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A request to `{api_url}/v10{path}`, with the bot token when `auth`.
pub async fn call(
    f: &FakeDiscord,
    method: &str,
    path: &str,
    body: Option<Value>,
    auth: bool,
) -> Answer {
    let url = format!("{}/v10{path}", f.api_url());
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut rb = client().request(m, url);
    if auth {
        rb = rb.header("Authorization", format!("Bot {}", f.token()));
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn post(f: &FakeDiscord, channel: u64, body: Value) -> Answer {
    call(
        f,
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(body),
        true,
    )
    .await
}

pub fn assert_err(a: &Answer, status: u16, code: u64, message: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["code"], json!(code), "{}", a.body);
    assert_eq!(a.body["message"], json!(message), "{}", a.body);
}

fn header<'a>(h: &'a HeaderMap, k: &str) -> &'a str {
    h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn auth_routes_and_identity() {
    let f = fake().await;
    let a = call(&f, "GET", "/users/@me", None, false).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body, json!({"message": "401: Unauthorized", "code": 0}));
    let url = format!("{}/v10/users/@me", f.api_url());
    let r = client()
        .get(&url)
        .header("Authorization", "Bot wrong")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    // A bare token (no "Bot ") is refused too.
    let r = client()
        .get(&url)
        .header("Authorization", f.token())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(f.invalid_requests(), 3);

    let a = call(&f, "GET", "/users/@me", None, true).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["id"], json!(FakeDiscord::BOT_ID.to_string()));
    assert_eq!(a.body["bot"], json!(true));

    let a = call(&f, "GET", "/gateway", None, false).await;
    assert_eq!(a.body, json!({"url": "wss://gateway.discord.gg"}));
    f.set_gateway_url("ws://127.0.0.1:1");
    let a = call(&f, "GET", "/gateway/bot", None, true).await;
    assert_eq!(a.body["url"], json!("ws://127.0.0.1:1"));
    assert_eq!(a.body["shards"], json!(1));

    let a = call(&f, "GET", "/nothing/here", None, true).await;
    assert_err(&a, 404, 0, "404: Not Found");
    let a = call(&f, "PUT", &format!("/channels/{TEXT}/messages"), None, true).await;
    assert_err(&a, 405, 0, "405: Method Not Allowed");

    // The same routes without the version.
    let r = client()
        .get(format!("{}/users/@me", f.api_url()))
        .header("Authorization", format!("Bot {}", f.token()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn create_message_shape_and_record() {
    let f = fake().await;
    let a = post(
        &f,
        TEXT,
        json!({
            "content": "Hello",
            "embeds": [{"title": "T", "description": "D", "url": "https://example.org/a", "color": 0x336699}],
            "components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "Read", "url": "https://example.org/a"}]}],
            "flags": SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS,
            "allowed_mentions": {"parse": []},
        }),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let m = &a.body;
    let id: u64 = m["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((17..=20).contains(&id.to_string().len()), "{id}");
    assert_eq!(m["channel_id"], json!(TEXT.to_string()));
    assert_eq!(m["author"]["id"], json!(FakeDiscord::BOT_ID.to_string()));
    assert_eq!(m["embeds"][0]["type"], json!("rich"));
    assert_eq!(m["flags"], json!(SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS));
    assert_eq!(m["mention_everyone"], json!(false));
    assert!(m["timestamp"].as_str().unwrap_or("").ends_with("+00:00"));
    assert_eq!(m["edited_timestamp"], Value::Null);

    let rec = f.visible(TEXT);
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].id, id);
    assert_eq!(rec[0].author, Author::Bot);
    assert!(rec[0].is_silent() && rec[0].embeds_suppressed());
    assert_eq!(rec[0].embeds[0]["title"], json!("T"));
    assert_eq!(rec[0].components.len(), 1);
    assert_eq!(f.message(id).map(|m| m.content), Some("Hello".into()));
}

#[tokio::test]
async fn create_message_errors() {
    let f = fake().await;
    assert_err(
        &post(&f, 42_000_000_000_000_000, json!({"content": "x"})).await,
        404,
        10003,
        "Unknown Channel",
    );
    f.set_access(TEXT, Access::MissingAccess);
    assert_err(
        &post(&f, TEXT, json!({"content": "x"})).await,
        403,
        50001,
        "Missing Access",
    );
    // A thread inherits its parent's access.
    assert_err(
        &post(&f, THREAD, json!({"content": "x"})).await,
        403,
        50001,
        "Missing Access",
    );
    f.set_access(TEXT, Access::MissingPermissions);
    assert_err(
        &post(&f, TEXT, json!({"content": "x"})).await,
        403,
        50013,
        "Missing Permissions",
    );
    f.set_access(TEXT, Access::Ok);
    assert_err(
        &post(&f, FORUM, json!({"content": "x"})).await,
        400,
        50008,
        "Cannot send messages in a non-text channel",
    );
    assert_err(
        &post(&f, TEXT, json!({})).await,
        400,
        50006,
        "Cannot send an empty message",
    );
    assert_err(
        &post(&f, TEXT, json!({"content": "   ", "embeds": []})).await,
        400,
        50006,
        "Cannot send an empty message",
    );

    let r = client()
        .post(format!("{}/v10/channels/{TEXT}/messages", f.api_url()))
        .header("Authorization", format!("Bot {}", f.token()))
        .header("Content-Type", "application/json")
        .body("{\"content\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v,
        json!({"message": "The request body contains invalid JSON.", "code": 50109})
    );

    let a = post(&f, TEXT, json!({"content": "x", "nonce": "n".repeat(26)})).await;
    assert_err(&a, 400, 50035, "Invalid Form Body");
    assert_eq!(
        a.body["errors"],
        json!({"nonce": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]}})
    );
    let a = post(
        &f,
        TEXT,
        json!({"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}),
    )
    .await;
    assert_err(&a, 400, 50035, "Invalid Form Body");
    assert_eq!(
        a.body["errors"]["allowed_mentions"]["_errors"][0]["code"],
        json!("MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE")
    );
    assert!(f.visible(TEXT).is_empty());
    // 403s count as invalid requests; 400s and 404s do not.
    assert_eq!(f.invalid_requests(), 3);
}

#[tokio::test]
async fn nonce_deduplication() {
    let f = fake().await;
    let body = json!({"content": "once", "nonce": "crier-0123456789abcdef", "enforce_nonce": true});
    let a = post(&f, TEXT, body.clone()).await;
    let b = post(&f, TEXT, body.clone()).await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(a.body["nonce"], json!("crier-0123456789abcdef"));
    assert_eq!(f.visible(TEXT).len(), 1);
    // Another channel is another scope.
    let c = post(&f, NEWS, body.clone()).await;
    assert_ne!(c.body["id"], a.body["id"]);
    // Without enforce_nonce, no de-duplication.
    let loose = json!({"content": "twice", "nonce": "loose"});
    post(&f, TEXT, loose.clone()).await;
    post(&f, TEXT, loose).await;
    assert_eq!(f.visible(TEXT).len(), 3);
    // Past the window, the nonce is forgotten.
    f.clock().advance(Duration::from_secs(6 * 60));
    let d = post(&f, TEXT, body).await;
    assert_ne!(d.body["id"], a.body["id"]);
    assert_eq!(f.visible(TEXT).len(), 4);
    // Integer nonces work too.
    let e1 = post(
        &f,
        TEXT,
        json!({"content": "n", "nonce": 12345, "enforce_nonce": true}),
    )
    .await;
    let e2 = post(
        &f,
        TEXT,
        json!({"content": "n", "nonce": 12345, "enforce_nonce": true}),
    )
    .await;
    assert_eq!(e1.body["id"], e2.body["id"]);
}

#[tokio::test]
async fn allowed_mentions_decide_who_is_pinged() {
    let f = fake().await;
    let content = "@everyone <@&111111111111111111> <@222222222222222222> <@!333333333333333333>";
    let a = post(&f, TEXT, json!({"content": content})).await;
    assert_eq!(a.body["mention_everyone"], json!(true));
    assert_eq!(a.body["mention_roles"], json!(["111111111111111111"]));
    assert_eq!(a.body["mentions"].as_array().map(Vec::len), Some(2));

    post(
        &f,
        TEXT,
        json!({"content": content, "allowed_mentions": {"parse": []}}),
    )
    .await;
    post(&f, TEXT, json!({"content": content, "allowed_mentions": {"parse": [], "roles": ["111111111111111111"]}})).await;
    post(
        &f,
        TEXT,
        json!({"content": content, "allowed_mentions": {"parse": ["users", "everyone"]}}),
    )
    .await;
    // A title with @everyone in an embed pings nobody.
    post(
        &f,
        TEXT,
        json!({"embeds": [{"title": "@everyone look"}], "allowed_mentions": {"parse": []}}),
    )
    .await;
    post(&f, TEXT, json!({"embeds": [{"title": "@everyone look"}]})).await;

    let m = f.visible(TEXT);
    assert!(m[0].mention_everyone && m[0].pinged_anyone());
    assert!(!m[1].pinged_anyone());
    assert_eq!(
        (
            m[2].mention_everyone,
            m[2].mention_roles.clone(),
            m[2].mention_users.len()
        ),
        (false, vec![111_111_111_111_111_111], 0)
    );
    assert_eq!(
        (
            m[3].mention_everyone,
            m[3].mention_roles.len(),
            m[3].mention_users.len()
        ),
        (true, 0, 2)
    );
    assert!(!m[4].pinged_anyone());
    assert!(!m[5].pinged_anyone());
    assert_eq!(m[1].allowed_mentions, Some(json!({"parse": []})));
}

#[tokio::test]
async fn edits_deletes_and_crossposts() {
    let f = fake().await;
    let a = post(&f, TEXT, json!({"content": "v1"})).await;
    let id = a.body["id"].as_str().unwrap_or("").to_string();
    let e = call(
        &f,
        "PATCH",
        &format!("/channels/{TEXT}/messages/{id}"),
        Some(json!({"content": "v2", "flags": SUPPRESS_EMBEDS})),
        true,
    )
    .await;
    assert_eq!(e.status, 200);
    assert_eq!(e.body["content"], json!("v2"));
    assert!(e.body["edited_timestamp"].is_string());
    assert_eq!(e.body["flags"], json!(SUPPRESS_EMBEDS));
    let g = call(
        &f,
        "GET",
        &format!("/channels/{TEXT}/messages/{id}"),
        None,
        true,
    )
    .await;
    assert_eq!(g.body["content"], json!("v2"));
    assert_err(
        &call(
            &f,
            "PATCH",
            &format!("/channels/{TEXT}/messages/1300000000000000999"),
            Some(json!({"content": "x"})),
            true,
        )
        .await,
        404,
        10008,
        "Unknown Message",
    );
    let d = call(
        &f,
        "DELETE",
        &format!("/channels/{TEXT}/messages/{id}"),
        None,
        true,
    )
    .await;
    assert_eq!(d.status, 204);
    assert_err(
        &call(
            &f,
            "DELETE",
            &format!("/channels/{TEXT}/messages/{id}"),
            None,
            true,
        )
        .await,
        404,
        10008,
        "Unknown Message",
    );
    let all = f.messages(TEXT);
    assert_eq!((all[0].edit_count, all[0].deleted), (1, true));
    assert!(f.visible(TEXT).is_empty());

    // Crossposts: announcement channels only, once per message.
    let t = post(&f, TEXT, json!({"content": "t"})).await;
    let tid = t.body["id"].as_str().unwrap_or("").to_string();
    assert_err(
        &call(
            &f,
            "POST",
            &format!("/channels/{TEXT}/messages/{tid}/crosspost"),
            None,
            true,
        )
        .await,
        400,
        50024,
        "Cannot execute action on this channel type",
    );
    let n = post(&f, NEWS, json!({"content": "news"})).await;
    let nid = n.body["id"].as_str().unwrap_or("").to_string();
    let c = call(
        &f,
        "POST",
        &format!("/channels/{NEWS}/messages/{nid}/crosspost"),
        None,
        true,
    )
    .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.body["flags"].as_u64().map(|x| x & 1), Some(1));
    assert_err(
        &call(
            &f,
            "POST",
            &format!("/channels/{NEWS}/messages/{nid}/crosspost"),
            None,
            true,
        )
        .await,
        400,
        40033,
        "This message has already been crossposted.",
    );
    assert!(f.visible(NEWS)[0].crossposted);

    // Ten per hour.
    f.set_limits(DiscordLimits {
        crosspost: DiscordLimits::default().crosspost,
        ..DiscordLimits::unlimited()
    });
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..11 {
        let n = post(&f, NEWS, json!({"content": "news"})).await;
        let nid = n.body["id"].as_str().unwrap_or("").to_string();
        let c = call(
            &f,
            "POST",
            &format!("/channels/{NEWS}/messages/{nid}/crosspost"),
            None,
            true,
        )
        .await;
        statuses.push(c.status);
        last = Some(c);
    }
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[10], 429);
    let retry = last
        .map(|c| c.body["retry_after"].as_f64().unwrap_or(0.0))
        .unwrap_or(0.0);
    assert!(retry > 3500.0, "{retry}");
}

#[tokio::test]
async fn webhooks() {
    let f = fake().await;
    let hook = f.add_webhook(TEXT);
    assert_eq!(hook.token.len(), 68);
    assert!((17..=20).contains(&hook.id.to_string().len()));
    let url = f.webhook_url(&hook);
    let c = client();

    let r = c.post(format!("{url}?wait=true")).json(&json!({"content": "hi", "username": "Feed", "avatar_url": "https://x.y/a.png", "nonce": "x", "enforce_nonce": true})).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let m: Value = r.json().await.expect("json");
    assert_eq!(m["webhook_id"], json!(hook.id.to_string()));
    assert_eq!(m["author"]["username"], json!("Feed"));
    assert!(m.get("nonce").is_none());
    // Without wait: 204, and webhooks ignore nonces.
    let r = c
        .post(&url)
        .json(&json!({"content": "hi", "nonce": "x", "enforce_nonce": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(f.visible(TEXT).len(), 2);
    match &f.visible(TEXT)[0].author {
        Author::Webhook {
            username,
            avatar_url,
            ..
        } => {
            assert_eq!(username, "Feed");
            assert_eq!(avatar_url.as_deref(), Some("https://x.y/a.png"));
        }
        other => panic!("{other:?}"),
    }

    // A webhook not owned by an application drops components unless the
    // request asks `with_components=true`.
    let button = json!([{"type": 1, "components": [{"type": 2, "style": 5, "label": "Read", "url": "https://example.org/a"}]}]);
    for (q, kept) in [("", 0), ("&with_components=true", 1)] {
        let r = c
            .post(format!("{url}?wait=true{q}"))
            .json(&json!({"content": "button", "components": button}))
            .send()
            .await
            .expect("send");
        let m: Value = r.json().await.expect("json");
        assert_eq!(m["components"].as_array().map(Vec::len), Some(kept), "{q}");
    }
    let last = f.visible(TEXT).last().map(|m| m.id).unwrap_or(0);
    let r = c
        .patch(format!("{url}/messages/{last}"))
        .json(&json!({"components": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        f.message(last).map(|m| m.components.len()),
        Some(1),
        "ignored"
    );
    let r = c
        .patch(format!("{url}/messages/{last}?with_components=true"))
        .json(&json!({"components": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(f.message(last).map(|m| m.components.len()), Some(0));
    for m in f.visible(TEXT).iter().skip(2) {
        let r = c
            .delete(format!("{url}/messages/{}", m.id))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 204);
    }

    // Into a thread; edits and deletes must name the thread.
    let r = c
        .post(format!("{url}?wait=true&thread_id={THREAD}"))
        .json(&json!({"content": "in thread"}))
        .send()
        .await
        .expect("send");
    let tm: Value = r.json().await.expect("json");
    assert_eq!(tm["channel_id"], json!(THREAD.to_string()));
    let tmid = tm["id"].as_str().unwrap_or("").to_string();
    let r = c
        .patch(format!("{url}/messages/{tmid}"))
        .json(&json!({"content": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let r = c
        .patch(format!("{url}/messages/{tmid}?thread_id={THREAD}"))
        .json(&json!({"content": "edited"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(f.visible(THREAD)[0].content, "edited");
    assert_eq!(f.visible(THREAD)[0].edit_count, 1);
    let r = c
        .delete(format!("{url}/messages/{tmid}?thread_id={THREAD}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 204);
    assert!(f.visible(THREAD).is_empty());
    let r = c
        .post(format!("{url}?thread_id=1300000000000000777"))
        .json(&json!({"content": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);

    // The bot cannot delete the webhook's messages (no MANAGE_MESSAGES).
    let first = f.visible(TEXT)[0].id;
    assert_err(
        &call(
            &f,
            "DELETE",
            &format!("/channels/{TEXT}/messages/{first}"),
            None,
            true,
        )
        .await,
        403,
        50013,
        "Missing Permissions",
    );
    assert_err(
        &call(
            &f,
            "PATCH",
            &format!("/channels/{TEXT}/messages/{first}"),
            Some(json!({"content": "x"})),
            true,
        )
        .await,
        403,
        50005,
        "Cannot edit a message authored by another user",
    );

    // Wrong token, unknown and deleted webhooks.
    let bad = format!("{}/webhooks/{}/{}", f.api_url(), hook.id, "x".repeat(68));
    let r = c
        .post(&bad)
        .json(&json!({"content": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v,
        json!({"message": "Invalid Webhook Token", "code": 50027})
    );
    f.delete_webhook(hook.id);
    let r = c
        .post(&url)
        .json(&json!({"content": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v, json!({"message": "Unknown Webhook", "code": 10015}));
    let r = c.get(&url).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn forum_posts_through_webhooks() {
    let f = fake().await;
    let hook = f.add_webhook(FORUM);
    let url = f.webhook_url(&hook);
    let c = client();
    let send = |q: &'static str, b: Value| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let r = c
                .post(format!("{url}?wait=true{q}"))
                .json(&b)
                .send()
                .await
                .expect("send");
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = send("", json!({"content": "x"})).await;
    assert_eq!((s, v["code"].clone()), (400, json!(220001)));
    let (s, v) = send("&thread_id=1", json!({"content": "x", "thread_name": "t"})).await;
    assert_eq!((s, v["code"].clone()), (400, json!(220002)));
    let (s, v) = send("", json!({"content": "First post", "thread_name": "Article title", "applied_tags": [TAG.to_string()]})).await;
    assert_eq!(s, 200, "{v}");
    let thread: u64 = v["channel_id"]
        .as_str()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    assert_eq!(
        v["id"], v["channel_id"],
        "a forum post's id is its thread's id"
    );
    let threads = f.threads(FORUM);
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].name, "Article title");
    assert_eq!(threads[0].applied_tags, vec![TAG]);
    assert_eq!(threads[0].kind, ChannelKind::Thread { parent: FORUM });
    assert_eq!(f.visible(thread)[0].content, "First post");
    // More messages into the post.
    let (s, _) = send(
        Box::leak(format!("&thread_id={thread}").into_boxed_str()),
        json!({"content": "update"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(f.visible(thread).len(), 2);

    f.set_forum_requires_tag(FORUM, true);
    let (s, v) = send("", json!({"content": "x", "thread_name": "no tag"})).await;
    assert_eq!((s, v["code"].clone()), (400, json!(40067)));

    let text_hook = f.add_webhook(TEXT);
    let r = c
        .post(f.webhook_url(&text_hook))
        .json(&json!({"content": "x", "thread_name": "t"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v,
        json!({"message": "Webhooks can only create threads in forum channels", "code": 220003})
    );
}

#[tokio::test]
async fn rate_limit_buckets_and_headers() {
    let f = FakeDiscord::start().await.expect("start");
    f.add_text_channel(TEXT);
    f.add_text_channel(NEWS);
    assert_eq!(f.limits(), DiscordLimits::default());
    let mut answers = Vec::new();
    for i in 0..6 {
        answers.push(post(&f, TEXT, json!({"content": format!("m{i}")})).await);
    }
    // Headers on every answer.
    for (i, a) in answers.iter().enumerate().take(5) {
        assert_eq!(a.status, 200);
        assert_eq!(header(&a.headers, "x-ratelimit-limit"), "5");
        assert_eq!(
            header(&a.headers, "x-ratelimit-remaining"),
            (4 - i).to_string()
        );
        let reset: f64 = header(&a.headers, "x-ratelimit-reset")
            .parse()
            .unwrap_or(0.0);
        assert!(reset > 1.6e9, "{reset}");
        let after: f64 = header(&a.headers, "x-ratelimit-reset-after")
            .parse()
            .unwrap_or(-1.0);
        assert!((0.0..=5.0).contains(&after), "{after}");
        assert_eq!(header(&a.headers, "x-ratelimit-bucket").len(), 16);
    }
    let limited = &answers[5];
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.body["message"],
        json!("You are being rate limited.")
    );
    assert_eq!(limited.body["global"], json!(false));
    let retry = limited.body["retry_after"].as_f64().unwrap_or(0.0);
    assert!(retry > 0.0 && retry <= 5.0, "{retry}");
    assert_eq!(header(&limited.headers, "x-ratelimit-scope"), "user");
    assert_eq!(header(&limited.headers, "x-ratelimit-remaining"), "0");
    let ra: u64 = header(&limited.headers, "retry-after").parse().unwrap_or(0);
    assert!((1..=5).contains(&ra), "{ra}");
    assert!(limited.headers.get("x-ratelimit-global").is_none());
    assert_eq!(f.visible(TEXT).len(), 5);
    // Another channel has its own bucket, with the same bucket hash.
    let other = post(&f, NEWS, json!({"content": "x"})).await;
    assert_eq!(other.status, 200);
    assert_eq!(
        header(&other.headers, "x-ratelimit-bucket"),
        header(&answers[0].headers, "x-ratelimit-bucket")
    );
    // Error answers carry headers too.
    let e = post(&f, NEWS, json!({})).await;
    assert_eq!(e.status, 400);
    assert_eq!(header(&e.headers, "x-ratelimit-remaining"), "3");
    // The skewed clock resets the window.
    f.clock().advance(Duration::from_secs(5));
    assert_eq!(
        post(&f, TEXT, json!({"content": "again"})).await.status,
        200
    );
    assert_eq!(f.invalid_requests(), 1);
    assert_eq!(f.invalid_requests_within(Duration::from_secs(600)), 1);

    // Webhooks: 5 per 2 s per webhook by default.
    let hook = f.add_webhook(TEXT);
    let url = f.webhook_url(&hook);
    let mut st = Vec::new();
    for _ in 0..6 {
        st.push(
            client()
                .post(&url)
                .json(&json!({"content": "w"}))
                .send()
                .await
                .expect("send")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(st, [204, 204, 204, 204, 204, 429]);

    // The global limit.
    f.set_limits(DiscordLimits {
        global: Some(Window::new(3, Duration::from_secs(1))),
        ..DiscordLimits::unlimited()
    });
    let mut last = None;
    for _ in 0..4 {
        last = Some(call(&f, "GET", "/users/@me", None, true).await);
    }
    let g = last.expect("answer");
    assert_eq!(g.status, 429);
    assert_eq!(g.body["global"], json!(true));
    assert_eq!(header(&g.headers, "x-ratelimit-global"), "true");
    assert_eq!(header(&g.headers, "x-ratelimit-scope"), "global");
    assert!(!header(&g.headers, "retry-after").is_empty());
    // Webhooks are not bound to the bot's global limit.
    assert_eq!(
        client()
            .post(&url)
            .json(&json!({"content": "w"}))
            .send()
            .await
            .expect("send")
            .status()
            .as_u16(),
        204
    );
    let log = f.requests();
    assert!(log.iter().filter(|r| r.status == 429).count() >= 3);
}

#[tokio::test]
async fn faults() {
    let f = fake().await;
    f.inject(
        Fault::Status(502, Value::Null)
            .on("create_message")
            .target(TEXT),
    );
    let a = post(&f, NEWS, json!({"content": "x"})).await;
    assert_eq!(a.status, 200);
    let a = post(&f, TEXT, json!({"content": "x"})).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.body, json!({"message": "502: Bad Gateway", "code": 0}));
    assert!(f.visible(TEXT).is_empty());

    f.inject(Fault::RateLimit(Duration::from_millis(1234)).on("create_message"));
    let a = post(&f, TEXT, json!({"content": "x"})).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.body["retry_after"], json!(1.234));
    assert_eq!(header(&a.headers, "retry-after"), "2");

    f.inject(Fault::DropBeforeApply.on("create_message"));
    let r = client()
        .post(format!("{}/v10/channels/{TEXT}/messages", f.api_url()))
        .header("Authorization", format!("Bot {}", f.token()))
        .json(&json!({"content": "lost"}))
        .send()
        .await;
    assert!(r.is_err());
    assert!(f.visible(TEXT).is_empty());

    let hook = f.add_webhook(TEXT);
    f.inject(Fault::ApplyThenDrop.on("execute_webhook").target(hook.id));
    let r = client()
        .post(format!("{}?wait=true", f.webhook_url(&hook)))
        .json(&json!({"content": "ghost"}))
        .send()
        .await;
    assert!(r.is_err());
    assert_eq!(f.visible(TEXT).len(), 1, "applied although unanswered");

    f.inject(Fault::Delay(Duration::from_millis(250)).on("get_current_user"));
    let t = Instant::now();
    assert_eq!(call(&f, "GET", "/users/@me", None, true).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(f.pending_faults(), 0);
    let log = f.requests_to("execute_webhook");
    assert_eq!(log[0].status, 0);
    assert!(log[0].path.contains("<token>") && !log[0].path.contains(&hook.token));
}

#[tokio::test]
async fn commands_and_interactions() {
    let f = fake().await;
    let app = FakeDiscord::APPLICATION_ID;
    let cmds = json!([{"name": "status", "description": "Feed status", "type": 1}, {"name": "retry", "description": "Retry"}]);
    let a = call(
        &f,
        "PUT",
        &format!("/applications/{app}/commands"),
        Some(cmds),
        true,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body[0]["application_id"], json!(app.to_string()));
    assert!(a.body[0]["id"].is_string());
    assert_eq!(f.commands(None).len(), 2);
    let g = FakeDiscord::GUILD_ID;
    let a = call(
        &f,
        "PUT",
        &format!("/applications/{app}/guilds/{g}/commands"),
        Some(json!([{"name": "admin", "description": "A"}])),
        true,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(f.commands(Some(g))[0]["guild_id"], json!(g.to_string()));
    let a = call(
        &f,
        "PUT",
        &format!("/applications/{app}/guilds/1400000000000000000/commands"),
        Some(json!([])),
        true,
    )
    .await;
    assert_err(&a, 403, 50001, "Missing Access");
    let a = call(
        &f,
        "PUT",
        &format!("/applications/{app}/commands"),
        Some(json!([{"name": "Bad Name", "description": "x"}])),
        true,
    )
    .await;
    assert_err(&a, 400, 50035, "Invalid Form Body");
    assert_eq!(
        a.body["errors"]["0"]["name"]["_errors"][0]["code"],
        json!("APPLICATION_COMMAND_INVALID_NAME")
    );

    // Answer an interaction, then follow up and edit the original.
    let i = f.add_interaction(TEXT);
    let cb = format!("/interactions/{}/{}/callback", i.id, i.token);
    let a = call(
        &f,
        "POST",
        &cb,
        Some(json!({"type": 4, "data": {"content": "Working", "flags": 64}})),
        false,
    )
    .await;
    assert_eq!(a.status, 204);
    let a = call(
        &f,
        "POST",
        &cb,
        Some(json!({"type": 4, "data": {"content": "again"}})),
        false,
    )
    .await;
    assert_err(&a, 400, 40060, "Interaction has already been acknowledged.");
    let a = call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", i.id, "nope"),
        Some(json!({"type": 1})),
        false,
    )
    .await;
    assert_err(&a, 404, 10062, "Unknown interaction");
    let a = call(
        &f,
        "PATCH",
        &format!("/webhooks/{app}/{}/messages/@original", i.token),
        Some(json!({"content": "Done"})),
        false,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["content"], json!("Done"));
    let a = call(
        &f,
        "POST",
        &format!("/webhooks/{app}/{}", i.token),
        Some(json!({"content": "More"})),
        false,
    )
    .await;
    assert_eq!(a.status, 200);
    let rec = f.interaction(i.id).expect("interaction");
    assert_eq!(rec.callbacks.len(), 1);
    assert_eq!(rec.followups.len(), 1);
    let shown: Vec<String> = f.visible(TEXT).into_iter().map(|m| m.content).collect();
    assert_eq!(shown, ["Done", "More"]);

    // Deferred: the original appears with the first edit; no follow-up before an answer.
    let j = f.add_interaction(TEXT);
    let a = call(
        &f,
        "POST",
        &format!("/webhooks/{app}/{}", j.token),
        Some(json!({"content": "early"})),
        false,
    )
    .await;
    assert_err(&a, 404, 10015, "Unknown Webhook");
    let a = call(
        &f,
        "POST",
        &format!(
            "/interactions/{}/{}/callback?with_response=true",
            j.id, j.token
        ),
        Some(json!({"type": 5})),
        false,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["resource"]["type"], json!(5));
    let a = call(
        &f,
        "PATCH",
        &format!("/webhooks/{app}/{}/messages/@original", j.token),
        Some(json!({"content": "Later"})),
        false,
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(f.interaction(j.id).and_then(|x| x.original).is_some());
}

/// A plain `#[test]` that blocks its thread while the fake runs on its own.
#[test]
fn background_fake_serves_a_blocking_test() {
    use std::io::{Read, Write};
    let f = FakeDiscord::start_background().expect("start");
    f.add_text_channel(TEXT);
    let addr = f.base_url().trim_start_matches("http://").to_string();
    let body = "{\"content\":\"from a blocking test\"}";
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        s,
        "POST /api/v10/channels/{TEXT}/messages HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bot {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        f.token(),
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-ratelimit-bucket:"),
        "{answer}"
    );
    assert_eq!(f.visible(TEXT)[0].content, "from a blocking test");
}
