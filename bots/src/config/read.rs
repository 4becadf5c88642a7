//! Reading a config value into its type, reporting every problem at
//! once: the value is deserialized, and when a key fails it is recorded,
//! taken out and the value read again, so one mistake does not hide the
//! next. Errors carry the key path relative to the value and the span
//! in the file (the TOML parser's), never a guess from scanning text.

use std::ops::Range;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A value of a parsed TOML document, with its span.
pub type Value<'i> = Spanned<DeValue<'i>>;

/// One problem of a value: the key path relative to it (`""` for the
/// value itself, `chat`, `routes[0].target`), where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: String,
    pub span: Option<Range<usize>>,
    pub message: String,
}

/// Deserialize one value, reporting every key that fails, in the order
/// of the file.
pub fn read<T: DeserializeOwned>(v: &Value<'_>) -> Result<T, Vec<FieldError>> {
    read_unordered(v).map_err(|mut errors| {
        errors.sort_by_key(|e| e.span.as_ref().map_or(0, |s| s.start));
        errors
    })
}

fn read_unordered<T: DeserializeOwned>(v: &Value<'_>) -> Result<T, Vec<FieldError>> {
    let mut v = v.clone();
    let mut removed: Vec<String> = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    // Each round removes a key, so the rounds are bounded by the keys.
    for _ in 0..256 {
        let de = ValueDeserializer::from(v.clone());
        let e = match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(t) if errors.is_empty() => return Ok(t),
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        let rel: Vec<Seg<'static>> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(Seg::Owned(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                _ => None,
            })
            .collect();
        let key = join("", &rel);
        let inner = e.into_inner();
        let message = inner.message().trim().to_string();
        // A required key that was taken out because it was wrong is
        // already reported.
        if let Some(k) = missing_field(&message)
            && removed.contains(&join(&key, &[Seg::Owned(k.to_string())]))
        {
            return Err(errors);
        }
        errors.push(FieldError {
            key: key.clone(),
            span: inner.span(),
            message: explain_unknown_field(&message),
        });
        // Take out the key and look for the next problem.
        if !matches!(rel.last(), Some(Seg::Owned(_))) || !remove(&mut v, &rel) {
            return Err(errors);
        }
        removed.push(key);
    }
    Err(errors)
}

/// `base` + `.` + `rel` as a key path (`rel` may be empty or start with
/// an index).
pub fn join_key(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_string()
    } else if base.is_empty() || rel.starts_with('[') {
        format!("{base}{rel}")
    } else {
        format!("{base}.{rel}")
    }
}

/// `" (did you mean `x`?)"` when one of `choices` is close to `got`
/// (a typo, a case slip), else `""`.
pub fn did_you_mean<'a>(got: &str, choices: impl IntoIterator<Item = &'a str>) -> String {
    let lower = got.to_lowercase();
    let best = choices
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1) || c.eq_ignore_ascii_case(got))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// A table of the keys of `table` that `keep` keeps, with `v`'s span.
pub fn subtable<'i>(v: &Value<'i>, table: &DeTable<'i>, keep: impl Fn(&str) -> bool) -> Value<'i> {
    let sub: DeTable<'i> = table
        .iter()
        .filter(|(k, _)| keep(k.get_ref()))
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect();
    Spanned::new(v.span(), DeValue::Table(sub))
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg<'a> {
    Key(&'a str),
    Owned(String),
    Index(usize),
}

/// `feeds[1].targets[0]` → `feeds`, 1, `targets`, 0.
pub fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(b) = rest.find('[') {
            out.push(Seg::Key(&rest[..b]));
            rest = &rest[b..];
            while let Some(r) = rest.strip_prefix('[') {
                let Some(end) = r.find(']') else { break };
                if let Ok(i) = r[..end].parse() {
                    out.push(Seg::Index(i));
                }
                rest = &r[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest));
        }
    }
    out
}

/// `base` + relative steps, as a key path.
fn join(base: &str, rel: &[Seg<'_>]) -> String {
    let mut s = base.to_string();
    for seg in rel {
        match seg {
            Seg::Key(k) => push_key(&mut s, k),
            Seg::Owned(k) => push_key(&mut s, k),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn push_key(s: &mut String, k: &str) {
    if !s.is_empty() {
        s.push('.');
    }
    s.push_str(k);
}

/// Take out the key at `rel` (its last step is a key).
fn remove(v: &mut Value<'_>, rel: &[Seg<'_>]) -> bool {
    let Some((last, steps)) = rel.split_last() else {
        return false;
    };
    let mut cur: &mut DeValue<'_> = v.get_mut();
    for seg in steps {
        cur = match (seg, cur) {
            (Seg::Owned(k), DeValue::Table(t)) => match t.get_mut(k.as_str()) {
                Some(x) => x.get_mut(),
                None => return false,
            },
            (Seg::Index(i), DeValue::Array(a)) => match a.get_mut(*i) {
                Some(x) => x.get_mut(),
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (Seg::Owned(k), DeValue::Table(t)) => t.remove(k.as_str()).is_some(),
        _ => false,
    }
}

/// The key of serde's "missing field `k`".
pub fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
}

/// serde's "unknown field `x`, expected one of `a`, `b`…" with the
/// nearest known key, if one is near: "unknown field `x` (did you mean
/// `a`?)".
fn explain_unknown_field(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((got, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let choices: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let hint = did_you_mean(got, choices.iter().copied());
    if hint.is_empty() {
        message.to_string()
    } else {
        format!("unknown field `{got}`{hint}")
    }
}

/// The field names a struct's `Deserialize` asks for (serde hands them to
/// `deserialize_struct`). Written here rather than taken from a crate:
/// it is the one trick needed, in twenty lines.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Grab<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Grab<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields taken"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Grab(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_split_into_steps() {
        assert_eq!(
            segments("feeds[1].targets[0]"),
            vec![
                Seg::Key("feeds"),
                Seg::Index(1),
                Seg::Key("targets"),
                Seg::Index(0)
            ]
        );
        assert_eq!(
            segments("telegram.token"),
            vec![Seg::Key("telegram"), Seg::Key("token")]
        );
    }

    #[test]
    fn fields_are_read_from_the_derive() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Look {
            photo: Option<bool>,
            link_preview: Option<String>,
        }
        assert_eq!(fields_of::<Look>(), &["photo", "link_preview"]);
    }

    #[test]
    fn every_bad_key_of_a_value_is_reported() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            name: String,
            interval: u32,
        }
        let text = "name = 3\nintervall = 5\ninterval = \"x\"\n";
        let doc = DeTable::parse(text).expect("toml");
        let v = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
        let errs = read::<T>(&v).expect_err("errors");
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["name", "intervall", "interval"], "{errs:?}");
        assert!(
            errs[1].message.contains("did you mean `interval`"),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_fields_get_the_nearest_key() {
        assert_eq!(
            explain_unknown_field("unknown field `intervall`, expected one of `name`, `interval`"),
            "unknown field `intervall` (did you mean `interval`?)"
        );
        let far = "unknown field `zzz`, expected one of `name`, `interval`";
        assert_eq!(explain_unknown_field(far), far);
    }
}
