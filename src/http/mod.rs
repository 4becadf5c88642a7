//! The HTTP listener of `crier run` (`[http]`): health (`/healthz`,
//! `/readyz`), Prometheus metrics (`/metrics`), the status page (`/`) with
//! its actions, and the webhooks other modules mount (the platforms'
//! hooks, WebSub callbacks and WordPress hooks).
//!
//! Routes come in [`Mount`]s. A mount is either behind the access token
//! ([`Access::Token`]: bearer header or the page's login cookie) or
//! authenticates its callers itself ([`Access::Own`]: health, the login
//! form, webhooks that check their own secret).

pub mod actions;
pub mod auth;
pub mod health;
pub mod hooks;
pub mod metrics;
pub mod page;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::commands::CommandCenter;
use crate::config::Config;
use crate::db::Db;
use crate::telemetry::Telemetry;

/// What the handlers share.
pub struct HttpState {
    pub cfg: Arc<Config>,
    pub db: Db,
    pub command_center: Arc<CommandCenter>,
    pub telemetry: Telemetry,
    pub sessions: auth::Sessions,
    pub started: Instant,
}

/// Who may call a mount's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The access token (bearer header or login cookie), when one is set.
    Token,
    /// Anyone: the routes check their own secret (or need none).
    Own,
}

/// A set of routes and who may call them.
pub struct Mount {
    pub access: Access,
    pub router: Router,
}

impl Mount {
    pub fn token(router: Router) -> Mount {
        Mount {
            access: Access::Token,
            router,
        }
    }

    pub fn own(router: Router) -> Mount {
        Mount {
            access: Access::Own,
            router,
        }
    }
}

/// The core mounts: health, login, metrics, the page and its actions.
pub fn core_mounts(state: &Arc<HttpState>) -> Vec<Mount> {
    vec![
        Mount::own(health::routes(state.clone())),
        Mount::own(auth::routes(state.clone())),
        Mount::token(metrics::routes(state.clone())),
        Mount::token(page::routes(state.clone())),
        Mount::token(actions::routes(state.clone())),
    ]
}

/// One router from the mounts; token mounts get the access check.
pub fn router(state: &Arc<HttpState>, mounts: Vec<Mount>) -> Router {
    let mut app = Router::new();
    for m in mounts {
        let r = match m.access {
            Access::Token => m.router.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require,
            )),
            Access::Own => m.router,
        };
        app = app.merge(r);
    }
    app.layer(axum::middleware::from_fn(security_headers))
}

async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Bind the listener's address; a clear error names it when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} ([http] listen): is another program using that port?")
    })
}

/// Serve `router` on `listener` until `shutdown`; connections in flight
/// finish (the caller bounds the wait by the grace period).
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    {
        let addr = listener.local_addr().ok();
        let res = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
        match res {
            Ok(()) => tracing::debug!(?addr, "HTTP listener stopped"),
            Err(e) => tracing::error!(?addr, error = %e, "HTTP listener failed"),
        }
    }
}

/// Start serving: the core mounts plus `extra` (webhooks).
pub async fn start(
    listener: TcpListener,
    cfg: Arc<Config>,
    db: Db,
    command_center: Arc<CommandCenter>,
    telemetry: Telemetry,
    extra: Vec<Mount>,
    shutdown: CancellationToken,
) {
    let state = Arc::new(HttpState {
        cfg,
        db,
        command_center,
        telemetry,
        sessions: auth::Sessions::default(),
        started: Instant::now(),
    });
    let mut mounts = core_mounts(&state);
    mounts.extend(extra);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, token = state.cfg.http.token().is_some(), "HTTP listener: status page, /metrics, /healthz, /readyz");
    }
    serve(listener, router(&state, mounts), shutdown).await
}
