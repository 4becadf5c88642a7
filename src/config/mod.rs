//! `config.toml`: loading, `${VAR}` substitution and validation.
//!
//! Every error names the file, the key (as a path such as
//! `feeds[1].targets[0]`) and the line; every problem of a file is
//! reported at once, unknown keys with "did you mean". Loading never
//! panics. One file per concern: `values.rs` (the value types, each
//! parsed once), `sections.rs` (storage, delivery, sources, commands),
//! `platforms.rs` (the platforms' sections, read by each platform),
//! `http.rs`, `feeds.rs`,
//! `push.rs`, `targets.rs`, `load.rs` (the spanned reading),
//! `validate.rs` (checks across keys), `errors.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crier_bots::format::{FeedRenderOptions, TargetFormat};
use url::Url;

use crate::dblocation::DbLocation;
use sections::DEFAULT_DB_PATH;

mod errors;
mod feeds;
mod http;
mod load;
mod platforms;
mod push;
mod sections;
mod targets;
mod validate;
mod values;

pub use errors::{ConfigError, ConfigErrors, did_you_mean};
pub use feeds::{FeedConfig, FeedKind, FilterConfig, RouteConfig};
pub use http::HttpConfig;
pub use platforms::PlatformConfig;
pub use push::{MIN_HOOK_SECRET, PushMode};
pub use sections::{
    AmbiguousPolicy, CommandsConfig, DeliveryConfig, OnFailure, SourcesConfig, StorageConfig,
};
pub use targets::{TargetCommon, TargetConfig};
pub use values::{
    Color, Dur, EnvString, HttpUrl, Id, PATTERN_SIZE_LIMIT, Pattern, Secret, Tz, expand_env,
    parse_color,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageConfig,
    /// Every registered platform, with its section when the file has one.
    pub platforms: Vec<PlatformConfig>,
    pub delivery: DeliveryConfig,
    pub sources: SourcesConfig,
    pub commands: CommandsConfig,
    pub http: HttpConfig,
    /// Shared with the feed watchers (`Arc`: one copy of each feed's
    /// settings however many parts of Crier hold it).
    pub feeds: Vec<Arc<FeedConfig>>,
    pub targets: Vec<TargetConfig>,
    /// The folder relative paths are resolved against (the config file's).
    pub base_dir: PathBuf,
    pub file: PathBuf,
    /// What is allowed but probably not meant (a Telegram channel id
    /// without `-100`): `crier check` prints these, `crier run` logs them.
    pub warnings: Vec<ConfigError>,
}

impl Config {
    /// Read, parse and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                key: String::new(),
                line: None,
                message: format!("cannot read the file: {e}"),
            }])
        })?;
        Config::from_str(&text, path)
    }

    /// Parse and validate config text; `path` is used in messages and to
    /// resolve relative paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        Config::parse_text(text, path).map_err(|mut errs| {
            errors::hide_webhook_tokens(text, &mut errs.0);
            errs
        })
    }

    fn parse_text(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        let mut loader = load::Loader::parse(text, path)?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let (mut cfg, partial) = loader.config();
        cfg.file = path.to_path_buf();
        cfg.base_dir = base_dir;
        validate::validate(&cfg, &mut loader, partial);
        let mut errors = std::mem::take(&mut loader.errors);
        errors.sort_by_key(|e| e.line.unwrap_or(0));
        if errors.is_empty() {
            cfg.warnings = validate::warnings(&cfg, &loader);
            let mut w = std::mem::take(&mut cfg.warnings);
            errors::hide_webhook_tokens(text, &mut w);
            cfg.warnings = w;
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// A platform by name, with its section.
    pub fn platform(&self, name: &str) -> Option<&PlatformConfig> {
        self.platforms.iter().find(|p| p.name() == name)
    }

    /// A platform's section as its type (`cfg.section::<TelegramConfig>("telegram")`).
    pub fn section<T: 'static>(&self, platform: &str) -> Option<&T> {
        self.platform(platform)?.section::<T>()
    }

    /// A feed's URL: http(s) as given, `file://` as given, or a path
    /// resolved against the config file's folder.
    pub fn feed_location(&self, f: &FeedConfig) -> Result<Url, String> {
        resolve_location(&f.url, &self.base_dir)
    }

    /// Where the delivery log is (checked when the config was loaded).
    pub fn db_location(&self) -> DbLocation {
        self.storage
            .location(&self.base_dir)
            .unwrap_or_else(|_| DbLocation::Sqlite(self.base_dir.join(DEFAULT_DB_PATH)))
    }

    /// The SQLite database path, resolved against the config file's
    /// folder (the default path when the log is in PostgreSQL).
    pub fn db_path(&self) -> PathBuf {
        match self.db_location() {
            DbLocation::Sqlite(p) => p,
            DbLocation::Postgres(_) => self.base_dir.join(DEFAULT_DB_PATH),
        }
    }

    /// The formatter's settings for a target: the common keys, then its
    /// platform's look keys.
    pub fn target_format(&self, t: &TargetConfig) -> TargetFormat {
        let d = TargetFormat::default();
        let mut fmt = TargetFormat {
            template: t.template.as_ref().map(|s| s.0.clone()),
            digest_template: t.digest_template.as_ref().map(|s| s.0.clone()),
            mode: t.mode.unwrap_or(d.mode),
            summary_length: t.summary_length.unwrap_or(d.summary_length),
            date_format: t
                .date_format
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or(d.date_format.clone()),
            timezone: t.timezone.map(|z| z.0).unwrap_or(d.timezone),
            read_more: t.read_more.unwrap_or(d.read_more),
            read_more_label: t
                .read_more_label
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or(d.read_more_label.clone()),
            color: t.color.map(|c| c.0).or(d.color),
            max_parts: t.max_parts.unwrap_or(d.max_parts),
            hashtags: t.hashtags.unwrap_or(d.hashtags),
            ..d
        };
        t.platform.apply_look(&*t.spec, &mut fmt);
        fmt
    }

    /// The formatter's settings for a feed.
    pub fn feed_render_options(&self, f: &FeedConfig) -> FeedRenderOptions {
        FeedRenderOptions {
            drop_selectors: f.drop_selectors.iter().map(|s| s.0.clone()).collect(),
            drop_patterns: f.drop_patterns.iter().map(|s| s.0.clone()).collect(),
            color: f.color.map(|c| c.0),
            content_selector: f.content_selector.as_ref().map(|s| s.0.clone()),
            default_rules: f.default_rules,
        }
    }

    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name.0 == name)
    }

    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name.0 == name).map(|f| &**f)
    }
}

/// Resolve a feed location against a folder (the one resolver: see
/// `sources/location.rs`).
pub use crate::sources::resolve_location;

#[cfg(test)]
mod tests;
