//! The delivery log's `platform_state` table lent to the platforms as
//! their [`KvStore`] (a Telegraph account token they created, say).

use crier_bots::platform::KvStore;

use crate::db::Db;

/// [`KvStore`] over the store.
pub struct DbKv(pub Db);

#[async_trait::async_trait]
impl KvStore for DbKv {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        let k = key.to_string();
        self.0
            .call(move |s| s.platform_value(&k))
            .await
            .map_err(|e| e.to_string())
    }

    async fn put_once(&self, key: &str, value: &str) -> Result<String, String> {
        let (k, v, now) = (key.to_string(), value.to_string(), self.0.now_ms());
        self.0
            .call(move |s| s.put_platform_value_once(&k, &v, now))
            .await
            .map_err(|e| e.to_string())
    }

    async fn put(&self, key: &str, value: &str) -> Result<(), String> {
        let (k, v, now) = (key.to_string(), value.to_string(), self.0.now_ms());
        self.0
            .call(move |s| s.put_platform_value(&k, &v, now))
            .await
            .map_err(|e| e.to_string())
    }
}
