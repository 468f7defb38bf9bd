//! Replies: HTML text, long texts split under Telegram's limit, user text escaped.

use crate::chat::{Door, Keyboard};
use crate::error::AppResult;
use crate::texts::split::{split_message, TELEGRAM_TEXT_LIMIT};

/// Sends an HTML message (split into several if longer than Telegram allows); returns the id of
/// the last part.
pub async fn html(door: &dyn Door, chat: i64, text: &str) -> AppResult<i64> {
    let mut last = 0;
    for part in split_message(text, TELEGRAM_TEXT_LIMIT) {
        last = door.send(chat, &part, None).await?;
    }
    Ok(last)
}

/// Sends an HTML message with buttons under it.
pub async fn html_with_buttons(
    door: &dyn Door,
    chat: i64,
    text: &str,
    buttons: &Keyboard,
) -> AppResult<i64> {
    door.send(chat, text, Some(buttons)).await
}

/// Escapes user-supplied text for HTML parse mode.
pub fn esc(text: &str) -> String {
    crate::texts::esc(text)
}
