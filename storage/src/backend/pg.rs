//! The PostgreSQL connection: `?N` → `$N` rewriting, connecting (and
//! reconnecting), the prepared-statement cache, and a configuration's
//! printable label.

use std::collections::HashMap;
use std::time::Duration;

use super::{INSTANCE_LOCK_SQL, Pg};
use crate::{Error, Result};

/// `?N` → `$N` (the SQL is ours: no `?` appears inside a literal).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl Drop for Pg {
    /// The sync client closes its session by blocking on its own runtime,
    /// which panics on a thread that drives a tokio runtime (where the last
    /// handle to a store may well be dropped): close it on a plain thread.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

/// How long a session may sit idle inside a transaction.
const IDLE_IN_TX_TIMEOUT: &str = "SET idle_in_transaction_session_timeout = '5s'";

impl Pg {
    pub(crate) fn connect(mut config: postgres::Config) -> Result<Pg> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("crier");
        }
        let label = label(&config);
        let mut pg = Pg {
            client: None,
            config,
            label,
            stmts: HashMap::new(),
            in_tx: false,
            instance_lock: false,
            pid: None,
        };
        pg.client()?;
        Ok(pg)
    }

    /// The client; a closed one is replaced (outside a transaction: inside
    /// one, the error reaches the caller, who retries the whole step).
    pub(super) fn client(&mut self) -> Result<&mut postgres::Client> {
        let stale = self.client.as_ref().is_none_or(|c| c.is_closed());
        if stale && !self.in_tx {
            self.stmts.clear();
            self.client = None;
            let c = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| Error::Connect {
                    at: self.label.clone(),
                    reason: crate::errors::describe_pg(&e),
                })?;
            self.client = Some(c);
            // Crier never waits inside a transaction (a store call runs it
            // start to end): a session idle in one is a stalled process
            // (stopped, swapped out) holding row locks other instances
            // wait for. The server ends it.
            if let Some(c) = self.client.as_mut() {
                c.batch_execute(IDLE_IN_TX_TIMEOUT)?;
            }
            self.pid = self
                .client
                .as_mut()
                .and_then(|c| c.query_one("SELECT pg_backend_pid()", &[]).ok())
                .and_then(|r| r.try_get::<_, i32>(0).ok());
            if self.instance_lock {
                let relocked = self
                    .client
                    .as_mut()
                    .map(|c| c.query_one(INSTANCE_LOCK_SQL, &[]))
                    .transpose()?
                    .map(|r| r.try_get::<_, bool>(0))
                    .transpose()?
                    == Some(true);
                if !relocked {
                    self.client = None;
                    return Err(Error::LostInstanceLock);
                }
            }
        }
        self.client.as_mut().ok_or_else(|| Error::Connect {
            at: self.label.clone(),
            reason: "the connection was lost".into(),
        })
    }

    pub(super) fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let st = self.client()?.prepare(&pg_sql(sql))?;
        self.stmts.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// `host:port/db` of a configuration, for messages.
pub(crate) fn label(c: &postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let db = c.get_dbname().or(c.get_user()).unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}
