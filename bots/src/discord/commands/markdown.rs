//! An editor's Discord markdown (`/post`) as the formatter's HTML.
//!
//! Discord's markdown is CommonMark's inline syntax laid out on lines:
//! every line break shows, and only a few line forms exist (`# `, `## `,
//! `### ` headings, `> ` quotes, ```` ``` ```` code blocks, which may start
//! mid-line). So the lines are sorted here, and each run of other lines is
//! parsed by pulldown-cmark with CommonMark's other block forms made text
//! (lists, thematic breaks, setext headings, indented code, HTML blocks,
//! link reference definitions: Discord shows them as typed). On top, what
//! Discord means differently: `__x__` is underline (CommonMark: strong),
//! `||x||` a spoiler. Raw HTML and entities stay text; only http(s) links
//! become links.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

use crate::format::text::escape_attr;

/// Placeholders of the set-aside code blocks (private-use characters,
/// removed from the input first).
const KEEP_OPEN: char = '\u{E000}';
const KEEP_CLOSE: char = '\u{E001}';
const SPOILER_OPEN: &str = "<span class=\"tg-spoiler\">";
const SPOILER_CLOSE: &str = "</span>";

/// An editor's Discord markdown as the formatter's HTML (bold, italic,
/// underline, strike, spoiler, code, code blocks, links, quotes, headings;
/// `\` escapes). Anything else stays text.
pub fn markdown_html(md: &str) -> String {
    let mut kept: Vec<String> = Vec::new();
    let text = set_aside_code_blocks(md, &mut kept);
    // Items joined by line breaks: runs of ordinary lines, headings, quotes.
    let mut items: Vec<String> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    let mut quote: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let t = line.trim_start();
        if let Some(q) = t.strip_prefix("> ") {
            if !body.is_empty() {
                items.push(paragraphs(&std::mem::take(&mut body)));
            }
            quote.push(q);
            continue;
        }
        if !quote.is_empty() {
            items.push(format!(
                "<blockquote>{}</blockquote>",
                paragraphs(&std::mem::take(&mut quote))
            ));
        }
        match ["### ", "## ", "# "].iter().find_map(|h| t.strip_prefix(h)) {
            Some(h) => {
                if !body.is_empty() {
                    items.push(paragraphs(&std::mem::take(&mut body)));
                }
                items.push(format!("<b>{}</b>", inline(&[h])));
            }
            None => body.push(line),
        }
    }
    if !body.is_empty() {
        items.push(paragraphs(&body));
    }
    if !quote.is_empty() {
        items.push(format!("<blockquote>{}</blockquote>", paragraphs(&quote)));
    }
    let html = items
        .join("<br>")
        .replace("</blockquote><br>", "</blockquote>");
    restore(&html, &kept)
}

/// ```` ```code``` ```` blocks as placeholders, their HTML in `kept`.
fn set_aside_code_blocks(md: &str, kept: &mut Vec<String>) -> String {
    let mut text = String::with_capacity(md.len());
    let mut rest = md.replace([KEEP_OPEN, KEEP_CLOSE], "");
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
        kept.push(format!("<pre>{}</pre>", escape_attr(code.trim_end())));
        text.push(KEEP_OPEN);
        text.push_str(&(kept.len() - 1).to_string());
        text.push(KEEP_CLOSE);
        rest = after[end + 3..].to_string();
    }
    text.push_str(&rest);
    text
}

/// The set-aside pieces put back.
fn restore(html: &str, kept: &[String]) -> String {
    let mut done = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(KEEP_OPEN) {
        done.push_str(&rest[..i]);
        let tail = &rest[i + KEEP_OPEN.len_utf8()..];
        let Some(j) = tail.find(KEEP_CLOSE) else {
            rest = tail;
            continue;
        };
        if let Some(piece) = tail[..j].parse::<usize>().ok().and_then(|n| kept.get(n)) {
            done.push_str(piece);
        }
        rest = &tail[j + KEEP_CLOSE.len_utf8()..];
    }
    done.push_str(rest);
    done
}

/// Lines as HTML: runs of non-blank lines parsed together (a span may
/// cross their line breaks), blank lines kept.
fn paragraphs(lines: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for l in lines {
        if l.trim().is_empty() {
            if !run.is_empty() {
                out.push(inline(&std::mem::take(&mut run)));
            }
            out.push(String::new());
        } else {
            run.push(l);
        }
    }
    if !run.is_empty() {
        out.push(inline(&run));
    }
    out.join("<br>")
}

/// A line with any CommonMark block form at its start escaped, so that
/// the run it is in stays one paragraph. Only characters that mean nothing
/// inline there are escaped (a leading `*italic*` stays).
fn neutralise(line: &str) -> String {
    let t = line.trim_start();
    let Some(first) = t.chars().next() else {
        return String::new();
    };
    // `***`, `___`, `* * *`: thematic breaks.
    let only = |c: char| {
        t.chars().filter(|&x| x == c).count() >= 3
            && t.chars().all(|x| x == c || x == ' ' || x == '\t')
    };
    let after_first = &t[first.len_utf8()..];
    let escape_first = match first {
        // Headings, quotes, bullets, setext underlines, HTML blocks.
        '#' | '>' | '-' | '+' | '=' | '<' => true,
        '*' => only('*') || after_first.is_empty() || after_first.starts_with([' ', '\t']),
        '_' => only('_'),
        // An unmatched code fence.
        '`' => t.starts_with("```"),
        '~' => t.starts_with("~~~"),
        // `[label]: url`, a link reference definition.
        '[' => after_first
            .find(']')
            .is_some_and(|i| after_first[i + 1..].starts_with(':')),
        _ => false,
    };
    if escape_first {
        return format!("\\{t}");
    }
    // `1.` or `1)`: an ordered list item.
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &t[digits..];
        if let Some(after) = rest.strip_prefix(['.', ')'])
            && (after.is_empty() || after.starts_with([' ', '\t']))
        {
            return format!("{}\\{rest}", &t[..digits]);
        }
    }
    t.to_string()
}

/// A run of lines (no blank line, no line form) as inline HTML.
fn inline(lines: &[&str]) -> String {
    let src = lines
        .iter()
        .map(|l| neutralise(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut w = Writer {
        src: &src,
        out: String::with_capacity(src.len() + 16),
        frames: vec![Frame::default()],
        skip: 0,
    };
    for (event, range) in Parser::new_ext(&src, Options::ENABLE_STRIKETHROUGH).into_offset_iter() {
        w.event(event, range);
    }
    while w.frames.len() > 1 {
        w.close();
    }
    w.out
}

/// An open element: its closing tag and a `||` waiting for its pair.
#[derive(Default)]
struct Frame {
    close: String,
    spoiler: Option<usize>,
}

struct Writer<'a> {
    src: &'a str,
    out: String,
    frames: Vec<Frame>,
    /// Inside a link shown as its text: the depth of nested elements.
    skip: usize,
}

impl Writer<'_> {
    fn source(&self, r: &Range<usize>) -> &str {
        self.src.get(r.clone()).unwrap_or("")
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        if self.skip > 0 {
            match event {
                Event::Start(_) => self.skip += 1,
                Event::End(_) => self.skip -= 1,
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
            Event::Start(tag) => self.open(tag, &range),
            Event::End(_) => self.close(),
            Event::Text(t) => self.text(&t, &range),
            Event::Code(t) => {
                self.out.push_str("<code>");
                self.out.push_str(&escape_attr(&t));
                self.out.push_str("</code>");
            }
            Event::Html(t) | Event::InlineHtml(t) => self.out.push_str(&escape_attr(&t)),
            Event::SoftBreak => self.out.push_str("<br>"),
            // A line ending in `\`: Discord shows the backslash.
            Event::HardBreak if self.source(&range).starts_with('\\') => {
                self.out.push_str("\\<br>");
            }
            Event::HardBreak => self.out.push_str("<br>"),
            // Not parsed with these options; shown as typed if ever.
            _ => {
                let s = escape_attr(self.source(&range));
                self.out.push_str(&s);
            }
        }
    }

    fn open(&mut self, tag: Tag<'_>, range: &Range<usize>) {
        let at = self.source(range);
        let http = |url: &str| {
            let l = url.get(..8).unwrap_or(url).to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("https://")
        };
        let (open, close) = match tag {
            Tag::Emphasis => ("<i>".to_string(), "</i>"),
            // Discord: `__x__` underlines.
            Tag::Strong if at.starts_with("__") => ("<u>".into(), "</u>"),
            Tag::Strong => ("<b>".into(), "</b>"),
            Tag::Strikethrough if at.starts_with("~~") => ("<s>".into(), "</s>"),
            // A single `~` means nothing on Discord.
            Tag::Strikethrough => ("~".into(), "~"),
            Tag::Link {
                link_type: LinkType::Inline,
                dest_url,
                ..
            } if http(&dest_url) => (format!("<a href=\"{}\">", escape_attr(&dest_url)), "</a>"),
            Tag::Image {
                link_type: LinkType::Inline,
                dest_url,
                ..
            } if http(&dest_url) => (format!("!<a href=\"{}\">", escape_attr(&dest_url)), "</a>"),
            // Other links (autolinks, other schemes, references) as typed.
            Tag::Link { .. } | Tag::Image { .. } => {
                let s = escape_attr(at);
                self.out.push_str(&s);
                self.skip = 1;
                return;
            }
            _ => (String::new(), ""),
        };
        self.out.push_str(&open);
        self.frames.push(Frame {
            close: close.to_string(),
            spoiler: None,
        });
    }

    fn close(&mut self) {
        if self.frames.len() > 1
            && let Some(f) = self.frames.pop()
        {
            // An unpaired `||` stays as typed.
            self.out.push_str(&f.close);
        }
    }

    fn text(&mut self, t: &str, range: &Range<usize>) {
        let source = self.source(range);
        if source != t {
            // An entity stays as typed (Discord shows `&amp;` so); an
            // escaped character is text, never a spoiler mark.
            let s = if source.starts_with('&') && source.ends_with(';') {
                escape_attr(source)
            } else {
                escape_attr(t)
            };
            self.out.push_str(&s);
            return;
        }
        let mut rest = t;
        while let Some(i) = rest.find("||") {
            self.out.push_str(&escape_attr(&rest[..i]));
            self.spoiler_mark();
            rest = &rest[i + 2..];
        }
        self.out.push_str(&escape_attr(rest));
    }

    /// A `||`: opens a spoiler, or closes the one open in this element.
    fn spoiler_mark(&mut self) {
        let len = self.out.len();
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        match frame.spoiler {
            Some(at) if len > at + 2 => {
                self.out.replace_range(at..at + 2, SPOILER_OPEN);
                self.out.push_str(SPOILER_CLOSE);
                frame.spoiler = None;
            }
            _ => {
                frame.spoiler = Some(len);
                self.out.push_str("||");
            }
        }
    }
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

    #[test]
    fn underline_and_spoilers_are_discords() {
        assert_eq!(
            markdown_html("__under__ and ||secret|| and ||**bold** too||"),
            "<u>under</u> and <span class=\"tg-spoiler\">secret</span> and \
             <span class=\"tg-spoiler\"><b>bold</b> too</span>"
        );
        // `___x___`: underlined italics; `***x***`: bold italics.
        assert_eq!(markdown_html("___x___"), "<i><u>x</u></i>");
        assert_eq!(markdown_html("***x***"), "<i><b>x</b></i>");
        // Across a line break, inside a quote.
        assert_eq!(
            markdown_html("||a\nb||"),
            "<span class=\"tg-spoiler\">a<br>b</span>"
        );
        assert_eq!(
            markdown_html("> the end: ||he lives||"),
            "<blockquote>the end: <span class=\"tg-spoiler\">he lives</span></blockquote>"
        );
        // Unpaired, empty, escaped or crossing another span: as typed.
        assert_eq!(markdown_html("a || b"), "a || b");
        assert_eq!(markdown_html("a |||| b"), "a |||| b");
        assert_eq!(markdown_html("\\|\\|x\\|\\|"), "||x||");
        assert_eq!(markdown_html("||a **b|| c**"), "||a <b>b|| c</b>");
        assert_eq!(markdown_html("`||code||`"), "<code>||code||</code>");
        // A single `~` means nothing on Discord.
        assert_eq!(markdown_html("~a~ ~~b~~"), "~a~ <s>b</s>");
    }

    #[test]
    fn text_that_is_not_markdown_stays_as_typed() {
        assert_eq!(
            markdown_html("2 * 3 * 4 = 24, 5*6, a_b_c, x < y > z, \"q\" & r"),
            "2 * 3 * 4 = 24, 5*6, a_b_c, x &lt; y &gt; z, &quot;q&quot; &amp; r"
        );
        // HTML, entities, mentions, emoji and timestamps are text.
        assert_eq!(
            markdown_html("<b>not bold</b> <!-- c --> AT&amp;T &copy; <@123> <#4> <:e:5> <t:6:R>"),
            "&lt;b&gt;not bold&lt;/b&gt; &lt;!-- c --&gt; AT&amp;amp;T &amp;copy; \
             &lt;@123&gt; &lt;#4&gt; &lt;:e:5&gt; &lt;t:6:R&gt;"
        );
        // CommonMark's block forms that Discord does not have, line by line.
        assert_eq!(
            markdown_html(
                "- one\n* two\n+ three\n1. four\n2) five\n---\n***\n___\n    indented\n\
                 <div>x</div>\n[a]: https://x.example\nTitle\n===\n~~~\n#### four\n>>> not quoted"
            ),
            "- one<br>* two<br>+ three<br>1. four<br>2) five<br>---<br>***<br>___<br>indented<br>\
             &lt;div&gt;x&lt;/div&gt;<br>[a]: https://x.example<br>Title<br>===<br>~~~<br>\
             #### four<br>&gt;&gt;&gt; not quoted"
        );
        // Blank lines show; a line-leading `*italic*` is still italic.
        assert_eq!(markdown_html("a\n\n\n*b*\n"), "a<br><br><br><i>b</i><br>");
        // Only http(s) links; autolinks and other schemes as typed.
        assert_eq!(
            markdown_html(
                "<https://x.example> [x](javascript:alert(1)) [r][1] ![pic](https://x.example/p.png)"
            ),
            "&lt;https://x.example&gt; [x](javascript:alert(1)) [r][1] \
             !<a href=\"https://x.example/p.png\">pic</a>"
        );
        assert_eq!(
            markdown_html("[a \"q\"](https://x.example/?a=1&b=\"2\")"),
            "<a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">a &quot;q&quot;</a>"
        );
        assert_eq!(markdown_html(""), "");
        // Placeholder characters typed by the editor are dropped, not
        // taken for set-aside code.
        assert_eq!(markdown_html("a\u{E000}0\u{E001}b"), "a0b");
    }

    #[test]
    fn spoilers_and_underlines_reach_both_platforms() {
        use crate::format::{FeedRenderOptions, TargetFormat};
        let html = markdown_html("The end: ||he lives|| and __that__ matters");
        let post = crate::model::Post {
            feed: "editor".into(),
            summary_html: Some(html.clone()),
            content_html: Some(html),
            ..Default::default()
        };
        let (feed, fmt) = (FeedRenderOptions::default(), TargetFormat::default());
        let tg: String = crate::format::telegram::render(&post, &feed, &fmt)
            .expect("telegram")
            .iter()
            .map(|m| m.to_part().payload.to_string())
            .collect();
        assert!(tg.contains("<tg-spoiler>he lives</tg-spoiler>"), "{tg}");
        assert!(tg.contains("<u>that</u>"), "{tg}");
        let dc: String = crate::format::discord::render(&post, &feed, &fmt)
            .expect("discord")
            .iter()
            .map(|m| m.to_part().payload.to_string())
            .collect();
        assert!(dc.contains("||he lives||"), "{dc}");
        assert!(dc.contains("__that__"), "{dc}");
    }
}
