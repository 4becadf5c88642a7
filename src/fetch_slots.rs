//! Commands that fetch a URL (`/preview`, `/publish`, `/schedule`,
//! `/subscribe`) are limited: one in flight per user and a small number in
//! total, so a few editors (or one impatient one) cannot stack up large
//! downloads and parses. Over the limit the command is not run: the caller
//! is told to wait.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Command fetches in flight at once, over all users.
pub const GLOBAL_LIMIT: usize = 2;

pub struct FetchSlots {
    limit: usize,
    busy: Mutex<HashSet<String>>,
}

/// A taken slot; dropping it frees the slot.
pub struct Slot {
    slots: Arc<FetchSlots>,
    caller: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.caller);
    }
}

impl FetchSlots {
    pub fn new(limit: usize) -> Arc<FetchSlots> {
        Arc::new(FetchSlots {
            limit: limit.max(1),
            busy: Mutex::new(HashSet::new()),
        })
    }

    /// A slot for `caller`, or the reason there is none.
    pub fn take(self: &Arc<Self>, caller: &str) -> Result<Slot, &'static str> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        if busy.contains(caller) {
            return Err(
                "Busy: your previous fetch is still running; try again when it has answered.",
            );
        }
        if busy.len() >= self.limit {
            return Err("Busy: other fetches are running; try again in a moment.");
        }
        busy.insert(caller.to_string());
        Ok(Slot {
            slots: self.clone(),
            caller: caller.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_user_and_a_global_limit() {
        let s = FetchSlots::new(2);
        let a = s.take("a").expect("a");
        assert!(matches!(s.take("a"), Err(e) if e.contains("your previous fetch")));
        let _b = s.take("b").expect("b");
        assert!(matches!(s.take("c"), Err(e) if e.contains("other fetches")));
        drop(a);
        assert!(s.take("c").is_ok());
    }
}
