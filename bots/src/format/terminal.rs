//! A human-readable rendering of platform messages, as a channel member
//! would see them, for the console target and `crier preview`.
//!
//! Plain text with light markers: `**bold**`, `_italic_`, `__underline__`,
//! `~~strike~~`, `||spoiler||`, `` `code` ``, links as `text ⟨url⟩`,
//! quotes as `│ ` lines, and bracketed lines for what is not text:
//! `[photo: …]`, `[link preview above: …]`, `[image: …]`, `[button: Read
//! more → …]`. Discord embeds are drawn in a left bar `┃`.

use super::discord::{DiscordMessage, unescape_markdown};
use super::options::{FeedRenderOptions, TargetFormat};
use super::telegram::{TelegramMessage, TelegramMethod};
use super::validate::parse_telegram_html;
use crate::model::Post;
use crate::target::RenderError;

/// Separator between the messages of one post.
pub const NEXT_MESSAGE: &str = "──── next message ────";

/// Both platforms' views of a post, clearly separated (for the console
/// target and `crier preview`): every Telegram message, then every Discord
/// message, each as [`telegram`]/[`discord`] show them.
pub fn preview(
    post: &Post,
    feed: &FeedRenderOptions,
    fmt: &TargetFormat,
) -> Result<String, RenderError> {
    let tg = super::telegram::render(post, feed, fmt)?;
    let dc = super::discord::render(post, feed, fmt)?;
    let mut out = String::from("━━━━ Telegram ━━━━\n");
    out.push_str(
        &tg.iter()
            .map(telegram)
            .collect::<Vec<_>>()
            .join(&format!("\n{NEXT_MESSAGE}\n")),
    );
    out.push_str("\n━━━━ Discord ━━━━\n");
    out.push_str(
        &dc.iter()
            .map(discord)
            .collect::<Vec<_>>()
            .join(&format!("\n{NEXT_MESSAGE}\n")),
    );
    out.push('\n');
    Ok(out)
}

/// Show a Telegram message.
pub fn telegram(m: &TelegramMessage) -> String {
    let mut out = String::new();
    let preview = m
        .link_preview_options
        .as_ref()
        .filter(|p| p.is_disabled != Some(true));
    if m.method == TelegramMethod::SendPhoto {
        out.push_str(&format!("[photo: {}]\n", m.photo.as_deref().unwrap_or("?")));
    }
    if m.method == TelegramMethod::SendAudio {
        out.push_str(&format!("[audio: {}]\n", m.audio.as_deref().unwrap_or("?")));
    }
    for item in m.media.iter().flatten() {
        out.push_str(&format!("[album photo: {}]\n", item.media));
    }
    let above = preview.is_some_and(|p| p.show_above_text == Some(true));
    if above && let Some(url) = preview.and_then(|p| p.url.as_deref()) {
        out.push_str(&format!("[link preview above: {url}]\n"));
    }
    let body = m.body();
    let text = match m.body_parse_mode() {
        Some(p) if p.eq_ignore_ascii_case("html") => match parse_telegram_html(body) {
            Ok(parsed) => with_markers(&parsed),
            Err(e) => format!("[unparseable HTML: {e}]\n{body}"),
        },
        _ => body.to_string(),
    };
    out.push_str(&text);
    if !above && let Some(url) = preview.and_then(|p| p.url.as_deref()) {
        out.push_str(&format!("\n[link preview: {url}]"));
    }
    if let Some(page) = &m.telegraph {
        out.push_str(&format!(
            "\n[+ a Telegraph page {:?} ({} nodes) linked here at send, shown with Instant View; if Telegraph fails: {} split messages]",
            page.title,
            page.content.as_array().map_or(0, Vec::len),
            page.fallback.len()
        ));
    }
    if let Some(rm) = &m.reply_markup {
        for row in &rm.inline_keyboard {
            for b in row {
                out.push_str(&format!("\n[button: {} → {}]", b.text, b.url));
            }
        }
    }
    out
}

fn with_markers(p: &super::validate::ParsedHtml) -> String {
    // (byte position, is_close, order, text)
    let mut marks: Vec<(usize, bool, usize, String)> = Vec::new();
    for (i, e) in p.entities.iter().enumerate() {
        let in_pre = e.kind == "code"
            && p.entities
                .iter()
                .any(|o| o.kind == "pre" && o.start == e.start && o.end == e.end);
        if in_pre {
            continue;
        }
        let (open, close) = match e.kind {
            "bold" => ("**".to_string(), "**".to_string()),
            "italic" => ("_".into(), "_".into()),
            "underline" => ("__".into(), "__".into()),
            "strikethrough" => ("~~".into(), "~~".into()),
            "spoiler" => ("||".into(), "||".into()),
            "code" => ("`".into(), "`".into()),
            "pre" => ("```\n".into(), "\n```".into()),
            "text_link" => (
                String::new(),
                format!(" ⟨{}⟩", e.url.as_deref().unwrap_or("")),
            ),
            "blockquote" | "expandable_blockquote" => ("\u{1}".into(), "\u{2}".into()),
            _ => (String::new(), String::new()),
        };
        marks.push((e.start, false, i, open));
        marks.push((e.end, true, i, close));
    }
    // Closings first at a position, innermost (latest closed = entities
    // are in closing order) first; openings outermost first.
    marks.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| if a.1 { a.2.cmp(&b.2) } else { b.2.cmp(&a.2) })
    });
    let mut out = String::with_capacity(p.text.len() + 32);
    let mut last = 0;
    for (pos, _, _, m) in marks {
        if pos > last && pos <= p.text.len() && p.text.is_char_boundary(pos) {
            out.push_str(&p.text[last..pos]);
            last = pos;
        }
        out.push_str(&m);
    }
    out.push_str(&p.text[last..]);
    // Quotes: prefix their lines.
    let mut res = String::with_capacity(out.len());
    let mut in_quote = false;
    let mut line_start = true;
    for c in out.chars() {
        match c {
            '\u{1}' => {
                in_quote = true;
                if line_start {
                    res.push_str("│ ");
                }
            }
            '\u{2}' => in_quote = false,
            '\n' => {
                res.push('\n');
                line_start = true;
                continue;
            }
            c => {
                if line_start && in_quote && !res.ends_with("│ ") {
                    res.push_str("│ ");
                }
                res.push(c);
            }
        }
        line_start = false;
    }
    res
}

/// Show a Discord message.
pub fn discord(m: &DiscordMessage) -> String {
    let mut out = String::new();
    if let Some(c) = &m.content {
        out.push_str(&unescape_markdown(c));
        out.push('\n');
    }
    for e in &m.embeds {
        let mut lines: Vec<String> = Vec::new();
        if let Some(c) = e.color {
            lines.push(format!("[embed, colour #{c:06X}]"));
        }
        if let Some(a) = &e.author {
            lines.push(a.name.replace('\u{200B}', ""));
        }
        if let Some(t) = &e.title {
            let t = unescape_markdown(t);
            lines.push(match &e.url {
                Some(u) => format!("**{t}** ⟨{u}⟩"),
                None => format!("**{t}**"),
            });
        }
        if let Some(t) = &e.thumbnail {
            lines.push(format!("[thumbnail: {}]", t.url));
        }
        if let Some(d) = &e.description {
            lines.push(String::new());
            lines.extend(unescape_markdown(d).lines().map(str::to_string));
        }
        for f in &e.fields {
            lines.push(format!("{}: {}", f.name, f.value));
        }
        if let Some(i) = &e.image {
            lines.push(format!("[image: {}]", i.url));
        }
        let foot: Vec<String> = e
            .footer
            .iter()
            .map(|f| f.text.replace('\u{200B}', ""))
            .chain(e.timestamp.clone())
            .collect();
        if !foot.is_empty() {
            lines.push(foot.join(" · "));
        }
        for l in lines {
            out.push_str("┃ ");
            out.push_str(&l);
            out.push('\n');
        }
    }
    for row in &m.components {
        for b in &row.components {
            out.push_str(&format!("[button: {} → {}]\n", b.label, b.url));
        }
    }
    out.trim_end().to_string()
}

/// Show a stored payload of either platform (a serialised
/// [`TelegramMessage`] or [`DiscordMessage`]); other JSON is pretty-printed.
pub fn payload(v: &serde_json::Value) -> String {
    if v.get("method").is_some()
        && let Some(m) = TelegramMessage::from_payload(v)
    {
        return telegram(&m);
    }
    if (v.get("embeds").is_some() || v.get("content").is_some())
        && let Some(m) = DiscordMessage::from_payload(v)
    {
        return discord(&m);
    }
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::telegram::LinkPreviewOptions;

    #[test]
    fn preview_shows_both_platforms() {
        let post = Post {
            feed: "f".into(),
            title: "Hello *world*".into(),
            link: Some("https://x.example/a".into()),
            content_html: Some("<p>Body.</p>".into()),
            ..Post::default()
        };
        let p = preview(
            &post,
            &FeedRenderOptions::default(),
            &TargetFormat::default(),
        )
        .unwrap_or_default();
        assert!(
            p.contains("━━━━ Telegram ━━━━\n**Hello *world*** ⟨https://x.example/a⟩"),
            "{p}"
        );
        assert!(
            p.contains("━━━━ Discord ━━━━\n┃ **Hello *world*** ⟨https://x.example/a⟩"),
            "{p}"
        );
        assert!(p.contains("Body."));
    }

    #[test]
    fn markers() {
        let m = TelegramMessage {
            method: TelegramMethod::SendMessage,
            text: Some("<b>T <i>x</i></b> <a href=\"https://l.example/\">link</a>\n<blockquote>q1\nq2</blockquote>".into()),
            photo: None,
            audio: None,
            caption: None,
            media: None,
            parse_mode: Some("HTML".into()),
            link_preview_options: Some(LinkPreviewOptions::large("https://i.example/p.jpg", true)),
            reply_markup: None,
            fallback: None,
            telegraph: None,
        };
        assert_eq!(
            telegram(&m),
            "[link preview above: https://i.example/p.jpg]\n**T _x_** link ⟨https://l.example/⟩\n│ q1\n│ q2"
        );
    }
}
