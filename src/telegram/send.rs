//! Sending replies: HTML parse mode, no link previews, long texts split under Telegram's limit.

use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, LinkPreviewOptions, ParseMode};

use crate::error::AppResult;

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sends an HTML message (split into several if longer than Telegram allows).
pub async fn html(bot: &Bot, chat_id: ChatId, text: &str) -> AppResult<Message> {
    let mut parts =
        crate::domain::quiz::split_message(text, crate::domain::quiz::TELEGRAM_TEXT_LIMIT)
            .into_iter()
            .peekable();
    loop {
        let part = parts.next().unwrap_or_default();
        let sent = bot
            .send_message(chat_id, part)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview())
            .await?;
        if parts.peek().is_none() {
            return Ok(sent);
        }
    }
}

/// Sends an HTML message with inline buttons.
pub async fn html_with_buttons(
    bot: &Bot,
    chat_id: ChatId,
    text: &str,
    buttons: InlineKeyboardMarkup,
) -> AppResult<Message> {
    Ok(bot
        .send_message(chat_id, text)
        .parse_mode(ParseMode::Html)
        .link_preview_options(no_preview())
        .reply_markup(buttons)
        .await?)
}

/// Escapes user-supplied text for HTML parse mode.
pub fn esc(text: &str) -> String {
    teloxide::utils::html::escape(text)
}
