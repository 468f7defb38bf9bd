//! Administrators in private chat: the test calendar (/rounds) and the question bank
//! (/bank, uploading a TOML or Excel bank, confirming it).

use teloxide::prelude::*;
use teloxide::types::User;

use crate::error::AppResult;
use crate::telegram::callbacks::CallbackData;
use crate::telegram::send;
use crate::telegram::AppState;
use crate::texts::common as t;

pub async fn rounds(bot: &Bot, msg: &Message, _user: &User, _args: &str, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

pub async fn bank(bot: &Bot, msg: &Message, _user: &User, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

/// A document sent in private chat: a question bank upload (administrators only).
pub async fn on_document(bot: &Bot, msg: &Message, _user: &User, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::PRIVATE_HINT).await.map(drop)
}

/// ConfirmUpload and CancelUpload buttons.
pub async fn on_upload_button(bot: &Bot, query: &CallbackQuery, _data: CallbackData, _state: &AppState) -> AppResult<()> {
    bot.answer_callback_query(query.id.clone()).text(t::STALE_BUTTON).show_alert(true).await?;
    Ok(())
}
