//! The command line's grammar (clap): subcommands, their flags and help.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use crier_storage::State;

#[derive(Debug, Parser)]
#[command(
    name = "crier",
    version,
    about = "Publishes new articles from feeds and WordPress sites to Telegram and Discord: once, never twice, never lost."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "CRIER_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    /// Log format on standard error (filter with RUST_LOG, e.g. RUST_LOG=crier=debug).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the feeds and deliver new articles until stopped (SIGINT/SIGTERM).
    Run,
    /// Validate the configuration and print its feeds, targets and routes.
    Check {
        /// Also ask each platform whether every target can be posted to
        /// (token, chat or channel, the bot's rights) and each feed whether
        /// it answers and parses; one line per problem with its fix.
        #[arg(long)]
        online: bool,
    },
    /// Send one sample post to a target (the newest article of the first
    /// feed routed to it, or a built-in sample) and print its link. Nothing
    /// is recorded.
    Test {
        /// The target's name in the config.
        target: String,
    },
    /// Show feeds, targets, queues, open alerts and recent deliveries from
    /// the delivery log (the status page's summary; no daemon needed).
    Status,
    /// Show recent deliveries from the delivery log.
    Log {
        /// How many rows to show.
        #[arg(long, short = 'n', default_value_t = 30)]
        limit: usize,
        /// Only this target's deliveries (a configured target's name).
        #[arg(long)]
        target: Option<String>,
        /// Only deliveries in this state.
        #[arg(long, value_parser = state_parser())]
        state: Option<State>,
        /// Show the audit log of chat commands instead.
        #[arg(long, conflicts_with_all = ["target", "state"])]
        audit: bool,
    },
    /// Show what Crier reads from feeds, pages or files, without recording
    /// anything.
    Inspect {
        /// Feed URLs, page URLs or files.
        #[arg(required = true)]
        sources: Vec<String>,
        /// One JSON object per article (or error) per line.
        #[arg(long)]
        json: bool,
    },
    /// Show how the newest articles of a feed, page or file would be posted
    /// on every configured target, without sending or recording anything.
    Preview {
        /// A feed URL, page URL or file.
        #[arg(required_unless_present = "feed")]
        source: Option<String>,
        /// A configured feed, read exactly as `crier run` reads it (its
        /// kind, WordPress REST, headers), its targets and filters applied.
        #[arg(long, conflicts_with = "source")]
        feed: Option<String>,
        /// How many of the newest articles.
        #[arg(long, short = 'n', default_value_t = 1)]
        limit: usize,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// One JSON object per message: the exact API request per target.
        #[arg(long)]
        json: bool,
    },
    /// Retract an article: delete its messages on every target (a running
    /// `crier run` carries it out).
    Retract {
        /// The article's link, or its id (see `crier log`).
        article: String,
    },
    /// Import feeds from OPML, or export every feed as OPML.
    Feeds {
        #[command(subcommand)]
        command: FeedsCommand,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) of crier.
    Man,
    /// Copy the delivery log to another database — SQLite to PostgreSQL or
    /// back — so nothing is posted again after the move: articles and
    /// their identity keys, deliveries, posted messages, feed and target
    /// state, subscriptions, audit and alerts. The destination must be
    /// empty; stop `crier run` first (migrate takes its lock).
    Migrate {
        /// The source: an SQLite file or a postgres:// URL (default: the
        /// config's `[storage]`).
        #[arg(long)]
        from: Option<String>,
        /// The destination: a postgres:// URL or an SQLite file (default:
        /// the config's `[storage]`). `${VAR}` is expanded, so a password
        /// can stay in the environment:
        /// --to 'postgres://crier:${PGPASSWORD}@db/crier'.
        #[arg(long)]
        to: Option<String>,
    },
    /// Re-queue failed deliveries (and re-enable a disabled target).
    Retry {
        /// One delivery, by id (see `crier log`).
        #[arg(long, conflicts_with_all = ["target", "all"])]
        id: Option<i64>,
        /// Every failed delivery of this target; also re-enables the target.
        #[arg(long)]
        target: Option<String>,
        /// Every failed delivery.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Add the feeds of an OPML file (nested folders, xmlUrl, titles) to
    /// the database, like /subscribe does; duplicates are skipped and
    /// reported; nothing is added when the file is malformed.
    Import {
        /// The OPML file.
        file: PathBuf,
        /// The targets the imported feeds post to.
        #[arg(long, num_args = 1.., required = true)]
        targets: Vec<String>,
    },
    /// Write every feed (config and database) as OPML.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `--state`: the delivery states, listed by `--help` and in the error.
fn state_parser() -> impl clap::builder::TypedValueParser<Value = State> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(State::ALL.iter().map(|s| s.as_str()))
        .try_map(|s: String| State::parse(&s).ok_or_else(|| format!("unknown state {s:?}")))
}
