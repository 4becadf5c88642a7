//! WebSub subscriptions (schema v3): one row per pushed feed — the hub,
//! the topic, the hub.secret, the callback id, the lease and where the
//! subscription stands. The core's `websub` module owns the protocol; this
//! is only its memory.

use crate::{Error, Millis, Result, Row, Store, params};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubState {
    /// Asked the hub; waiting for its verification of intent.
    Requested,
    /// Verified: the hub pushes until `expires_at`.
    Active,
    /// The hub denied it (`hub.mode=denied`); the feed is polled.
    Denied,
    /// The hub could not be reached or refused the request.
    Failed,
    /// The lease ran out without a renewal.
    Expired,
    /// Asked the hub to stop (feed removed or push turned off).
    Unsubscribing,
}

impl SubState {
    pub const ALL: &'static [SubState] = &[
        SubState::Requested,
        SubState::Active,
        SubState::Denied,
        SubState::Failed,
        SubState::Expired,
        SubState::Unsubscribing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubState::Requested => "requested",
            SubState::Active => "active",
            SubState::Denied => "denied",
            SubState::Failed => "failed",
            SubState::Expired => "expired",
            SubState::Unsubscribing => "unsubscribing",
        }
    }

    pub fn parse(s: &str) -> Option<SubState> {
        SubState::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for SubState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One feed's subscription. `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    pub feed: String,
    pub hub: String,
    pub topic: String,
    /// The hub.secret (HMAC key of the pushes). Never logged.
    pub secret: String,
    pub callback_id: String,
    pub state: SubState,
    pub lease_seconds: Option<i64>,
    pub expires_at: Option<Millis>,
    pub requested_at: Millis,
    pub verified_at: Option<Millis>,
    pub last_push_at: Option<Millis>,
    pub pushes: i64,
    /// Why it is denied / failed / expired.
    pub reason: Option<String>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("feed", &self.feed)
            .field("hub", &self.hub)
            .field("topic", &self.topic)
            .field("secret", &"<hidden>")
            .field("callback_id", &"<hidden>")
            .field("state", &self.state)
            .field("expires_at", &self.expires_at)
            .field("reason", &self.reason)
            .finish()
    }
}

const COLS: &str = "feed, hub, topic, secret, callback_id, state, lease_seconds, expires_at, requested_at, verified_at, last_push_at, pushes, reason";

fn from_row(r: &Row<'_>) -> Result<Subscription> {
    let state: String = r.get("state")?;
    Ok(Subscription {
        feed: r.get("feed")?,
        hub: r.get("hub")?,
        topic: r.get("topic")?,
        secret: r.get("secret")?,
        callback_id: r.get("callback_id")?,
        state: SubState::parse(&state)
            .ok_or_else(|| Error::Decode(format!("unknown subscription state {state:?}")))?,
        lease_seconds: r.get("lease_seconds")?,
        expires_at: r.get("expires_at")?,
        requested_at: r.get("requested_at")?,
        verified_at: r.get("verified_at")?,
        last_push_at: r.get("last_push_at")?,
        pushes: r.get("pushes")?,
        reason: r.get("reason")?,
    })
}

impl Store {
    /// Insert or replace a feed's subscription.
    pub fn put_subscription(&mut self, s: &Subscription, now: Millis) -> Result<()> {
        let tx = self.write()?;
        // What `INSERT OR REPLACE` did: a row of another feed holding the
        // same callback id goes, then the feed's row is replaced.
        tx.execute(
            "DELETE FROM websub_subs WHERE callback_id = ?1 AND feed <> ?2",
            params![s.callback_id, s.feed],
        )?;
        tx.execute(
            &format!(
                "INSERT INTO websub_subs ({COLS}, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (feed) DO UPDATE SET hub = excluded.hub, topic = excluded.topic,
                   secret = excluded.secret, callback_id = excluded.callback_id, state = excluded.state,
                   lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at,
                   requested_at = excluded.requested_at, verified_at = excluded.verified_at,
                   last_push_at = excluded.last_push_at, pushes = excluded.pushes,
                   reason = excluded.reason, updated_at = excluded.updated_at"
            ),
            params![
                s.feed,
                s.hub,
                s.topic,
                s.secret,
                s.callback_id,
                s.state.as_str(),
                s.lease_seconds,
                s.expires_at,
                s.requested_at,
                s.verified_at,
                s.last_push_at,
                s.pushes,
                s.reason,
                now
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn subscription(&self, feed: &str) -> Result<Option<Subscription>> {
        self.conn.query_opt(
            &format!("SELECT {COLS} FROM websub_subs WHERE feed = ?1"),
            params![feed],
            from_row,
        )
    }

    /// The subscription a callback URL belongs to.
    pub fn subscription_by_callback(&self, callback_id: &str) -> Result<Option<Subscription>> {
        self.conn.query_opt(
            &format!("SELECT {COLS} FROM websub_subs WHERE callback_id = ?1"),
            params![callback_id],
            from_row,
        )
    }

    pub fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.conn.query_all(
            &format!("SELECT {COLS} FROM websub_subs ORDER BY feed"),
            params![],
            from_row,
        )
    }

    /// The hub verified a subscription: active until `expires_at`. Only a
    /// row still `requested` (or `active`: a renewal) with this callback
    /// id changes; false when none did.
    pub fn subscription_verified(
        &mut self,
        callback_id: &str,
        lease_seconds: Option<i64>,
        expires_at: Option<Millis>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute(
            "UPDATE websub_subs SET state = 'active', lease_seconds = ?2, expires_at = ?3,
                 verified_at = ?4, reason = NULL, updated_at = ?4
             WHERE callback_id = ?1 AND state IN ('requested', 'active')",
            params![callback_id, lease_seconds, expires_at, now],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Set a subscription's state (and reason) by feed.
    pub fn set_subscription_state(
        &mut self,
        feed: &str,
        state: SubState,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute(
            "UPDATE websub_subs SET state = ?2, reason = ?3, updated_at = ?4 WHERE feed = ?1",
            params![feed, state.as_str(), reason, now],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// A push was accepted for this callback: count it.
    pub fn subscription_pushed(&mut self, callback_id: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE websub_subs SET pushes = pushes + 1, last_push_at = ?2 WHERE callback_id = ?1",
            params![callback_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_subscription(&mut self, feed: &str) -> Result<bool> {
        let tx = self.write()?;
        let n = tx.execute("DELETE FROM websub_subs WHERE feed = ?1", params![feed])?;
        tx.commit()?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(feed: &str, cb: &str) -> Subscription {
        Subscription {
            feed: feed.into(),
            hub: "http://hub.example/".into(),
            topic: "http://site.example/feed".into(),
            secret: "s3cret-value".into(),
            callback_id: cb.into(),
            state: SubState::Requested,
            lease_seconds: None,
            expires_at: None,
            requested_at: 1,
            verified_at: None,
            last_push_at: None,
            pushes: 0,
            reason: None,
        }
    }

    #[test]
    fn subscriptions_round_trip_and_verify_only_requested_ones() {
        crate::testdb::each(|mut s| {
            s.put_subscription(&sub("a", "cb-a"), 1).unwrap();
            s.put_subscription(&sub("b", "cb-b"), 1).unwrap();
            assert_eq!(s.subscription("a").unwrap().unwrap(), sub("a", "cb-a"));
            assert_eq!(
                s.subscription_by_callback("cb-b").unwrap().unwrap().feed,
                "b"
            );
            assert!(s.subscription_by_callback("nope").unwrap().is_none());
            assert!(
                s.subscription_verified("cb-a", Some(60), Some(61_000), 2)
                    .unwrap()
            );
            let a = s.subscription("a").unwrap().unwrap();
            assert_eq!(a.state, SubState::Active);
            assert_eq!(a.expires_at, Some(61_000));
            // A denied subscription is not revived by a late verification.
            s.set_subscription_state("b", SubState::Denied, Some("no"), 3)
                .unwrap();
            assert!(
                !s.subscription_verified("cb-b", Some(60), Some(1), 4)
                    .unwrap()
            );
            s.subscription_pushed("cb-a", 5).unwrap();
            assert_eq!(s.subscription("a").unwrap().unwrap().pushes, 1);
            assert!(s.delete_subscription("a").unwrap());
            assert_eq!(s.subscriptions().unwrap().len(), 1);
            assert!(!format!("{:?}", sub("a", "cb")).contains("s3cret"));
        });
    }
}
