//! The platform-neutral command interface: who may do what, the
//! commands' syntax, and their replies. The platform front-ends
//! (`telegram::commands`, `discord::commands`) turn messages, slash
//! commands and button clicks into [`Cmd`]s for a [`Handler`] and show its
//! [`Reply`]s; the core implements the handler (it owns the delivery log).
//! This file holds the handler's and notifier's traits, the caller and
//! roles; the commands are in `cmd`, their table in `spec`, their syntax
//! in `parse`, the replies in `reply`.

mod cmd;
mod parse;
mod reply;
mod spec;
#[cfg(test)]
mod tests;

pub use cmd::{Cmd, IMPORT_MAX_BYTES, RetryWhat, Upload, too_big};
pub use parse::{parse, parse_args, parse_time};
pub use reply::{Button, FollowUp, Preview, Reply, ReplyFile};
pub use spec::{COMMANDS, CommandSpec, spec};

/// What the core offers the front-ends.
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    /// The caller's role.
    fn role(&self, caller: &Caller) -> Role;
    /// The timezone of times in commands and replies.
    fn timezone(&self) -> chrono_tz::Tz;
    /// Run a command. `None`: say nothing (a repeated refusal).
    async fn handle(&self, caller: &Caller, cmd: Cmd) -> Option<Reply>;
    /// A button click (Confirm / Cancel).
    async fn button(&self, caller: &Caller, data: &str) -> Reply;
    /// Wait for a publish or retraction to be carried out, then report.
    async fn follow_up(&self, f: FollowUp) -> Reply;
}

/// A front-end that can message the admins (alerts).
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    async fn notify_admins(&self, text: &str);
}

/// Where the status page's callers come from (they hold the listener's
/// access token); chat callers carry their platform's name.
pub const WEB: &str = "http";

/// Who sent a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The platform's name (`DynPlatform::name`), or [`WEB`].
    pub platform: &'static str,
    pub user_id: i64,
    /// A display name for the audit log and replies.
    pub name: String,
    /// Discord role ids of the member (empty on Telegram).
    pub roles: Vec<i64>,
}

impl Caller {
    /// `telegram:123` — the audit log's and pending confirmations' key.
    pub fn key(&self) -> String {
        format!("{}:{}", self.platform, self.user_id)
    }
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Stranger,
    Editor,
    Admin,
}
