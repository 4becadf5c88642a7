//! Values crossing the backend boundary: parameters ([`Param`], [`V`], the
//! `params!` macro), owned values ([`Value`]), result rows read by column
//! name ([`Row`], [`Col`]), and how each driver binds a parameter.

use postgres::types::{IsNull, ToSql, Type};

use crate::{Error, Result};

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
pub(super) struct SqliteParam<'a>(pub(super) V<'a>);

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
pub(super) struct PgParam<'a>(pub(super) V<'a>);

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
