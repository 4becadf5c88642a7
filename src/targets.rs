//! Building the configured targets (the adapters) from the config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crier_bots::Target;
use crier_bots::console::ConsoleTarget;
use crier_bots::format::FeedFormat;
use crier_bots::telegram::{Limits, TelegramClient, TelegramOptions, TelegramTarget};

use crate::config::{Config, Platform};
use crate::engine::{Pacing, TargetRuntime};

/// Options for building targets that tests override.
#[derive(Default)]
pub struct BuildOptions {
    /// Where console targets write (stdout when `None`).
    pub console_sink: Option<Arc<dyn Fn() -> crier_bots::console::Sink + Send + Sync>>,
}

/// The Telegram client every Telegram target shares (one bot, one limiter).
fn telegram_client(cfg: &Config) -> anyhow::Result<Arc<TelegramClient>> {
    let tg = cfg
        .telegram
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("a Telegram target needs a [telegram] section"))?;
    let token = cfg
        .telegram_token()
        .ok_or_else(|| anyhow::anyhow!("[telegram] has no token"))?;
    TelegramClient::new(
        token,
        &tg.api_url.0,
        Limits {
            per_chat_gap: tg.per_chat_interval.0,
            per_group_per_minute: tg.group_messages_per_minute,
            global_per_second: tg.messages_per_second,
        },
        tg.timeout.0,
    )
    .map_err(|e| anyhow::anyhow!("Telegram: {e}"))
}

/// One runtime per configured target.
pub fn build(cfg: &Config, opts: &BuildOptions) -> anyhow::Result<BTreeMap<String, TargetRuntime>> {
    let mut out = BTreeMap::new();
    let mut telegram: Option<Arc<TelegramClient>> = None;
    for t in &cfg.targets {
        let target: Arc<dyn Target> = match t.platform {
            Platform::Telegram => {
                let client = match &telegram {
                    Some(c) => c.clone(),
                    None => {
                        let c = telegram_client(cfg)?;
                        telegram = Some(c.clone());
                        c
                    }
                };
                Arc::new(TelegramTarget::new(
                    t.name.0.clone(),
                    client,
                    TelegramOptions {
                        chat: t.chat.as_ref().map(|c| c.0.clone()).unwrap_or_default(),
                        thread: t.thread.and_then(|th| i32::try_from(th).ok()),
                        silent: t.silent,
                        protect_content: t.protect_content,
                    },
                    cfg.target_format(t),
                ))
            }
            Platform::Console => Arc::new(match &opts.console_sink {
                Some(mk) => ConsoleTarget::new(t.name.0.clone(), cfg.target_format(t), mk()),
                None => ConsoleTarget::stdout(t.name.0.clone(), cfg.target_format(t)),
            }),
            other => anyhow::bail!(
                "target {:?}: platform {} is not available in this build yet",
                t.name.0,
                other.as_str()
            ),
        };
        out.insert(
            t.name.0.clone(),
            TargetRuntime::new(target, t.on_failure.unwrap_or(cfg.delivery.on_failure))
                .with_pacing(Pacing {
                    max_posts_per_hour: t.max_posts_per_hour,
                    min_gap: t.min_gap.map(|d| d.0),
                    digest: t.digest,
                }),
        );
    }
    Ok(out)
}

/// Per-feed formatting settings.
pub fn feed_formats(cfg: &Config) -> HashMap<String, FeedFormat> {
    cfg.feeds
        .iter()
        .map(|f| (f.name.0.clone(), cfg.feed_format(f)))
        .collect()
}
