//! Copying a whole store into an empty one (`crier migrate --from crier.db
//! --to postgres://…`): every table, every row, ids preserved, in one
//! transaction on the destination, from one consistent snapshot of the
//! source.

use crate::backend::Param;
use crate::*;

/// Every table, parents before children (foreign keys), with its columns,
/// its order, and whether `id` is drawn from a sequence (PostgreSQL: the
/// sequence is moved past the copied ids). A new table or column in a
/// migration belongs here too (`copy_covers_every_table_and_column`).
/// Tables that describe the running processes, not the log: a copy starts
/// without them.
#[cfg(test)]
pub(crate) const NOT_COPIED: &[&str] = &["instances", "leases"];

pub(crate) const TABLES: &[(&str, &[&str], &str, bool)] = &[
    (
        "feeds_state",
        &[
            "feed",
            "url",
            "fetch_state",
            "baseline_done",
            "last_poll_at",
            "last_success_at",
            "last_error",
            "consecutive_failures",
            "next_poll_at",
            "paused_reason",
            "updated_at",
        ],
        "feed",
        false,
    ),
    (
        "articles",
        &[
            "id",
            "feed",
            "key",
            "link",
            "title",
            "content_hash",
            "revision",
            "payload",
            "published_at",
            "first_seen_at",
            "updated_at",
            "retracted_at",
        ],
        "id",
        true,
    ),
    (
        "article_keys",
        &["feed", "key", "article_id"],
        "feed, key",
        false,
    ),
    (
        "deliveries",
        &[
            "id",
            "seq",
            "article_id",
            "target",
            "action",
            "revision",
            "part",
            "op",
            "ref_message",
            "state",
            "attempts",
            "next_attempt_at",
            "not_before",
            "payload",
            "summary",
            "message_id",
            "message_url",
            "reason",
            "last_error",
            "ambiguous",
            "created_at",
            "updated_at",
            "sent_at",
        ],
        "id",
        true,
    ),
    (
        "posted_messages",
        &[
            "article_id",
            "target",
            "part",
            "message_id",
            "message_url",
            "sent_at",
        ],
        "article_id, target, part",
        false,
    ),
    (
        "targets_state",
        &[
            "target",
            "disabled_reason",
            "disabled_at",
            "address_override",
            "updated_at",
            "paused_reason",
        ],
        "target",
        false,
    ),
    (
        "audit",
        &[
            "id",
            "at",
            "platform",
            "user_id",
            "user_name",
            "command",
            "outcome",
        ],
        "id",
        true,
    ),
    ("alerts", &["key", "opened_at", "message"], "key", false),
    (
        "dynamic_feeds",
        &[
            "name",
            "url",
            "targets",
            "interval_ms",
            "added_by",
            "added_at",
        ],
        "name",
        false,
    ),
    (
        "websub_subs",
        &[
            "feed",
            "hub",
            "topic",
            "secret",
            "callback_id",
            "state",
            "lease_seconds",
            "expires_at",
            "requested_at",
            "verified_at",
            "last_push_at",
            "pushes",
            "reason",
            "updated_at",
        ],
        "feed",
        false,
    ),
    (
        "platform_state",
        &["key", "value", "updated_at"],
        "key",
        false,
    ),
];

/// What [`Store::copy_to`] copied: rows per table, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(String, u64)>,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Rows per INSERT: a few hundred, within both backends' parameter limits.
fn batch_rows(cols: usize) -> usize {
    (30_000 / cols.max(1)).clamp(1, 500)
}

fn insert_sql(table: &str, cols: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("?{n}"));
        }
        sql.push(')');
    }
    sql
}

fn insert_batch(tx: &Conn, table: &str, cols: &[&str], rows: &[Vec<Value>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let params: Vec<&dyn Param> = rows.iter().flatten().map(|v| v as &dyn Param).collect();
    tx.execute(&insert_sql(table, cols, rows.len()), &params)?;
    Ok(())
}

impl Store {
    /// Copy every table of this store into `dst`, which must be empty (a
    /// freshly migrated database): all rows, ids preserved (so the queue's
    /// `seq` order and every reference survive), PostgreSQL sequences moved
    /// past the copied ids. One transaction on `dst` (all or nothing), read
    /// from one snapshot of this store. `progress(table, done, total)` is
    /// called after each batch and once per table.
    pub fn copy_to(
        &self,
        dst: &mut Store,
        progress: &mut dyn FnMut(&str, u64, u64),
    ) -> Result<CopyReport> {
        let src = self.conn.begin(false)?;
        let out = dst.conn.begin(true)?;
        for (table, ..) in TABLES {
            let n: i64 = out.query_one(
                &format!("SELECT COUNT(*) AS n FROM {table}"),
                params![],
                |r| r.get("n"),
            )?;
            if n > 0 {
                return Err(Error::NotEmpty(table.to_string()));
            }
        }
        let mut report = CopyReport::default();
        for (table, cols, order, _) in TABLES {
            let total: i64 = src.query_one(
                &format!("SELECT COUNT(*) AS n FROM {table}"),
                params![],
                |r| r.get("n"),
            )?;
            let total = total.max(0) as u64;
            let per = batch_rows(cols.len());
            let mut buf: Vec<Vec<Value>> = Vec::with_capacity(per);
            let mut done = 0u64;
            src.query_each(
                &format!("SELECT {} FROM {table} ORDER BY {order}", cols.join(", ")),
                params![],
                &mut |r| {
                    buf.push(r.values(cols)?);
                    if buf.len() == per {
                        insert_batch(&out, table, cols, &buf)?;
                        done += buf.len() as u64;
                        buf.clear();
                        progress(table, done, total);
                    }
                    Ok(())
                },
            )?;
            insert_batch(&out, table, cols, &buf)?;
            done += buf.len() as u64;
            progress(table, done, total);
            report.tables.push((table.to_string(), done));
        }
        if out.backend() == Backend::Postgres {
            for (table, _, _, _) in TABLES.iter().filter(|t| t.3) {
                out.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                    ),
                    params![],
                )?;
            }
        }
        out.commit()?;
        drop(src);
        Ok(report)
    }

    /// Every table's rows in copy order (tests compare stores with it).
    #[cfg(test)]
    pub(crate) fn dump(&self) -> Result<Vec<(String, Vec<Vec<Value>>)>> {
        let mut out = Vec::new();
        for (table, cols, order, _) in TABLES {
            let rows = self.conn.query_all(
                &format!("SELECT {} FROM {table} ORDER BY {order}", cols.join(", ")),
                params![],
                |r| r.values(cols),
            )?;
            out.push((table.to_string(), rows));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_covers_every_table_and_column() {
        let s = Store::open_in_memory().expect("store");
        let c = s.conn.sqlite().expect("sqlite");
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .expect("tables");
        let mut ours: Vec<String> = TABLES.iter().map(|t| t.0.to_string()).collect();
        ours.extend(NOT_COPIED.iter().map(|t| t.to_string()));
        ours.sort();
        assert_eq!(tables, ours);
        for (table, cols, ..) in TABLES {
            let have: Vec<String> = c
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .and_then(|mut st| {
                    st.query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<Vec<String>>>()
                })
                .expect("columns");
            assert_eq!(have, *cols, "{table}");
        }
    }

    #[test]
    fn batches_number_their_placeholders() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4)"
        );
        assert_eq!(batch_rows(23), 500);
        assert_eq!(batch_rows(100_000), 1);
    }
}
