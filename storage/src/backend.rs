//! The two backends behind [`Store`](crate::Store): SQLite (rusqlite) and
//! PostgreSQL (the synchronous `postgres` client). Every operation's SQL is
//! written once, in the dialect both understand (see ARCHITECTURE.md,
//! "portable SQL"); this module runs it on either: `?N` placeholders are
//! rewritten to `$N` for PostgreSQL (once per statement: prepared
//! statements are cached on both backends), parameters are [`Param`]s and
//! result columns are read by name ([`Row::get`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type};

use crate::{Error, Result};

/// Which SQL dialect a connection speaks (for the few per-dialect steps:
/// migrations, advisory locks, sequences, `PRAGMA`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One open database.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    /// `&self` methods run statements: the client is behind a `RefCell`
    /// (the store is used by one thread at a time, like the SQLite one).
    Pg(Box<RefCell<Pg>>),
}

/// A PostgreSQL session: the client (reconnected when found closed outside
/// a transaction), the statement cache, and what is needed to reconnect.
pub(crate) struct Pg {
    client: Option<postgres::Client>,
    config: postgres::Config,
    /// `host:port/db`, for messages (never the password).
    label: String,
    stmts: HashMap<String, postgres::Statement>,
    in_tx: bool,
    /// This session holds the instance lock ([`INSTANCE_LOCK_SQL`]): a new
    /// session after a lost connection must take it again before anything
    /// else, or fail.
    instance_lock: bool,
    /// The server process of the current session (what `NOTIFY` names as
    /// the sender), asked at each connect.
    pid: Option<i32>,
}

/// The session advisory lock one active Crier holds per database (schema).
pub(crate) const INSTANCE_LOCK_SQL: &str =
    "SELECT pg_try_advisory_lock(hashtext(COALESCE(current_schema(), '') || '/crier-instance'))";

/// A parameter value, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) enum V<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// A value a statement takes as a parameter.
pub(crate) trait Param {
    fn v(&self) -> V<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn v(&self) -> V<'_> {
                V::Int(*self as i64)
            }
        }
    )*};
}
int_param!(i64, i32, u32, bool);

impl Param for str {
    fn v(&self) -> V<'_> {
        V::Text(self)
    }
}
impl Param for String {
    fn v(&self) -> V<'_> {
        V::Text(self)
    }
}
impl Param for [u8] {
    fn v(&self) -> V<'_> {
        V::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn v(&self) -> V<'_> {
        (**self).v()
    }
}
impl<T: Param> Param for Option<T> {
    fn v(&self) -> V<'_> {
        match self {
            Some(x) => x.v(),
            None => V::Null,
        }
    }
}
impl Param for Value {
    fn v(&self) -> V<'_> {
        match self {
            Value::Null => V::Null,
            Value::Int(i) => V::Int(*i),
            Value::Real(f) => V::Real(*f),
            Value::Text(s) => V::Text(s),
            Value::Blob(b) => V::Blob(b),
        }
    }
}

/// `params![a, b]`: a statement's parameters, `?1`, `?2`, … in order.
macro_rules! params {
    () => { &[] as &[&dyn $crate::backend::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::backend::Param),+] as &[&dyn $crate::backend::Param] };
}
pub(crate) use params;

/// A column's value, owned (row mapping, table copies).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// One result row; columns are read by name.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// The column named `name` (as the statement names it: `d.id` is `id`;
    /// aggregates need an `AS`).
    pub(crate) fn get<T: Col>(&self, name: &str) -> Result<T> {
        T::from_value(self.value(name)?)
            .map_err(|msg| Error::Decode(format!("column {name}: {msg}")))
    }

    pub(crate) fn value(&self, name: &str) -> Result<Value> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(name)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                rusqlite::types::ValueRef::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_err(|e| Error::Decode(format!("column {name}: {e}")))?
                        .to_string(),
                ),
                rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            }),
            Row::Pg(r) => {
                let i = r
                    .columns()
                    .iter()
                    .position(|c| c.name() == name)
                    .ok_or_else(|| Error::Decode(format!("no column {name}")))?;
                pg_value(r, i)
            }
        }
    }

    /// Every column, in order (table copies).
    pub(crate) fn values(&self, names: &[&str]) -> Result<Vec<Value>> {
        names.iter().map(|n| self.value(n)).collect()
    }
}

fn pg_value(r: &postgres::Row, i: usize) -> Result<Value> {
    let ty = r.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => r
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::FLOAT8 => r
            .try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real),
        Type::BYTEA => r
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Blob),
        Type::VOID => Value::Null,
        _ => r
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

/// A Rust type a column converts to.
pub(crate) trait Col: Sized {
    fn from_value(v: Value) -> std::result::Result<Self, String>;
}

impl Col for Value {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        Ok(v)
    }
}
impl Col for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl Col for u32 {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        let i = i64::from_value(v)?;
        u32::try_from(i).map_err(|_| format!("{i} out of range"))
    }
}
impl Col for bool {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl Col for String {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl<T: Col> Col for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A parameter as rusqlite takes it.
struct SqliteParam<'a>(V<'a>);

impl rusqlite::ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            V::Null => ValueRef::Null,
            V::Int(i) => ValueRef::Integer(i),
            V::Real(f) => ValueRef::Real(f),
            V::Text(s) => ValueRef::Text(s.as_bytes()),
            V::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A parameter as the `postgres` client takes it: encoded as the type the
/// server inferred for the placeholder (integers are BIGINT, booleans are
/// stored as integers like in SQLite).
#[derive(Debug)]
struct PgParam<'a>(V<'a>);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let text = |ty: &Type| {
            matches!(
                *ty,
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
            )
        };
        match self.0 {
            V::Null => Ok(IsNull::Yes),
            V::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                ref t if text(t) => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("cannot send an integer as {ty}").into()),
            },
            V::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                ref t if text(t) => f.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("cannot send a real as {ty}").into()),
            },
            V::Text(s) => match *ty {
                ref t if text(t) => s.to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => Err(format!("cannot send text as {ty}").into()),
            },
            V::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                ref t if text(t) => std::str::from_utf8(b)?.to_sql(ty, out),
                _ => Err(format!("cannot send a blob as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

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
    fn client(&mut self) -> Result<&mut postgres::Client> {
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

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
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

impl Conn {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection (SQLite-only tests).
    #[cfg(test)]
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(
                    params.iter().map(|p| SqliteParam(p.v())),
                ))?)
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let st = pg.statement(sql)?;
                let ps: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.v())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                Ok(pg.client()?.execute(&st, &refs)? as usize)
            }
        }
    }

    /// Run a query, calling `f` for each row as it arrives.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(
                    params.iter().map(|p| SqliteParam(p.v())),
                ))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let st = pg.statement(sql)?;
                let ps: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.v())).collect();
                let refs = ps.iter().map(|p| p as &(dyn ToSql + Sync));
                let mut rows = pg.client()?.query_raw(&st, refs)?;
                while let Some(r) = rows.next()? {
                    f(&Row::Pg(&r))?;
                }
                Ok(())
            }
        }
    }

    /// Every row, mapped.
    pub(crate) fn query_all<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if any.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.query_each(sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row; an error when there is none.
    pub(crate) fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?.ok_or(Error::NoRows)
    }

    /// Several statements, no parameters (migrations, transaction control).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(pg) => Ok(pg.borrow_mut().client()?.batch_execute(sql)?),
        }
    }

    /// Start a transaction. `write`: SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), which serialises writers; PostgreSQL writers
    /// serialise where they must with [`Conn::lock`].
    pub(crate) fn begin(&self, write: bool) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })?,
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let sql = if write {
                    "BEGIN"
                } else {
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                };
                pg.client()?.batch_execute(sql)?;
                pg.in_tx = true;
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// PostgreSQL: the server process of the current session, and the
    /// settings to open a listening session beside it.
    pub(crate) fn pg_session(&self) -> Option<(Option<i32>, postgres::Config)> {
        match self {
            Conn::Sqlite(_) => None,
            Conn::Pg(pg) => {
                let pg = pg.borrow();
                Some((pg.pid, pg.config.clone()))
            }
        }
    }

    /// Take this database's instance lock for the session (SQLite: the
    /// caller's file lock is the proof; always true). False when another
    /// session holds it.
    pub(crate) fn try_instance_lock(&self) -> Result<bool> {
        match self {
            Conn::Sqlite(_) => Ok(true),
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                if pg.instance_lock {
                    return Ok(true);
                }
                let got: bool = pg.client()?.query_one(INSTANCE_LOCK_SQL, &[])?.try_get(0)?;
                pg.instance_lock = got;
                Ok(got)
            }
        }
    }

    /// Serialise with every other transaction that takes the same lock
    /// until this one ends (PostgreSQL: a transaction-scoped advisory lock
    /// keyed by schema and `key`; SQLite: the write lock already does).
    pub(crate) fn lock(&self, key: &str) -> Result<()> {
        if let Conn::Pg(_) = self {
            self.execute(
                "SELECT pg_advisory_xact_lock(hashtext(COALESCE(current_schema(), '') || '/' || CAST(?1 AS TEXT)))",
                params![key],
            )?;
        }
        Ok(())
    }
}

/// An open transaction; rolled back when dropped without [`Tx::commit`].
pub(crate) struct Tx<'a> {
    conn: &'a Conn,
    open: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(c) => c.execute_batch("COMMIT")?,
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let r = pg.client().and_then(|c| Ok(c.batch_execute("COMMIT")?));
                // COMMIT ends the transaction even when it fails.
                pg.in_tx = false;
                self.open = false;
                r?;
            }
        }
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        match self.conn {
            Conn::Sqlite(c) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            Conn::Pg(pg) => {
                if let Ok(mut pg) = pg.try_borrow_mut() {
                    if let Some(c) = pg.client.as_mut().filter(|c| !c.is_closed()) {
                        let _ = c.batch_execute("ROLLBACK");
                    }
                    pg.in_tx = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_once() {
        assert_eq!(
            pg_sql("SELECT a FROM t WHERE x = ?1 AND (?12 IS NULL OR y = ?12)"),
            "SELECT a FROM t WHERE x = $1 AND ($12 IS NULL OR y = $12)"
        );
    }

    #[test]
    fn the_label_never_shows_the_password() {
        let c: postgres::Config = "postgres://ann:hunter2@db.example:6543/crier"
            .parse()
            .expect("url");
        assert_eq!(label(&c), "db.example:6543/crier");
    }
}
