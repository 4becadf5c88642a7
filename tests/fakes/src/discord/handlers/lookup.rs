//! Channels, messages, webhooks: finding them (with Discord's errors).

use super::super::{Access, ChannelKind, DcChannel, DcMessage, DcWebhook, FakeDiscord, State};
use super::{DcError, derr, unknown_channel, unknown_webhook};

pub(super) fn bot_channel(st: &State, id: u64) -> Result<DcChannel, DcError> {
    let c = st.channels.get(&id).cloned().ok_or_else(unknown_channel)?;
    let access = match c.kind {
        ChannelKind::Thread { parent } => st
            .channels
            .get(&parent)
            .map(|p| {
                if c.access == Access::Ok {
                    p.access
                } else {
                    c.access
                }
            })
            .unwrap_or(c.access),
        _ => c.access,
    };
    match access {
        Access::Ok => Ok(c),
        Access::MissingAccess => Err(derr(403, 50001, "Missing Access")),
        Access::MissingPermissions => Err(derr(403, 50013, "Missing Permissions")),
    }
}

pub(super) fn find(st: &State, channel: u64, id: u64) -> Option<&DcMessage> {
    st.messages
        .get(&channel)?
        .iter()
        .find(|m| m.id == id && !m.deleted)
}

pub(super) fn find_mut(st: &mut State, channel: u64, id: u64) -> Option<&mut DcMessage> {
    st.messages
        .get_mut(&channel)?
        .iter_mut()
        .find(|m| m.id == id && !m.deleted)
}

pub(super) fn webhook(st: &State, id: u64, token: &str) -> Result<DcWebhook, DcError> {
    let h = st
        .webhooks
        .get(&id)
        .filter(|h| !h.deleted)
        .cloned()
        .ok_or_else(unknown_webhook)?;
    if h.token != token {
        return Err(derr(401, 50027, "Invalid Webhook Token"));
    }
    Ok(h)
}

pub(super) fn interaction_by_token(st: &State, app: u64, token: &str) -> Option<u64> {
    if app != FakeDiscord::APPLICATION_ID {
        return None;
    }
    st.interactions
        .values()
        .find(|i| i.token == token)
        .map(|i| i.id)
}
