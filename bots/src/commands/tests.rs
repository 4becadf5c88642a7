//! Tests of the commands' syntax: parsing with or without the bot's name,
//! `/import` and `/export`, usage lines, and `/schedule`'s times.

use chrono::{DateTime, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .expect("t")
        .with_timezone(&Utc)
}

fn p(s: &str) -> Result<Option<Cmd>, String> {
    parse(s, Some("crier_bot"), now(), chrono_tz::UTC)
}

#[test]
fn commands_parse_with_or_without_the_bot_name() {
    assert_eq!(p("/status"), Ok(Some(Cmd::Status)));
    assert_eq!(p("/status@crier_bot"), Ok(Some(Cmd::Status)));
    assert_eq!(p("/status@other_bot"), Ok(None), "another bot's command");
    assert_eq!(p("hello"), Ok(None));
    assert_eq!(
        p("/publish https://x.example/a tg dc"),
        Ok(Some(Cmd::Publish {
            url: "https://x.example/a".into(),
            targets: vec!["tg".into(), "dc".into()]
        }))
    );
    assert_eq!(
        p("/retry 42"),
        Ok(Some(Cmd::Retry(RetryWhat::Delivery(42))))
    );
    assert_eq!(p("/retry all"), Ok(Some(Cmd::Retry(RetryWhat::All))));
    assert_eq!(
        p("/retry tg"),
        Ok(Some(Cmd::Retry(RetryWhat::Target("tg".into()))))
    );
    assert_eq!(p("/log"), Ok(Some(Cmd::Log(10))));
}

#[test]
fn import_takes_targets_and_export_nothing() {
    assert_eq!(
        p("/import tg dc"),
        Ok(Some(Cmd::Import {
            file: Upload::Missing,
            targets: vec!["tg".into(), "dc".into()]
        }))
    );
    assert_eq!(p("/export"), Ok(Some(Cmd::Export)));
    assert_eq!(p("/export all"), Err("Usage: /export".into()));
    let import = Cmd::Import {
        file: Upload::Missing,
        targets: Vec::new(),
    };
    assert_eq!(import.needs(), Role::Admin);
    assert!(import.changes_state());
    assert_eq!(Cmd::Export.needs(), Role::Admin);
    assert!(!Cmd::Export.changes_state());
    // The audit line shows no content and no URL.
    let line = format!(
        "{:?}",
        Upload::Url {
            name: "feeds.opml".into(),
            url: "https://cdn.example/a?hm=secret".into(),
            size: Some(3)
        }
    );
    assert!(!line.contains("secret"), "{line}");
    assert!(too_big(2 << 20).contains("2048 KiB"));
}

#[test]
fn bad_commands_get_a_usage_line() {
    assert_eq!(p("/pause"), Err("Usage: /pause <feed or target>".into()));
    assert_eq!(p("/log many"), Err("Usage: /log [n]".into()));
    assert!(
        p("/frobnicate")
            .unwrap_err()
            .contains("Unknown command /frobnicate")
    );
    assert!(
        p("/schedule soon https://x")
            .unwrap_err()
            .contains("cannot read the time")
    );
}

#[test]
fn schedule_times() {
    let ms = |s: &str| parse_time(s, now(), chrono_tz::UTC);
    assert_eq!(ms("+2h"), Ok(now().timestamp_millis() + 7_200_000));
    assert_eq!(
        ms("2026-12-01T09:00"),
        Ok(DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .expect("t")
            .timestamp_millis())
    );
    // 09:00 has passed today: tomorrow.
    assert_eq!(
        ms("09:00"),
        Ok(DateTime::parse_from_rfc3339("2026-11-29T09:00:00Z")
            .expect("t")
            .timestamp_millis())
    );
    assert!(ms("2020-01-01T00:00").unwrap_err().contains("in the past"));
    // A timezone shifts local times.
    let paris = parse_time("2026-12-01T09:00", now(), chrono_tz::Europe::Paris);
    assert_eq!(
        paris,
        Ok(DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .expect("t")
            .timestamp_millis())
    );
}

/// Found by the `command` fuzz target: `+99999999y` overflowed chrono.
#[test]
fn a_time_beyond_chronos_range_is_a_usage_error_not_a_panic() {
    for t in ["+99999999y", "+18446744073709551615s"] {
        let e = parse_time(t, now(), chrono_tz::UTC).expect_err(t);
        assert!(e.contains("cannot read the time"), "{e}");
    }
    assert!(p("/schedule +99999999y https://news.example/a").is_err());
}
