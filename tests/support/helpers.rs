//! Steps every end-to-end module takes, kept here once: how long to wait for an expected
//! message, instants in test time, starting the bot, binding a group, asking and pressing.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{BotProcess, CallbackAnswer, FakeApi, SentMessage, TestEnv};

/// How long a test waits for something the bot must do.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long a test waits for the last file of a full `/report`: the summary, the workbook, one
/// CSV per table and the chart go into one chat at Telegram's one message a second (an album
/// counts a message per file), about fifteen seconds in all.
pub const REPORT_WAIT: Duration = Duration::from_secs(40);

/// An instant from RFC 3339 text, e.g. `at("2026-03-10T01:00:30Z")`.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"))
        .to_utc()
}

/// Starts the bot with `env` against `api` and waits until it polls.
pub async fn launch(api: &FakeApi, env: &TestEnv) -> BotProcess {
    let mut bot = BotProcess::spawn(api, env);
    bot.wait_until_polling().await;
    bot
}

/// `/bind <args>` by a group administrator, waiting for the confirmation.
pub async fn bind(api: &FakeApi, admin: i64, group: i64, args: &str) -> SentMessage {
    let mark = api.mark();
    api.push_text(admin, group, &format!("/bind {args}"));
    api.wait_for_text_since(mark, group, "已将本群绑定为支部", WAIT)
        .await
}

/// Sends `text` and returns the bot's first reply in `chat`.
pub async fn ask(api: &FakeApi, from: i64, chat: i64, text: &str) -> SentMessage {
    let mark = api.mark();
    api.push_text(from, chat, text);
    api.wait_until("a reply", WAIT, |api| {
        api.messages_since(mark)
            .into_iter()
            .find(|m| m.chat_id == chat)
    })
    .await
}

/// Presses a button and waits for the bot's answer to the press.
pub async fn press(api: &FakeApi, user: i64, msg: &SentMessage, data: &str) -> CallbackAnswer {
    let id = api.push_callback(user, msg.chat_id, msg.message_id, data);
    api.wait_for_callback_answer(&id, WAIT).await
}

/// Presses the button labelled `label` on `msg` and waits for the bot's answer.
pub async fn press_label(
    api: &FakeApi,
    user: i64,
    msg: &SentMessage,
    label: &str,
) -> CallbackAnswer {
    let data = msg
        .callback_data(label)
        .unwrap_or_else(|| panic!("no button {label:?} on the message"));
    press(api, user, msg, &data).await
}

/// A message the bot sent, in its current state.
pub fn message(api: &FakeApi, chat: i64, id: i32) -> SentMessage {
    api.messages_in(chat)
        .into_iter()
        .find(|m| m.message_id == id)
        .expect("the message exists")
}

/// How many text messages in `chat` contain `needle`.
pub fn count_containing(api: &FakeApi, chat: i64, needle: &str) -> usize {
    api.messages_in(chat)
        .iter()
        .filter(|m| m.plain_text.contains(needle))
        .count()
}

/// Every call the bot made (polling aside) was accepted by the fake Telegram.
pub fn assert_every_call_accepted(api: &FakeApi) {
    for call in api.calls_without_polling() {
        assert!(
            call.ok(),
            "{} refused: {:?}",
            call.method,
            call.error_description()
        );
    }
}
