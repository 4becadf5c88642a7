//! Executing a planned row in the engine: mark it `sending`, call the
//! target, record the outcome, and on failure retry with backoff, hold,
//! or fail it as the target's policy says.

use std::time::Duration;

use crier_bots::{DeliveryError, MessageRef, Part, SendCtx, Sent};
use crier_storage::{Delivery, Op};
use rand::Rng;

use super::{Engine, RECORD_RETRY_ALERT, RECORD_RETRY_FIRST, RECORD_RETRY_MAX, TargetRuntime};
use crate::config::AmbiguousPolicy;
use crate::db::StoreError;

impl Engine {
    pub(super) async fn execute(&self, rt: &TargetRuntime, d: &Delivery) -> Result<(), StoreError> {
        let id = d.id;
        let clock = self.db.clock();
        let attempt = self
            .db
            .quick(move |s| {
                crate::store_faults::check("store.mark_sending")?;
                s.mark_sending(id, clock.now_ms())
            })
            .await?;
        let article_id = d.article_id;
        let target = d.target.clone();
        let posted = if d.op == Op::Send {
            Vec::new()
        } else {
            self.db
                .quick(move |s| s.posted_messages(article_id, &target))
                .await?
        };
        let reference = d.ref_message.as_ref().map(|mid| {
            let known = posted.iter().find(|m| &m.message_id == mid);
            (
                MessageRef {
                    id: mid.clone(),
                    url: known.and_then(|m| m.message_url.clone()),
                },
                known.map(|m| m.sent_at),
            )
        });
        let ctx = SendCtx {
            delivery_id: d.id,
            attempt,
            article: format!("article #{}", d.article_id),
            sent_at: reference
                .as_ref()
                .and_then(|(_, t)| *t)
                .and_then(chrono::DateTime::from_timestamp_millis),
        };
        let part = match &d.payload {
            Some(raw) => match serde_json::from_str(raw) {
                Ok(payload) => Some(Part {
                    payload,
                    summary: d.summary.clone().unwrap_or_default(),
                }),
                Err(e) => {
                    let msg = format!("stored payload cannot be read: {e}");
                    let now = self.db.now_ms();
                    return self.db.call(move |s| s.mark_failed(id, &msg, now)).await;
                }
            },
            None => None,
        };
        self.fault_point("send", d.article_id).await;
        let result: Result<Sent, DeliveryError> = match (d.op, &part, &reference) {
            (Op::Send, Some(p), _) => rt.target.send(p, &ctx).await,
            (Op::Edit, Some(p), Some((m, _))) => rt.target.edit(m, p, &ctx).await,
            (Op::Delete, _, Some((m, _))) => {
                rt.target.delete(m, &ctx).await.map(|()| Sent::default())
            }
            _ => Err(DeliveryError::Rejected(format!(
                "malformed {} row (payload or message reference missing)",
                d.op
            ))),
        };
        let last = attempt >= self.policy.max_attempts.max(1);
        // The article's time in the queue, for its first message.
        let first_part = (d.op == Op::Send && d.part == 0).then(|| self.db.now_ms() - d.created_at);
        (self.telemetry.metrics).delivered(
            &d.target,
            rt.target.platform(),
            result.as_ref().map(|_| ()),
            last,
            first_part,
        );
        // The outcome is kept: recording it is retried until it succeeds,
        // so a row this process marked `sending` is never sent again by it
        // (ARCHITECTURE.md: a send is recorded before its row can be picked
        // again). If the process stops first, the row stays `sending` and
        // the next start resolves it by the ambiguous-send policy.
        let mut wait = RECORD_RETRY_FIRST;
        loop {
            match self.record(rt, d, attempt, result.clone()).await {
                // The row itself is gone: nothing to record, nothing to retry.
                Err(e @ (StoreError::NoSuchDelivery(_) | StoreError::NoSuchArticle(_))) => {
                    return Err(e);
                }
                // Another instance took the target over while this one was
                // slow: the write is refused for good; the new holder
                // resolves the row left `sending` (the ambiguous-send
                // policy) and this worker stops.
                Err(e @ StoreError::LeaseLost(_)) => return Err(e),
                Ok(()) => {
                    if wait >= RECORD_RETRY_ALERT {
                        self.alerts.close("storage-record");
                    }
                    return Ok(());
                }
                Err(e) => {
                    tracing::error!(delivery = id, target_name = %d.target, error = %e, retry_in = ?wait, "cannot record the outcome of a send; retrying (it is not sent again)");
                    if wait >= RECORD_RETRY_ALERT {
                        self.alerts.open(
                            "storage-record",
                            &format!("Crier cannot record deliveries: {e}. Delivery paused until the database accepts writes again."),
                        );
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }

    /// Record the outcome of an attempt (`sent`, a retry, a failure…).
    async fn record(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        attempt: u32,
        result: Result<Sent, DeliveryError>,
    ) -> Result<(), StoreError> {
        let id = d.id;
        match result {
            Ok(sent) => {
                let (mid, url) = sent
                    .message
                    .map(|m| (Some(m.id), m.url))
                    .unwrap_or((None, None));
                if let Some(note) = &sent.note {
                    tracing::warn!(delivery = id, target_name = %d.target, note = %note, "delivered with a fallback");
                }
                tracing::info!(delivery = id, target_name = %d.target, op = %d.op, part = d.part, "delivered");
                let clock = self.db.clock();
                self.db
                    .quick(move |s| {
                        crate::store_faults::check("store.mark_sent")?;
                        s.mark_sent(
                            id,
                            mid.as_deref(),
                            url.as_deref(),
                            sent.note.as_deref(),
                            clock.now_ms(),
                        )
                    })
                    .await
            }
            Err(e) => self.failed(rt, d, attempt, e.scrubbed()).await,
        }
    }

    fn retry_delay(&self, attempt: u32) -> Duration {
        let base = self.policy.retry_base.0.as_millis() as f64;
        let max = self.policy.retry_max.0.as_millis() as f64;
        let exp = base * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let jitter = rand::rng().random_range(0.75..1.25);
        Duration::from_millis((exp.min(max) * jitter) as u64)
    }

    async fn failed(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        attempt: u32,
        e: DeliveryError,
    ) -> Result<(), StoreError> {
        let id = d.id;
        let name = d.target.clone();
        let now = self.db.now_ms();
        let msg = e.to_string();
        let max = self.policy.max_attempts.max(1);
        let retry_or_fail = |ambiguous: bool| {
            let msg = msg.clone();
            let next = now + self.retry_delay(attempt).as_millis() as i64;
            move |s: &mut crier_storage::Store| {
                if attempt >= max {
                    s.mark_failed(id, &format!("{msg} (after {attempt} attempts)"), now)
                } else {
                    s.mark_retry(id, &msg, next, ambiguous, now)
                }
            }
        };
        match e {
            DeliveryError::RateLimited { retry_after } => {
                tracing::warn!(target_name = %name, ?retry_after, "rate limited by the platform; waiting");
                if let Some((key, text)) = rt.target.take_alert() {
                    self.alerts.open(&key, &text);
                }
                let next = now + retry_after.as_millis() as i64;
                self.db.call(move |s| s.defer(id, next, &msg, now)).await
            }
            DeliveryError::Transient(_) => {
                tracing::warn!(delivery = id, target_name = %name, attempt, error = %msg, "delivery failed; will retry");
                if attempt >= max {
                    tracing::error!(delivery = id, target_name = %name, error = %msg, "delivery failed for good");
                    self.alerts.open(
                        &format!("delivery-failed:{id}"),
                        &format!(
                            "Delivery #{id} to {name} failed after {attempt} attempts: {msg} (/retry {id})"
                        ),
                    );
                }
                self.db.call(retry_or_fail(false)).await
            }
            DeliveryError::Ambiguous(_) => {
                let idempotent = d.op != Op::Send || rt.target.idempotent_send();
                if idempotent || self.policy.ambiguous == AmbiguousPolicy::Resend {
                    tracing::warn!(delivery = id, target_name = %name, error = %msg, "send outcome unknown; will resend");
                    self.db.call(retry_or_fail(!idempotent)).await
                } else {
                    tracing::warn!(delivery = id, target_name = %name, error = %msg, "send outcome unknown; assumed sent (policy)");
                    let note = format!("{msg}; outcome unknown, assumed sent");
                    self.db
                        .call(move |s| s.mark_sent(id, None, None, Some(&note), now))
                        .await
                }
            }
            DeliveryError::TargetGone(reason) => {
                // The frequent causes carry their fix (log, alert, `crier log`).
                let reason = crier_bots::check::with_hint(&reason, &name);
                let msg = crier_bots::check::with_hint(&msg, &name);
                let n = name.clone();
                let r = reason.clone();
                let changed = self
                    .db
                    .call(move |s| s.set_target_disabled(&n, Some(&r), now))
                    .await?;
                if changed {
                    tracing::error!(target_name = %name, reason = %reason, "target disabled; its deliveries wait until it is re-enabled (crier retry --target)");
                    self.alerts.open(
                        &format!("target-disabled:{name}"),
                        &format!(
                            "Target {name} disabled: {reason}. Its posts wait; /resume {name} once fixed."
                        ),
                    );
                }
                self.db.call(move |s| s.defer(id, now, &msg, now)).await
            }
            DeliveryError::TargetMoved(addr) => {
                tracing::warn!(target_name = %name, new_address = %addr, "target moved; updating its address");
                rt.target.set_address(&addr);
                let n = name.clone();
                let a = addr.clone();
                self.db
                    .call(move |s| s.set_target_address(&n, &a, now))
                    .await?;
                self.db.call(move |s| s.defer(id, now, &msg, now)).await
            }
            DeliveryError::Rejected(_) => {
                tracing::error!(delivery = id, target_name = %name, error = %msg, "delivery rejected by the platform");
                self.alerts.open(
                    &format!("delivery-failed:{id}"),
                    &format!("Delivery #{id} to {name} was rejected: {msg}"),
                );
                self.db.call(move |s| s.mark_failed(id, &msg, now)).await
            }
            DeliveryError::MessageGone(_) => {
                if d.op == Op::Delete {
                    let note = format!("already gone: {msg}");
                    self.db
                        .call(move |s| s.mark_sent(id, None, None, Some(&note), now))
                        .await
                } else {
                    self.db.call(move |s| s.mark_skipped(id, &msg, now)).await
                }
            }
            DeliveryError::NotDeletable(_) => {
                tracing::warn!(delivery = id, target_name = %name, error = %msg, "message could not be deleted");
                self.db.call(move |s| s.mark_skipped(id, &msg, now)).await
            }
        }
    }
}
