//! The quality gate of what members see: for every fixture feed in
//! `tests/fixtures/snapshots/` (news sites, blogs, podcasts, videos, JSON
//! Feed, non-English and right-to-left text, heavy HTML, empty
//! summaries…), the exact Telegram and Discord requests `crier preview
//! --json` makes are pinned with insta (`tests/it/snapshots/`). Every
//! request must also pass the strict validators the fakes use. A change
//! in what members see is a snapshot diff to review (`cargo insta review`,
//! or `INSTA_UPDATE=always` then `git diff`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crier_bots::format::validate;
use serde_json::Value;

use crate::support::{Workspace, crier_bin};

/// One Telegram target in summary mode (the default look), one in full
/// mode, one Discord bot channel (embeds). Nothing is sent: `preview`
/// only renders.
const CONFIG: &str = r#"
[storage]
path = "crier.db"

[telegram]
token = "123456:TEST-token-for-previews-only"
api_url = "http://127.0.0.1:9"

[discord]
token = "test-token-for-previews"
api_url = "http://127.0.0.1:9"
application_id = 100000000000000001

[[feeds]]
name = "snap"
url = "feed.xml"
targets = ["tg", "tg-full", "dc"]

[[targets]]
name = "tg"
platform = "telegram"
chat = "-1001234567890"

[[targets]]
name = "tg-full"
platform = "telegram"
chat = "-1001234567891"
mode = "full"
max_parts = 3

[[targets]]
name = "dc"
platform = "discord"
channel = 200000000000000002
"#;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshots");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Checks one request as the platform would; returns the violation.
fn violation(line: &Value) -> Option<String> {
    let req = &line["request"];
    match line["platform"].as_str() {
        Some("telegram") => {
            let method = req["method"].as_str().unwrap_or("");
            validate::telegram_message(method, &req["params"])
                .err()
                .map(|e| format!("{e:?}"))
        }
        Some("discord") => validate::discord_message(&req["body"])
            .err()
            .map(|e| format!("{e:?}")),
        other => Some(format!("unexpected platform {other:?}")),
    }
}

#[test]
fn what_members_see_on_every_kind_of_feed() {
    let files = fixtures();
    assert!(files.len() >= 30, "only {} fixture feeds", files.len());
    let ws = Workspace::new();
    ws.write("config.toml", CONFIG);
    let mut problems = Vec::new();
    for file in &files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name")
            .to_string();
        let out = Command::new(crier_bin())
            .current_dir(ws.dir.path())
            .arg("preview")
            .arg(file)
            .args(["--json", "-n", "3", "--config"])
            .arg(ws.config())
            .output()
            .expect("run crier preview");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: preview failed: {stderr}");
        let mut requests = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {line}"));
            if let Some(why) = violation(&v) {
                problems.push(format!("{name}: {why}\n{v}"));
            }
            requests.push(v);
        }
        assert!(!requests.is_empty(), "{name}: no request");
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            info => &file.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        }, {
            insta::assert_yaml_snapshot!(name, requests);
        });
    }
    assert!(
        problems.is_empty(),
        "invalid requests:\n{}",
        problems.join("\n\n")
    );
}
