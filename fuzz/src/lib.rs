//! Fuzz targets for Crier's outside inputs.
//!
//! Each [`Target`] takes raw bytes, feeds them to the entry point Crier uses
//! for that kind of input, and checks the invariants: no panic, and valid
//! output (a target panics on a broken invariant, so every fuzzing engine
//! records it as a crash). Time is bounded by the runner: the in-suite run
//! ([`runner`], `cargo test -p crier-fuzz`) and AFL++ (`fuzz/afl`, see
//! FUZZING.md) both stop an input that runs too long.
//!
//! The seed corpus ([`corpus`]) comes from `tests/fixtures/`; crashes found
//! are kept under `tests/fixtures/fuzz-regressions/<target>/` and replayed.

pub mod corpus;
mod render;
pub mod runner;
mod targets;

#[cfg(test)]
mod generate;
#[cfg(test)]
mod mutate;
#[cfg(test)]
mod suite;

/// One fuzz target: a kind of outside input and the code that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Feed documents (RSS, Atom, RDF, JSON Feed) through
    /// `crier::sources::parse_document`, the poller's entry; the items are
    /// then rendered for both platforms.
    Feed,
    /// WordPress REST answers (`wp/v2/posts?_embed`) through
    /// `crier::sources::wordpress::parse_posts`.
    Wordpress,
    /// HTML pages through single-page extraction
    /// (`crier::sources::page::extract`), then rendered.
    Page,
    /// Article HTML into the formatter: Telegram and Discord renderings
    /// must pass the strict validators.
    Format,
    /// Config TOML through `crier::config::Config::from_str`.
    Config,
    /// Chat command text through `crier_bots::commands::parse`.
    Command,
    /// OPML subscription lists through `crier::opml::{parse, plan, export}`
    /// (`crier feeds import`, chat `/import`).
    Opml,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 7] = [
        Target::Feed,
        Target::Wordpress,
        Target::Page,
        Target::Format,
        Target::Config,
        Target::Command,
        Target::Opml,
    ];

    /// The target's name (its corpus and regression folder names, the AFL
    /// binary's name).
    pub fn name(self) -> &'static str {
        match self {
            Target::Feed => "feed",
            Target::Wordpress => "wordpress",
            Target::Page => "page",
            Target::Format => "format",
            Target::Config => "config",
            Target::Command => "command",
            Target::Opml => "opml",
        }
    }

    /// The target named `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Run one input. Panics when Crier panics or an invariant breaks.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Feed => targets::feed(data),
            Target::Wordpress => targets::wordpress(data),
            Target::Page => targets::page(data),
            Target::Format => targets::format(data),
            Target::Config => targets::config(data),
            Target::Command => targets::command(data),
            Target::Opml => targets::opml(data),
        }
    }
}
