//! The config side of the sources: duplicate feed URLs are refused by
//! `crier check` with both key paths; the new `[sources]` caps and the
//! guard's `[commands] allow_hosts` are read.

use std::path::Path;

use crate::config::Config;

fn config(feeds: &str, extra: &str) -> String {
    format!(
        r#"
{extra}

{feeds}

[[targets]]
name = "out"
platform = "console"
"#
    )
}

fn feed(name: &str, url: &str) -> String {
    format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\ntargets = [\"out\"]\n")
}

#[test]
fn two_feeds_with_the_same_url_are_refused_naming_both() {
    let text = config(
        &[
            feed("a", "https://www.blog.example/feed/"),
            feed("b", "https://other.example/rss"),
            feed("c", "http://blog.example/feed"),
        ]
        .concat(),
        "",
    );
    let err = Config::from_str(&text, Path::new("/tmp/c/config.toml")).expect_err("duplicate");
    let s = err.to_string();
    assert!(s.contains("feeds[2].url"), "{s}");
    assert!(s.contains("feeds[0].url"), "{s}");
    assert!(s.contains("posted twice"), "{s}");
    assert!(!s.contains("feeds[1]"), "{s}");
}

#[test]
fn source_caps_and_guard_allowances_are_read() {
    let text = config(
        &feed("a", "https://blog.example/feed"),
        "[sources]\nmax_items = 50\nmax_new_per_poll = 7\n\n[commands]\nallow_hosts = [\"127.0.0.1:8080\"]",
    );
    let c = Config::from_str(&text, Path::new("/tmp/c/config.toml")).expect("config");
    assert_eq!(c.sources.max_items, 50);
    assert_eq!(c.sources.max_new_per_poll, 7);
    assert_eq!(c.commands.allow_hosts, vec!["127.0.0.1:8080".to_string()]);
    let d = Config::from_str(
        &config(&feed("a", "https://blog.example/feed"), ""),
        Path::new("/tmp/c/config.toml"),
    )
    .expect("config");
    assert_eq!(d.sources.max_items, 1_000);
    assert_eq!(d.sources.max_new_per_poll, 100);
}
