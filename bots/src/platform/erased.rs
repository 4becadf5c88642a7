//! [`DynPlatform`]: a [`Platform`] as a trait object. The core keeps
//! sections and target keys as [`Spec`]s (type-erased values); the
//! blanket impl hands each platform its own types back, so no platform
//! module ever downcasts.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use crate::commands::{Caller, Handler, Role};
use crate::config::read::{FieldError, Value};
use crate::format::{FeedRenderOptions, Look, TargetFormat};
use crate::model::Post;
use crate::target::Target;

use super::{Frontend, FrontendEnv, Parts, Platform, SectionEnv, TargetInput};

/// A platform's section or target keys, type-erased. Pass `&*arc`, not
/// `&arc`: an `Arc<dyn Spec>` is itself a `Spec` (of the wrong type).
pub trait Spec: Any + Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any + Debug + Send + Sync> Spec for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn own<T: 'static>(s: &dyn Spec) -> Option<&T> {
    s.as_any().downcast_ref::<T>()
}

/// [`Platform`] with its types erased; see there for each method.
pub trait DynPlatform: Send + Sync {
    fn name(&self) -> &'static str;
    fn has_section(&self) -> bool;
    fn kinds(&self) -> &'static [&'static str];
    fn kind_fields(&self, kind: &str) -> Vec<&'static [&'static str]>;
    fn read_section(&self, v: &Value<'_>) -> Result<Arc<dyn Spec>, Vec<FieldError>>;
    fn read_target(&self, kind: &str, parts: &mut Parts<'_, '_>) -> Option<Arc<dyn Spec>>;
    fn looks(&self, t: &dyn Spec) -> &'static [Look];
    fn apply_look(&self, t: &dyn Spec, fmt: &mut TargetFormat);
    fn section_problems(&self, s: &dyn Spec, env: &SectionEnv) -> Vec<(String, String)>;
    fn target_problems(&self, t: &dyn Spec) -> Vec<(&'static str, String)>;
    fn needs(
        &self,
        section: Option<&dyn Spec>,
        t: &dyn Spec,
        name: &str,
    ) -> Option<(&'static str, String)>;
    fn target_warnings(&self, t: &dyn Spec) -> Vec<(&'static str, String)>;
    fn address(&self, t: &dyn Spec) -> String;
    fn build(
        &self,
        section: Option<&dyn Spec>,
        targets: &[TargetInput<'_, dyn Spec>],
    ) -> Result<Vec<Arc<dyn Target>>, String>;
    fn frontend(
        &self,
        section: &dyn Spec,
        handler: Arc<dyn Handler>,
        env: &FrontendEnv,
    ) -> Result<Option<Frontend>, String>;
    fn role(&self, section: &dyn Spec, caller: &Caller) -> Role;
    fn preview_requests(
        &self,
        post: &Post,
        feed: &FeedRenderOptions,
    ) -> Option<Result<Vec<serde_json::Value>, String>>;
}

impl<P: Platform> DynPlatform for P {
    fn name(&self) -> &'static str {
        Platform::name(self)
    }

    fn has_section(&self) -> bool {
        Platform::has_section(self)
    }

    fn kinds(&self) -> &'static [&'static str] {
        Platform::kinds(self)
    }

    fn kind_fields(&self, kind: &str) -> Vec<&'static [&'static str]> {
        Platform::kind_fields(self, kind)
    }

    fn read_section(&self, v: &Value<'_>) -> Result<Arc<dyn Spec>, Vec<FieldError>> {
        Platform::read_section(self, v).map(|s| Arc::new(s) as Arc<dyn Spec>)
    }

    fn read_target(&self, kind: &str, parts: &mut Parts<'_, '_>) -> Option<Arc<dyn Spec>> {
        Platform::read_target(self, kind, parts).map(|t| Arc::new(t) as Arc<dyn Spec>)
    }

    fn looks(&self, t: &dyn Spec) -> &'static [Look] {
        own::<P::Target>(t).map_or(&[], |t| Platform::looks(self, t))
    }

    fn apply_look(&self, t: &dyn Spec, fmt: &mut TargetFormat) {
        if let Some(t) = own::<P::Target>(t) {
            Platform::apply_look(self, t, fmt);
        }
    }

    fn section_problems(&self, s: &dyn Spec, env: &SectionEnv) -> Vec<(String, String)> {
        own::<P::Section>(s).map_or_else(Vec::new, |s| Platform::section_problems(self, s, env))
    }

    fn target_problems(&self, t: &dyn Spec) -> Vec<(&'static str, String)> {
        own::<P::Target>(t).map_or_else(Vec::new, |t| Platform::target_problems(self, t))
    }

    fn needs(
        &self,
        section: Option<&dyn Spec>,
        t: &dyn Spec,
        name: &str,
    ) -> Option<(&'static str, String)> {
        let section = section.and_then(own::<P::Section>);
        Platform::needs(self, section, own::<P::Target>(t)?, name)
    }

    fn target_warnings(&self, t: &dyn Spec) -> Vec<(&'static str, String)> {
        own::<P::Target>(t).map_or_else(Vec::new, |t| Platform::target_warnings(self, t))
    }

    fn address(&self, t: &dyn Spec) -> String {
        own::<P::Target>(t).map_or_else(String::new, |t| Platform::address(self, t))
    }

    fn build(
        &self,
        section: Option<&dyn Spec>,
        targets: &[TargetInput<'_, dyn Spec>],
    ) -> Result<Vec<Arc<dyn Target>>, String> {
        let typed = targets
            .iter()
            .map(|t| {
                Some(TargetInput {
                    name: t.name,
                    silent: t.silent,
                    format: t.format.clone(),
                    spec: own::<P::Target>(t.spec)?,
                    kv: t.kv.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("a target given to {} is not one of its", self.name()))?;
        Platform::build(self, section.and_then(own::<P::Section>), &typed)
    }

    fn frontend(
        &self,
        section: &dyn Spec,
        handler: Arc<dyn Handler>,
        env: &FrontendEnv,
    ) -> Result<Option<Frontend>, String> {
        match own::<P::Section>(section) {
            Some(s) => Platform::frontend(self, s, handler, env),
            None => Ok(None),
        }
    }

    fn role(&self, section: &dyn Spec, caller: &Caller) -> Role {
        own::<P::Section>(section).map_or(Role::Stranger, |s| Platform::role(self, s, caller))
    }

    fn preview_requests(
        &self,
        post: &Post,
        feed: &FeedRenderOptions,
    ) -> Option<Result<Vec<serde_json::Value>, String>> {
        Platform::preview_requests(self, post, feed)
    }
}
