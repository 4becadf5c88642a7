//! Repairs of feed text before it is formatted: double-encoded entities
//! (`&amp;#8230;`), mojibake (UTF-8 read as Windows-1252: `Russiaâ€™s`),
//! and theme "read more" tails at the end of excerpts.
//!
//! Every repair is conservative: text is changed only where the damage is
//! unambiguous, and otherwise left as it is.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::rich::{self, Block, Span};

/// Named entities a double-escaped feed leaves behind (`&amp;hellip;`),
/// with their characters. Only these (and numeric references) are undone;
/// `&lt;` and `&gt;` are not: text about markup shows them on purpose.
const NAMED: &[(&str, &str)] = &[
    ("amp", "&"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("rarr", "→"),
    ("larr", "←"),
    ("middot", "·"),
    ("bull", "•"),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("eacute", "é"),
    ("egrave", "è"),
    ("agrave", "à"),
    ("ccedil", "ç"),
    ("ouml", "ö"),
    ("uuml", "ü"),
    ("auml", "ä"),
    ("szlig", "ß"),
];

fn entity_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
            .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

/// The character(s) an entity body (`#8230`, `#x2026`, `hellip`) stands
/// for, when it is one Crier undoes.
fn entity_value(body: &str) -> Option<Cow<'static, str>> {
    if let Some(num) = body.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        let c = char::from_u32(n).filter(|c| *c != '\0' && (!c.is_control() || *c == '\n'))?;
        return Some(Cow::Owned(c.to_string()));
    }
    NAMED
        .iter()
        .find(|(n, _)| *n == body)
        .map(|(_, v)| Cow::Borrowed(*v))
}

/// Plain text that still shows entities (a title or a text node of a feed
/// that escaped twice: `Tom &amp; Jerry`, `Wait&#8230;`): the entities are
/// decoded. Unknown names (`&foo;`) are left as they are.
pub(crate) fn decode_leftover_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut cur: Cow<'_, str> = Cow::Borrowed(text);
    // `&amp;amp;#8230;` needs a few rounds; each one only shrinks the text.
    for _ in 0..3 {
        let mut changed = false;
        let next =
            entity_re().replace_all(&cur, |c: &regex::Captures<'_>| match entity_value(&c[1]) {
                Some(v) => {
                    changed = true;
                    v.into_owned()
                }
                None => c[0].to_string(),
            });
        if !changed {
            break;
        }
        cur = Cow::Owned(next.into_owned());
    }
    cur
}

/// The byte Windows-1252 (or Latin-1, for the C1 controls) encodes `c`
/// as, if any.
fn cp1252_byte(c: char) -> Option<u8> {
    let n = c as u32;
    if n < 0x80 || (0xA0..=0xFF).contains(&n) || (0x80..=0x9F).contains(&n) {
        return u8::try_from(n).ok();
    }
    const HIGH: &[(char, u8)] = &[
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    HIGH.iter().find(|(h, _)| *h == c).map(|(_, b)| *b)
}

/// Repairs one run of non-ASCII characters: its Windows-1252 bytes must
/// be valid UTF-8 made only of multi-byte sequences (so a real word in a
/// Latin script never matches: `café` is `caf` + 0xE9, not UTF-8).
fn repair_run(run: &str) -> Option<String> {
    let bytes: Vec<u8> = run.chars().map(cp1252_byte).collect::<Option<_>>()?;
    let s = std::str::from_utf8(&bytes).ok()?;
    (s.chars().count() < run.chars().count()).then(|| s.to_string())
}

/// Mojibake repair (ftfy's core case): text that was UTF-8, decoded as
/// Windows-1252 or Latin-1 (once or twice). Each run of non-ASCII
/// characters that looks damaged (it holds a UTF-8 lead byte shape: `Ã`,
/// `Â`, `â` followed by a continuation character) is re-encoded and
/// decoded as UTF-8, and replaced only when that gives valid UTF-8 made
/// of multi-byte characters only; other runs are left as they are.
pub(crate) fn fix_mojibake(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(is_lead) {
        return Cow::Borrowed(text);
    }
    let mut cur = text.to_string();
    for _ in 0..2 {
        match repair_once(&cur) {
            Some(next) => cur = next,
            None => break,
        }
    }
    if cur == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(cur)
    }
}

/// Characters that stand for a UTF-8 lead byte in Windows-1252 text.
fn is_lead(c: char) -> bool {
    matches!(c as u32, 0xC2..=0xF4)
}

fn repair_once(text: &str) -> Option<String> {
    let closing_quote_expected = text.contains("â€œ");
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String, changed: &mut bool| -> Option<()> {
        if run.is_empty() {
            return Some(());
        }
        let damaged = {
            let mut it = run.chars().peekable();
            let mut d = false;
            while let Some(c) = it.next() {
                if is_lead(c)
                    && it
                        .peek()
                        .and_then(|n| cp1252_byte(*n))
                        .is_some_and(|b| (0x80..=0xBF).contains(&b))
                {
                    d = true;
                }
            }
            d
        };
        if damaged {
            // A run that does not repair is left as it is (the others
            // are still repaired: each run is judged on its own).
            match repair_run(run) {
                Some(fixed) => {
                    out.push_str(&fixed);
                    *changed = true;
                }
                None if run == "â€" && closing_quote_expected => {
                    // `”` is E2 80 9D; 0x9D has no Windows-1252 character
                    // and is usually lost. After a repaired `“` (â€œ),
                    // the lone `â€` is its closing quote.
                    out.push('”');
                    *changed = true;
                }
                None => out.push_str(run),
            }
        } else {
            out.push_str(run);
        }
        run.clear();
        Some(())
    };
    for c in text.chars() {
        if c.is_ascii() {
            flush(&mut run, &mut out, &mut changed)?;
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out, &mut changed)?;
    changed.then_some(out)
}

/// How many characters from a paragraph's end a tail may start: more
/// than the longest the pattern below can match (its open-ended parts are
/// bounded at 300 + 300 characters plus a few words).
const TAIL_WINDOW: usize = 1500;

/// A theme's "read more" tail at the end of an excerpt: `… Read More Here
/// →`, `Continue reading →`, `Read more »`, `[…]`, `(more…)`, `Click
/// here to read more`, and WordPress's "The post … appeared first on …"
/// (and its translations) run into the same paragraph.
fn tail_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
            (?:
              \s*(?:\[\s*(?:…|\.\.\.|&\#8230;|&hellip;)\s*\])
            | \s*(?:…|\.\.\.)?\s*
              (?:read\s+more(?:\s+here)?|continue\s+reading|keep\s+reading|read\s+the\s+(?:full|rest)(?:\s+(?:article|story|post))?|read\s+full\s+(?:article|story|post)|lire\s+la\s+suite|weiterlesen|leer\s+m[aá]s|leggi\s+tutto|le[ri]a?\s+mais|lees\s+meer|czytaj\s+dalej|devam[ıi]n[ıi]\s+oku|читать\s+далее|подробнее|اقرأ\s+المزيد|続きを読む|阅读更多|閱讀更多|קרא\s+עוד)
              (?:\s+[^\s→»›>]{1,40}){0,8}?
              \s*(?:→|»|›|>>|&rarr;|\.\.\.|…)?
            | \s*\(\s*more\s*(?:…|\.\.\.)?\s*\)
            | \s*\[\s*(?:more|read\s+more)\s*\]
            | \s*(?:…|\.\.\.)?\s*click\s+here\s+to\s+(?:read|continue)(?:\s+(?:more|reading|the\s+(?:full|rest)(?:\s+(?:article|story|post))?))?
            | \s*the\s+post\s+[^.!?]{1,300}?\s+appeared\s+first\s+on\s+\S.{0,200}?
            | \s*(?:l[’']article|der\s+beitrag|la\s+entrada|l[’']articolo|o\s+post|het\s+bericht|запись)\s+[^.!?]{1,300}?\s+(?:est\s+apparu\s+en\s+premier\s+sur|erschien\s+zuerst\s+auf|(?:se\s+publicó|aparece|apareció)\s+primero\s+en|proviene\s+da|apareceu\s+primeiro\s+(?:em|no|na)|verscheen\s+eerst\s+op|впервые\s+появилась\s+(?:на|в))\s+\S.{0,200}?
            | \s*\|?\s*submitted\s+by\s+\S{1,60}\s*\[link\]\s*\[comments\]
            | \s*[^.!?]{1,300}?\s+was\s+originally\s+published\s+(?:in|on)\s+\S.{0,300}?
            )
            [\s.]*$",
        )
        .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

/// The verbs of WordPress's "The post … appeared first on …" footer, in
/// the languages WordPress ships it in.
const FIRST_ON: &[&str] = &[
    "appeared first on",
    "est apparu en premier sur",
    "erschien zuerst auf",
    "primero en",
    "proviene da",
    "apareceu primeiro",
    "verscheen eerst op",
    "впервые появилась",
];

/// Where a paragraph's "read more" tail starts (a byte offset in its
/// plain text), if it has one. A tail must either be linked or end in an
/// arrow / ellipsis / "appeared first on", so a sentence that merely ends
/// with the words "read more" is kept.
fn tail_start(spans: &[Span]) -> Option<usize> {
    let text: String = spans.iter().map(|s| s.text.as_str()).collect();
    // A tail is a few hundred characters at most: look only at the end of
    // the paragraph (the pattern scans every start position, which costs
    // seconds on a 1 MB paragraph), from a character boundary.
    let from = text
        .char_indices()
        .rev()
        .nth(TAIL_WINDOW)
        .map_or(0, |(i, _)| i);
    let m = tail_re().find_at(&text, from)?;
    let tail = m.as_str().trim();
    let lower = tail.to_lowercase();
    // Linked: the span holding the tail's first word is a link.
    let first = m.start()
        + m.as_str()
            .find(char::is_alphanumeric)
            .unwrap_or(m.as_str().len() - m.as_str().trim_start().len());
    let linked = {
        let mut pos = 0;
        let mut linked = false;
        for s in spans {
            let end = pos + s.text.len();
            if end > first {
                linked = s.link.is_some();
                break;
            }
            pos = end;
        }
        linked
    };
    let marked = lower.starts_with('[')
        || lower.starts_with("(more")
        || lower.contains("click here to")
        || FIRST_ON.iter().any(|v| lower.contains(v))
        || lower.contains("originally published")
        || lower.ends_with("[comments]")
        || ["→", "»", "›", ">>", "…", "...", "&rarr;"]
            .iter()
            .any(|a| lower.ends_with(a));
    (linked || marked).then_some(m.start())
}

/// Cut `spans` at byte offset `at` of their joined text.
fn cut_spans(spans: &mut Vec<Span>, at: usize) {
    let mut pos = 0;
    let mut keep = 0;
    for s in spans.iter_mut() {
        let end = pos + s.text.len();
        if end <= at {
            keep += 1;
            pos = end;
            continue;
        }
        let local = at - pos;
        if local > 0 {
            let mut i = local.min(s.text.len());
            while !s.text.is_char_boundary(i) {
                i -= 1;
            }
            s.text.truncate(i);
            keep += 1;
        }
        break;
    }
    spans.truncate(keep);
    rich::trim_spans(spans);
}

/// Removes "read more" tails from the end of the last text block (and
/// blocks that are nothing but such a tail, anywhere). Returns whether
/// the last block lost a tail (the text was cut short: the caller ends it
/// with "…").
pub(crate) fn strip_read_more(blocks: &mut Vec<Block>) -> bool {
    blocks.retain(|b| match b.spans() {
        Some(spans) if b.text_len() <= 500 => {
            tail_start(spans) != Some(0) || spans.iter().all(|s| s.text.trim().is_empty())
        }
        _ => true,
    });
    let Some(last) = blocks
        .iter_mut()
        .rev()
        .find(|b| b.spans().is_some_and(|s| !s.is_empty()))
    else {
        return false;
    };
    let Some(spans) = last.spans_mut() else {
        return false;
    };
    match tail_start(spans) {
        Some(at) if at > 0 => {
            cut_spans(spans, at);
            true
        }
        _ => false,
    }
}

/// Removes list items that are nothing but a link ("• Space news:
/// latest"): in an excerpt they are the site's navigation, not the
/// article's text.
pub(crate) fn drop_link_lists(blocks: &mut Vec<Block>) {
    blocks.retain(|b| match b {
        Block::ListItem { .. } => !b.spans().is_some_and(|spans| {
            spans.iter().any(|s| s.link.is_some())
                && spans
                    .iter()
                    .all(|s| s.link.is_some() || s.text.trim().is_empty())
        }),
        _ => true,
    });
}

/// Decodes leftover entities and repairs mojibake in every span.
pub(crate) fn repair_blocks(blocks: &mut [Block]) {
    for b in blocks.iter_mut() {
        match b {
            Block::Image { alt, .. } => {
                if let Cow::Owned(s) = repair_text(alt) {
                    *alt = s;
                }
            }
            Block::Code { .. } => {}
            _ => {
                if let Some(spans) = b.spans_mut() {
                    for s in spans.iter_mut() {
                        if let Cow::Owned(t) = repair_text(&s.text) {
                            s.text = t;
                        }
                    }
                }
            }
        }
    }
}

/// [`fix_mojibake`] then [`decode_leftover_entities`] on plain text.
pub(crate) fn repair_text(text: &str) -> Cow<'_, str> {
    match fix_mojibake(text) {
        Cow::Borrowed(b) => decode_leftover_entities(b),
        Cow::Owned(o) => Cow::Owned(decode_leftover_entities(&o).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(spans: Vec<Span>) -> Block {
        Block::Paragraph(spans)
    }

    fn linked(t: &str) -> Span {
        Span {
            text: t.into(),
            style: rich::Style::PLAIN,
            link: Some("https://x.example/a".into()),
        }
    }

    #[test]
    fn mojibake_is_repaired_when_unambiguous() {
        assert_eq!(fix_mojibake("Russiaâ€™s war"), "Russia’s war");
        assert_eq!(fix_mojibake("naÃ¯ve cafÃ©"), "naïve café");
        // Twice decoded.
        assert_eq!(fix_mojibake("RussiaÃ¢â‚¬â„¢s"), "Russia’s");
        // Real text is left alone.
        for ok in [
            "café déjà vu",
            "Ça va? Â is a letter",
            "Straße – “quoted” …",
            "Москва",
            "שלום עולם",
            "日本語",
        ] {
            assert_eq!(fix_mojibake(ok), ok);
        }
        // A damaged run that does not repair is left as it is.
        assert_eq!(fix_mojibake("cafÃ©Ã x naÃ¯ve"), "cafÃ©Ã x naïve");
        // The closing quote whose last byte was lost.
        assert_eq!(fix_mojibake("â€œWe act,â€ he said"), "“We act,” he said");
    }

    #[test]
    fn leftover_entities_are_decoded() {
        assert_eq!(
            decode_leftover_entities("Wait&#8230; Tom &amp;amp; Jerry"),
            "Wait… Tom & Jerry"
        );
        assert_eq!(
            decode_leftover_entities("a &foo; b &#0; c"),
            "a &foo; b &#0; c"
        );
        assert_eq!(decode_leftover_entities("&amp;lt;b&amp;gt;"), "&lt;b&gt;");
    }

    #[test]
    fn read_more_tails_are_cut() {
        let mut b = vec![para(vec![
            Span::plain("The council met today to decide. "),
            linked("Read More Here →"),
        ])];
        assert!(strip_read_more(&mut b));
        assert_eq!(b[0].plain_text(), "The council met today to decide.");

        let mut b = vec![para(vec![Span::plain("Prices rose again [&#8230;]")])];
        assert!(strip_read_more(&mut b));
        assert_eq!(b[0].plain_text(), "Prices rose again");

        let mut b = vec![para(vec![Span::plain(
            "A short excerpt. The post Big News appeared first on Example Site.",
        )])];
        assert!(strip_read_more(&mut b));
        assert_eq!(b[0].plain_text(), "A short excerpt.");

        let mut b = vec![
            para(vec![Span::plain("Body text.")]),
            para(vec![linked("Continue reading →")]),
        ];
        assert!(!strip_read_more(&mut b));
        assert_eq!(b.len(), 1);

        // The link after an ellipsis, in other languages too.
        for tail in ["Lire la suite", "اقرأ المزيد", "Читать далее"] {
            let mut b = vec![para(vec![Span::plain("Texte coupé… "), linked(tail)])];
            assert!(strip_read_more(&mut b), "{tail}");
            // (the summary puts one clean "…" back)
            assert_eq!(b[0].plain_text(), "Texte coupé");
        }

        // Medium's footer.
        let mut b = vec![
            para(vec![Span::plain("Body text.")]),
            para(vec![
                linked("What I learned"),
                Span::plain(" was originally published in "),
                linked("Builders"),
                Span::plain(
                    " on Medium, where people are continuing the conversation by highlighting and responding to this story.",
                ),
            ]),
        ];
        strip_read_more(&mut b);
        assert_eq!(b.len(), 1);

        // WordPress's "(more…)", "Click here to read more", and the
        // "appeared first on" footer in other languages.
        for (text, kept) in [
            (
                "Opening hours change in May. (more…)",
                "Opening hours change in May.",
            ),
            (
                "Opening hours change in May. [more]",
                "Opening hours change in May.",
            ),
            (
                "Opening hours change in May. Click here to read more",
                "Opening hours change in May.",
            ),
            (
                "Le conseil a voté. L’article Le tram arrive est apparu en premier sur Le Quotidien.",
                "Le conseil a voté.",
            ),
            (
                "Der Rat hat entschieden. Der Beitrag Neue Tram erschien zuerst auf Stadtblatt.",
                "Der Rat hat entschieden.",
            ),
            (
                "El consejo votó. La entrada Nuevo tranvía se publicó primero en Diario Sur.",
                "El consejo votó.",
            ),
            (
                "Совет проголосовал. Запись Новый трамвай впервые появилась на Городские вести.",
                "Совет проголосовал.",
            ),
        ] {
            let mut b = vec![para(vec![Span::plain(text)])];
            assert!(strip_read_more(&mut b), "{text}");
            assert_eq!(b[0].plain_text(), kept);
        }
        // Words that only look like it are kept.
        for text in [
            "She wanted more (more than anyone).",
            "Der Beitrag erschien zuerst im Frühjahr.",
        ] {
            let mut b = vec![para(vec![Span::plain(text)])];
            assert!(!strip_read_more(&mut b), "{text}");
            assert_eq!(b[0].plain_text(), text);
        }

        // An ordinary sentence ending with the words is kept.
        let mut b = vec![para(vec![Span::plain(
            "This is a book you should read more.",
        )])];
        assert!(!strip_read_more(&mut b));
        assert_eq!(b[0].plain_text(), "This is a book you should read more.");
    }
}
