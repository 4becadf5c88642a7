//! The console as a [`Platform`]: `platform = "console"` targets print
//! each post as both a Telegram and a Discord member would see it, so they
//! take both platforms' look keys. No section, no front-end.

use std::sync::Arc;

use crate::config::read::{FieldError, Value, fields_of};
use crate::discord::config::DiscordLook;
use crate::format::{Look, TargetFormat};
use crate::platform::{Parts, Platform, TargetInput};
use crate::target::Target;
use crate::telegram::config::TelegramLook;

use super::{ConsoleTarget, Sink};

/// Makes the writer of each console target (standard output, or a buffer
/// in tests).
pub type MakeSink = Arc<dyn Fn() -> Sink + Send + Sync>;

#[derive(Default)]
pub struct Console {
    /// `None`: standard output.
    pub sink: Option<MakeSink>,
}

/// `platform = "console"`: the look keys of both views.
#[derive(Debug, Clone, Default)]
pub struct ConsoleTargetConfig {
    pub telegram: TelegramLook,
    pub discord: DiscordLook,
}

impl Platform for Console {
    type Section = ();
    type Target = ConsoleTargetConfig;

    fn name(&self) -> &'static str {
        "console"
    }

    fn has_section(&self) -> bool {
        false
    }

    fn kinds(&self) -> &'static [&'static str] {
        &["console"]
    }

    fn kind_fields(&self, _kind: &str) -> Vec<&'static [&'static str]> {
        vec![fields_of::<TelegramLook>(), fields_of::<DiscordLook>()]
    }

    fn read_section(&self, _v: &Value<'_>) -> Result<(), Vec<FieldError>> {
        Ok(())
    }

    fn read_target(&self, _kind: &str, parts: &mut Parts<'_, '_>) -> Option<ConsoleTargetConfig> {
        let telegram = parts.part::<TelegramLook>();
        let discord = parts.part::<DiscordLook>();
        Some(ConsoleTargetConfig {
            telegram: telegram?,
            discord: discord?,
        })
    }

    fn looks(&self, _t: &ConsoleTargetConfig) -> &'static [Look] {
        &[Look::Telegram, Look::Discord]
    }

    fn apply_look(&self, t: &ConsoleTargetConfig, fmt: &mut TargetFormat) {
        t.telegram.apply(fmt);
        t.discord.apply(fmt);
    }

    fn address(&self, _t: &ConsoleTargetConfig) -> String {
        "standard output".to_string()
    }

    fn build(
        &self,
        _section: Option<&()>,
        targets: &[TargetInput<'_, ConsoleTargetConfig>],
    ) -> Result<Vec<Arc<dyn Target>>, String> {
        Ok(targets
            .iter()
            .map(|t| {
                Arc::new(match &self.sink {
                    Some(mk) => ConsoleTarget::new(t.name, t.format.clone(), mk()),
                    None => ConsoleTarget::stdout(t.name, t.format.clone()),
                }) as Arc<dyn Target>
            })
            .collect())
    }
}
