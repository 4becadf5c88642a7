//! The Telegram front-end's life: `getMe` and the command lists at start,
//! then long polling (`getUpdates`) until shutdown.

use std::sync::Arc;
use std::time::Duration;

use crate::commands::{COMMANDS, Role};
use teloxide::payloads::{GetUpdatesSetters, SetMyCommandsSetters};
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, BotCommand, BotCommandScope, ChatId, Recipient};
use tokio_util::sync::CancellationToken;

use super::TelegramFrontend;

impl TelegramFrontend {
    /// Register the command lists: editors and admins see theirs in their
    /// private chats; everyone else sees /help only.
    async fn register_commands(&self) {
        let list = |role: Role| -> Vec<BotCommand> {
            COMMANDS
                .iter()
                .filter(|c| c.role <= role)
                .map(|c| BotCommand::new(c.name, c.about))
                .collect()
        };
        let bot = self.bot();
        if let Err(e) = bot.set_my_commands(list(Role::Stranger)).await {
            tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot register the Telegram commands");
        }
        for (users, role) in [(&self.editors, Role::Editor), (&self.admins, Role::Admin)] {
            for u in users {
                let r = bot
                    .set_my_commands(list(role))
                    .scope(BotCommandScope::Chat {
                        chat_id: Recipient::Id(ChatId(*u)),
                    })
                    .await;
                if let Err(e) = r {
                    // The user has not started a chat with the bot yet.
                    tracing::debug!(user = u, error = %crate::scrub::scrub(&e.to_string()), "cannot set a user's command list");
                }
            }
        }
    }

    /// Long-poll until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        self.hello(&shutdown).await;
        // Back from webhook mode: getUpdates answers 409 while a webhook is set.
        if let Err(e) = self.bot().delete_webhook().await {
            tracing::warn!(error = %crate::scrub::scrubbed(crate::telegram::redact_error(&e)), "Telegram deleteWebhook failed; getUpdates may be refused");
        }
        self.poll(shutdown).await;
    }

    /// getMe and the command lists, before updates arrive. Until the bot
    /// knows its user name, commands addressed to a bot (`/cmd@name`) are
    /// ignored: they may be for another bot; getMe is retried with backoff.
    pub(crate) async fn hello(self: &Arc<Self>, shutdown: &CancellationToken) {
        if !self.learn_username().await {
            let me = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let mut wait = Duration::from_secs(1);
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.cancelled() => return,
                    }
                    if me.learn_username().await {
                        return;
                    }
                    wait = (wait * 2).min(Duration::from_secs(300));
                }
            });
        }
        self.register_commands().await;
    }

    async fn poll(self: Arc<Self>, shutdown: CancellationToken) {
        let mut offset: i32 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            let req = self
                .bot()
                .get_updates()
                .offset(offset)
                .timeout(25)
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            let res = tokio::select! {
                r = req => r,
                _ = shutdown.cancelled() => return,
            };
            let updates = match res {
                Ok(u) => {
                    backoff = Duration::from_secs(1);
                    u
                }
                Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                    // Retrying cannot help: say it once, stop listening.
                    tracing::error!(
                        "Telegram rejects the bot token (Unauthorized): chat commands are off until it is fixed ({})",
                        crate::check::hint("unauthorized", "").unwrap_or_default()
                    );
                    return;
                }
                Err(e) => {
                    let e = crate::scrub::scrubbed(crate::telegram::redact_error(&e));
                    tracing::warn!(error = %e, "Telegram getUpdates failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            };
            for u in updates {
                offset = offset.max(u.id.0 as i32 + 1);
                let me = self.clone();
                // Each update on its own task: a slow /publish fetch does
                // not hold up the others.
                crate::panics::spawn_contained("telegram update", async move {
                    me.update(u.kind).await
                });
            }
        }
    }

    /// `getMe`: true once the bot's user name is known.
    async fn learn_username(&self) -> bool {
        match self.bot().get_me().await {
            Ok(me) => {
                *self.username.lock().unwrap_or_else(|p| p.into_inner()) = me.user.username.clone();
                tracing::info!(bot = ?me.user.username, "Telegram commands: listening");
                true
            }
            Err(e) => {
                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "Telegram getMe failed; commands addressed to a bot (/cmd@name) are ignored until it answers; retrying");
                false
            }
        }
    }
}
