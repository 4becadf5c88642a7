//! Column lists and the mapping of result rows (by column name) to the row
//! types, and the shared steps of writes (a new job, superseding one).

use crate::*;

pub(crate) const DELIVERY_COLS: &str = "d.id, d.seq, d.article_id, d.target, d.action, d.revision, d.part, d.op, d.ref_message, d.state, d.attempts, d.next_attempt_at, d.not_before, d.payload, d.summary, d.message_id, d.message_url, d.reason, d.last_error, d.ambiguous, d.created_at, d.updated_at, d.sent_at";

pub(crate) const ARTICLE_COLS: &str = "id, feed, key, link, title, content_hash, revision, payload, published_at, first_seen_at, updated_at, retracted_at";

pub(crate) fn parse_enum<T>(r: &Row<'_>, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let v: String = r.get(col)?;
    parse(&v).ok_or_else(|| Error::Decode(format!("column {col}: unknown value {v:?}")))
}

pub(crate) fn delivery_from_row(r: &Row<'_>) -> Result<Delivery> {
    Ok(Delivery {
        id: r.get("id")?,
        seq: r.get("seq")?,
        article_id: r.get("article_id")?,
        target: r.get("target")?,
        action: parse_enum(r, "action", Action::parse)?,
        revision: r.get("revision")?,
        part: r.get("part")?,
        op: parse_enum(r, "op", Op::parse)?,
        ref_message: r.get("ref_message")?,
        state: parse_enum(r, "state", State::parse)?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.get("next_attempt_at")?,
        not_before: r.get("not_before")?,
        payload: r.get("payload")?,
        summary: r.get("summary")?,
        message_id: r.get("message_id")?,
        message_url: r.get("message_url")?,
        reason: r.get("reason")?,
        last_error: r.get("last_error")?,
        ambiguous: r.get("ambiguous")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        sent_at: r.get("sent_at")?,
    })
}

pub(crate) fn article_from_row(r: &Row<'_>) -> Result<Article> {
    Ok(Article {
        id: r.get("id")?,
        feed: r.get("feed")?,
        key: r.get("key")?,
        link: r.get("link")?,
        title: r.get("title")?,
        content_hash: r.get("content_hash")?,
        revision: r.get("revision")?,
        payload: r.get("payload")?,
        published_at: r.get("published_at")?,
        first_seen_at: r.get("first_seen_at")?,
        updated_at: r.get("updated_at")?,
        retracted_at: r.get("retracted_at")?,
    })
}

pub(crate) fn feed_state_from_row(r: &Row<'_>) -> Result<FeedState> {
    Ok(FeedState {
        feed: r.get("feed")?,
        url: r.get("url")?,
        fetch_state: r.get("fetch_state")?,
        baseline_done: r.get("baseline_done")?,
        last_poll_at: r.get("last_poll_at")?,
        last_success_at: r.get("last_success_at")?,
        last_error: r.get("last_error")?,
        consecutive_failures: r.get("consecutive_failures")?,
        next_poll_at: r.get("next_poll_at")?,
        paused_reason: r.get("paused_reason")?,
    })
}

pub(crate) const FEED_COLS: &str = "feed, url, fetch_state, baseline_done, last_poll_at, last_success_at, last_error, consecutive_failures, next_poll_at, paused_reason";

/// A new job for one (article, target).
pub(crate) struct NewJob<'a> {
    pub(crate) article_id: i64,
    pub(crate) target: &'a str,
    pub(crate) action: Action,
    pub(crate) revision: i64,
    pub(crate) state: State,
    pub(crate) reason: Option<&'a str>,
    pub(crate) not_before: Option<Millis>,
}

/// The lock that orders a target's queue: every transaction that enqueues
/// for `target` takes it first (before drawing an id), so on PostgreSQL
/// `seq` order is commit order per target. SQLite's write lock already
/// serialises all writers.
pub(crate) fn lock_target(tx: &Conn, target: &str) -> Result<()> {
    tx.lock(&format!("target:{target}"))
}

/// Insert one delivery row of a new job; its `seq` is its own id. The
/// caller holds the target's lock ([`lock_target`]).
pub(crate) fn insert_job(tx: &Conn, j: NewJob<'_>, now: Millis) -> Result<i64> {
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
    lock_target(tx, target)?;
    let id: i64 = tx.query_one(
        "INSERT INTO deliveries (seq, article_id, target, action, revision, part, op, state, next_attempt_at, not_before, reason, created_at, updated_at)
         VALUES (0, ?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?7, ?7) RETURNING id",
        params![article_id, target, action.as_str(), revision, op.as_str(), state.as_str(), now, not_before, reason],
        |r| r.get("id"),
    )?;
    tx.execute("UPDATE deliveries SET seq = id WHERE id = ?1", params![id])?;
    Ok(id)
}

/// Mark a target's unstarted rows of older jobs for an article as
/// superseded (skipped). `actions` are the jobs to supersede.
pub(crate) fn supersede(
    tx: &Conn,
    article_id: i64,
    target: &str,
    actions: &[Action],
    reason: &str,
    now: Millis,
) -> Result<usize> {
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
