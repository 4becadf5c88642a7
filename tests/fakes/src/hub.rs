//! A loopback WebSub hub (W3C WebSub recommendation), for tests and
//! benchmarks. It behaves like a real hub:
//!
//! - `POST /` with a form (`hub.mode`, `hub.topic`, `hub.callback`,
//!   `hub.lease_seconds`, `hub.secret`): checked (400 with a reason when
//!   malformed), answered `202 Accepted`, then the **verification of
//!   intent** runs asynchronously: `GET <callback>?hub.mode=…&hub.topic=…
//!   &hub.challenge=<random>&hub.lease_seconds=<granted>`; the
//!   subscription exists only when the subscriber answers 2xx with the
//!   challenge as its whole body. A denied topic gets `hub.mode=denied`
//!   with a `hub.reason` instead.
//! - Leases: the granted lease is the asked one capped by
//!   [`FakeHub::set_max_lease`]; an expired subscription gets nothing.
//! - Content distribution: [`FakeHub::publish`] POSTs the new content (a
//!   fat ping) to every live subscriber of the topic with
//!   `X-Hub-Signature: sha256=<HMAC of the body with hub.secret>` and the
//!   `Link` headers (`rel="hub"`, `rel="self"`); [`FakeHub::publish_thin`]
//!   POSTs an empty body. [`FakeHub::deliver_raw`] sends whatever a test
//!   wants (forged signatures).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rand::Rng;
use tokio::task::JoinHandle;

/// The longest hub.secret accepted (the recommendation: under 200 bytes).
pub const MAX_SECRET: usize = 199;

/// A live (verified) subscription.
#[derive(Debug, Clone)]
pub struct HubSub {
    pub callback: String,
    pub topic: String,
    pub secret: Option<String>,
    pub lease: Duration,
    pub expires: Instant,
}

/// One verification of intent the hub made.
#[derive(Debug, Clone)]
pub struct Verification {
    pub mode: String,
    pub topic: String,
    pub callback: String,
    /// The subscriber's HTTP status (None: unreachable).
    pub status: Option<u16>,
    /// True when the subscriber echoed the challenge exactly.
    pub confirmed: bool,
}

/// One delivery of content to a subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub callback: String,
    pub status: Option<u16>,
}

#[derive(Default)]
struct HubState {
    subs: Mutex<HashMap<(String, String), HubSub>>,
    verifications: Mutex<Vec<Verification>>,
    requests: Mutex<Vec<(String, String)>>,
    deny: Mutex<HashSet<String>>,
    max_lease: Mutex<Option<Duration>>,
    self_url: Mutex<String>,
}

/// The running hub. Dropping it stops the listener.
pub struct FakeHub {
    addr: SocketAddr,
    state: Arc<HubState>,
    task: JoinHandle<()>,
    client: reqwest::Client,
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `sha256=<hex>` HMAC of `body` keyed with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `sha1=<hex>`, for hubs that still sign with SHA-1.
pub fn sign_sha1(secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

impl FakeHub {
    /// Start the hub on 127.0.0.1, port 0.
    pub async fn start() -> std::io::Result<FakeHub> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(HubState::default());
        *state.self_url.lock().expect("lock") = format!("http://{addr}/");
        let app = axum::Router::new()
            .route("/", axum::routing::post(subscribe))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeHub {
            addr,
            state,
            task,
            client: client(),
        })
    }

    /// Stop answering (a hub that went away): the listener closes.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// The hub's URL (what a feed names with `rel="hub"`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Deny subscriptions to `topic` (`hub.mode=denied`).
    pub fn deny(&self, topic: &str) {
        self.state
            .deny
            .lock()
            .expect("lock")
            .insert(topic.to_string());
    }

    /// Grant at most this lease.
    pub fn set_max_lease(&self, lease: Duration) {
        *self.state.max_lease.lock().expect("lock") = Some(lease);
    }

    /// Live subscriptions (verified, not expired).
    pub fn subscriptions(&self) -> Vec<HubSub> {
        let now = Instant::now();
        self.state
            .subs
            .lock()
            .expect("lock")
            .values()
            .filter(|s| s.expires > now)
            .cloned()
            .collect()
    }

    /// Every subscription the hub verified, expired or not.
    pub fn all_subscriptions(&self) -> Vec<HubSub> {
        self.state
            .subs
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect()
    }

    /// The verifications of intent made so far.
    pub fn verifications(&self) -> Vec<Verification> {
        self.state.verifications.lock().expect("lock").clone()
    }

    /// The (mode, topic) of every subscription request received.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.state.requests.lock().expect("lock").clone()
    }

    fn live_for(&self, topic: &str) -> Vec<HubSub> {
        self.subscriptions()
            .into_iter()
            .filter(|s| s.topic == topic)
            .collect()
    }

    /// A fat ping: `body` (the feed's new content) to every live
    /// subscriber of `topic`, signed with each one's secret.
    pub async fn publish(&self, topic: &str, body: &str, content_type: &str) -> Vec<Delivery> {
        let mut out = Vec::new();
        for s in self.live_for(topic) {
            let sig = s.secret.as_deref().map(|k| sign(k, body.as_bytes()));
            out.push(
                self.post(
                    &s.callback,
                    topic,
                    body.as_bytes().to_vec(),
                    content_type,
                    sig,
                )
                .await,
            );
        }
        out
    }

    /// A thin ping: an empty, signed body.
    pub async fn publish_thin(&self, topic: &str) -> Vec<Delivery> {
        let mut out = Vec::new();
        for s in self.live_for(topic) {
            let sig = s.secret.as_deref().map(|k| sign(k, b""));
            out.push(
                self.post(&s.callback, topic, Vec::new(), "text/plain", sig)
                    .await,
            );
        }
        out
    }

    /// POST `body` to `callback` with this signature header (or none).
    pub async fn deliver_raw(
        &self,
        callback: &str,
        topic: &str,
        body: &str,
        content_type: &str,
        signature: Option<String>,
    ) -> Delivery {
        self.post(
            callback,
            topic,
            body.as_bytes().to_vec(),
            content_type,
            signature,
        )
        .await
    }

    async fn post(
        &self,
        callback: &str,
        topic: &str,
        body: Vec<u8>,
        content_type: &str,
        signature: Option<String>,
    ) -> Delivery {
        let mut req = self
            .client
            .post(callback)
            .header("Content-Type", content_type)
            .header(
                "Link",
                format!("<{}>; rel=\"hub\", <{topic}>; rel=\"self\"", self.url()),
            )
            .body(body);
        if let Some(sig) = signature {
            req = req.header("X-Hub-Signature", sig);
        }
        let status = req.send().await.ok().map(|r| r.status().as_u16());
        Delivery {
            callback: callback.to_string(),
            status,
        }
    }
}

fn bad(reason: &str) -> Response {
    (StatusCode::BAD_REQUEST, reason.to_string()).into_response()
}

async fn subscribe(State(state): State<Arc<HubState>>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mode = form.get("hub.mode").cloned().unwrap_or_default();
    if mode != "subscribe" && mode != "unsubscribe" {
        return bad("Invalid value for hub.mode");
    }
    let Some(topic) = form.get("hub.topic").filter(|t| !t.is_empty()).cloned() else {
        return bad("Missing hub.topic");
    };
    let Some(callback) = form
        .get("hub.callback")
        .filter(|c| url::Url::parse(c).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        .cloned()
    else {
        return bad("Invalid hub.callback");
    };
    let secret = form.get("hub.secret").cloned();
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET) {
        return bad("hub.secret must be under 200 bytes");
    }
    let asked = match form.get("hub.lease_seconds") {
        Some(l) => match l.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return bad("Invalid hub.lease_seconds"),
        },
        None => None,
    };
    state
        .requests
        .lock()
        .expect("lock")
        .push((mode.clone(), topic.clone()));
    let max = state
        .max_lease
        .lock()
        .expect("lock")
        .unwrap_or(Duration::from_secs(10 * 24 * 3600));
    let lease = asked
        .map(Duration::from_secs)
        .unwrap_or(max)
        .min(max)
        .max(Duration::from_secs(1));
    let denied = state.deny.lock().expect("lock").contains(&topic);
    tokio::spawn(verify(state, mode, topic, callback, secret, lease, denied));
    (StatusCode::ACCEPTED, "").into_response()
}

async fn verify(
    state: Arc<HubState>,
    mode: String,
    topic: String,
    callback: String,
    secret: Option<String>,
    lease: Duration,
    denied: bool,
) {
    // Real hubs verify a moment after answering.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let Ok(mut url) = url::Url::parse(&callback) else {
        return;
    };
    let challenge: String = {
        let mut rng = rand::rng();
        (0..32)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect()
    };
    {
        let mut q = url.query_pairs_mut();
        if denied {
            q.append_pair("hub.mode", "denied")
                .append_pair("hub.topic", &topic)
                .append_pair("hub.reason", "subscriptions to this topic are not allowed");
        } else {
            q.append_pair("hub.mode", &mode)
                .append_pair("hub.topic", &topic)
                .append_pair("hub.challenge", &challenge);
            if mode == "subscribe" {
                q.append_pair("hub.lease_seconds", &lease.as_secs().to_string());
            }
        }
    }
    let resp = client().get(url).send().await;
    let (status, text) = match resp {
        Ok(r) => {
            let s = r.status().as_u16();
            (Some(s), r.text().await.unwrap_or_default())
        }
        Err(_) => (None, String::new()),
    };
    let confirmed = !denied && status.is_some_and(|s| (200..300).contains(&s)) && text == challenge;
    state
        .verifications
        .lock()
        .expect("lock")
        .push(Verification {
            mode: if denied {
                "denied".into()
            } else {
                mode.clone()
            },
            topic: topic.clone(),
            callback: callback.clone(),
            status,
            confirmed,
        });
    if !confirmed {
        return;
    }
    let key = (callback.clone(), topic.clone());
    let mut subs = state.subs.lock().expect("lock");
    if mode == "subscribe" {
        subs.insert(
            key,
            HubSub {
                callback,
                topic,
                secret,
                lease,
                expires: Instant::now() + lease,
            },
        );
    } else {
        subs.remove(&key);
    }
}
