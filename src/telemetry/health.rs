//! Heartbeats of the long-lived tasks (one delivery worker per target, one
//! watcher per feed), for `/readyz`: a task that has been busy on one step
//! longer than a limit is *wedged*; a task that ended by a panic is *gone*.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Which kind of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A target's delivery worker.
    Worker,
    /// A feed's watcher.
    Watcher,
}

#[derive(Debug, Clone)]
struct Beat {
    started: Instant,
    /// Set while the task works on one step.
    busy_since: Option<Instant>,
    /// Set when the task ended by a panic.
    gone: bool,
}

/// The heartbeats of one daemon.
#[derive(Default)]
pub struct Health {
    beats: Mutex<BTreeMap<(Kind, String), Beat>>,
}

/// What `/readyz` reports about one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: Kind,
    pub name: String,
    /// `wedged` or `gone`.
    pub state: &'static str,
    /// For a wedged task: how long it has been on its current step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busy_seconds: Option<u64>,
}

impl Health {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(Kind, String), Beat>> {
        self.beats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a task for as long as the returned guard lives. When the
    /// guard is dropped by a panic the task is recorded as gone; a normal
    /// end (shutdown, a feed removed) forgets it.
    pub fn watch(self: &Arc<Self>, kind: Kind, name: &str) -> Watch {
        self.lock().insert(
            (kind, name.to_string()),
            Beat {
                started: Instant::now(),
                busy_since: None,
                gone: false,
            },
        );
        Watch {
            health: self.clone(),
            kind,
            name: name.to_string(),
        }
    }

    /// Mark the task busy until the returned guard is dropped.
    pub fn busy(self: &Arc<Self>, kind: Kind, name: &str) -> Busy {
        if let Some(b) = self.lock().get_mut(&(kind, name.to_string())) {
            b.busy_since = Some(Instant::now());
        }
        Busy {
            health: self.clone(),
            kind,
            name: name.to_string(),
        }
    }

    /// The tasks that are wedged (busy longer than `limit`) or gone.
    pub fn problems(&self, limit: Duration) -> Vec<Problem> {
        let now = Instant::now();
        self.lock()
            .iter()
            .filter_map(|((kind, name), b)| {
                if b.gone {
                    return Some(Problem {
                        kind: *kind,
                        name: name.clone(),
                        state: "gone",
                        busy_seconds: None,
                    });
                }
                let busy = now.duration_since(b.busy_since?);
                (busy > limit).then(|| Problem {
                    kind: *kind,
                    name: name.clone(),
                    state: "wedged",
                    busy_seconds: Some(busy.as_secs()),
                })
            })
            .collect()
    }

    /// How many tasks of `kind` are registered and not gone.
    pub fn alive(&self, kind: Kind) -> usize {
        self.lock()
            .iter()
            .filter(|((k, _), b)| *k == kind && !b.gone)
            .count()
    }

    /// Seconds since each registered task started (for tests and the page).
    pub fn uptime(&self, kind: Kind, name: &str) -> Option<Duration> {
        self.lock()
            .get(&(kind, name.to_string()))
            .map(|b| b.started.elapsed())
    }
}

/// See [`Health::watch`].
pub struct Watch {
    health: Arc<Health>,
    kind: Kind,
    name: String,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let key = (self.kind, std::mem::take(&mut self.name));
        let mut beats = self.health.lock();
        if std::thread::panicking() {
            if let Some(b) = beats.get_mut(&key) {
                b.gone = true;
                b.busy_since = None;
            }
            tracing::error!(kind = ?key.0, name = %key.1, "a long-lived task ended by a panic");
        } else {
            beats.remove(&key);
        }
    }
}

/// See [`Health::busy`].
pub struct Busy {
    health: Arc<Health>,
    kind: Kind,
    name: String,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(b) = self
            .health
            .lock()
            .get_mut(&(self.kind, std::mem::take(&mut self.name)))
        {
            b.busy_since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_too_long_is_wedged_and_a_panic_is_gone() {
        let h = Arc::new(Health::default());
        let w = h.watch(Kind::Worker, "tg");
        assert!(h.problems(Duration::ZERO).is_empty());
        let busy = h.busy(Kind::Worker, "tg");
        std::thread::sleep(Duration::from_millis(5));
        let p = h.problems(Duration::from_millis(1));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].state, "wedged");
        drop(busy);
        assert!(h.problems(Duration::from_millis(1)).is_empty());
        drop(w);
        assert_eq!(h.alive(Kind::Worker), 0);

        let h2 = h.clone();
        let r = std::thread::spawn(move || {
            let _w = h2.watch(Kind::Watcher, "news");
            panic!("boom");
        })
        .join();
        assert!(r.is_err());
        let p = h.problems(Duration::from_secs(60));
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].kind, p[0].name.as_str(), p[0].state),
            (Kind::Watcher, "news", "gone")
        );
    }
}
