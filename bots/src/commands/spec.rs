//! The command table: each command's name, usage line, description and
//! least role ([`COMMANDS`]), for help texts, usage errors and the
//! platforms' command registration.

use super::Role;

/// A command's description for help texts and platform registration.
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub about: &'static str,
    pub role: Role,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        usage: "/help",
        about: "what you can do here",
        role: Role::Stranger,
    },
    CommandSpec {
        name: "status",
        usage: "/status",
        about: "uptime, feeds, targets, queue, last 24 h",
        role: Role::Admin,
    },
    CommandSpec {
        name: "feeds",
        usage: "/feeds",
        about: "feeds and their health",
        role: Role::Admin,
    },
    CommandSpec {
        name: "targets",
        usage: "/targets",
        about: "targets and their state",
        role: Role::Admin,
    },
    CommandSpec {
        name: "pause",
        usage: "/pause <feed or target>",
        about: "stop polling a feed or posting to a target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "resume",
        usage: "/resume <feed or target>",
        about: "resume (and re-enable) a feed or target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "retry",
        usage: "/retry <delivery id | target | all>",
        about: "re-queue failed deliveries",
        role: Role::Admin,
    },
    CommandSpec {
        name: "why",
        usage: "/why <article URL>",
        about: "what happened to an article on each target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "log",
        usage: "/log [n]",
        about: "the last deliveries",
        role: Role::Admin,
    },
    CommandSpec {
        name: "subscribe",
        usage: "/subscribe <feed URL> [targets…]",
        about: "watch a new feed",
        role: Role::Admin,
    },
    CommandSpec {
        name: "unsubscribe",
        usage: "/unsubscribe <feed>",
        about: "stop watching a feed added from chat",
        role: Role::Admin,
    },
    CommandSpec {
        name: "import",
        usage: "/import [targets…] (caption of an OPML file, or a reply to one)",
        about: "watch the feeds of an OPML file",
        role: Role::Admin,
    },
    CommandSpec {
        name: "export",
        usage: "/export",
        about: "the watched feeds as an OPML file",
        role: Role::Admin,
    },
    CommandSpec {
        name: "preview",
        usage: "/preview <URL>",
        about: "how a page or a feed's newest item would look",
        role: Role::Editor,
    },
    CommandSpec {
        name: "publish",
        usage: "/publish <URL> [targets…]",
        about: "publish a page, after a preview",
        role: Role::Editor,
    },
    CommandSpec {
        name: "post",
        usage: "/post [targets…] (reply to a message, or send it next)",
        about: "cross-post your own message",
        role: Role::Editor,
    },
    CommandSpec {
        name: "schedule",
        usage: "/schedule <time> <URL> [targets…]",
        about: "publish later (time: 2026-12-01T09:00, 09:00 or +2h)",
        role: Role::Editor,
    },
    CommandSpec {
        name: "queue",
        usage: "/queue",
        about: "scheduled posts",
        role: Role::Editor,
    },
    CommandSpec {
        name: "cancel",
        usage: "/cancel <id>",
        about: "cancel a scheduled post",
        role: Role::Editor,
    },
    CommandSpec {
        name: "retract",
        usage: "/retract <URL or id>",
        about: "delete an article's messages everywhere",
        role: Role::Editor,
    },
];

pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}
