//! A small persistent key-value store the core lends the platforms (the
//! delivery log's `platform_state` table): what a platform creates once and
//! must keep across restarts and instances — an account token it made
//! (Telegraph's `createAccount`), say. Keys are namespaced by the platform
//! (`telegraph:token`). Values are not secrets the operator gave (those
//! stay in the environment), but they are never logged either.

/// The core's side of the store. Errors are texts for logs.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync {
    /// The value under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<String>, String>;
    /// Store `value` under `key` unless a value is there already (two
    /// instances creating the same account at once: the first one wins);
    /// returns the value now stored.
    async fn put_once(&self, key: &str, value: &str) -> Result<String, String>;
    /// Store `value` under `key`, replacing any.
    async fn put(&self, key: &str, value: &str) -> Result<(), String>;
}

/// A store in memory (tests, `crier preview`): forgets at exit.
#[derive(Default)]
pub struct MemoryKv(std::sync::Mutex<std::collections::HashMap<String, String>>);

#[async_trait::async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }

    async fn put_once(&self, key: &str, value: &str) -> Result<String, String> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Ok(m.entry(key.to_string())
            .or_insert_with(|| value.to_string())
            .clone())
    }

    async fn put(&self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
}
