//! Galleries on Discord (`gallery = true`): up to 4 of an article's
//! pictures as embeds sharing its URL, on a bot channel and a webhook,
//! accepted by the fake's strict checks, edited in place with all of
//! them and deleted as one message.

use crier_bots::Post;
use crier_bots::discord::DiscordOptions;
use crier_bots::format::TargetFormat;

use crate::discord::{CHAN, CHAN2, Run, bot, fake, ingest, rest, until, webhook};
use crate::engine::{memory_db, policy, settled, until_logged};

fn pictured(title: &str, pictures: &[&str]) -> Post {
    let body: String = pictures
        .iter()
        .map(|p| format!(r#"<p>About {p}.</p><img src="https://news.example/{p}.jpg" alt="{p}">"#))
        .collect();
    Post {
        feed: "feed".into(),
        title: title.into(),
        link: Some("https://news.example/g".into()),
        content_html: Some(body),
        ..Post::default()
    }
}

fn images(m: &crier_fakes::discord::DcMessage) -> Vec<String> {
    m.embeds
        .iter()
        .filter_map(|e| e["image"]["url"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_gallery_is_one_message_of_embeds_edited_and_deleted_whole() {
    let f = fake().await;
    let r = rest(&f);
    let format = TargetFormat {
        discord_gallery: true,
        ..TargetFormat::default()
    };
    let b = bot("bot", &r, CHAN, format.clone(), DiscordOptions::default());
    let (w, _) = webhook("hook", &r, &f, CHAN2, format, DiscordOptions::default());
    let db = memory_db();
    ingest(
        &db,
        &[("g", pictured("Five pictures", &["a", "b", "c", "d", "e"]))],
        &["bot", "hook"],
    )
    .await;
    let run = Run::start(&db, vec![b, w], policy()).await;
    until("posted", 10, || {
        f.visible(CHAN).len() == 1 && f.visible(CHAN2).len() == 1
    })
    .await;
    let want: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| format!("https://news.example/{p}.jpg"))
        .collect();
    for c in [CHAN, CHAN2] {
        let m = &f.visible(c)[0];
        assert_eq!(images(m), want, "{m:?}");
        assert!(
            m.embeds
                .iter()
                .all(|e| e["url"].as_str() == Some("https://news.example/g")),
            "{m:?}"
        );
    }
    // The article changes its pictures: the one message is edited.
    ingest(
        &db,
        &[("g", pictured("Three pictures", &["x", "y", "z"]))],
        &[],
    )
    .await;
    run.engine.wake_all();
    until("edited", 10, || {
        f.visible(CHAN)[0].edit_count == 1 && f.visible(CHAN2)[0].edit_count == 1
    })
    .await;
    let want: Vec<String> = ["x", "y", "z"]
        .iter()
        .map(|p| format!("https://news.example/{p}.jpg"))
        .collect();
    for c in [CHAN, CHAN2] {
        assert_eq!(images(&f.visible(c)[0]), want);
    }
    // Retracted: the message goes, and with it every picture.
    let article = db
        .call(|s| s.article_by_key("feed", "guid:g"))
        .await
        .expect("article")
        .expect("some");
    let now = db.now_ms();
    db.call(move |s| s.retract(article.id, now))
        .await
        .expect("retract");
    run.engine.wake_all();
    until("deleted", 10, || {
        f.visible(CHAN).is_empty() && f.visible(CHAN2).is_empty()
    })
    .await;
    until_logged("the outcome recorded", &db, settled).await;
    run.stop().await;
    assert_eq!(f.messages(CHAN).len(), 1, "edited in place, never reposted");
}
