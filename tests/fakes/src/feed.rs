//! A loopback feed server for tests and benchmarks.
//!
//! Serves any number of documents by path on 127.0.0.1 (port 0, optionally
//! several listeners sharing one state so that a client sees several
//! "hosts"), with ETag/Last-Modified and 304, content-type control, gzip,
//! redirects, slow answers, error statuses, oversized and endless bodies,
//! runtime content changes and per-path request counting.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use tokio::task::JoinHandle;

/// How the server answers one path.
#[derive(Debug, Clone)]
pub struct Route {
    /// Status code (200 by default).
    pub status: u16,
    /// Body bytes.
    pub body: Bytes,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// `ETag` sent; a matching `If-None-Match` gets a 304.
    pub etag: Option<String>,
    /// `Last-Modified` sent; an equal `If-Modified-Since` gets a 304.
    pub last_modified: Option<String>,
    /// Compress the body with gzip when the client accepts it.
    pub gzip: bool,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer `302 Found` to this location instead.
    pub redirect_to: Option<String>,
    /// Stream a body of this many filler bytes instead of `body`, without
    /// `Content-Length` (`u64::MAX`: endless, until the client hangs up).
    pub stream_bytes: Option<u64>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl Default for Route {
    fn default() -> Self {
        Route {
            status: 200,
            body: Bytes::new(),
            content_type: None,
            etag: None,
            last_modified: None,
            gzip: false,
            delay: Duration::ZERO,
            redirect_to: None,
            stream_bytes: None,
            headers: Vec::new(),
        }
    }
}

impl Route {
    /// A 200 answer with this body and content type.
    pub fn ok(body: impl Into<Bytes>, content_type: &str) -> Self {
        Route {
            body: body.into(),
            content_type: Some(content_type.to_owned()),
            ..Route::default()
        }
    }

    /// A feed with an ETag derived from its content (so a change of body
    /// changes the ETag) and a fixed Last-Modified.
    pub fn feed(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = format!("\"{:016x}\"", fnv1a(&body));
        Route {
            body,
            content_type: Some("application/rss+xml; charset=UTF-8".into()),
            etag: Some(etag),
            last_modified: Some("Wed, 01 Feb 2023 05:40:02 GMT".into()),
            ..Route::default()
        }
    }

    /// An error status with a short body.
    pub fn status(code: u16) -> Self {
        Route {
            status: code,
            body: Bytes::from(format!("status {code}")),
            content_type: Some("text/plain".into()),
            ..Route::default()
        }
    }

    /// A 302 redirect.
    pub fn redirect(location: &str) -> Self {
        Route {
            status: 302,
            redirect_to: Some(location.to_owned()),
            ..Route::default()
        }
    }

    /// Builder: gzip the body.
    pub fn gzip(mut self) -> Self {
        self.gzip = true;
        self
    }

    /// Builder: answer after `delay`.
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Builder: add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Builder: no validators (no ETag, no Last-Modified).
    pub fn without_validators(mut self) -> Self {
        self.etag = None;
        self.last_modified = None;
        self
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What the server saw of one request.
#[derive(Debug, Clone, Default)]
pub struct SeenRequest {
    /// Path and query.
    pub path_and_query: String,
    /// Request headers (lowercased names).
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct ServerState {
    routes: RwLock<HashMap<String, Route>>,
    hits: Mutex<HashMap<String, u64>>,
    last: Mutex<HashMap<String, SeenRequest>>,
    total: AtomicU64,
    not_modified: AtomicU64,
}

/// The running server. Dropping it stops the listeners.
pub struct FeedServer {
    addrs: Vec<SocketAddr>,
    state: Arc<ServerState>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FeedServer {
    /// Starts one listener on 127.0.0.1, port 0.
    pub async fn start() -> std::io::Result<FeedServer> {
        Self::start_with_listeners(1).await
    }

    /// Starts `n` listeners (distinct ports, one shared set of routes).
    pub async fn start_with_listeners(n: usize) -> std::io::Result<FeedServer> {
        let state = Arc::new(ServerState::default());
        let mut addrs = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..n.max(1) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            addrs.push(listener.local_addr()?);
            let app = axum::Router::new()
                .fallback(handle)
                .with_state(state.clone());
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }));
        }
        Ok(FeedServer {
            addrs,
            state,
            tasks,
        })
    }

    /// Base URL of listener `i` (modulo the number of listeners).
    pub fn base(&self, i: usize) -> String {
        format!("http://{}", self.addrs[i % self.addrs.len()])
    }

    /// Full URL of `path` on the first listener.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(0), path)
    }

    /// Number of listeners.
    pub fn listeners(&self) -> usize {
        self.addrs.len()
    }

    /// Sets (or replaces) what `path` answers. The query string is ignored
    /// when matching.
    pub fn set(&self, path: &str, route: Route) {
        let mut routes = self.state.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.insert(path.to_owned(), route);
    }

    /// Shorthand: serve a feed body at `path` (see [`Route::feed`]).
    pub fn set_feed(&self, path: &str, body: impl Into<Bytes>) {
        self.set(path, Route::feed(body));
    }

    /// Removes a path (it then answers 404).
    pub fn remove(&self, path: &str) {
        let mut routes = self.state.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.remove(path);
    }

    /// Requests received for `path`.
    pub fn hits(&self, path: &str) -> u64 {
        let hits = self.state.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.get(path).copied().unwrap_or(0)
    }

    /// Requests received in total.
    pub fn total_hits(&self) -> u64 {
        self.state.total.load(Ordering::Relaxed)
    }

    /// 304 answers sent in total.
    pub fn not_modified_count(&self) -> u64 {
        self.state.not_modified.load(Ordering::Relaxed)
    }

    /// The last request seen for `path`.
    pub fn last_request(&self, path: &str) -> Option<SeenRequest> {
        let last = self.state.last.lock().unwrap_or_else(|p| p.into_inner());
        last.get(path).cloned()
    }

    /// The value of header `name` in the last request for `path`.
    pub fn last_header(&self, path: &str, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        self.last_request(path)?
            .headers
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

fn header_matches(headers: &HeaderMap, name: header::HeaderName, value: Option<&str>) -> bool {
    match (headers.get(name).and_then(|v| v.to_str().ok()), value) {
        (Some(got), Some(want)) => got.split(',').any(|g| g.trim() == want || g.trim() == "*"),
        _ => false,
    }
}

fn gzip_bytes(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

async fn handle(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    state.total.fetch_add(1, Ordering::Relaxed);
    {
        let mut hits = state.hits.lock().unwrap_or_else(|p| p.into_inner());
        *hits.entry(path.clone()).or_default() += 1;
    }
    {
        let seen = SeenRequest {
            path_and_query: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
        };
        let mut last = state.last.lock().unwrap_or_else(|p| p.into_inner());
        last.insert(path.clone(), seen);
    }
    let route = {
        let routes = state.routes.read().unwrap_or_else(|p| p.into_inner());
        routes.get(&path).cloned()
    };
    let Some(route) = route else {
        return simple(StatusCode::NOT_FOUND, "not found");
    };
    if !route.delay.is_zero() {
        tokio::time::sleep(route.delay).await;
    }
    let mut builder = Response::builder().status(route.status);
    if let Some(loc) = &route.redirect_to {
        return builder
            .header(header::LOCATION, loc)
            .body(Body::empty())
            .unwrap_or_else(|_| simple(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect"));
    }
    for (n, v) in &route.headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    if let Some(et) = &route.etag {
        builder = builder.header(header::ETAG, et);
    }
    if let Some(lm) = &route.last_modified {
        builder = builder.header(header::LAST_MODIFIED, lm);
    }
    let etag_hit = header_matches(&headers, header::IF_NONE_MATCH, route.etag.as_deref());
    let lm_hit = headers.get(header::IF_NONE_MATCH).is_none()
        && header_matches(
            &headers,
            header::IF_MODIFIED_SINCE,
            route.last_modified.as_deref(),
        );
    if route.status == 200 && (etag_hit || lm_hit) {
        state.not_modified.fetch_add(1, Ordering::Relaxed);
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| simple(StatusCode::INTERNAL_SERVER_ERROR, "bad 304"));
    }
    if let Some(ct) = &route.content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    if let Some(total) = route.stream_bytes {
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let stream = futures::stream::unfold(0u64, move |sent| {
            let chunk = chunk.clone();
            async move {
                if sent >= total {
                    return None;
                }
                let n = (total - sent).min(chunk.len() as u64) as usize;
                Some((
                    Ok::<Bytes, std::io::Error>(chunk.slice(..n)),
                    sent + n as u64,
                ))
            }
        });
        return builder
            .body(Body::from_stream(stream))
            .unwrap_or_else(|_| simple(StatusCode::INTERNAL_SERVER_ERROR, "bad stream"));
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let body = if route.gzip && accepts_gzip {
        builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        Bytes::from(gzip_bytes(&route.body))
    } else {
        route.body.clone()
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| simple(StatusCode::INTERNAL_SERVER_ERROR, "bad response"))
}

fn simple(status: StatusCode, text: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
        // A minimal HTTP/1.1 client over TCP, to avoid a reqwest dependency.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut s = tokio::net::TcpStream::connect(host).await.expect("connect");
        let mut req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    #[tokio::test]
    async fn serves_counts_and_304s() {
        let server = FeedServer::start().await.expect("start");
        server.set_feed("/a.xml", "<rss version=\"2.0\"/>");
        let (status, text) = get(&server.url("/a.xml"), &[]).await;
        assert_eq!(status, 200);
        assert!(text.contains("<rss"));
        let etag = Route::feed("<rss version=\"2.0\"/>").etag.expect("etag");
        let (status, _) = get(&server.url("/a.xml"), &[("If-None-Match", &etag)]).await;
        assert_eq!(status, 304);
        assert_eq!(server.hits("/a.xml"), 2);
        assert_eq!(server.not_modified_count(), 1);
        let (status, _) = get(&server.url("/missing"), &[]).await;
        assert_eq!(status, 404);
        server.set("/e", Route::status(503));
        assert_eq!(get(&server.url("/e"), &[]).await.0, 503);
        server.set("/r", Route::redirect("/a.xml"));
        assert_eq!(get(&server.url("/r"), &[]).await.0, 302);
        assert_eq!(
            server.last_header("/e", "host").as_deref(),
            Some(&server.base(0)[7..])
        );
    }
}
