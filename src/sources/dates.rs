//! Lenient date parsing for feeds: RFC 3339 / ISO 8601 (with or without a
//! zone), RFC 822/2822 with odd zones (`EST`, `CEST`, `GMT+2`, `UTC`, no
//! zone, wrong weekday, 2-digit year, missing seconds). Anything else is
//! `None` (a missing date), never an error.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Offset in seconds east of UTC of a time-zone abbreviation.
fn zone_offset(zone: &str) -> Option<i32> {
    let z = zone.trim().to_ascii_uppercase();
    let hours: f32 = match z.as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "WET" => 0.0,
        "BST" | "CET" | "MET" | "WEST" => 1.0,
        "CEST" | "MEST" | "EET" | "SAST" => 2.0,
        "EEST" | "MSK" => 3.0,
        "IST" => 5.5,
        "PKT" => 5.0,
        "ICT" | "WIB" => 7.0,
        "HKT" | "SGT" | "AWST" | "PHT" => 8.0,
        "JST" | "KST" => 9.0,
        "ACST" => 9.5,
        "AEST" => 10.0,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "EDT" => -4.0,
        "EST" | "CDT" => -5.0,
        "CST" | "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" | "AKDT" => -8.0,
        "AKST" => -9.0,
        "HST" => -10.0,
        "ADT" => -3.0,
        "AST" => -4.0,
        "NST" => -3.5,
        "BRT" => -3.0,
        "ART" => -3.0,
        _ => {
            // GMT+2, UTC-05:30, +0530, -05, +05:30
            let rest = z
                .strip_prefix("GMT")
                .or_else(|| z.strip_prefix("UTC"))
                .unwrap_or(&z);
            return numeric_offset(rest);
        }
    };
    Some((hours * 3600.0) as i32)
}

fn numeric_offset(s: &str) -> Option<i32> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        _ => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(s: &str) -> Option<u32> {
    let lower = s.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    MONTHS
        .iter()
        .position(|m| *m == prefix)
        .map(|i| i as u32 + 1)
}

/// RFC 822-ish: `[Wkd,] DD Mon YYYY HH:MM[:SS] [zone]`, weekday ignored.
fn parse_rfc822ish(s: &str) -> Option<DateTime<Utc>> {
    let cleaned = s.replace(',', " ");
    let mut tokens: Vec<&str> = cleaned.split_whitespace().collect();
    if tokens
        .first()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic()) && month_number(t).is_none())
    {
        tokens.remove(0);
    }
    // Also accept "Mon DD YYYY" ordering.
    let (day, month, year, rest) = match tokens.as_slice() {
        [d, m, y, rest @ ..] if d.chars().all(|c| c.is_ascii_digit()) => {
            (d.parse::<u32>().ok()?, month_number(m)?, *y, rest)
        }
        [m, d, y, rest @ ..] => (d.parse::<u32>().ok()?, month_number(m)?, *y, rest),
        _ => return None,
    };
    let mut year: i32 = year.parse().ok()?;
    if year < 100 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (time, zone) = match rest {
        [] => (chrono::NaiveTime::MIN, None),
        [t, zone @ ..] => {
            let mut parts = t.split(':');
            let h = parts.next()?.parse::<u32>().ok()?;
            let m = parts.next().unwrap_or("0").parse::<u32>().ok()?;
            let sec = parts
                .next()
                .unwrap_or("0")
                .split('.')
                .next()
                .unwrap_or("0")
                .parse::<u32>()
                .ok()?;
            (
                chrono::NaiveTime::from_hms_opt(h, m, sec.min(59))?,
                zone.first().copied(),
            )
        }
    };
    let offset = match zone {
        None => 0,
        Some(z) => zone_offset(z)?,
    };
    let offset = FixedOffset::east_opt(offset)?;
    offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// ISO 8601 forms that are not strict RFC 3339.
fn parse_isoish(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let s = s.replace(' ', "T");
    if let Ok(d) = DateTime::parse_from_rfc3339(&s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(&s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    // No zone: assume UTC.
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&s, fmt) {
            return Some(Utc.from_utc_datetime(&d));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
    }
    None
}

/// Parses a feed date leniently; `None` when nothing sensible is found.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && s.get(4..5) == Some("-")
        && let Some(d) = parse_isoish(s)
    {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    parse_rfc822ish(s).or_else(|| parse_isoish(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    #[test]
    fn rfc822_variants() {
        let want = utc("2023-02-01T03:12:44Z");
        for s in [
            "Wed, 01 Feb 2023 03:12:44 +0000",
            "Wed, 01 Feb 2023 03:12:44 GMT",
            "Wed, 1 Feb 2023 03:12:44 UT",
            "Mon, 01 Feb 2023 03:12:44 +0000",
            "01 Feb 2023 03:12:44 Z",
            "Wed, 01 Feb 2023 04:12:44 CET",
            "Wed, 01 Feb 2023 05:12:44 CEST",
            "Tue, 31 Jan 2023 22:12:44 EST",
            "Wed, 01 Feb 2023 05:12:44 GMT+2",
            "Wed, 01 Feb 2023 08:42:44 IST",
            "Wed, 01 Feb 23 03:12:44 +0000",
            "Wednesday, 01 February 2023 03:12:44 UTC",
            "Wed, 01 Feb 2023 03:12:44",
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        assert_eq!(
            parse_date("Wed, 01 Feb 2023 03:12 +0000"),
            utc("2023-02-01T03:12:00Z")
        );
    }

    #[test]
    fn iso_variants() {
        let want = utc("2023-02-01T03:12:44Z");
        for s in [
            "2023-02-01T03:12:44Z",
            "2023-02-01T03:12:44+00:00",
            "2023-02-01T05:12:44+0200",
            "2023-02-01 03:12:44",
            "2023-02-01T03:12:44",
            "2023-02-01T03:12:44.000Z",
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        assert_eq!(parse_date("2023-02-01"), utc("2023-02-01T00:00:00Z"));
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "yesterday",
            "32 Foo 2023",
            "Wed, 99 Feb 2023 03:12:44 +0000",
            "2023-13-45",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
