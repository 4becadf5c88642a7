//! Reading `config.toml` into [`Config`]: every problem of the file at
//! once, each with its line (from the TOML parser's spans) and key path.
//!
//! The document is parsed once into a spanned tree (`toml::de::DeTable`).
//! Each section and each `[[feeds]]` / `[[targets]]` element is then
//! deserialized on its own, so one bad element does not hide the others;
//! within one, a failing key is reported, taken out and the element read
//! again, so every bad key is reported (unknown keys with "did you
//! mean"). The platforms' sections and target keys are read by the
//! platforms (`crate::platforms`). Targets are read in parts: the keys
//! every target has, then the keys of its `platform` kind (a key of
//! another kind says which).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crier_bots::config::read::{
    FieldError, Seg, Value, did_you_mean, fields_of, join_key, missing_field, read, segments,
    subtable,
};
use crier_bots::platform::{DynPlatform, Parts};
use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use super::errors::{ConfigError, ConfigErrors, line_of};
use super::targets::{TargetCommon, TargetConfig};
use super::{Config, PlatformConfig};

/// The core's sections; the platforms' follow.
const SECTIONS: [&str; 7] = [
    "storage", "delivery", "sources", "commands", "http", "feeds", "targets",
];

pub(super) struct Loader<'i> {
    text: &'i str,
    file: PathBuf,
    root: DeTable<'i>,
    platforms: Vec<Arc<dyn DynPlatform>>,
    /// Where each feed and target read sits in its array in the file.
    feed_at: Vec<usize>,
    target_at: Vec<usize>,
    pub errors: Vec<ConfigError>,
}

impl<'i> Loader<'i> {
    pub fn parse(text: &'i str, file: &Path) -> Result<Loader<'i>, ConfigErrors> {
        let root = DeTable::parse(text).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: file.to_path_buf(),
                key: String::new(),
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_string(),
            }])
        })?;
        Ok(Loader {
            text,
            file: file.to_path_buf(),
            root: root.into_inner(),
            platforms: crate::platforms::registered(),
            feed_at: Vec::new(),
            target_at: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// Read every section. What failed is left at its default (a section)
    /// or out (a feed or target) and the second value is `true`: the
    /// errors say why, and checks across keys skip what is missing.
    pub fn config(&mut self) -> (Config, bool) {
        let sections: Vec<&str> = SECTIONS
            .into_iter()
            .chain(
                self.platforms
                    .iter()
                    .filter(|p| p.has_section())
                    .map(|p| p.name()),
            )
            .collect();
        let unknown: Vec<(String, Range<usize>)> = self
            .root
            .keys()
            .map(|k| (k.get_ref().to_string(), k.span()))
            .filter(|(k, _)| !sections.contains(&k.as_str()))
            .collect();
        for (k, span) in unknown {
            let hint = did_you_mean(&k, sections.iter().copied());
            self.error(
                k.clone(),
                Some(span),
                format!("unknown section `{k}`{hint}"),
            );
        }
        let before = self.errors.len();
        let storage = self.section("storage");
        let platforms = self.platform_sections();
        let delivery = self.section("delivery");
        let sources = self.section("sources");
        let commands = self.section("commands");
        let http = self.section("http");
        let (feeds, feed_at) = self.elements("feeds", |l, path, v| {
            l.value::<super::FeedConfig>(path, v).map(Arc::new)
        });
        let (targets, target_at) = self.elements("targets", |l, path, v| l.target(path, v));
        self.feed_at = feed_at;
        self.target_at = target_at;
        let partial = self.errors.len() > before;
        let cfg = Config {
            storage: storage.unwrap_or_default(),
            platforms,
            delivery: delivery.unwrap_or_default(),
            sources: sources.unwrap_or_default(),
            commands: commands.unwrap_or_default(),
            http: http.unwrap_or_default(),
            feeds,
            targets,
            base_dir: PathBuf::new(),
            file: PathBuf::new(),
            warnings: Vec::new(),
        };
        (cfg, partial)
    }

    /// The key path of the i-th feed or target read (failed elements are
    /// left out, so its index in the file may be larger).
    pub fn element_path(&self, section: &str, i: usize, key: &str) -> String {
        let at = match section {
            "feeds" => self.feed_at.get(i),
            _ => self.target_at.get(i),
        }
        .copied()
        .unwrap_or(i);
        if key.is_empty() {
            format!("{section}[{at}]")
        } else {
            format!("{section}[{at}].{key}")
        }
    }

    /// An error at a key path, on the line of that key (or of the nearest
    /// part of the path in the file).
    pub fn error_at(&mut self, key: String, message: String) {
        let line = self.line(&key);
        self.errors.push(ConfigError {
            file: self.file.clone(),
            key,
            line,
            message,
        });
    }

    /// The line of a key path such as `feeds[1].targets[0]` (the deepest
    /// part of it that is in the file).
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut span: Option<Range<usize>> = None;
        let mut cur: Option<&DeValue<'i>> = None;
        let mut table: Option<&DeTable<'i>> = Some(&self.root);
        for seg in segments(path) {
            let next: Option<&Value<'i>> = match (seg, table, cur) {
                (Seg::Key(k), Some(t), _) => t.get(k),
                (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(i),
                _ => None,
            };
            let Some(v) = next else { break };
            span = Some(v.span());
            cur = Some(v.get_ref());
            table = match v.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        span.map(|s| line_of(self.text, s.start))
    }

    pub fn error(&mut self, key: String, span: Option<Range<usize>>, message: String) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            key,
            line: span.map(|s| line_of(self.text, s.start)),
            message,
        });
    }

    /// A section with defaults (absent: the defaults).
    fn section<T: DeserializeOwned + Default>(&mut self, name: &str) -> Option<T> {
        match self.root.get(name).cloned() {
            None => Some(T::default()),
            Some(v) => self.value(name, &v),
        }
    }

    /// Each platform with its section, read by the platform (absent, or
    /// failed to read: `None`; the errors say why).
    fn platform_sections(&mut self) -> Vec<PlatformConfig> {
        let mut out = Vec::new();
        for platform in self.platforms.clone() {
            let name = platform.name();
            let section = match self.root.get(name).cloned() {
                Some(v) if platform.has_section() => match platform.read_section(&v) {
                    Ok(s) => Some(s),
                    Err(errors) => {
                        self.field_errors(name, errors);
                        None
                    }
                },
                _ => None,
            };
            out.push(PlatformConfig { platform, section });
        }
        out
    }

    fn field_errors(&mut self, path: &str, errors: Vec<FieldError>) {
        for e in errors {
            self.error(join_key(path, &e.key), e.span, e.message);
        }
    }

    /// The elements of an array of tables that read without error.
    fn elements<T>(
        &mut self,
        name: &str,
        mut read: impl FnMut(&mut Self, &str, &Value<'i>) -> Option<T>,
    ) -> (Vec<T>, Vec<usize>) {
        let Some(v) = self.root.get(name).cloned() else {
            return (Vec::new(), Vec::new());
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.error(
                name.to_string(),
                Some(v.span()),
                format!("`{name}` is a list of tables: write each one as [[{name}]]"),
            );
            return (Vec::new(), Vec::new());
        };
        let mut out = Vec::new();
        let mut at = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(t) = read(self, &format!("{name}[{i}]"), item) {
                out.push(t);
                at.push(i);
            }
        }
        out.shrink_to_fit();
        (out, at)
    }

    /// Deserialize one value, reporting every key that fails (see
    /// `crier_bots::config::read`).
    pub fn value<T: DeserializeOwned>(&mut self, path: &str, v: &Value<'i>) -> Option<T> {
        match read::<T>(v) {
            Ok(t) => Some(t),
            Err(errors) => {
                self.field_errors(path, errors);
                None
            }
        }
    }

    /// One `[[targets]]` element: the common keys, then its platform's.
    fn target(&mut self, path: &str, v: &Value<'i>) -> Option<TargetConfig> {
        let DeValue::Table(table) = v.get_ref() else {
            self.error(path.into(), Some(v.span()), "expected a table".into());
            return None;
        };
        let name = table
            .get("name")
            .and_then(|n| n.get_ref().as_str())
            .unwrap_or("")
            .to_string();
        let choices: Vec<&'static str> = self
            .platforms
            .iter()
            .flat_map(|p| p.kinds().iter().copied())
            .collect();
        let platform = match table.get("platform") {
            None => {
                self.error(
                    path.into(),
                    Some(v.span()),
                    format!(
                        "target {name:?} needs `platform` (one of {})",
                        choices.join(", ")
                    ),
                );
                None
            }
            Some(p) => {
                let got = p.get_ref().as_str().unwrap_or("");
                let found = choices.iter().copied().find(|c| *c == got);
                if found.is_none() {
                    self.error(
                        format!("{path}.platform"),
                        Some(p.span()),
                        format!(
                            "unknown variant `{got}`, expected one of {}{}",
                            choices
                                .iter()
                                .map(|c| format!("`{c}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            did_you_mean(got, choices.iter().copied())
                        ),
                    );
                }
                found
            }
        };
        let common_fields = fields_of::<TargetCommon>();
        // Without a platform, only the common keys can be checked.
        let Some(kind) = platform else {
            let common = subtable(v, table, |k| common_fields.contains(&k));
            let _ = self.value::<TargetCommon>(path, &common);
            return None;
        };
        let serves = self
            .platforms
            .iter()
            .find(|p| p.kinds().contains(&kind))
            .cloned()?;
        let parts = serves.kind_fields(kind);
        // Keys of no part of this kind: name the kinds they belong to.
        for (k, span) in table
            .iter()
            .map(|(k, _)| (k.get_ref().to_string(), k.span()))
        {
            if k == "platform" || common_fields.contains(&k.as_str()) {
                continue;
            }
            if parts.iter().any(|fields| fields.contains(&k.as_str())) {
                continue;
            }
            let owners: Vec<&str> = self
                .platforms
                .iter()
                .flat_map(|p| p.kinds().iter().map(move |kind| (p, *kind)))
                .filter(|(p, kind)| p.kind_fields(kind).iter().any(|f| f.contains(&k.as_str())))
                .map(|(_, kind)| kind)
                .collect();
            let message = if owners.is_empty() {
                let all = common_fields
                    .iter()
                    .chain(parts.iter().flat_map(|f| f.iter()))
                    .copied();
                format!("unknown field `{k}`{}", did_you_mean(&k, all))
            } else {
                format!(
                    "`{k}` is not used by platform {kind} (target {name:?}); it is a key of {}",
                    owners.join(", ")
                )
            };
            self.error(format!("{path}.{k}"), Some(span), message);
        }
        let before = self.errors.len();
        let common =
            self.value::<TargetCommon>(path, &subtable(v, table, |k| common_fields.contains(&k)));
        let mut reader = Parts::new(v, table);
        let spec = serves.read_target(kind, &mut reader);
        self.field_errors(path, reader.errors);
        // "missing field `chat`" says less than what the target needs.
        for e in &mut self.errors[before..] {
            if let Some(k) = missing_field(&e.message) {
                e.message = format!("target {name:?} (platform {kind}) needs `{k}`");
            }
        }
        Some(TargetConfig {
            common: common?,
            platform: serves,
            kind,
            spec: spec?,
        })
    }
}
