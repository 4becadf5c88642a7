//! The delivery engine's policies, through the library with a scripted
//! in-process target (the platform adapters have their own tests against
//! the fake platforms).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crier::clock::Clock;
use crier::config::{AmbiguousPolicy, DeliveryConfig, Dur, OnFailure};
use crier::db::Db;
use crier::engine::{Engine, Pacing, TargetRuntime};
use crier_bots::format::FeedRenderOptions;
use crier_bots::{DeliveryError, MessageRef, Part, Post, RenderError, SendCtx, Sent, Target};
use crier_storage::{FeedState, IncomingArticle, LogQuery, Route, State, Store};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Send(String),
    Edit(String, String),
    Delete(String),
}

/// A target that records calls and answers from a script (then `Ok`).
pub struct Scripted {
    name: String,
    idempotent: bool,
    pub calls: Mutex<Vec<Call>>,
    script: Mutex<VecDeque<Result<(), DeliveryError>>>,
    pub address: Mutex<Option<String>>,
    next_id: Mutex<u64>,
}

impl Scripted {
    pub fn new(name: &str) -> Arc<Scripted> {
        Arc::new(Scripted {
            name: name.into(),
            idempotent: false,
            calls: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            address: Mutex::new(None),
            next_id: Mutex::new(0),
        })
    }

    pub fn idempotent(name: &str) -> Arc<Scripted> {
        let mut s = Arc::try_unwrap(Scripted::new(name)).ok().expect("fresh");
        s.idempotent = true;
        Arc::new(s)
    }

    pub fn script(&self, results: Vec<Result<(), DeliveryError>>) {
        self.script.lock().unwrap().extend(results);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn next(&self) -> Result<(), DeliveryError> {
        self.script.lock().unwrap().pop_front().unwrap_or(Ok(()))
    }
}

#[async_trait::async_trait]
impl Target for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn platform(&self) -> &'static str {
        "scripted"
    }
    fn idempotent_send(&self) -> bool {
        self.idempotent
    }
    /// One part per `|`-separated piece of the title; a digest lists titles.
    fn render(&self, post: &Post, _feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError> {
        if !post.digest.is_empty() {
            let titles: Vec<&str> = post.digest.iter().map(|d| d.title.as_str()).collect();
            let text = format!("digest: {}", titles.join(", "));
            return Ok(vec![Part {
                payload: serde_json::json!({ "text": text }),
                summary: text,
            }]);
        }
        Ok(post
            .title
            .split('|')
            .map(|t| Part {
                payload: serde_json::json!({ "text": t }),
                summary: t.to_string(),
            })
            .collect())
    }
    async fn send(&self, part: &Part, _ctx: &SendCtx) -> Result<Sent, DeliveryError> {
        let text = part.payload["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.next()?;
        self.calls.lock().unwrap().push(Call::Send(text));
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        Ok(Sent {
            message: Some(MessageRef {
                id: format!("m{n}"),
                url: None,
            }),
            note: None,
        })
    }
    async fn edit(
        &self,
        m: &MessageRef,
        part: &Part,
        _ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        self.next()?;
        let text = part.payload["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.calls
            .lock()
            .unwrap()
            .push(Call::Edit(m.id.clone(), text));
        Ok(Sent {
            message: Some(m.clone()),
            note: None,
        })
    }
    async fn delete(&self, m: &MessageRef, _ctx: &SendCtx) -> Result<(), DeliveryError> {
        self.next()?;
        self.calls.lock().unwrap().push(Call::Delete(m.id.clone()));
        Ok(())
    }
    fn set_address(&self, address: &str) {
        *self.address.lock().unwrap() = Some(address.to_string());
    }
}

pub fn policy() -> DeliveryConfig {
    DeliveryConfig {
        max_attempts: 3,
        retry_base: Dur(Duration::from_millis(20)),
        retry_max: Dur(Duration::from_millis(100)),
        ..DeliveryConfig::default()
    }
}

pub struct Harness {
    pub engine: Arc<Engine>,
    shutdown: CancellationToken,
    workers: Option<tokio::task::JoinSet<()>>,
}

impl Harness {
    pub async fn start(
        db: Db,
        targets: Vec<(Arc<Scripted>, OnFailure)>,
        policy: DeliveryConfig,
    ) -> Harness {
        Harness::start_paced(
            db,
            targets
                .into_iter()
                .map(|(t, f)| (t, f, Pacing::default()))
                .collect(),
            policy,
        )
        .await
    }

    pub async fn start_paced(
        db: Db,
        targets: Vec<(Arc<Scripted>, OnFailure, Pacing)>,
        policy: DeliveryConfig,
    ) -> Harness {
        let mut map = BTreeMap::new();
        for (t, on_failure, pacing) in targets {
            let name = t.name.clone();
            map.insert(
                name,
                TargetRuntime::new(t as Arc<dyn Target>, on_failure).with_pacing(pacing),
            );
        }
        let engine = Engine::new(db.clone(), map, HashMap::new(), policy);
        engine
            .recover(&crier::lock::InstanceLock::in_memory())
            .await
            .expect("recover");
        let shutdown = CancellationToken::new();
        let workers = Some(engine.spawn_workers(shutdown.clone()));
        Harness {
            engine,
            shutdown,
            workers,
        }
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(mut w) = self.workers.take() {
            while w.join_next().await.is_some() {}
        }
    }
}

pub fn memory_db() -> Db {
    Db::new(Store::open_in_memory().expect("store"))
}

/// A log whose clock follows tokio's: in a `start_paused` test, an hour of
/// pacing passes as soon as every task waits, and a test's own
/// `tokio::time::sleep` returns only once the workers have finished their
/// steps and wait too (tokio advances paused time only when nothing can
/// run, and not while a storage call is on the blocking pool).
pub fn paused_db() -> Db {
    Db::with_clock(Store::open_in_memory().expect("store"), Clock::tokio())
}

static FEED: &str = "feed";

/// Record articles (title may hold `|` for multi-part posts) routed to targets.
pub async fn ingest(db: &Db, items: &[(&str, &str)], targets: &[&str]) {
    let batch: Vec<(IncomingArticle, Vec<Route>)> = items
        .iter()
        .map(|(key, title)| {
            let post = Post {
                feed: FEED.into(),
                title: title.to_string(),
                link: Some(format!("https://x.example/{key}")),
                ..Post::default()
            };
            (
                IncomingArticle {
                    keys: vec![format!("guid:{key}")],
                    content_hash: format!("h-{title}"),
                    title: title.to_string(),
                    link: post.link.clone(),
                    published_at: None,
                    payload: serde_json::to_string(&post).expect("json"),
                    refresh_only: false,
                },
                targets.iter().map(|t| Route::pending(*t)).collect(),
            )
        })
        .collect();
    let now = db.now_ms();
    db.call(move |s| {
        s.ingest(
            &FeedState {
                feed: FEED.into(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            },
            &batch,
            now,
        )
    })
    .await
    .expect("ingest");
}

/// Poll until `pred` holds (or panic after 10 s).
pub async fn until<F: Fn() -> bool>(what: &str, pred: F) {
    let start = std::time::Instant::now();
    while !pred() {
        if start.elapsed() > Duration::from_secs(10) {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Poll the whole delivery log until `pred` holds (or panic after 10 s):
/// the engine records each outcome after the call, so this is the signal
/// that it is done with what the check is about.
pub async fn until_logged(what: &str, db: &Db, pred: impl Fn(&[crier_storage::LogEntry]) -> bool) {
    let start = std::time::Instant::now();
    loop {
        let r = db
            .call(|s| {
                s.log(&LogQuery {
                    limit: 10_000,
                    ..LogQuery::default()
                })
            })
            .await
            .expect("log");
        if pred(&r) {
            return;
        }
        if start.elapsed() > Duration::from_secs(10) {
            panic!("timed out waiting for {what}: {r:#?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// No row left `pending` or `sending`: nothing more will be sent.
pub fn settled(r: &[crier_storage::LogEntry]) -> bool {
    !r.is_empty()
        && r.iter()
            .all(|e| !matches!(e.delivery.state, State::Pending | State::Sending))
}

async fn rows(db: &Db, target: &str) -> Vec<crier_storage::LogEntry> {
    let t = target.to_string();
    let mut r = db
        .call(move |s| {
            s.log(&LogQuery {
                limit: 1000,
                target: Some(t.clone()),
                ..LogQuery::default()
            })
        })
        .await
        .expect("log");
    r.sort_by_key(|e| e.delivery.id);
    r
}

fn sends(c: &[Call]) -> Vec<String> {
    c.iter()
        .filter_map(|c| match c {
            Call::Send(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn delivers_each_article_once_in_order_with_parts() {
    let db = memory_db();
    let t = Scripted::new("t");
    ingest(
        &db,
        &[("1", "one"), ("2", "two a|two b|two c"), ("3", "three")],
        &["t"],
    )
    .await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    h.engine.wake("t");
    until("5 sends", || t.calls().len() == 5).await;
    until_logged("every send recorded", &db, settled).await;
    assert_eq!(
        sends(&t.calls()),
        ["one", "two a", "two b", "two c", "three"]
    );
    let r = rows(&db, "t").await;
    assert_eq!(r.len(), 5);
    assert!(r.iter().all(|e| e.delivery.state == State::Sent));
    h.stop().await;
}

#[tokio::test]
async fn transient_errors_retry_then_fail_and_the_queue_continues() {
    let db = memory_db();
    let t = Scripted::new("t");
    t.script(vec![
        Err(DeliveryError::Transient("HTTP 502".into())),
        Ok(()),
        Err(DeliveryError::Transient("HTTP 500".into())),
        Err(DeliveryError::Transient("HTTP 500".into())),
        Err(DeliveryError::Transient("HTTP 500".into())),
    ]);
    ingest(&db, &[("1", "one"), ("2", "two"), ("3", "three")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("one and three sent", || sends(&t.calls()).len() == 2).await;
    assert_eq!(sends(&t.calls()), ["one", "three"]);
    let r = rows(&db, "t").await;
    assert_eq!(r[0].delivery.attempts, 2);
    assert_eq!(r[1].delivery.state, State::Failed);
    assert_eq!(r[1].delivery.attempts, 3);
    assert!(
        r[1].delivery
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("after 3 attempts")
    );
    // crier retry: the failed one is delivered after all.
    let now = db.now_ms();
    db.call(move |s| s.requeue_failed(None, Some("t"), now))
        .await
        .expect("requeue");
    h.engine.wake("t");
    until("two sent", || sends(&t.calls()).len() == 3).await;
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn hold_the_line_keeps_strict_order_after_a_failure() {
    let db = paused_db();
    let t = Scripted::new("t");
    t.script(vec![Err(DeliveryError::Rejected("bad".into()))]);
    ingest(&db, &[("1", "one"), ("2", "two")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Hold)], policy()).await;
    until_logged("the failure recorded", &db, |r| {
        r.iter().any(|e| e.delivery.state == State::Failed)
    })
    .await;
    // Paused time: this returns once the worker has taken its next steps
    // (finding the head held, several rechecks over) and waits again.
    tokio::time::sleep(policy().recheck.0 * 3).await;
    assert!(
        t.calls().is_empty(),
        "nothing after a held failure: {:?}",
        t.calls()
    );
    let now = db.now_ms();
    db.call(move |s| s.requeue_failed(None, None, now))
        .await
        .expect("requeue");
    h.engine.wake("t");
    until("both sent in order", || sends(&t.calls()).len() == 2).await;
    assert_eq!(sends(&t.calls()), ["one", "two"]);
    h.stop().await;
}

#[tokio::test]
async fn an_unusable_target_is_disabled_and_waits_while_others_go_on() {
    let db = memory_db();
    let gone = Scripted::new("gone");
    let ok = Scripted::new("ok");
    gone.script(vec![Err(DeliveryError::TargetGone(
        "Forbidden: bot was kicked from the channel chat".into(),
    ))]);
    ingest(&db, &[("1", "one"), ("2", "two")], &["gone", "ok"]).await;
    let h = Harness::start(
        db.clone(),
        vec![
            (gone.clone(), OnFailure::Continue),
            (ok.clone(), OnFailure::Continue),
        ],
        policy(),
    )
    .await;
    until("ok got both", || sends(&ok.calls()).len() == 2).await;
    let st = db
        .call(|s| s.target_state("gone"))
        .await
        .expect("state")
        .expect("some");
    assert!(st.disabled_reason.unwrap_or_default().contains("kicked"));
    let r = rows(&db, "gone").await;
    assert!(
        r.iter().all(|e| e.delivery.state == State::Pending),
        "rows wait, not lost"
    );
    assert!(gone.calls().is_empty());
    // Re-enabled (crier retry --target): everything arrives, in order.
    let now = db.now_ms();
    db.call(move |s| s.set_target_disabled("gone", None, now).map(|_| ()))
        .await
        .expect("enable");
    h.engine.wake("gone");
    until("gone got both", || sends(&gone.calls()).len() == 2).await;
    assert_eq!(sends(&gone.calls()), ["one", "two"]);
    h.stop().await;
}

#[tokio::test]
async fn a_moved_target_is_readdressed_and_retried() {
    let db = memory_db();
    let t = Scripted::new("t");
    t.script(vec![Err(DeliveryError::TargetMoved("-1009876".into()))]);
    ingest(&db, &[("1", "one")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("sent", || sends(&t.calls()).len() == 1).await;
    assert_eq!(t.address.lock().unwrap().as_deref(), Some("-1009876"));
    let st = db
        .call(|s| s.target_state("t"))
        .await
        .expect("st")
        .expect("some");
    assert_eq!(st.address_override.as_deref(), Some("-1009876"));
    let r = rows(&db, "t").await;
    assert_eq!(r[0].delivery.attempts, 1, "a move is not a failed attempt");
    h.stop().await;
}

#[tokio::test]
async fn rate_limits_wait_without_counting_attempts() {
    let db = memory_db();
    let t = Scripted::new("t");
    t.script(vec![
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_millis(200),
        }),
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_millis(200),
        }),
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_millis(200),
        }),
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_millis(200),
        }),
    ]);
    ingest(&db, &[("1", "one")], &["t"]).await;
    let start = std::time::Instant::now();
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("sent", || sends(&t.calls()).len() == 1).await;
    assert!(
        start.elapsed() >= Duration::from_millis(800),
        "waited retry_after each time"
    );
    let r = rows(&db, "t").await;
    assert_eq!(
        r[0].delivery.state,
        State::Sent,
        "four 429s never fail a post (max_attempts = 3)"
    );
    h.stop().await;
}

#[tokio::test]
async fn ambiguous_sends_follow_the_policy() {
    // resend (default): delivered again, flagged.
    let db = memory_db();
    let t = Scripted::new("t");
    t.script(vec![Err(DeliveryError::Ambiguous(
        "timeout after sending".into(),
    ))]);
    ingest(&db, &[("1", "one")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("sent", || sends(&t.calls()).len() == 1).await;
    until_logged("the send recorded", &db, settled).await;
    let r = rows(&db, "t").await;
    assert!(
        r[0].delivery.ambiguous,
        "the possible duplicate is recorded"
    );
    h.stop().await;

    // assume_sent: not sent again, recorded.
    let db = memory_db();
    let t = Scripted::new("t");
    t.script(vec![Err(DeliveryError::Ambiguous(
        "timeout after sending".into(),
    ))]);
    ingest(&db, &[("1", "one"), ("2", "two")], &["t"]).await;
    let mut p = policy();
    p.ambiguous = AmbiguousPolicy::AssumeSent;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], p).await;
    until("two sent", || sends(&t.calls()).len() == 1).await;
    assert_eq!(sends(&t.calls()), ["two"]);
    until_logged("both recorded", &db, settled).await;
    let r = rows(&db, "t").await;
    assert_eq!(r[0].delivery.state, State::Sent);
    assert!(
        r[0].delivery
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("assumed sent")
    );
    h.stop().await;

    // An idempotent target resends without flagging a duplicate risk.
    let db = memory_db();
    let t = Scripted::idempotent("t");
    t.script(vec![Err(DeliveryError::Ambiguous(
        "connection dropped".into(),
    ))]);
    ingest(&db, &[("1", "one")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("sent", || sends(&t.calls()).len() == 1).await;
    until_logged("the send recorded", &db, settled).await;
    assert!(!rows(&db, "t").await[0].delivery.ambiguous);
    h.stop().await;
}

#[tokio::test]
async fn updates_edit_every_part_and_adjust_the_part_count() {
    let db = memory_db();
    let t = Scripted::new("t");
    ingest(&db, &[("1", "a|b|c")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("3 parts", || t.calls().len() == 3).await;
    // The article changes and shrinks to two parts.
    ingest(&db, &[("1", "A|B")], &[]).await;
    h.engine.wake("t");
    until("edits", || t.calls().len() == 6).await;
    assert_eq!(
        t.calls()[3..],
        [
            Call::Edit("m1".into(), "A".into()),
            Call::Edit("m2".into(), "B".into()),
            Call::Delete("m3".into())
        ]
    );
    // And grows to three again: the third is appended.
    ingest(&db, &[("1", "A|B|C")], &[]).await;
    h.engine.wake("t");
    until("append", || t.calls().len() == 9).await;
    assert_eq!(t.calls()[8], Call::Send("C".into()));
    h.stop().await;
}

#[tokio::test]
async fn a_retraction_deletes_every_part() {
    let db = memory_db();
    let t = Scripted::new("t");
    ingest(&db, &[("1", "a|b")], &["t"]).await;
    let h = Harness::start(db.clone(), vec![(t.clone(), OnFailure::Continue)], policy()).await;
    until("2 parts", || t.calls().len() == 2).await;
    let article = db
        .call(|s| s.article_by_key("feed", "guid:1"))
        .await
        .expect("a")
        .expect("some");
    let now = db.now_ms();
    db.call(move |s| s.retract(article.id, now))
        .await
        .expect("retract");
    h.engine.wake("t");
    until("deletes", || t.calls().len() == 4).await;
    assert_eq!(
        t.calls()[2..],
        [Call::Delete("m1".into()), Call::Delete("m2".into())]
    );
    h.stop().await;
}

#[tokio::test]
async fn a_restart_mid_post_sends_only_the_remaining_parts() {
    let dir2 = tempfile::tempdir().expect("dir");
    let path2 = dir2.path().join("crier.db");
    {
        // A first run planned the post, sent part 1, and died with part 2
        // marked `sending`.
        let db2 = Db::new(Store::open(&path2).expect("open"));
        ingest(&db2, &[("1", "p1|p2|p3")], &["t"]).await;
        db2.call(|s| {
            let head = match s.queue_head("t", i64::MAX, false)? {
                crier_storage::QueueHead::Ready(d) => d,
                other => panic!("{other:?}"),
            };
            let parts: Vec<crier_storage::PlannedPart> = ["p1", "p2", "p3"]
                .iter()
                .map(|p| crier_storage::PlannedPart {
                    op: crier_storage::Op::Send,
                    payload: Some(serde_json::json!({ "text": p }).to_string()),
                    summary: p.to_string(),
                    ref_message: None,
                })
                .collect();
            s.plan_job(head.id, &parts, "empty", 1)?;
            s.mark_sending(head.id, 2)?;
            s.mark_sent(head.id, Some("m-old-1"), None, None, 2)?;
            let second = match s.queue_head("t", i64::MAX, false)? {
                crier_storage::QueueHead::Ready(d) => d,
                other => panic!("{other:?}"),
            };
            s.mark_sending(second.id, 3)?;
            Ok(())
        })
        .await
        .expect("crash setup");
    }
    let db2 = Db::new(Store::open(&path2).expect("reopen"));
    let t2 = Scripted::new("t");
    let h = Harness::start(
        db2.clone(),
        vec![(t2.clone(), OnFailure::Continue)],
        policy(),
    )
    .await;
    until("remaining parts", || t2.calls().len() == 2).await;
    until_logged("every part recorded", &db2, settled).await;
    assert_eq!(sends(&t2.calls()), ["p2", "p3"], "part 1 is not sent again");
    let r = rows(&db2, "t").await;
    assert!(r[1].delivery.ambiguous, "the interrupted part is flagged");
    assert!(!r[2].delivery.ambiguous);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_burst_beyond_the_hourly_budget_waits_for_the_hour() {
    let db = paused_db();
    let t = Scripted::new("t");
    ingest(
        &db,
        &[("1", "one"), ("2", "two"), ("3", "three"), ("4", "four")],
        &["t"],
    )
    .await;
    let pacing = Pacing {
        max_posts_per_hour: Some(2),
        ..Pacing::default()
    };
    let h = Harness::start_paced(
        db.clone(),
        vec![(t.clone(), OnFailure::Continue, pacing)],
        policy(),
    )
    .await;
    until("two sent", || t.calls().len() == 2).await;
    until_logged("two sends recorded", &db, |r| {
        r.iter().filter(|e| e.delivery.state == State::Sent).count() == 2
    })
    .await;
    // Paused time: 59 minutes pass as soon as the worker waits (it wakes
    // at each recheck, finds the budget spent and waits again).
    tokio::time::sleep(Duration::from_secs(59 * 60)).await;
    assert_eq!(
        sends(&t.calls()),
        ["one", "two"],
        "the rest waits for the hour"
    );
    let r = rows(&db, "t").await;
    assert_eq!(
        r.iter()
            .filter(|e| e.delivery.state == State::Pending)
            .count(),
        2,
        "waiting, not dropped"
    );
    // The hour since the first two posts ends: the rest go out, in order.
    tokio::time::sleep(Duration::from_secs(2 * 60)).await;
    until("the other two sent", || t.calls().len() == 4).await;
    assert_eq!(sends(&t.calls()), ["one", "two", "three", "four"]);
    h.stop().await;
}

#[tokio::test]
async fn a_burst_with_digest_sends_the_extra_articles_as_one_post() {
    let db = memory_db();
    let t = Scripted::new("t");
    let items: Vec<(String, String)> = (1..=10).map(|i| (i.to_string(), format!("n{i}"))).collect();
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    ingest(&db, &refs, &["t"]).await;
    let pacing = Pacing {
        max_posts_per_hour: Some(3),
        digest: true,
        ..Pacing::default()
    };
    let h = Harness::start_paced(
        db.clone(),
        vec![(t.clone(), OnFailure::Continue, pacing)],
        policy(),
    )
    .await;
    until("three posts", || t.calls().len() == 3).await;
    until_logged("the digest recorded", &db, settled).await;
    assert_eq!(
        sends(&t.calls()),
        ["n1", "n2", "digest: n3, n4, n5, n6, n7, n8, n9, n10"]
    );
    let r = rows(&db, "t").await;
    let folded = r
        .iter()
        .filter(|e| {
            e.delivery
                .reason
                .as_deref()
                .unwrap_or("")
                .starts_with("included in digest")
        })
        .count();
    assert_eq!(folded, 7);
    h.stop().await;
}

#[tokio::test]
async fn a_minimum_gap_spaces_posts() {
    let db = memory_db();
    let t = Scripted::new("t");
    ingest(&db, &[("1", "one"), ("2", "two")], &["t"]).await;
    let pacing = Pacing {
        min_gap: Some(Duration::from_millis(700)),
        ..Pacing::default()
    };
    let start = std::time::Instant::now();
    let h = Harness::start_paced(
        db.clone(),
        vec![(t.clone(), OnFailure::Continue, pacing)],
        policy(),
    )
    .await;
    until("two sent", || t.calls().len() == 2).await;
    assert!(start.elapsed() >= Duration::from_millis(700));
    h.stop().await;
}
