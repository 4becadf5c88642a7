//! Versioned schema migrations. Each entry moves the schema from version
//! `i` to `i + 1`; the current version lives in `PRAGMA user_version`.
//! Each migration runs in its own transaction, so opening an up-to-date
//! database changes nothing and a crash mid-migration leaves the previous
//! version intact.
//!
//! PostgreSQL has its own list (`PG_MIGRATIONS`, same versions, same
//! meaning): integers are BIGINT (booleans stay integers), ids are
//! identity columns, text compares byte-wise (`COLLATE "C"`, as SQLite
//! does), and the version lives in the `schema_version` table. They run
//! under an advisory lock, so instances starting together migrate once.

use rusqlite::Connection;

use crate::{Conn, Result, params};

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
    // v4: PostgreSQL only (change notifications, see `notify.rs`); SQLite
    // tells other processes' commits by `PRAGMA data_version`.
    "",
    // v5: the instances running on this database and their role (`active`
    // or `standby`), with a heartbeat; not copied by `crier migrate`.
    r#"
    CREATE TABLE instances (
        id         TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        role       TEXT NOT NULL,
        version    TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        seen_at    INTEGER NOT NULL
    );
    "#,
    // v6: leases (several instances sharing the work, `leases.rs`); not
    // copied by `crier migrate`.
    r#"
    CREATE TABLE leases (
        scope      TEXT NOT NULL,
        name       TEXT NOT NULL,
        holder     TEXT NOT NULL,
        token      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
    );
    "#,
    // v7: what platforms keep (`platform_state.rs`): account tokens they
    // created (Telegraph), copied by `crier migrate`.
    r#"
    CREATE TABLE platform_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL
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

/// The PostgreSQL schema, version by version (see `MIGRATIONS`).
pub(crate) const PG_MIGRATIONS: &[&str] = &[
    // v1
    r#"
    CREATE TABLE feeds_state (
        feed                 TEXT COLLATE "C" PRIMARY KEY,
        url                  TEXT COLLATE "C" NOT NULL DEFAULT '',
        fetch_state          TEXT COLLATE "C" NOT NULL DEFAULT '{}',
        baseline_done        BIGINT NOT NULL DEFAULT 0,
        last_poll_at         BIGINT,
        last_success_at      BIGINT,
        last_error           TEXT COLLATE "C",
        consecutive_failures BIGINT NOT NULL DEFAULT 0,
        next_poll_at         BIGINT,
        paused_reason        TEXT COLLATE "C",
        updated_at           BIGINT NOT NULL
    );

    CREATE TABLE articles (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        feed          TEXT COLLATE "C" NOT NULL,
        key           TEXT COLLATE "C" NOT NULL,
        link          TEXT COLLATE "C",
        title         TEXT COLLATE "C" NOT NULL DEFAULT '',
        content_hash  TEXT COLLATE "C" NOT NULL,
        revision      BIGINT NOT NULL DEFAULT 0,
        payload       TEXT COLLATE "C" NOT NULL,
        published_at  BIGINT,
        first_seen_at BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL,
        retracted_at  BIGINT
    );
    CREATE INDEX articles_link ON articles(link);
    CREATE INDEX articles_feed ON articles(feed, first_seen_at);

    CREATE TABLE article_keys (
        feed       TEXT COLLATE "C" NOT NULL,
        key        TEXT COLLATE "C" NOT NULL,
        article_id BIGINT NOT NULL REFERENCES articles(id),
        PRIMARY KEY (feed, key)
    );

    CREATE TABLE deliveries (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        seq             BIGINT NOT NULL,
        article_id      BIGINT NOT NULL REFERENCES articles(id),
        target          TEXT COLLATE "C" NOT NULL,
        action          TEXT COLLATE "C" NOT NULL,
        revision        BIGINT NOT NULL DEFAULT 0,
        part            BIGINT NOT NULL DEFAULT 0,
        op              TEXT COLLATE "C" NOT NULL DEFAULT 'send',
        ref_message     TEXT COLLATE "C",
        state           TEXT COLLATE "C" NOT NULL,
        attempts        BIGINT NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        not_before      BIGINT,
        payload         TEXT COLLATE "C",
        summary         TEXT COLLATE "C",
        message_id      TEXT COLLATE "C",
        message_url     TEXT COLLATE "C",
        reason          TEXT COLLATE "C",
        last_error      TEXT COLLATE "C",
        ambiguous       BIGINT NOT NULL DEFAULT 0,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL,
        sent_at         BIGINT,
        UNIQUE (article_id, target, action, revision, part)
    );
    CREATE INDEX deliveries_queue ON deliveries(target, state, seq, part);
    CREATE INDEX deliveries_recent ON deliveries(updated_at);
    CREATE INDEX deliveries_article ON deliveries(article_id);

    CREATE TABLE posted_messages (
        article_id  BIGINT NOT NULL REFERENCES articles(id),
        target      TEXT COLLATE "C" NOT NULL,
        part        BIGINT NOT NULL,
        message_id  TEXT COLLATE "C" NOT NULL,
        message_url TEXT COLLATE "C",
        sent_at     BIGINT NOT NULL,
        PRIMARY KEY (article_id, target, part)
    );

    CREATE TABLE targets_state (
        target           TEXT COLLATE "C" PRIMARY KEY,
        disabled_reason  TEXT COLLATE "C",
        disabled_at      BIGINT,
        address_override TEXT COLLATE "C",
        updated_at       BIGINT NOT NULL
    );
    "#,
    // v2
    r#"
    CREATE TABLE audit (
        id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at        BIGINT NOT NULL,
        platform  TEXT COLLATE "C" NOT NULL,
        user_id   TEXT COLLATE "C" NOT NULL,
        user_name TEXT COLLATE "C",
        command   TEXT COLLATE "C" NOT NULL,
        outcome   TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX audit_at ON audit(at);

    CREATE TABLE alerts (
        key       TEXT COLLATE "C" PRIMARY KEY,
        opened_at BIGINT NOT NULL,
        message   TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE dynamic_feeds (
        name        TEXT COLLATE "C" PRIMARY KEY,
        url         TEXT COLLATE "C" NOT NULL,
        targets     TEXT COLLATE "C" NOT NULL,
        interval_ms BIGINT NOT NULL,
        added_by    TEXT COLLATE "C" NOT NULL,
        added_at    BIGINT NOT NULL
    );

    ALTER TABLE targets_state ADD COLUMN paused_reason TEXT COLLATE "C";
    "#,
    // v3
    r#"
    CREATE TABLE websub_subs (
        feed          TEXT COLLATE "C" PRIMARY KEY,
        hub           TEXT COLLATE "C" NOT NULL,
        topic         TEXT COLLATE "C" NOT NULL,
        secret        TEXT COLLATE "C" NOT NULL,
        callback_id   TEXT COLLATE "C" NOT NULL UNIQUE,
        state         TEXT COLLATE "C" NOT NULL,
        lease_seconds BIGINT,
        expires_at    BIGINT,
        requested_at  BIGINT NOT NULL,
        verified_at   BIGINT,
        last_push_at  BIGINT,
        pushes        BIGINT NOT NULL DEFAULT 0,
        reason        TEXT COLLATE "C",
        updated_at    BIGINT NOT NULL
    );
    "#,
    // v4: every statement that changes deliveries or targets' state
    // notifies the schema's channel (delivered at commit, once per
    // transaction and channel), so idle instances and workers wake at once
    // when another process queues, retries, retracts or pauses.
    r#"
    CREATE FUNCTION crier_notify_change() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        PERFORM pg_notify('crier_' || left(md5(current_schema()), 16), '');
        RETURN NULL;
    END
    $body$;
    CREATE TRIGGER crier_deliveries_changed AFTER INSERT OR UPDATE OR DELETE ON deliveries
        FOR EACH STATEMENT EXECUTE FUNCTION crier_notify_change();
    CREATE TRIGGER crier_targets_changed AFTER INSERT OR UPDATE OR DELETE ON targets_state
        FOR EACH STATEMENT EXECUTE FUNCTION crier_notify_change();
    "#,
    // v5
    r#"
    CREATE TABLE instances (
        id         TEXT COLLATE "C" PRIMARY KEY,
        host       TEXT COLLATE "C" NOT NULL,
        pid        BIGINT NOT NULL,
        role       TEXT COLLATE "C" NOT NULL,
        version    TEXT COLLATE "C" NOT NULL,
        started_at BIGINT NOT NULL,
        seen_at    BIGINT NOT NULL
    );
    "#,
    // v6
    r#"
    CREATE TABLE leases (
        scope      TEXT COLLATE "C" NOT NULL,
        name       TEXT COLLATE "C" NOT NULL,
        holder     TEXT COLLATE "C" NOT NULL,
        token      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (scope, name)
    );
    "#,
    // v7
    r#"
    CREATE TABLE platform_state (
        key        TEXT COLLATE "C" PRIMARY KEY,
        value      TEXT COLLATE "C" NOT NULL,
        updated_at BIGINT NOT NULL
    );
    "#,
];

/// Apply every PostgreSQL migration newer than the schema's version, in
/// one transaction, under an advisory lock.
pub(crate) fn migrate_pg(conn: &Conn) -> Result<()> {
    const _: () = assert!(PG_MIGRATIONS.len() == MIGRATIONS.len());
    let tx = conn.begin(true)?;
    tx.lock("crier:migrate")?;
    tx.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let current: Option<i64> =
        tx.query_opt("SELECT version FROM schema_version", params![], |r| {
            r.get("version")
        })?;
    let current = match current {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", params![])?;
            0
        }
    };
    let latest = PG_MIGRATIONS.len() as i64;
    if current > latest {
        return Err(crate::Error::SchemaTooNew {
            found: current,
            supported: latest,
        });
    }
    for sql in PG_MIGRATIONS.iter().skip(current as usize) {
        tx.batch(sql)?;
    }
    if current < latest {
        tx.execute("UPDATE schema_version SET version = ?1", params![latest])?;
    }
    tx.commit()
}
