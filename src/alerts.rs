//! Alerts for admins: a feed paused after failures, a target disabled, a
//! delivery failed for good, Discord's invalid-request guard tripped. Each
//! incident alerts once (the open incidents live in storage, so a restart
//! does not repeat them); a later, new incident alerts again.
//!
//! Producers (engine, poller, adapters) send to an [`Alerts`] handle; one
//! dispatcher task records the incident and hands the text to the chat
//! front-ends ([`Notifier`]), which message the admins.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::db::Db;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertMsg {
    Open { key: String, text: String },
    Close { key: String },
}

/// A handle to raise and clear alerts. Cheap to clone.
#[derive(Clone, Default)]
pub struct Alerts {
    tx: Option<mpsc::UnboundedSender<AlertMsg>>,
}

impl Alerts {
    /// Alerts that only go to the log (no chat front-end).
    pub fn log_only() -> Alerts {
        Alerts { tx: None }
    }

    pub fn channel() -> (Alerts, mpsc::UnboundedReceiver<AlertMsg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Alerts { tx: Some(tx) }, rx)
    }

    /// Raise an incident (a no-op when it is already open).
    pub fn open(&self, key: &str, text: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(AlertMsg::Open {
                key: key.to_string(),
                text: text.to_string(),
            });
        }
    }

    /// The incident is over.
    pub fn close(&self, key: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(AlertMsg::Close {
                key: key.to_string(),
            });
        }
    }
}

pub use crier_bots::commands::Notifier;

/// Record incidents and tell the admins of new ones, until `shutdown`.
pub async fn dispatch(
    db: Db,
    rx: &mut mpsc::UnboundedReceiver<AlertMsg>,
    notifiers: Vec<Arc<dyn Notifier>>,
    shutdown: CancellationToken,
) {
    let mut unrecorded = std::collections::HashSet::new();
    loop {
        let msg = tokio::select! {
            m = rx.recv() => match m { Some(m) => m, None => return },
            _ = shutdown.cancelled() => return,
        };
        match msg {
            AlertMsg::Open { key, text } => {
                let (k, t) = (key.clone(), text.clone());
                let now = db.now_ms();
                match db.call(move |s| s.open_alert(&k, &t, now)).await {
                    Ok(true) => {
                        tracing::warn!(alert = %key, "{text}");
                        for n in &notifiers {
                            n.notify_admins(&format!("⚠ {text}")).await;
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        // The database is failing (full, read-only): that is
                        // when admins must hear it; once per run and key.
                        tracing::error!(alert = %key, error = %e, "cannot record an alert; sending it anyway");
                        if unrecorded.insert(key.clone()) {
                            for n in &notifiers {
                                n.notify_admins(&format!("⚠ {text}")).await;
                            }
                        }
                    }
                }
            }
            AlertMsg::Close { key } => {
                let k = key.clone();
                if let Err(e) = db.call(move |s| s.close_alert(&k)).await {
                    tracing::error!(alert = %key, error = %e, "cannot close an alert");
                }
            }
        }
    }
}
