//! The Telegram edge: turns updates into the conversation's [`Incoming`] messages and
//! [`Press`]es, and implements [`Door`] with Bot API calls. Nothing here decides anything; the
//! rules are in `service`, the conversation in `chat`.

pub mod api;
pub mod delivery;
pub mod lanes;
pub mod limiter;
pub mod menus;
pub mod network;
pub mod updates;

pub use api::{Api, Kind};
pub use lanes::Lanes;
pub use updates::Updates;

use async_trait::async_trait;
use teloxide::net::Download;
use teloxide::payloads::{
    EditMessageTextSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters,
};
use teloxide::prelude::*;
use teloxide::types::{
    ButtonRequest, ChatAction, ChatMemberStatus, ChatMemberUpdated, InlineKeyboardMarkup,
    InputFile, InputMedia, InputMediaDocument, KeyboardButton, KeyboardMarkup, KeyboardRemove,
    LinkPreviewOptions, MessageId, ParseMode, ReplyMarkup, UpdateKind, User,
};

use crate::chat::{self, Door, Incoming, Keyboard, OutFile, Person, Press};
use crate::error::{AppError, AppResult};
use crate::service::AppState;

use std::sync::Arc;

/// Telegram sends at most ten files in one album.
const MAX_ALBUM: usize = 10;

/// Hands an update to its chat's lane (see [`lanes`]): handled after the chat's earlier updates,
/// beside other chats', and [`updates`] is free to read the next one at once. The bot asks
/// Telegram for these three kinds only ([`updates::ALLOWED`]); anything else is left alone.
pub fn hand_over(update: Update, state: &Arc<AppState>, api: &Arc<Api>, lanes: &Lanes) {
    match update.kind {
        UpdateKind::Message(msg) => {
            let chat = msg.chat.id.0;
            lanes.submit(
                chat,
                Box::pin(handle_message(Arc::clone(api), msg, Arc::clone(state))),
            );
        }
        UpdateKind::CallbackQuery(query) => on_callback(api, lanes, &query, state),
        UpdateKind::MyChatMember(member) => on_my_chat_member(lanes, &member, state),
        // Telegram sent something this teloxide cannot parse: nothing to route it by.
        UpdateKind::Error(_) => {
            tracing::warn!(
                update = update.id.0,
                "an update that could not be read; skipped"
            );
        }
        _ => {}
    }
}

async fn handle_message(api: Arc<Api>, msg: Message, state: Arc<AppState>) {
    // A basic group upgraded to a supergroup gets a new chat id; Telegram tells both chats.
    if let Some(to) = msg.migrate_to_chat_id() {
        return log_failure(chat::handlers::follow_migration(&state, msg.chat.id.0, to.0).await);
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        return log_failure(chat::handlers::follow_migration(&state, from.0, msg.chat.id.0).await);
    }
    if let Some(incoming) = incoming(&msg) {
        chat::handlers::on_message(&TelegramDoor::new(api), &incoming, &state).await;
    }
}

fn on_callback(api: &Arc<Api>, lanes: &Lanes, query: &CallbackQuery, state: &Arc<AppState>) {
    let press = Press {
        id: query.id.0.clone(),
        from: person(&query.from),
        message: query.message.as_ref().map(|m| chat::MessageRef {
            chat_id: m.chat().id.0,
            message_id: i64::from(m.id().0),
        }),
        data: query.data.clone(),
    };
    // A press on a message of an inline query has no chat: the presser's own lane.
    let lane = press.message.map_or(press.from.id, |m| m.chat_id);
    let (api, state) = (Arc::clone(api), Arc::clone(state));
    lanes.submit(
        lane,
        Box::pin(async move {
            chat::handlers::on_press(&TelegramDoor::new(api), &press, &state).await;
        }),
    );
}

fn on_my_chat_member(lanes: &Lanes, update: &ChatMemberUpdated, state: &Arc<AppState>) {
    let removed = update.old_chat_member.is_present() && !update.new_chat_member.is_present();
    if removed {
        let chat_id = update.chat.id.0;
        let event_at = update.date.timestamp();
        let state = Arc::clone(state);
        lanes.submit(
            chat_id,
            Box::pin(async move {
                log_failure(chat::handlers::on_removed_from_group(&state, chat_id, event_at).await);
            }),
        );
    }
}

/// Errors outside a conversation (no one to apologise to) are logged: a lane's job has no
/// caller to return them to.
fn log_failure(result: AppResult<()>) {
    if let Err(err) = result {
        tracing::error!(error = %err, "update handler failed");
    }
}

fn person(user: &User) -> Person {
    Person {
        id: user.id.0 as i64,
        name: user.full_name(),
        username: user.username.clone(),
        is_bot: user.is_bot,
    }
}

/// The conversation's view of a message; `None` for messages with no sender (channel posts).
fn incoming(msg: &Message) -> Option<Incoming> {
    let from = msg.from.as_ref()?;
    let kind = if msg.chat.is_private() {
        chat::ChatKind::Private
    } else if msg.chat.is_group() || msg.chat.is_supergroup() {
        chat::ChatKind::Group
    } else {
        chat::ChatKind::Other
    };
    Some(Incoming {
        chat: chat::Chat {
            id: msg.chat.id.0,
            kind,
        },
        from: person(from),
        // A group administrator posting "as the group" arrives from Telegram's anonymous-admin
        // bot with the group itself as sender; only administrators can do that.
        as_group_admin: msg
            .sender_chat
            .as_ref()
            .is_some_and(|c| c.id == msg.chat.id),
        // A document's caption is its text (a roster sent with "/roster"); other media's are not.
        text: msg
            .text()
            .or(msg.document().and(msg.caption()))
            .map(str::to_owned),
        document: msg.document().map(|d| chat::Document {
            file_id: d.file.id.0.clone(),
            file_name: d.file_name.clone(),
            size: d.file.size,
        }),
        chat_title: msg.chat.title().map(str::to_owned),
        contact: msg.contact().map(|c| chat::Contact {
            phone: c.phone_number.clone(),
            user_id: c.user_id.map(|id| id.0 as i64),
        }),
    })
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// The conversation's keyboard as teloxide's type: the JSON shapes are the same.
pub fn markup(keyboard: &Keyboard) -> AppResult<InlineKeyboardMarkup> {
    serde_json::from_str(&keyboard.to_json())
        .map_err(|e| AppError::Report(format!("keyboard does not convert: {e}")))
}

/// A file for an upload; built anew for each try, since a request takes its file by value.
fn input_file(file: &OutFile) -> InputFile {
    InputFile::memory(file.bytes.clone()).file_name(file.name.clone())
}

fn message_id(id: i64) -> MessageId {
    MessageId(i32::try_from(id).unwrap_or_default())
}

/// [`Door`] over the Bot API: every request through the shared [`Api`], so it keeps the rate
/// limits the outbox keeps, waits out 429s and retries a passing failure briefly.
pub struct TelegramDoor {
    api: Arc<Api>,
}

impl TelegramDoor {
    pub fn new(api: Arc<Api>) -> TelegramDoor {
        TelegramDoor { api }
    }
}

#[async_trait]
impl Door for TelegramDoor {
    async fn send(&self, chat: i64, html: &str, keyboard: Option<&Keyboard>) -> AppResult<i64> {
        let markup = keyboard.map(markup).transpose()?;
        let sent = self
            .api
            .call("sendMessage", Kind::Send { chat }, |bot| {
                let request = bot
                    .send_message(ChatId(chat), html)
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview())
                    .allow_paid_broadcast(self.api.paid_broadcast());
                match &markup {
                    Some(markup) => request.reply_markup(markup.clone()),
                    None => request,
                }
            })
            .await?;
        Ok(i64::from(sent.id.0))
    }

    async fn edit(
        &self,
        chat: i64,
        message: i64,
        html: &str,
        keyboard: Option<&Keyboard>,
    ) -> AppResult<()> {
        let markup = keyboard.map(markup).transpose()?;
        self.api
            .call("editMessageText", Kind::Edit { chat }, |bot| {
                let request = bot
                    .edit_message_text(ChatId(chat), message_id(message), html)
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview());
                match &markup {
                    Some(markup) => request.reply_markup(markup.clone()),
                    None => request,
                }
            })
            .await?;
        Ok(())
    }

    async fn clear_buttons(&self, chat: i64, message: i64) -> AppResult<()> {
        self.api
            .call("editMessageReplyMarkup", Kind::Edit { chat }, |bot| {
                bot.edit_message_reply_markup(ChatId(chat), message_id(message))
            })
            .await?;
        Ok(())
    }

    async fn answer(&self, press: &str, text: Option<&str>, alert: bool) -> AppResult<()> {
        self.api
            .call("answerCallbackQuery", Kind::Direct, |bot| {
                let request =
                    bot.answer_callback_query(teloxide::types::CallbackQueryId(press.to_owned()));
                match text {
                    Some(text) => request.text(text).show_alert(alert),
                    None => request,
                }
            })
            .await?;
        Ok(())
    }

    /// Files as document albums of up to ten; a lone file goes as a plain document (an album
    /// needs at least two).
    async fn send_files(&self, chat: i64, files: Vec<OutFile>) -> AppResult<()> {
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            let chunk: Vec<OutFile> = files.by_ref().take(MAX_ALBUM).collect();
            if let [file] = chunk.as_slice() {
                self.api
                    .call("sendDocument", Kind::Upload { chat, files: 1 }, |bot| {
                        let request = bot.send_document(ChatId(chat), input_file(file));
                        match &file.caption {
                            Some(caption) => request.caption(caption).parse_mode(ParseMode::Html),
                            None => request,
                        }
                    })
                    .await?;
                continue;
            }
            self.api
                .call(
                    "sendMediaGroup",
                    Kind::Upload {
                        chat,
                        files: chunk.len(),
                    },
                    |bot| {
                        let media: Vec<InputMedia> = chunk
                            .iter()
                            .map(|file| {
                                let doc = InputMediaDocument::new(input_file(file));
                                InputMedia::Document(match &file.caption {
                                    Some(caption) => {
                                        doc.caption(caption).parse_mode(ParseMode::Html)
                                    }
                                    None => doc,
                                })
                            })
                            .collect();
                        bot.send_media_group(ChatId(chat), media)
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn send_picture(&self, chat: i64, picture: OutFile) -> AppResult<()> {
        self.api
            .call("sendPhoto", Kind::Upload { chat, files: 1 }, |bot| {
                let request = bot.send_photo(ChatId(chat), input_file(&picture));
                match &picture.caption {
                    Some(caption) => request.caption(caption).parse_mode(ParseMode::Html),
                    None => request,
                }
            })
            .await?;
        Ok(())
    }

    async fn show_working(&self, chat: i64) {
        let _ = self
            .api
            .bot()
            .send_chat_action(ChatId(chat), ChatAction::UploadDocument)
            .await;
    }

    /// Telegram is the authority on who administers a group. Supergroups count too:
    /// `ChatId::is_group` is true only for basic groups, and most branch groups are supergroups.
    async fn is_group_admin(&self, chat: i64, user: i64) -> AppResult<bool> {
        let chat = ChatId(chat);
        if !(chat.is_group() || chat.is_channel_or_supergroup()) {
            return Ok(false);
        }
        let Ok(user) = u64::try_from(user) else {
            return Ok(false);
        };
        let member = self
            .api
            .call("getChatMember", Kind::Direct, |bot| {
                bot.get_chat_member(chat, UserId(user))
            })
            .await?;
        Ok(matches!(
            member.status(),
            ChatMemberStatus::Owner | ChatMemberStatus::Administrator
        ))
    }

    async fn download(&self, document: &chat::Document) -> AppResult<Vec<u8>> {
        let file = self
            .api
            .call("getFile", Kind::Direct, |bot| {
                bot.get_file(teloxide::types::FileId(document.file_id.clone()))
            })
            .await?;
        let mut bytes = Vec::new();
        self.api.bot().download_file(&file.path, &mut bytes).await?;
        Ok(bytes)
    }

    async fn send_contact_request(
        &self,
        chat: i64,
        html: &str,
        button: Option<&str>,
    ) -> AppResult<i64> {
        let markup = match button {
            Some(label) => ReplyMarkup::Keyboard(
                KeyboardMarkup::new([[KeyboardButton::new(label).request(ButtonRequest::Contact)]])
                    .resize_keyboard()
                    .one_time_keyboard(),
            ),
            None => ReplyMarkup::KeyboardRemove(KeyboardRemove::new()),
        };
        let sent = self
            .api
            .call("sendMessage", Kind::Send { chat }, |bot| {
                bot.send_message(ChatId(chat), html)
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview())
                    .reply_markup(markup.clone())
            })
            .await?;
        Ok(i64::from(sent.id.0))
    }

    async fn role_changed(&self, user: i64, admin: bool) {
        let result = if admin {
            menus::register_admin(self.api.bot(), user).await
        } else {
            menus::unregister_admin(self.api.bot(), user).await
        };
        if let Err(err) = result {
            tracing::warn!(user, error = %err, "could not update the command menu");
        }
    }
}
