//! Test-only storage fault hooks. `CRIER_TEST_FAULTS` is read once, at the
//! first check: a comma-separated list of `key=N`; the keys of this module
//! start with `store.` (other modules read their own keys from the same
//! variable and ignore these). `store.mark_sent=N` makes the first N
//! attempts to record a send as `sent` fail as on a full disk,
//! `store.mark_sending=N` the first N attempts to start one. Unset in
//! production: every check is then a map lookup on an empty map.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use crate::db::StoreError;

/// The variable the integration tests set on the `crier` subprocess.
pub const VAR: &str = "CRIER_TEST_FAULTS";

static FAULTS: LazyLock<Mutex<HashMap<String, u64>>> =
    LazyLock::new(|| Mutex::new(parse(&std::env::var(VAR).unwrap_or_default())));

fn parse(spec: &str) -> HashMap<String, u64> {
    spec.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let k = k.trim();
            (k.starts_with("store.")).then_some(())?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// Fail (as a full disk) while `key` has firings left.
pub fn check(key: &str) -> Result<(), StoreError> {
    let mut f = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
    match f.get_mut(key) {
        Some(n) if *n > 0 => {
            *n -= 1;
            Err(StoreError::injected_disk_full(key))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_store_keys_are_read() {
        let m = parse("store.mark_sent=3, worker.panic=1,store.bad=x,junk");
        assert_eq!(m.len(), 1);
        assert_eq!(m.get("store.mark_sent"), Some(&3));
    }
}
