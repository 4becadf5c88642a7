//! The platform seam: what a chat platform module implements so that the
//! core can read its part of `config.toml`, build its targets, run its
//! command front-end and answer for it, without naming it.
//!
//! A platform implements [`Platform`] with its own typed section and
//! target types; the core holds platforms as [`DynPlatform`] trait objects
//! (the blanket impl below does the one downcast), and loops over the
//! registered ones (`src/platforms.rs` in the core: one line each).

mod erased;
pub mod kv;
pub use kv::{KvStore, MemoryKv};

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use toml::de::DeTable;

use crate::commands::{Caller, Handler, Notifier, Role};
use crate::config::read::{FieldError, Value, fields_of, read, subtable};
use crate::format::{FeedRenderOptions, Look, TargetFormat};
use crate::model::Post;
use crate::target::Target;

pub use erased::{DynPlatform, Spec};

/// A chat platform, with its typed config.
pub trait Platform: Send + Sync + 'static {
    /// Its `[section]` in the config (read when present).
    type Section: Debug + Send + Sync + 'static;
    /// The platform keys of one of its targets.
    type Target: Debug + Send + Sync + 'static;

    /// Its name: the config section, and the label of its metrics,
    /// audit lines and front-end task (`"telegram"`).
    fn name(&self) -> &'static str;

    /// Whether it has a `[section]` (the console has none).
    fn has_section(&self) -> bool {
        true
    }

    /// The values of `platform = "…"` it serves.
    fn kinds(&self) -> &'static [&'static str];

    /// The keys of a kind's targets besides the common ones, as the field
    /// lists of the parts [`Platform::read_target`] reads (so a key of
    /// another kind is reported as such).
    fn kind_fields(&self, kind: &str) -> Vec<&'static [&'static str]>;

    /// Read its section.
    fn read_section(&self, v: &Value<'_>) -> Result<Self::Section, Vec<FieldError>>;

    /// Read a target's platform keys (`kind` is one of [`Platform::kinds`]).
    /// `None` when a part failed; the errors are in `parts`.
    fn read_target(&self, kind: &str, parts: &mut Parts<'_, '_>) -> Option<Self::Target>;

    /// The formatter rules its posts must pass (both for the console).
    fn looks(&self, t: &Self::Target) -> &'static [Look];

    /// Set its look keys on the formatter's settings.
    fn apply_look(&self, t: &Self::Target, fmt: &mut TargetFormat);

    /// Problems of its section seen with the rest of the config, as
    /// `(key relative to the section, message)`.
    fn section_problems(&self, _s: &Self::Section, _env: &SectionEnv) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Problems of a target's keys together, as `(key, message)`.
    fn target_problems(&self, _t: &Self::Target) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// What a target needs of the section that is missing (a token), as
    /// `(key, message)`; `name` is the target's.
    fn needs(
        &self,
        _section: Option<&Self::Section>,
        _t: &Self::Target,
        _name: &str,
    ) -> Option<(&'static str, String)> {
        None
    }

    /// What is allowed but probably not meant, as `(key, message)`.
    fn target_warnings(&self, _t: &Self::Target) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Where a target posts, for `crier check` (never a secret).
    fn address(&self, t: &Self::Target) -> String;

    /// Build its targets (they may share one client: one bot, one
    /// limiter), in the order given.
    fn build(
        &self,
        section: Option<&Self::Section>,
        targets: &[TargetInput<'_, Self::Target>],
    ) -> Result<Vec<Arc<dyn Target>>, String>;

    /// Its chat front-end, when the section turns commands on.
    fn frontend(
        &self,
        _section: &Self::Section,
        _handler: Arc<dyn Handler>,
        _env: &FrontendEnv,
    ) -> Result<Option<Frontend>, String> {
        Ok(None)
    }

    /// A caller's role from the section (`caller.platform` is this one).
    fn role(&self, _section: &Self::Section, _caller: &Caller) -> Role {
        Role::Stranger
    }

    /// Without a config, `crier preview --json` prints each platform's
    /// requests for the default look: this one's, or `None`.
    fn preview_requests(
        &self,
        _post: &Post,
        _feed: &FeedRenderOptions,
    ) -> Option<Result<Vec<serde_json::Value>, String>> {
        None
    }
}

/// Reads a target's keys in parts: each part is a struct of some of the
/// keys (`deny_unknown_fields`), read from just those keys.
pub struct Parts<'a, 'i> {
    value: &'a Value<'i>,
    table: &'a DeTable<'i>,
    /// What failed, with key paths relative to the target.
    pub errors: Vec<FieldError>,
}

impl<'a, 'i> Parts<'a, 'i> {
    pub fn new(value: &'a Value<'i>, table: &'a DeTable<'i>) -> Parts<'a, 'i> {
        Parts {
            value,
            table,
            errors: Vec::new(),
        }
    }

    /// The keys of part `T`, read as a `T`.
    pub fn part<T: DeserializeOwned>(&mut self) -> Option<T> {
        let fields = fields_of::<T>();
        let sub = subtable(self.value, self.table, |k| fields.contains(&k));
        match read::<T>(&sub) {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.extend(e);
                None
            }
        }
    }
}

/// A target to build: the common settings and its platform keys.
pub struct TargetInput<'a, T: ?Sized> {
    pub name: &'a str,
    /// Post without notification.
    pub silent: bool,
    pub format: TargetFormat,
    pub spec: &'a T,
    /// The core's persistent key-value store (`kv.rs`); `None` where
    /// there is no delivery log (`crier preview`, `crier check`).
    pub kv: Option<Arc<dyn KvStore>>,
}

/// What a section's checks may look at beyond the section.
#[derive(Debug, Clone, Default)]
pub struct SectionEnv {
    /// `[http] listen` is set.
    pub listener: bool,
    /// `[http] public_url` is set.
    pub public_url: bool,
}

/// What a front-end may need of the core.
#[derive(Debug, Clone, Default)]
pub struct FrontendEnv {
    /// The address the listener is reached at from outside.
    pub public_url: Option<url::Url>,
}

/// A long-lived task; the core supervises it (a panic is contained and
/// the task started again).
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A running chat front-end, as the core sees it.
pub struct Frontend {
    /// Sends alerts to the platform's admins.
    pub notifier: Arc<dyn Notifier>,
    /// Run until the token is cancelled; called again after a panic.
    pub run: Arc<dyn Fn(CancellationToken) -> Task + Send + Sync>,
    /// Routes the listener serves for it (its updates pushed to Crier).
    pub hooks: Vec<Hook>,
}

/// Takes a hook's body.
pub type Accept = Arc<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// A `POST` route on the listener, authenticated by its own secrets (an
/// unguessable path and a header compared in constant time), not by the
/// listener's token.
pub struct Hook {
    pub path: String,
    /// The header that must carry `secret`.
    pub secret_header: &'static str,
    pub secret: String,
    /// Take a body; an error is logged and the request acknowledged all
    /// the same (a platform would resend a refused body forever).
    pub accept: Accept,
}
