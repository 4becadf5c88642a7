//! The chat platforms Crier posts to: one line each. Everything a
//! platform is (its `[section]`, its target kinds, building its targets,
//! its command front-end, its users' roles) lives in its module under
//! `bots/`, behind `crier_bots::platform::Platform`; the core loops over
//! this list. A new platform is a module there and a line here.

use std::sync::Arc;

use crier_bots::platform::DynPlatform;

/// The registered platforms, in the order their sections and target
/// kinds are listed in messages.
pub fn registered() -> Vec<Arc<dyn DynPlatform>> {
    vec![
        Arc::new(crier_bots::telegram::platform::Telegram),
        Arc::new(crier_bots::discord::platform::Discord),
        Arc::new(crier_bots::console::platform::Console::default()),
    ]
}
