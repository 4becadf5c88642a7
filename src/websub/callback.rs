//! The callback URL of each subscription, `/websub/<callback id>`:
//!
//! - `GET` — the hub's verification of intent (§5.3): the challenge is
//!   echoed only for a subscription Crier asked for, with its topic and
//!   mode; a denial (`hub.mode=denied`) puts the feed back on polling.
//! - `POST` — content distribution (§7, §8): the signature is checked
//!   against the subscription's secret; an unsigned or forged push is
//!   acknowledged (202, as the recommendation asks) but ignored and
//!   counted; a fat ping goes through `Poller::ingest_pushed`, a thin one
//!   (empty body) polls the feed now.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crier_storage::{SubState, Subscription};

use super::Push;
use super::signature::{self, Verdict};
use crate::poller::PushOutcome;

/// The longest hub.challenge echoed.
const MAX_CHALLENGE: usize = 1024;
/// The longest callback id looked up (ours are 64 hex digits).
const MAX_ID: usize = 128;

pub fn routes(push: Arc<Push>) -> Router {
    Router::new()
        .route("/websub/{id}", get(verify).post(content))
        .with_state(push)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn lookup(push: &Push, id: &str) -> Result<Option<Subscription>, Response> {
    if id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id = id.to_string();
    push.db
        .call(move |s| s.subscription_by_callback(&id))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "WebSub: cannot read a subscription");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        })
}

/// The hub's verification of intent.
async fn verify(
    State(push): State<Arc<Push>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let sub = match lookup(&push, &id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let (Some(mode), Some(topic)) = (q.get("hub.mode"), q.get("hub.topic")) else {
        return (
            StatusCode::BAD_REQUEST,
            "hub.mode and hub.topic are required",
        )
            .into_response();
    };
    if *topic != sub.topic {
        tracing::warn!(feed = %sub.feed, "WebSub: a verification for another topic was refused");
        return not_found();
    }
    let feed = sub.feed.clone();
    if mode == "denied" {
        if !matches!(sub.state, SubState::Requested | SubState::Active) {
            return not_found();
        }
        let reason = q
            .get("hub.reason")
            .map(|r| crate::sources::text::head(r.trim(), 200).to_string())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "the hub gave no reason".into());
        tracing::warn!(feed = %feed, reason = %crate::redact::redact_text(&reason), "WebSub: the hub denied the subscription; the feed is polled");
        push.set_state(&feed, SubState::Denied, Some(reason)).await;
        push.retry_later(&feed, super::RETRY_AFTER);
        if push.poller.pushed().remove(&feed) {
            push.poller.poll_now(&feed);
        }
        return (StatusCode::OK, "ok").into_response();
    }
    let Some(challenge) = q.get("hub.challenge").filter(|c| !c.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "hub.challenge is required").into_response();
    };
    if challenge.len() > MAX_CHALLENGE {
        return (StatusCode::BAD_REQUEST, "hub.challenge is too long").into_response();
    }
    match mode.as_str() {
        "subscribe" => {
            // Only a subscription asked for (or being renewed), for a feed
            // still watched and pushed.
            let wanted = push
                .poller
                .feed(&feed)
                .is_some_and(|f| super::wanted(&push.cfg, &f.feed));
            if !wanted || !matches!(sub.state, SubState::Requested | SubState::Active) {
                return not_found();
            }
            // A hub that names no lease is taken to grant the one asked
            // for (renewed in time all the same).
            let lease = match q.get("hub.lease_seconds") {
                None => Some(super::subscribe::ASKED_LEASE_SECS as i64),
                Some(l) => match l.trim().parse::<u32>() {
                    Ok(n) => Some(i64::from(n)),
                    Err(_) => {
                        return (StatusCode::BAD_REQUEST, "hub.lease_seconds is not a number")
                            .into_response();
                    }
                },
            };
            let now = push.db.now_ms();
            let expires = lease.map(|l| now + l * 1000);
            let cb = sub.callback_id.clone();
            let done = push
                .db
                .call(move |s| s.subscription_verified(&cb, lease, expires, now))
                .await;
            match done {
                Ok(true) => {
                    if sub.state == SubState::Requested {
                        tracing::info!(feed = %feed, lease_seconds = ?lease, "WebSub: subscribed; the hub pushes new articles");
                    } else {
                        tracing::debug!(feed = %feed, lease_seconds = ?lease, "WebSub: subscription renewed");
                    }
                    push.poller.pushed().insert(&feed);
                }
                Ok(false) => return not_found(),
                Err(e) => {
                    tracing::warn!(feed = %feed, error = %e, "WebSub: cannot record a verification");
                    return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response();
                }
            }
        }
        "unsubscribe" => {
            if sub.state != SubState::Unsubscribing {
                return not_found();
            }
            push.delete(&feed).await;
            tracing::info!(feed = %feed, "WebSub: unsubscribed");
        }
        _ => return not_found(),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge.clone(),
    )
        .into_response()
}

/// A push from the hub.
async fn content(
    State(push): State<Arc<Push>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let sub = match lookup(&push, &id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let feed = sub.feed.clone();
    let metrics = push.telemetry.metrics.clone();
    if !matches!(sub.state, SubState::Active | SubState::Requested) {
        metrics.pushed(&feed, "gone");
        return (StatusCode::GONE, "not subscribed").into_response();
    }
    let Some(info) = push.poller.feed(&feed) else {
        metrics.pushed(&feed, "gone");
        return (StatusCode::GONE, "not subscribed").into_response();
    };
    let cap = info.feed.body_cap.unwrap_or(push.cfg.sources.body_cap);
    let bytes = match axum::body::to_bytes(body, usize::try_from(cap).unwrap_or(usize::MAX)).await {
        Ok(b) => b,
        Err(_) => {
            // Too large (or cut off): nothing to trust; a poll reads it.
            metrics.pushed(&feed, "too_large");
            push.poller.poll_now(&feed);
            return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
        }
    };
    let sig = headers.get("x-hub-signature").map(|v| v.as_bytes());
    match signature::verify(sig, &sub.secret, &bytes) {
        Verdict::Valid => {}
        Verdict::Missing => {
            tracing::warn!(feed = %feed, "WebSub: an unsigned push was ignored");
            metrics.pushed(&feed, "unsigned");
            return StatusCode::ACCEPTED.into_response();
        }
        Verdict::Invalid => {
            tracing::warn!(feed = %feed, "WebSub: a push with a wrong signature was ignored");
            metrics.pushed(&feed, "bad_signature");
            return StatusCode::ACCEPTED.into_response();
        }
    }
    let cb = sub.callback_id.clone();
    let now = push.db.now_ms();
    let _ = push.db.call(move |s| s.subscription_pushed(&cb, now)).await;
    if !push
        .limiter
        .allow(&format!("push:{feed}"), super::PUSHES_PER_MINUTE)
    {
        metrics.pushed(&feed, "rate_limited");
        push.poller.poll_now(&feed);
        return StatusCode::ACCEPTED.into_response();
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        metrics.pushed(&feed, "thin");
        tracing::debug!(feed = %feed, "WebSub: thin ping; polling the feed now");
        push.poller.poll_now(&feed);
        return StatusCode::ACCEPTED.into_response();
    }
    let base = match url::Url::parse(&sub.topic) {
        Ok(u) => u,
        Err(_) => {
            push.poller.poll_now(&feed);
            return StatusCode::ACCEPTED.into_response();
        }
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let max_items = push.cfg.sources.max_items;
    let parsed = tokio::task::spawn_blocking(move || {
        crier_bots::panics::catch_sync(|| {
            crate::sources::parse_document_capped(&bytes, ct.as_deref(), &base, max_items)
        })
    })
    .await;
    let doc = match parsed {
        Ok(Ok(Ok(doc))) => doc,
        other => {
            let why = match other {
                Ok(Ok(Err(e))) => crate::redact::redact_text(&e.to_string()),
                _ => "the parser failed".into(),
            };
            tracing::warn!(feed = %feed, error = %why, "WebSub: a pushed document cannot be read; polling the feed");
            metrics.pushed(&feed, "unparsable");
            push.poller.poll_now(&feed);
            return StatusCode::ACCEPTED.into_response();
        }
    };
    match push.poller.ingest_pushed(&feed, doc.items).await {
        Ok(PushOutcome::Recorded(r)) => {
            metrics.pushed(&feed, "fat");
            metrics.ingested(&feed, r.new);
            if r.new + r.updated > 0 {
                tracing::info!(feed = %feed, new = r.new, updated = r.updated, "WebSub: pushed");
            }
            StatusCode::ACCEPTED.into_response()
        }
        Ok(PushOutcome::PollInstead(why)) => {
            metrics.pushed(&feed, "fat_polled");
            tracing::debug!(feed = %feed, why, "WebSub: a fat ping becomes a poll");
            push.poller.poll_now(&feed);
            StatusCode::ACCEPTED.into_response()
        }
        Ok(PushOutcome::UnknownFeed) => (StatusCode::GONE, "not subscribed").into_response(),
        Err(e) => {
            tracing::warn!(feed = %feed, error = %e, "WebSub: cannot record a push; polling the feed");
            push.poller.poll_now(&feed);
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}
