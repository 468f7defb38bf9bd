//! The conversation both doors share: what people type and press, checked, handed to the
//! service layer, and answered in the words of `texts`.
//!
//! Nothing here knows which door a person came through. The Telegram edge (`telegram`) and the
//! terminal (`console`) turn their input into [`Incoming`] messages and [`Press`]es and implement
//! [`Door`] for the few things only they can do: send, edit, answer a button, hand over a file,
//! say who administers a group. So a command behaves the same in Telegram and in the console,
//! because it is the same code.

pub mod commands;
pub mod guard;
pub mod handlers;
pub mod roles;
pub mod send;
pub mod sweep;

use async_trait::async_trait;

pub use crate::buttons::{Button, CallbackData, Keyboard};
use crate::error::AppResult;

/// A person writing to the bot or pressing one of its buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The Telegram user id; in a private chat it is also the chat's id.
    pub id: i64,
    /// First and last name as Telegram shows them.
    pub name: String,
    /// @username without the @, when the person has one (for /grant @username).
    pub username: Option<String>,
    /// Messages from other bots are ignored, except Telegram's anonymous-admin sender.
    pub is_bot: bool,
}

/// Where a message was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    /// A basic group or a supergroup: branch groups can be either.
    Group,
    /// Channels and anything else the bot does not serve.
    Other,
}

/// A chat the bot is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chat {
    pub id: i64,
    pub kind: ChatKind,
}

impl Chat {
    pub fn is_private(&self) -> bool {
        self.kind == ChatKind::Private
    }
    pub fn is_group(&self) -> bool {
        self.kind == ChatKind::Group
    }
}

/// A file someone sent (a question bank upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The door's handle for fetching the bytes with [`Door::download`].
    pub file_id: String,
    pub file_name: Option<String>,
    /// Size in bytes as announced, checked before downloading.
    pub size: u32,
}

/// A phone number someone shared (the request_contact button, or a forwarded contact card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub phone: String,
    /// The Telegram account the number belongs to, as Telegram says; for the request_contact
    /// button it is the sender's own. A forwarded card may carry someone else's or none.
    pub user_id: Option<i64>,
}

/// A message that reached the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub chat: Chat,
    pub from: Person,
    /// Posted "as the group" by an anonymous group administrator: only administrators can.
    pub as_group_admin: bool,
    /// The text, or a document's caption.
    pub text: Option<String>,
    pub document: Option<Document>,
    /// A group's title: the branch name when a group is bound by an organisation's link.
    pub chat_title: Option<String>,
    pub contact: Option<Contact>,
}

/// A message the bot sent earlier, as a button press points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub chat_id: i64,
    pub message_id: i64,
}

/// A pressed button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    /// Answered once with [`Door::answer`] so the client stops its spinner.
    pub id: String,
    pub from: Person,
    /// The message the button was on; missing when the message is too old.
    pub message: Option<MessageRef>,
    pub data: Option<String>,
}

/// A file the bot hands to a person (reports, templates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub bytes: Vec<u8>,
    /// HTML caption, if any.
    pub caption: Option<String>,
}

/// What only a door can do. Errors are the door's own (a Telegram error, an I/O error); the
/// conversation logs them like any other internal error.
#[async_trait]
pub trait Door: Send + Sync {
    /// Sends an HTML message, with buttons when given; returns the new message's id.
    async fn send(&self, chat: i64, html: &str, keyboard: Option<&Keyboard>) -> AppResult<i64>;
    /// Replaces the text (and the buttons: none when `keyboard` is `None`) of a sent message.
    async fn edit(
        &self,
        chat: i64,
        message: i64,
        html: &str,
        keyboard: Option<&Keyboard>,
    ) -> AppResult<()>;
    /// Takes the buttons off a sent message, leaving its text.
    async fn clear_buttons(&self, chat: i64, message: i64) -> AppResult<()>;
    /// Answers a button press: silently, with a short toast, or with an alert to dismiss.
    async fn answer(&self, press: &str, text: Option<&str>, alert: bool) -> AppResult<()>;
    /// Sends files as documents, together when there are several.
    async fn send_files(&self, chat: i64, files: Vec<OutFile>) -> AppResult<()>;
    /// Sends a picture (the report chart).
    async fn send_picture(&self, chat: i64, picture: OutFile) -> AppResult<()>;
    /// Tells the chat that a slow answer (a report) is being prepared; best effort.
    async fn show_working(&self, chat: i64);
    /// Whether `user` administers the group `chat`; the door's platform is the authority.
    async fn is_group_admin(&self, chat: i64, user: i64) -> AppResult<bool>;
    /// The bytes of a file someone sent.
    async fn download(&self, document: &Document) -> AppResult<Vec<u8>>;
    /// A person became or stopped being an administrator: update their command menu, where
    /// the door has menus. Best effort.
    async fn role_changed(&self, user: i64, admin: bool);
    /// Sends an HTML message with a keyboard button that shares the person's own verified phone
    /// number (`Some(label)`), or takes such a keyboard away (`None`). A door without phone
    /// numbers just sends the text.
    async fn send_contact_request(
        &self,
        chat: i64,
        html: &str,
        button: Option<&str>,
    ) -> AppResult<i64> {
        let _ = button;
        self.send(chat, html, None).await
    }
}
