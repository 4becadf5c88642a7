//! `/why`: what became of an article on each target, and finding an
//! article by id or link (also for `/retract`).

use crier_bots::commands::Reply;
use crier_storage::{Action, State};

use super::{CommandCenter, EDITOR_FEED, ago};
use crate::db::StoreError;
use crate::sources;

impl CommandCenter {
    pub(super) async fn find_articles(
        &self,
        what: &str,
    ) -> Result<Vec<crier_storage::Article>, StoreError> {
        let what = what.trim().to_string();
        if let Ok(id) = what.trim_start_matches('#').parse::<i64>() {
            return Ok(self
                .db
                .call(move |s| s.article(id))
                .await?
                .into_iter()
                .collect());
        }
        let mut candidates = vec![what.clone()];
        if let Some(n) = sources::identity::normalize_link(&what, None) {
            candidates.push(n);
        }
        if let Some(stripped) = what.strip_suffix('/') {
            candidates.push(stripped.to_string());
        } else {
            candidates.push(format!("{what}/"));
        }
        self.db
            .call(move |s| {
                let mut out: Vec<crier_storage::Article> = Vec::new();
                for c in &candidates {
                    let by_key = s.article_by_key(EDITOR_FEED, &format!("link:{c}"))?;
                    for a in s.articles_by_link(c)?.into_iter().chain(by_key) {
                        if !out.iter().any(|x| x.id == a.id) {
                            out.push(a);
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    pub(super) async fn why(&self, url: &str) -> Result<Reply, StoreError> {
        let articles = self.find_articles(url).await?;
        if articles.is_empty() {
            return Ok(Reply::text(format!("Crier has not seen {url}.")));
        }
        let mut s = String::new();
        for a in articles {
            s.push_str(&format!(
                "#{} {} (feed {}, first seen {})\n",
                a.id,
                a.title,
                a.feed,
                ago(a.first_seen_at, self.db.now_ms())
            ));
            let id = a.id;
            let rows = self.db.call(move |s| s.deliveries_for_article(id)).await?;
            let mut targets: Vec<String> = rows.iter().map(|r| r.target.clone()).collect();
            targets.dedup();
            if targets.is_empty() {
                s.push_str("  routed to no target\n");
            }
            for t in targets {
                let mine: Vec<_> = rows.iter().filter(|r| r.target == t).collect();
                let post: Vec<_> = mine.iter().filter(|r| r.action == Action::Post).collect();
                let line = self.explain(&t, &post).await?;
                s.push_str(&format!("  • {t}: {line}\n"));
                for r in mine.iter().filter(|r| r.action != Action::Post) {
                    let what = match r.action {
                        Action::Edit => "edit",
                        _ => "delete",
                    };
                    s.push_str(&format!(
                        "    {what} part {}: {}{}\n",
                        r.part,
                        r.state,
                        r.reason
                            .as_deref()
                            .or(r.last_error.as_deref())
                            .map(|x| format!(" — {x}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn explain(
        &self,
        target: &str,
        post: &[&&crier_storage::Delivery],
    ) -> Result<String, StoreError> {
        let Some(first) = post.first() else {
            return Ok("no post job".into());
        };
        Ok(match first.state {
            State::Filtered => format!(
                "filtered — {}",
                first.reason.as_deref().unwrap_or("by a rule")
            ),
            State::Skipped => format!("skipped — {}", first.reason.as_deref().unwrap_or("")),
            State::Failed => format!(
                "FAILED after {} attempts — {} (/retry {})",
                first.attempts,
                first.last_error.as_deref().unwrap_or(""),
                first.id
            ),
            _ if post.iter().all(|r| r.state == State::Sent) => {
                let links: Vec<String> = post
                    .iter()
                    .map(|r| {
                        r.message_url
                            .clone()
                            .or_else(|| r.message_id.clone().map(|m| format!("message {m}")))
                            .unwrap_or_else(|| "sent".into())
                    })
                    .collect();
                let mut s = format!(
                    "delivered {} — {}",
                    first
                        .sent_at
                        .map(|t| ago(t, self.db.now_ms()))
                        .unwrap_or_default(),
                    links.join(", ")
                );
                if let Some(n) = post.iter().find_map(|r| r.reason.clone()) {
                    s.push_str(&format!(" ({n})"));
                }
                if post.iter().any(|r| r.ambiguous) {
                    s.push_str(" [an ambiguous send: a duplicate is possible]");
                }
                s
            }
            _ => {
                let t = target.to_string();
                let st = self.db.call(move |s| s.target_state(&t)).await?;
                let waiting_for = match st {
                    Some(st) if st.disabled_reason.is_some() => {
                        format!(
                            "the target is disabled: {}",
                            st.disabled_reason.unwrap_or_default()
                        )
                    }
                    Some(st) if st.paused_reason.is_some() => "the target is paused".to_string(),
                    _ => {
                        let pending = post.iter().find(|r| r.state != State::Sent);
                        match pending {
                            Some(r) if r.not_before.is_some_and(|t| t > self.db.now_ms()) => {
                                format!(
                                    "scheduled for {}",
                                    self.time(r.not_before.unwrap_or_default())
                                )
                            }
                            Some(r) if r.attempts > 0 => format!(
                                "retrying (attempt {}, next at {}) — {}",
                                r.attempts,
                                self.time(r.next_attempt_at),
                                r.last_error.as_deref().unwrap_or("")
                            ),
                            _ => "its turn in the target's queue".to_string(),
                        }
                    }
                };
                format!("waiting — {waiting_for}")
            }
        })
    }
}
