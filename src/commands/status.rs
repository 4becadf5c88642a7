//! `/status`, `/feeds` and `/log`: what Crier is doing, read from the store.

use crier_bots::commands::Reply;
use crier_storage::State;

use super::{CommandCenter, ago, human};
use crate::db::StoreError;

impl CommandCenter {
    pub(super) async fn status(&self) -> Result<Reply, StoreError> {
        let feeds = self.poller.feeds();
        let states = self.db.call(|s| s.feed_states()).await?;
        let (mut ok, mut failing, mut paused) = (0, 0, 0);
        for f in &feeds {
            match states.iter().find(|s| s.feed == f.feed.name.0) {
                Some(s) if s.paused_reason.is_some() => paused += 1,
                Some(s) if s.consecutive_failures > 0 => failing += 1,
                _ => ok += 1,
            }
        }
        let (mut tok, mut tdis, mut tpaused) = (0, 0, 0);
        for t in self.all_targets() {
            match self.db.call(move |s| s.target_state(&t)).await? {
                Some(st) if st.disabled_reason.is_some() => tdis += 1,
                Some(st) if st.paused_reason.is_some() => tpaused += 1,
                _ => tok += 1,
            }
        }
        let now = self.db.now_ms();
        let since = now - 24 * 3_600_000;
        let c = self.db.call(move |s| s.counts(None, since)).await?;
        let up = human(self.started.elapsed().as_secs() as i64);
        // Every instance on this database (one line each when there is
        // more than this one: a PostgreSQL deployment with standbys).

        let instances = self.db.call(|s| s.instances()).await?;
        let leases = self.db.call(|s| s.leases()).await?;
        let mut listed = String::new();
        if instances.len() > 1 {
            listed.push_str(&format!("\nInstances ({}):", instances.len()));
            // Leases are compared across machines: the system clock.
            let wall = crate::clock::Clock::System.now_ms();
            for i in &instances {
                listed.push_str(&format!("\n  {}", crate::instances::describe(i, now)));
                let holds = crate::instances::holdings(&leases, &i.id, wall);
                if !holds.is_empty() {
                    listed.push_str(&format!("\n    {holds}"));
                }
            }
        }
        Ok(Reply::text(format!(
            "Crier {} — up {up}\nFeeds: {ok} ok, {failing} failing, {paused} paused\nTargets: {tok} ok, {tdis} disabled, {tpaused} paused\nQueue: {} waiting\nLast 24 h: {} delivered, {} failed, {} filtered\nPanics since start: {}{listed}",
            env!("CARGO_PKG_VERSION"),
            c.queued,
            c.sent,
            c.failed,
            c.filtered,
            crate::supervise::panics_since_start()
        )))
    }

    pub(super) async fn feeds(&self) -> Result<Reply, StoreError> {
        let now = self.db.now_ms();
        let states = self.db.call(|s| s.feed_states()).await?;
        let subs = self.db.call(|s| s.subscriptions()).await?;
        let mut s = String::new();
        for f in self.poller.feeds() {
            let st = states.iter().find(|x| x.feed == f.feed.name.0);
            let health = match st {
                None => "not polled yet".to_string(),
                Some(st) if st.paused_reason.is_some() => {
                    format!("PAUSED: {}", st.paused_reason.as_deref().unwrap_or(""))
                }
                Some(st) if st.consecutive_failures > 0 => format!(
                    "FAILING ({}×): {}",
                    st.consecutive_failures,
                    st.last_error.as_deref().unwrap_or("")
                ),
                Some(_) => "ok".to_string(),
            };
            s.push_str(&crate::redact::redact_text(&format!(
                "• {} [{}] — {health}\n  {}\n",
                f.feed.name,
                if f.dynamic { "from chat" } else { "config" },
                crate::redact::redact_url(&f.feed.url)
            )));
            if let Some(st) = st {
                let mut line = Vec::new();
                if let Some(t) = st.last_success_at {
                    line.push(format!("last success {}", ago(t, now)));
                }
                if let Some(t) = st.next_poll_at.filter(|_| st.paused_reason.is_none()) {
                    line.push(format!("next poll in {}", human(((t - now) / 1000).max(0))));
                }
                if let Some(sub) = subs.iter().find(|x| x.feed == f.feed.name.0) {
                    line.push(crate::websub::describe(sub, now));
                }
                if !line.is_empty() {
                    s.push_str(&format!("  {}\n", line.join(", ")));
                }
            }
        }
        if s.is_empty() {
            s.push_str("No feeds.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    pub(super) async fn log(&self, n: usize) -> Result<Reply, StoreError> {
        let rows = self
            .db
            .call(move |s| {
                s.log(&crier_storage::LogQuery {
                    limit: n,
                    ..Default::default()
                })
            })
            .await?;
        let mut s = String::new();
        for r in rows {
            let d = &r.delivery;
            let detail = match d.state {
                State::Sent => d
                    .message_url
                    .clone()
                    .or(d.message_id.clone())
                    .unwrap_or_default(),
                State::Failed | State::Pending | State::Sending => {
                    d.last_error.clone().unwrap_or_default()
                }
                _ => d.reason.clone().unwrap_or_default(),
            };
            let title: String = r.title.chars().take(50).collect();
            s.push_str(&format!(
                "#{} {} {} {} «{}» {}\n",
                d.id, d.target, d.state, d.action, title, detail
            ));
        }
        if s.is_empty() {
            s.push_str("No deliveries yet.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }
}
