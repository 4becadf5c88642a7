//! Telegram webhook mode through the listener: setWebhook with the public
//! URL and a secret, updates POSTed by the fake Bot API and answered,
//! requests without the secret refused, deleteWebhook on stop.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::telegram::TgUser;
use reqwest::StatusCode;

use crate::daemon::*;
use crate::http::{client, wait_listening, world};

const ADMIN: i64 = 424_242;

#[tokio::test]
async fn commands_arrive_by_webhook_and_the_webhook_goes_on_stop() {
    let w = world().await;
    let admin = TgUser::new(ADMIN, "Ada");
    w.tg.add_private(&admin);
    let cfg = w.config(
        &format!("public_url = \"http://127.0.0.1:{}/\"", w.port),
        &format!("admins = [{ADMIN}]\nupdates = \"webhook\""),
    );
    let d = Daemon::start(w.dir.path(), &cfg);
    wait_listening(&w).await;
    let mut hook = None;
    eventually("setWebhook", Duration::from_secs(20), || {
        hook = w.tg.webhook();
        hook.is_some()
    })
    .await;
    let (url, secret) = hook.expect("webhook");
    let prefix = format!("http://127.0.0.1:{}/telegram/webhook/", w.port);
    assert!(
        url.starts_with(&prefix) && url.len() > prefix.len() + 20,
        "{url}"
    );
    let secret = secret.expect("a secret_token");
    assert!(secret.len() >= 32, "{secret}");

    // getUpdates is refused while the webhook is set, as Telegram does.
    let r = client()
        .post(format!(
            "{}bot{}/getUpdates",
            w.tg.api_url(),
            FakeTelegram::TOKEN
        ))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("getUpdates");
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Requests without the right secret are refused.
    let update = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": ADMIN, "type": "private", "first_name": "Ada"}, "from": {"id": ADMIN, "is_bot": false, "first_name": "Ada"}, "text": "/status"}});
    let r = client()
        .post(&url)
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "wrong")
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The right secret on another path finds nothing.
    let r = client()
        .post(format!("{prefix}not-the-secret-path"))
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .json(&update)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        w.tg.bot_posts(ADMIN).is_empty(),
        "a refused update was handled"
    );

    // An admin's command arrives by webhook and is answered.
    w.tg.user_says(ADMIN, &admin, "/status");
    eventually("the /status reply", Duration::from_secs(20), || {
        w.tg.bot_posts(ADMIN)
            .iter()
            .any(|m| m.text.as_deref().is_some_and(|t| t.contains("Crier")))
    })
    .await;
    eventually("the update confirmed", Duration::from_secs(10), || {
        w.tg.pending_updates().is_empty()
    })
    .await;

    d.stop().await;
    assert!(w.tg.webhook().is_none(), "deleteWebhook on stop");
}
