//! Templates: minijinja, HTML auto-escaping of every value, the neutral
//! markup of [`super::markup`] as output. Compiled templates are cached by
//! source text (defaults are compiled once).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};

use super::article::{self, Article};
use super::markup::{self, Piece, Slot};
use super::options::{DiscordStyle, FeedRenderOptions, Look, Mode, TargetFormat};
use super::rich::{Block, doc_plain_text};
use super::text::{one_line, sanitize_url, truncate_words};
use crate::model::Post;
use crate::target::RenderError;

/// Name of the template inside its environment (appears in errors as
/// `(in template:LINE)`).
const NAME: &str = "template";

/// Default article template for Telegram and for Discord's plain style,
/// summary mode.
pub const TEXT_SUMMARY: &str = r#"<b><a href="{{ link }}">{{ title }}</a></b>

{{ summary }}

{% if media_url %}
<a href="{{ media_url }}">{{ media_label }}</a>

{% endif %}
<i>{{ source }}</i>{% if hashtags %} · {{ hashtags }}{% endif %}
"#;

/// Default article template for Telegram and Discord's plain style, full
/// mode.
pub const TEXT_FULL: &str = r#"<b><a href="{{ link }}">{{ title }}</a></b>

{% if content %}{{ content }}{% else %}{{ summary }}{% endif %}

{% if media_url %}
<a href="{{ media_url }}">{{ media_label }}</a>

{% endif %}
<i>{{ source }}</i>{% if hashtags %} · {{ hashtags }}{% endif %}
"#;

/// Default Discord embed description, summary mode (title, link, author,
/// source, date and image are embed fields).
pub const EMBED_SUMMARY: &str = r#"{{ summary }}

{% if media_url %}
<a href="{{ media_url }}">{{ media_label }}</a>

{% endif %}
{{ hashtags }}
"#;

/// Default Discord embed description, full mode.
pub const EMBED_FULL: &str = r#"{% if content %}{{ content }}{% else %}{{ summary }}{% endif %}

{% if media_url %}
<a href="{{ media_url }}">{{ media_label }}</a>

{% endif %}
{{ hashtags }}
"#;

/// Default digest template (Telegram, Discord plain).
pub const TEXT_DIGEST: &str = r#"<b>{{ title or source }}</b>

{% for item in digest %}
• <a href="{{ item.link }}">{{ item.title }}</a>
{% endfor %}
"#;

/// Default digest embed description (the title is the embed title).
pub const EMBED_DIGEST: &str = r#"{% for item in digest %}
• <a href="{{ item.link }}">{{ item.title }}</a>
{% endfor %}
"#;

/// The template source a target uses for a post.
pub(crate) fn source_for(platform: Look, fmt: &TargetFormat, digest: bool) -> &str {
    let embed = platform == Look::Discord && fmt.discord_style == DiscordStyle::Embed;
    if digest {
        return fmt.digest_template.as_deref().unwrap_or(if embed {
            EMBED_DIGEST
        } else {
            TEXT_DIGEST
        });
    }
    if let Some(t) = fmt.template.as_deref() {
        return t;
    }
    match (embed, fmt.mode) {
        (true, Mode::Summary) => EMBED_SUMMARY,
        (true, Mode::Full) => EMBED_FULL,
        (false, Mode::Summary) => TEXT_SUMMARY,
        (false, Mode::Full) => TEXT_FULL,
    }
}

fn new_env(src: &str) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(2_000_000));
    env.set_recursion_limit(64);
    env.add_template_owned(NAME, src.to_string())?;
    Ok(env)
}

/// Which costly placeholders a template mentions (a template can only
/// reach a variable by naming it, so a name absent from the source is
/// never needed).
#[derive(Debug, Clone, Copy)]
struct Needs {
    summary_text: bool,
    authors: bool,
    categories: bool,
    dates: bool,
    timestamps: bool,
    digest: bool,
}

impl Needs {
    fn of(src: &str) -> Needs {
        Needs {
            summary_text: src.contains("summary_text"),
            authors: src.contains("authors"),
            categories: src.contains("categor") || src.contains("hashtag"),
            dates: src.contains("date"),
            timestamps: src.contains("published") || src.contains("updated"),
            digest: src.contains("digest"),
        }
    }
}

/// A compiled template.
struct Compiled {
    env: Environment<'static>,
    needs: Needs,
}

type Cache = Mutex<HashMap<String, Arc<Compiled>>>;

/// The compiled template for `src` (cached).
fn compiled(src: &str) -> Result<Arc<Compiled>, String> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.lock()
        && let Some(env) = map.get(src)
    {
        return Ok(env.clone());
    }
    let env = Arc::new(Compiled {
        env: new_env(src).map_err(|e| describe(&e))?,
        needs: Needs::of(src),
    });
    if let Ok(mut map) = cache.lock() {
        if map.len() >= 256 {
            map.clear();
        }
        map.insert(src.to_string(), env.clone());
    }
    Ok(env)
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = format!("template error: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        let _ = write!(s, ": {inner}");
        src = inner.source();
    }
    s
}

/// Format a date in the target's timezone and format (falls back to
/// `%Y-%m-%d %H:%M` when the format is invalid; `check` reports it).
pub(crate) fn format_date(dt: Option<DateTime<Utc>>, fmt: &TargetFormat) -> String {
    let Some(dt) = dt else {
        return String::new();
    };
    let local = dt.with_timezone(&fmt.timezone);
    let mut s = String::new();
    if write!(s, "{}", local.format(&fmt.date_format)).is_err() {
        s.clear();
        let _ = write!(s, "{}", local.format("%Y-%m-%d %H:%M"));
    }
    s
}

fn context_for(post: &Post, art: &Article, fmt: &TargetFormat, needs: Needs) -> Value {
    let safe = |slot: Slot, blocks: &[Block]| {
        if blocks.is_empty() {
            Value::from_safe_string(String::new())
        } else {
            Value::from_safe_string(slot.sentinel())
        }
    };
    let none: &[String] = &[];
    let categories: Vec<String> = if needs.categories {
        post.categories.as_slice()
    } else {
        none
    }
    .iter()
    .map(|c| truncate_words(&one_line(c), 100))
    .filter(|c| !c.is_empty())
    .take(30)
    .collect();
    let tags = super::hashtags::hashtags(&categories, &art.title, fmt.hashtags);
    let authors: Vec<String> = if needs.authors {
        post.authors.as_slice()
    } else {
        none
    }
    .iter()
    .map(|a| truncate_words(&one_line(a), 100))
    .filter(|a| !a.is_empty())
    .take(10)
    .collect();
    let base = needs
        .digest
        .then(|| art.link.as_deref().and_then(|l| url::Url::parse(l).ok()))
        .flatten();
    let no_items: &[crate::model::DigestItem] = &[];
    let digest: Vec<Value> = if needs.digest {
        post.digest.as_slice()
    } else {
        no_items
    }
    .iter()
    .filter_map(|d| {
        let link = d
            .link
            .as_deref()
            .and_then(|l| sanitize_url(l, base.as_ref()));
        let title = truncate_words(&one_line(&d.title), 300);
        // An item without a title shows its link; without either, nothing.
        let title = if title.is_empty() {
            link.clone()?
        } else {
            title
        };
        Some(context! { title => title, link => link.unwrap_or_default() })
    })
    .take(500)
    .collect();
    let media = super::media::media_line(post);
    context! {
        title => art.title,
        link => art.link.clone().unwrap_or_default(),
        summary => safe(Slot::Summary, &art.summary),
        summary_text => if needs.summary_text { doc_plain_text(&art.summary) } else { String::new() },
        content => safe(Slot::Content, &art.content),
        author => art.author,
        authors => authors,
        feed => truncate_words(&one_line(&post.feed), 200),
        source => art.source,
        categories => categories,
        hashtags => tags.join(" "),
        date => if needs.dates { format_date(post.published, fmt) } else { String::new() },
        updated_date => if needs.dates { format_date(post.updated, fmt) } else { String::new() },
        published => post.published.filter(|_| needs.timestamps).map(|d| d.to_rfc3339()).unwrap_or_default(),
        updated => post.updated.filter(|_| needs.timestamps).map(|d| d.to_rfc3339()).unwrap_or_default(),
        image => super::images::web_image(art.image.as_ref()).cloned().unwrap_or_default(),
        language => post.language.as_deref().map(one_line).unwrap_or_default(),
        media_url => media.as_ref().map(|m| m.0.clone()).unwrap_or_default(),
        media_label => media.map(|m| m.1).unwrap_or_default(),
        digest => digest,
    }
}

fn run(src: &str, post: &Post, art: &Article, fmt: &TargetFormat) -> Result<String, String> {
    let c = compiled(src)?;
    let tmpl = c.env.get_template(NAME).map_err(|e| describe(&e))?;
    tmpl.render(context_for(post, art, fmt, c.needs))
        .map_err(|e| describe(&e))
}

/// Render the target's template for a post into parsed pieces.
pub(crate) fn pieces(
    platform: Look,
    fmt: &TargetFormat,
    post: &Post,
    art: &Article,
) -> Result<Vec<Piece>, RenderError> {
    let src = source_for(platform, fmt, !post.digest.is_empty());
    let out = run(src, post, art, fmt).map_err(RenderError)?;
    Ok(markup::parse(&out).pieces)
}

/// Render an auxiliary template (Discord `content_template`) to blocks.
pub(crate) fn render_content(
    src: &str,
    fmt: &TargetFormat,
    post: &Post,
    art: &Article,
) -> Result<Vec<Block>, RenderError> {
    let out = run(src, post, art, fmt).map_err(RenderError)?;
    Ok(markup::resolve(
        &markup::parse(&out).pieces,
        &art.summary,
        &art.content,
    ))
}

/// Compile a template and render it against sample posts (an article with
/// every field, an empty one, a digest), reporting syntax errors, unknown
/// variables and markup the renderer would not understand.
pub(crate) fn check(src: &str, fmt: &TargetFormat) -> Result<(), String> {
    compiled(src)?;
    for post in article::samples() {
        let art = article::prepare(&post, &FeedRenderOptions::default(), fmt);
        let out = run(src, &post, &art, fmt)?;
        let parsed = markup::parse(&out);
        if !parsed.problems.is_empty() {
            return Err(format!("template markup: {}", parsed.problems.join("; ")));
        }
    }
    Ok(())
}
