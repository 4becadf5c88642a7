//! Editors' publishing: `/preview`, `/publish` and its Confirm/Cancel
//! buttons, `/post`, `/schedule`, `/queue`, `/cancel`, `/retract`, and the
//! follow-up report once the deliveries are done.

use std::time::{Duration, Instant};

use crier_bots::Post;
use crier_bots::commands::{Button, Caller, FollowUp, Preview, Reply, Role};
use crier_storage::{Action, IncomingArticle, Ingested, Op, Route, State};

use super::{CommandCenter, EDITOR_FEED, store_err};
use crate::db::StoreError;
use crate::sources;

/// How long a Confirm/Cancel button stays valid.
const PENDING_TTL: Duration = Duration::from_secs(30 * 60);
/// How long a publish/retract report waits for the deliveries.
const FOLLOW_UP_WAIT: Duration = Duration::from_secs(10 * 60);

/// A `/publish` waiting for its Confirm/Cancel click.
pub(super) struct Pending {
    caller: String,
    url: String,
    post: Post,
    targets: Vec<String>,
    created: Instant,
}

impl CommandCenter {
    /// Fetch a page (or a feed's newest item) for an editor, through the
    /// SSRF guard.
    pub(super) async fn fetch(&self, url: &str) -> Result<Post, String> {
        let report = sources::inspect::inspect(&self.fetcher, url).await;
        let doc = report
            .result
            .map_err(|e| format!("Cannot read {url}: {e}"))?;
        let mut items = doc.items;
        sources::sort_oldest_first(&mut items);
        let mut post = items
            .pop()
            .map(|i| i.post)
            .ok_or_else(|| format!("{url} has no article"))?;
        post.feed = EDITOR_FEED.into();
        Ok(post)
    }

    /// How a post looks on each of `targets`.
    pub fn previews(&self, post: &Post, targets: &[String]) -> Vec<Preview> {
        let ff = self.engine.feed_render_options(&post.feed);
        targets
            .iter()
            .filter_map(|t| {
                let rt = self.engine.target(t)?;
                let (parts, text) = match rt.target.render(post, &ff) {
                    Ok(parts) => {
                        let text = parts
                            .iter()
                            .map(|p| rt.target.preview_text(p))
                            .collect::<Vec<_>>()
                            .join(&format!(
                                "\n{}\n",
                                crier_bots::format::terminal::NEXT_MESSAGE
                            ));
                        (parts, text)
                    }
                    Err(e) => (Vec::new(), format!("cannot render: {e}")),
                };
                Some(Preview {
                    target: t.clone(),
                    platform: rt.target.platform(),
                    parts,
                    text,
                })
            })
            .collect()
    }

    pub(super) async fn publish(&self, c: &Caller, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let post = match self.fetch(url).await {
            Ok(p) => p,
            Err(e) => return Reply::text(e),
        };
        let token = format!("{:08x}", rand::random::<u32>());
        let previews = self.previews(&post, &targets);
        let label = post.label().to_string();
        {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            p.retain(|_, v| v.created.elapsed() < PENDING_TTL);
            p.insert(
                token.clone(),
                Pending {
                    caller: c.key(),
                    url: url.to_string(),
                    post,
                    targets: targets.clone(),
                    created: Instant::now(),
                },
            );
        }
        Reply {
            text: format!("Publish «{label}» to {}?", targets.join(", ")),
            buttons: vec![
                Button {
                    label: "Confirm".into(),
                    data: format!("pub:{token}"),
                },
                Button {
                    label: "Cancel".into(),
                    data: format!("no:{token}"),
                },
            ],
            previews,
            follow_up: None,
            file: None,
            refused: false,
        }
    }

    /// A Confirm/Cancel click.
    pub async fn button(&self, c: &Caller, data: &str) -> Reply {
        let (kind, token) = data.split_once(':').unwrap_or(("", ""));
        let pending = {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match p.get(token) {
                Some(x) if x.caller != c.key() => {
                    // Checked before anything changes; the refusal is
                    // rate-limited like the others.
                    drop(p);
                    tracing::warn!(caller = %c.key(), name = %c.name, "a button of someone else's question refused");
                    return match self.refusal(c) {
                        Some(_) => Reply::refusal("Only the editor who asked can confirm this."),
                        None => Reply::refusal(""),
                    };
                }
                Some(x) if x.created.elapsed() >= PENDING_TTL => {
                    p.remove(token);
                    return Reply::text("This confirmation has expired; send /publish again.");
                }
                Some(_) => p.remove(token),
                None => None,
            }
        };
        let Some(pending) = pending else {
            return Reply::text("Nothing to confirm (already done, cancelled or expired).");
        };
        if self.role(c) < Role::Editor {
            return self.refusal(c).unwrap_or_default();
        }
        let line = format!("/publish {}", pending.post.link.as_deref().unwrap_or(""));
        let reply = match kind {
            "pub" => {
                self.enqueue(pending.post, Some(&pending.url), &pending.targets, None)
                    .await
            }
            _ => Reply::text("Cancelled; nothing was published."),
        };
        self.audit(c, line, reply.text.lines().next().unwrap_or(""))
            .await;
        reply
    }

    /// Record an editor's article with delivery rows for `targets`.
    pub(super) async fn enqueue(
        &self,
        post: Post,
        requested: Option<&str>,
        targets: &[String],
        not_before: Option<i64>,
    ) -> Reply {
        // The canonical link first, then the URL the editor gave (so that
        // /why and /retract work with either).
        let mut keys: Vec<String> = [post.link.as_deref(), requested]
            .into_iter()
            .flatten()
            .filter_map(|l| sources::identity::normalize_link(l, None))
            .map(|l| format!("link:{l}"))
            .collect();
        keys.dedup();
        if keys.is_empty() {
            keys.push(format!("hash:{}", sources::identity::content_hash(&post)));
        }
        let item = IncomingArticle {
            keys,
            content_hash: sources::identity::content_hash(&post),
            title: post.title.clone(),
            link: post.link.clone(),
            published_at: post.published.map(|t| t.timestamp_millis()),
            payload: match serde_json::to_string(&post) {
                Ok(p) => p,
                Err(e) => return Reply::text(format!("Cannot record the article: {e}")),
            },
            refresh_only: false,
        };
        let routes: Vec<Route> = targets
            .iter()
            .map(|t| {
                let mut r = Route::pending(t.clone());
                r.not_before = not_before;
                r
            })
            .collect();
        let label = post.label().to_string();
        let now = self.db.now_ms();
        let out = match self
            .db
            .call(move |s| s.ingest_one(EDITOR_FEED, &item, &routes, now))
            .await
        {
            Ok(o) => o,
            Err(e) => return store_err(e),
        };
        match out {
            Ingested::New { article_id } => {
                for t in targets {
                    self.engine.wake(t);
                }
                match not_before {
                    Some(at) => Reply::text(format!(
                        "Scheduled #{article_id} «{label}» for {} on {}. /cancel {article_id} to cancel.",
                        self.time(at),
                        targets.join(", ")
                    )),
                    None => Reply {
                        text: format!(
                            "Publishing #{article_id} «{label}» to {}…",
                            targets.join(", ")
                        ),
                        follow_up: Some(FollowUp::Published(article_id)),
                        refused: false,
                        ..Reply::default()
                    },
                }
            }
            Ingested::Updated { article_id, .. } => Reply::text(format!(
                "#{article_id} was published before; its posts are being updated with the new text."
            )),
            Ingested::Unchanged { article_id } => Reply::text(format!(
                "#{article_id} was published before, unchanged. /why {} tells where.",
                post.link.as_deref().unwrap_or("")
            )),
        }
    }

    pub(super) async fn post(
        &self,
        _c: &Caller,
        html: String,
        image: Option<String>,
        targets: Vec<String>,
        source: String,
    ) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        if html.trim().is_empty() && image.is_none() {
            return Reply::text("Nothing to post: the message is empty.");
        }
        let post = Post {
            feed: EDITOR_FEED.into(),
            summary_html: Some(html.clone()),
            content_html: Some(html),
            images: image.into_iter().collect(),
            ..Post::default()
        };
        // The source message is the identity: posting it twice is a no-op.
        let content_hash = sources::identity::content_hash(&post);
        let item = IncomingArticle {
            keys: vec![format!("post:{source}")],
            content_hash,
            title: String::new(),
            link: None,
            published_at: None,
            payload: serde_json::to_string(&post).unwrap_or_default(),
            refresh_only: false,
        };
        let routes: Vec<Route> = targets.iter().map(|t| Route::pending(t.clone())).collect();
        let now = self.db.now_ms();
        match self
            .db
            .call(move |s| s.ingest_one(EDITOR_FEED, &item, &routes, now))
            .await
        {
            Ok(Ingested::New { article_id }) => {
                for t in &targets {
                    self.engine.wake(t);
                }
                Reply {
                    text: format!("Posting #{article_id} to {}…", targets.join(", ")),
                    follow_up: Some(FollowUp::Published(article_id)),
                    refused: false,
                    ..Reply::default()
                }
            }
            Ok(other) => Reply::text(format!(
                "This message was posted before (#{}).",
                other.article_id()
            )),
            Err(e) => store_err(e),
        }
    }

    pub(super) async fn schedule(&self, at: i64, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        match self.fetch(url).await {
            Ok(post) => self.enqueue(post, Some(url), &targets, Some(at)).await,
            Err(e) => Reply::text(e),
        }
    }

    pub(super) async fn queue(&self) -> Result<Reply, StoreError> {
        let now = self.db.now_ms();
        let q = self.db.call(move |s| s.scheduled(now)).await?;
        if q.is_empty() {
            return Ok(Reply::text("No scheduled posts."));
        }
        let mut s = String::from("Scheduled:\n");
        for x in q {
            s.push_str(&format!(
                "#{} {} — «{}» → {}\n",
                x.article_id,
                self.time(x.due),
                x.title,
                x.targets.join(", ")
            ));
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    pub(super) async fn cancel(&self, c: &Caller, id: i64) -> Result<Reply, StoreError> {
        let reason = format!("cancelled by {} ({})", c.name, c.key());
        let now = self.db.now_ms();
        let n = self
            .db
            .call(move |s| s.cancel_scheduled(id, &reason, now))
            .await?;
        Ok(Reply::text(if n == 0 {
            format!("#{id} is not a scheduled post (see /queue).")
        } else {
            format!("Cancelled #{id}.")
        }))
    }

    pub(super) async fn retract(&self, what: &str) -> Result<Reply, StoreError> {
        let articles = self.find_articles(what).await?;
        let Some(a) = articles.first() else {
            return Ok(Reply::text(format!("Crier has not seen {what}.")));
        };
        let id = a.id;
        let now = self.db.now_ms();
        let targets = self.db.call(move |s| s.retract(id, now)).await?;
        for t in &targets {
            self.engine.wake(t);
        }
        Ok(Reply {
            text: if targets.is_empty() {
                format!("Retracted #{id} «{}»; it was not posted anywhere.", a.title)
            } else {
                format!(
                    "Retracting #{id} «{}»: deleting its messages on {}…",
                    a.title,
                    targets.join(", ")
                )
            },
            follow_up: (!targets.is_empty()).then_some(FollowUp::Retracted(id)),
            ..Reply::default()
        })
    }

    /// Wait for a publish or retraction to be carried out, then report.
    pub async fn follow_up(&self, f: FollowUp) -> Reply {
        let (id, action) = match f {
            FollowUp::Published(id) => (id, Action::Post),
            FollowUp::Retracted(id) => (id, Action::Delete),
        };
        let start = Instant::now();
        loop {
            let rows = match self.db.call(move |s| s.deliveries_for_article(id)).await {
                Ok(r) => r,
                Err(e) => return store_err(e),
            };
            let job: Vec<_> = rows.into_iter().filter(|r| r.action == action).collect();
            let done = job.iter().all(|r| {
                matches!(
                    r.state,
                    State::Sent | State::Failed | State::Skipped | State::Filtered
                )
            });
            if done || start.elapsed() > FOLLOW_UP_WAIT {
                return Reply::text(self.report(id, action, &job, done));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn report(
        &self,
        id: i64,
        action: Action,
        job: &[crier_storage::Delivery],
        done: bool,
    ) -> String {
        let mut s = match action {
            Action::Post => format!("#{id} published:\n"),
            _ => format!("#{id} retracted:\n"),
        };
        let mut targets: Vec<&str> = job.iter().map(|r| r.target.as_str()).collect();
        targets.dedup();
        for t in targets {
            let rows: Vec<_> = job.iter().filter(|r| r.target == t).collect();
            let line = if rows.iter().all(|r| r.state == State::Sent) {
                match action {
                    Action::Post => rows
                        .iter()
                        .filter(|r| r.op == Op::Send)
                        .map(|r| {
                            r.message_url
                                .clone()
                                .or(r.message_id.clone())
                                .unwrap_or_else(|| "sent".into())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => format!("{} message(s) deleted", rows.len()),
                }
            } else {
                rows.iter()
                    .filter(|r| r.state != State::Sent)
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r.state,
                            r.reason
                                .as_deref()
                                .or(r.last_error.as_deref())
                                .unwrap_or("waiting")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            s.push_str(&format!("• {t}: {line}\n"));
        }
        if !done {
            s.push_str("(still in progress; /why tells more later)\n");
        }
        s.trim_end().to_string()
    }
}
