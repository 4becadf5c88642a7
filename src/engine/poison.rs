//! Poison inputs in the engine: planning (render) and the adapter call run
//! under a panic guard. A panic is logged with the delivery, counted, and
//! the row is retried a few times (attempts counted in the delivery log),
//! then `failed` with "internal error: <panic message>" — the queue goes
//! on with the next articles.

use crier_bots::panics;
use crier_storage::Delivery;

use super::{Engine, TargetRuntime};
use crate::db::StoreError;

/// Attempts before a delivery whose processing panics is failed.
pub const POISON_ATTEMPTS: u32 = 3;

impl Engine {
    /// [`Engine::plan`] (or the digest plan when `rest` is given), guarded.
    pub(super) async fn plan_guarded(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        rest: Option<Vec<Delivery>>,
    ) -> Result<(), StoreError> {
        let planned = panics::catch(async {
            match rest {
                Some(rest) => self.plan_digest(rt, d, rest).await,
                None => self.plan(rt, d).await,
            }
        })
        .await;
        match planned {
            Ok(r) => r,
            Err(msg) => self.poisoned(d, "planning", &msg, true).await,
        }
    }

    /// [`Engine::execute`], guarded (`mark_sending` has counted the attempt).
    pub(super) async fn execute_guarded(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
    ) -> Result<(), StoreError> {
        match panics::catch(self.execute(rt, d)).await {
            Ok(r) => r,
            Err(msg) => self.poisoned(d, "sending", &msg, false).await,
        }
    }

    /// The test fault hook for `kind` on the delivery's article (only
    /// looks the article up when faults are configured).
    pub(super) async fn fault_point(&self, kind: &'static str, article_id: i64) {
        if !crate::faults::active() {
            return;
        }
        if let Ok(Some(a)) = self.db.call(move |s| s.article(article_id)).await
            && let Some(link) = &a.link
        {
            crate::faults::check(kind, link);
        }
    }

    async fn poisoned(
        &self,
        d: &Delivery,
        step: &str,
        msg: &str,
        bump: bool,
    ) -> Result<(), StoreError> {
        let id = d.id;
        let reason = format!("internal error: {msg}");
        let now = self.db.now_ms();
        let next = now + crate::supervise::restart_delay(d.attempts + 1).as_millis() as i64;
        let r = reason.clone();
        let failed = self
            .db
            .call(move |s| s.note_internal_error(id, &r, bump, POISON_ATTEMPTS, next, now))
            .await?;
        tracing::error!(delivery = id, target_name = %d.target, article = d.article_id, step, panic = %msg, failed, "processing a delivery panicked");
        if failed {
            self.alerts.open(
                &format!("delivery-failed:{id}"),
                &format!(
                    "Delivery #{id} to {} failed: {reason} (/retry {id})",
                    d.target
                ),
            );
        }
        Ok(())
    }
}
