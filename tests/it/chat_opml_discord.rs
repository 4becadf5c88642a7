//! Chat `/import` and `/export` through the Discord front-end: `/import`
//! takes the OPML file as an attachment option; the core downloads the
//! attachment URL through the SSRF guard (here the fake's CDN on
//! 127.0.0.1, let through by `allow_hosts`), and a URL to another private
//! address is refused. `/export` answers with a file attached to an
//! ephemeral follow-up.

use std::collections::BTreeSet;
use std::time::Duration;

use crier_bots::commands::COMMANDS;
use crier_fakes::FakeDiscord;
use crier_fakes::discord::gateway::Invoker;
use crier_fakes::discord::{DcMessage, EPHEMERAL};
use crier_fakes::feed::{FeedServer, Route};

use crate::chat_opml::{items, opml_of, urls_of};
use crate::daemon::*;

const CMD_CHAN: u64 = 1_300_000_000_000_000_201;
const DC_CHAN: u64 = 1_300_000_000_000_000_202;
const ADMIN: u64 = 1_400_000_000_000_000_011;
const STRANGER: u64 = 1_400_000_000_000_000_013;

struct World {
    dir: tempfile::TempDir,
    web: FeedServer,
    dc: FakeDiscord,
}

fn admin() -> Invoker {
    Invoker::member(ADMIN, "ada", CMD_CHAN, &[])
}

fn host_port(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    format!(
        "{}:{}",
        u.host_str().expect("host"),
        u.port_or_known_default().expect("port")
    )
}

async fn world() -> World {
    let dc = FakeDiscord::start().await.expect("fake discord");
    dc.start_gateway().await.expect("fake gateway");
    dc.add_text_channel(CMD_CHAN);
    dc.add_text_channel(DC_CHAN);
    World {
        dir: tempfile::tempdir().expect("dir"),
        web: FeedServer::start().await.expect("web"),
        dc,
    }
}

impl World {
    async fn start(&self) -> Daemon {
        self.web
            .set("/feed.xml", Route::feed(rss(&items("n", &["News one"]))));
        self.web
            .set("/alpha.xml", Route::feed(rss(&items("a", &["Alpha one"]))));
        self.web
            .set("/beta.xml", Route::feed(rss(&items("b", &["Beta one"]))));
        // No `allow_private_urls`: only the fake CDN and the feed server
        // are let through the guard.
        let config = format!(
            r#"
[discord]
token = "{token}"
api_url = "{api}"
admins = [{ADMIN}]
guild_id = {guild}

[commands]
allow_hosts = ["{cdn}", "{web}"]
subscribe_interval = "1s"

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
targets = ["dc"]

[[targets]]
name = "dc"
platform = "discord"
channel = {DC_CHAN}
"#,
            token = FakeDiscord::TOKEN,
            api = self.dc.api_url(),
            guild = FakeDiscord::GUILD_ID,
            cdn = host_port(&self.dc.base_url()),
            web = host_port(&self.web.url("/")),
            feed = self.web.url("/feed.xml"),
        );
        let d = Daemon::start(self.dir.path(), &config);
        eventually(
            "the gateway session and the registered commands",
            Duration::from_secs(20),
            || {
                self.dc.gateway_sessions() == 1
                    && self.dc.commands(Some(FakeDiscord::GUILD_ID)).len() == COMMANDS.len()
            },
        )
        .await;
        d
    }

    fn answers(&self, id: u64) -> Vec<DcMessage> {
        let i = self.dc.interaction(id).expect("interaction");
        i.original
            .into_iter()
            .chain(i.followups)
            .filter_map(|m| self.dc.message(m))
            .collect()
    }

    /// Run a command and wait for its answers to contain `expect`
    /// (markdown escapes removed).
    async fn ask(
        &self,
        who: &Invoker,
        name: &str,
        opts: &[(&str, &str)],
        expect: &str,
    ) -> (u64, String) {
        let i = match self.dc.run_command(who, name, opts) {
            Ok(i) => i,
            Err(e) => panic!("/{name}: {e}"),
        };
        let said = || {
            self.answers(i.id)
                .iter()
                .map(|m| m.content.replace('\\', ""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        eventually(
            &format!("an answer to /{name} containing {expect:?}"),
            Duration::from_secs(20),
            || said().contains(expect),
        )
        .await;
        (i.id, said())
    }

    fn dynamic(&self) -> Vec<crier_storage::DynamicFeed> {
        store(self.dir.path())
            .dynamic_feeds()
            .expect("dynamic feeds")
    }

    fn channel_shows(&self, text: &str) -> bool {
        self.dc.messages(DC_CHAN).iter().any(|m| {
            m.content.contains(text) || m.embeds.iter().any(|e| e.to_string().contains(text))
        })
    }
}

#[tokio::test]
async fn an_attached_opml_is_imported_and_export_round_trips() {
    let w = world().await;
    let d = w.start().await;
    w.dc.upload("feeds.opml", opml_of(&w.web).as_bytes());
    let (_, said) = w
        .ask(
            &admin(),
            "import",
            &[("file", "feeds.opml")],
            "imported 2 feeds",
        )
        .await;
    assert!(said.contains("feed.xml: already watched"), "{said}");
    assert!(said.contains("not an http(s) URL"), "{said}");
    let rows = w.dynamic();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|f| f.added_by == format!("discord:{ADMIN}"))
    );
    assert!(rows.iter().all(|f| f.targets == ["dc"]));

    eventually("the imported feeds polled", Duration::from_secs(20), || {
        w.web.hits("/alpha.xml") > 0
    })
    .await;
    // The first poll of each recorded its baseline (skipped rows, in the
    // same transaction): nothing of it can be sent now.
    eventually("the baselines recorded", Duration::from_secs(20), || {
        let s = store(w.dir.path());
        w.dynamic().iter().all(|f| {
            s.feed_state(&f.name)
                .ok()
                .flatten()
                .is_some_and(|st| st.baseline_done)
        })
    })
    .await;
    w.web.set(
        "/alpha.xml",
        Route::feed(rss(&items("a", &["Alpha one", "Alpha two"]))),
    );
    eventually("the new item delivered", Duration::from_secs(20), || {
        w.channel_shows("Alpha two")
    })
    .await;
    assert!(!w.channel_shows("Alpha one"), "the baseline is not posted");

    // /export: a file on an ephemeral follow-up that reads back.
    let (id, _) = w.ask(&admin(), "export", &[], "3 feeds").await;
    let msg = w
        .answers(id)
        .into_iter()
        .find(|m| !m.attachments.is_empty())
        .expect("a message with the file");
    assert_eq!(msg.flags & EPHEMERAL, EPHEMERAL);
    assert_eq!(msg.attachments[0]["filename"], "crier-feeds.opml");
    let url = msg.attachments[0]["url"].as_str().expect("url");
    let bytes = w.dc.attachment_bytes(url).expect("the file");
    let expected: BTreeSet<String> = ["/feed.xml", "/alpha.xml", "/beta.xml"]
        .iter()
        .map(|p| w.web.url(p))
        .collect();
    assert_eq!(urls_of(&String::from_utf8(bytes).expect("utf-8")), expected);
    d.stop().await;
}

#[tokio::test]
async fn strangers_private_addresses_big_and_broken_files_import_nothing() {
    let w = world().await;
    let d = w.start().await;
    w.dc.upload("feeds.opml", opml_of(&w.web).as_bytes());
    let stranger = Invoker::member(STRANGER, "stan", CMD_CHAN, &[]);
    w.ask(
        &stranger,
        "import",
        &[("file", "feeds.opml")],
        "not allowed",
    )
    .await;

    // Attachment URLs to addresses the guard does not let through.
    for url in [
        "http://169.254.169.254/latest/feeds.opml",
        "http://127.0.0.1:9/feeds.opml",
    ] {
        let (_, said) = w
            .ask(&admin(), "import", &[("file", url)], "Nothing was imported")
            .await;
        assert!(said.contains("not a public address"), "{url}: {said}");
    }

    // Over the 1 MiB cap.
    w.dc.upload("huge.opml", &vec![b' '; (1 << 20) + 10]);
    w.ask(&admin(), "import", &[("file", "huge.opml")], "too big")
        .await;

    // Not OPML.
    w.dc.upload(
        "broken.opml",
        b"<html><body>not a list of feeds</body></html>",
    );
    let (_, said) = w
        .ask(
            &admin(),
            "import",
            &[("file", "broken.opml")],
            "Nothing was imported",
        )
        .await;
    assert!(said.contains("Cannot import broken.opml"), "{said}");
    assert!(w.dynamic().is_empty());
    d.stop().await;
}
