//! Discord as a [`Platform`]: the `[discord]` section, `platform =
//! "discord"` (a bot channel) and `"discord_webhook"` targets (one REST
//! client for all of them: one rate limiter and one invalid-request
//! guard, which Discord counts per IP), the slash-command front-end
//! (gateway) and the roles of its members.

use std::sync::Arc;
use std::time::Duration;

use crate::commands::{Caller, Handler, Role};
use crate::config::read::{FieldError, Value, fields_of, read};
use crate::format::{FeedRenderOptions, Look, TargetFormat};
use crate::model::Post;
use crate::platform::{Frontend, FrontendEnv, Parts, Platform, TargetInput, Task};
use crate::target::Target;

use super::commands::{DiscordFrontend, FrontendOptions};
use super::config::{
    DiscordChannel, DiscordConfig, DiscordLook, DiscordPlace, DiscordPosting, DiscordTargetConfig,
    DiscordWebhook, default_discord_api,
};
use super::ratelimit::Settings;
use super::rest::RestClient;
use super::{DiscordOptions, DiscordTarget};

/// How long one Discord request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Discord;

const BOT: &str = "discord";
const WEBHOOK: &str = "discord_webhook";

fn settings(s: Option<&DiscordConfig>) -> Settings {
    s.map(|d| Settings {
        global_per_second: d.global_rate,
        invalid_request_guard: d.invalid_request_guard,
    })
    .unwrap_or_default()
}

impl Platform for Discord {
    type Section = DiscordConfig;
    type Target = DiscordTargetConfig;

    fn name(&self) -> &'static str {
        "discord"
    }

    fn kinds(&self) -> &'static [&'static str] {
        &[BOT, WEBHOOK]
    }

    fn kind_fields(&self, kind: &str) -> Vec<&'static [&'static str]> {
        let place = if kind == WEBHOOK {
            fields_of::<DiscordWebhook>()
        } else {
            fields_of::<DiscordChannel>()
        };
        vec![
            place,
            fields_of::<DiscordPosting>(),
            fields_of::<DiscordLook>(),
        ]
    }

    fn read_section(&self, v: &Value<'_>) -> Result<DiscordConfig, Vec<FieldError>> {
        read(v)
    }

    fn read_target(&self, kind: &str, parts: &mut Parts<'_, '_>) -> Option<DiscordTargetConfig> {
        let place = if kind == WEBHOOK {
            parts
                .part::<DiscordWebhook>()
                .map(|w| DiscordPlace::Webhook(Box::new(w)))
        } else {
            parts.part::<DiscordChannel>().map(DiscordPlace::Channel)
        };
        let posting = parts.part::<DiscordPosting>();
        let look = parts.part::<DiscordLook>();
        Some(DiscordTargetConfig {
            place: place?,
            posting: posting?,
            look: look?,
        })
    }

    fn looks(&self, _t: &DiscordTargetConfig) -> &'static [Look] {
        &[Look::Discord]
    }

    fn apply_look(&self, t: &DiscordTargetConfig, fmt: &mut TargetFormat) {
        t.look.apply(fmt);
    }

    fn target_problems(&self, t: &DiscordTargetConfig) -> Vec<(&'static str, String)> {
        match &t.place {
            DiscordPlace::Webhook(w) if w.thread_id.is_some() && w.forum => vec![(
                "forum",
                "`forum` opens a new thread per post; it cannot be combined with `thread_id`"
                    .into(),
            )],
            _ => Vec::new(),
        }
    }

    fn needs(
        &self,
        section: Option<&DiscordConfig>,
        t: &DiscordTargetConfig,
        name: &str,
    ) -> Option<(&'static str, String)> {
        // Webhooks carry their own token in their URL.
        match (&t.place, section.and_then(DiscordConfig::token)) {
            (DiscordPlace::Channel(_), None) => Some((
                "platform",
                format!("target {name:?} posts to Discord as a bot but [discord] has no `token`"),
            )),
            _ => None,
        }
    }

    fn address(&self, t: &DiscordTargetConfig) -> String {
        match &t.place {
            DiscordPlace::Channel(c) => format!("channel {}", c.channel),
            DiscordPlace::Webhook(_) => "webhook (URL hidden)".to_string(),
        }
    }

    fn build(
        &self,
        section: Option<&DiscordConfig>,
        targets: &[TargetInput<'_, DiscordTargetConfig>],
    ) -> Result<Vec<Arc<dyn Target>>, String> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let api = section.map_or_else(|| default_discord_api().0, |d| d.api_url.0.clone());
        let rest = Arc::new(
            RestClient::new(
                &api,
                section.and_then(DiscordConfig::token).map(str::to_string),
                settings(section),
                TIMEOUT,
            )
            .map_err(|e| format!("cannot set up the Discord HTTP client: {e}"))?,
        );
        targets.iter().map(|t| build_one(t, rest.clone())).collect()
    }

    fn frontend(
        &self,
        d: &DiscordConfig,
        handler: Arc<dyn Handler>,
        _env: &FrontendEnv,
    ) -> Result<Option<Frontend>, String> {
        let Some(token) = d.token() else {
            return Ok(None);
        };
        if !d.commands_enabled() {
            return Ok(None);
        }
        let fe = DiscordFrontend::new(
            token,
            &d.api_url.0,
            settings(Some(d)),
            FrontendOptions {
                admins: d.admins.iter().map(|a| a.as_i64()).collect(),
                application_id: d.application_id.map(|a| a.as_i64()),
                guild_id: d.guild_id.map(|g| g.as_i64()),
                alerts_channel: d.alerts_channel.map(|c| c.as_i64()),
            },
            handler,
        )
        .map_err(|e| format!("Discord commands: {e}"))?;
        let run = {
            let fe = fe.clone();
            Arc::new(move |sd| Box::pin(fe.clone().run(sd)) as Task)
        };
        Ok(Some(Frontend {
            notifier: fe,
            run,
            hooks: Vec::new(),
        }))
    }

    fn role(&self, d: &DiscordConfig, c: &Caller) -> Role {
        let listed = |users: &[super::config::DiscordId], roles: &[super::config::DiscordId]| {
            users.iter().any(|a| a.as_i64() == c.user_id)
                || c.roles
                    .iter()
                    .any(|r| roles.iter().any(|a| a.as_i64() == *r))
        };
        if listed(&d.admins, &d.admin_roles) {
            Role::Admin
        } else if listed(&d.editors, &d.editor_roles) {
            Role::Editor
        } else {
            Role::Stranger
        }
    }

    fn preview_requests(
        &self,
        post: &Post,
        feed: &FeedRenderOptions,
    ) -> Option<Result<Vec<serde_json::Value>, String>> {
        let parts = crate::format::discord::render(post, feed, &TargetFormat::default());
        Some(
            parts
                .map(|v| v.iter().map(|m| serde_json::json!({"body": m})).collect())
                .map_err(|e| e.to_string()),
        )
    }
}

fn build_one(
    t: &TargetInput<'_, DiscordTargetConfig>,
    rest: Arc<RestClient>,
) -> Result<Arc<dyn Target>, String> {
    let p = &t.spec.posting;
    let base = DiscordOptions {
        silent: t.silent,
        suppress_embeds: p.suppress_embeds,
        ping_role: p.ping_role.map(|r| r.get()),
        ..DiscordOptions::default()
    };
    let name = t.name.to_string();
    Ok(match &t.spec.place {
        DiscordPlace::Channel(c) => Arc::new(DiscordTarget::bot(
            name,
            t.format.clone(),
            rest,
            c.channel.get(),
            DiscordOptions {
                crosspost: c.crosspost,
                ..base
            },
        )),
        DiscordPlace::Webhook(w) => {
            let opts = DiscordOptions {
                username: w.username.as_ref().map(|s| s.0.clone()),
                avatar_url: w.avatar_url.as_ref().map(|u| u.0.to_string()),
                thread_id: w.thread_id.map(|id| id.get()),
                forum: w.forum,
                applied_tags: w.applied_tags.iter().map(|id| id.get()).collect(),
                ..base
            };
            // The error never contains the URL (its token is a secret).
            let target = DiscordTarget::webhook(
                name.clone(),
                t.format.clone(),
                rest,
                &w.webhook_url.0,
                opts,
            )
            .map_err(|e| format!("target {name:?}: `webhook_url`: {e}"))?;
            Arc::new(target)
        }
    })
}

impl DiscordLook {
    /// Set these keys on the formatter's settings.
    pub fn apply(&self, fmt: &mut TargetFormat) {
        if let Some(s) = self.style {
            fmt.discord_style = s;
        }
        if let Some(i) = self.image {
            fmt.discord_image = i;
        }
        if let Some(t) = &self.content_template {
            fmt.content_template = Some(t.0.clone());
        }
        if let Some(g) = self.gallery {
            fmt.discord_gallery = g;
        }
    }
}
