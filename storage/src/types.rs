//! The row types of the delivery log and their states.

use crate::*;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// A delivery row's state.
    State {
        Pending = "pending",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
        Filtered = "filtered",
        Skipped = "skipped",
    }
}

string_enum! {
    /// The job a delivery row belongs to.
    Action { Post = "post", Edit = "edit", Delete = "delete" }
}

string_enum! {
    /// What one row does on the platform.
    Op { Send = "send", Edit = "edit", Delete = "delete" }
}

/// A feed's polling state, as the core last saved it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    pub feed: String,
    pub url: String,
    /// Opaque (JSON) state of the sources layer: validators, detected kind…
    pub fetch_state: String,
    /// True once the first successful poll recorded the feed's backlog.
    pub baseline_done: bool,
    pub last_poll_at: Option<Millis>,
    pub last_success_at: Option<Millis>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub next_poll_at: Option<Millis>,
    /// Set when the feed is paused (after repeated failures, or by command).
    pub paused_reason: Option<String>,
}

/// A feed's schedule ([`Store::feed_schedule`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedDue {
    pub feed: String,
    pub next_poll_at: Option<Millis>,
    pub paused: bool,
}

/// An article as a source saw it, ready to be recorded.
#[derive(Debug, Clone)]
pub struct IncomingArticle {
    /// Every identity key of the item, most preferred first (`guid:…`,
    /// `link:…`, `hash:…`). The article matches a stored one by any key.
    pub keys: Vec<String>,
    pub content_hash: String,
    pub title: String,
    pub link: Option<String>,
    pub published_at: Option<Millis>,
    /// The serialised post (opaque to storage).
    pub payload: String,
    /// A changed content hash is not an update (the source switched how
    /// it reads the feed, e.g. RSS ↔ WordPress API): just store it.
    pub refresh_only: bool,
}

/// The routing decision for one target of a new article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub target: String,
    /// `Pending`, `Filtered` or `Skipped`.
    pub state: State,
    /// Why it was filtered or skipped (the rule, "baseline"…).
    pub reason: Option<String>,
    /// Do not send before this time (scheduled posts).
    pub not_before: Option<Millis>,
}

impl Route {
    pub fn pending(target: impl Into<String>) -> Route {
        Route {
            target: target.into(),
            state: State::Pending,
            reason: None,
            not_before: None,
        }
    }
    pub fn with_state(target: impl Into<String>, state: State, reason: impl Into<String>) -> Route {
        Route {
            target: target.into(),
            state,
            reason: Some(reason.into()),
            not_before: None,
        }
    }
}

/// What recording an article did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// First time seen: delivery rows were created from the routes.
    New { article_id: i64 },
    /// Seen before with other content: the article was updated and edit
    /// jobs were queued for the targets that already show it.
    Updated {
        article_id: i64,
        revision: i64,
        edit_targets: Vec<String>,
    },
    /// Seen before, same content.
    Unchanged { article_id: i64 },
}

impl Ingested {
    pub fn article_id(&self) -> i64 {
        match self {
            Ingested::New { article_id }
            | Ingested::Updated { article_id, .. }
            | Ingested::Unchanged { article_id } => *article_id,
        }
    }
}

/// A stored article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: i64,
    pub feed: String,
    pub key: String,
    pub link: Option<String>,
    pub title: String,
    pub content_hash: String,
    pub revision: i64,
    pub payload: String,
    pub published_at: Option<Millis>,
    pub first_seen_at: Millis,
    pub updated_at: Millis,
    pub retracted_at: Option<Millis>,
}

/// One delivery row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub seq: i64,
    pub article_id: i64,
    pub target: String,
    pub action: Action,
    pub revision: i64,
    pub part: i64,
    pub op: Op,
    /// For `edit`/`delete` ops: the platform message they act on.
    pub ref_message: Option<String>,
    pub state: State,
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub not_before: Option<Millis>,
    /// The rendered part (opaque JSON), once rendered.
    pub payload: Option<String>,
    pub summary: Option<String>,
    pub message_id: Option<String>,
    pub message_url: Option<String>,
    pub reason: Option<String>,
    pub last_error: Option<String>,
    /// The row had a send whose outcome was unknown (timeout after sending,
    /// crash while `sending`) and was resent: a duplicate is possible.
    pub ambiguous: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub sent_at: Option<Millis>,
}

impl Delivery {
    /// True when this row still needs rendering/planning before it can be sent.
    pub fn needs_plan(&self) -> bool {
        self.payload.is_none() && self.ref_message.is_none()
    }
}

/// A delivery row with its article's title and link, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub delivery: Delivery,
    pub feed: String,
    pub title: String,
    pub link: Option<String>,
}

/// What the head of a target's queue looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueHead {
    /// Nothing to do; `next_due` is the earliest scheduled row, if any.
    Empty { next_due: Option<Millis> },
    /// The next row to work on (it may not be due yet: see `next_attempt_at`).
    Ready(Delivery),
    /// The target holds the line behind this failed row.
    Blocked(Delivery),
}

/// A message an (article, target, part) currently shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub part: i64,
    pub message_id: String,
    pub message_url: Option<String>,
    pub sent_at: Millis,
}

/// One part of a planned job (see [`Store::plan_job`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPart {
    pub op: Op,
    /// The payload to send or edit with (`None` for deletions).
    pub payload: Option<String>,
    pub summary: String,
    /// The message to edit or delete.
    pub ref_message: Option<String>,
}

/// A target's stored state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetState {
    pub target: String,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<Millis>,
    pub address_override: Option<String>,
    /// Set while an admin has paused the target.
    pub paused_reason: Option<String>,
}

/// Filter for [`Store::log`].
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub limit: usize,
    pub target: Option<String>,
    pub state: Option<State>,
    pub article_id: Option<i64>,
}

/// Counts for status displays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub filtered: u64,
    pub skipped: u64,
}
