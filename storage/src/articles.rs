//! Articles: ingest (article, identity keys and delivery rows in one
//! transaction), lookups, retraction.

use crate::*;

impl Store {
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
        let tx = self.conn.begin(true)?;
        self.fences.check(&tx, SCOPE_FEED, &state.feed)?;
        lock_feed(&tx, &state.feed, items.iter().flat_map(|(_, r)| r))?;
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
        lock_feed(&tx, feed, routes)?;
        let r = ingest_one(&tx, feed, item, routes, now)?;
        tx.commit()?;
        Ok(r)
    }

    pub fn article(&self, id: i64) -> Result<Option<Article>> {
        self.conn.query_opt(
            &format!("SELECT {ARTICLE_COLS} FROM articles WHERE id = ?1"),
            params![id],
            article_from_row,
        )
    }

    /// Articles whose link is `link`, newest first.
    pub fn articles_by_link(&self, link: &str) -> Result<Vec<Article>> {
        self.conn.query_all(
            &format!("SELECT {ARTICLE_COLS} FROM articles WHERE link = ?1 ORDER BY id DESC"),
            params![link],
            article_from_row,
        )
    }

    /// The article a feed knows under `key`, if any.
    pub fn article_by_key(&self, feed: &str, key: &str) -> Result<Option<Article>> {
        self.conn.query_opt(
            &format!(
                "SELECT {ARTICLE_COLS} FROM articles WHERE id = (SELECT article_id FROM article_keys WHERE feed = ?1 AND key = ?2)"
            ),
            params![feed, key],
            article_from_row,
        )
    }

    /// Number of articles recorded for a feed.
    pub fn article_count(&self, feed: &str) -> Result<u64> {
        let n: i64 = self.conn.query_one(
            "SELECT COUNT(*) AS n FROM articles WHERE feed = ?1",
            params![feed],
            |r| r.get("n"),
        )?;
        Ok(n as u64)
    }

    /// Retract an article: its unsent post/edit rows are skipped and a
    /// delete job is queued for every target that shows it. Returns those
    /// targets.
    pub fn retract(&mut self, article_id: i64, now: Millis) -> Result<Vec<String>> {
        let tx = self.write()?;
        let revision: i64 = tx
            .query_opt(
                "SELECT revision FROM articles WHERE id = ?1",
                params![article_id],
                |r| r.get("revision"),
            )?
            .ok_or(Error::NoSuchArticle(article_id))?;
        tx.execute(
            "UPDATE articles SET retracted_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![article_id, now],
        )?;
        let targets: Vec<String> = tx.query_all(
            "SELECT DISTINCT target FROM deliveries WHERE article_id = ?1 AND action = 'post' ORDER BY target",
            params![article_id],
            |r| r.get("target"),
        )?;
        // Targets in one order in every transaction (no lock cycles).
        for t in &targets {
            lock_target(&tx, t)?;
        }
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
            let shows: i64 = tx.query_one(
                "SELECT COUNT(*) AS n FROM posted_messages WHERE article_id = ?1 AND target = ?2",
                params![article_id, t],
                |r| r.get("n"),
            )?;
            // A part being sent right now may still land: delete after it.
            let in_flight: i64 = tx.query_one(
                "SELECT COUNT(*) AS n FROM deliveries WHERE article_id = ?1 AND target = ?2 AND state = 'sending'",
                params![article_id, t],
                |r| r.get("n"),
            )?;
            if shows + in_flight > 0 {
                tx.execute(
                    "DELETE FROM deliveries WHERE article_id = ?1 AND target = ?2 AND action = 'delete' AND revision = ?3 AND state = 'pending' AND payload IS NULL AND ref_message IS NULL",
                    params![article_id, t, revision],
                )?;
                let exists: i64 = tx.query_one(
                    "SELECT COUNT(*) AS n FROM deliveries WHERE article_id = ?1 AND target = ?2 AND action = 'delete' AND revision = ?3",
                    params![article_id, t, revision],
                    |r| r.get("n"),
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
}

/// Serialise the ingest of one feed (two instances polling it record an
/// article once: the second sees the first's keys), then take the route
/// targets' queue locks in name order, so no two ingests wait on each
/// other in a cycle. No-ops on SQLite (the write lock serialises).
pub(crate) fn lock_feed<'a>(
    tx: &Conn,
    feed: &str,
    routes: impl IntoIterator<Item = &'a Route>,
) -> Result<()> {
    if tx.backend() == Backend::Sqlite {
        return Ok(());
    }
    tx.lock(&format!("feed:{feed}"))?;
    let targets: std::collections::BTreeSet<&str> =
        routes.into_iter().map(|r| r.target.as_str()).collect();
    for t in targets {
        lock_target(tx, t)?;
    }
    Ok(())
}

pub(crate) fn ingest_one(
    tx: &Conn,
    feed: &str,
    item: &IncomingArticle,
    routes: &[Route],
    now: Millis,
) -> Result<Ingested> {
    // Find the article under any of its keys, preferring the first key.
    let mut existing: Option<(i64, String, i64, Option<Millis>)> = None;
    for key in &item.keys {
        existing = tx.query_opt(
            "SELECT a.id, a.content_hash, a.revision, a.retracted_at FROM article_keys k JOIN articles a ON a.id = k.article_id WHERE k.feed = ?1 AND k.key = ?2",
            params![feed, key],
            |r| {
                Ok((
                    r.get("id")?,
                    r.get("content_hash")?,
                    r.get("revision")?,
                    r.get("retracted_at")?,
                ))
            },
        )?;
        if existing.is_some() {
            break;
        }
    }
    let primary = item.keys.first().map(String::as_str).unwrap_or("");
    let outcome = match existing {
        None => {
            let article_id: i64 = tx.query_one(
                "INSERT INTO articles (feed, key, link, title, content_hash, revision, payload, published_at, first_seen_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?8) RETURNING id",
                params![feed, primary, item.link, item.title, item.content_hash, item.payload, item.published_at, now],
                |r| r.get("id"),
            )?;
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
            let targets: Vec<String> = tx.query_all(
                "SELECT DISTINCT target FROM deliveries WHERE article_id = ?1 AND action = 'post'
                 AND (state IN ('sent','sending') OR (state = 'pending' AND payload IS NOT NULL))
                 ORDER BY target",
                params![article_id],
                |r| r.get("target"),
            )?;
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
            "INSERT INTO article_keys (feed, key, article_id) VALUES (?1, ?2, ?3) ON CONFLICT (feed, key) DO NOTHING",
            params![feed, key, article_id],
        )?;
    }
    Ok(outcome)
}
