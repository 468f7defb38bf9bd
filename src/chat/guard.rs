//! Telling the truth when something fails after a change was stored.
//!
//! Every handler stores its change in one transaction and only then talks to the door. So when
//! a handler fails, two things decide what the person may be told: whether their button press
//! was already answered (Telegram refuses a second answer to one press), and whether the
//! failure was the door's (sending) rather than the store's. [`Tracked`] records the first;
//! [`is_delivery`] says the second.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use crate::chat::{Document, Door, Keyboard, OutFile};
use crate::error::{AppError, AppResult};

/// Whether the error came from talking to the door (Telegram), where the change before it may
/// well have been stored.
pub fn is_delivery(err: &AppError) -> bool {
    matches!(err, AppError::Telegram(_))
}

/// A door that remembers whether a press was answered through it.
pub struct Tracked<'a> {
    inner: &'a dyn Door,
    answered: AtomicBool,
}

impl<'a> Tracked<'a> {
    pub fn new(inner: &'a dyn Door) -> Self {
        Tracked {
            inner,
            answered: AtomicBool::new(false),
        }
    }

    /// An answer was attempted: whether or not Telegram took it, a second one is refused or
    /// would contradict the first.
    pub fn answered(&self) -> bool {
        self.answered.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Door for Tracked<'_> {
    async fn send(&self, chat: i64, html: &str, keyboard: Option<&Keyboard>) -> AppResult<i64> {
        self.inner.send(chat, html, keyboard).await
    }
    async fn edit(
        &self,
        chat: i64,
        message: i64,
        html: &str,
        keyboard: Option<&Keyboard>,
    ) -> AppResult<()> {
        self.inner.edit(chat, message, html, keyboard).await
    }
    async fn clear_buttons(&self, chat: i64, message: i64) -> AppResult<()> {
        self.inner.clear_buttons(chat, message).await
    }
    async fn answer(&self, press: &str, text: Option<&str>, alert: bool) -> AppResult<()> {
        self.answered.store(true, Ordering::SeqCst);
        self.inner.answer(press, text, alert).await
    }
    async fn send_files(&self, chat: i64, files: Vec<OutFile>) -> AppResult<()> {
        self.inner.send_files(chat, files).await
    }
    async fn send_picture(&self, chat: i64, picture: OutFile) -> AppResult<()> {
        self.inner.send_picture(chat, picture).await
    }
    async fn show_working(&self, chat: i64) {
        self.inner.show_working(chat).await;
    }
    async fn is_group_admin(&self, chat: i64, user: i64) -> AppResult<bool> {
        self.inner.is_group_admin(chat, user).await
    }
    async fn download(&self, document: &Document) -> AppResult<Vec<u8>> {
        self.inner.download(document).await
    }
    async fn role_changed(&self, user: i64, admin: bool) {
        self.inner.role_changed(user, admin).await;
    }
    async fn send_contact_request(
        &self,
        chat: i64,
        html: &str,
        button: Option<&str>,
    ) -> AppResult<i64> {
        self.inner.send_contact_request(chat, html, button).await
    }
}
