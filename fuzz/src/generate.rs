//! Structure-aware generators: inputs that get past the first parsing
//! stage (well-formed enough feeds, configs with real keys, commands with
//! real names) and carry hostile values where the code reads them.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Hostile text: multi-byte, combining, RTL, controls, markup, entities.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-zA-Z]{1,10} ",
        1 => any::<String>(),
        3 => prop::sample::select(vec![
            "’", "😀", "👍🏽", "👨‍👩‍👧", "e\u{301}", "مرحبا ", "\u{202E}rtl", "\u{200B}", "\u{FEFF}",
            "\u{0}", "\u{7}", "\r\n", "\n", "\t", "\u{A0}", "&amp;", "&lt;b&gt;", "&#128512;", "&#xD800;",
            "&bogus;", "&", "<", ">", "\"", "'", "*", "_", "`", "|", "[", "](", "\\", "#", "@everyone",
            "<b>bold", "</i>", "<a href=\"/rel\">", "<![CDATA[x]]>", "]]>", "{{ title }}", "{%",
        ])
        .prop_map(str::to_string),
    ]
    .boxed()
}

fn words(max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(piece(), 0..max)
        .prop_map(|v| v.concat())
        .boxed()
}

fn url() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z]{1,8}".prop_map(|p| format!("https://news.example/{p}/")),
        1 => prop::sample::select(vec![
            "", " ", "/relative/path", "../up", "//proto.example/x", "javascript:alert(1)",
            "mailto:a@b.example", "http://[::1]:80/", "https://x.example/a b", "https://ünï.example/’",
            "https://x.example/?q=<b>&a=\"", "data:text/html,x", "ftp://x.example/", "https://",
            "tag:x.example,2024:1", "urn:uuid:1234",
        ])
        .prop_map(str::to_string),
        1 => words(3),
    ]
    .boxed()
}

fn date() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "Mon, 01 Jan 2024 10:00:00 GMT",
            "Tue, 02 Jan 2024 10:00:00 +0530",
            "2024-01-02T10:00:00Z",
            "2024-01-02T10:00:00.123456789+14:00",
            "2024-01-02",
            "Mon, 32 Foo 2024 99:99:99 XYZ",
            "0000-00-00T00:00:00Z",
            "+275760-09-13T00:00:00Z",
            "9999-12-31T23:59:60Z",
            "",
            "yesterday",
            "1704189600",
            "-1",
            "2024-13-45T25:61:61+99:99",
            "Mi, 03 Jan 2024 10:00:00 MEZ",
        ])
        .prop_map(str::to_string),
        words(2),
    ]
    .boxed()
}

/// How a text goes into XML: escaped, raw (may break the document) or CDATA.
fn xml_text() -> BoxedStrategy<String> {
    (words(6), 0u8..3)
        .prop_map(|(s, how)| match how {
            0 => s
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            1 => s,
            _ => format!("<![CDATA[{s}]]>"),
        })
        .boxed()
}

#[derive(Debug, Clone)]
struct Item {
    title: Option<String>,
    link: Option<String>,
    guid: Option<String>,
    date: Option<String>,
    body: Option<String>,
}

fn item() -> impl Strategy<Value = Item> {
    (
        prop::option::of(xml_text()),
        prop::option::of(url()),
        prop::option::of(url()),
        prop::option::of(date()),
        prop::option::of(xml_text()),
    )
        .prop_map(|(title, link, guid, date, body)| Item {
            title,
            link,
            guid,
            date,
            body,
        })
}

fn tag(name: &str, v: &Option<String>) -> String {
    v.as_ref()
        .map(|v| format!("<{name}>{v}</{name}>"))
        .unwrap_or_default()
}

fn rss(decl: bool, head: &str, items: &[Item]) -> String {
    let decl = if decl {
        "<?xml version=\"1.0\"?>\n"
    } else {
        ""
    };
    let mut s = format!("{decl}<rss version=\"2.0\"><channel>{head}");
    for i in items {
        s += &format!(
            "<item>{}{}{}{}{}</item>",
            tag("title", &i.title),
            tag("link", &i.link),
            tag("guid", &i.guid),
            tag("pubDate", &i.date),
            tag("description", &i.body)
        );
    }
    s + "</channel></rss>"
}

fn atom(head: &str, items: &[Item]) -> String {
    let mut s = format!("<feed xmlns=\"http://www.w3.org/2005/Atom\">{head}");
    for i in items {
        let link = i
            .link
            .as_ref()
            .map(|l| format!("<link href=\"{}\"/>", l.replace('"', "&quot;")))
            .unwrap_or_default();
        s += &format!(
            "<entry>{}{link}{}{}{}</entry>",
            tag("title", &i.title),
            tag("id", &i.guid),
            tag("updated", &i.date),
            i.body
                .as_ref()
                .map(|b| format!("<content type=\"html\">{b}</content>"))
                .unwrap_or_default()
        );
    }
    s + "</feed>"
}

fn json_feed(version: &str, items: &[Item]) -> String {
    let v = |o: &Option<String>| o.clone().map(Value::String).unwrap_or(Value::Null);
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({"id": v(&i.guid), "url": v(&i.link), "title": v(&i.title),
                   "date_published": v(&i.date), "content_html": v(&i.body)})
        })
        .collect();
    let mut doc = json!({"title": "Fuzz", "items": items});
    if !version.is_empty() {
        doc["version"] = Value::String(version.to_string());
    }
    doc.to_string()
}

/// Feed documents of every format. `straddle` pads the channel head so
/// that a multi-byte character crosses the 64 KiB mark (the crash).
pub fn feed() -> BoxedStrategy<Vec<u8>> {
    (
        0u8..5,
        xml_text(),
        prop::collection::vec(item(), 0..5),
        prop::option::weighted(0.2, 0usize..4),
    )
        .prop_map(|(kind, title, mut items, straddle)| {
            let mut head = format!("<title>{title}</title>");
            if straddle.is_some() {
                // A document that parses, so the code after parsing runs.
                head = "<title>Blog</title><description>\u{1}’</description>".into();
                items.clear();
            }
            let mut doc = match kind {
                0 | 2 => rss(straddle.is_none(), &head, &items),
                1 => atom(&head, &items),
                3 => json_feed("http://jsonfeed.org/version/1", &items),
                _ => json_feed("", &items),
            };
            if let (Some(k), Some(i)) = (straddle, doc.find('\u{1}')) {
                // '’' (3 bytes) starts at 65532 + k: k = 2, 3 cross 64 KiB.
                let pad = (65_532 + k).saturating_sub(i);
                doc.replace_range(i..i + 1, &" ".repeat(pad));
            }
            doc.into_bytes()
        })
        .boxed()
}

/// HTML articles and pages: tags of every kind, unbalanced, with hostile text.
pub fn html() -> BoxedStrategy<Vec<u8>> {
    let tag = prop::sample::select(vec![
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<b>",
        "</b>",
        "<i>",
        "<em>",
        "<u>",
        "<s>",
        "<code>",
        "</code>",
        "<pre>",
        "</pre>",
        "<a href=\"https://x.example/a?b=1&amp;c=2\">",
        "<a href=\"/rel\">",
        "<a href=\"javascript:x\">",
        "</a>",
        "<ul>",
        "<ol start=\"99999999999\">",
        "<li>",
        "</li>",
        "<blockquote>",
        "</blockquote>",
        "<h1>",
        "</h1>",
        "<br>",
        "<hr>",
        "<img src=\"https://x.example/i.png\">",
        "<img src=\"data:x\">",
        "<figure>",
        "<figcaption>",
        "<table><tr><td>",
        "</td></tr></table>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<iframe>",
        "<span class=\"spoiler\">",
        "<tg-spoiler>",
        "<unknown x=y>",
        "<html><head><title>",
        "</title></head><body>",
        "<article>",
        "<meta property=\"og:title\" content=\"’😀\">",
        "<meta name=\"description\" content=\"",
        "<link rel=\"canonical\" href=\"/c\">",
        "<",
    ]);
    prop::collection::vec(
        prop_oneof![3 => piece(), 2 => tag.prop_map(str::to_string)],
        0..150,
    )
    .prop_map(|v| v.concat().into_bytes())
    .boxed()
}

/// Format inputs: `title \0 content \0 summary`.
pub fn article() -> BoxedStrategy<Vec<u8>> {
    (words(8), html(), prop::option::of(html()))
        .prop_map(|(title, content, summary)| {
            let mut out = title.into_bytes();
            out.push(0);
            out.extend(content);
            if let Some(s) = summary {
                out.push(0);
                out.extend(s);
            }
            out
        })
        .boxed()
}

fn toml_value() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "\"x\"",
            "\"\"",
            "1",
            "0",
            "-1",
            "99999999999999999999",
            "1.5",
            "true",
            "\"1m\"",
            "\"0s\"",
            "\"-5m\"",
            "\"18446744073709551615s\"",
            "\"99999999999999h\"",
            "[\"a\", \"b\"]",
            "[]",
            "{}",
            "\"${NOPE}\"",
            "\"${\"",
            "\"${HOME}\"",
            "\"https://x.example/feed\"",
            "\"file:///nonexistent\"",
            "\"../x.xml\"",
            "\"[unclosed(\"",
            "\"(a+)+$\"",
            "\"{{ title \"",
            "\"{% for x in %}\"",
            "\"{{ title | nofilter }}\"",
            "\"#ff00zz\"",
            "\"#FFFFFFFF\"",
            "\"Europe/Nowhere\"",
            "\"America/New_York\"",
            "\"%Y-%m-%d %Q\"",
            "\"%\"",
            "\"%-\"",
            "\"\\u0000\"",
            "\"’😀\"",
            "'single'",
            "\"\"\"multi\nline\"\"\"",
            "\"telegram\"",
            "\"discord\"",
            "\"console\"",
            "\"full\"",
            "\"summary\"",
            "\"@chan\"",
            "\"-1001234567890\"",
            "\"https://discord.com/api/webhooks/1/tok\"",
            "[\"console\"]",
            "[\"nope\"]",
        ])
        .prop_map(str::to_string),
        words(3).prop_map(|s| format!("{s:?}")),
    ]
    .boxed()
}

/// Config files: real sections and keys, hostile values.
pub fn config() -> BoxedStrategy<Vec<u8>> {
    let key = prop::sample::select(vec![
        "name",
        "url",
        "interval",
        "backfill",
        "targets",
        "platform",
        "chat",
        "channel",
        "webhook_url",
        "template",
        "digest_template",
        "content_template",
        "mode",
        "summary_length",
        "max_parts",
        "color",
        "timezone",
        "date_format",
        "token",
        "api_url",
        "path",
        "admins",
        "editors",
        "ambiguous",
        "max_attempts",
        "retry_base",
        "retry_max",
        "min_gap",
        "max_posts_per_hour",
        "include_regex",
        "exclude_regex",
        "include_keywords",
        "drop_selectors",
        "drop_patterns",
        "content_selector",
        "read_more_label",
        "link_preview",
        "style",
        "thread_id",
        "ping_role",
        "username",
        "avatar_url",
        "headers",
        "user_agent",
        "body_cap",
        "timeout",
        "kind",
        "photo",
        "digest",
        "min_interval",
        "guild_id",
        "application_id",
        "alerts_chat",
        "languages",
        "per_host_concurrency",
        "strftime",
    ]);
    let section = prop::sample::select(vec![
        "[storage]",
        "[telegram]",
        "[discord]",
        "[delivery]",
        "[commands]",
        "[sources]",
        "[[feeds]]",
        "[feeds.filter]",
        "[[feeds.routes]]",
        "[[targets]]",
        "[[feeds]]",
        "[[targets]]",
    ]);
    let line = (key, toml_value()).prop_map(|(k, v)| format!("{k} = {v}\n"));
    let block = (section, prop::collection::vec(line, 0..8))
        .prop_map(|(s, lines)| format!("{s}\n{}", lines.concat()));
    prop::collection::vec(block, 0..8)
        .prop_map(|blocks| {
            // A base that is valid, so the values reach validation.
            let mut s = String::from(
                "[[feeds]]\nname = \"f\"\nurl = \"https://x.example/feed\"\ntargets = [\"console\"]\n\
                 [[targets]]\nname = \"console\"\nplatform = \"console\"\n",
            );
            s += &blocks.concat();
            s.into_bytes()
        })
        .boxed()
}

/// Chat command lines: real names (and some unknown), mentions, hostile
/// arguments (times, URLs, ids).
pub fn command() -> BoxedStrategy<Vec<u8>> {
    let mut names: Vec<String> = crier_bots::commands::COMMANDS
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    names.extend(["", "HELP", "nope", "schedule@", "/"].map(str::to_string));
    let arg = prop_oneof![
        prop::sample::select(vec![
            "+90m",
            "+2h",
            "+1d",
            "+99999999y",
            "+18446744073709551615s",
            "+",
            "+-5m",
            "+0s",
            "25:61",
            "23:59",
            "00:00",
            "2026-02-30",
            "2026-12-04",
            "2026-12-04T10:00",
            "9999-12-31T23:59",
            "2026-03-08T02:30",
            "2026-11-01T01:30",
            "2262-04-12T00:00",
            "+262143-12-31T23:59:59Z",
            "2026-12-04T10:00:00+99:00",
            "https://news.example/a",
            "http://127.0.0.1/x",
            "file:///etc/passwd",
            "1",
            "0",
            "-1",
            "99999999999999999999",
            "0x10",
            "all",
            "feed",
            "target",
            "’",
            "😀",
            "\"quoted arg\"",
            "@crier_bot",
            "--",
            "\n",
            "\u{A0}",
        ])
        .prop_map(str::to_string),
        words(2),
    ];
    let name = prop_oneof![
        2 => prop::sample::select(names),
        1 => Just("schedule".to_string()),
    ];
    (
        name,
        prop::sample::select(vec![
            "",
            "@crier_bot",
            "@CRIER_BOT",
            "@other_bot",
            "@",
            "@’",
        ]),
        prop::collection::vec(arg, 0..5),
        prop::sample::select(vec!["/", " /", "//", "", "\u{FEFF}/"]),
    )
        .prop_map(|(name, at, args, slash)| {
            let mut s = format!("{slash}{name}{at}");
            for a in args {
                s.push(' ');
                s += &a;
            }
            s.into_bytes()
        })
        .boxed()
}

/// WordPress REST answers: a list of posts with the fields Crier reads,
/// some of the wrong type.
pub fn wordpress() -> BoxedStrategy<Vec<u8>> {
    let field = prop_oneof![
        words(4).prop_map(Value::String),
        url().prop_map(Value::String),
        date().prop_map(Value::String),
        Just(Value::Null),
        Just(json!(12345678901234567890u64)),
        Just(json!([])),
        Just(json!({})),
    ];
    let post = prop::collection::vec(field, 8).prop_map(|f| {
        json!({
            "id": f[0], "link": f[1], "guid": {"rendered": f[2]}, "date_gmt": f[3], "date": f[4],
            "title": {"rendered": f[5]}, "content": {"rendered": f[6]}, "excerpt": {"rendered": f[7]},
            "_embedded": {"author": [{"name": f[5]}], "wp:featuredmedia": [{"source_url": f[1]}],
                          "wp:term": [[{"name": f[6]}]]}
        })
    });
    prop::collection::vec(post, 0..4)
        .prop_map(|posts| Value::Array(posts).to_string().into_bytes())
        .boxed()
}

/// OPML attribute text, escaped or raw.
fn attr() -> BoxedStrategy<String> {
    (words(4), any::<bool>())
        .prop_map(|(s, escape)| {
            if escape {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('"', "&quot;")
            } else {
                s
            }
        })
        .boxed()
}

/// One outline, folders nested up to three deep.
fn outline() -> BoxedStrategy<String> {
    let leaf = (
        attr(),
        prop::option::of(attr()),
        prop::option::of(url()),
        any::<bool>(),
    )
        .prop_map(|(text, title, url, rss)| {
            let mut s = format!("<outline text=\"{text}\"");
            if let Some(t) = title {
                s += &format!(" title=\"{t}\"");
            }
            if rss {
                s += " type=\"rss\"";
            }
            if let Some(u) = url {
                s += &format!(" xmlUrl=\"{}\"", u.replace('"', "&quot;"));
            }
            s + "/>"
        })
        .boxed();
    leaf.prop_recursive(3, 40, 8, |inner| {
        (attr(), prop::collection::vec(inner, 0..8)).prop_map(|(text, kids)| {
            format!("<outline text=\"{text}\">{}</outline>", kids.concat())
        })
    })
    .boxed()
}

/// OPML subscription lists (1.0 and 2.0, with and without a head).
pub fn opml() -> BoxedStrategy<Vec<u8>> {
    (
        prop::sample::select(vec!["1.0", "2.0", "1.1", "", "x"]),
        prop::option::of(attr()),
        prop::collection::vec(outline(), 0..12),
    )
        .prop_map(|(version, title, outlines)| {
            let head = title
                .map(|t| format!("<head><title>{t}</title></head>"))
                .unwrap_or_default();
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"{version}\">{head}<body>{}</body></opml>",
                outlines.concat()
            )
            .into_bytes()
        })
        .boxed()
}
