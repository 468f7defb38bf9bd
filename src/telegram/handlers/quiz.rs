//! Taking the test in private chat, practice, and one's own scores.

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::User;

use crate::error::AppResult;
use crate::telegram::callbacks::CallbackData;
use crate::telegram::send;
use crate::telegram::AppState;
use crate::texts::common as t;

/// `/test`, the test button of a round announcement (deep link) and the StartTest button:
/// starts the open round's test for this trainee, or resumes it where it stopped.
pub async fn entry(bot: &Bot, chat_id: ChatId, _user: &User, _state: &AppState) -> AppResult<()> {
    send::html(bot, chat_id, t::UNKNOWN_COMMAND).await.map(drop)
}

pub async fn practice(bot: &Bot, msg: &Message, _user: &User, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

pub async fn myscores(bot: &Bot, msg: &Message, _user: &User, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

/// Answer, Toggle, Submit, Practice* and StartTest buttons.
pub async fn on_button(bot: &Bot, query: &CallbackQuery, _data: CallbackData, _state: &AppState) -> AppResult<()> {
    bot.answer_callback_query(query.id.clone()).text(t::STALE_BUTTON).show_alert(true).await?;
    Ok(())
}

/// Scheduler hook: ends attempts whose time limit passed (score stored, trainee told).
pub async fn expire_attempts(_state: &AppState, _now: DateTime<Utc>) -> AppResult<()> {
    Ok(())
}

/// Scheduler hook: the earliest in-progress attempt deadline.
pub async fn next_attempt_deadline(_state: &AppState) -> AppResult<Option<i64>> {
    Ok(None)
}

/// Round closing: finishes every attempt of the round still in progress (scored as answered).
pub async fn finalize_round_attempts(_state: &AppState, _round_id: i64, _now: DateTime<Utc>) -> AppResult<()> {
    Ok(())
}
