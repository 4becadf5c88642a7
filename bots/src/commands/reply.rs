//! A command's answer as the front-ends show it: the text, Confirm /
//! Cancel buttons, previews of a post on each target, a file, and a
//! report to fetch later ([`FollowUp`]).

use crate::target::Part;

/// A reply button (Confirm / Cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    /// Opaque data handed back to [`super::Handler::button`].
    pub data: String,
}

/// How a post will look on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub target: String,
    /// `telegram`, `discord`, `discord_webhook`, `console`.
    pub platform: &'static str,
    /// The exact rendered messages (to show natively on the same platform).
    pub parts: Vec<Part>,
    /// A textual rendering, for other platforms.
    pub text: String,
}

/// A command's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// Plain text (no markup; front-ends escape nothing but send it as is).
    pub text: String,
    pub buttons: Vec<Button>,
    pub previews: Vec<Preview>,
    /// A report to send later (publish / retract summaries).
    pub follow_up: Option<FollowUp>,
    /// A file sent with the text (`/export`); boxed to keep `Reply` small.
    pub file: Option<Box<ReplyFile>>,
    /// The caller may not act on this (a button of someone else's
    /// question): the front-end leaves the question and its buttons as they
    /// are, and sends `text` only when it is not empty (refusals are
    /// rate-limited).
    pub refused: bool,
}

/// A file a reply carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A report the front-end fetches later and sends to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    Published(i64),
    Retracted(i64),
}

impl Reply {
    pub fn text(t: impl Into<String>) -> Reply {
        Reply {
            text: t.into(),
            ..Reply::default()
        }
    }

    /// A refusal (see [`Reply::refused`]); an empty text says nothing.
    pub fn refusal(t: impl Into<String>) -> Reply {
        Reply {
            text: t.into(),
            refused: true,
            ..Reply::default()
        }
    }
}
