//! The seed corpus (from `tests/fixtures/`) and the regression inputs
//! (`tests/fixtures/fuzz-regressions/<target>/`) of each target.

use std::path::{Path, PathBuf};

use crate::Target;

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
