//! `crier check --online` for a Telegram target: the token (`getMe`), the
//! chat (`getChat`) and the bot's rights there (`getChatMember`).

use teloxide::prelude::Requester;
use teloxide::types::ChatMemberKind;
use teloxide::{ApiError, RequestError};

use super::{chat_recipient, redact_error};
use crate::check::{Problem, chat_not_found_fix, hint};

pub(super) async fn check(bot: &teloxide::Bot, chat: &str) -> Vec<Problem> {
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(RequestError::Api(ApiError::InvalidToken)) => {
            return vec![Problem::new(
                "Telegram rejects the bot token (getMe: Unauthorized)",
                "copy the token from @BotFather (/mybots → API Token) into TELEGRAM_TOKEN",
            )];
        }
        Err(e) => return vec![unreachable(&e)],
    };
    let recipient = chat_recipient(chat);
    let info = match bot.get_chat(recipient.clone()).await {
        Ok(c) => c,
        Err(RequestError::Api(ApiError::ChatNotFound)) => {
            return vec![Problem::new(
                format!("chat not found: {chat}"),
                chat_not_found_fix(chat),
            )];
        }
        Err(e) => return vec![api_problem(chat, &e)],
    };
    let channel = info.is_channel();
    let member = match bot.get_chat_member(recipient, me.id).await {
        Ok(m) => m,
        Err(e) => return vec![api_problem(chat, &e)],
    };
    let admin_fix = format!(
        "add the bot (@{}) as an administrator with \"Post Messages\" in the channel's settings (Administrators → Add Admin)",
        me.username.as_deref().unwrap_or("your bot")
    );
    let problem = match member.kind {
        ChatMemberKind::Owner(_) => None,
        ChatMemberKind::Administrator(a) if channel && !a.can_post_messages => Some(Problem::new(
            format!("the bot is an administrator of {chat} but may not post"),
            "turn on \"Post Messages\" in the bot's administrator rights",
        )),
        ChatMemberKind::Administrator(_) => None,
        ChatMemberKind::Member(_) if channel => Some(Problem::new(
            format!("the bot is not an admin of {chat}"),
            admin_fix,
        )),
        ChatMemberKind::Member(_) => None,
        ChatMemberKind::Restricted(r) if !r.can_send_messages => Some(Problem::new(
            format!("the bot may not send messages in {chat}"),
            "lift the bot's restrictions (or make it an administrator) in the group's settings",
        )),
        ChatMemberKind::Restricted(_) => None,
        ChatMemberKind::Left => Some(Problem::new(
            format!("the bot is not a member of {chat}"),
            if channel {
                admin_fix
            } else {
                "add the bot to the group".to_string()
            },
        )),
        ChatMemberKind::Banned(_) => Some(Problem::new(
            format!("the bot was removed from {chat}"),
            "unban the bot and add it again",
        )),
    };
    problem.into_iter().collect()
}

fn unreachable(e: &RequestError) -> Problem {
    Problem::new(
        format!("cannot reach the Telegram Bot API: {}", redact_error(e)),
        "check the network, and `api_url` in [telegram]",
    )
}

/// An error answer about the chat, with the frequent errors' fixes.
fn api_problem(chat: &str, e: &RequestError) -> Problem {
    if matches!(e, RequestError::Network(_)) {
        return unreachable(e);
    }
    // Telegram's own description, not teloxide's wrapping of it.
    let text = match e {
        RequestError::Api(ApiError::Unknown(desc)) => desc.clone(),
        RequestError::Api(api) => api.to_string(),
        other => redact_error(other),
    };
    let fix = match e {
        RequestError::Api(ApiError::ChatNotFound) => chat_not_found_fix(chat),
        _ => hint(&text, "")
            .map(|h| h.split("; then").next().unwrap_or(&h).to_string())
            .unwrap_or_else(|| "see the Bot API's answer".to_string()),
    };
    Problem::new(format!("{chat}: {text}"), fix)
}
