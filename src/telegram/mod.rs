//! The Telegram edge: the handler tree, commands, button data, role checks and sending.

pub mod callbacks;
pub mod commands;
pub mod handlers;
pub mod roles;
pub mod send;

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;

use crate::error::AppError;

/// The whole update handler tree. Routing by chat kind and command happens in `handlers`,
/// in plain Rust, so one page shows where every update goes.
pub fn schema() -> UpdateHandler<AppError> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(handlers::on_message))
        .branch(Update::filter_callback_query().endpoint(handlers::on_callback))
        .branch(Update::filter_my_chat_member().endpoint(handlers::on_my_chat_member))
}
