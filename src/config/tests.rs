use super::*;
use crier_bots::discord::config::{DiscordId, DiscordPlace, DiscordTargetConfig};
use crier_bots::telegram::config::{TelegramChat, TelegramConfig, TelegramTargetConfig};
use std::time::Duration;

fn telegram_token(c: &Config) -> Option<&str> {
    c.section::<TelegramConfig>("telegram")?.token()
}

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
    assert_eq!(telegram_token(&c), Some("123:abc"));
    assert_eq!(c.db_path(), PathBuf::from("/etc/crier/data/crier.db"));
    assert_eq!(c.feeds[0].interval.0, Duration::from_secs(300));
    match c.targets[0].spec::<TelegramTargetConfig>() {
        Some(tg) => {
            assert_eq!(tg.thread, Some(7));
            assert_eq!(tg.chat, TelegramChat::Username("channel".into()));
        }
        None => panic!("a Telegram target, got {:?}", c.targets[0]),
    }
    assert_eq!(c.targets[0].kind, "telegram");
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
    assert_eq!(e.key, "targets[0].template");
    assert_eq!(e.line, Some(22));
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
    // `gallery` is a key of both platforms, each with its own flag.
    let c = load(&GOOD.replace("silent = true", "silent = true\ngallery = true")).expect("loads");
    let f = c.target_format(&c.targets[0]);
    assert!(f.telegram_gallery && !f.discord_gallery);
    let hook = "\n[[targets]]\nname = \"hook\"\nplatform = \"discord_webhook\"\nwebhook_url = \"https://discord.com/api/webhooks/1/abc\"\ngallery = true\n";
    let c = load(&format!("{GOOD}{hook}")).expect("loads");
    let t = c.targets.iter().find(|t| t.name.0 == "hook").expect("hook");
    assert!(c.target_format(t).discord_gallery);
    assert!(!c.target_format(t).telegram_gallery);
    assert!(
        !c.target_format(&c.targets[0]).discord_gallery
            && !c.target_format(&c.targets[0]).telegram_gallery,
        "off by default"
    );
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

#[test]
fn every_problem_of_a_file_is_reported_at_once_each_at_its_line() {
    set_token();
    let text = r#"[telegram]
token = "${CRIER_TEST_TG_TOKEN}"

[sourcs]
timeout = "5s"

[[feeds]]
name = "a"
url = "https://example.com/a.xml"
intervall = "5m"
targets = ["tg"]

[[feeds]]
name = "b"
url = "https://example.com/b.xml"
interval = "soon"
backfil = 3
targets = ["tg"]

[[targets]]
name = "tg"
platform = "telegram"
chat = "my channel"
thred = 7
ping_role = 5
timezone = "Europe/Pari"
"#;
    let errs = load(text).expect_err("errors").0;
    let got: Vec<(String, Option<usize>)> = errs.iter().map(|e| (e.key.clone(), e.line)).collect();
    let want = [
        (
            "sourcs",
            4,
            "unknown section `sourcs` (did you mean `sources`?)",
        ),
        (
            "feeds[0].intervall",
            10,
            "unknown field `intervall` (did you mean `interval`?)",
        ),
        ("feeds[1].interval", 16, "invalid duration"),
        (
            "feeds[1].backfil",
            17,
            "unknown field `backfil` (did you mean `backfill`?)",
        ),
        (
            "targets[0].chat",
            23,
            "is neither a numeric chat id nor an @username",
        ),
        (
            "targets[0].thred",
            24,
            "unknown field `thred` (did you mean `thread`?)",
        ),
        ("targets[0].ping_role", 25, "not used by platform telegram"),
        ("targets[0].timezone", 26, "(did you mean `Europe/Paris`?)"),
    ];
    for (key, line, text) in want {
        assert!(
            errs.iter()
                .any(|e| e.key == key && e.line == Some(line) && e.message.contains(text)),
            "no error {key}:{line} {text:?} in {got:?}\n{errs:#?}"
        );
    }
    assert_eq!(errs.len(), want.len(), "{errs:#?}");
    // In the order of the file.
    let lines: Vec<usize> = errs.iter().filter_map(|e| e.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn ids_chats_and_topics_are_parsed_once_and_checked() {
    let text = |extra: &str| {
        format!(
            "[discord]\ntoken = \"t\"\n\n[[targets]]\nname = \"d\"\nplatform = \"discord\"\n{extra}\n"
        )
    };
    // An id as a number or as the string Discord's "Copy ID" gives.
    for (value, want) in [
        ("123456789012345678", 123456789012345678u64),
        ("\"42\"", 42),
    ] {
        let c = load(&text(&format!("channel = {value}\nping_role = {value}"))).expect("loads");
        let Some(d) = c.targets[0].spec::<DiscordTargetConfig>() else {
            panic!("a Discord target")
        };
        let DiscordPlace::Channel(place) = &d.place else {
            panic!("a bot channel")
        };
        assert_eq!(place.channel.get(), want);
        assert_eq!(d.posting.ping_role.map(DiscordId::get), Some(want));
    }
    // A negative role was silently "no ping"; now it is an error at its key.
    let e = one_error(&text("channel = 1\nping_role = -5"));
    assert_eq!(e.key, "targets[0].ping_role");
    assert!(e.message.contains("not a Discord id"), "{}", e.message);
    let e = one_error(&text("channel = \"#general\""));
    assert_eq!(e.key, "targets[0].channel");

    let tg = |chat: &str, extra: &str| {
        format!(
            "[telegram]\ntoken = \"t\"\n\n[[targets]]\nname = \"t\"\nplatform = \"telegram\"\nchat = {chat}\n{extra}\n"
        )
    };
    let chat_of = |c: &Config| match c.targets[0].spec::<TelegramTargetConfig>() {
        Some(t) => t.chat.clone(),
        None => panic!("a Telegram target, got {:?}", c.targets[0]),
    };
    for (chat, want) in [
        ("-1001234567890", TelegramChat::Id(-1001234567890)),
        ("\"-1001234567890\"", TelegramChat::Id(-1001234567890)),
        (
            "\"@crier_news\"",
            TelegramChat::Username("crier_news".into()),
        ),
        (
            "\"https://t.me/crier_news\"",
            TelegramChat::Username("crier_news".into()),
        ),
        (
            "\"t.me/crier_news/\"",
            TelegramChat::Username("crier_news".into()),
        ),
    ] {
        let c = load(&tg(chat, "")).expect("loads");
        assert_eq!(chat_of(&c), want, "{chat}");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }
    // A channel id without -100 loads, with a warning that says what to write.
    let c = load(&tg("1234567890", "")).expect("loads");
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.warnings[0].key, "targets[0].chat");
    assert!(
        c.warnings[0]
            .message
            .contains("did you mean -1001234567890?"),
        "{}",
        c.warnings[0].message
    );
    // An invite link cannot be posted to.
    let e = one_error(&tg("\"https://t.me/+AbCdEf\"", ""));
    assert!(e.message.contains("invite link"), "{}", e.message);
    // A topic out of range was "the main chat"; now it is an error.
    let e = one_error(&tg("-1001", "thread = 4294967297"));
    assert_eq!(e.key, "targets[0].thread");
    assert!(e.message.contains("not a forum topic id"), "{}", e.message);
}

#[test]
fn secrets_never_show_in_debug_output() {
    set_token();
    let text = format!(
        "{GOOD}\n[[targets]]\nname = \"hook\"\nplatform = \"discord_webhook\"\nwebhook_url = \"https://discord.com/api/webhooks/123/SECRET_webhook_token_xyz\"\n\n[http]\ntoken = \"SECRET_http_token_0123456789\"\n"
    );
    let c = load(&text).expect("loads");
    let shown = format!("{c:?}");
    for secret in [
        "123:abc",
        "SECRET_webhook_token_xyz",
        "SECRET_http_token_0123456789",
    ] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    assert_eq!(telegram_token(&c), Some("123:abc"));
}

#[test]
fn a_target_without_a_platform_names_the_choices() {
    let e = one_error("[[targets]]\nname = \"x\"\n");
    assert_eq!(e.key, "targets[0]");
    assert!(
        e.message
            .contains("needs `platform` (one of telegram, discord, discord_webhook, console)"),
        "{}",
        e.message
    );
    let e = one_error("[[targets]]\nname = \"x\"\nplatform = \"telgram\"\n");
    assert!(
        e.message.contains("did you mean `telegram`?"),
        "{}",
        e.message
    );
}

#[test]
fn telegram_webhook_mode_needs_the_listener_and_its_public_url() {
    let text = |http: &str| {
        format!(
            "[telegram]\ntoken = \"t\"\nadmins = [1]\nupdates = \"webhook\"\n{http}\n[[targets]]\nname = \"c\"\nplatform = \"console\"\n"
        )
    };
    let Err(ConfigErrors(e)) = load(&text("")) else {
        panic!("webhook mode without a listener loaded")
    };
    let keys: Vec<_> = e.iter().map(|e| (e.key.as_str(), e.line)).collect();
    assert_eq!(
        keys,
        [("telegram.updates", Some(4)), ("telegram.updates", Some(4))],
        "{e:?}"
    );
    assert!(e[0].message.contains("[http] listen"), "{}", e[0].message);
    assert!(e[1].message.contains("public_url"), "{}", e[1].message);
    let e = one_error(&text("[http]\nlisten = \"127.0.0.1:8080\"\n"));
    assert!(e.message.contains("public_url"), "{}", e.message);
    let ok = text("[http]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://bot.example\"\n");
    assert!(load(&ok).is_ok());
}

#[test]
fn a_lease_needs_postgres_and_a_sane_length() {
    set_token();
    let pg = GOOD.replace(
        "path = \"data/crier.db\"",
        "url = \"postgres://crier@db/crier\"",
    );
    let cfg = load(&pg.replace("[storage]", "[storage]\nlease = \"30s\"")).expect("valid");
    assert_eq!(cfg.storage.lease(), std::time::Duration::from_secs(30));
    assert_eq!(
        load(&pg).expect("valid").storage.lease(),
        std::time::Duration::from_secs(15),
        "the default"
    );
    let e = one_error(&pg.replace("[storage]", "[storage]\nlease = \"500ms\""));
    assert_eq!(e.key, "storage.lease");
    assert!(e.message.contains("between 2s and 10m"), "{}", e.message);
    let e = one_error(&GOOD.replace("[storage]", "[storage]\nlease = \"30s\""));
    assert_eq!(e.key, "storage.lease");
    assert!(e.message.contains("set `url`"), "{}", e.message);
}

#[test]
fn telegraph_is_a_telegram_key_with_its_account_in_the_telegram_section() {
    set_token();
    let c = load(&GOOD.replace("silent = true", "silent = true\ntelegraph = true")).expect("loads");
    assert!(c.target_format(&c.targets[0]).telegraph);
    assert!(!c.target_format(&c.targets[1]).telegraph, "off by default");
    let section = GOOD.replace(
        "admins = [1]",
        "admins = [1]\n\n[telegram.telegraph]\napi_url = \"http://127.0.0.1:10/\"\nshort_name = \"News\"",
    );
    load(&section).expect("loads");
    // The account's name: 1 to 32 characters, reported at its key.
    let e = one_error(&section.replace("\"News\"", &format!("\"{}\"", "n".repeat(33))));
    assert_eq!(e.key, "telegram.telegraph.short_name");
    // Refused on Discord targets, at the key.
    let hook = "\n[[targets]]\nname = \"hook\"\nplatform = \"discord_webhook\"\nwebhook_url = \"https://discord.com/api/webhooks/1/abc\"\ntelegraph = true\n";
    let e = one_error(&format!("{GOOD}{hook}"));
    assert!(e.key.ends_with("telegraph"), "{e:?}");
}
