//! Taking the buttons off messages whose question is over.
//!
//! An attempt ended by the time limit or by its round closing ends in the scheduler, which
//! has no door; the ending queues the messages still showing buttons (`storage::keyboards`),
//! and this sweep, run by each door, takes the buttons off. Presses on them were refused
//! already; this makes the chat say so too.

use std::time::Duration;

use tokio::sync::watch;

use crate::chat::Door;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::keyboards;

/// Messages cleared per sweep.
const BATCH: i64 = 50;
/// Tries before a message is given up (deleted, blocked bot, or a long outage).
const MAX_TRIES: i64 = 5;
/// How often the bot looks for stale buttons.
const EVERY: Duration = Duration::from_secs(1);

/// Clears what is queued; returns how many messages lost their buttons.
pub async fn sweep(door: &dyn Door, state: &AppState) -> AppResult<usize> {
    let mut cleared = 0;
    for stale in keyboards::pending(&state.db, BATCH).await? {
        match door.clear_buttons(stale.chat_id, stale.message_id).await {
            Ok(()) => {
                cleared += 1;
                keyboards::done(&state.db, stale.chat_id, stale.message_id).await?;
            }
            Err(err) if stale.tries + 1 >= MAX_TRIES => {
                tracing::warn!(chat = stale.chat_id, error = %err, "gave up removing stale buttons");
                keyboards::done(&state.db, stale.chat_id, stale.message_id).await?;
            }
            Err(err) => {
                tracing::debug!(chat = stale.chat_id, error = %err, "stale buttons stay for now");
                keyboards::tried(&state.db, stale.chat_id, stale.message_id).await?;
            }
        }
    }
    Ok(cleared)
}

/// Sweeps every second until `stop` turns true.
pub async fn run(
    door: impl Door,
    state: std::sync::Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(err) = sweep(&door, &state).await {
            tracing::warn!(error = %err, "sweeping stale buttons failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            // A dropped sender means nobody can stop us any more: the bot is going down.
            changed = stop.changed() => if changed.is_err() { return; },
        }
        if *stop.borrow() {
            return;
        }
    }
}
