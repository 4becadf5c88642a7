//! The slash commands as Discord registers them: one per [`COMMANDS`]
//! entry, with typed options (strings, bounded integers, attachments) in
//! the order `parse_args` takes them.

use serde_json::{Value, json};

use crate::commands::COMMANDS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptKind {
    Str,
    Int { min: i64, max: i64 },
    Attachment,
}

impl OptKind {
    fn code(self) -> u8 {
        match self {
            OptKind::Str => 3,
            OptKind::Int { .. } => 4,
            OptKind::Attachment => 11,
        }
    }
}

pub(super) struct Opt {
    pub(super) name: &'static str,
    kind: OptKind,
    required: bool,
    about: &'static str,
}

const fn opt(name: &'static str, required: bool, about: &'static str) -> Opt {
    Opt {
        name,
        kind: OptKind::Str,
        required,
        about,
    }
}

const TARGETS: Opt = opt(
    "targets",
    false,
    "target names, separated by spaces (default: every target)",
);

/// The options of each command, in the order `parse_args` takes them.
pub(super) fn options_of(command: &str) -> Vec<Opt> {
    match command {
        "pause" | "resume" => vec![opt("what", true, "a feed or target name")],
        "retry" => vec![opt("what", true, "a delivery id, a target name, or all")],
        "why" => vec![opt("url", true, "the article's URL")],
        "log" => vec![Opt {
            name: "n",
            kind: OptKind::Int { min: 1, max: 50 },
            required: false,
            about: "how many deliveries (default 10)",
        }],
        "subscribe" => vec![opt("url", true, "the feed's URL"), TARGETS],
        "unsubscribe" => vec![opt("what", true, "the feed's name")],
        "import" => vec![
            Opt {
                name: "file",
                kind: OptKind::Attachment,
                required: true,
                about: "the OPML file",
            },
            TARGETS,
        ],
        "preview" => vec![opt("url", true, "a page's or a feed's URL")],
        "publish" => vec![opt("url", true, "the page's URL"), TARGETS],
        "post" => vec![
            opt("text", false, "the message (Discord markdown)"),
            Opt {
                name: "attachment",
                kind: OptKind::Attachment,
                required: false,
                about: "an image to post",
            },
            TARGETS,
        ],
        "schedule" => vec![
            opt("time", true, "2026-12-01T09:00, 09:00 or +2h"),
            opt("url", true, "the page's URL"),
            TARGETS,
        ],
        "cancel" => vec![Opt {
            name: "id",
            kind: OptKind::Int {
                min: 1,
                max: i64::from(i32::MAX),
            },
            required: true,
            about: "the scheduled post's number (see /queue)",
        }],
        "retract" => vec![opt("what", true, "the article's URL or number")],
        _ => Vec::new(),
    }
}

/// The slash commands as Discord's bulk-overwrite endpoint takes them.
/// `global`: also usable in direct messages with the bot.
pub fn command_definitions(global: bool) -> Value {
    let list: Vec<Value> = COMMANDS
        .iter()
        .map(|c| {
            let options: Vec<Value> = options_of(c.name)
                .iter()
                .map(|o| {
                    let mut v = json!({
                        "type": o.kind.code(),
                        "name": o.name,
                        "description": o.about,
                        "required": o.required,
                    });
                    if let OptKind::Int { min, max } = o.kind {
                        v["min_value"] = json!(min);
                        v["max_value"] = json!(max);
                    }
                    v
                })
                .collect();
            let mut v = json!({
                "type": 1,
                "name": c.name,
                "description": c.about,
                "options": options,
            });
            if global {
                // Guild channels and the bot's DMs.
                v["contexts"] = json!([0, 1]);
                v["integration_types"] = json!([0]);
            }
            v
        })
        .collect();
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_registered_with_typed_options() {
        let defs = command_definitions(false);
        let list = defs.as_array().expect("array");
        assert_eq!(list.len(), COMMANDS.len());
        for d in list {
            let desc = d["description"].as_str().expect("description");
            assert!((1..=100).contains(&desc.chars().count()), "{d}");
            // Required options come first (Discord refuses otherwise).
            let req: Vec<bool> = d["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| o["required"].as_bool().unwrap_or(false))
                .collect();
            assert!(req.windows(2).all(|w| w[0] || !w[1]), "{d}");
        }
        let log = list.iter().find(|d| d["name"] == "log").expect("log");
        assert_eq!(log["options"][0]["type"], 4);
        let post = list.iter().find(|d| d["name"] == "post").expect("post");
        assert_eq!(post["options"][1]["type"], 11);
        assert!(command_definitions(true)[0].get("contexts").is_some());
    }
}
