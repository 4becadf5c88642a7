//! The JSON Discord gets: the formatter's stored message plus what the
//! target adds at send time (`allowed_mentions`, `flags`, the role ping,
//! webhook `username` / `avatar_url` / `thread_name` / `applied_tags`), the
//! bot message `nonce`, the forum thread name.

use serde_json::{Map, Value, json};
use serenity::model::channel::MessageFlags;

use super::{DiscordTarget, Op};
use crate::format::discord::{CONTENT_LIMIT, DiscordMessage};
use crate::format::text::utf16_len;
use crate::model::Post;
use crate::target::{DeliveryError, Part};

/// Longest forum thread name.
pub const THREAD_NAME_LIMIT: usize = 100;
/// Longest `nonce`.
pub const NONCE_LIMIT: usize = 25;

impl DiscordTarget {
    /// The request body: the formatter's message plus the target's rules.
    pub(super) fn body(&self, m: &DiscordMessage, op: Op, extra: &Map<String, Value>) -> Value {
        let mut o = match serde_json::to_value(m) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        // The role is pinged by a post's first message only.
        let role = self
            .opts
            .ping_role
            .filter(|_| !extra.contains_key("part_index"));
        let content = with_role_ping(m.content.as_deref(), role);
        match (op, content) {
            (_, Some(c)) => {
                o.insert("content".into(), Value::String(c));
            }
            (Op::Edit, None) => {
                o.insert("content".into(), Value::String(String::new()));
            }
            _ => {}
        }
        if op == Op::Edit {
            // An edit replaces the message: clear what the new form lacks.
            o.entry("embeds").or_insert_with(|| json!([]));
            o.entry("components").or_insert_with(|| json!([]));
        }
        o.insert(
            "allowed_mentions".into(),
            match role {
                Some(r) => json!({"parse": [], "roles": [r.to_string()]}),
                None => json!({"parse": []}),
            },
        );
        let suppress = self.opts.suppress_embeds && m.embeds.is_empty();
        let mut flags = MessageFlags::empty();
        if suppress {
            flags |= MessageFlags::SUPPRESS_EMBEDS;
        }
        // Only SUPPRESS_EMBEDS can be changed by an edit.
        if self.opts.silent && op == Op::Send {
            flags |= MessageFlags::SUPPRESS_NOTIFICATIONS;
        }
        if !flags.is_empty() {
            o.insert("flags".into(), json!(flags.bits()));
        }
        if op == Op::Send && self.is_webhook() {
            if let Some(u) = &self.opts.username {
                o.insert("username".into(), json!(u));
            }
            if let Some(a) = &self.opts.avatar_url {
                o.insert("avatar_url".into(), json!(a));
            }
            if self.opts.forum {
                if let Some(n) = extra.get("thread_name") {
                    o.insert("thread_name".into(), n.clone());
                }
                if !self.opts.applied_tags.is_empty() {
                    let tags: Vec<String> =
                        self.opts.applied_tags.iter().map(u64::to_string).collect();
                    o.insert("applied_tags".into(), json!(tags));
                }
            }
        }
        Value::Object(o)
    }

    pub(super) fn read(part: &Part) -> Result<(DiscordMessage, Map<String, Value>), DeliveryError> {
        let m = DiscordMessage::from_payload(&part.payload).ok_or_else(|| {
            DeliveryError::Rejected("the stored part is not a Discord message".into())
        })?;
        let mut extra = Map::new();
        for k in ["thread_name", "part_index"] {
            if let Some(v) = part.payload.get(k) {
                extra.insert(k.into(), v.clone());
            }
        }
        Ok((m, extra))
    }
}

/// `content` with the role mention in front (cut to fit 2000).
fn with_role_ping(content: Option<&str>, role: Option<u64>) -> Option<String> {
    let Some(role) = role else {
        return content.map(str::to_string);
    };
    let mention = format!("<@&{role}>");
    let Some(c) = content.filter(|c| !c.trim().is_empty()) else {
        return Some(mention);
    };
    let room = CONTENT_LIMIT.saturating_sub(utf16_len(&mention) + 1);
    Some(format!("{mention}\n{}", cut_utf16(c, room)))
}

/// At most `max` UTF-16 units, ending with `…` when cut.
fn cut_utf16(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut n = 0;
    for ch in s.chars() {
        if n + ch.len_utf16() + 1 > max {
            break;
        }
        n += ch.len_utf16();
        out.push(ch);
    }
    // A cut between a backslash and the character it escapes would leave
    // a dangling escape.
    if out.ends_with('\\') {
        out.pop();
    }
    out.push('…');
    out
}

/// The forum thread name for a post: its title on one line, ≤ 100
/// characters.
pub fn thread_name(post: &Post) -> String {
    let one_line = post
        .label()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let one_line = if one_line.is_empty() {
        "New post".to_string()
    } else {
        one_line
    };
    if one_line.chars().count() <= THREAD_NAME_LIMIT {
        return one_line;
    }
    let mut s: String = one_line.chars().take(THREAD_NAME_LIMIT - 1).collect();
    s = s.trim_end().to_string();
    s.push('…');
    s
}

/// The `nonce` of a bot message: the delivery row id (one row per part,
/// stable across retries and restarts) plus a hash of the message, ≤ 25
/// characters. The hash keeps a recreated database's row 1 from matching
/// another post's nonce within Discord's de-duplication window.
pub fn nonce(delivery_id: i64, m: &DiscordMessage) -> String {
    let text = serde_json::to_string(m).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = delivery_id.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let d = (id % 36) as u32;
        digits.push(char::from_digit(d, 36).unwrap_or('0'));
        id /= 36;
        if id == 0 {
            break;
        }
    }
    let id: String = digits.into_iter().rev().collect();
    let n = format!("c{id}.{:010x}", h & 0xff_ffff_ffff);
    n.chars().take(NONCE_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{bot, hook_with};
    use super::*;
    use crate::discord::target::DiscordOptions;
    use crate::format::{FeedRenderOptions, TargetFormat};
    use crate::target::Target;

    #[test]
    fn nonces_fit_and_are_stable() {
        let m = DiscordMessage {
            content: Some("x".into()),
            ..Default::default()
        };
        let n = nonce(i64::MAX, &m);
        assert!(n.chars().count() <= NONCE_LIMIT, "{n}");
        assert_eq!(n, nonce(i64::MAX, &m), "stable across retries");
        assert_ne!(nonce(1, &m), nonce(2, &m), "one per delivery row");
        let other = DiscordMessage {
            content: Some("y".into()),
            ..Default::default()
        };
        assert_ne!(nonce(1, &m), nonce(1, &other));
        assert!(nonce(1, &m).starts_with("c1."));
    }

    #[test]
    fn mentions_flags_and_role_pings() {
        let plain = DiscordMessage {
            content: Some("@\u{200B}everyone news".into()),
            ..Default::default()
        };
        let t = bot(DiscordOptions {
            silent: true,
            suppress_embeds: true,
            ..Default::default()
        });
        let b = t.body(&plain, Op::Send, &Map::new());
        assert_eq!(b["allowed_mentions"], json!({"parse": []}));
        assert_eq!(b["flags"], json!((1 << 12) | (1 << 2)));
        // An edit may change SUPPRESS_EMBEDS only.
        let b = t.body(&plain, Op::Edit, &Map::new());
        assert_eq!(b["flags"], json!(1 << 2));
        assert_eq!(b["embeds"], json!([]));

        // Our own embed is never suppressed.
        let embed = DiscordMessage {
            embeds: vec![Default::default()],
            ..Default::default()
        };
        let b = t.body(&embed, Op::Send, &Map::new());
        assert_eq!(b["flags"], json!(1 << 12));

        let t = bot(DiscordOptions {
            ping_role: Some(42),
            ..Default::default()
        });
        let b = t.body(&embed, Op::Send, &Map::new());
        assert_eq!(b["content"], json!("<@&42>"));
        assert_eq!(b["allowed_mentions"], json!({"parse": [], "roles": ["42"]}));
        assert!(b.get("flags").is_none());
        let long = DiscordMessage {
            content: Some("é".repeat(2000)),
            ..Default::default()
        };
        let b = t.body(&long, Op::Send, &Map::new());
        let c = b["content"].as_str().unwrap_or("");
        assert!(c.starts_with("<@&42>\n"));
        assert!(c.encode_utf16().count() <= CONTENT_LIMIT);
    }

    #[test]
    fn webhook_bodies_and_forum_threads() {
        let full = TargetFormat {
            mode: crate::format::Mode::Full,
            ..TargetFormat::default()
        };
        let forum = DiscordOptions {
            username: Some("News".into()),
            avatar_url: Some("https://x.example/a.png".into()),
            forum: true,
            applied_tags: vec![7, 8],
            ..Default::default()
        };
        let post = Post {
            title: format!("{}   tail", "word ".repeat(40)),
            content_html: Some("<p>A long sentence of the article body.</p>".repeat(400)),
            link: Some("https://x.example/a".into()),
            ..Default::default()
        };
        let ff = FeedRenderOptions::default();
        let channel = hook_with(
            full.clone(),
            DiscordOptions {
                ping_role: Some(9),
                ..Default::default()
            },
        );
        let parts = channel.render(&post, &ff).expect("render");
        assert!(parts.len() > 1);
        // The role is pinged by the first message only, edits included.
        for op in [Op::Send, Op::Edit] {
            let bodies: Vec<Value> = parts
                .iter()
                .map(|p| {
                    let (m, extra) = DiscordTarget::read(p).expect("read");
                    channel.body(&m, op, &extra)
                })
                .collect();
            assert_eq!(bodies[0]["allowed_mentions"]["roles"], json!(["9"]));
            assert_eq!(bodies[0]["content"], json!("<@&9>"));
            for b in &bodies[1..] {
                assert_eq!(b["allowed_mentions"], json!({"parse": []}));
                assert!(!b.to_string().contains("<@&9>"));
                assert!(b.get("part_index").is_none(), "not sent to Discord");
            }
        }
        let t = hook_with(full, forum);
        let parts = t.render(&post, &ff).expect("render");
        assert_eq!(parts.len(), 1, "one message per forum post");
        let name = parts[0].payload["thread_name"].as_str().unwrap_or("");
        assert!(name.chars().count() <= THREAD_NAME_LIMIT && name.ends_with('…'));
        let (m, extra) = DiscordTarget::read(&parts[0]).expect("read");
        let b = t.body(&m, Op::Send, &extra);
        assert_eq!(b["thread_name"], json!(name));
        assert_eq!(b["applied_tags"], json!(["7", "8"]));
        assert_eq!(b["username"], json!("News"));
        assert_eq!(b["avatar_url"], json!("https://x.example/a.png"));
        assert!(b.get("nonce").is_none(), "webhooks have no nonce");
        let e = t.body(&m, Op::Edit, &extra);
        assert!(e.get("thread_name").is_none() && e.get("username").is_none());
        assert!(!t.idempotent_send());
        assert!(bot(DiscordOptions::default()).idempotent_send());
        assert!(!format!("{t:?}").contains("SECRET"), "{t:?}");
    }
}
