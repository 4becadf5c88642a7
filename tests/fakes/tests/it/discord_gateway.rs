//! The fake Discord gateway (a websocket client speaking the protocol by
//! hand) and the interaction rules it drives: commands typed from their
//! registration, button clicks, the 3-second and 15-minute windows,
//! direct-message channels.

use std::time::Duration;

use crier_fakes::FakeDiscord;
use crier_fakes::discord::gateway::Invoker;
use crier_fakes::discord::{Author, EPHEMERAL};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::discord::{TEXT, assert_err, call, fake};

type Ws = WebSocketStream<TcpStream>;

async fn connect(url: &str) -> Ws {
    let addr = url.trim_start_matches("ws://");
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(format!("{url}/?v=10"), stream)
        .await
        .expect("handshake");
    ws
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("frame");
        match m {
            Message::Text(t) => return serde_json::from_str(&t).expect("json"),
            Message::Close(c) => return json!({"closed": c.map(|c| u16::from(c.code))}),
            _ => {}
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string())).await.expect("send");
}

async fn identify(ws: &mut Ws, token: &str) -> Value {
    let hello = next(ws).await;
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 41_250);
    send(
        ws,
        json!({"op": 2, "d": {"token": token, "intents": 0, "properties": {"os": "linux"}}}),
    )
    .await;
    next(ws).await
}

async fn register(f: &FakeDiscord, guild: Option<u64>) {
    let app = FakeDiscord::APPLICATION_ID;
    let path = match guild {
        Some(g) => format!("/applications/{app}/guilds/{g}/commands"),
        None => format!("/applications/{app}/commands"),
    };
    let a = call(
        f,
        "PUT",
        &path,
        Some(json!([
            {"name": "log", "description": "the last deliveries", "options": [
                {"type": 4, "name": "n", "description": "how many", "min_value": 1, "max_value": 50}
            ]},
            {"name": "publish", "description": "publish a page", "options": [
                {"type": 3, "name": "url", "description": "the URL", "required": true},
                {"type": 11, "name": "attachment", "description": "an image"}
            ]}
        ])),
        true,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn the_gateway_identifies_and_dispatches_typed_commands() {
    let f = fake().await;
    let url = f.start_gateway().await.expect("gateway");
    let a = call(&f, "GET", "/gateway", None, false).await;
    assert_eq!(a.body["url"], json!(url));

    // A wrong token is closed with 4004.
    let mut bad = connect(&url).await;
    let closed = identify(&mut bad, "not-the-token").await;
    assert_eq!(closed["closed"], 4004);

    let mut ws = connect(&url).await;
    let ready = identify(&mut ws, &format!("Bot {}", f.token())).await;
    assert_eq!(ready["t"], "READY");
    assert_eq!(
        ready["d"]["application"]["id"],
        json!(FakeDiscord::APPLICATION_ID.to_string())
    );
    assert_eq!(ready["d"]["resume_gateway_url"], json!(url));
    send(&mut ws, json!({"op": 1, "d": 1})).await;
    assert_eq!(next(&mut ws).await["op"], 11);
    assert_eq!(f.gateway_sessions(), 1);
    assert_eq!(f.identifies()[0].intents, 0);

    let member = Invoker::member(42, "ada", TEXT, &[7, 8]);
    // Not registered: cannot be run.
    assert!(f.run_command(&member, "log", &[]).is_err());
    register(&f, Some(FakeDiscord::GUILD_ID)).await;
    assert!(
        f.run_command(&member, "log", &[("n", "many")])
            .unwrap_err()
            .contains("not an integer")
    );
    assert!(f.run_command(&member, "log", &[("n", "99")]).is_err());
    assert!(f.run_command(&member, "publish", &[]).is_err(), "required");
    assert!(f.run_command(&member, "log", &[("x", "1")]).is_err());
    // Guild commands are not offered in DMs.
    assert!(f.run_command(&Invoker::dm(42, "ada"), "log", &[]).is_err());

    let i = f
        .run_command(
            &member,
            "publish",
            &[("url", "https://x.example/a"), ("attachment", "p.png")],
        )
        .expect("run");
    let ev = next(&mut ws).await;
    assert_eq!(ev["t"], "INTERACTION_CREATE");
    let d = &ev["d"];
    assert_eq!(d["id"], json!(i.id.to_string()));
    assert_eq!(d["type"], 2);
    assert_eq!(d["token"], json!(i.token));
    assert_eq!(d["member"]["roles"], json!(["7", "8"]));
    assert_eq!(d["member"]["user"]["id"], "42");
    assert_eq!(d["guild_id"], json!(FakeDiscord::GUILD_ID.to_string()));
    assert_eq!(d["data"]["name"], "publish");
    assert_eq!(
        d["data"]["options"][0],
        json!({"name": "url", "type": 3, "value": "https://x.example/a"})
    );
    let att = d["data"]["options"][1]["value"].as_str().expect("id");
    assert_eq!(
        d["data"]["resolved"]["attachments"][att]["content_type"],
        "image/png"
    );

    // Global commands work in DMs, from the user's DM channel.
    register(&f, None).await;
    let dm = f
        .run_command(&Invoker::dm(43, "bob"), "log", &[("n", "3")])
        .expect("dm");
    let ev = next(&mut ws).await;
    assert_eq!(ev["d"]["user"]["id"], "43");
    assert!(ev["d"].get("member").is_none());
    assert_eq!(ev["d"]["data"]["options"][0]["value"], 3);
    assert_eq!(dm.channel_id, f.dm_channel(43));
    assert!(ev["s"].as_u64() > ready["s"].as_u64());
}

#[tokio::test]
async fn interactions_have_a_three_second_window_and_a_fifteen_minute_token() {
    let f = fake().await;
    let url = f.start_gateway().await.expect("gateway");
    let mut ws = connect(&url).await;
    identify(&mut ws, f.token()).await;
    register(&f, None).await;
    let who = Invoker::member(42, "ada", TEXT, &[]);
    let app = FakeDiscord::APPLICATION_ID;

    // Too late: 10062, counted.
    let late = f.run_command(&who, "log", &[]).expect("run");
    f.clock().advance(Duration::from_millis(3100));
    let a = call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", late.id, late.token),
        Some(json!({"type": 5})),
        false,
    )
    .await;
    assert_err(&a, 404, 10062, "Unknown interaction");
    assert_eq!(f.interaction(late.id).expect("i").late_callbacks, 1);

    // In time, with a Confirm button; the click is a component interaction.
    let i = f.run_command(&who, "log", &[]).expect("run");
    let a = call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", i.id, i.token),
        Some(json!({"type": 4, "data": {"content": "Sure?", "flags": EPHEMERAL, "components": [
            {"type": 1, "components": [{"type": 2, "style": 3, "label": "Confirm", "custom_id": "pub:1"}]}
        ]}})),
        false,
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let rec = f.interaction(i.id).expect("i");
    assert!(rec.answered_after.expect("answered") < Duration::from_secs(3));
    let question = rec.original.expect("original");
    assert_eq!(f.message(question).expect("m").flags & EPHEMERAL, EPHEMERAL);
    // A button needs a custom_id.
    let j = f.run_command(&who, "log", &[]).expect("run");
    let a = call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", j.id, j.token),
        Some(json!({"type": 4, "data": {"content": "x", "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "No id"}]}
        ]}})),
        false,
    )
    .await;
    assert_err(&a, 400, 50035, "Invalid Form Body");
    // Someone else cannot click an ephemeral message's button.
    assert!(
        f.click(&Invoker::member(9, "eve", TEXT, &[]), question, "pub:1")
            .is_err()
    );
    assert!(f.click(&who, question, "nope").is_err());
    let c = f.click(&who, question, "pub:1").expect("click");
    assert_eq!(c.kind, 3);
    let ev = loop {
        let ev = next(&mut ws).await;
        if ev["d"]["id"] == json!(c.id.to_string()) {
            break ev;
        }
    };
    assert_eq!(ev["d"]["type"], 3);
    assert_eq!(ev["d"]["data"]["custom_id"], "pub:1");
    assert_eq!(ev["d"]["message"]["id"], json!(question.to_string()));
    // Type 7 updates the message the button is on.
    let a = call(
        &f,
        "POST",
        &format!("/interactions/{}/{}/callback", c.id, c.token),
        Some(json!({"type": 7, "data": {"components": []}})),
        false,
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let q = f.message(question).expect("q");
    assert!(q.components.is_empty() && q.content == "Sure?", "{q:?}");
    let a = call(
        &f,
        "POST",
        &format!("/webhooks/{app}/{}", c.token),
        Some(json!({"content": "Publishing", "flags": EPHEMERAL})),
        false,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // After 15 minutes the token is dead.
    f.clock().advance(Duration::from_secs(15 * 60));
    let a = call(
        &f,
        "POST",
        &format!("/webhooks/{app}/{}", c.token),
        Some(json!({"content": "too late"})),
        false,
    )
    .await;
    assert_err(&a, 401, 50027, "Invalid Webhook Token");
}

#[tokio::test]
async fn direct_message_channels() {
    let f = fake().await;
    let a = call(
        &f,
        "POST",
        "/users/@me/channels",
        Some(json!({"recipient_id": "77"})),
        true,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["type"], 1);
    assert_eq!(a.body["recipients"][0]["id"], "77");
    let id = a.body["id"].as_str().expect("id").to_string();
    let again = call(
        &f,
        "POST",
        "/users/@me/channels",
        Some(json!({"recipient_id": 77})),
        true,
    )
    .await;
    assert_eq!(again.body["id"], json!(id), "one channel per user");
    let m = call(
        &f,
        "POST",
        &format!("/channels/{id}/messages"),
        Some(json!({"content": "alert"})),
        true,
    )
    .await;
    assert_eq!(m.status, 200, "{}", m.body);
    let dms = f.dms(77);
    assert_eq!(dms.len(), 1);
    assert_eq!(dms[0].author, Author::Bot);
    let a = call(&f, "POST", "/users/@me/channels", Some(json!({})), true).await;
    assert_err(&a, 400, 50035, "Invalid Form Body");
}
