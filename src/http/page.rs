//! `GET /`: the status page — feeds, targets, recent deliveries, open
//! alerts, and two small charts (deliveries per hour, queue depth) drawn
//! as inline SVG on the server. No JavaScript; it reloads itself.

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::HttpState;
use super::auth::Who;
use crate::status::{Summary, clip, reason};

/// Seconds between the page's reloads.
pub const REFRESH_SECS: u32 = 30;

pub const CSS: &str = r#"
:root{color-scheme:light dark;font-family:system-ui,sans-serif}
body{margin:0;padding:.5rem;line-height:1.35}
main{max-width:72rem;margin:auto}
h1{font-size:1.4rem;margin:.3rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #8884;vertical-align:top}
.wrap{overflow-x:auto}
.ok{color:#187a2f}.bad{color:#b3261e}.warn{color:#9a6700}.muted{opacity:.7}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0}
figcaption{font-size:.8rem}
form.inline{display:inline}
button{font:inherit;padding:.15rem .6rem;cursor:pointer}
.flash{padding:.4rem;border:1px solid #8886;border-radius:.3rem}
input{font:inherit;padding:.3rem;display:block;margin:.3rem 0;width:100%;max-width:24rem}
"#;

pub fn routes(state: Arc<HttpState>) -> Router {
    Router::new().route("/", get(page)).with_state(state)
}

#[derive(Deserialize)]
struct PageQuery {
    done: Option<String>,
}

fn when(now: i64, t: Option<i64>) -> String {
    match t {
        None => "—".into(),
        Some(t) if t <= now => format!("{} ago", short((now - t) / 1000)),
        Some(t) => format!("in {}", short((t - now) / 1000)),
    }
}

fn short(s: i64) -> String {
    match s.max(0) {
        s if s < 90 => format!("{s}s"),
        s if s < 90 * 60 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn class_of(state: &str) -> &'static str {
    match state {
        "ok" | "sent" => "ok",
        "failed" | "disabled" | "paused" | "failing" => "bad",
        "pending" | "sending" | "new" => "warn",
        _ => "muted",
    }
}

/// A small bar chart of `values` as inline SVG.
pub fn bars(values: &[u64], label: &str) -> Markup {
    const W: f64 = 240.0;
    const H: f64 = 48.0;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(1) as f64;
    let bw = W / n;
    html! {
        svg width="240" height="48" viewBox="0 0 240 48" role="img" aria-label=(label) {
            rect x="0" y="0" width="240" height="48" fill="none" stroke="#8886" {}
            @for (i, v) in values.iter().enumerate() {
                @let h = (*v as f64 / max) * (H - 2.0);
                rect x=(format!("{:.1}", i as f64 * bw + 0.5)) y=(format!("{:.1}", H - h)) width=(format!("{:.1}", (bw - 1.0).max(0.5))) height=(format!("{h:.1}")) fill="#3b82f6" {
                    title { (v) }
                }
            }
        }
    }
}

/// A small line chart of `values` as inline SVG.
pub fn sparkline(values: &[u64], label: &str) -> Markup {
    const W: f64 = 240.0;
    const H: f64 = 48.0;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        W / (values.len() - 1) as f64
    } else {
        W
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - 1.0 - (*v as f64 / max) * (H - 2.0)
            )
        })
        .collect();
    html! {
        svg width="240" height="48" viewBox="0 0 240 48" role="img" aria-label=(label) {
            rect x="0" y="0" width="240" height="48" fill="none" stroke="#8886" {}
            @if points.len() > 1 {
                polyline points=(points.join(" ")) fill="none" stroke="#f59e0b" stroke-width="2" {}
            } @else if let Some(p) = points.first() {
                @let (x, y) = p.split_once(',').unwrap_or(("0", "47"));
                circle cx=(x) cy=(y) r="2" fill="#f59e0b" {}
            }
        }
    }
}

fn action(path: &str, csrf: &str, field: &str, value: &str, label: &str, id: &str) -> Markup {
    html! {
        form.inline method="post" action=(path) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name=(field) value=(value);
            button id=(id) type="submit" { (label) }
        }
    }
}

/// The page's HTML for a summary.
pub fn render(s: &Summary, trend: &[u64], csrf: &str, done: Option<&str>, now: i64) -> String {
    let total_24h: u64 = s.sent_per_hour.iter().sum();
    let queued: u64 = s.targets.iter().map(|t| t.queue_depth).sum();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(REFRESH_SECS);
                link rel="icon" href="data:,";
                title { "Crier — status" }
                style { (CSS) }
            }
            body {
                main {
                    h1 { "Crier " span.muted { (env!("CARGO_PKG_VERSION")) } }
                    @if let Some(d) = done { p.flash #flash { (d) } }
                    div.charts {
                        figure {
                            (bars(&s.sent_per_hour, "deliveries per hour, last 24 hours"))
                            figcaption { "Delivered per hour, 24 h (" (total_24h) ")" }
                        }
                        figure {
                            (sparkline(trend, "queue depth"))
                            figcaption { "Queue depth (now " (queued) ")" }
                        }
                    }
                    h2 { "Open alerts (" (s.alerts.len()) ")" }
                    @if s.alerts.is_empty() { p.muted { "None." } }
                    ul #alerts {
                        @for (_, at, msg) in &s.alerts {
                            li { span.muted { (when(now, Some(*at))) } " " (msg) }
                        }
                    }
                    h2 { "Feeds (" (s.feeds.len()) ")" }
                    div.wrap { table #feeds {
                        thead { tr { th { "Feed" } th { "Health" } th { "Last poll" } th { "Next poll" } th { "Last error" } th {} } }
                        tbody {
                            @for f in &s.feeds {
                                tr data-feed=(f.name) {
                                    td { b { (f.name) } br; span.muted { (clip(&f.url, 60)) } }
                                    td class=(class_of(f.health)) { (f.health) @if f.failures > 0 { " (" (f.failures) "×)" } @if let Some(p) = &f.push { br; span.muted { (clip(p, 120)) } } }
                                    td { (when(now, f.last_poll_at)) }
                                    td { (when(now, f.next_poll_at)) }
                                    td { (clip(f.paused_reason.as_deref().or(f.last_error.as_deref()).unwrap_or(""), 160)) }
                                    td {
                                        @if f.health == "paused" {
                                            (action("/actions/resume", csrf, "name", &f.name, "Resume", &format!("resume-{}", f.name)))
                                        } @else {
                                            (action("/actions/pause", csrf, "name", &f.name, "Pause", &format!("pause-{}", f.name)))
                                        }
                                    }
                                }
                            }
                        }
                    } }
                    h2 { "Targets (" (s.targets.len()) ")" }
                    div.wrap { table #targets {
                        thead { tr { th { "Target" } th { "State" } th { "Queue" } th { "Oldest" } th { "Failed" } th { "Last delivery" } th {} } }
                        tbody {
                            @for t in &s.targets {
                                tr data-target=(t.name) {
                                    td { b { (t.name) } br; span.muted { (t.platform) } }
                                    td class=(class_of(t.state)) { (t.state) @if let Some(r) = &t.reason { br; span.muted { (clip(r, 160)) } } }
                                    td { (t.queue_depth) }
                                    td { (t.oldest_at.map(|o| short((now - o) / 1000)).unwrap_or_else(|| "—".into())) }
                                    td class=(if t.failed > 0 { "bad" } else { "" }) { (t.failed) }
                                    td { (when(now, t.last_sent_at)) }
                                    td {
                                        (action("/actions/retry", csrf, "target", &t.name, "Retry", &format!("retry-{}", t.name)))
                                        @if t.state != "ok" {
                                            " " (action("/actions/resume", csrf, "name", &t.name, "Resume", &format!("resume-target-{}", t.name)))
                                        }
                                    }
                                }
                            }
                        }
                    } }
                    h2 { "Instances (" (s.instances.len()) ")" }
                    div.wrap { table #instances {
                        thead { tr { th { "Role" } th { "Host" } th { "PID" } th { "Version" } th { "Started" } th { "Last seen" } th { "Holds" } } }
                        tbody {
                            @for i in &s.instances {
                                @let gone = i.role == "gone" || now - i.seen_at > crate::instances::GONE_AFTER_MS;
                                tr data-instance=(i.id) {
                                    td class=(if gone { "bad" } else if i.role == "active" { "ok" } else { "" }) { (i.role) @if gone && i.role != "gone" { " (gone?)" } }
                                    td { (i.host) }
                                    td { (i.pid) }
                                    td { (i.version) }
                                    td { (when(now, Some(i.started_at))) }
                                    td { (when(now, Some(i.seen_at))) }
                                    td { (crate::instances::holdings(&s.leases, &i.id, crate::clock::Clock::System.now_ms())) }
                                }
                            }
                        }
                    } }
                    h2 { "Recent deliveries" }
                    div.wrap { table #recent {
                        thead { tr { th { "#" } th { "Target" } th { "State" } th { "Article" } th { "Why" } th { "When" } } }
                        tbody {
                            @for e in &s.recent {
                                @let d = &e.delivery;
                                tr data-delivery=(d.id) {
                                    td { (d.id) }
                                    td { (d.target) }
                                    td class=(class_of(d.state.as_str())) { (d.state.as_str()) }
                                    td {
                                        @match &e.link {
                                            Some(l) if l.starts_with("https://") || l.starts_with("http://") => a href=(l) rel="noopener noreferrer" { (clip(&e.title, 80)) },
                                            _ => (clip(&e.title, 80)),
                                        }
                                        br; span.muted { (e.feed) }
                                    }
                                    td { (clip(reason(d).unwrap_or(""), 200)) }
                                    td { (when(now, Some(d.updated_at))) }
                                }
                            }
                        }
                    } }
                    p.muted {
                        "Reloads every " (REFRESH_SECS) " s. "
                        form.inline method="post" action="/logout" { button type="submit" { "Sign out" } }
                    }
                }
            }
        }
    }
    .into_string()
}

async fn page(
    State(st): State<Arc<HttpState>>,
    Extension(who): Extension<Who>,
    Query(q): Query<PageQuery>,
) -> Response {
    let cfg = st.cfg.clone();
    let now = st.db.now_ms();
    let summary = match st.db.call(move |s| Summary::read(s, &cfg, now)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the delivery log for the status page");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("database error: {e}"),
            )
                .into_response();
        }
    };
    let queued: u64 = summary.targets.iter().map(|t| t.queue_depth).sum();
    st.telemetry.metrics.sample_queue(now, queued);
    // A browser without a session (no token configured) gets one: the
    // action buttons need its CSRF token.
    let (session, new_cookie) = match who {
        Who::Session(id) => (Some(id), false),
        Who::Open => (Some(st.sessions.create()), true),
        Who::Bearer => (None, false),
    };
    let csrf = session
        .as_deref()
        .and_then(|id| st.sessions.csrf(id))
        .unwrap_or_default();
    let done = q.done.as_deref().map(|d| clip(d, 300));
    let body = render(
        &summary,
        &st.telemetry.metrics.queue_trend(),
        &csrf,
        done.as_deref(),
        now,
    );
    let mut res = Html(body).into_response();
    if let (true, Some(id)) = (new_cookie, session) {
        res.headers_mut()
            .insert(header::SET_COOKIE, super::auth::cookie_header(&id));
    }
    res
}
