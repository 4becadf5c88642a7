//! The platforms' sections (`[telegram]`, `[discord]`, …) as read: each
//! is its platform's own type (see `crate::platforms`), kept type-erased
//! beside the platform that reads it.

use std::fmt;
use std::sync::Arc;

use crier_bots::platform::{DynPlatform, Spec};

/// A registered platform and its section (`None` when the file has none).
#[derive(Clone)]
pub struct PlatformConfig {
    pub platform: Arc<dyn DynPlatform>,
    pub section: Option<Arc<dyn Spec>>,
}

impl PlatformConfig {
    pub fn name(&self) -> &'static str {
        self.platform.name()
    }

    /// The section as its platform's type.
    pub fn section<T: 'static>(&self) -> Option<&T> {
        self.section.as_deref()?.as_any().downcast_ref::<T>()
    }
}

impl fmt::Debug for PlatformConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformConfig")
            .field("platform", &self.name())
            .field("section", &self.section)
            .finish()
    }
}
