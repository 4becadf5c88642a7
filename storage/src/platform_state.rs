//! What platforms keep in the delivery log (`platform_state`): small values
//! they created once and must find again after a restart or on another
//! instance (a Telegraph account token). The core lends it to them as
//! `crier_bots::platform::KvStore`.

use crate::*;

impl Store {
    /// The value under `key`.
    pub fn platform_value(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_opt(
            "SELECT value FROM platform_state WHERE key = ?1",
            params![key],
            |r| r.get("value"),
        )
    }

    /// Store `value` under `key` unless one is there; the value stored
    /// (the first writer's, when two race).
    pub fn put_platform_value_once(
        &mut self,
        key: &str,
        value: &str,
        now: Millis,
    ) -> Result<String> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO platform_state (key, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
            params![key, value, now],
        )?;
        let v: String = tx.query_one(
            "SELECT value FROM platform_state WHERE key = ?1",
            params![key],
            |r| r.get("value"),
        )?;
        tx.commit()?;
        Ok(v)
    }

    /// Store `value` under `key`, replacing any.
    pub fn put_platform_value(&mut self, key: &str, value: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO platform_state (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value, now],
        )?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use crate::testdb::each_reopenable;

    #[test]
    fn values_are_kept_and_the_first_writer_wins() {
        each_reopenable(|open| {
            let (mut a, mut b) = (open(), open());
            assert_eq!(a.platform_value("telegraph:token").expect("get"), None);
            assert_eq!(
                a.put_platform_value_once("telegraph:token", "A", 1)
                    .expect("put"),
                "A"
            );
            assert_eq!(
                b.put_platform_value_once("telegraph:token", "B", 2)
                    .expect("put"),
                "A",
                "the first one stays"
            );
            b.put_platform_value("telegraph:token", "C", 3)
                .expect("put");
            assert_eq!(
                open()
                    .platform_value("telegraph:token")
                    .expect("get")
                    .as_deref(),
                Some("C")
            );
        });
    }
}
