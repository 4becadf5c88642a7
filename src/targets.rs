//! Building the configured targets (the adapters) from the config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crier_bots::Target;
use crier_bots::console::ConsoleTarget;
use crier_bots::discord::ratelimit::Settings as DiscordSettings;
use crier_bots::discord::rest::RestClient;
use crier_bots::discord::{DiscordOptions, DiscordTarget};
use crier_bots::format::FeedRenderOptions;
use crier_bots::telegram::{Limits, TelegramClient, TelegramOptions, TelegramTarget};

use crate::config::{Config, TargetConfig, TargetKind};
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
    let mut discord: Option<Arc<RestClient>> = None;
    for t in &cfg.targets {
        let target: Arc<dyn Target> = match &t.kind {
            TargetKind::Telegram(tg) => {
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
                        chat: tg.chat.as_api(),
                        thread: tg.thread,
                        silent: t.silent,
                        protect_content: tg.protect_content,
                    },
                    cfg.target_format(t),
                ))
            }
            TargetKind::Console(_) => Arc::new(match &opts.console_sink {
                Some(mk) => ConsoleTarget::new(t.name.0.clone(), cfg.target_format(t), mk()),
                None => ConsoleTarget::stdout(t.name.0.clone(), cfg.target_format(t)),
            }),
            TargetKind::Discord(_) | TargetKind::DiscordWebhook(_) => {
                discord_target(cfg, t, &mut discord)?
            }
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

/// How long one Discord request may take.
const DISCORD_TIMEOUT: Duration = Duration::from_secs(30);

/// A Discord target (bot channel or webhook). All of them share one REST
/// client: one rate limiter and one invalid-request guard, which Discord
/// counts per IP.
fn discord_target(
    cfg: &Config,
    t: &TargetConfig,
    shared: &mut Option<Arc<RestClient>>,
) -> anyhow::Result<Arc<dyn Target>> {
    let rest = match shared {
        Some(r) => r.clone(),
        None => {
            let d = cfg.discord.as_ref();
            let api = d
                .map(|d| d.api_url.0.clone())
                .unwrap_or_else(|| url::Url::parse("https://discord.com/api").expect("static URL"));
            let settings = d
                .map(|d| DiscordSettings {
                    global_per_second: d.global_rate,
                    invalid_request_guard: d.invalid_request_guard,
                })
                .unwrap_or_default();
            let r = Arc::new(
                RestClient::new(
                    &api,
                    cfg.discord_token().map(str::to_string),
                    settings,
                    DISCORD_TIMEOUT,
                )
                .map_err(|e| anyhow::anyhow!("cannot set up the Discord HTTP client: {e}"))?,
            );
            *shared = Some(r.clone());
            r
        }
    };
    let name = t.name.0.clone();
    let format = cfg.target_format(t);
    let posting = |p: &crate::config::DiscordPosting| DiscordOptions {
        silent: t.silent,
        suppress_embeds: p.suppress_embeds,
        ping_role: p.ping_role.map(|r| r.get()),
        crosspost: false,
        username: None,
        avatar_url: None,
        thread_id: None,
        forum: false,
        applied_tags: Vec::new(),
    };
    Ok(match &t.kind {
        TargetKind::Discord(d) => {
            let opts = DiscordOptions {
                crosspost: d.place.crosspost,
                ..posting(&d.posting)
            };
            Arc::new(DiscordTarget::bot(
                name,
                format,
                rest,
                d.place.channel.get(),
                opts,
            ))
        }
        TargetKind::DiscordWebhook(w) => {
            let opts = DiscordOptions {
                username: w.place.username.as_ref().map(|s| s.0.clone()),
                avatar_url: w.place.avatar_url.as_ref().map(|u| u.0.to_string()),
                thread_id: w.place.thread_id.map(|id| id.get()),
                forum: w.place.forum,
                applied_tags: w.place.applied_tags.iter().map(|id| id.get()).collect(),
                ..posting(&w.posting)
            };
            // The error never contains the URL (its token is a secret).
            let target =
                DiscordTarget::webhook(name.clone(), format, rest, &w.place.webhook_url.0, opts)
                    .map_err(|e| anyhow::anyhow!("target {name:?}: `webhook_url`: {e}"))?;
            Arc::new(target)
        }
        _ => anyhow::bail!("target {name:?} is not a Discord target"),
    })
}

/// Per-feed formatting settings.
pub fn feed_render_options(cfg: &Config) -> HashMap<String, FeedRenderOptions> {
    cfg.feeds
        .iter()
        .map(|f| (f.name.0.clone(), cfg.feed_render_options(f)))
        .collect()
}
