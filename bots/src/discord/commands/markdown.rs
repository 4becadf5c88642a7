//! An editor's Discord markdown (`/post`) as the formatter's HTML.

use std::sync::OnceLock;

/// An editor's Discord markdown as the formatter's HTML (bold, italic,
/// underline, strike, code, code blocks, links, quotes, headings; `\`
/// escapes). Anything else stays text.
pub fn markdown_html(md: &str) -> String {
    use regex::Regex;
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (
                r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)",
                r#"<a href="$2">$1</a>"#,
            ),
            (r"(?s)\*\*(.+?)\*\*", "<b>$1</b>"),
            (r"(?s)__(.+?)__", "<u>$1</u>"),
            (r"(?s)~~(.+?)~~", "<s>$1</s>"),
            (r"(?s)\|\|(.+?)\|\|", "$1"),
            (r"\*([^*\n]+)\*", "<i>$1</i>"),
            (r"(^|[^\w])_([^_\n]+)_($|[^\w])", "$1<i>$2</i>$3"),
        ]
        .into_iter()
        .filter_map(|(re, to)| Regex::new(re).ok().map(|r| (r, to)))
        .collect()
    });
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    // Code and escaped characters are set aside first (as private-use
    // placeholders), so that no rule touches them.
    let mut kept: Vec<String> = Vec::new();
    let keep = |html: String, kept: &mut Vec<String>| -> String {
        kept.push(html);
        format!("\u{E000}{}\u{E001}", kept.len() - 1)
    };
    let mut text = String::with_capacity(md.len());
    let mut rest = md.replace(['\u{E000}', '\u{E001}'], "");
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("```") else { break };
        let mut code = &after[..end];
        // ```lang\n…```: drop the language line.
        if let Some((first, body)) = code.split_once('\n')
            && !first.contains(' ')
        {
            code = body;
        }
        text.push_str(&rest[..start]);
        let placeholder = keep(format!("<pre>{}</pre>", esc(code.trim_end())), &mut kept);
        text.push_str(&placeholder);
        rest = after[end + 3..].to_string();
    }
    text.push_str(&rest);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_punctuation()) => {
                let n = chars.next().unwrap_or('\\');
                out.push_str(&keep(esc(&n.to_string()), &mut kept));
            }
            '`' => {
                let code: String = chars.clone().take_while(|&x| x != '`').collect();
                if chars.clone().nth(code.chars().count()) == Some('`') && !code.is_empty() {
                    for _ in 0..=code.chars().count() {
                        chars.next();
                    }
                    out.push_str(&keep(format!("<code>{}</code>", esc(&code)), &mut kept));
                } else {
                    out.push('`');
                }
            }
            _ => out.push(c),
        }
    }
    let mut html = esc(&out);
    for (re, to) in rules {
        html = re.replace_all(&html, *to).into_owned();
    }
    // Line forms: headings (bold), quotes, then line breaks.
    let mut lines: Vec<String> = Vec::new();
    let mut quote: Vec<String> = Vec::new();
    for line in html.split('\n') {
        let t = line.trim_start();
        if let Some(q) = t.strip_prefix("&gt; ") {
            quote.push(q.to_string());
            continue;
        }
        if !quote.is_empty() {
            lines.push(format!(
                "<blockquote>{}</blockquote>",
                std::mem::take(&mut quote).join("<br>")
            ));
        }
        let heading = ["### ", "## ", "# "].iter().find_map(|h| t.strip_prefix(h));
        match heading {
            Some(h) => lines.push(format!("<b>{h}</b>")),
            None => lines.push(line.to_string()),
        }
    }
    if !quote.is_empty() {
        lines.push(format!("<blockquote>{}</blockquote>", quote.join("<br>")));
    }
    let mut html = lines.join("<br>");
    html = html.replace("</blockquote><br>", "</blockquote>");
    // Put the set-aside pieces back.
    let mut done = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(i) = rest.find('\u{E000}') {
        done.push_str(&rest[..i]);
        let tail = &rest[i + '\u{E000}'.len_utf8()..];
        let Some(j) = tail.find('\u{E001}') else {
            rest = tail;
            continue;
        };
        if let Some(piece) = tail[..j].parse::<usize>().ok().and_then(|n| kept.get(n)) {
            done.push_str(piece);
        }
        rest = &tail[j + '\u{E001}'.len_utf8()..];
    }
    done.push_str(rest);
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_the_formatters_html() {
        assert_eq!(
            markdown_html("**Breaking**: the *bridge* is `open`"),
            "<b>Breaking</b>: the <i>bridge</i> is <code>open</code>"
        );
        assert_eq!(
            markdown_html("__u__ ~~s~~ _i_ snake_case [site](https://x.example/a_b)"),
            "<u>u</u> <s>s</s> <i>i</i> snake_case <a href=\"https://x.example/a_b\">site</a>"
        );
        assert_eq!(markdown_html("a < b & \\*c\\*"), "a &lt; b &amp; *c*");
        assert_eq!(
            markdown_html("# Title\n> quoted\n> more\nafter"),
            "<b>Title</b><br><blockquote>quoted<br>more</blockquote>after"
        );
        assert_eq!(
            markdown_html("```rust\nlet **x** = 1;\n```"),
            "<pre>let **x** = 1;</pre>"
        );
    }
}
