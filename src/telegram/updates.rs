//! Telegram's updates, read by long polling and each handed to its chat's lane.
//!
//! teloxide's `Dispatcher` would pass every update through a channel to a worker task, copy its
//! dependency map and run a handler tree before our handler put the update in its lane: one task
//! hop, one wake-up and copies of the message more per update than a lane needs (issue 14). The
//! bot handles three kinds of update, every one in a lane, so it reads them itself with the same
//! long polling teloxide's dispatcher uses (`Polling`: its offset, its back-off after errors and
//! its orderly stop) and routes each with one `match` ([`super::hand_over`]).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use teloxide::stop::StopToken;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};
use teloxide::Bot;

use super::{Api, Lanes};
use crate::service::AppState;

/// The kinds of update [`super::hand_over`] handles; Telegram is asked for these alone.
pub const ALLOWED: [AllowedUpdate; 3] = [
    AllowedUpdate::Message,
    AllowedUpdate::CallbackQuery,
    AllowedUpdate::MyChatMember,
];

/// How long one `getUpdates` waits for something to happen before it is asked again
/// (teloxide's default for its dispatcher).
const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// The long polling of one bot token, with the token that stops it.
pub struct Updates {
    polling: Polling<Bot>,
    stop: StopToken,
}

impl Updates {
    /// Removes a webhook if one is set (Telegram refuses `getUpdates` while it is) and gets
    /// ready to poll; nothing is read until [`Updates::run`].
    pub async fn new(bot: Bot) -> Updates {
        let mut polling = Polling::builder(bot)
            .timeout(POLL_TIMEOUT)
            .allowed_updates(ALLOWED.to_vec())
            .delete_webhook()
            .await
            .build();
        let stop = polling.stop_token();
        Updates { polling, stop }
    }

    /// Stops [`Updates::run`]: the `getUpdates` in flight is dropped, the updates already read
    /// are confirmed to Telegram (so none comes twice after a restart) and handed over, then
    /// `run` waits for every lane to finish. Safe to call at any time, more than once.
    pub fn stopper(&self) -> StopToken {
        self.stop.clone()
    }

    /// Reads updates and hands each to its chat's lane until stopped, then waits until every
    /// queued update is handled. A failed `getUpdates` is logged; `Polling` waits (longer each
    /// time, or as long as Telegram asks) before the next.
    pub async fn run(mut self, state: Arc<AppState>, api: Arc<Api>, lanes: Arc<Lanes>) {
        {
            let stream = self.polling.as_stream();
            tokio::pin!(stream);
            while let Some(update) = stream.next().await {
                match update {
                    Ok(update) => super::hand_over(update, &state, &api, &lanes),
                    Err(err) => {
                        tracing::warn!(error = %err, "could not read updates from Telegram; trying again")
                    }
                }
            }
        }
        lanes.drain().await;
    }
}
