//! The admins' commands that change things: `/targets` (the list they
//! act on), `/pause`, `/resume`, `/retry`, `/subscribe`, `/unsubscribe`.

use crier_bots::commands::{Caller, Reply, RetryWhat};
use crier_storage::DynamicFeed;

use super::{CommandCenter, dynamic_feed_config, store_err};
use crate::db::StoreError;
use crate::sources;

impl CommandCenter {
    pub(super) async fn targets(&self) -> Result<Reply, StoreError> {
        let mut s = String::new();
        for name in self.all_targets() {
            let platform = self
                .engine
                .target(&name)
                .map(|t| t.target.platform())
                .unwrap_or("?");
            let n = name.clone();
            let st = self.db.call(move |s| s.target_state(&n)).await?;
            let n = name.clone();
            let since = self.db.now_ms() - 24 * 3_600_000;
            let c = self.db.call(move |s| s.counts(Some(&n), since)).await?;
            let state = match &st {
                Some(st) if st.disabled_reason.is_some() => {
                    format!("DISABLED: {}", st.disabled_reason.as_deref().unwrap_or(""))
                }
                Some(st) if st.paused_reason.is_some() => {
                    format!("PAUSED: {}", st.paused_reason.as_deref().unwrap_or(""))
                }
                _ => "ok".into(),
            };
            s.push_str(&format!(
                "• {name} ({platform}) — {state}\n  {} waiting, {} delivered and {} failed in 24 h\n",
                c.queued, c.sent, c.failed
            ));
        }
        if s.is_empty() {
            s.push_str("No targets.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    pub(super) async fn pause(
        &self,
        c: &Caller,
        name: &str,
        pause: bool,
    ) -> Result<Reply, StoreError> {
        let now = self.db.now_ms();
        if self.poller.feed(name).is_some() {
            let n = name.to_string();
            let reason = format!("paused by {} ({})", c.name, c.key());
            let changed = self
                .db
                .call(move |s| {
                    let was = s.set_feed_paused(&n, pause.then_some(reason.as_str()), now)?;
                    Ok(was != pause)
                })
                .await?;
            if !pause {
                self.engine.alerts().close(&format!("feed-paused:{name}"));
                self.poller.wake(name);
            }
            return Ok(Reply::text(match (pause, changed) {
                (true, true) => format!("Feed {name} paused."),
                (true, false) => format!("Feed {name} was already paused."),
                (false, true) => format!("Feed {name} resumed; polling it now."),
                (false, false) => format!("Feed {name} was not paused."),
            }));
        }
        if self.engine.target(name).is_some() {
            let n = name.to_string();
            let reason = format!("paused by {} ({})", c.name, c.key());
            let changed = self
                .db
                .call(move |s| {
                    if pause {
                        s.set_target_paused(&n, Some(&reason), now)
                    } else {
                        let a = s.set_target_paused(&n, None, now)?;
                        let b = s.set_target_disabled(&n, None, now)?;
                        Ok(a || b)
                    }
                })
                .await?;
            if !pause {
                self.engine
                    .alerts()
                    .close(&format!("target-disabled:{name}"));
            }
            self.engine.wake(name);
            return Ok(Reply::text(match (pause, changed) {
                (true, true) => format!("Target {name} paused; its posts wait."),
                (true, false) => format!("Target {name} was already paused."),
                (false, true) => format!("Target {name} resumed; delivering what waited."),
                (false, false) => format!("Target {name} was neither paused nor disabled."),
            }));
        }
        Ok(Reply::text(format!("No feed or target named {name:?}.")))
    }

    pub(super) async fn retry(&self, w: RetryWhat) -> Result<Reply, StoreError> {
        let now = self.db.now_ms();
        let (id, target) = match &w {
            RetryWhat::Delivery(id) => (Some(*id), None),
            RetryWhat::Target(t) => {
                if self.engine.target(t).is_none() {
                    return Ok(Reply::text(format!("No target named {t:?}.")));
                }
                (None, Some(t.clone()))
            }
            RetryWhat::All => (None, None),
        };
        let t = target.clone();
        let (n, targets) = self
            .db
            .call(move |s| s.requeue_failed(id, t.as_deref(), now))
            .await?;
        for t in &targets {
            self.engine.wake(t);
        }
        Ok(Reply::text(if n == 0 {
            "Nothing to retry: no failed deliveries there.".to_string()
        } else {
            format!(
                "Re-queued {n} failed deliver{} ({}).",
                if n == 1 { "y" } else { "ies" },
                targets.join(", ")
            )
        }))
    }

    pub(super) async fn subscribe(&self, c: &Caller, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        // Already watched: add the targets to that feed, not a second feed.
        if let Some(text) = crate::resubscribe::merge_into_existing(
            &self.db,
            &self.poller,
            &self.cfg,
            url,
            &targets,
        )
        .await
        {
            return Reply::text(text);
        }
        let report = sources::inspect::inspect(&self.fetcher, url).await;
        let doc = match report.result {
            Ok(d) if d.kind == sources::inspect::InspectKind::Feed => d,
            Ok(_) => {
                return Reply::text(format!(
                    "{url} is a page, not a feed (try /publish for a page)."
                ));
            }
            Err(e) => return Reply::text(format!("Cannot read {url}: {e}")),
        };
        let base = url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_string())
            })
            .unwrap_or_else(|| "feed".into());
        let mut name = base.clone();
        let mut i = 2;
        while self.poller.feed(&name).is_some() {
            name = format!("{base}-{i}");
            i += 1;
        }
        let rec = DynamicFeed {
            name: name.clone(),
            url: url.to_string(),
            targets: targets.clone(),
            interval_ms: self.cfg.commands.subscribe_interval.0.as_millis() as i64,
            added_by: c.key(),
            added_at: self.db.now_ms(),
        };
        let feed = dynamic_feed_config(&rec);
        match self.db.call(move |s| s.add_dynamic_feed(&rec)).await {
            Ok(true) => {}
            Ok(false) => return Reply::text(format!("A feed named {name} exists already.")),
            Err(e) => return store_err(e),
        }
        if !self.poller.add_feed(feed) {
            return Reply::text(format!("A feed named {name} exists already."));
        }
        Reply::text(format!(
            "Subscribed: feed {name} ({} items now; only new ones will be posted) → {}.",
            doc.items.len(),
            targets.join(", ")
        ))
    }

    pub(super) async fn unsubscribe(&self, name: &str) -> Result<Reply, StoreError> {
        if let Err(e) = self.poller.remove_feed(name) {
            return Ok(Reply::text(e));
        }
        let n = name.to_string();
        self.db.call(move |s| s.remove_dynamic_feed(&n)).await?;
        Ok(Reply::text(format!("Unsubscribed from {name}.")))
    }
}
