//! What the command layer stores: the audit log, alerts (one per
//! incident), feeds added from chat, targets paused by an admin, and the
//! scheduled-post queue (scheduled posts are ordinary delivery rows with a
//! `not_before`).

use crate::{Millis, Result, Store, params};

/// One audited command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Millis,
    pub platform: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub command: String,
    pub outcome: String,
}

/// A feed added from chat (`/subscribe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicFeed {
    pub name: String,
    pub url: String,
    pub targets: Vec<String>,
    pub interval_ms: i64,
    pub added_by: String,
    pub added_at: Millis,
}

/// A scheduled post: an article with delivery rows due later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub article_id: i64,
    pub title: String,
    pub link: Option<String>,
    pub due: Millis,
    pub targets: Vec<String>,
}

impl Store {
    pub fn audit(&mut self, e: &AuditEntry) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO audit (at, platform, user_id, user_name, command, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.at, e.platform, e.user_id, e.user_name, e.command, e.outcome],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Drop audit entries older than `before` (unix ms), then all but the
    /// newest `keep`. Returns how many were dropped.
    pub fn prune_audit(&mut self, before: i64, keep: usize) -> Result<usize> {
        let tx = self.write()?;
        let mut n = tx.execute("DELETE FROM audit WHERE at < ?1", params![before])?;
        n += tx.execute(
            "DELETE FROM audit WHERE id NOT IN (SELECT id FROM audit ORDER BY id DESC LIMIT ?1)",
            params![keep as i64],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// The newest audit entries first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.conn.query_all(
            "SELECT id, at, platform, user_id, user_name, command, outcome FROM audit ORDER BY id DESC LIMIT ?1",
            params![limit.max(1) as i64],
            |r| {
                Ok(AuditEntry {
                    id: r.get("id")?,
                    at: r.get("at")?,
                    platform: r.get("platform")?,
                    user_id: r.get("user_id")?,
                    user_name: r.get("user_name")?,
                    command: r.get("command")?,
                    outcome: r.get("outcome")?,
                })
            },
        )
    }

    /// Open an alert for an incident. True when it was not open already:
    /// only then should admins be told.
    pub fn open_alert(&mut self, key: &str, message: &str, now: Millis) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute(
            "INSERT INTO alerts (key, opened_at, message) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
            params![key, now, message],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// The incident is over: a later one alerts again.
    pub fn close_alert(&mut self, key: &str) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute("DELETE FROM alerts WHERE key = ?1", params![key])?;
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn open_alerts(&self) -> Result<Vec<(String, Millis, String)>> {
        self.conn.query_all(
            "SELECT key, opened_at, message FROM alerts ORDER BY opened_at, key",
            params![],
            |r| Ok((r.get("key")?, r.get("opened_at")?, r.get("message")?)),
        )
    }

    pub fn dynamic_feeds(&self) -> Result<Vec<DynamicFeed>> {
        self.conn.query_all(
            "SELECT name, url, targets, interval_ms, added_by, added_at FROM dynamic_feeds ORDER BY added_at, name",
            params![],
            |r| {
                let targets: String = r.get("targets")?;
                Ok(DynamicFeed {
                    name: r.get("name")?,
                    url: r.get("url")?,
                    targets: serde_json::from_str(&targets).unwrap_or_default(),
                    interval_ms: r.get("interval_ms")?,
                    added_by: r.get("added_by")?,
                    added_at: r.get("added_at")?,
                })
            },
        )
    }

    /// Add a feed from chat. False when the name is taken.
    pub fn add_dynamic_feed(&mut self, f: &DynamicFeed) -> Result<bool> {
        let tx = self.write()?;
        let targets = serde_json::to_string(&f.targets).unwrap_or_else(|_| "[]".into());
        let n = tx.execute(
            "INSERT INTO dynamic_feeds (name, url, targets, interval_ms, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
            params![f.name, f.url, targets, f.interval_ms, f.added_by, f.added_at],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn remove_dynamic_feed(&mut self, name: &str) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute("DELETE FROM dynamic_feeds WHERE name = ?1", params![name])?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Posts scheduled for later, soonest first.
    pub fn scheduled(&self, now: Millis) -> Result<Vec<Scheduled>> {
        // One row per (article, target); the targets are gathered here
        // (no GROUP_CONCAT / string_agg: one SQL for both backends).
        let rows = self.conn.query_all(
            "SELECT a.id, a.title, a.link, d.target, MIN(d.not_before) AS due
             FROM deliveries d JOIN articles a ON a.id = d.article_id
             WHERE d.state = 'pending' AND d.action = 'post' AND d.not_before > ?1
             GROUP BY a.id, a.title, a.link, d.target ORDER BY a.id, d.target",
            params![now],
            |r| {
                Ok(Scheduled {
                    article_id: r.get("id")?,
                    title: r.get("title")?,
                    link: r.get("link")?,
                    due: r.get("due")?,
                    targets: vec![r.get("target")?],
                })
            },
        )?;
        let mut out: Vec<Scheduled> = Vec::new();
        for s in rows {
            match out.last_mut() {
                Some(last) if last.article_id == s.article_id => {
                    last.due = last.due.min(s.due);
                    last.targets.extend(s.targets);
                }
                _ => out.push(s),
            }
        }
        out.sort_by_key(|s| (s.due, s.article_id));
        Ok(out)
    }

    /// Cancel a scheduled post: its rows not yet sent are skipped. Returns
    /// how many rows were cancelled.
    pub fn cancel_scheduled(
        &mut self,
        article_id: i64,
        reason: &str,
        now: Millis,
    ) -> Result<usize> {
        let tx = self.write()?;
        let n = tx.execute(
            "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3
             WHERE article_id = ?1 AND action = 'post' AND state = 'pending' AND not_before > ?3",
            params![article_id, reason, now],
        )?;
        tx.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use crate::*;

    #[test]
    fn alerts_fire_once_per_incident() {
        crate::testdb::each(|mut s| {
            assert!(s.open_alert("target:tg", "bot kicked", 1).expect("open"));
            assert!(!s.open_alert("target:tg", "bot kicked", 2).expect("again"));
            assert_eq!(s.open_alerts().expect("list").len(), 1);
            assert!(s.close_alert("target:tg").expect("close"));
            assert!(
                s.open_alert("target:tg", "bot kicked", 3)
                    .expect("new incident")
            );
        });
    }

    #[test]
    fn the_audit_log_is_pruned_by_age_and_size() {
        crate::testdb::each(|mut s| {
            for at in 0..10 {
                s.audit(&AuditEntry {
                    id: 0,
                    at,
                    platform: "telegram".into(),
                    user_id: "1".into(),
                    user_name: None,
                    command: format!("/status {at}"),
                    outcome: "ok".into(),
                })
                .expect("audit");
            }
            assert_eq!(s.prune_audit(3, 100).expect("prune"), 3);
            assert_eq!(s.prune_audit(0, 4).expect("prune"), 3);
            let left: Vec<i64> = s
                .audit_log(100)
                .expect("log")
                .iter()
                .map(|e| e.at)
                .collect();
            assert_eq!(left, vec![9, 8, 7, 6]);
        });
    }

    #[test]
    fn audit_dynamic_feeds_and_pause() {
        crate::testdb::each(|mut s| {
            s.audit(&AuditEntry {
                id: 0,
                at: 5,
                platform: "telegram".into(),
                user_id: "42".into(),
                user_name: Some("ann".into()),
                command: "/pause news".into(),
                outcome: "paused".into(),
            })
            .expect("audit");
            assert_eq!(s.audit_log(10).expect("log")[0].command, "/pause news");
            let f = DynamicFeed {
                name: "blog".into(),
                url: "https://blog.example/feed".into(),
                targets: vec!["tg".into()],
                interval_ms: 600_000,
                added_by: "telegram:42".into(),
                added_at: 1,
            };
            assert!(s.add_dynamic_feed(&f).expect("add"));
            assert!(!s.add_dynamic_feed(&f).expect("dup"));
            assert_eq!(s.dynamic_feeds().expect("list"), vec![f]);
            assert!(s.remove_dynamic_feed("blog").expect("rm"));
            assert!(s.set_target_paused("tg", Some("by ann"), 1).expect("pause"));
            assert_eq!(
                s.target_state("tg")
                    .expect("st")
                    .expect("some")
                    .paused_reason
                    .as_deref(),
                Some("by ann")
            );
            assert!(s.set_target_paused("tg", None, 2).expect("resume"));
        });
    }

    #[test]
    fn scheduled_posts_are_listed_and_cancelled() {
        crate::testdb::each(|mut s| {
            let mut r = Route::pending("tg");
            r.not_before = Some(10_000);
            let out = s
                .ingest_one(
                    "editor",
                    &IncomingArticle {
                        keys: vec!["link:x".into()],
                        content_hash: "h".into(),
                        title: "Later".into(),
                        link: Some("https://x.example/".into()),
                        published_at: None,
                        payload: "{}".into(),
                        refresh_only: false,
                    },
                    &[r],
                    1,
                )
                .expect("ingest");
            let q = s.scheduled(5).expect("queue");
            assert_eq!(q.len(), 1);
            assert_eq!(
                (q[0].due, q[0].targets.clone()),
                (10_000, vec!["tg".to_string()])
            );
            assert_eq!(
                s.cancel_scheduled(out.article_id(), "cancelled", 6)
                    .expect("cancel"),
                1
            );
            assert!(s.scheduled(5).expect("queue").is_empty());
        });
    }
}
