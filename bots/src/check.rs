//! Online checks and hints: what a platform says about a target before
//! the first post (`crier check --online`), and the one fix for the
//! frequent delivery errors (shown in the log, the alert and `crier log`).

use std::fmt;

/// A problem a check found, with how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

impl Problem {
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.fix)
    }
}

/// The fix for a frequent delivery error of `target` (Telegram's texts,
/// Discord's codes), naming the command that resumes delivery.
pub fn hint(error: &str, target: &str) -> Option<String> {
    let e = error.to_ascii_lowercase();
    let has = |s: &str| e.contains(s);
    let then = format!("then `crier retry --target {target}` (or /resume {target})");
    let fix = if has("chat not found") {
        "check the target's `chat` (a channel id starts with -100; a public chat can be written @name) and that the bot was added to it".to_string()
    } else if has("not enough rights")
        || has("have no rights")
        || has("need administrator rights")
        || has("chat_write_forbidden")
    {
        "make the bot an administrator of the chat with the right to post messages".to_string()
    } else if has("bot was kicked") || has("bot is not a member") || has("bot was blocked") {
        "add the bot to the chat again (as an administrator, for a channel)".to_string()
    } else if has("50001") || has("missing access") {
        "the bot cannot see the channel: invite it to the server and give its role View Channel in the channel".to_string()
    } else if has("50013") || has("missing permissions") {
        "give the bot's role Send Messages, Embed Links and Attach Files in the channel".to_string()
    } else if has("10015") || has("unknown webhook") || has("invalid webhook token") {
        "the webhook was deleted or its URL is wrong: create a webhook in the channel's settings (Integrations) and set `webhook_url`".to_string()
    } else if has("10003") || has("unknown channel") {
        "the channel does not exist (or was deleted): set the target's `channel` to a channel id the bot can see".to_string()
    } else if has("unauthorized") || has("invalid token") || has("401") {
        return Some(
            "the bot token is wrong or was revoked: set a new one (TELEGRAM_TOKEN / DISCORD_TOKEN) and restart Crier".to_string(),
        );
    } else {
        return None;
    };
    Some(format!("{fix}; {then}"))
}

/// `error` followed by its hint, when there is one.
pub fn with_hint(error: &str, target: &str) -> String {
    match hint(error, target) {
        Some(h) if !error.contains(&h) => format!("{error} (fix: {h})"),
        _ => error.to_string(),
    }
}

/// The fix for "chat not found", tuned to what the `chat` looks like.
pub fn chat_not_found_fix(chat: &str) -> String {
    let c = chat.trim();
    if let Ok(n) = c.parse::<i64>()
        && !c.starts_with("-100")
    {
        return format!(
            "a channel or supergroup id starts with -100 (did you mean -100{}?); and the bot must be a member of the chat",
            n.unsigned_abs()
        );
    }
    "check the chat id or @name, and add the bot to the chat".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_errors_get_their_fix_and_the_command() {
        let h = hint("Bad Request: chat not found", "news").unwrap();
        assert!(
            h.contains("-100") && h.contains("crier retry --target news"),
            "{h}"
        );
        let h = hint("Missing Permissions (50013)", "dc").unwrap();
        assert!(h.contains("Embed Links"), "{h}");
        let h = hint("403 Missing Access (code 50001)", "dc").unwrap();
        assert!(h.contains("View Channel"), "{h}");
        assert!(
            hint(
                "Bad Request: not enough rights to send text messages to the chat",
                "x"
            )
            .is_some()
        );
        assert!(hint("rate limited", "x").is_none());
        assert_eq!(with_hint("boom", "x"), "boom");
    }

    #[test]
    fn a_channel_id_without_minus_100_is_spotted() {
        assert!(chat_not_found_fix("1234567890").contains("-1001234567890"));
        assert!(chat_not_found_fix("-1234567890").contains("-1001234567890"));
        assert!(!chat_not_found_fix("@news").contains("-100"));
    }
}
