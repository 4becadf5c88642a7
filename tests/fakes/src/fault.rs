//! The fault model shared by both fakes: a queue of rules, each matching a
//! method (Telegram method name, or Discord route name) and/or a target
//! (chat id / `@username`, channel / webhook / thread id), firing a number
//! of times.
//!
//! The first matching rule with firings left wins, in the order they were
//! added. A fault fires before authentication and validation: it models the
//! network and the platform's infrastructure, not its business rules.

use std::time::Duration;

use serde_json::Value;

/// One misbehaviour.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status and JSON body without applying the
    /// request. `Value::Null` means the platform's own body for that status
    /// (Telegram: `{"ok":false,"error_code":N,"description":"..."}`, Discord:
    /// `{"message":"N: ...","code":0}`).
    ///
    /// Note: teloxide sleeps 10 s before reading a 5xx answer, so keep 5xx
    /// faults rare in tests that go through teloxide.
    Status(u16, Value),
    /// Answer with the platform's 429 and this retry delay, without applying.
    /// Telegram rounds it up to whole seconds (`retry_after` is an integer
    /// there); Discord sends a float.
    RateLimit(Duration),
    /// Close the connection without applying and without answering.
    DropBeforeApply,
    /// Apply the request, then close the connection without answering:
    /// the client cannot know that it was applied (the ambiguous case).
    ApplyThenDrop,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Apply the request, then wait this long before answering.
    DelayAfterApply(Duration),
    /// Answer with this HTTP status and a non-JSON HTML page that echoes
    /// the request path, as a proxy, a captive portal or a web framework's
    /// error page does (`Cannot POST /bot<token>/GetMe`), without applying.
    EchoPathHtml(u16),
}

impl Fault {
    /// A rule that fires once on any request.
    pub fn once(self) -> FaultRule {
        self.times(1)
    }

    /// A rule that fires `n` times on any request.
    pub fn times(self, n: usize) -> FaultRule {
        FaultRule {
            fault: self,
            method: None,
            target: None,
            remaining: n,
            skip: 0,
        }
    }

    /// A rule that fires on every matching request until cleared.
    pub fn always(self) -> FaultRule {
        self.times(usize::MAX)
    }

    /// Shorthand: `fault.once().on(method)`.
    pub fn on(self, method: &str) -> FaultRule {
        self.once().on(method)
    }

    pub(crate) fn name(&self) -> String {
        match self {
            Fault::Status(code, _) => format!("Status({code})"),
            Fault::RateLimit(d) => format!("RateLimit({d:?})"),
            Fault::DropBeforeApply => "DropBeforeApply".into(),
            Fault::ApplyThenDrop => "ApplyThenDrop".into(),
            Fault::Delay(d) => format!("Delay({d:?})"),
            Fault::DelayAfterApply(d) => format!("DelayAfterApply({d:?})"),
            Fault::EchoPathHtml(code) => format!("EchoPathHtml({code})"),
        }
    }
}

/// A fault with its matcher and the number of times it may still fire.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    /// Method (Telegram, case-insensitive: `sendMessage`) or route name
    /// (Discord: `create_message`, `execute_webhook`, ...). `None`: any.
    pub method: Option<String>,
    /// Chat id or `@username` (Telegram), channel, thread or webhook id
    /// (Discord). `None`: any.
    pub target: Option<String>,
    /// Firings left.
    pub remaining: usize,
    /// Matching requests to let through before the first firing.
    pub skip: usize,
}

impl FaultRule {
    /// Match only this method / route name.
    pub fn on(mut self, method: &str) -> FaultRule {
        self.method = Some(method.to_string());
        self
    }

    /// Match only requests aimed at this target.
    pub fn target(mut self, target: impl ToString) -> FaultRule {
        self.target = Some(target.to_string());
        self
    }

    /// Fire `n` times.
    pub fn times(mut self, n: usize) -> FaultRule {
        self.remaining = n;
        self
    }

    /// Let the first `n` matching requests through, then fire.
    pub fn skip_first(mut self, n: usize) -> FaultRule {
        self.skip = n;
        self
    }

    fn matches(&self, method: &str, targets: &[String]) -> bool {
        if self.remaining == 0 {
            return false;
        }
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        if let Some(t) = &self.target
            && !targets.iter().any(|x| x.eq_ignore_ascii_case(t))
        {
            return false;
        }
        true
    }
}

/// The HTML error page of [`Fault::EchoPathHtml`], echoing the request
/// line the way Express and many proxies do.
pub(crate) fn echo_path_html(
    code: u16,
    method: &str,
    path_and_query: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = axum::http::StatusCode::from_u16(code)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Error</title></head>\n<body><pre>Cannot {method} {path_and_query}</pre></body>\n</html>\n"
    );
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The queue of rules of one fake.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    rules: Vec<FaultRule>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Firings left over all rules (`usize::MAX` saturates).
    pub(crate) fn pending(&self) -> usize {
        self.rules
            .iter()
            .fold(0usize, |acc, r| acc.saturating_add(r.remaining))
    }

    /// Take one firing of the first matching rule.
    pub(crate) fn take(&mut self, method: &str, targets: &[String]) -> Option<Fault> {
        let rule = self.rules.iter_mut().find(|r| r.matches(method, targets))?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        if rule.remaining != usize::MAX {
            rule.remaining -= 1;
        }
        let fault = rule.fault.clone();
        self.rules.retain(|r| r.remaining > 0);
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_fires_its_count() {
        let mut q = FaultQueue::default();
        q.push(
            Fault::DropBeforeApply
                .times(2)
                .on("sendMessage")
                .target("-100"),
        );
        q.push(Fault::Delay(Duration::from_millis(1)).always());
        let t = vec!["-100".to_string()];
        assert_eq!(q.take("SendMessage", &t), Some(Fault::DropBeforeApply));
        assert_eq!(q.take("sendmessage", &t), Some(Fault::DropBeforeApply));
        assert_eq!(
            q.take("sendMessage", &t),
            Some(Fault::Delay(Duration::from_millis(1)))
        );
        assert_eq!(
            q.take("getMe", &[]),
            Some(Fault::Delay(Duration::from_millis(1)))
        );
        q.clear();
        assert_eq!(q.take("getMe", &[]), None);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn skip_first_lets_requests_through() {
        let mut q = FaultQueue::default();
        q.push(Fault::DropBeforeApply.once().skip_first(2));
        assert_eq!(q.take("a", &[]), None);
        assert_eq!(q.take("a", &[]), None);
        assert_eq!(q.take("a", &[]), Some(Fault::DropBeforeApply));
        assert_eq!(q.take("a", &[]), None);
    }

    #[test]
    fn target_must_match() {
        let mut q = FaultQueue::default();
        q.push(Fault::ApplyThenDrop.once().target("@news"));
        assert_eq!(q.take("sendMessage", &["-1".into()]), None);
        assert_eq!(
            q.take("sendMessage", &["-1".into(), "@NEWS".into()]),
            Some(Fault::ApplyThenDrop)
        );
        assert_eq!(q.pending(), 0);
    }
}
