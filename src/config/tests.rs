use super::*;

const GOOD: &str = r#"
[storage]
path = "data/crier.db"

[telegram]
token = "${CRIER_TEST_TG_TOKEN}"
api_url = "http://127.0.0.1:9/"
admins = [1]

[[feeds]]
name = "news"
url = "https://example.com/feed.xml"
interval = "5m"
targets = ["tg", "console"]

[[targets]]
name = "tg"
platform = "telegram"
chat = "@channel"
thread = 7
silent = true

[[targets]]
name = "console"
platform = "console"
"#;

fn load(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_str(text, Path::new("/etc/crier/config.toml"))
}

fn one_error(text: &str) -> ConfigError {
    match load(text) {
        Ok(_) => panic!("expected an error"),
        Err(ConfigErrors(mut v)) => {
            assert_eq!(v.len(), 1, "expected one error, got {v:?}");
            v.remove(0)
        }
    }
}

// Tests that read the environment use distinct variable names, set once.
fn set_token() {
    // SAFETY: tests set only variables no other test reads or writes.
    unsafe { std::env::set_var("CRIER_TEST_TG_TOKEN", "123:abc") };
}

#[test]
fn a_good_config_loads_with_env_and_relative_paths() {
    set_token();
    let c = load(GOOD).expect("loads");
    assert_eq!(c.telegram_token(), Some("123:abc"));
    assert_eq!(c.db_path(), PathBuf::from("/etc/crier/data/crier.db"));
    assert_eq!(c.feeds[0].interval.0, Duration::from_secs(300));
    assert_eq!(c.targets[0].thread, Some(7));
    assert_eq!(c.feeds[0].targets[1].0, "console");
}

#[test]
fn missing_env_var_is_named_with_key_and_line() {
    let e = one_error(&GOOD.replace("CRIER_TEST_TG_TOKEN", "CRIER_TEST_NOT_SET_EVER"));
    assert_eq!(e.key, "telegram.token");
    assert_eq!(e.line, Some(6));
    assert!(
        e.message.contains("`CRIER_TEST_NOT_SET_EVER` is not set"),
        "{}",
        e.message
    );
    assert!(
        e.to_string()
            .starts_with("/etc/crier/config.toml:6: telegram.token: ")
    );
}

#[test]
fn unknown_key_is_an_error_with_its_line() {
    set_token();
    let e = one_error(&GOOD.replace("interval = \"5m\"", "intervall = \"5m\""));
    assert_eq!(e.line, Some(13));
    assert!(
        e.message.contains("unknown field `intervall`"),
        "{}",
        e.message
    );
    assert_eq!(e.key, "feeds[0].intervall");
}

#[test]
fn unknown_target_name_is_reported() {
    set_token();
    let e = one_error(&GOOD.replace(r#"["tg", "console"]"#, r#"["tg", "consol"]"#));
    assert_eq!(e.key, "feeds[0].targets[1]");
    assert_eq!(e.line, Some(14));
    assert!(
        e.message.contains(r#"no target named "consol""#),
        "{}",
        e.message
    );
    assert!(e.message.contains("tg, console"), "{}", e.message);
}

#[test]
fn bad_duration_and_bad_url_are_reported() {
    set_token();
    let e = one_error(&GOOD.replace("\"5m\"", "\"5 parsecs\""));
    assert_eq!(e.key, "feeds[0].interval");
    assert_eq!(e.line, Some(13));
    assert!(e.message.contains("invalid duration"), "{}", e.message);

    let e = one_error(&GOOD.replace("http://127.0.0.1:9/", "not a url"));
    assert_eq!(e.key, "telegram.api_url");
    assert_eq!(e.line, Some(7));
    assert!(e.message.contains("invalid URL"), "{}", e.message);

    let e = one_error(&GOOD.replace("https://example.com/feed.xml", "gopher://x/feed"));
    assert_eq!(e.key, "feeds[0].url");
    assert_eq!(e.line, Some(12));
    assert!(e.message.contains("not supported"), "{}", e.message);
}

#[test]
fn missing_token_for_a_platform_in_use() {
    let text = GOOD.replace("token = \"${CRIER_TEST_TG_TOKEN}\"\n", "");
    let e = one_error(&text);
    assert_eq!(e.key, "targets[0].platform");
    assert!(
        e.message.contains("[telegram] has no `token`"),
        "{}",
        e.message
    );
    // Without any [telegram] section too.
    let text = r#"
[[targets]]
name = "tg"
platform = "telegram"
chat = "-1001"
"#;
    let e = one_error(text);
    assert!(
        e.message.contains("[telegram] has no `token`"),
        "{}",
        e.message
    );
}

#[test]
fn platform_specific_keys_are_checked() {
    set_token();
    // Two problems, both reported: the missing chat and the foreign key.
    let errs = load(&GOOD.replace("chat = \"@channel\"", "channel = 123"))
        .expect_err("errors")
        .0;
    assert!(errs.iter().any(|e| e.message.contains("needs `chat`")));
    assert!(
        errs.iter().any(|e| e.key == "targets[0].channel"
            && e.message.contains("not used by platform telegram"))
    );
    let e = one_error(&GOOD.replace("\"@channel\"", "\"my channel\""));
    assert_eq!(e.key, "targets[0].chat");
}

#[test]
fn unknown_platform_lists_the_choices() {
    set_token();
    let e = one_error(&GOOD.replace("platform = \"console\"", "platform = \"irc\""));
    assert_eq!(e.key, "targets[1].platform");
    assert_eq!(e.line, Some(25));
    assert!(e.message.contains("unknown variant `irc`"), "{}", e.message);
}

#[test]
fn syntax_errors_have_a_line() {
    let e = one_error("[storage\npath = 1");
    assert_eq!(e.line, Some(1));
    assert!(e.key.is_empty());
}

#[test]
fn duplicate_names_are_rejected() {
    set_token();
    let text = format!("{GOOD}\n[[targets]]\nname = \"tg\"\nplatform = \"console\"\n");
    let e = one_error(&text);
    assert_eq!(e.key, "targets[2].name");
    assert!(e.message.contains("already named"));
}

#[test]
fn env_expansion_rules() {
    let env = |k: &str| (k == "A").then(|| "x".to_string());
    assert_eq!(expand_env("a${A}b", env).as_deref(), Ok("axb"));
    assert_eq!(expand_env("$${A}", env).as_deref(), Ok("${A}"));
    assert_eq!(expand_env("cost $5", env).as_deref(), Ok("cost $5"));
    assert!(
        expand_env("${B}", env)
            .unwrap_err()
            .contains("`B` is not set")
    );
    assert!(expand_env("${A", env).unwrap_err().contains("unterminated"));
    assert!(
        expand_env("${A-B}", env)
            .unwrap_err()
            .contains("not a valid")
    );
}

#[test]
fn local_paths_resolve_against_the_config_folder() {
    let u = resolve_location("examples/feed.xml", Path::new("/srv/crier")).expect("url");
    assert_eq!(u.as_str(), "file:///srv/crier/examples/feed.xml");
    assert!(resolve_location("ftp://x/y", Path::new("/")).is_err());
}

#[test]
fn filters_and_routes_parse_and_are_validated() {
    set_token();
    let text = format!(
        "{GOOD}\n[feeds.filter]\nexclude_categories = [\"Sponsored\"]\ninclude_regex = \"(?i)nato|japan\"\n\n[[feeds.routes]]\ntarget = \"tg\"\nlanguages = [\"en\"]\n"
    );
    let c = load(&text).expect("loads");
    assert_eq!(c.feeds[0].filter.exclude_categories[0].0, "Sponsored");
    assert_eq!(c.feeds[0].routes[0].target.0, "tg");
    assert_eq!(c.feeds[0].routes[0].filter.languages[0].0, "en");

    let e = one_error(&text.replace("(?i)nato|japan", "(unclosed"));
    assert_eq!(e.key, "feeds[0].filter.include_regex");
    assert!(e.line.is_some());
    assert!(
        e.message.contains("invalid regular expression"),
        "{}",
        e.message
    );

    let e = one_error(&text.replace("languages", "langauges"));
    assert!(
        e.message.contains("unknown field `langauges`"),
        "{}",
        e.message
    );

    let e = one_error(&text.replace("target = \"tg\"", "target = \"nope\""));
    assert_eq!(e.key, "feeds[0].routes[0].target");
    assert!(
        e.message.contains("not one of this feed's targets"),
        "{}",
        e.message
    );
}

#[test]
fn template_errors_name_the_target() {
    set_token();
    let text = GOOD.replace(
        "silent = true",
        "silent = true\ntemplate = \"{{ title }\\n{% if %}\"",
    );
    let e = one_error(&text);
    assert_eq!(e.key, "targets[0]");
    assert!(
        e.message.starts_with("target \"tg\": template: "),
        "{}",
        e.message
    );
    let e = one_error(&GOOD.replace(
        "silent = true",
        "silent = true\ntimezone = \"Mars/Olympus\"",
    ));
    assert!(e.message.contains("unknown timezone"), "{}", e.message);
    // Platform-specific look keys.
    let e = one_error(&GOOD.replace("silent = true", "silent = true\nstyle = \"plain\""));
    assert_eq!(e.key, "targets[0].style");
    assert!(
        e.message.contains("not used by platform telegram"),
        "{}",
        e.message
    );
    let c = load(&GOOD.replace(
        "silent = true",
        "silent = true\nmode = \"full\"\nlink_preview = \"none\"",
    ))
    .expect("loads");
    let f = c.target_format(&c.targets[0]);
    assert_eq!(f.mode, crier_bots::format::Mode::Full);
    assert_eq!(f.link_preview, crier_bots::format::LinkPreview::None);
}

#[test]
fn webhook_urls_are_checked() {
    let text = r#"
[[targets]]
name = "hook"
platform = "discord_webhook"
webhook_url = "https://discord.com/api/channels/123"
"#;
    let e = one_error(text);
    assert_eq!(e.key, "targets[0].webhook_url");
    assert!(
        e.message.contains("not a Discord webhook URL"),
        "{}",
        e.message
    );
    assert!(!e.to_string().contains("SECRET"));
}

/// Found by the `config` fuzz target: a webhook URL with a bad scheme was
/// echoed whole, token included, in the error.
#[test]
fn a_bad_webhook_url_error_does_not_show_its_token() {
    let text = r#"
[[feeds]]
name = "f"
url = "https://x.example/feed"
targets = ["hook"]

[[targets]]
name = "hook"
platform = "discord_webhook"
webhook_url = "htps://discord.com/api/webhooks/123456/SECRET_token_0123456789"
"#;
    let e = one_error(text);
    assert_eq!(e.key, "targets[0].webhook_url");
    assert!(e.message.contains("/webhooks/123456/***"), "{}", e.message);
    assert!(!e.to_string().contains("SECRET"), "{e}");
}

/// Found by AFL: mistyped webhook URLs (a space or `#` in the id, a
/// percent-encoded path, an id run into another URL) and values echoed by
/// other errors (an unknown platform) never show the token.
#[test]
fn no_shape_of_mistyped_webhook_url_shows_its_token() {
    for (platform, url) in [
        (
            "discord_webhook",
            "htps://discord.com/api/webhooks/12 456/SECRETtoken_0123456789",
        ),
        (
            "discord_webhook",
            "htps://discord.com/api/webhooks/12#456/SECRETtoken_0123456789",
        ),
        (
            "discord_webhook",
            "hmgz://a?gdwgc.eun/eqi/webhooks/195235/SECRETtoken_0123456789",
        ),
        (
            "discord_webhook",
            "htps://discord.com/api/webhooks/1234api/webhooks/123654/SECRETtoken_0123456789",
        ),
        (
            "discord_webh//discord.com/api/webhooks/1/SECRETtoken_0123456789",
            "https://x.example/",
        ),
    ] {
        let text = format!(
            "[[feeds]]\nname = \"f\"\nurl = \"https://x.example/feed\"\ntargets = [\"hook\"]\n\n[[targets]]\nname = \"hook\"\nplatform = \"{platform}\"\nwebhook_url = \"{url}\"\n"
        );
        let e = one_error(&text);
        assert!(!e.to_string().contains("SECRETtoken"), "{e}");
        assert!(e.to_string().contains("***"), "{e}");
    }
}

#[test]
fn push_keys_load_and_a_bad_hook_secret_is_reported() {
    set_token();
    let c = load(&GOOD.replace(
        "interval = \"5m\"",
        "interval = \"5m\"\npush = \"off\"\npush_safety_interval = \"2h\"",
    ))
    .expect("loads");
    assert_eq!(c.feeds[0].push, PushMode::Off);
    assert_eq!(c.feeds[0].push_safety_interval.0, Duration::from_secs(7200));
    assert!(c.feeds[0].hook_secret().is_none());
    let d = load(GOOD).expect("loads");
    assert_eq!(d.feeds[0].push, PushMode::Auto);
    assert_eq!(d.feeds[0].push_safety_interval.0, Duration::from_secs(3600));

    // A hook secret needs the listener and must be long enough for a URL.
    let with_listener = |secret: &str| {
        format!(
            "[http]\nlisten = \"127.0.0.1:8080\"\n{}",
            GOOD.replace(
                "interval = \"5m\"",
                &format!("interval = \"5m\"\nwordpress_hook_secret = \"{secret}\""),
            )
        )
    };
    let ok = load(&with_listener("0123456789abcdef-x")).expect("loads");
    assert_eq!(ok.feeds[0].hook_secret(), Some("0123456789abcdef-x"));
    assert!(!format!("{:?}", ok.feeds[0]).contains("0123456789abcdef-x"));
    let e = one_error(&with_listener("short"));
    assert_eq!(e.key, "feeds[0].wordpress_hook_secret");
    assert!(e.message.contains("too short"), "{}", e.message);
    let e = one_error(&with_listener("0123456789abcdef/../x"));
    assert!(e.message.contains("letters, digits"), "{}", e.message);
    let e = one_error(&GOOD.replace(
        "interval = \"5m\"",
        "interval = \"5m\"\nwordpress_hook_secret = \"0123456789abcdef-x\"",
    ));
    assert!(e.message.contains("[http] listen"), "{}", e.message);
}
