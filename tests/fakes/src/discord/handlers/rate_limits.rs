//! Rate limits: the buckets of the routes, their headers and 429 answers.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::State;
use super::Route;
use crate::clock::unix_f64;
use crate::ratelimit::{BucketState, Window};

pub(super) fn bucket_hash(name: &str) -> String {
    // FNV-1a: opaque and stable, like Discord's bucket hashes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub(super) fn window_for(st: &State, route: &Route) -> Option<Window> {
    let l = &st.limits;
    match route {
        Route::CreateMessage(..) => l.create_message,
        Route::EditMessage(..) => l.edit_message,
        Route::DeleteMessage(..) => l.delete_message,
        Route::Crosspost(..) => l.crosspost,
        Route::ExecuteWebhook(..)
        | Route::GetWebhook(..)
        | Route::GetWebhookMessage(..)
        | Route::EditWebhookMessage(..)
        | Route::DeleteWebhookMessage(..) => l.webhook,
        _ => l.other,
    }
}

#[derive(Clone, Debug)]
pub(super) struct RateInfo {
    pub(super) state: BucketState,
    pub(super) hash: String,
}

pub(super) fn rate_headers(h: &mut HeaderMap, info: &RateInfo) {
    let s = &info.state;
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    put("x-ratelimit-limit", s.limit.to_string());
    put("x-ratelimit-remaining", s.remaining.to_string());
    put("x-ratelimit-reset", format!("{:.3}", unix_f64(s.reset_at)));
    put(
        "x-ratelimit-reset-after",
        format!("{:.3}", s.reset_after.as_secs_f64()),
    );
    put("x-ratelimit-bucket", info.hash.clone());
}

pub(super) fn limited(
    retry: Duration,
    global: bool,
    scope: &str,
    info: Option<&RateInfo>,
) -> Response {
    let secs = (retry.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": global});
    let mut r = json_response(429, Some(&body));
    let h = r.headers_mut();
    if let Some(i) = info {
        rate_headers(h, i);
    }
    let ceil = retry.as_secs() + u64::from(retry.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&ceil.max(1).to_string()) {
        h.insert(header::RETRY_AFTER, v);
    }
    if let Ok(v) = HeaderValue::from_str(scope) {
        h.insert("x-ratelimit-scope", v);
    }
    if global {
        h.insert("x-ratelimit-global", HeaderValue::from_static("true"));
    }
    r
}

pub(super) fn json_response(status: u16, body: Option<&Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(b) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            b.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    }
}
