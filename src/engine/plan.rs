//! Pacing and planning in the engine: the target's pacing (posts per hour,
//! minimum gap, digests) applied to the head of its queue, and planning a
//! row — rendering a post (or a digest) into parts, or working out which
//! messages an edit or a retraction touches.

use crier_bots::Post;
use crier_bots::format::FeedRenderOptions;
use crier_storage::{Action, Delivery, Op, PlannedPart};

use super::{DIGEST_MAX_ITEMS, Engine, HOUR_MS, Paced, TargetRuntime, ms_to_duration};
use crate::db::StoreError;

impl Engine {
    /// Apply the target's pacing to the post at the head of its queue.
    pub(super) async fn pace(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        now: i64,
    ) -> Result<Paced, StoreError> {
        let p = rt.pacing;
        if p.max_posts_per_hour.is_none() && p.min_gap.is_none() {
            return Ok(Paced::Go);
        }
        let target = d.target.clone();
        let times = self
            .db
            // Posts of the last hour, its start excluded: at `sent + HOUR`
            // a post has aged out (else the wait computed below is 0 and
            // the worker spins until the clock ticks).
            .quick(move |s| s.post_times_since(&target, now - HOUR_MS + 1))
            .await?;
        if let (Some(gap), Some(last)) = (p.min_gap, times.last()) {
            let ready = last + gap.as_millis() as i64;
            if ready > now {
                return Ok(Paced::Wait(ms_to_duration(ready - now)));
            }
        }
        let Some(max) = p.max_posts_per_hour.map(|m| m.max(1) as usize) else {
            return Ok(Paced::Go);
        };
        if times.len() >= max {
            // Wait for the oldest post that keeps the budget full to age out.
            let ready = times[times.len() - max] + HOUR_MS;
            return Ok(Paced::Wait(ms_to_duration(ready - now)));
        }
        let remaining = max - times.len();
        if p.digest && remaining == 1 {
            let target = d.target.clone();
            let seq = d.seq;
            let rest = self
                .db
                .call(move |s| s.pending_posts_after(&target, seq, now, DIGEST_MAX_ITEMS - 1))
                .await?;
            if !rest.is_empty() {
                return Ok(Paced::Digest(rest));
            }
        }
        Ok(Paced::Go)
    }

    /// Render the head post and the `rest` as one digest post.
    pub(super) async fn plan_digest(
        &self,
        rt: &TargetRuntime,
        head: &Delivery,
        rest: Vec<Delivery>,
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = std::iter::once(head.article_id)
            .chain(rest.iter().map(|d| d.article_id))
            .collect();
        let articles = self
            .db
            .call(move |s| {
                ids.iter()
                    .map(|id| s.article(*id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let mut items = Vec::new();
        let mut feed = String::new();
        let mut source_title = None;
        for a in articles.into_iter().flatten() {
            let post: Option<Post> = serde_json::from_str(&a.payload).ok();
            if feed.is_empty() {
                feed = a.feed.clone();
                source_title = post.as_ref().and_then(|p| p.source_title.clone());
            }
            items.push(crier_bots::DigestItem {
                title: post.as_ref().map(|p| p.title.clone()).unwrap_or(a.title),
                link: post.and_then(|p| p.link).or(a.link),
            });
        }
        let digest = Post {
            feed: feed.clone(),
            source_title,
            title: format!("{} new articles", items.len()),
            digest: items,
            ..Post::default()
        };
        let default_format = FeedRenderOptions::default();
        let ff = self
            .feed_render_options
            .get(&feed)
            .unwrap_or(&default_format);
        let id = head.id;
        match rt.target.render(&digest, ff) {
            Ok(parts) => {
                let planned: Vec<PlannedPart> = parts
                    .into_iter()
                    .map(|p| PlannedPart {
                        op: Op::Send,
                        payload: Some(p.payload.to_string()),
                        summary: p.summary,
                        ref_message: None,
                    })
                    .collect();
                let folded: Vec<i64> = rest.iter().map(|d| d.id).collect();
                tracing::info!(target_name = %head.target, articles = folded.len() + 1, "burst beyond max_posts_per_hour: sending a digest");
                let now = self.db.now_ms();
                self.db
                    .call(move |s| s.plan_digest(id, &planned, &folded, now))
                    .await
            }
            Err(e) => {
                let msg = format!("cannot render the digest: {e}");
                let now = self.db.now_ms();
                self.db.call(move |s| s.mark_failed(id, &msg, now)).await
            }
        }
    }

    /// Turn a job row into the parts to send / edit / delete.
    pub(super) async fn plan(&self, rt: &TargetRuntime, d: &Delivery) -> Result<(), StoreError> {
        let id = d.id;
        let article_id = d.article_id;
        let now = self.db.now_ms();
        let target = d.target.clone();
        // The article and what was already posted of it, in one call.
        let (article, posted) = self
            .db
            .quick(move |s| {
                let Some(article) = s.article(article_id)? else {
                    return Ok((None, Vec::new()));
                };
                Ok((Some(article), s.posted_messages(article_id, &target)?))
            })
            .await?;
        let Some(article) = article else {
            return self
                .db
                .call(move |s| s.mark_failed(id, "the article is missing from the log", now))
                .await;
        };
        let post: Post = match serde_json::from_str(&article.payload) {
            Ok(p) => p,
            Err(e) => {
                let msg = format!("stored article cannot be read: {e}");
                return self.db.call(move |s| s.mark_failed(id, &msg, now)).await;
            }
        };
        let default_format = FeedRenderOptions::default();
        let ff = self
            .feed_render_options
            .get(&article.feed)
            .unwrap_or(&default_format);

        let render = || -> Result<Vec<PlannedPart>, String> {
            crate::faults::check("render", article.link.as_deref().unwrap_or_default());
            let parts = rt
                .target
                .render(&post, ff)
                .map_err(|e| format!("cannot render the post: {e}"))?;
            parts
                .into_iter()
                .map(|p| {
                    Ok(PlannedPart {
                        op: Op::Send,
                        payload: Some(p.payload.to_string()),
                        summary: p.summary,
                        ref_message: None,
                    })
                })
                .collect()
        };
        let planned = match d.action {
            Action::Post => render(),
            Action::Edit => render().map(|new| {
                let mut plan = Vec::new();
                for i in 0..new.len().max(posted.len()) {
                    match (new.get(i), posted.get(i)) {
                        (Some(n), Some(old)) => plan.push(PlannedPart {
                            op: Op::Edit,
                            ref_message: Some(old.message_id.clone()),
                            ..n.clone()
                        }),
                        (Some(n), None) => plan.push(n.clone()),
                        (None, Some(old)) => plan.push(PlannedPart {
                            op: Op::Delete,
                            payload: None,
                            summary: format!("delete surplus part {}", old.part),
                            ref_message: Some(old.message_id.clone()),
                        }),
                        (None, None) => {}
                    }
                }
                if posted.is_empty() { Vec::new() } else { plan }
            }),
            Action::Delete => Ok(posted
                .iter()
                .map(|m| PlannedPart {
                    op: Op::Delete,
                    payload: None,
                    summary: format!("delete part {}", m.part),
                    ref_message: Some(m.message_id.clone()),
                })
                .collect()),
        };
        match planned {
            Ok(parts) => {
                let empty = match d.action {
                    Action::Post => "the post rendered to nothing",
                    Action::Edit => "nothing was delivered to edit",
                    Action::Delete => "nothing was delivered to delete",
                };
                let now = self.db.now_ms();
                self.db
                    .quick(move |s| s.plan_job(id, &parts, empty, now))
                    .await
            }
            Err(msg) => {
                tracing::error!(delivery = id, target_name = %d.target, error = %msg, "render failed");
                let now = self.db.now_ms();
                self.db.call(move |s| s.mark_failed(id, &msg, now)).await
            }
        }
    }
}
