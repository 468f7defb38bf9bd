//! Checks the fake Telegram Bot API against teloxide itself: every answer must deserialise into
//! teloxide's types, and every refusal must surface as the `RequestError` the real Telegram
//! answer would produce, or the end-to-end tests would test the fake instead of the bot.

use std::time::{Duration, Instant};

use serde_json::json;
use teloxide::{
    net::Download,
    payloads::{
        AnswerCallbackQuerySetters, EditMessageReplyMarkupSetters, EditMessageTextSetters,
        GetUpdatesSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters,
        SetMyCommandsSetters,
    },
    prelude::*,
    types::{
        AllowedUpdate, BotCommand, BotCommandScope, CallbackQueryId, ChatMemberStatus, FileId,
        InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMedia, InputMediaDocument,
        MaybeInaccessibleMessage, MessageEntityKind, MessageId, ParseMode, Recipient, UpdateKind,
        UserId,
    },
    utils::command::BotCommands,
    ApiError, RequestError,
};

use crate::support::{markup, FakeApi, Fault, MemberStatus, BOT_ID, BOT_USERNAME, TOKEN};

const ZHANG: i64 = 1001;
const LI: i64 = 1002;
const WANG: i64 = 1003;
const ZHAO: i64 = 1004;
const GROUP: i64 = -2001;
const SUPERGROUP: i64 = -1001234567890;
const T: Duration = Duration::from_secs(5);

async fn setup() -> (FakeApi, Bot) {
    let api = FakeApi::start().await;
    api.add_user(ZHANG, "张三", "zhangsan");
    api.add_user(LI, "李四", "lisi");
    api.add_user(WANG, "王五", None);
    api.add_user(ZHAO, "赵六", "zhaoliu");
    api.add_group(GROUP, "第一支部", &[ZHANG, LI], &[WANG]);
    api.add_group(SUPERGROUP, "第二支部", &[LI], &[ZHANG]);
    api.add_private_chat(ZHANG);
    api.add_private_chat(WANG);
    let bot = Bot::new(TOKEN).set_api_url(api.url().parse().expect("url"));
    (api, bot)
}

fn api_error<T: std::fmt::Debug>(r: Result<T, RequestError>) -> ApiError {
    match r {
        Err(RequestError::Api(e)) => e,
        other => panic!("expected RequestError::Api, got {other:?}"),
    }
}

fn keyboard(data: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "选项",
        data.to_owned(),
    )]])
}

#[derive(BotCommands, Debug, PartialEq)]
#[command(rename_rule = "lowercase")]
enum Command {
    Start(String),
    Status,
}

#[tokio::test]
async fn get_me_and_webhook_info() {
    let (_api, bot) = setup().await;
    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.username(), BOT_USERNAME);
    assert_eq!(me.id, UserId(BOT_ID as u64));
    assert!(me.is_bot);
    let info = bot.get_webhook_info().await.expect("getWebhookInfo");
    assert!(info.url.is_none());
    bot.delete_webhook().await.expect("deleteWebhook");
}

#[tokio::test]
async fn long_poll_returns_a_pushed_command() {
    let (api, bot) = setup().await;
    let poller = {
        let bot = bot.clone();
        tokio::spawn(async move { bot.get_updates().timeout(10).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    let update_id = api.push_text(ZHANG, GROUP, "/start@branchbot_test_bot abc");
    let updates = poller.await.expect("join").expect("getUpdates");
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "the held poll answers at once"
    );
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id.0 as i64, update_id);
    let UpdateKind::Message(msg) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(msg.chat.id, ChatId(GROUP));
    assert!(msg.chat.is_group());
    assert_eq!(msg.chat.title(), Some("第一支部"));
    assert_eq!(msg.from.as_ref().map(|u| u.id), Some(UserId(ZHANG as u64)));
    let entities = msg.entities().expect("entities");
    assert_eq!(entities[0].kind, MessageEntityKind::BotCommand);
    assert_eq!(entities[0].length, "/start@branchbot_test_bot".len());
    let text = msg.text().expect("text");
    assert_eq!(
        Command::parse(text, BOT_USERNAME).ok(),
        Some(Command::Start("abc".to_owned()))
    );
    assert_eq!(api.message_id_of(update_id), Some(msg.id.0));

    // Confirming with the offset drops the update; an empty poll is held at most ~1 s.
    let started = Instant::now();
    let next = bot
        .get_updates()
        .offset(update_id as i32 + 1)
        .timeout(30)
        .await
        .expect("poll");
    assert!(next.is_empty());
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(api.pending_updates(), 0);

    // Private chats and supergroups have their types.
    api.push_text(WANG, WANG, "/status");
    api.push_text(ZHANG, SUPERGROUP, "你好");
    let updates = bot.get_updates().await.expect("poll");
    let chats: Vec<_> = updates
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => (m.chat.is_private(), m.chat.is_supergroup()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(chats, vec![(true, false), (false, true)]);
}

#[tokio::test]
async fn allowed_updates_drop_other_kinds() {
    let (api, bot) = setup().await;
    api.push_text(ZHANG, ZHANG, "hello");
    let cb = api.push_callback(ZHANG, ZHANG, 99, "x");
    let updates = bot
        .get_updates()
        .allowed_updates([AllowedUpdate::CallbackQuery])
        .await
        .unwrap();
    assert_eq!(updates.len(), 1);
    let UpdateKind::CallbackQuery(q) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(q.id, CallbackQueryId(cb));
    assert!(matches!(
        q.message,
        Some(MaybeInaccessibleMessage::Inaccessible(_))
    ));
    assert_eq!(
        api.allowed_updates(),
        Some(vec!["callback_query".to_owned()])
    );
}

#[tokio::test]
async fn a_second_poller_terminates_the_first() {
    let (api, bot) = setup().await;
    let first = {
        let bot = bot.clone();
        tokio::spawn(async move { bot.get_updates().timeout(10).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = bot.get_updates().timeout(0).await;
    assert!(second.is_ok());
    let e = api_error(first.await.expect("join"));
    assert_eq!(e, ApiError::TerminatedByOtherGetUpdates);
    assert_eq!(api.poll_conflicts(), 1);
}

#[tokio::test]
async fn send_message_is_recorded_and_waitable() {
    let (api, bot) = setup().await;
    let sent = bot
        .send_message(
            ChatId(GROUP),
            "  <b>换届提醒</b>：&lt;第一支部&gt; 还有 <i>30</i> 天  ",
        )
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("held:1"))
        .await
        .expect("sendMessage");
    assert_eq!(sent.text(), Some("换届提醒：<第一支部> 还有 30 天"));
    let kinds: Vec<_> = sent
        .entities()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        vec![MessageEntityKind::Bold, MessageEntityKind::Italic]
    );
    assert_eq!(
        sent.from.as_ref().map(|u| u.id),
        Some(UserId(BOT_ID as u64))
    );

    let m = api
        .wait_for_message(GROUP, |m| m.plain_text.contains("换届"), T)
        .await;
    assert_eq!(m.message_id, sent.id.0);
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    assert!(m.text.contains("<b>"));
    assert_eq!(m.callback_data("选项").as_deref(), Some("held:1"));
    assert!(!m.edited);
    assert_eq!(api.messages_in(GROUP).len(), 1);
    assert!(api.messages_in(ZHANG).is_empty());
    let calls = api.wait_for_calls("sendMessage", 1, T).await;
    assert_eq!(calls[0].params["chat_id"], json!(GROUP));
    assert!(calls[0].ok());

    // Text as seen, a reply to a user message, and MarkdownV2.
    let upd = api.push_text(ZHANG, ZHANG, "/start");
    let user_msg = api.message_id_of(upd).unwrap();
    bot.send_message(ChatId(ZHANG), "欢迎\\! 得分 *95\\.5*")
        .parse_mode(ParseMode::MarkdownV2)
        .reply_parameters(teloxide::types::ReplyParameters::new(MessageId(user_msg)))
        .await
        .expect("markdown");
    let m = api.wait_for_text(ZHANG, "得分 95.5", T).await;
    assert!(
        m.message_id > user_msg,
        "message ids are per chat and increase"
    );
}

#[tokio::test]
async fn text_limits() {
    let (api, bot) = setup().await;
    let chat = ChatId(ZHANG);
    let long = "党".repeat(4097);
    assert_eq!(
        api_error(bot.send_message(chat, long).await),
        ApiError::MessageIsTooLong
    );
    // Markup is not counted, but UTF-16 units are: an emoji counts twice.
    let fits = format!("<b>{}</b>", "党".repeat(4096));
    bot.send_message(chat, fits)
        .parse_mode(ParseMode::Html)
        .await
        .expect("4096 fits");
    let emoji = "😀".repeat(2049);
    assert_eq!(
        api_error(bot.send_message(chat, emoji).await),
        ApiError::MessageIsTooLong
    );
    assert_eq!(
        api_error(bot.send_message(chat, "").await),
        ApiError::MessageTextIsEmpty
    );
    assert_eq!(
        api_error(bot.send_message(chat, " \n ").await),
        ApiError::MessageTextIsEmpty
    );
    let empty_html = bot
        .send_message(chat, "<b></b>")
        .parse_mode(ParseMode::Html)
        .await;
    assert_eq!(api_error(empty_html), ApiError::MessageTextIsEmpty);
    assert_eq!(
        api.messages_in(ZHANG).len(),
        1,
        "refused messages are not recorded"
    );
    assert_eq!(api.calls_to("sendMessage").len(), 6, "refused calls are");
}

#[tokio::test]
async fn malformed_markup_is_refused() {
    let (_api, bot) = setup().await;
    let chat = ChatId(ZHANG);
    for bad in [
        "<foo>x</foo>",
        "<b>x",
        "<b>x</i>",
        "a < b",
        "AT&T",
        "x</b>",
        "<span>x</span>",
        "<br/>",
        "<a href=\"https://x.org\">x",
        "&#xZZ;",
    ] {
        let r = bot
            .send_message(chat, bad)
            .parse_mode(ParseMode::Html)
            .await;
        match api_error(r) {
            ApiError::CantParseEntities(d) => {
                assert!(
                    d.starts_with("Bad Request: can't parse entities: "),
                    "{bad}: {d}"
                )
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    for good in [
        "&lt;&gt;&amp;&quot;&#20826;&#x515A; a > b",
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s>\
         <strike>s</strike><del>d</del><span class=\"tg-spoiler\">s</span>\
         <tg-spoiler>t</tg-spoiler><a href=\"https://t.me/branchbot_test_bot?start=j1\">link</a>\
         <code>c</code><pre><code class=\"language-rust\">fn</code></pre>\
         <blockquote>q</blockquote><blockquote expandable>e</blockquote>",
        "<B>upper</B> <a href='tg://user?id=1001'>张三</a>",
    ] {
        bot.send_message(chat, good)
            .parse_mode(ParseMode::Html)
            .await
            .expect(good);
    }
    for bad in ["1.5", "a-b", "*bold", "(x)", "_a*b_*"] {
        let r = bot
            .send_message(chat, bad)
            .parse_mode(ParseMode::MarkdownV2)
            .await;
        assert!(
            matches!(api_error(r), ApiError::CantParseEntities(_)),
            "{bad}"
        );
    }
    for good in [
        "1\\.5",
        "*粗体* _斜体_ __下划线__ ~删除~ ||剧透|| `a.b` [链接](https://x.org/a\\)b)",
    ] {
        bot.send_message(chat, good)
            .parse_mode(ParseMode::MarkdownV2)
            .await
            .expect(good);
    }
}

#[tokio::test]
async fn keyboard_chat_and_edit_errors() {
    let (api, bot) = setup().await;
    let data_64 = "a".repeat(64);
    bot.send_message(ChatId(ZHANG), "ok")
        .reply_markup(keyboard(&data_64))
        .await
        .expect("64 bytes");
    // 22 CJK characters are 66 bytes.
    let r = bot
        .send_message(ChatId(ZHANG), "x")
        .reply_markup(keyboard(&"党".repeat(22)))
        .await;
    assert_eq!(api_error(r), ApiError::ButtonDataInvalid);
    let url_button = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(
        "测试",
        "https://t.me/branchbot_test_bot?start=r12".parse().unwrap(),
    )]]);
    bot.send_message(ChatId(GROUP), "url")
        .reply_markup(url_button)
        .await
        .expect("url button");

    assert_eq!(
        api_error(bot.send_message(ChatId(-999), "x").await),
        ApiError::ChatNotFound
    );
    assert_eq!(
        api_error(bot.send_message(ChatId(777), "x").await),
        ApiError::ChatNotFound
    );
    // A known user who never opened the private chat.
    match api_error(bot.send_message(ChatId(ZHAO), "x").await) {
        ApiError::Unknown(d) => {
            assert_eq!(d, "Forbidden: bot can't initiate conversation with a user")
        }
        other => panic!("{other:?}"),
    }

    let r = bot
        .edit_message_text(ChatId(ZHANG), MessageId(4242), "x")
        .await;
    assert_eq!(api_error(r), ApiError::MessageToEditNotFound);
    let sent = bot
        .send_message(ChatId(ZHANG), "第1题")
        .reply_markup(keyboard("q:1"))
        .await
        .unwrap();
    let same = bot
        .edit_message_text(ChatId(ZHANG), sent.id, "<b></b>第1题")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard("q:1"))
        .await;
    assert_eq!(api_error(same), ApiError::MessageNotModified);
    let same_markup = bot
        .edit_message_reply_markup(ChatId(ZHANG), sent.id)
        .reply_markup(keyboard("q:1"))
        .await;
    assert_eq!(api_error(same_markup), ApiError::MessageNotModified);
    // Editing the text without a keyboard removes the keyboard, as in Telegram.
    let edited = bot
        .edit_message_text(ChatId(ZHANG), sent.id, "第1题")
        .await
        .expect("edit");
    assert!(edited.reply_markup().is_none());
    let m = api
        .messages_in(ZHANG)
        .into_iter()
        .find(|m| m.message_id == sent.id.0)
        .unwrap();
    assert!(m.edited && m.reply_markup.is_none());
    let r = bot
        .edit_message_text(ChatId(ZHANG), sent.id, "第1题".repeat(1366))
        .await;
    assert_eq!(api_error(r), ApiError::MessageIsTooLong);
}

#[tokio::test]
async fn callback_carries_the_message_as_last_edited() {
    let (api, bot) = setup().await;
    let sent = bot
        .send_message(ChatId(WANG), "第1题：单选")
        .reply_markup(keyboard("a:1"))
        .await
        .unwrap();
    bot.edit_message_text(ChatId(WANG), sent.id, "第1题：已作答")
        .reply_markup(keyboard("a:2"))
        .await
        .unwrap();
    let id = api.push_callback(WANG, WANG, sent.id.0, "a:2");
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::CallbackQuery(q) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(q.data.as_deref(), Some("a:2"));
    assert_eq!(q.from.id, UserId(WANG as u64));
    let Some(MaybeInaccessibleMessage::Regular(msg)) = &q.message else {
        panic!("{:?}", q.message)
    };
    assert_eq!(msg.text(), Some("第1题：已作答"));
    assert!(msg.edit_date().is_some());
    assert_eq!(msg.from.as_ref().map(|u| u.id), Some(UserId(BOT_ID as u64)));

    let too_long = bot
        .answer_callback_query(CallbackQueryId(id.clone()))
        .text("答".repeat(201))
        .await;
    assert_eq!(api_error(too_long), ApiError::EditedMessageIsTooLong);
    bot.answer_callback_query(CallbackQueryId(id.clone()))
        .text("已记录")
        .await
        .expect("answer");
    let again = bot.answer_callback_query(CallbackQueryId(id.clone())).await;
    assert_eq!(api_error(again), ApiError::InvalidQueryId);
    let a = api.wait_for_callback_answer(&id, T).await;
    assert_eq!(
        (a.text.as_deref(), a.data.as_str(), a.message_id),
        (Some("已记录"), "a:2", sent.id.0)
    );
    assert_eq!(api.callback_answers().len(), 1);
}

#[tokio::test]
async fn removed_bot_gets_forbidden() {
    let (api, bot) = setup().await;
    api.remove_bot_from(GROUP);
    api.remove_bot_from(SUPERGROUP);
    api.remove_bot_from(WANG);
    match api_error(bot.send_message(ChatId(GROUP), "x").await) {
        ApiError::Unknown(d) => assert_eq!(d, "Forbidden: bot was kicked from the group chat"),
        other => panic!("{other:?}"),
    }
    let r = bot.send_message(ChatId(SUPERGROUP), "x").await;
    assert_eq!(api_error(r), ApiError::BotKickedFromSupergroup);
    assert_eq!(
        api_error(bot.send_message(ChatId(WANG), "x").await),
        ApiError::BotBlocked
    );
    // The user writing to the bot again unblocks it.
    api.push_text(WANG, WANG, "/start");
    bot.send_message(ChatId(WANG), "欢迎回来")
        .await
        .expect("unblocked");
    api.restore_bot_in(GROUP);
    bot.send_message(ChatId(GROUP), "回来了")
        .await
        .expect("re-added");
}

#[tokio::test]
async fn faults_surface_as_teloxide_errors() {
    let (api, bot) = setup().await;
    api.fail_next("sendMessage", 1, Fault::RetryAfter(7));
    let r = bot.send_message(ChatId(ZHANG), "x").await;
    assert!(
        matches!(r, Err(RequestError::RetryAfter(s)) if s.seconds() == 7),
        "{r:?}"
    );
    api.fail_next("sendMessage", 1, Fault::ServerErrorInstant);
    match api_error(bot.send_message(ChatId(ZHANG), "x").await) {
        ApiError::Unknown(d) => assert_eq!(d, "Internal Server Error"),
        other => panic!("{other:?}"),
    }
    api.fail_next("sendmessage", 1, Fault::Network);
    let r = bot.send_message(ChatId(ZHANG), "x").await;
    assert!(matches!(r, Err(RequestError::Network(_))), "{r:?}");
    api.fail_next(
        "sendMessage",
        1,
        Fault::Api {
            code: 403,
            description: "Forbidden: bot was blocked by the user".into(),
        },
    );
    assert_eq!(
        api_error(bot.send_message(ChatId(ZHANG), "x").await),
        ApiError::BotBlocked
    );
    // Faults are consumed: the next call goes through and only it is recorded as a message.
    bot.send_message(ChatId(ZHANG), "成功")
        .await
        .expect("after faults");
    assert_eq!(api.messages_in(ZHANG).len(), 1);
    let calls = api.calls_to("sendMessage");
    assert_eq!(calls.len(), 5);
    assert_eq!(calls[0].error_code(), Some(429));
    assert_eq!(calls[0].response["parameters"]["retry_after"], json!(7));
    assert_eq!(
        calls[0].error_description(),
        Some("Too Many Requests: retry after 7")
    );

    // An unimplemented method answers 404 "Not Found", which teloxide calls InvalidToken.
    let r = bot.send_poll(ChatId(ZHANG), "q", vec![]).await;
    assert_eq!(api_error(r), ApiError::InvalidToken);
    // A wrong token is refused.
    let other = Bot::new("999:WRONG").set_api_url(api.url().parse().unwrap());
    assert_eq!(api_error(other.get_me().await), ApiError::InvalidToken);
}

#[tokio::test]
async fn documents_photos_and_captions() {
    let (api, bot) = setup().await;
    let csv = "支部,平均分\n第一支部,88\n".as_bytes().to_vec();
    let sent = bot
        .send_document(
            ChatId(GROUP),
            InputFile::memory(csv.clone()).file_name("report.csv"),
        )
        .caption("<b>第1期</b> 成绩")
        .parse_mode(ParseMode::Html)
        .await
        .expect("sendDocument");
    let doc = sent.document().expect("document");
    assert_eq!(doc.file_name.as_deref(), Some("report.csv"));
    assert_eq!(sent.caption(), Some("第1期 成绩"));
    let got = api
        .wait_for_document(GROUP, |d| d.file_name == "report.csv", T)
        .await;
    assert_eq!(got.bytes, csv);
    assert_eq!(got.plain_caption.as_deref(), Some("第1期 成绩"));

    // The bot can fetch what it sent.
    let file = bot.get_file(doc.file.id.clone()).await.expect("getFile");
    let mut downloaded = Vec::new();
    bot.download_file(&file.path, &mut downloaded)
        .await
        .expect("download");
    assert_eq!(downloaded, csv);

    let r = bot
        .send_document(
            ChatId(GROUP),
            InputFile::memory(b"x".to_vec()).file_name("a.txt"),
        )
        .caption("长".repeat(1025))
        .await;
    match api_error(r) {
        ApiError::Unknown(d) => assert_eq!(d, "Bad Request: message caption is too long"),
        other => panic!("{other:?}"),
    }

    let png = tiny_png();
    let photo = bot
        .send_photo(
            ChatId(GROUP),
            InputFile::memory(png.clone()).file_name("chart.png"),
        )
        .caption("趋势图")
        .await
        .expect("sendPhoto");
    assert_eq!(photo.photo().expect("photo sizes")[0].width, 2);
    let photos = api.photos_in(GROUP);
    assert_eq!((photos.len(), photos[0].bytes.clone()), (1, png));
    let r = bot
        .send_photo(ChatId(GROUP), InputFile::memory(b"not a picture".to_vec()))
        .await;
    assert_eq!(api_error(r), ApiError::ImageProcessFailed);

    let group = bot
        .send_media_group(
            ChatId(GROUP),
            vec![
                InputMedia::Document(InputMediaDocument::new(
                    InputFile::memory(b"a;b".to_vec()).file_name("r.csv"),
                )),
                InputMedia::Document(
                    InputMediaDocument::new(
                        InputFile::memory(b"PK..".to_vec()).file_name("r.xlsx"),
                    )
                    .caption("第1期报表"),
                ),
            ],
        )
        .await
        .expect("sendMediaGroup");
    assert_eq!(group.len(), 2);
    let docs = api.documents_in(GROUP);
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[2].bytes, b"PK..");
    assert!(docs[1].media_group_id.is_some());
    assert_eq!(docs[2].plain_caption.as_deref(), Some("第1期报表"));
}

#[tokio::test]
async fn pushed_document_can_be_downloaded() {
    let (api, bot) = setup().await;
    let bytes = "[[question]]\nid = \"q1\"\n".as_bytes();
    api.push_document(ZHANG, ZHANG, "题库.toml", bytes, Some("新题库"));
    let updates = bot.get_updates().await.unwrap();
    let UpdateKind::Message(msg) = &updates[0].kind else {
        panic!()
    };
    let doc = msg.document().expect("document");
    assert_eq!(doc.file_name.as_deref(), Some("题库.toml"));
    assert_eq!(msg.caption(), Some("新题库"));
    let file = bot.get_file(doc.file.id.clone()).await.expect("getFile");
    assert!(
        file.path.contains('/'),
        "a real-looking path: {}",
        file.path
    );
    assert_eq!(file.size as usize, bytes.len());
    let mut downloaded = Vec::new();
    bot.download_file(&file.path, &mut downloaded)
        .await
        .expect("download");
    assert_eq!(downloaded, bytes);
    let r = bot.get_file(FileId("nope".into())).await;
    assert_eq!(api_error(r), ApiError::FileIdInvalid);
}

#[tokio::test]
async fn chat_members_and_chats() {
    let (api, bot) = setup().await;
    let status = |chat: i64, user: i64| {
        let bot = bot.clone();
        async move {
            bot.get_chat_member(ChatId(chat), UserId(user as u64))
                .await
                .map(|m| m.status())
        }
    };
    assert_eq!(status(GROUP, ZHANG).await.unwrap(), ChatMemberStatus::Owner);
    assert_eq!(
        status(GROUP, LI).await.unwrap(),
        ChatMemberStatus::Administrator
    );
    assert_eq!(status(GROUP, WANG).await.unwrap(), ChatMemberStatus::Member);
    assert_eq!(status(GROUP, ZHAO).await.unwrap(), ChatMemberStatus::Left);
    assert_eq!(
        status(GROUP, BOT_ID).await.unwrap(),
        ChatMemberStatus::Member
    );
    assert_eq!(
        status(SUPERGROUP, LI).await.unwrap(),
        ChatMemberStatus::Owner
    );
    assert_eq!(api_error(status(GROUP, 5555).await), ApiError::UserNotFound);
    api.set_member_status(GROUP, WANG, MemberStatus::Restricted);
    assert_eq!(
        status(GROUP, WANG).await.unwrap(),
        ChatMemberStatus::Restricted
    );
    api.set_member_status(GROUP, WANG, MemberStatus::Kicked);
    assert_eq!(status(GROUP, WANG).await.unwrap(), ChatMemberStatus::Banned);
    api.set_member_status(GROUP, LI, MemberStatus::Member);
    assert_eq!(status(GROUP, LI).await.unwrap(), ChatMemberStatus::Member);

    api.set_bot_admin(GROUP, true);
    let admins = bot
        .get_chat_administrators(ChatId(GROUP))
        .await
        .expect("admins");
    let ids: Vec<u64> = admins.iter().map(|m| m.user.id.0).collect();
    assert_eq!(ids, vec![ZHANG as u64, BOT_ID as u64]);
    let r = bot.get_chat_administrators(ChatId(ZHANG)).await;
    assert!(matches!(api_error(r), ApiError::Unknown(_)));

    let group = bot.get_chat(ChatId(GROUP)).await.expect("getChat group");
    assert!(group.is_group());
    assert_eq!(group.title(), Some("第一支部"));
    assert!(bot
        .get_chat(ChatId(SUPERGROUP))
        .await
        .expect("supergroup")
        .is_supergroup());
    let private = bot.get_chat(ChatId(ZHANG)).await.expect("getChat private");
    assert!(private.is_private());
    assert_eq!(private.username(), Some("zhangsan"));

    bot.leave_chat(ChatId(SUPERGROUP)).await.expect("leaveChat");
    let r = bot.send_message(ChatId(SUPERGROUP), "x").await;
    assert!(matches!(api_error(r), ApiError::Unknown(d) if d.contains("not a member")));
}

#[tokio::test]
async fn commands_are_recorded_per_scope() {
    let (api, bot) = setup().await;
    let group_cmds = vec![
        BotCommand::new("bind", "绑定支部"),
        BotCommand::new("status", "换届状态"),
    ];
    let private_cmds = vec![BotCommand::new("test", "参加测试")];
    bot.set_my_commands(group_cmds.clone())
        .scope(BotCommandScope::AllGroupChats)
        .await
        .expect("group commands");
    bot.set_my_commands(private_cmds.clone())
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .expect("private commands");
    bot.set_my_commands(vec![BotCommand::new("report", "报表")])
        .scope(BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(ZHANG)),
        })
        .await
        .expect("chat commands");
    assert_eq!(
        api.commands_for_scope(BotCommandScope::AllGroupChats),
        Some(vec![
            ("bind".into(), "绑定支部".into()),
            ("status".into(), "换届状态".into())
        ])
    );
    assert_eq!(
        api.commands_for_scope(json!({ "type": "chat", "chat_id": ZHANG })),
        Some(vec![("report".into(), "报表".into())])
    );
    assert_eq!(api.commands_for_scope(BotCommandScope::Default), None);
    let got = bot
        .get_my_commands()
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .unwrap();
    assert_eq!(got, private_cmds);
    bot.delete_my_commands()
        .scope(BotCommandScope::AllPrivateChats)
        .await
        .unwrap();
    assert_eq!(
        api.commands_for_scope(BotCommandScope::AllPrivateChats),
        None
    );
    let r = bot
        .set_my_commands(vec![BotCommand::new("Bad-Name", "x")])
        .await;
    assert!(matches!(api_error(r), ApiError::Unknown(d) if d.contains("BOT_COMMAND_INVALID")));
}

#[tokio::test]
#[should_panic(expected = "timed out after")]
async fn waiting_fails_with_a_dump_of_what_was_sent() {
    let (api, bot) = setup().await;
    bot.send_message(ChatId(ZHANG), "实际发送的内容")
        .await
        .unwrap();
    api.wait_for_text(ZHANG, "从未发送", Duration::from_millis(100))
        .await;
}

#[tokio::test]
async fn the_dump_shows_messages_buttons_and_failures() {
    let (api, bot) = setup().await;
    bot.send_message(ChatId(ZHANG), "实际发送的内容")
        .reply_markup(keyboard("k:1"))
        .await
        .unwrap();
    let _ = bot.send_message(ChatId(ZHANG), "").await;
    let dump = api.dump();
    assert!(dump.contains("实际发送的内容"), "{dump}");
    assert!(dump.contains("[选项 → k:1]"), "{dump}");
    assert!(
        dump.contains("sendMessage FAILED: Bad Request: message text is empty"),
        "{dump}"
    );
    api.assert_no_message(
        ZHANG,
        |m| m.plain_text.contains("别的"),
        Duration::from_millis(50),
    )
    .await;
}

#[test]
fn markup_parsing() {
    let p = markup::parse("<b>a</b>&amp;<a href=\"x.org\">链接</a>", Some("HTML")).unwrap();
    assert_eq!(p.text, "a&链接");
    assert_eq!(p.entities[1].url.as_deref(), Some("http://x.org"));
    let p = markup::parse(
        "<pre><code class=\"language-toml\">x = 1</code></pre>",
        Some("HTML"),
    )
    .unwrap();
    assert_eq!(
        (p.entities.len(), p.entities[0].language.as_deref()),
        (1, Some("toml"))
    );
    let p = markup::parse("😀<b>x</b>", Some("HTML")).unwrap();
    assert_eq!((p.entities[0].offset, p.entities[0].length), (2, 1));
    let e = markup::parse("<b>x</i>", Some("HTML")).unwrap_err();
    assert_eq!(
        e,
        "Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected \"</b>\", \
         found \"</i>\""
    );
    let e = markup::parse("<b>x", Some("HTML")).unwrap_err();
    assert!(
        e.ends_with("Can't find end tag corresponding to start tag \"b\""),
        "{e}"
    );
    let e = markup::parse("a.b", Some("MarkdownV2")).unwrap_err();
    assert!(e.ends_with("Character '.' is reserved and must be escaped with the preceding '\\'"));
    let p = markup::parse(">引用\n>第二行\n正文", Some("MarkdownV2")).unwrap();
    assert_eq!(p.text, "引用\n第二行\n正文");
    assert_eq!(p.entities[0].kind, "blockquote");
    assert_eq!(
        markup::parse("*粗* _斜_", Some("Markdown")).unwrap().text,
        "粗 斜"
    );
    assert_eq!(markup::utf16_len("党😀"), 3);
}

/// A valid 2×1 PNG.
fn tiny_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&2u32.to_be_bytes());
    png.extend_from_slice(&1u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png
}

#[tokio::test]
async fn multipart_params_are_recorded_like_json() {
    let (api, bot) = setup().await;
    bot.send_document(
        ChatId(GROUP),
        InputFile::memory(b"a".to_vec()).file_name("a.txt"),
    )
    .caption("[第1期] 报表")
    .disable_notification(true)
    .await
    .expect("sendDocument");
    let call = &api.calls_to("sendDocument")[0];
    assert_eq!(call.params["chat_id"], GROUP);
    assert_eq!(call.params["caption"], "[第1期] 报表");
    assert_eq!(call.params["disable_notification"], true);
    assert_eq!(call.uploads[0].file_name, "a.txt");
    assert_eq!(call.uploads[0].bytes, b"a");
}

#[tokio::test]
async fn marks_separate_old_messages_from_new_ones() {
    let (api, bot) = setup().await;
    bot.send_message(ChatId(ZHANG), "已记录").await.unwrap();
    let mark = api.mark();
    let waiter = {
        let api = api.clone();
        tokio::spawn(async move { api.wait_for_text_since(mark, ZHANG, "已记录", T).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished(), "the old message does not count");
    let sent = bot.send_message(ChatId(ZHANG), "又已记录").await.unwrap();
    assert_eq!(waiter.await.unwrap().message_id, sent.id.0);
    assert_eq!(api.messages_since(mark).len(), 1);
}

#[tokio::test]
async fn no_message_assertions_see_old_messages_unless_given_a_mark() {
    let (api, bot) = setup().await;
    bot.send_message(ChatId(ZHANG), "提醒一次").await.unwrap();
    let mark = api.mark();
    api.assert_no_message_since(
        mark,
        ZHANG,
        |m| m.plain_text.contains("提醒"),
        Duration::from_millis(30),
    )
    .await;
    let strict = {
        let api = api.clone();
        tokio::spawn(async move {
            api.assert_no_message(
                ZHANG,
                |m| m.plain_text.contains("提醒"),
                Duration::from_millis(30),
            )
            .await
        })
    };
    assert!(
        strict.await.is_err(),
        "the message sent before the call counts"
    );
}
