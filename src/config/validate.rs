//! Checks across keys, after every key has been read into its type:
//! unique names, feeds that name existing targets, tokens for the
//! platforms in use, templates that compile, one URL per feed. Each error
//! is at its key path (the line comes from the file's spans).
//!
//! When some key failed to read (`partial`), the checks that need what is
//! missing (a target's name, a section's token) are skipped: the read
//! errors already say what to fix.

use std::collections::{HashMap, HashSet};

use crier_bots::platform::SectionEnv;

use super::Config;
use super::load::Loader;
use super::values::Pattern;

pub(super) fn validate(cfg: &Config, l: &mut Loader<'_>, partial: bool) {
    if let Err((key, message)) = cfg.storage.location(&cfg.base_dir) {
        l.error_at(format!("storage.{key}"), message);
    }
    if let Some((key, message)) = cfg.storage.lease_error() {
        l.error_at(format!("storage.{key}"), message);
    }
    for (key, message) in cfg.http.errors() {
        l.error_at(key, message);
    }
    let env = SectionEnv {
        listener: cfg.http.listen_addr().is_some(),
        public_url: cfg.http.public_url.is_some(),
    };
    for p in &cfg.platforms {
        if let Some(section) = &p.section {
            for (key, message) in p.platform.section_problems(&**section, &env) {
                l.error_at(format!("{}.{key}", p.name()), message);
            }
        }
    }

    let listener = cfg.http.listen_addr().is_some();
    for (i, f) in cfg.feeds.iter().enumerate() {
        for (key, message) in f.push_errors(listener) {
            let path = l.element_path("feeds", i, key);
            l.error_at(path, message);
        }
    }
    targets(cfg, l, partial);
    feeds(cfg, l, partial);
}

fn targets(cfg: &Config, l: &mut Loader<'_>, partial: bool) {
    let mut names = HashSet::new();
    for (i, t) in cfg.targets.iter().enumerate() {
        let push = |l: &mut Loader<'_>, key: &str, message: String| {
            let path = l.element_path("targets", i, key);
            l.error_at(path, message);
        };
        if t.name.trim().is_empty() {
            push(l, "name", "a target needs a non-empty name".into());
        } else if !names.insert(t.name.0.clone()) {
            push(
                l,
                "name",
                format!("another target is already named {:?}", t.name.0),
            );
        }
        for (key, message) in t.platform.target_problems(&*t.spec) {
            push(l, key, message);
        }
        let fmt = cfg.target_format(t);
        let looks = t.platform.looks(&*t.spec);
        let mut seen = HashSet::new();
        for look in looks {
            for (key, e) in fmt.problems(*look) {
                if seen.insert((key, e.clone())) {
                    push(l, key, format!("target {:?}: {e}", t.name.0));
                }
            }
        }
        if t.digest && t.max_posts_per_hour.is_none() {
            push(
                l,
                "digest",
                "`digest = true` needs `max_posts_per_hour` (the digest combines a burst beyond it)"
                    .into(),
            );
        }
        if t.max_posts_per_hour == Some(0) {
            push(l, "max_posts_per_hour", "must be at least 1".into());
        }
        if partial {
            // A platform section that failed to read is reported
            // already; its token cannot be judged.
            continue;
        }
        let section = cfg
            .platform(t.platform.name())
            .and_then(|p| p.section.as_deref());
        if let Some((key, message)) = t.platform.needs(section, &*t.spec, &t.name.0) {
            push(l, key, message);
        }
    }
}

fn feeds(cfg: &Config, l: &mut Loader<'_>, partial: bool) {
    let mut names = HashSet::new();
    let mut urls: HashMap<String, String> = HashMap::new();
    for (i, f) in cfg.feeds.iter().enumerate() {
        let push = |l: &mut Loader<'_>, key: &str, message: String| {
            let path = l.element_path("feeds", i, key);
            l.error_at(path, message);
        };
        if f.name.trim().is_empty() {
            push(l, "name", "a feed needs a non-empty name".into());
        } else if !names.insert(f.name.0.clone()) {
            push(
                l,
                "name",
                format!("another feed is already named {:?}", f.name.0),
            );
        }
        match cfg.feed_location(f) {
            Err(e) => push(l, "url", e),
            Ok(url) => {
                let id = crate::sources::feed_identity(&url);
                if let Some(first) = urls.get(&id) {
                    push(
                        l,
                        "url",
                        format!(
                            "the same feed as {first}: every article would be posted twice (one feed can list several targets)"
                        ),
                    );
                } else {
                    urls.insert(id, l.element_path("feeds", i, "url"));
                }
            }
        }
        if f.interval.0 < cfg.sources.min_interval.0 {
            push(
                l,
                "interval",
                format!(
                    "{} is shorter than the minimum poll interval ({})",
                    humantime::format_duration(f.interval.0),
                    humantime::format_duration(cfg.sources.min_interval.0)
                ),
            );
        }
        if f.targets.is_empty() {
            push(l, "targets", "a feed needs at least one target".into());
        }
        // A target that failed to read is reported already.
        if !partial {
            for (j, t) in f.targets.iter().enumerate() {
                if !cfg.targets.iter().any(|x| x.name == *t) {
                    let known: Vec<&str> = cfg.targets.iter().map(|x| x.name.0.as_str()).collect();
                    push(
                        l,
                        &format!("targets[{j}]"),
                        format!(
                            "no target named {:?} (targets: {}){}",
                            t.0,
                            if known.is_empty() {
                                "none defined".to_string()
                            } else {
                                known.join(", ")
                            },
                            super::did_you_mean(t, known.iter().copied())
                        ),
                    );
                }
            }
        }
        for (j, p) in f.drop_patterns.iter().enumerate() {
            if let Err(e) = Pattern::new(p) {
                push(l, &format!("drop_patterns[{j}]"), e);
            }
        }
        if let Err(e) = cfg.feed_render_options(f).check() {
            push(l, "", format!("feed {:?}: {e}", f.name.0));
        }
        for (j, r) in f.routes.iter().enumerate() {
            if !f.targets.iter().any(|t| t == &r.target) {
                push(
                    l,
                    &format!("routes[{j}].target"),
                    format!(
                        "{:?} is not one of this feed's targets ({})",
                        r.target.0,
                        f.targets
                            .iter()
                            .map(|t| t.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// What is allowed but probably not meant.
pub(super) fn warnings(cfg: &Config, l: &Loader<'_>) -> Vec<super::ConfigError> {
    let mut out = Vec::new();
    for (i, t) in cfg.targets.iter().enumerate() {
        for (key, message) in t.platform.target_warnings(&*t.spec) {
            let key = l.element_path("targets", i, key);
            out.push(super::ConfigError {
                file: cfg.file.clone(),
                line: l.line(&key),
                key,
                message,
            });
        }
    }
    out
}
