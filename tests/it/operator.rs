//! The operator's first hour: a command line that forgives and explains
//! (exit codes, errors naming the valid values, no tokens for the
//! database-only commands), `check --online` and `test TARGET` against the
//! fakes, and the hints that come with the frequent delivery errors.

use crier_fakes::discord::{Access, FakeDiscord};
use crier_fakes::telegram::{BotStatus, FakeTelegram};

use crate::spine::rss;
use crate::support::*;

fn console_config(extra_feed: &str) -> String {
    format!(
        r#"
[storage]
path = "state/crier.db"

[telegram]
token = "${{CRIER_IT_OPERATOR_UNSET_TOKEN}}"

[[feeds]]
name = "local"
url = "feed.xml"
kind = "auto"
targets = ["console"]
{extra_feed}

[[targets]]
name = "console"
platform = "console"

[[targets]]
name = "news"
platform = "telegram"
chat = "@news"
"#
    )
}

#[test]
fn database_commands_need_no_tokens_but_run_and_check_do() {
    let ws = Workspace::new();
    ws.write("config.toml", &console_config(""));
    for args in [
        &["log"][..],
        &["log", "--audit"],
        &["retry", "--all"],
        &["log", "--target", "news"],
        &["status"],
    ] {
        let out = ws.crier(args);
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    }
    let status = stdout_of(&ws.crier(&["status"]));
    assert!(
        status.contains("local") && status.contains("news") && status.contains("telegram"),
        "status lists the configured feeds and targets:\n{status}"
    );
    let out = ws.crier(&["retract", "https://nowhere.example/x"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nothing to retract is a runtime failure"
    );
    assert!(
        stderr_of(&out).starts_with("error: no article"),
        "{}",
        stderr_of(&out)
    );
    for cmd in ["check", "run"] {
        let out = ws.crier(&[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(
            stderr_of(&out).contains("CRIER_IT_OPERATOR_UNSET_TOKEN"),
            "{}",
            stderr_of(&out)
        );
    }
}

#[test]
fn unknown_targets_and_states_are_usage_errors_naming_the_valid_ones() {
    let ws = Workspace::new();
    ws.write("config.toml", &console_config(""));
    let out = ws.crier(&["log", "--target", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("error: no target named \"nope\" (configured: console, news)"),
        "{}",
        stderr_of(&out)
    );
    let out = ws.crier(&["retry", "--target", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let out = ws.crier(&["retry"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let out = ws.crier(&["log", "--state", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.starts_with("error: ") && err.contains("failed") && err.contains("pending"),
        "{err}"
    );
    let help = stdout_of(&ws.crier(&["log", "--help"]));
    assert!(
        help.contains("possible values: pending, sending, sent, failed, filtered, skipped"),
        "{help}"
    );
}

#[test]
fn a_missing_config_says_where_it_was_looked_for_and_how_to_pass_one() {
    let ws = Workspace::new();
    for cmd in ["check", "run", "log"] {
        let out = ws.crier(&[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = stderr_of(&out);
        assert!(err.starts_with("error: no config file at "), "{err}");
        assert!(
            err.contains(&ws.config().display().to_string()) && err.contains("--config"),
            "{err}"
        );
    }
}

#[test]
fn check_warns_about_an_empty_config_and_speaks_config_words() {
    let ws = Workspace::new();
    ws.write("config.toml", "[storage]\npath = \"crier.db\"\n");
    let out = ws.crier(&["check"]);
    assert!(out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("warning: ") && err.contains("no [[feeds]]") && err.contains("no [[targets]]"),
        "{err}"
    );

    ws.write(
        "config.toml",
        r#"
[[feeds]]
name = "local"
url = "feed.xml"
kind = "wordpress"
targets = ["console"]
filter = { exclude_categories = ["Sport"] }
routes = [{ target = "console", include_keywords = ["breaking"] }]

[[targets]]
name = "console"
platform = "console"
"#,
    );
    let out = ws.crier(&["check"]);
    let s = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(s.contains("kind = \"wordpress\""), "{s}");
    assert!(
        s.contains("filter: exclude_categories = [\"Sport\"]"),
        "{s}"
    );
    assert!(
        s.contains("local → console  (include_keywords = [\"breaking\"])"),
        "{s}"
    );
    assert!(!stderr_of(&out).contains("warning"), "{}", stderr_of(&out));
}

#[test]
fn preview_feed_reads_a_configured_feed_and_applies_its_filters() {
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &console_config("filter = { exclude_keywords = [\"Second\"] }")
            .replace(
                "[telegram]\ntoken = \"${CRIER_IT_OPERATOR_UNSET_TOKEN}\"",
                "",
            )
            .replace(
                "[[targets]]\nname = \"news\"\nplatform = \"telegram\"\nchat = \"@news\"",
                "",
            ),
    );
    ws.write(
        "feed.xml",
        &rss(&[("a-1", "First story"), ("a-2", "Second story")]),
    );
    let out = ws.crier(&["preview", "--feed", "local", "-n", "2"]);
    let s = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        s.contains("First story") && s.contains("→ console (console)"),
        "{s}"
    );
    assert!(s.contains("Second story → console: filtered"), "{s}");
    let out = ws.crier(&["preview", "--feed", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("configured: local"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    let ws = Workspace::new();
    let out = ws.crier(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(stdout_of(&out).contains("preview") && stdout_of(&out).contains("--online"));
    let out = ws.crier(&["man"]);
    assert!(out.status.success());
    assert!(stdout_of(&out).contains(".TH crier"), "{}", stdout_of(&out));
}

// ---- against the fakes ----------------------------------------------------------

const CHAN_OK: u64 = 1_400_000_000_000_000_001;
const CHAN_PERM: u64 = 1_400_000_000_000_000_002;
const CHAN_HIDDEN: u64 = 1_400_000_000_000_000_003;
const CHAN_GONE: u64 = 1_400_000_000_000_000_004;

struct Platforms {
    tg: crier_fakes::Background<FakeTelegram>,
    dc: crier_fakes::Background<FakeDiscord>,
    hooks: (String, String, String),
}

fn platforms() -> Platforms {
    let tg = FakeTelegram::start_background().expect("fake telegram");
    tg.add_channel(-1_001_000_000_001, Some("okchan"));
    tg.add_channel(-1_001_000_000_002, None);
    tg.set_bot_status(-1_001_000_000_002, BotStatus::NoRights);
    tg.add_channel(-1_001_000_000_003, None);
    tg.set_bot_status(-1_001_000_000_003, BotStatus::NotMember);
    tg.add_group(-5_000_000_001, "Newsroom");
    let dc = FakeDiscord::start_background().expect("fake discord");
    for c in [CHAN_OK, CHAN_PERM, CHAN_HIDDEN] {
        dc.add_text_channel(c);
    }
    dc.set_access(CHAN_PERM, Access::MissingPermissions);
    dc.set_access(CHAN_HIDDEN, Access::MissingAccess);
    let ok = dc.add_webhook(CHAN_OK);
    let gone = dc.add_webhook(CHAN_OK);
    dc.delete_webhook(gone.id);
    let bad_token = format!("{}/webhooks/{}/{}", dc.api_url(), ok.id, "x".repeat(68));
    let hooks = (dc.webhook_url(&ok), dc.webhook_url(&gone), bad_token);
    Platforms { tg, dc, hooks }
}

fn platforms_config(p: &Platforms, tg_token: &str, dc_token: &str) -> String {
    format!(
        r#"
[storage]
path = "state/crier.db"

[telegram]
token = "{tg_token}"
api_url = "{tg_api}"
commands = false

[discord]
token = "{dc_token}"
api_url = "{dc_api}"
commands = false

[[feeds]]
name = "local"
url = "feed.xml"
targets = ["ok"]

[[feeds]]
name = "missing"
url = "missing.xml"
targets = ["ok"]

[[targets]]
name = "ok"
platform = "telegram"
chat = "@okchan"

[[targets]]
name = "group"
platform = "telegram"
chat = "-5000000001"

[[targets]]
name = "norights"
platform = "telegram"
chat = "-1001000000002"

[[targets]]
name = "notmember"
platform = "telegram"
chat = "-1001000000003"

[[targets]]
name = "nochat"
platform = "telegram"
chat = "1000000004"

[[targets]]
name = "dc-ok"
platform = "discord"
channel = {CHAN_OK}

[[targets]]
name = "dc-perm"
platform = "discord"
channel = {CHAN_PERM}

[[targets]]
name = "dc-hidden"
platform = "discord"
channel = {CHAN_HIDDEN}

[[targets]]
name = "dc-gone"
platform = "discord"
channel = {CHAN_GONE}

[[targets]]
name = "hook-ok"
platform = "discord_webhook"
webhook_url = "{hook_ok}"

[[targets]]
name = "hook-gone"
platform = "discord_webhook"
webhook_url = "{hook_gone}"

[[targets]]
name = "hook-badtoken"
platform = "discord_webhook"
webhook_url = "{hook_bad}"
"#,
        tg_api = p.tg.api_url(),
        dc_api = p.dc.api_url(),
        hook_ok = p.hooks.0,
        hook_gone = p.hooks.1,
        hook_bad = p.hooks.2,
    )
}

#[test]
fn check_online_says_what_is_wrong_with_each_target_and_feed_and_how_to_fix_it() {
    let p = platforms();
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &platforms_config(&p, FakeTelegram::TOKEN, FakeDiscord::TOKEN),
    );
    ws.write("feed.xml", &rss(&[("a-1", "First story")]));
    let out = ws.crier(&["check", "--online"]);
    let s = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{s}\n{}", stderr_of(&out));
    for line in [
        "ok     target ok (telegram)",
        "ok     target group (telegram)",
        "ok     target dc-ok (discord)",
        "ok     target hook-ok (discord_webhook)",
        "ok     feed local (1 items)",
        "error: target norights: the bot is an administrator of -1001000000002 but may not post: turn on \"Post Messages\"",
        "error: target notmember: -1001000000003: Forbidden: bot is not a member of the channel chat",
        "error: target nochat: chat not found: 1000000004: a channel or supergroup id starts with -100 (did you mean -1001000000004?)",
        "error: target dc-perm: the bot lacks Send Messages, Embed Links, Attach Files in channel",
        "error: target dc-hidden: channel 1400000000000000003: HTTP 403 code 50001: Missing Access: the bot cannot see the channel",
        "error: target dc-gone: channel 1400000000000000004: HTTP 404 code 10003: Unknown Channel: the channel does not exist",
        "error: target hook-gone: webhook",
        "error: target hook-badtoken: webhook",
        "error: feed missing:",
        "online check: 9 problem(s)",
    ] {
        assert!(s.contains(line), "expected {line:?} in:\n{s}");
    }
    assert_eq!(s.matches("error: ").count(), 9, "{s}");
    assert!(
        s.contains("10015") && s.contains("create one in the channel's settings"),
        "{s}"
    );
    assert!(s.contains("copy the URL again"), "{s}");
    for secret in [FakeTelegram::TOKEN, FakeDiscord::TOKEN, &"x".repeat(68)] {
        assert!(
            !s.contains(secret) && !stderr_of(&out).contains(secret),
            "a secret leaked:\n{s}"
        );
    }
    // It asked the platforms, and only read.
    assert!(!p.tg.requests_to("getChatMember").is_empty());
    assert!(!p.dc.requests_to("get_guild_roles").is_empty());
    assert!(p.tg.bot_posts(-1_001_000_000_001).is_empty());
    assert!(p.dc.messages(CHAN_OK).is_empty());
}

#[test]
fn check_online_with_revoked_tokens_says_so_once_per_target() {
    let p = platforms();
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &platforms_config(&p, "7000000001:REVOKED.token", "REVOKED.discord.token"),
    );
    ws.write("feed.xml", &rss(&[("a-1", "First story")]));
    let out = ws.crier(&["check", "--online"]);
    let s = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(s.contains("error: target ok: Telegram rejects the bot token (getMe: Unauthorized): copy the token from @BotFather"), "{s}");
    assert!(
        s.contains("error: target dc-ok: Discord rejects the bot token (401 Unauthorized)"),
        "{s}"
    );
    assert!(!s.contains("REVOKED"), "{s}");
}

#[test]
fn test_target_posts_one_sample_and_prints_its_link() {
    let p = platforms();
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &platforms_config(&p, FakeTelegram::TOKEN, FakeDiscord::TOKEN),
    );
    ws.write(
        "feed.xml",
        &rss(&[("a-1", "First story"), ("a-2", "Second story")]),
    );
    let out = ws.crier(&["test", "ok"]);
    let s = stdout_of(&out);
    assert!(out.status.success(), "{s}\n{}", stderr_of(&out));
    assert!(s.contains("the newest article of feed local"), "{s}");
    assert!(s.contains("posted: https://t.me/okchan/"), "{s}");
    let posts = p.tg.bot_posts(-1_001_000_000_001);
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0]
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("Second story"),
        "{posts:?}"
    );

    // No feed routed: the built-in sample.
    let out = ws.crier(&["test", "dc-ok"]);
    let s = stdout_of(&out);
    assert!(out.status.success(), "{s}\n{}", stderr_of(&out));
    assert!(
        s.contains("a sample (no feed is routed here)") && s.contains("posted: "),
        "{s}"
    );
    assert_eq!(p.dc.visible(CHAN_OK).len(), 1);

    // A target that cannot be posted to: the error and its fix.
    let out = ws.crier(&["test", "dc-perm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("Embed Links"),
        "{}",
        stderr_of(&out)
    );
    let out = ws.crier(&["test", "nope"]);
    assert_eq!(out.status.code(), Some(2));

    // Nothing was recorded.
    let log = stdout_of(&ws.crier(&["log"]));
    assert!(log.contains("(no deliveries)"), "{log}");
}
