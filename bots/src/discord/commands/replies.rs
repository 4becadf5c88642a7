//! Replies as Discord messages (escaped, split to fit, never pinging,
//! previews and Confirm/Cancel buttons) and the interaction responses:
//! at once or deferred within the 3-second window, follow-ups, and the
//! publish/retract report later (a follow-up, or a DM once the token
//! expired).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::{DEFER_AFTER, DiscordFrontend, EPHEMERAL};
use crate::commands::{Button, Caller, Reply};
use crate::format::discord::{DiscordMessage, escape_md_line};

/// How long an interaction token works for edits and follow-ups (Discord:
/// 15 minutes); later reports go to the caller's direct messages.
const TOKEN_LIFE: Duration = Duration::from_secs(14 * 60);
/// Message flag: no link previews under the message.
const SUPPRESS_EMBEDS: u64 = 1 << 2;
/// Characters per reply message (Discord: 2000), with room for escapes.
const TEXT_LIMIT: usize = 1900;

/// Escaped text split into messages at line boundaries.
pub(super) fn text_chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let mut line = escape_md_line(line);
        while line.chars().count() > TEXT_LIMIT {
            let mut cut: String = line.chars().take(TEXT_LIMIT).collect();
            // Do not separate a backslash from what it escapes.
            let trailing = cut.chars().rev().take_while(|&c| c == '\\').count();
            if trailing % 2 == 1 {
                cut.pop();
            }
            line = line[cut.len()..].to_string();
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(cut);
        }
        if !cur.is_empty() && cur.chars().count() + line.chars().count() + 1 > TEXT_LIMIT {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Plain text shown verbatim in code blocks, split to fit.
pub(super) fn code_chunks(head: &str, text: &str) -> Vec<String> {
    // A code block ends at ```: break such runs with a zero-width space.
    let text = text.replace("```", "`\u{200B}`\u{200B}`");
    let room = TEXT_LIMIT
        .saturating_sub(head.chars().count() + 10)
        .max(100);
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        while line.chars().count() > room {
            let cut: String = line.chars().take(room).collect();
            line = line[cut.len()..].to_string();
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(cut);
        }
        if !cur.is_empty() && cur.chars().count() + line.chars().count() + 1 > room {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|c| format!("{head}\n```\n{c}\n```"))
        .collect()
}

pub(super) fn no_pings() -> Value {
    json!({"parse": []})
}

/// A text message (already escaped).
pub(super) fn text_message(content: String, flags: u64) -> Value {
    json!({
        "content": content,
        "allowed_mentions": no_pings(),
        "flags": flags | SUPPRESS_EMBEDS,
    })
}

/// Confirm/Cancel as an action row; `custom_id` is the button's data.
pub(super) fn button_row(buttons: &[Button]) -> Value {
    let items: Vec<Value> = buttons
        .iter()
        .filter(|b| (1..=100).contains(&b.data.chars().count()))
        .take(5)
        .enumerate()
        .map(|(i, b)| {
            json!({
                "type": 2,
                // The first (Confirm) green, the others grey.
                "style": if i == 0 { 3 } else { 2 },
                "label": b.label.chars().take(80).collect::<String>(),
                "custom_id": b.data,
            })
        })
        .collect();
    json!([{"type": 1, "components": items}])
}

/// A reply as Discord messages: previews first (Discord targets exactly as
/// they will post, other platforms as text), then the text, its buttons on
/// the last message.
pub fn reply_messages(r: &Reply, flags: u64) -> Vec<Value> {
    let mut out = Vec::new();
    for p in &r.previews {
        let native = matches!(p.platform, "discord" | "discord_webhook") && !p.parts.is_empty();
        if native {
            out.push(text_message(
                escape_md_line(&format!("Preview — {} (Discord):", p.target)),
                flags,
            ));
            for part in &p.parts {
                let Some(m) = DiscordMessage::from_payload(&part.payload) else {
                    continue;
                };
                let mut v = serde_json::to_value(&m).unwrap_or_else(|_| json!({}));
                v["allowed_mentions"] = no_pings();
                if flags != 0 {
                    v["flags"] = json!(flags);
                }
                out.push(v);
            }
        } else {
            let head = escape_md_line(&format!("Preview — {} ({}):", p.target, p.platform));
            for c in code_chunks(&head, &p.text) {
                out.push(text_message(c, flags));
            }
        }
    }
    let chunks = text_chunks(&r.text);
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut m = text_message(c, flags);
        if i + 1 == n && !r.buttons.is_empty() {
            m["components"] = button_row(&r.buttons);
        }
        out.push(m);
    }
    if n == 0 && !r.buttons.is_empty() {
        let mut m = text_message("…".into(), flags);
        m["components"] = button_row(&r.buttons);
        out.push(m);
    }
    out
}

impl DiscordFrontend {
    /// Answer within the window: at once when the reply is ready, else a
    /// deferred response replaced by the reply when it is.
    pub(super) async fn respond(
        self: &Arc<Self>,
        id: u64,
        token: &str,
        caller: Caller,
        mut work: JoinHandle<Option<Reply>>,
    ) {
        let Some(app) = self.application_id().await else {
            return;
        };
        let started = Instant::now();
        let reply = match tokio::time::timeout(DEFER_AFTER, &mut work).await {
            Ok(done) => {
                let reply = done.unwrap_or_else(|e| {
                    tracing::error!(error = %crate::scrub::scrub(&e.to_string()), "a Discord command failed");
                    Some(Reply::text("Something went wrong; see Crier's log."))
                });
                // `None`: say nothing (a repeated refusal).
                let Some(reply) = reply else { return };
                let mut msgs = reply_messages(&reply, EPHEMERAL).into_iter();
                let Some(first) = msgs.next() else { return };
                let body = json!({"type": 4, "data": first});
                if let Err(e) = self.rest.interaction_callback(id, token, &body).await {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot answer a Discord command");
                    return;
                }
                self.followups(app, token, msgs).await;
                self.send_file(app, token, &reply).await;
                reply
            }
            Err(_) => {
                let body = json!({"type": 5, "data": {"flags": EPHEMERAL}});
                if let Err(e) = self.rest.interaction_callback(id, token, &body).await {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot defer a Discord command");
                }
                let reply = work.await.unwrap_or_else(|e| {
                    tracing::error!(error = %crate::scrub::scrub(&e.to_string()), "a Discord command failed");
                    Some(Reply::text("Something went wrong; see Crier's log."))
                });
                let Some(reply) = reply else {
                    let _ = self.rest.delete_original(app, token).await;
                    return;
                };
                let mut msgs = reply_messages(&reply, EPHEMERAL).into_iter();
                let Some(first) = msgs.next() else {
                    let _ = self.rest.delete_original(app, token).await;
                    return;
                };
                let r = self
                    .retrying(|| self.rest.edit_original(app, token, &first))
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a deferred Discord reply");
                }
                self.followups(app, token, msgs).await;
                self.send_file(app, token, &reply).await;
                reply
            }
        };
        self.report_later(app, token.to_string(), started, caller, reply);
    }

    pub(super) async fn followups(&self, app: u64, token: &str, msgs: impl Iterator<Item = Value>) {
        for m in msgs {
            if let Err(e) = self.retrying(|| self.rest.followup(app, token, &m)).await {
                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a Discord follow-up message");
            }
        }
    }

    /// A publish or retraction report, when the deliveries are done: as a
    /// follow-up while the interaction token works, else in the caller's
    /// direct messages.
    pub(super) fn report_later(
        self: &Arc<Self>,
        app: u64,
        token: String,
        started: Instant,
        caller: Caller,
        reply: Reply,
    ) {
        let Some(f) = reply.follow_up else { return };
        let me = self.clone();
        crate::panics::spawn_contained("discord follow-up", async move {
            let report = me.handler.follow_up(f).await;
            let msgs = reply_messages(&report, EPHEMERAL);
            if started.elapsed() < TOKEN_LIFE {
                let mut ok = true;
                for m in &msgs {
                    if let Err(e) = me.retrying(|| me.rest.followup(app, &token, m)).await {
                        tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a report as a follow-up; sending it by DM");
                        ok = false;
                        break;
                    }
                }
                if ok {
                    return;
                }
            }
            if let Ok(user) = u64::try_from(caller.user_id) {
                me.direct(user, &reply_messages(&report, 0)).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Preview;

    #[test]
    fn long_lines_split_between_characters() {
        for ch in ["ж", "’", "😀"] {
            let line = ch.repeat(TEXT_LIMIT * 2 + 7);
            let parts = text_chunks(&line);
            assert!(parts.len() >= 3, "{ch}");
            assert!(parts.iter().all(|p| p.chars().count() <= TEXT_LIMIT));
            assert_eq!(parts.concat(), line);
            let code = code_chunks("head", &line);
            assert!(code.len() >= 2, "{ch}");
        }
    }

    #[test]
    fn replies_escape_markdown_split_and_never_ping() {
        let r = Reply {
            text: "a *b* @everyone <@1>\n".repeat(200),
            buttons: vec![
                Button {
                    label: "Confirm".into(),
                    data: "pub:1".into(),
                },
                Button {
                    label: "Cancel".into(),
                    data: "no:1".into(),
                },
            ],
            previews: vec![Preview {
                target: "tg".into(),
                platform: "telegram",
                parts: Vec::new(),
                text: "```x```".into(),
            }],
            follow_up: None,
            file: None,
            refused: false,
        };
        let msgs = reply_messages(&r, EPHEMERAL);
        assert!(msgs.len() >= 3, "{msgs:?}");
        for m in &msgs {
            assert_eq!(m["allowed_mentions"], json!({"parse": []}));
            assert!(m["content"].as_str().expect("content").chars().count() <= 2000);
            assert_eq!(m["flags"].as_u64().unwrap_or(0) & EPHEMERAL, EPHEMERAL);
        }
        assert!(msgs[0]["content"].as_str().expect("c").contains("```\n`"));
        let last = msgs.last().expect("last");
        assert_eq!(last["components"][0]["components"][0]["custom_id"], "pub:1");
        assert_eq!(last["components"][0]["components"][0]["style"], 3);
        assert!(
            msgs[1]["content"]
                .as_str()
                .expect("c")
                .contains("a \\*b\\*")
        );
        assert!(
            msgs.iter()
                .all(|m| m.get("components").is_none() || std::ptr::eq(m, last))
        );
    }
}
