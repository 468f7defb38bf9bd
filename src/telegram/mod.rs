//! The Telegram edge: the handler tree, commands, button data, role checks and sending.

pub mod callbacks;
pub mod commands;
pub mod handlers;
pub mod roles;
pub mod send;

use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::AppError;
use crate::storage::Db;

/// Everything a handler or the scheduler needs, built once in `app::run` and shared.
#[derive(Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: SharedClock,
    /// Seeded in tests so draws and shuffles are reproducible.
    pub rng: Mutex<StdRng>,
    /// Wakes the scheduler when a change brings the next due time closer.
    pub wake: Arc<Notify>,
    /// The bot's @username, for deep links and for commands addressed as /cmd@bot.
    pub bot_username: String,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Runs `f` with the shared random generator.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }

    /// A deep link that opens a private chat with the bot and sends /start with `payload`.
    pub fn deep_link(&self, payload: &str) -> String {
        format!("https://t.me/{}?start={payload}", self.bot_username)
    }
}

/// The whole update handler tree. Routing by chat kind and command happens in `handlers`,
/// in plain Rust, so one page shows where every update goes.
pub fn schema() -> UpdateHandler<AppError> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(handlers::on_message))
        .branch(Update::filter_callback_query().endpoint(handlers::on_callback))
        .branch(Update::filter_my_chat_member().endpoint(handlers::on_my_chat_member))
}
