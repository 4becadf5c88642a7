//! Telegram as a [`Platform`]: the `[telegram]` section, `platform =
//! "telegram"` targets (one bot client and limiter for all of them), the
//! command front-end (long polling, or webhook mode through the core's
//! listener) and the roles of its users.

use std::sync::Arc;

use crate::commands::{Caller, Handler, Role};
use crate::config::read::{FieldError, Value, fields_of, read};
use crate::format::{FeedRenderOptions, Look, TargetFormat};
use crate::model::Post;
use crate::platform::{
    Frontend, FrontendEnv, Hook, Parts, Platform, SectionEnv, TargetInput, Task,
};
use crate::target::Target;

use super::commands::{FrontendOptions, TelegramFrontend};
use super::config::{
    TelegramConfig, TelegramLook, TelegramPlace, TelegramTargetConfig, TelegramUpdates,
};
use super::telegraph::TelegraphClient;
use super::{Limits, TelegramClient, TelegramOptions, TelegramTarget};

pub struct Telegram;

impl Platform for Telegram {
    type Section = TelegramConfig;
    type Target = TelegramTargetConfig;

    fn name(&self) -> &'static str {
        "telegram"
    }

    fn kinds(&self) -> &'static [&'static str] {
        &["telegram"]
    }

    fn kind_fields(&self, _kind: &str) -> Vec<&'static [&'static str]> {
        vec![fields_of::<TelegramPlace>(), fields_of::<TelegramLook>()]
    }

    fn read_section(&self, v: &Value<'_>) -> Result<TelegramConfig, Vec<FieldError>> {
        read(v)
    }

    fn read_target(&self, _kind: &str, parts: &mut Parts<'_, '_>) -> Option<TelegramTargetConfig> {
        let place = parts.part::<TelegramPlace>();
        let look = parts.part::<TelegramLook>();
        let place = place?;
        Some(TelegramTargetConfig {
            chat: place.chat,
            thread: place.thread,
            protect_content: place.protect_content,
            look: look?,
        })
    }

    fn looks(&self, _t: &TelegramTargetConfig) -> &'static [Look] {
        &[Look::Telegram]
    }

    fn apply_look(&self, t: &TelegramTargetConfig, fmt: &mut TargetFormat) {
        t.look.apply(fmt);
    }

    fn section_problems(&self, s: &TelegramConfig, env: &SectionEnv) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let short = s.telegraph.short_name.trim().chars().count();
        if !(1..=32).contains(&short) {
            out.push((
                "telegraph.short_name".into(),
                format!("Telegraph takes an account name of 1 to 32 characters, not {short}"),
            ));
        }
        if s.updates == TelegramUpdates::Webhook {
            if !env.listener {
                out.push((
                    "updates".into(),
                    "\"webhook\" needs the listener: set [http] listen".into(),
                ));
            }
            if !env.public_url {
                out.push((
                    "updates".into(),
                    "\"webhook\" needs [http] public_url, the address Telegram reaches the listener at".into(),
                ));
            }
        }
        out
    }

    fn needs(
        &self,
        section: Option<&TelegramConfig>,
        _t: &TelegramTargetConfig,
        name: &str,
    ) -> Option<(&'static str, String)> {
        match section.and_then(TelegramConfig::token) {
            Some(_) => None,
            None => Some((
                "platform",
                format!("target {name:?} posts to Telegram but [telegram] has no `token`"),
            )),
        }
    }

    fn target_warnings(&self, t: &TelegramTargetConfig) -> Vec<(&'static str, String)> {
        t.chat.warning().map(|w| ("chat", w)).into_iter().collect()
    }

    fn address(&self, t: &TelegramTargetConfig) -> String {
        format!(
            "chat {}{}",
            t.chat,
            t.thread.map(|n| format!(" topic {n}")).unwrap_or_default()
        )
    }

    fn build(
        &self,
        section: Option<&TelegramConfig>,
        targets: &[TargetInput<'_, TelegramTargetConfig>],
    ) -> Result<Vec<Arc<dyn Target>>, String> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let tg = section.ok_or("a Telegram target needs a [telegram] section")?;
        let token = tg.token().ok_or("[telegram] has no token")?;
        // One bot: one client and one limiter for every target.
        let client = TelegramClient::new(
            token,
            &tg.api_url.0,
            Limits {
                per_chat_gap: tg.per_chat_interval.0,
                per_group_per_minute: tg.group_messages_per_minute,
                global_per_second: tg.messages_per_second,
            },
            tg.timeout.0,
        )
        .map_err(|e| format!("Telegram: {e}"))?;
        // One Telegraph account for the targets that use it, where the
        // core lends a store for its token (`crier run`).
        let kv = targets
            .iter()
            .filter(|t| t.format.telegraph)
            .find_map(|t| t.kv.clone());
        let telegraph = match kv {
            Some(kv) => Some(
                TelegraphClient::new(
                    &tg.telegraph.api_url.0,
                    &tg.telegraph.short_name,
                    tg.telegraph.author_name.clone(),
                    kv,
                    tg.timeout.0,
                )
                .map_err(|e| format!("Telegraph: {e}"))?,
            ),
            None => None,
        };
        Ok(targets
            .iter()
            .map(|t| {
                let telegraph = telegraph.clone().filter(|_| t.format.telegraph);
                Arc::new(
                    TelegramTarget::new(
                        t.name.to_string(),
                        client.clone(),
                        TelegramOptions {
                            chat: t.spec.chat.as_api(),
                            thread: t.spec.thread,
                            silent: t.silent,
                            protect_content: t.spec.protect_content,
                        },
                        t.format.clone(),
                    )
                    .with_telegraph(telegraph),
                ) as Arc<dyn Target>
            })
            .collect())
    }

    fn frontend(
        &self,
        s: &TelegramConfig,
        handler: Arc<dyn Handler>,
        env: &FrontendEnv,
    ) -> Result<Option<Frontend>, String> {
        let Some(token) = s.token() else {
            return Ok(None);
        };
        if !s.commands_enabled() {
            return Ok(None);
        }
        let fe = TelegramFrontend::new(
            token,
            &s.api_url.0,
            FrontendOptions {
                admins: s.admins.clone(),
                editors: s.editors.clone(),
                alerts_chat: s.alerts_chat.as_ref().map(|c| c.as_api()),
            },
            handler,
        )
        .map_err(|e| format!("Telegram commands: {e}"))?;
        if s.updates == TelegramUpdates::Polling {
            let run = {
                let fe = fe.clone();
                Arc::new(move |sd| Box::pin(fe.clone().run(sd)) as Task)
            };
            return Ok(Some(Frontend {
                notifier: fe,
                run,
                hooks: Vec::new(),
            }));
        }
        let Some(base) = &env.public_url else {
            return Err("telegram.updates = \"webhook\" needs [http] public_url".into());
        };
        let secret_path = super::webhook::new_secret();
        let secret_token = super::webhook::new_secret();
        let path = super::webhook::path(&secret_path);
        let mut url = base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        if !matches!(url.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
            tracing::warn!(port = ?url.port(), "Telegram delivers webhooks to ports 443, 80, 88 and 8443 only: check [http] public_url");
        }
        let run = {
            let (fe, token) = (fe.clone(), secret_token.clone());
            Arc::new(move |sd| {
                Box::pin(fe.clone().run_webhook(url.clone(), token.clone(), sd)) as Task
            })
        };
        let accept = {
            let fe = fe.clone();
            Arc::new(move |body: &[u8]| fe.accept(body))
        };
        Ok(Some(Frontend {
            notifier: fe,
            run,
            hooks: vec![Hook {
                path,
                secret_header: super::webhook::SECRET_HEADER,
                secret: secret_token,
                accept,
            }],
        }))
    }

    fn role(&self, s: &TelegramConfig, c: &Caller) -> Role {
        if s.admins.contains(&c.user_id) {
            Role::Admin
        } else if s.editors.contains(&c.user_id) {
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
        let parts = crate::format::telegram::render(post, feed, &TargetFormat::default());
        Some(
            parts
                .map(|v| {
                    v.iter()
                        .map(|m| serde_json::json!({"method": m.method.as_str(), "params": m.params()}))
                        .collect()
                })
                .map_err(|e| e.to_string()),
        )
    }
}

impl TelegramLook {
    /// Set these keys on the formatter's settings.
    pub fn apply(&self, fmt: &mut TargetFormat) {
        if let Some(p) = self.photo {
            fmt.photo = p;
        }
        if let Some(l) = self.link_preview {
            fmt.link_preview = l;
        }
        if let Some(g) = self.gallery {
            fmt.telegram_gallery = g;
        }
        if let Some(t) = self.telegraph {
            fmt.telegraph = t;
        }
    }
}
