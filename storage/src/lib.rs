//! Crier's delivery log and feed state, in SQLite.
//!
//! The API is small and typed: no SQL leaves this crate, and no type of
//! rusqlite appears in a signature, so a second backend can implement the
//! same operations. Every state change is one transaction. Times are Unix
//! milliseconds (UTC).
//!
//! The promise this crate keeps for the core:
//! - an article is recorded once per feed, under every identity key it was
//!   ever seen with, together with its delivery rows (one transaction);
//! - a delivery row exists before anything is sent; a `sent` row never goes
//!   back to `pending` by itself;
//! - a target's queue is FIFO by `seq` (the order articles were enqueued),
//!   the parts of one job in part order.

mod admin;
mod import;
mod poison;
mod schema;
mod stats;
mod websub;

pub use admin::{AuditEntry, DynamicFeed, Scheduled};
pub use stats::QueueStats;
pub use websub::{SubState, Subscription};

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

/// Unix time in milliseconds.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", errors::describe(.0))]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer Crier (schema version {found}; this build supports up to {supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("no delivery with id {0}")]
    NoSuchDelivery(i64),
    #[error("no article with id {0}")]
    NoSuchArticle(i64),
    /// The task running a storage call failed (a panic in the caller's closure).
    #[error("storage task failed: {0}")]
    Internal(String),
}

impl Error {
    /// True for errors worth retrying later (the database is busy or locked).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

mod errors;

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

/// The SQLite store. One connection; callers serialise access (the core
/// runs it on a dedicated blocking thread).
pub struct Store {
    pub(crate) conn: Connection,
}

const DELIVERY_COLS: &str = "d.id, d.seq, d.article_id, d.target, d.action, d.revision, d.part, d.op, d.ref_message, d.state, d.attempts, d.next_attempt_at, d.not_before, d.payload, d.summary, d.message_id, d.message_url, d.reason, d.last_error, d.ambiguous, d.created_at, d.updated_at, d.sent_at";

const ARTICLE_COLS: &str = "id, feed, key, link, title, content_hash, revision, payload, published_at, first_seen_at, updated_at, retracted_at";

/// `query_row` through the statement cache.
pub(crate) fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

fn parse_enum<T>(v: String, parse: fn(&str) -> Option<T>, idx: usize) -> rusqlite::Result<T> {
    parse(&v).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown value {v:?}").into(),
        )
    })
}

fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        seq: r.get(1)?,
        article_id: r.get(2)?,
        target: r.get(3)?,
        action: parse_enum(r.get(4)?, Action::parse, 4)?,
        revision: r.get(5)?,
        part: r.get(6)?,
        op: parse_enum(r.get(7)?, Op::parse, 7)?,
        ref_message: r.get(8)?,
        state: parse_enum(r.get(9)?, State::parse, 9)?,
        attempts: r.get(10)?,
        next_attempt_at: r.get(11)?,
        not_before: r.get(12)?,
        payload: r.get(13)?,
        summary: r.get(14)?,
        message_id: r.get(15)?,
        message_url: r.get(16)?,
        reason: r.get(17)?,
        last_error: r.get(18)?,
        ambiguous: r.get(19)?,
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
        sent_at: r.get(22)?,
    })
}

fn article_from_row(r: &Row<'_>) -> rusqlite::Result<Article> {
    Ok(Article {
        id: r.get(0)?,
        feed: r.get(1)?,
        key: r.get(2)?,
        link: r.get(3)?,
        title: r.get(4)?,
        content_hash: r.get(5)?,
        revision: r.get(6)?,
        payload: r.get(7)?,
        published_at: r.get(8)?,
        first_seen_at: r.get(9)?,
        updated_at: r.get(10)?,
        retracted_at: r.get(11)?,
    })
}

fn feed_state_from_row(r: &Row<'_>) -> rusqlite::Result<FeedState> {
    Ok(FeedState {
        feed: r.get(0)?,
        url: r.get(1)?,
        fetch_state: r.get(2)?,
        baseline_done: r.get(3)?,
        last_poll_at: r.get(4)?,
        last_success_at: r.get(5)?,
        last_error: r.get(6)?,
        consecutive_failures: r.get(7)?,
        next_poll_at: r.get(8)?,
        paused_reason: r.get(9)?,
    })
}

const FEED_COLS: &str = "feed, url, fetch_state, baseline_done, last_poll_at, last_success_at, last_error, consecutive_failures, next_poll_at, paused_reason";

/// A new job for one (article, target).
struct NewJob<'a> {
    article_id: i64,
    target: &'a str,
    action: Action,
    revision: i64,
    state: State,
    reason: Option<&'a str>,
    not_before: Option<Millis>,
}

/// Insert one delivery row of a new job; its `seq` is its own id.
fn insert_job(tx: &rusqlite::Transaction<'_>, j: NewJob<'_>, now: Millis) -> rusqlite::Result<i64> {
    let NewJob {
        article_id,
        target,
        action,
        revision,
        state,
        reason,
        not_before,
    } = j;
    let op = match action {
        Action::Post => Op::Send,
        Action::Edit => Op::Edit,
        Action::Delete => Op::Delete,
    };
    tx.execute(
        "INSERT INTO deliveries (seq, article_id, target, action, revision, part, op, state, next_attempt_at, not_before, reason, created_at, updated_at)
         VALUES (0, ?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?7, ?7)",
        params![article_id, target, action.as_str(), revision, op.as_str(), state.as_str(), now, not_before, reason],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute("UPDATE deliveries SET seq = id WHERE id = ?1", [id])?;
    Ok(id)
}

/// Mark a target's unstarted rows of older jobs for an article as
/// superseded (skipped). `actions` are the jobs to supersede.
fn supersede(
    tx: &rusqlite::Transaction<'_>,
    article_id: i64,
    target: &str,
    actions: &[Action],
    reason: &str,
    now: Millis,
) -> rusqlite::Result<usize> {
    let mut n = 0;
    for a in actions {
        n += tx.execute(
            "UPDATE deliveries SET state = 'skipped', reason = ?4, updated_at = ?5
             WHERE article_id = ?1 AND target = ?2 AND action = ?3 AND state = 'pending'",
            params![article_id, target, a.as_str(), reason, now],
        )?;
    }
    Ok(n)
}

impl Store {
    /// Open (creating if needed) the database at `path`, in WAL mode, and
    /// apply pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::init(conn)
    }

    /// A private in-memory database (tests, `crier inspect`).
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Statements are prepared once and reused (the delivery path runs
        // the same few queries all day).
        conn.set_prepared_statement_cache_capacity(64);
        // journal_mode returns a row; "memory" for in-memory databases.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(row(&self.conn, "PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The latest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        schema::MIGRATIONS.len() as i64
    }

    pub(crate) fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    // ---------------------------------------------------------------- feeds

    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>> {
        Ok(row(
            &self.conn,
            &format!("SELECT {FEED_COLS} FROM feeds_state WHERE feed = ?1"),
            [feed],
            feed_state_from_row,
        )
        .optional()?)
    }

    pub fn feed_states(&self) -> Result<Vec<FeedState>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {FEED_COLS} FROM feeds_state ORDER BY feed"
        ))?;
        let rows = st.query_map([], feed_state_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn put_feed_state(&mut self, s: &FeedState, now: Millis) -> Result<()> {
        let tx = self.write()?;
        put_feed_state(&tx, s, now)?;
        tx.commit()?;
        Ok(())
    }

    // ------------------------------------------------------------- articles

    /// Record what one poll of `feed` saw, in one transaction: the feed's
    /// new state and every item. For each item: a new article gets its
    /// delivery rows from `routes`; a changed one gets edit jobs for the
    /// targets that already show (or are showing) it; an unchanged one
    /// only gains any new identity keys.
    pub fn ingest(
        &mut self,
        state: &FeedState,
        items: &[(IncomingArticle, Vec<Route>)],
        now: Millis,
    ) -> Result<Vec<Ingested>> {
        let tx = self.write()?;
        let mut out = Vec::with_capacity(items.len());
        for (item, routes) in items {
            out.push(ingest_one(&tx, &state.feed, item, routes, now)?);
        }
        put_feed_state(&tx, state, now)?;
        tx.commit()?;
        Ok(out)
    }

    /// Record one article outside a feed poll (an editor's publish):
    /// same rules as [`Store::ingest`].
    pub fn ingest_one(
        &mut self,
        feed: &str,
        item: &IncomingArticle,
        routes: &[Route],
        now: Millis,
    ) -> Result<Ingested> {
        let tx = self.write()?;
        let r = ingest_one(&tx, feed, item, routes, now)?;
        tx.commit()?;
        Ok(r)
    }

    pub fn article(&self, id: i64) -> Result<Option<Article>> {
        Ok(row(
            &self.conn,
            &format!("SELECT {ARTICLE_COLS} FROM articles WHERE id = ?1"),
            [id],
            article_from_row,
        )
        .optional()?)
    }

    /// Articles whose link is `link`, newest first.
    pub fn articles_by_link(&self, link: &str) -> Result<Vec<Article>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ARTICLE_COLS} FROM articles WHERE link = ?1 ORDER BY id DESC"
        ))?;
        let rows = st.query_map([link], article_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The article a feed knows under `key`, if any.
    pub fn article_by_key(&self, feed: &str, key: &str) -> Result<Option<Article>> {
        Ok(row(&self.conn,
                &format!(
                    "SELECT {ARTICLE_COLS} FROM articles WHERE id = (SELECT article_id FROM article_keys WHERE feed = ?1 AND key = ?2)"
                ),
                [feed, key],
                article_from_row,
            )
            .optional()?)
    }

    /// Number of articles recorded for a feed.
    pub fn article_count(&self, feed: &str) -> Result<u64> {
        let n: i64 = row(
            &self.conn,
            "SELECT COUNT(*) FROM articles WHERE feed = ?1",
            [feed],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Retract an article: its unsent post/edit rows are skipped and a
    /// delete job is queued for every target that shows it. Returns those
    /// targets.
    pub fn retract(&mut self, article_id: i64, now: Millis) -> Result<Vec<String>> {
        let tx = self.write()?;
        let revision: i64 = row(
            &tx,
            "SELECT revision FROM articles WHERE id = ?1",
            [article_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(Error::NoSuchArticle(article_id))?;
        tx.execute(
            "UPDATE articles SET retracted_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![article_id, now],
        )?;
        let targets: Vec<String> = {
            let mut st = tx.prepare_cached(
                "SELECT DISTINCT target FROM deliveries WHERE article_id = ?1 AND action = 'post' ORDER BY target",
            )?;
            st.query_map([article_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut queued = Vec::new();
        for t in targets {
            supersede(
                &tx,
                article_id,
                &t,
                &[Action::Post, Action::Edit],
                "retracted",
                now,
            )?;
            let shows: i64 = row(
                &tx,
                "SELECT COUNT(*) FROM posted_messages WHERE article_id = ?1 AND target = ?2",
                params![article_id, t],
                |r| r.get(0),
            )?;
            // A part being sent right now may still land: delete after it.
            let in_flight: i64 = row(
                &tx,
                "SELECT COUNT(*) FROM deliveries WHERE article_id = ?1 AND target = ?2 AND state = 'sending'",
                params![article_id, t],
                |r| r.get(0),
            )?;
            if shows + in_flight > 0 {
                tx.execute(
                    "DELETE FROM deliveries WHERE article_id = ?1 AND target = ?2 AND action = 'delete' AND revision = ?3 AND state = 'pending' AND payload IS NULL AND ref_message IS NULL",
                    params![article_id, t, revision],
                )?;
                let exists: i64 = row(
                    &tx,
                    "SELECT COUNT(*) FROM deliveries WHERE article_id = ?1 AND target = ?2 AND action = 'delete' AND revision = ?3",
                    params![article_id, t, revision],
                    |r| r.get(0),
                )?;
                if exists == 0 {
                    insert_job(
                        &tx,
                        NewJob {
                            article_id,
                            target: &t,
                            action: Action::Delete,
                            revision,
                            state: State::Pending,
                            reason: None,
                            not_before: None,
                        },
                        now,
                    )?;
                    queued.push(t);
                }
            }
        }
        tx.commit()?;
        Ok(queued)
    }

    // ------------------------------------------------------------- queue

    /// The head of a target's queue: the lowest-`seq` row (then lowest
    /// part) that is `pending` or `sending` and not scheduled for later.
    /// With `hold_on_failure`, a `failed` row ahead of it blocks the queue.
    pub fn queue_head(
        &self,
        target: &str,
        now: Millis,
        hold_on_failure: bool,
    ) -> Result<QueueHead> {
        let head = row(
            &self.conn,
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d
                     WHERE d.target = ?1 AND d.state IN ('pending','sending')
                       AND (d.not_before IS NULL OR d.not_before <= ?2)
                     ORDER BY d.seq, d.part LIMIT 1"
            ),
            params![target, now],
            delivery_from_row,
        )
        .optional()?;
        if hold_on_failure {
            let blocker = row(
                &self.conn,
                &format!(
                    "SELECT {DELIVERY_COLS} FROM deliveries d
                         WHERE d.target = ?1 AND d.state = 'failed' AND d.seq <= ?2
                         ORDER BY d.seq, d.part LIMIT 1"
                ),
                params![target, head.as_ref().map(|h| h.seq).unwrap_or(i64::MAX)],
                delivery_from_row,
            )
            .optional()?;
            if let Some(b) = blocker {
                return Ok(QueueHead::Blocked(b));
            }
        }
        match head {
            Some(h) => Ok(QueueHead::Ready(h)),
            None => {
                let next_due: Option<Millis> = row(
                    &self.conn,
                    "SELECT MIN(not_before) FROM deliveries WHERE target = ?1 AND state = 'pending' AND not_before > ?2",
                    params![target, now],
                    |r| r.get(0),
                )?;
                Ok(QueueHead::Empty { next_due })
            }
        }
    }

    /// Later rows of a target's queue that are unrendered posts (digest
    /// candidates), in queue order, after `after_seq`.
    pub fn pending_posts_after(
        &self,
        target: &str,
        after_seq: i64,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM deliveries d
             WHERE d.target = ?1 AND d.state = 'pending' AND d.action = 'post' AND d.part = 0
               AND d.payload IS NULL AND d.seq > ?2 AND (d.not_before IS NULL OR d.not_before <= ?3)
             ORDER BY d.seq LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![target, after_seq, now, limit as i64],
            delivery_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn delivery(&self, id: i64) -> Result<Option<Delivery>> {
        Ok(row(
            &self.conn,
            &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
            [id],
            delivery_from_row,
        )
        .optional()?)
    }

    /// Turn an unplanned job row into its parts: the row itself becomes the
    /// first part and the rest are inserted after it with the same `seq`.
    /// An empty plan marks the row `skipped` with `empty_reason`.
    pub fn plan_job(
        &mut self,
        delivery_id: i64,
        parts: &[PlannedPart],
        empty_reason: &str,
        now: Millis,
    ) -> Result<()> {
        let tx = self.write()?;
        plan_job(&tx, delivery_id, parts, empty_reason, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Plan a digest: `delivery_id` carries the digest's parts and the
    /// `folded` post rows are marked as included in it, in one transaction.
    pub fn plan_digest(
        &mut self,
        delivery_id: i64,
        parts: &[PlannedPart],
        folded: &[i64],
        now: Millis,
    ) -> Result<()> {
        let tx = self.write()?;
        plan_job(
            &tx,
            delivery_id,
            parts,
            "the digest rendered to nothing",
            now,
        )?;
        let reason = format!("included in digest delivery #{delivery_id}");
        for id in folded {
            tx.execute(
                "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'",
                params![id, reason, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When the posts (first parts of post jobs) sent to a target since
    /// `since` were sent, oldest first.
    pub fn post_times_since(&self, target: &str, since: Millis) -> Result<Vec<Millis>> {
        let mut st = self.conn.prepare_cached(
            "SELECT sent_at FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent' AND sent_at >= ?2 ORDER BY sent_at",
        )?;
        let rows = st.query_map(params![target, since], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The row is about to be sent: `sending`, one more attempt. Returns
    /// the attempt number.
    pub fn mark_sending(&mut self, id: i64, now: Millis) -> Result<u32> {
        let tx = self.write()?;
        let n = tx.execute(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1 AND state IN ('pending','sending')",
            params![id, now],
        )?;
        if n == 0 {
            return Err(Error::NoSuchDelivery(id));
        }
        let attempts: u32 = row(
            &tx,
            "SELECT attempts FROM deliveries WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(attempts)
    }

    /// The row's operation succeeded. Records the platform message (if
    /// any) and updates what the article shows on the target.
    pub fn mark_sent(
        &mut self,
        id: i64,
        message_id: Option<&str>,
        message_url: Option<&str>,
        note: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let tx = self.write()?;
        let d = row(
            &tx,
            &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
            [id],
            delivery_from_row,
        )
        .optional()?
        .ok_or(Error::NoSuchDelivery(id))?;
        tx.execute(
            "UPDATE deliveries SET state = 'sent', message_id = COALESCE(?2, message_id), message_url = COALESCE(?3, message_url), reason = COALESCE(?4, reason), sent_at = ?5, updated_at = ?5 WHERE id = ?1",
            params![id, message_id, message_url, note, now],
        )?;
        match d.op {
            Op::Send | Op::Edit => {
                if let Some(mid) = message_id.or(d.ref_message.as_deref()) {
                    tx.execute(
                        "INSERT INTO posted_messages (article_id, target, part, message_id, message_url, sent_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT(article_id, target, part) DO UPDATE SET message_id = excluded.message_id,
                           message_url = COALESCE(excluded.message_url, posted_messages.message_url),
                           sent_at = CASE WHEN posted_messages.message_id = excluded.message_id THEN posted_messages.sent_at ELSE excluded.sent_at END",
                        params![d.article_id, d.target, d.part, mid, message_url, now],
                    )?;
                }
            }
            Op::Delete => {
                if let Some(mid) = d.ref_message.as_deref() {
                    tx.execute(
                        "DELETE FROM posted_messages WHERE article_id = ?1 AND target = ?2 AND message_id = ?3",
                        params![d.article_id, d.target, mid],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The attempt failed but will be retried at `next_at`.
    pub fn mark_retry(
        &mut self,
        id: i64,
        error: &str,
        next_at: Millis,
        ambiguous: bool,
        now: Millis,
    ) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', last_error = ?2, next_attempt_at = ?3, ambiguous = ambiguous OR ?4, updated_at = ?5 WHERE id = ?1",
            params![id, error, next_at, ambiguous, now],
            id,
        )
    }

    /// Put a row back to `pending` without counting an attempt (a rate
    /// limit, a target paused mid-send).
    pub fn defer(&mut self, id: i64, next_at: Millis, note: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', attempts = MAX(attempts - 1, 0), last_error = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, note, next_at, now],
            id,
        )
    }

    /// The delivery failed for good (until re-queued).
    pub fn mark_failed(&mut self, id: i64, error: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, error, now],
            id,
        )
    }

    /// The delivery will not be attempted (nothing to edit, retracted…).
    pub fn mark_skipped(&mut self, id: i64, reason: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, reason, now],
            id,
        )
    }

    /// Mark a row whose previous send had an unknown outcome as ambiguous
    /// and pending again (resend policy after a crash).
    pub fn resend_ambiguous(&mut self, id: i64, note: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', ambiguous = 1, last_error = ?2, next_attempt_at = ?3, updated_at = ?3 WHERE id = ?1",
            params![id, note, now],
            id,
        )
    }

    fn update_row(&mut self, sql: &str, p: impl rusqlite::Params, id: i64) -> Result<()> {
        let tx = self.write()?;
        let n = tx.execute(sql, p)?;
        if n == 0 {
            return Err(Error::NoSuchDelivery(id));
        }
        tx.commit()?;
        Ok(())
    }

    /// Rows left `sending` (by a crash), oldest first.
    pub fn stale_sending(&self) -> Result<Vec<Delivery>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.state = 'sending' ORDER BY d.seq, d.part"
        ))?;
        let rows = st.query_map([], delivery_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Put failed rows back in the queue: one row, or a target's, or all.
    /// Returns the number re-queued and the targets concerned.
    pub fn requeue_failed(
        &mut self,
        delivery: Option<i64>,
        target: Option<&str>,
        now: Millis,
    ) -> Result<(usize, Vec<String>)> {
        let tx = self.write()?;
        let targets: Vec<String> = {
            let mut st = tx.prepare_cached(
                "SELECT DISTINCT target FROM deliveries WHERE state = 'failed'
                 AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR target = ?2)",
            )?;
            st.query_map(params![delivery, target], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let n = tx.execute(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?3, updated_at = ?3
             WHERE state = 'failed' AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR target = ?2)",
            params![delivery, target, now],
        )?;
        tx.commit()?;
        Ok((n, targets))
    }

    /// What an article currently shows on a target, by part.
    pub fn posted_messages(&self, article_id: i64, target: &str) -> Result<Vec<PostedMessage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT part, message_id, message_url, sent_at FROM posted_messages WHERE article_id = ?1 AND target = ?2 ORDER BY part",
        )?;
        let rows = st.query_map(params![article_id, target], |r| {
            Ok(PostedMessage {
                part: r.get(0)?,
                message_id: r.get(1)?,
                message_url: r.get(2)?,
                sent_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Posts (first parts of post jobs) sent to a target since `since`.
    pub fn posts_sent_since(&self, target: &str, since: Millis) -> Result<u64> {
        let n: i64 = row(
            &self.conn,
            "SELECT COUNT(*) FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent' AND sent_at >= ?2",
            params![target, since],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Send time of the most recent post sent to a target.
    pub fn last_post_sent_at(&self, target: &str) -> Result<Option<Millis>> {
        Ok(row(
            &self.conn,
            "SELECT MAX(sent_at) FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent'",
            [target],
            |r| r.get(0),
        )?)
    }

    // --------------------------------------------------------------- log

    /// Recent delivery rows, newest first, with their article.
    pub fn log(&self, q: &LogQuery) -> Result<Vec<LogEntry>> {
        let limit = if q.limit == 0 { 50 } else { q.limit } as i64;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS}, a.feed, a.title, a.link FROM deliveries d JOIN articles a ON a.id = d.article_id
             WHERE (?1 IS NULL OR d.target = ?1) AND (?2 IS NULL OR d.state = ?2) AND (?3 IS NULL OR d.article_id = ?3)
             ORDER BY d.updated_at DESC, d.id DESC LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![q.target, q.state.map(State::as_str), q.article_id, limit],
            |r| {
                Ok(LogEntry {
                    delivery: delivery_from_row(r)?,
                    feed: r.get(23)?,
                    title: r.get(24)?,
                    link: r.get(25)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every delivery row of an article, in queue order.
    pub fn deliveries_for_article(&self, article_id: i64) -> Result<Vec<Delivery>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.article_id = ?1 ORDER BY d.target, d.seq, d.part"
        ))?;
        let rows = st.query_map([article_id], delivery_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Row counts by state for a target (or all), updated since `since`
    /// (queued counts ignore `since`).
    pub fn counts(&self, target: Option<&str>, since: Millis) -> Result<Counts> {
        let mut c = Counts::default();
        let mut st = self.conn.prepare_cached(
            "SELECT state, COUNT(*) FROM deliveries WHERE (?1 IS NULL OR target = ?1)
             AND (state IN ('pending','sending') OR updated_at >= ?2) GROUP BY state",
        )?;
        let rows = st.query_map(params![target, since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (s, n) = row?;
            match State::parse(&s) {
                Some(State::Pending | State::Sending) => c.queued += n,
                Some(State::Sent) => c.sent += n,
                Some(State::Failed) => c.failed += n,
                Some(State::Filtered) => c.filtered += n,
                Some(State::Skipped) => c.skipped += n,
                None => {}
            }
        }
        Ok(c)
    }

    // ------------------------------------------------------------ targets

    pub fn target_state(&self, target: &str) -> Result<Option<TargetState>> {
        Ok(row(&self.conn,
                "SELECT target, disabled_reason, disabled_at, address_override, paused_reason FROM targets_state WHERE target = ?1",
                [target],
                |r| {
                    Ok(TargetState {
                        target: r.get(0)?,
                        disabled_reason: r.get(1)?,
                        disabled_at: r.get(2)?,
                        address_override: r.get(3)?,
                        paused_reason: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Disable a target with a reason (`Some`), or enable it (`None`).
    /// Returns true when the state changed.
    pub fn set_target_disabled(
        &mut self,
        target: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let before: Option<Option<String>> = row(
            &tx,
            "SELECT disabled_reason FROM targets_state WHERE target = ?1",
            [target],
            |r| r.get(0),
        )
        .optional()?;
        let was_disabled = matches!(before, Some(Some(_)));
        tx.execute(
            "INSERT INTO targets_state (target, disabled_reason, disabled_at, updated_at) VALUES (?1, ?2, CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END, ?3)
             ON CONFLICT(target) DO UPDATE SET disabled_reason = excluded.disabled_reason, disabled_at = excluded.disabled_at, updated_at = excluded.updated_at",
            params![target, reason, now],
        )?;
        tx.commit()?;
        Ok(was_disabled != reason.is_some())
    }

    /// Remember a new address for a target (a migrated Telegram group).
    pub fn set_target_address(&mut self, target: &str, address: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO targets_state (target, address_override, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(target) DO UPDATE SET address_override = excluded.address_override, updated_at = excluded.updated_at",
            params![target, address, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn plan_job(
    tx: &rusqlite::Transaction<'_>,
    delivery_id: i64,
    parts: &[PlannedPart],
    empty_reason: &str,
    now: Millis,
) -> Result<()> {
    let head = row(
        tx,
        &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
        [delivery_id],
        delivery_from_row,
    )
    .optional()?
    .ok_or(Error::NoSuchDelivery(delivery_id))?;
    if parts.is_empty() {
        tx.execute(
            "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![delivery_id, empty_reason, now],
        )?;
    }
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            tx.execute(
                "UPDATE deliveries SET op = ?2, payload = ?3, summary = ?4, ref_message = ?5, updated_at = ?6 WHERE id = ?1",
                params![delivery_id, p.op.as_str(), p.payload, p.summary, p.ref_message, now],
            )?;
        } else {
            tx.execute(
                "INSERT INTO deliveries (seq, article_id, target, action, revision, part, op, ref_message, state, next_attempt_at, not_before, payload, summary, reason, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?9, ?9)",
                params![
                    head.seq,
                    head.article_id,
                    head.target,
                    head.action.as_str(),
                    head.revision,
                    head.part + i as i64,
                    p.op.as_str(),
                    p.ref_message,
                    now,
                    head.not_before,
                    p.payload,
                    p.summary,
                    head.reason,
                ],
            )?;
        }
    }
    Ok(())
}

fn put_feed_state(tx: &rusqlite::Transaction<'_>, s: &FeedState, now: Millis) -> Result<()> {
    tx.execute(
        "INSERT INTO feeds_state (feed, url, fetch_state, baseline_done, last_poll_at, last_success_at, last_error, consecutive_failures, next_poll_at, paused_reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(feed) DO UPDATE SET url = excluded.url, fetch_state = excluded.fetch_state, baseline_done = excluded.baseline_done,
           last_poll_at = excluded.last_poll_at, last_success_at = excluded.last_success_at, last_error = excluded.last_error,
           consecutive_failures = excluded.consecutive_failures, next_poll_at = excluded.next_poll_at,
           paused_reason = excluded.paused_reason, updated_at = excluded.updated_at",
        params![
            s.feed,
            s.url,
            s.fetch_state,
            s.baseline_done,
            s.last_poll_at,
            s.last_success_at,
            s.last_error,
            s.consecutive_failures,
            s.next_poll_at,
            s.paused_reason,
            now
        ],
    )?;
    Ok(())
}

fn ingest_one(
    tx: &rusqlite::Transaction<'_>,
    feed: &str,
    item: &IncomingArticle,
    routes: &[Route],
    now: Millis,
) -> Result<Ingested> {
    // Find the article under any of its keys, preferring the first key.
    let mut existing: Option<(i64, String, i64, Option<Millis>)> = None;
    for key in &item.keys {
        existing = row(tx,
                "SELECT a.id, a.content_hash, a.revision, a.retracted_at FROM article_keys k JOIN articles a ON a.id = k.article_id WHERE k.feed = ?1 AND k.key = ?2",
                params![feed, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if existing.is_some() {
            break;
        }
    }
    let primary = item.keys.first().map(String::as_str).unwrap_or("");
    let outcome = match existing {
        None => {
            tx.execute(
                "INSERT INTO articles (feed, key, link, title, content_hash, revision, payload, published_at, first_seen_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?8)",
                params![feed, primary, item.link, item.title, item.content_hash, item.payload, item.published_at, now],
            )?;
            let article_id = tx.last_insert_rowid();
            for r in routes {
                insert_job(
                    tx,
                    NewJob {
                        article_id,
                        target: &r.target,
                        action: Action::Post,
                        revision: 0,
                        state: r.state,
                        reason: r.reason.as_deref(),
                        not_before: r.not_before,
                    },
                    now,
                )?;
            }
            Ingested::New { article_id }
        }
        Some((article_id, hash, _, _)) if hash == item.content_hash => {
            Ingested::Unchanged { article_id }
        }
        Some((article_id, _, _, retracted)) if retracted.is_some() || item.refresh_only => {
            // A retracted article stays retracted, and a re-read through
            // another route is not an edit: remember the content only.
            tx.execute(
                "UPDATE articles SET content_hash = ?2, payload = ?3, title = ?4, updated_at = ?5 WHERE id = ?1",
                params![article_id, item.content_hash, item.payload, item.title, now],
            )?;
            Ingested::Unchanged { article_id }
        }
        Some((article_id, _, revision, _)) => {
            let revision = revision + 1;
            tx.execute(
                "UPDATE articles SET content_hash = ?2, payload = ?3, title = ?4, link = COALESCE(?5, link), revision = ?6, updated_at = ?7 WHERE id = ?1",
                params![article_id, item.content_hash, item.payload, item.title, item.link, revision, now],
            )?;
            // Targets that show the article, or have started showing it.
            let targets: Vec<String> = {
                let mut st = tx.prepare_cached(
                    "SELECT DISTINCT target FROM deliveries WHERE article_id = ?1 AND action = 'post'
                     AND (state IN ('sent','sending') OR (state = 'pending' AND payload IS NOT NULL))
                     ORDER BY target",
                )?;
                st.query_map([article_id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for t in &targets {
                supersede(
                    tx,
                    article_id,
                    t,
                    &[Action::Edit],
                    &format!("superseded by revision {revision}"),
                    now,
                )?;
                insert_job(
                    tx,
                    NewJob {
                        article_id,
                        target: t,
                        action: Action::Edit,
                        revision,
                        state: State::Pending,
                        reason: None,
                        not_before: None,
                    },
                    now,
                )?;
            }
            Ingested::Updated {
                article_id,
                revision,
                edit_targets: targets,
            }
        }
    };
    let article_id = outcome.article_id();
    for key in &item.keys {
        tx.execute(
            "INSERT OR IGNORE INTO article_keys (feed, key, article_id) VALUES (?1, ?2, ?3)",
            params![feed, key, article_id],
        )?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests;
