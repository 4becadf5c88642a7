//! Versioned schema migrations. Each entry moves the schema from version
//! `i` to `i + 1`; the current version lives in `PRAGMA user_version`.
//! Each migration runs in its own transaction, so opening an up-to-date
//! database changes nothing and a crash mid-migration leaves the previous
//! version intact.

use rusqlite::Connection;

use crate::Result;

pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: feeds' state, articles and their identity keys, deliveries, the
    // messages each (article, target, part) currently has on its platform,
    // targets' state.
    r#"
    CREATE TABLE feeds_state (
        feed                 TEXT PRIMARY KEY,
        url                  TEXT NOT NULL DEFAULT '',
        fetch_state          TEXT NOT NULL DEFAULT '{}',
        baseline_done        INTEGER NOT NULL DEFAULT 0,
        last_poll_at         INTEGER,
        last_success_at      INTEGER,
        last_error           TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at         INTEGER,
        paused_reason        TEXT,
        updated_at           INTEGER NOT NULL
    );

    CREATE TABLE articles (
        id            INTEGER PRIMARY KEY,
        feed          TEXT NOT NULL,
        key           TEXT NOT NULL,
        link          TEXT,
        title         TEXT NOT NULL DEFAULT '',
        content_hash  TEXT NOT NULL,
        revision      INTEGER NOT NULL DEFAULT 0,
        payload       TEXT NOT NULL,
        published_at  INTEGER,
        first_seen_at INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        retracted_at  INTEGER
    );
    CREATE INDEX articles_link ON articles(link);
    CREATE INDEX articles_feed ON articles(feed, first_seen_at);

    -- Every identity key an article was ever seen under, within its feed.
    CREATE TABLE article_keys (
        feed       TEXT NOT NULL,
        key        TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        PRIMARY KEY (feed, key)
    ) WITHOUT ROWID;

    -- One row per (article, target, job, part). `action` is the job that
    -- created the row (post / edit / delete); `op` is what this part does on
    -- the platform (send / edit / delete). `seq` orders a target's queue;
    -- the parts of one job share it.
    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY,
        seq             INTEGER NOT NULL,
        article_id      INTEGER NOT NULL REFERENCES articles(id),
        target          TEXT NOT NULL,
        action          TEXT NOT NULL,
        revision        INTEGER NOT NULL DEFAULT 0,
        part            INTEGER NOT NULL DEFAULT 0,
        op              TEXT NOT NULL DEFAULT 'send',
        ref_message     TEXT,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        not_before      INTEGER,
        payload         TEXT,
        summary         TEXT,
        message_id      TEXT,
        message_url     TEXT,
        reason          TEXT,
        last_error      TEXT,
        ambiguous       INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        sent_at         INTEGER,
        UNIQUE (article_id, target, action, revision, part)
    );
    CREATE INDEX deliveries_queue ON deliveries(target, state, seq, part);
    CREATE INDEX deliveries_recent ON deliveries(updated_at);
    CREATE INDEX deliveries_article ON deliveries(article_id);

    -- What each (article, target, part) currently shows on its platform.
    CREATE TABLE posted_messages (
        article_id  INTEGER NOT NULL REFERENCES articles(id),
        target      TEXT NOT NULL,
        part        INTEGER NOT NULL,
        message_id  TEXT NOT NULL,
        message_url TEXT,
        sent_at     INTEGER NOT NULL,
        PRIMARY KEY (article_id, target, part)
    ) WITHOUT ROWID;

    CREATE TABLE targets_state (
        target           TEXT PRIMARY KEY,
        disabled_reason  TEXT,
        disabled_at      INTEGER,
        address_override TEXT,
        updated_at       INTEGER NOT NULL
    );
    "#,
    // v2: the command layer: audit log, alerts (once per incident), feeds
    // added from chat, targets paused by an admin.
    r#"
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        platform  TEXT NOT NULL,
        user_id   TEXT NOT NULL,
        user_name TEXT,
        command   TEXT NOT NULL,
        outcome   TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit(at);

    CREATE TABLE alerts (
        key       TEXT PRIMARY KEY,
        opened_at INTEGER NOT NULL,
        message   TEXT NOT NULL
    );

    CREATE TABLE dynamic_feeds (
        name        TEXT PRIMARY KEY,
        url         TEXT NOT NULL,
        targets     TEXT NOT NULL,
        interval_ms INTEGER NOT NULL,
        added_by    TEXT NOT NULL,
        added_at    INTEGER NOT NULL
    );

    ALTER TABLE targets_state ADD COLUMN paused_reason TEXT;
    "#,
    // v3: WebSub subscriptions, one per feed (`websub.rs`). `callback_id`
    // is the unguessable last segment of the callback URL; `secret` is the
    // hub.secret pushes are signed with (never logged).
    r#"
    CREATE TABLE websub_subs (
        feed          TEXT PRIMARY KEY,
        hub           TEXT NOT NULL,
        topic         TEXT NOT NULL,
        secret        TEXT NOT NULL,
        callback_id   TEXT NOT NULL UNIQUE,
        state         TEXT NOT NULL,
        lease_seconds INTEGER,
        expires_at    INTEGER,
        requested_at  INTEGER NOT NULL,
        verified_at   INTEGER,
        last_push_at  INTEGER,
        pushes        INTEGER NOT NULL DEFAULT 0,
        reason        TEXT,
        updated_at    INTEGER NOT NULL
    );
    "#,
];

/// Apply every migration newer than the database's version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Err(crate::Error::SchemaTooNew {
            found: current,
            supported: latest,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
