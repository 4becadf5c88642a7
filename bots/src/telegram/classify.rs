//! Telegram's answers, classified: a teloxide error becomes a [`Failure`]
//! (resend as plain text, resend as text, edit as the other kind, not
//! modified, or a [`DeliveryError`] for the engine), every text scrubbed of
//! secrets, with the bot token kept out of network errors.

use teloxide::ApiError;
use teloxide::RequestError;

use crate::target::DeliveryError;

/// Telegram's answer, classified.
#[derive(Debug)]
pub(super) enum Failure {
    /// The text could not be parsed or was too long: resend as plain text.
    Entities(String),
    /// The photo or audio URL was rejected: resend as text (a photo with
    /// a preview, an audio file with its link line).
    Media(String),
    /// Editing: the message is of the other kind (text vs photo or audio).
    WrongKind(String),
    NotModified,
    Other(DeliveryError),
}

/// Classify a teloxide error; every text is scrubbed of secrets.
pub(super) fn classify(e: RequestError) -> Failure {
    use crate::scrub::scrubbed;
    match classify_raw(e) {
        Failure::Entities(s) => Failure::Entities(scrubbed(s)),
        Failure::Media(s) => Failure::Media(scrubbed(s)),
        Failure::WrongKind(s) => Failure::WrongKind(scrubbed(s)),
        Failure::NotModified => Failure::NotModified,
        Failure::Other(e) => Failure::Other(e.scrubbed()),
    }
}

fn classify_raw(e: RequestError) -> Failure {
    use DeliveryError as D;
    match e {
        RequestError::RetryAfter(s) => Failure::Other(D::RateLimited {
            retry_after: s.duration(),
        }),
        RequestError::MigrateToChatId(id) => Failure::Other(D::TargetMoved(id.0.to_string())),
        RequestError::Network(e) => {
            let msg = format!("network error: {}", describe(&e));
            if e.is_connect() {
                // Nothing reached Telegram.
                Failure::Other(D::Transient(msg))
            } else {
                // A timeout or a dropped connection after the request left.
                Failure::Other(D::Ambiguous(msg))
            }
        }
        RequestError::InvalidJson { raw, .. } => {
            // Usually a proxy's HTML error page (5xx): nothing was delivered.
            // Scrub before cutting: a cut token would escape the patterns.
            let mut s: String = crate::scrub::scrub(&raw).chars().take(120).collect();
            s = s.replace('\n', " ");
            Failure::Other(D::Transient(format!(
                "unreadable answer from Telegram: {s}"
            )))
        }
        RequestError::Io(e) => Failure::Other(D::Transient(format!("I/O error: {e}"))),
        RequestError::Api(api) => classify_api(api),
    }
}

/// A teloxide error as text without the bot token (network errors carry
/// the request URL, which holds it).
pub(crate) fn redact_error(e: &RequestError) -> String {
    match e {
        RequestError::Network(n) => format!("network error: {}", describe(n)),
        other => other.to_string(),
    }
}

/// A network error without its URL: the URL holds the bot token.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    });
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    // Belt and braces: no `/bot<token>/` may survive.
    match s.find("/bot") {
        Some(i) => s[..i].to_string() + "/bot***",
        None => s,
    }
}

fn classify_api(api: ApiError) -> Failure {
    use DeliveryError as D;
    let text = api.to_string();
    match api {
        ApiError::MessageNotModified => Failure::NotModified,
        ApiError::CantParseEntities(_)
        | ApiError::MessageIsTooLong
        | ApiError::EditedMessageIsTooLong => Failure::Entities(text),
        ApiError::WrongFileIdOrUrl
        | ApiError::FailedToGetUrlContent
        | ApiError::WrongHttpUrl
        | ApiError::ImageProcessFailed
        | ApiError::WrongFileId
        | ApiError::PhotoAsInputFileRequired => Failure::Media(text),
        ApiError::ChatNotFound
        | ApiError::BotBlocked
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::NotEnoughRightsToPostMessages
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::GroupDeactivated
        | ApiError::InvalidToken => Failure::Other(D::TargetGone(text)),
        ApiError::MessageToEditNotFound
        | ApiError::MessageToDeleteNotFound
        | ApiError::MessageIdInvalid => Failure::Other(D::MessageGone(text)),
        ApiError::MessageCantBeEdited => Failure::Other(D::MessageGone(text)),
        ApiError::MessageCantBeDeleted => Failure::Other(D::NotDeletable(text)),
        ApiError::Unknown(desc) => classify_description(&desc),
        _ => Failure::Other(D::Rejected(text)),
    }
}

/// Descriptions teloxide does not know, by their text.
fn classify_description(desc: &str) -> Failure {
    use DeliveryError as D;
    let d = desc.to_ascii_lowercase();
    let has = |s: &str| d.contains(s);
    if let Some(secs) = retry_after_in(&d) {
        // A media group's item hit the flood limit: a 400 whose text
        // carries the 429 ("failed to send message #1 with the error
        // message \"Too Many Requests: retry after 8\"",
        // rubenlagus/TelegramBots#1520).
        return Failure::Other(D::RateLimited {
            retry_after: std::time::Duration::from_secs(secs),
        });
    }
    if has("can't parse entities")
        || has("message is too long")
        || has("caption is too long")
        || has("entities_too_long")
        || has("message_too_long")
    {
        Failure::Entities(desc.to_string())
    } else if has("there is no text in the message to edit")
        || has("there is no caption in the message to edit")
    {
        Failure::WrongKind(desc.to_string())
    } else if has("wrong type of the web page content")
        || has("failed to get http url content")
        || has("wrong file identifier")
        || has("wrong remote file identifier")
        || has("photo_invalid")
        || has("audio_invalid")
        || has("group send failed")
    {
        Failure::Media(desc.to_string())
    } else if has("not enough rights to send") && !has("text messages") {
        // The chat forbids this kind of file (photos, music…), not the
        // bot's posts: the post goes out in its text form.
        Failure::Media(desc.to_string())
    } else if has("not enough rights")
        || has("chat not found")
        || has("bot was kicked")
        || has("bot is not a member")
        || has("have no rights")
        || has("chat_write_forbidden")
        || has("message thread not found")
        || has("topic_closed")
        || has("topic_deleted")
        || has("need administrator rights")
        || has("unauthorized")
    {
        Failure::Other(D::TargetGone(desc.to_string()))
    } else if has("message is not modified") {
        Failure::NotModified
    } else if has("message to edit not found")
        || has("message to delete not found")
        || has("message can't be edited")
    {
        Failure::Other(D::MessageGone(desc.to_string()))
    } else if has("message can't be deleted") {
        Failure::Other(D::NotDeletable(desc.to_string()))
    } else if d.starts_with("bad request")
        || d.starts_with("forbidden")
        || d.starts_with("conflict")
    {
        Failure::Other(D::Rejected(desc.to_string()))
    } else {
        // "Internal Server Error", "Bad Gateway"…: Telegram's 5xx.
        Failure::Other(D::Transient(format!("Telegram: {desc}")))
    }
}

/// The seconds of a "too many requests: retry after N" inside a
/// (lower-cased) description.
fn retry_after_in(d: &str) -> Option<u64> {
    let (_, rest) = d.split_once("too many requests: retry after ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<u64>().ok().map(|s| s.clamp(1, 3600))
}

pub(super) fn into_error(f: Failure) -> DeliveryError {
    match f {
        Failure::Entities(e) | Failure::Media(e) | Failure::WrongKind(e) => {
            DeliveryError::Rejected(e)
        }
        Failure::NotModified => DeliveryError::Rejected("message is not modified".into()),
        Failure::Other(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(desc: &str) -> String {
        format!("{:?}", classify_description(desc))
    }

    #[test]
    fn descriptions_are_classified() {
        assert!(
            kind("Bad Request: not enough rights to send text messages to the chat")
                .contains("TargetGone")
        );
        assert!(kind("Bad Request: message thread not found").contains("TargetGone"));
        // A chat that forbids a kind of file takes the post as text.
        assert!(
            kind("Bad Request: not enough rights to send photos to the chat").starts_with("Media")
        );
        assert!(
            kind("Bad Request: not enough rights to send music to the chat").starts_with("Media")
        );
        assert!(
            kind(
                "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0"
            )
            .starts_with("Entities")
        );
        assert!(kind("Bad Request: message caption is too long").starts_with("Entities"));
        assert!(
            kind("Bad Request: there is no text in the message to edit").starts_with("WrongKind")
        );
        assert!(kind("Bad Request: wrong type of the web page content").starts_with("Media"));
        assert!(kind("Bad Request: failed to get HTTP URL content").starts_with("Media"));
        assert!(
            kind("Bad Request: message can't be deleted for everyone").contains("NotDeletable")
        );
        // Media groups: an item's failure is told in a 400.
        assert!(
            kind("Bad Request: failed to send message #2 with the error message \"wrong file identifier/http url specified\"")
                .starts_with("Media")
        );
        assert!(kind("Bad Request: group send failed").starts_with("Media"));
        assert_eq!(
            kind(
                "Bad Request: failed to send message #1 with the error message \"Too Many Requests: retry after 8\""
            ),
            "Other(RateLimited { retry_after: 8s })"
        );
        assert!(kind("Internal Server Error").contains("Transient"));
        assert!(kind("Bad Gateway").contains("Transient"));
        assert!(kind("Bad Request: something new").contains("Rejected"));
    }
}
