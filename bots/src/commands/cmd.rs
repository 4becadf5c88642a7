//! The commands themselves: [`Cmd`] (what a caller asked for, with the
//! least role allowed to run it and whether it is audited), `/retry`'s
//! [`RetryWhat`], and the OPML file of an `/import` ([`Upload`]) with its
//! size limit.

use super::Role;

/// `/retry` what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryWhat {
    Delivery(i64),
    Target(String),
    All,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Help,
    // admins
    Status,
    Feeds,
    Targets,
    Pause(String),
    Resume(String),
    Retry(RetryWhat),
    Why(String),
    Log(usize),
    Subscribe {
        url: String,
        targets: Vec<String>,
    },
    Unsubscribe(String),
    /// `/import [targets…]` with an OPML file (the front-end finds it).
    Import {
        file: Upload,
        targets: Vec<String>,
    },
    /// `/export`: the watched feeds as an OPML file.
    Export,
    // editors (and admins)
    Preview(String),
    Publish {
        url: String,
        targets: Vec<String>,
    },
    /// An editor's own message; `html` uses the formatter's markup.
    Post {
        html: String,
        image: Option<String>,
        targets: Vec<String>,
        /// A stable key of the source message (de-duplication).
        source: String,
    },
    /// `/post [targets…]` before the content is known: the front-end
    /// takes the replied-to message, or the caller's next one.
    PostNext {
        targets: Vec<String>,
    },
    Schedule {
        at: i64,
        url: String,
        targets: Vec<String>,
    },
    Queue,
    Cancel(i64),
    Retract(String),
}

impl Cmd {
    /// The least role allowed to run it.
    pub fn needs(&self) -> Role {
        match self {
            Cmd::Help => Role::Stranger,
            Cmd::Preview(_)
            | Cmd::Publish { .. }
            | Cmd::Post { .. }
            | Cmd::PostNext { .. }
            | Cmd::Schedule { .. }
            | Cmd::Queue
            | Cmd::Cancel(_)
            | Cmd::Retract(_) => Role::Editor,
            _ => Role::Admin,
        }
    }

    /// Commands that change something are written to the audit log.
    pub fn changes_state(&self) -> bool {
        matches!(
            self,
            Cmd::Pause(_)
                | Cmd::Resume(_)
                | Cmd::Retry(_)
                | Cmd::Subscribe { .. }
                | Cmd::Unsubscribe(_)
                | Cmd::Import { .. }
                | Cmd::Publish { .. }
                | Cmd::Post { .. }
                | Cmd::Schedule { .. }
                | Cmd::Cancel(_)
                | Cmd::Retract(_)
        )
    }
}

/// The largest OPML file `/import` takes (an OPML of a few hundred feeds
/// is tens of KiB; Telegram's `getFile` would allow 20 MB).
pub const IMPORT_MAX_BYTES: u64 = 1 << 20;

/// The OPML file of an `/import`, as the front-end found it.
#[derive(Clone, PartialEq, Eq)]
pub enum Upload {
    /// The command came without a file.
    Missing,
    /// The file's content, read by the front-end (Telegram: from the Bot
    /// API's file endpoint, whose URL holds the token).
    Bytes { name: String, bytes: Vec<u8> },
    /// A file the core fetches through the SSRF guard (a Discord
    /// attachment URL), with the size the platform declared.
    Url {
        name: String,
        url: String,
        size: Option<u64>,
    },
    /// The front-end could not take it (too big, a download error): why.
    Refused(String),
}

impl std::fmt::Debug for Upload {
    // The audit line: never the content, never a URL's query (signed
    // attachment URLs carry one).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upload::Missing => write!(f, "no file"),
            Upload::Bytes { name, bytes } => write!(f, "{name:?} ({} bytes)", bytes.len()),
            Upload::Url { name, .. } => write!(f, "{name:?} (attachment)"),
            Upload::Refused(why) => write!(f, "refused file: {why}"),
        }
    }
}

/// The refusal of a file over [`IMPORT_MAX_BYTES`].
pub fn too_big(size: u64) -> String {
    format!(
        "The file is too big ({} KiB): /import takes OPML files up to {} KiB.",
        size.div_ceil(1024),
        IMPORT_MAX_BYTES / 1024
    )
}
