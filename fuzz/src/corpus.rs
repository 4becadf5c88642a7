//! The seed corpus (from `tests/fixtures/`) and the regression inputs
//! (`tests/fixtures/fuzz-regressions/<target>/`) of each target.

use std::path::{Path, PathBuf};

use crate::Target;

/// Tokens worth inserting: markup of every input kind, and the characters
/// that break byte-offset slicing (multi-byte UTF-8 and its fragments).
pub const DICTIONARY: &[&str] = &[
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<title>",
    "</title>",
    "<link>",
    "</link>",
    "<link href=\"",
    "<guid>",
    "<pubDate>",
    "<updated>",
    "<description>",
    "<content type=\"html\">",
    "<content:encoded>",
    "<![CDATA[",
    "]]>",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    "<rss version=\"2.0\">",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
    "<rdf:RDF>",
    "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    "&a;",
    "&amp;",
    "&#x1F600;",
    "&#0;",
    "&nbsp;",
    "{\"items\":[",
    "\"version\":\"http://jsonfeed.org/version/1\"",
    "\"content_html\":\"",
    "\"url\":\"",
    "\"date_published\":\"",
    "{\"id\":1,\"link\":\"https://wp.example/p\",\"title\":{\"rendered\":\"",
    "\"_embedded\":{\"wp:featuredmedia\":[{\"source_url\":\"",
    "null",
    "[]",
    "{}",
    "<p>",
    "</p>",
    "<a href=\"https://x.example/\">",
    "<a href=\"javascript:x\">",
    "</a>",
    "<img src=\"/i.png\">",
    "<pre><code>",
    "<blockquote>",
    "<li>",
    "<table><tr><td>",
    "<script>",
    "<meta property=\"og:title\" content=\"",
    "<article>",
    "<html><head><title>",
    "[[feeds]]\n",
    "[[targets]]\n",
    "[telegram]\n",
    "[discord]\n",
    "[commands]\n",
    "name = \"x\"\n",
    "url = \"https://x.example/feed\"\n",
    "interval = \"1m\"\n",
    "platform = \"telegram\"\n",
    "${TOKEN}",
    "/schedule ",
    "/publish ",
    "/post ",
    "/why ",
    "@crier_bot",
    "+99999999y",
    "2026-03-08T02:30",
    "’",
    "é",
    "😀",
    "👨‍👩‍👧",
    "\u{FEFF}",
    "\u{200B}",
    "\u{0}",
    "\u{202E}",
    "\r\n",
    "\u{1}",
];

/// `tests/fixtures/` of the repository.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its path relative to `tests/fixtures/`.
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// The files of `dir` (relative to `tests/fixtures/`), sorted; none when
/// the folder does not exist.
fn files(dir: &str) -> Vec<Input> {
    let root = fixtures_dir();
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let data = std::fs::read(&p).ok()?;
            let name = p.strip_prefix(&root).ok()?.to_string_lossy().into_owned();
            Some(Input { name, data })
        })
        .collect()
}

fn file(name: &str) -> Vec<Input> {
    std::fs::read(fixtures_dir().join(name))
        .map(|data| {
            vec![Input {
                name: name.to_string(),
                data,
            }]
        })
        .unwrap_or_default()
}

/// The seed inputs of a target: the fixtures of its kind, plus the
/// hand-made seeds in `tests/fixtures/fuzz-seeds/<target>/`.
pub fn seeds(target: Target) -> Vec<Input> {
    let mut out = match target {
        Target::Feed => [files("feeds"), file("seed-wordpress-feed.xml")].concat(),
        Target::Wordpress => files("wordpress"),
        Target::Page | Target::Format => [
            file("seed-article.html"),
            file("feeds/hostile-html.html"),
            file("feeds/hostile-deep-nesting.xml"),
            file("seed-wordpress-feed.xml"),
            file("feeds/rss20-media.xml"),
            file("feeds/atom10.xml"),
            file("feeds/quirk-entities.xml"),
        ]
        .concat(),
        Target::Opml => files("opml"),
        Target::Config | Target::Command => Vec::new(),
    };
    out.extend(files(&format!("fuzz-seeds/{}", target.name())));
    out
}

/// The crashes found earlier: replayed on every run.
pub fn regressions(target: Target) -> Vec<Input> {
    files(&format!("fuzz-regressions/{}", target.name()))
}

/// Crashes found in code another branch is fixing (reported, not yet
/// fixed here): replayed only by the ignored test `suite::open_crashes`.
pub fn open_crashes(target: Target) -> Vec<Input> {
    files(&format!("fuzz-regressions/{}/open", target.name()))
}

/// Write the seeds and regressions of `target` into `dir` (AFL's input
/// folder). Returns how many files were written.
pub fn export(target: Target, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let all = [seeds(target), regressions(target)].concat();
    for (i, input) in all.iter().enumerate() {
        let stem: String = input
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        std::fs::write(dir.join(format!("{i:03}-{stem}")), &input.data)?;
    }
    Ok(all.len())
}

/// Write [`DICTIONARY`] as an AFL dictionary (`-x FILE`).
pub fn export_dictionary(path: &Path) -> std::io::Result<()> {
    let mut out = String::new();
    for (i, tok) in DICTIONARY.iter().enumerate() {
        let mut v = String::new();
        for b in tok.bytes() {
            if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
                v += &format!("\\x{b:02x}");
            } else {
                v.push(b as char);
            }
        }
        out += &format!("t{i}=\"{v}\"\n");
    }
    std::fs::write(path, out)
}
