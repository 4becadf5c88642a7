//! Adding many feeds at once (an OPML import): all or nothing.

use crate::{DynamicFeed, Result, Store, params};

impl Store {
    /// Add every feed in one transaction; a name already taken fails the
    /// whole import (nothing is added).
    pub fn add_dynamic_feeds(&mut self, feeds: &[DynamicFeed]) -> Result<()> {
        let tx = self.write()?;
        for f in feeds {
            let targets = serde_json::to_string(&f.targets).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO dynamic_feeds (name, url, targets, interval_ms, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![f.name, f.url, targets, f.interval_ms, f.added_by, f.added_at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(name: &str) -> DynamicFeed {
        DynamicFeed {
            name: name.into(),
            url: format!("https://example.org/{name}"),
            targets: vec!["t".into()],
            interval_ms: 60_000,
            added_by: "cli".into(),
            added_at: 1,
        }
    }

    #[test]
    fn an_import_is_all_or_nothing() {
        crate::testdb::each(|mut s| {
            s.add_dynamic_feeds(&[feed("a"), feed("b")]).unwrap();
            assert!(s.add_dynamic_feeds(&[feed("c"), feed("a")]).is_err());
            let names: Vec<String> = s
                .dynamic_feeds()
                .unwrap()
                .into_iter()
                .map(|f| f.name)
                .collect();
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(!names.contains(&"c".to_string()));
        });
    }
}
