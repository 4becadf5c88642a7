//! Column lists and the mapping of result rows to the row types, and the
//! shared steps of writes (a new job, superseding one).

use rusqlite::params;

use crate::*;

pub(crate) const DELIVERY_COLS: &str = "d.id, d.seq, d.article_id, d.target, d.action, d.revision, d.part, d.op, d.ref_message, d.state, d.attempts, d.next_attempt_at, d.not_before, d.payload, d.summary, d.message_id, d.message_url, d.reason, d.last_error, d.ambiguous, d.created_at, d.updated_at, d.sent_at";

pub(crate) const ARTICLE_COLS: &str = "id, feed, key, link, title, content_hash, revision, payload, published_at, first_seen_at, updated_at, retracted_at";

/// `query_row` through the statement cache.
pub(crate) fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

pub(crate) fn parse_enum<T>(
    v: String,
    parse: fn(&str) -> Option<T>,
    idx: usize,
) -> rusqlite::Result<T> {
    parse(&v).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown value {v:?}").into(),
        )
    })
}

pub(crate) fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
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

pub(crate) fn article_from_row(r: &Row<'_>) -> rusqlite::Result<Article> {
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

pub(crate) fn feed_state_from_row(r: &Row<'_>) -> rusqlite::Result<FeedState> {
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

/// Insert one delivery row of a new job; its `seq` is its own id.
pub(crate) fn insert_job(
    tx: &rusqlite::Transaction<'_>,
    j: NewJob<'_>,
    now: Millis,
) -> rusqlite::Result<i64> {
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
pub(crate) fn supersede(
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
