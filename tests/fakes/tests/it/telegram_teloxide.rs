//! Every Bot API method Crier uses, through teloxide 0.17 against the fake:
//! the fake's answers deserialize, and its errors map to teloxide's error
//! variants.

use std::time::Duration;

use crier_fakes::telegram::{BotStatus, TelegramLimits, TgUser};
use crier_fakes::{FakeTelegram, Fault};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, BotCommandScope, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    LinkPreviewOptions, MessageId, ParseMode, Recipient, ThreadId, UpdateKind,
};
use teloxide::{ApiError, RequestError};

const CHANNEL: i64 = -1_001_234_567_890;
const GROUP: i64 = -4_001_234_567;
const FORUM: i64 = -1_009_876_543_210;

async fn setup() -> (FakeTelegram, Bot) {
    let f = FakeTelegram::start().await.expect("start");
    f.set_limits(TelegramLimits::unlimited());
    f.add_channel(CHANNEL, Some("crier_news"));
    f.add_group(GROUP, "Readers");
    f.add_supergroup(FORUM, None, true, &[7]);
    let url = url::Url::parse(&f.api_url()).expect("url");
    let bot = Bot::new(f.token()).set_api_url(url);
    (f, bot)
}

fn link(u: &str) -> url::Url {
    url::Url::parse(u).expect("url")
}

#[tokio::test]
async fn messages_edits_deletes_and_chats() {
    let (f, bot) = setup().await;
    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.id.0 as i64, f.bot_id());
    assert_eq!(me.username(), FakeTelegram::BOT_USERNAME);

    let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(
        "Read",
        link("https://example.org/a"),
    )]]);
    let m = bot
        .send_message(ChatId(CHANNEL), "<b>Hello</b> world")
        .parse_mode(ParseMode::Html)
        .disable_notification(true)
        .link_preview_options(LinkPreviewOptions {
            is_disabled: true,
            url: None,
            prefer_small_media: false,
            prefer_large_media: false,
            show_above_text: false,
        })
        .reply_markup(kb.clone())
        .await
        .expect("sendMessage");
    assert_eq!(m.chat.id, ChatId(CHANNEL));
    assert_eq!(m.text(), Some("Hello world"));
    assert_eq!(m.entities().map(|e| e.len()), Some(1));
    assert!(m.reply_markup().is_some());
    let rec = &f.bot_posts(CHANNEL)[0];
    assert!(rec.disable_notification);
    assert_eq!(rec.parse_mode.as_deref(), Some("HTML"));

    // By @username, into a forum topic, in a group.
    let m2 = bot
        .send_message(Recipient::ChannelUsername("@crier_news".into()), "two")
        .await
        .expect("by username");
    assert_eq!(m2.chat.id, ChatId(CHANNEL));
    let t = bot
        .send_message(ChatId(FORUM), "topic")
        .message_thread_id(ThreadId(MessageId(7)))
        .await
        .expect("topic");
    assert_eq!(t.thread_id, Some(ThreadId(MessageId(7))));
    bot.send_message(ChatId(GROUP), "group")
        .await
        .expect("group");

    let p = bot
        .send_photo(
            ChatId(CHANNEL),
            InputFile::url(link("https://example.org/p.jpg")),
        )
        .caption("<i>cap</i>")
        .parse_mode(ParseMode::Html)
        .await
        .expect("sendPhoto");
    assert_eq!(p.caption(), Some("cap"));
    assert_eq!(p.photo().map(|s| s.len()), Some(3));
    assert_eq!(
        f.bot_posts(CHANNEL)[2].photo.as_deref(),
        Some("https://example.org/p.jpg")
    );

    let a = bot
        .send_audio(
            ChatId(CHANNEL),
            InputFile::url(link("https://example.org/ep.m4a")),
        )
        .caption("<i>ep</i>")
        .parse_mode(ParseMode::Html)
        .await
        .expect("sendAudio");
    assert_eq!(a.caption(), Some("ep"));
    let audio = a.audio().expect("an audio message");
    assert_eq!(
        audio.mime_type.as_ref().map(|m| m.as_ref()),
        Some("audio/mp4")
    );
    assert_eq!(audio.duration.seconds(), 184);
    bot.edit_message_caption(ChatId(CHANNEL), a.id)
        .caption("ep, edited")
        .await
        .expect("editMessageCaption of an audio");
    f.fail_audio_url(
        "https://example.org/gone.mp3",
        crier_fakes::telegram::PhotoFailure::FetchFailed,
    );
    let gone = bot
        .send_audio(
            ChatId(CHANNEL),
            InputFile::url(link("https://example.org/gone.mp3")),
        )
        .await;
    assert!(
        matches!(
            gone,
            Err(RequestError::Api(ApiError::FailedToGetUrlContent))
        ),
        "{gone:?}"
    );

    let e = bot
        .edit_message_text(ChatId(CHANNEL), m.id, "edited")
        .await
        .expect("editMessageText");
    assert_eq!(e.text(), Some("edited"));
    assert!(e.edit_date().is_some());
    bot.edit_message_caption(ChatId(CHANNEL), p.id)
        .caption("new cap")
        .await
        .expect("editMessageCaption");
    bot.edit_message_reply_markup(ChatId(CHANNEL), m.id)
        .reply_markup(kb)
        .await
        .expect("editMessageReplyMarkup");
    bot.delete_message(ChatId(CHANNEL), m2.id)
        .await
        .expect("deleteMessage");
    assert_eq!(f.visible(CHANNEL).len(), 3);

    let chat = bot.get_chat(ChatId(CHANNEL)).await.expect("getChat");
    assert_eq!(chat.id, ChatId(CHANNEL));
    assert_eq!(chat.username(), Some("crier_news"));
    let chat = bot.get_chat(ChatId(FORUM)).await.expect("getChat forum");
    assert!(format!("{chat:?}").contains("is_forum: true"), "{chat:?}");
}

#[tokio::test]
async fn errors_map_to_teloxide_variants() {
    let (f, bot) = setup().await;
    let r = bot.send_message(ChatId(-1), "x").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{r:?}"
    );

    f.set_bot_status(CHANNEL, BotStatus::Kicked);
    let r = bot.send_message(ChatId(CHANNEL), "x").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::BotKickedFromChannel))),
        "{r:?}"
    );
    f.set_bot_status(CHANNEL, BotStatus::Member);

    f.migrate_group(GROUP, -1_005_555_555_555);
    let r = bot.send_message(ChatId(GROUP), "x").await;
    assert!(
        matches!(
            r,
            Err(RequestError::MigrateToChatId(ChatId(-1_005_555_555_555)))
        ),
        "{r:?}"
    );

    let m = bot
        .send_message(ChatId(CHANNEL), "same")
        .await
        .expect("send");
    let r = bot.edit_message_text(ChatId(CHANNEL), m.id, "same").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{r:?}"
    );
    let r = bot
        .edit_message_text(ChatId(CHANNEL), MessageId(999), "x")
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageToEditNotFound))),
        "{r:?}"
    );
    let r = bot.delete_message(ChatId(CHANNEL), MessageId(999)).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageToDeleteNotFound))),
        "{r:?}"
    );
    let r = bot.send_message(ChatId(CHANNEL), "x".repeat(5000)).await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageIsTooLong))),
        "{r:?}"
    );
    let r = bot.send_message(ChatId(CHANNEL), "").await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
        "{r:?}"
    );
    let r = bot
        .send_photo(ChatId(CHANNEL), InputFile::file_id("nope".into()))
        .await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::WrongFileIdOrUrl))),
        "{r:?}"
    );

    f.inject(Fault::RateLimit(Duration::from_secs(7)).on("sendMessage"));
    let r = bot.send_message(ChatId(CHANNEL), "x").await;
    match r {
        Err(RequestError::RetryAfter(s)) => assert_eq!(s.seconds(), 7),
        other => panic!("{other:?}"),
    }

    let bad =
        Bot::new("7000000001:WRONG.token").set_api_url(url::Url::parse(&f.api_url()).expect("url"));
    let r = bad.get_me().await;
    assert!(
        matches!(r, Err(RequestError::Api(ApiError::InvalidToken))),
        "{r:?}"
    );
}

#[tokio::test]
async fn updates_commands_and_callbacks() {
    let (f, bot) = setup().await;
    let ann = TgUser::new(42, "Ann").with_username("ann");
    f.add_private(&ann);
    let sent = bot
        .send_message(ChatId(42), "pick")
        .reply_markup(InlineKeyboardMarkup::new(vec![vec![
            InlineKeyboardButton::callback("A", "a"),
        ]]))
        .await
        .expect("send");
    f.user_says(42, &ann, "/status");
    f.user_replies(42, &ann, sent.id.0 as i64, "a reply");
    f.user_sends_photo(42, &ann, Some("pic"));
    f.press_button(42, sent.id.0 as i64, &ann, "a");
    f.push_update(serde_json::json!({"message": {
        "message_id": 500, "date": 1_700_000_000,
        "chat": {"id": CHANNEL, "type": "channel", "title": "C"},
        "text": "raw"
    }}));

    let ups = bot.get_updates().timeout(1).await.expect("getUpdates");
    assert_eq!(ups.len(), 5);
    let mut kinds = Vec::new();
    for u in &ups {
        match &u.kind {
            UpdateKind::Message(m) => kinds.push(format!(
                "msg:{}:{}",
                m.text().or(m.caption()).unwrap_or(""),
                m.reply_to_message().is_some()
            )),
            UpdateKind::CallbackQuery(q) => {
                kinds.push(format!("cb:{}", q.data.clone().unwrap_or_default()))
            }
            UpdateKind::ChannelPost(m) => kinds.push(format!("post:{}", m.text().unwrap_or(""))),
            other => kinds.push(format!("{other:?}")),
        }
    }
    assert_eq!(
        kinds[..4],
        [
            "msg:/status:false",
            "msg:a reply:true",
            "msg:pic:false",
            "cb:a"
        ]
    );
    let UpdateKind::CallbackQuery(q) = &ups[3].kind else {
        panic!("callback expected")
    };
    bot.answer_callback_query(q.id.clone())
        .text("done")
        .await
        .expect("answer");
    assert!(f.callbacks()[0].answer.is_some());

    let last = ups.last().map(|u| u.id.0).unwrap_or(0);
    let ups = bot
        .get_updates()
        .offset(last as i32 + 1)
        .await
        .expect("confirm");
    assert!(ups.is_empty());

    bot.set_my_commands(vec![BotCommand::new("status", "Feed status")])
        .await
        .expect("setMyCommands");
    bot.set_my_commands(vec![BotCommand::new("admin", "Admin")])
        .scope(BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(42)),
        })
        .await
        .expect("scoped");
    let cmds = bot.get_my_commands().await.expect("getMyCommands");
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0].command, "status");
    let scoped = f.commands();
    assert_eq!(scoped[1].scope["type"], "chat");
    bot.delete_webhook().await.expect("deleteWebhook");
}
