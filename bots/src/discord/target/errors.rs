//! Classifying Discord's answers for the engine: the JSON error codes
//! that disable a target, rate limits and the invalid-request guard,
//! transient and ambiguous failures, and 50035 Invalid Form Body (one
//! resend in the minimal form).

use std::time::Duration;

use serde_json::Value;

use super::{DiscordTarget, Op};
use crate::discord::rest::RestError;
use crate::target::{DeliveryError, SendCtx};

/// Discord JSON error codes that make a target unusable until someone
/// fixes the channel, the webhook, the bot's permissions or the config:
/// every further post would fail the same way.
const GONE_CODES: &[(u64, &str)] = &[
    (10003, "the channel was deleted or the id is wrong"),
    (10004, "the bot is not in that server"),
    (10015, "the webhook was deleted"),
    (50001, "the bot cannot see the channel"),
    (
        50013,
        "the bot lacks a permission there (View Channel, Send Messages, Embed Links)",
    ),
    (50027, "the webhook URL's token is wrong"),
    (
        50008,
        "the channel is not a text channel (a forum needs a webhook with `forum = true`)",
    ),
    (
        220001,
        "the webhook posts to a forum channel: set `forum = true` or `thread_id`",
    ),
    (
        220002,
        "a forum webhook takes `forum` or `thread_id`, not both",
    ),
    (
        220003,
        "`forum = true` but the webhook's channel is not a forum",
    ),
    (40067, "the forum requires a tag: set `applied_tags`"),
];

impl DiscordTarget {
    pub(super) fn report_guard(&self, e: &RestError) {
        if self.rest.limiter().take_guard_report() {
            *self.alert.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                "Discord's invalid-request guard tripped ({e}): every Discord request waits. Check the disabled targets and the bot's permissions."
            ));
            tracing::error!(target_name = %self.name, error = %e, "Discord invalid-request guard tripped: every Discord request waits (Discord bans an IP at 10,000 invalid requests in 10 minutes); check the disabled targets and the bot's permissions");
        }
    }

    /// Classify a failed call for the engine; every text is scrubbed of
    /// secrets.
    pub(super) fn classify(&self, e: RestError, op: Op) -> DeliveryError {
        self.classify_raw(e, op).scrubbed()
    }

    fn classify_raw(&self, e: RestError, op: Op) -> DeliveryError {
        match e {
            RestError::Guard { wait, .. } => {
                self.report_guard(&e);
                DeliveryError::RateLimited {
                    retry_after: wait.max(Duration::from_secs(1)),
                }
            }
            RestError::Busy { wait } => DeliveryError::RateLimited { retry_after: wait },
            RestError::Network {
                sent: false,
                message,
            } => DeliveryError::Transient(format!("network error: {message}")),
            RestError::Network { sent: true, .. } | RestError::Decode(_) => {
                DeliveryError::Ambiguous(e.to_string())
            }
            RestError::Status {
                status,
                code,
                retry_after,
                ..
            } => {
                let text = e.to_string();
                if status == 429 {
                    return DeliveryError::RateLimited {
                        retry_after: Duration::from_secs_f64(
                            retry_after
                                .filter(|r| r.is_finite() && *r >= 0.0)
                                .unwrap_or(1.0)
                                .min(86_400.0),
                        ),
                    };
                }
                if let Some(c) = code
                    && let Some((_, why)) = GONE_CODES.iter().find(|(k, _)| *k == c)
                {
                    return DeliveryError::TargetGone(format!("{text} ({why})"));
                }
                if code == Some(10008) && op != Op::Send {
                    return DeliveryError::MessageGone(text);
                }
                match status {
                    401 => DeliveryError::TargetGone(format!(
                        "{text} (the bot token or the webhook URL was rejected)"
                    )),
                    403 => DeliveryError::TargetGone(text),
                    404 | 405 if code.unwrap_or(0) == 0 => DeliveryError::TargetGone(format!(
                        "{text} (no such API route: is [discord] api_url right?)"
                    )),
                    // A gateway timeout: the request may have been applied.
                    504 if op == Op::Send => DeliveryError::Ambiguous(text),
                    500..=599 | 408 => DeliveryError::Transient(text),
                    _ => DeliveryError::Rejected(text),
                }
            }
        }
    }

    pub(super) fn invalid_form_body(
        &self,
        e: &RestError,
        ctx: &SendCtx,
        what: &str,
    ) -> Option<String> {
        let RestError::Status {
            code: Some(50035),
            errors,
            ..
        } = e
        else {
            return None;
        };
        let errors = errors
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_else(|| "{}".into());
        tracing::error!(
            target_name = %self.name,
            article = %ctx.article,
            delivery = ctx.delivery_id,
            errors = %errors,
            "Discord rejected the {what} (50035 Invalid Form Body): a formatter bug; resending it in the minimal form"
        );
        Some(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{bot, status};
    use super::*;
    use crate::discord::target::DiscordOptions;

    #[test]
    fn classification() {
        let t = bot(DiscordOptions::default());
        for code in [10003, 10015, 50001, 50013] {
            let s = if code < 50000 { 404 } else { 403 };
            assert!(matches!(
                t.classify(status(s, Some(code)), Op::Send),
                DeliveryError::TargetGone(_)
            ));
        }
        assert!(matches!(
            t.classify(status(401, Some(0)), Op::Send),
            DeliveryError::TargetGone(_)
        ));
        let mut limited = status(429, None);
        if let RestError::Status { retry_after, .. } = &mut limited {
            *retry_after = Some(2.5);
        }
        assert_eq!(
            t.classify(limited, Op::Send),
            DeliveryError::RateLimited {
                retry_after: Duration::from_millis(2500)
            }
        );
        assert!(matches!(
            t.classify(status(502, Some(0)), Op::Send),
            DeliveryError::Transient(_)
        ));
        assert!(matches!(
            t.classify(status(504, Some(0)), Op::Send),
            DeliveryError::Ambiguous(_)
        ));
        assert!(matches!(
            t.classify(status(404, Some(10008)), Op::Edit),
            DeliveryError::MessageGone(_)
        ));
        assert!(matches!(
            t.classify(status(404, Some(10008)), Op::Delete),
            DeliveryError::MessageGone(_)
        ));
        assert!(matches!(
            t.classify(status(400, Some(50006)), Op::Send),
            DeliveryError::Rejected(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Network {
                    sent: false,
                    message: "refused".into()
                },
                Op::Send
            ),
            DeliveryError::Transient(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Network {
                    sent: true,
                    message: "closed".into()
                },
                Op::Send
            ),
            DeliveryError::Ambiguous(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Guard {
                    count: 1000,
                    wait: Duration::from_secs(30)
                },
                Op::Send
            ),
            DeliveryError::RateLimited { .. }
        ));
    }
}
