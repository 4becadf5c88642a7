//! The Telegram front-end of the command layer: long polling
//! (`getUpdates`), commands in private chats and as `/cmd@bot` in groups,
//! Confirm/Cancel as inline keyboards with callback queries, previews sent
//! exactly as the channel will show them, alerts to admins. This file holds
//! the front-end, its settings and its paced requests; its start and long
//! polling are in `polling`, what it receives in `updates`, what it sends
//! in `replies`.

mod polling;
mod replies;
mod updates;

pub use updates::message_html;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::commands::Handler;
use crate::telegram::{Limits, TelegramClient};

/// The front-end's settings.
#[derive(Debug, Clone, Default)]
pub struct FrontendOptions {
    pub admins: Vec<i64>,
    pub editors: Vec<i64>,
    /// Where alerts go; default: each admin's private chat.
    pub alerts_chat: Option<String>,
}

/// A `/post` waiting for its message: the targets, and since when.
type WaitingPost = (Vec<String>, Instant);

pub struct TelegramFrontend {
    client: Arc<TelegramClient>,
    handler: Arc<dyn Handler>,
    admins: Vec<i64>,
    editors: Vec<i64>,
    alerts_chat: Option<String>,
    username: Mutex<Option<String>>,
    /// `/post` waiting for its message: (chat, user) → (targets, since).
    waiting_posts: Mutex<HashMap<(i64, i64), WaitingPost>>,
}

impl TelegramFrontend {
    /// A front-end on its own client (long polls outlast delivery
    /// timeouts).
    pub fn new(
        token: &str,
        api_url: &url::Url,
        opts: FrontendOptions,
        handler: Arc<dyn Handler>,
    ) -> Result<Arc<TelegramFrontend>, String> {
        // Long polls wait 25 s: the client must wait longer.
        let client =
            TelegramClient::new(token, api_url, Limits::default(), Duration::from_secs(60))?;
        Ok(Arc::new(TelegramFrontend {
            client,
            handler,
            admins: opts.admins,
            editors: opts.editors,
            alerts_chat: opts.alerts_chat,
            username: Mutex::new(None),
            waiting_posts: Mutex::new(HashMap::new()),
        }))
    }

    pub(crate) fn bot(&self) -> &teloxide::Bot {
        self.client.bot()
    }

    /// One request to `chat`, paced by the bot's flood limiter; a 429 is
    /// waited out (a few times) rather than losing the reply.
    async fn paced<T, F, Fut>(
        &self,
        chat: &str,
        mut request: F,
    ) -> Result<T, teloxide::RequestError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, teloxide::RequestError>>,
    {
        let limiter = self.client.limiter();
        let mut attempt = 0;
        loop {
            let slot = limiter.acquire(chat, super::group_or_channel(chat)).await;
            let answer = request().await;
            drop(slot);
            match answer {
                Err(teloxide::RequestError::RetryAfter(s)) if attempt < 3 => {
                    attempt += 1;
                    limiter.penalize(chat, s.duration());
                }
                other => return other,
            }
        }
    }
}
