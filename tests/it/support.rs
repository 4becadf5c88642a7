//! Helpers to run the `crier` binary on a temporary folder.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crier_storage::{LogQuery, State, Store};

pub fn crier_bin() -> &'static str {
    env!("CARGO_BIN_EXE_crier")
}

/// A temporary workspace with a config file.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    /// Run a crier subcommand to completion.
    pub fn crier(&self, args: &[&str]) -> Output {
        Command::new(crier_bin())
            .arg("--config")
            .arg(self.config())
            .args(args)
            .current_dir(self.dir.path())
            .env("RUST_LOG", "crier=debug")
            .output()
            .expect("run crier")
    }

    /// Start `crier run` in the background.
    pub fn start(&self) -> Running {
        Running::start(self.dir.path(), &self.config(), &[])
    }
}

/// A `crier run` process whose output is collected as it comes.
pub struct Running {
    pub child: Child,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
    /// The threads copying stdout and stderr; they end at the pipes' EOF.
    pumps: Vec<JoinHandle<()>>,
}

fn pump(mut r: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let s = String::from_utf8_lossy(&buf[..n]).into_owned();
                    into.lock().unwrap_or_else(|p| p.into_inner()).push_str(&s);
                }
            }
        }
    })
}

impl Running {
    pub fn start(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(crier_bin());
        cmd.arg("run")
            .arg("--config")
            .arg(config)
            .current_dir(dir)
            .env("RUST_LOG", "crier=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn crier run");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let pumps = vec![
            pump(child.stdout.take().expect("stdout"), stdout.clone()),
            pump(child.stderr.take().expect("stderr"), stderr.clone()),
        ];
        Running {
            child,
            stdout,
            stderr,
            pumps,
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Wait until `pred(stdout, stderr)` holds, or panic after `timeout`.
    pub fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&str, &str) -> bool) {
        let start = Instant::now();
        loop {
            if pred(&self.stdout(), &self.stderr()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "crier exited ({status}) while waiting for {what}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "timed out waiting for {what}\nstdout:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then wait for the exit.
    pub fn terminate(mut self) -> (ExitStatus, String, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!(
                    "crier did not stop after SIGTERM\nstderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.drain();
        (status, self.stdout(), self.stderr())
    }

    /// Once the process has exited: wait for the pump threads to copy the
    /// rest of its output (they end at the pipes' end of file).
    pub fn drain(&mut self) {
        for p in self.pumps.drain(..) {
            let _ = p.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stdout_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Poll `cond` every 20 ms until it holds; panic naming `what` after
/// `timeout`. The positive signal a "nothing else happened" check waits for
/// before it looks.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Delivery rows not yet final (`pending` or `sending`) in `store`. When it
/// is zero after the expected posts, no further send can happen: a `sent`
/// row is never picked again (invariant 2), and nothing new was ingested.
pub fn unsettled(store: &Store) -> usize {
    store
        .log(&LogQuery {
            limit: 100_000,
            ..LogQuery::default()
        })
        .expect("log")
        .iter()
        .filter(|e| matches!(e.delivery.state, State::Pending | State::Sending))
        .count()
}

/// [`unsettled`] for the SQLite database at `path`; a database that cannot
/// be read yet counts as unsettled.
pub fn unsettled_at(path: &Path) -> usize {
    if !path.exists() {
        return usize::MAX;
    }
    match Store::open(path) {
        Ok(s) => unsettled(&s),
        Err(_) => usize::MAX,
    }
}
