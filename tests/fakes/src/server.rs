//! The HTTP plumbing shared by both fakes: an accept loop on 127.0.0.1:0
//! that serves an axum `Router` one hyper connection at a time, so that a
//! handler can drop *its own* connection without answering (the
//! `DropBeforeApply` / `ApplyThenDrop` faults), and a background runtime for
//! tests that block their own thread.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::thread::JoinHandle as ThreadHandle;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

/// Closes the connection that carried a request, from inside its handler.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnKill(Arc<Notify>);

impl ConnKill {
    /// Close this request's connection; never returns (the handler future
    /// is dropped with the connection).
    pub(crate) async fn drop_connection(&self) -> axum::response::Response {
        self.0.notify_one();
        std::future::pending::<()>().await;
        axum::response::Response::new(Body::empty())
    }
}

/// A running server: aborts its accept loop and every connection on drop.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind 127.0.0.1:0 and serve `router` on the current tokio runtime.
pub(crate) async fn serve(router: Router) -> io::Result<Server> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    conns.spawn(serve_connection(stream, router));
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    });
    Ok(Server { addr, task })
}

async fn serve_connection(stream: tokio::net::TcpStream, router: Router) {
    let kill = ConnKill::default();
    let notify = kill.0.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(kill.clone());
        router.clone().oneshot(req.map(Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = notify.notified() => {
            // Dropping `conn` closes the socket mid-request: the client sees
            // the connection closed with no answer.
        }
    }
}

/// A fake that runs on its own runtime thread, for tests that block (e.g.
/// wait for a `crier` subprocess). Derefs to the fake; dropping it stops
/// the runtime and the server.
pub struct Background<T> {
    fake: Option<T>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<ThreadHandle<()>>,
}

impl<T> Deref for Background<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.fake {
            Some(f) => f,
            None => unreachable!("the fake is only taken in Drop"),
        }
    }
}

impl<T> Drop for Background<T> {
    fn drop(&mut self) {
        // Drop our handle first: the server task is aborted on the runtime
        // thread when the runtime shuts down.
        self.fake.take();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start a fake with `start` on a fresh current-thread runtime running on
/// its own OS thread.
pub(crate) fn background<T, F, Fut>(name: &str, start: F) -> io::Result<Background<T>>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<T>>,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<T>>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                match start().await {
                    Ok(fake) => {
                        if ready_tx.send(Ok(fake)).is_err() {
                            return;
                        }
                        let _ = stop_rx.await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })?;
    let fake = ready_rx
        .recv()
        .map_err(|_| io::Error::other("fake runtime thread died"))??;
    Ok(Background {
        fake: Some(fake),
        shutdown: Some(stop_tx),
        thread: Some(thread),
    })
}

/// Read a whole request body (up to `limit` bytes).
pub(crate) async fn read_body(body: Body, limit: usize) -> Option<axum::body::Bytes> {
    axum::body::to_bytes(body, limit).await.ok()
}
