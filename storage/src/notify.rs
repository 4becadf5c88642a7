//! Wake-ups across processes on PostgreSQL: the schema's triggers (v4)
//! `NOTIFY` a channel named after the schema whenever a statement changes
//! deliveries or targets' state; a [`ChangeListener`] is a second session
//! that `LISTEN`s on it. SQLite has no such thing: its callers poll
//! [`Store::data_version`](crate::Store::data_version) instead.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use crate::{Error, Result, Store};

/// What [`ChangeListener::wait`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Another session committed a change.
    Changed,
    /// Nothing within the timeout (or only the caller's own session).
    Quiet,
    /// The listening session was (re)opened: changes made while it was
    /// closed were not heard, so the caller should look as if one came.
    Reconnected,
}

/// A session listening for the schema's change notifications.
pub struct ChangeListener {
    config: postgres::Config,
    label: String,
    client: Option<postgres::Client>,
    /// Feeds another session asked to poll now ([`Store::request_poll`]),
    /// heard since the last [`ChangeListener::take_polls`].
    polls: Vec<String>,
}

impl ChangeListener {
    /// Wait up to `timeout` for a change committed by a session other than
    /// `own` (the caller's store session, whose own writes are not news).
    /// Errors are transient: the next call opens a new session.
    pub fn wait(&mut self, timeout: Duration, own: Option<i32>) -> Result<Change> {
        let Some(client) = self.client.as_mut().filter(|c| !c.is_closed()) else {
            self.client = None;
            let mut c = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| Error::Connect {
                    at: self.label.clone(),
                    reason: crate::errors::describe_pg(&e),
                })?;
            let channel: String = c
                .query_one("SELECT 'crier_' || left(md5(current_schema()), 16)", &[])?
                .try_get(0)?;
            // The name is ours (hex digits): quoting is enough.
            c.batch_execute(&format!("LISTEN \"{channel}\""))?;
            self.client = Some(c);
            return Ok(Change::Reconnected);
        };
        let mut notes = client.notifications();
        let mut changed = false;
        let first = notes.timeout_iter(timeout).next()?;
        let mut polls = Vec::new();
        let mut hear = |n: &postgres::Notification| {
            let other = Some(n.process_id()) != own;
            if let (true, Some(feed)) = (other, n.payload().strip_prefix(POLL_PREFIX)) {
                polls.push(feed.to_string());
            }
            other
        };
        if let Some(n) = first {
            changed |= hear(&n);
            // Take what else arrived meanwhile, without waiting.
            let mut more = notes.iter();
            while let Some(n) = more.next()? {
                changed |= hear(&n);
            }
        }
        self.polls.extend(polls);
        Ok(if changed {
            Change::Changed
        } else {
            Change::Quiet
        })
    }
}

impl ChangeListener {
    /// The feeds other sessions asked to poll now since the last call.
    pub fn take_polls(&mut self) -> Vec<String> {
        std::mem::take(&mut self.polls)
    }
}

/// A notification's payload asking the holder of a feed to poll it now.
const POLL_PREFIX: &str = "poll:";

impl Drop for ChangeListener {
    /// As for the store's session: never close the sync client on a thread
    /// that drives a tokio runtime.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl Store {
    /// A listener for changes other sessions commit (PostgreSQL); `None`
    /// on SQLite. It connects on its first [`ChangeListener::wait`].
    pub fn change_listener(&self) -> Option<ChangeListener> {
        let (_, config) = self.conn.pg_session()?;
        Some(ChangeListener {
            label: crate::backend::label(&config),
            config,
            client: None,
            polls: Vec::new(),
        })
    }

    /// Ask whichever instance watches `feed` to poll it now (a thin push,
    /// a WordPress hook, `/poll` or `/resume` received by another
    /// instance): a notification on the schema's channel, heard by every
    /// listener but this session's own. SQLite: nothing (one process).
    pub fn request_poll(&self, feed: &str) -> Result<()> {
        if self.backend() == crate::Backend::Postgres {
            self.conn.execute(
                "SELECT pg_notify('crier_' || left(md5(current_schema()), 16), CAST(?1 AS TEXT))",
                crate::params![format!("{POLL_PREFIX}{feed}")],
            )?;
        }
        Ok(())
    }

    /// The server process of this store's PostgreSQL session (what a
    /// notification names as its sender); `None` on SQLite.
    pub fn session_pid(&self) -> Option<i32> {
        self.conn.pg_session().and_then(|(pid, _)| pid)
    }
}
