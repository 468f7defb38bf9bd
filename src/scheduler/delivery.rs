//! Delivering the outbox.
//!
//! The guarantee is **at-least-once, with a one-request window**: a row is claimed (`sending`),
//! handed to the door's [`Outlet`] (Telegram's respects the Bot API's rate limits), then marked
//! `sent` at once, before anything else is awaited. Only a crash (or a failed write) after
//! Telegram accepted the message and before the mark is stored can send it twice: the row is
//! left `sending`, and the next start puts it back to `pending`. A crash anywhere else neither
//! loses nor doubles a message: before the claim or the send, the row is still pending or comes
//! back to pending unsent; after the mark, it is `sent` and never taken again.
//!
//! Failures the outlet calls transient are retried later; a chat the bot was removed from fails
//! that row only, without blocking the others. A retry moves only the row's next attempt: the
//! row keeps the instant it fell due, from which lateness (补发) is judged. The back-off is
//! capped ([`MAX_BACKOFF_SECS`]), and the first message that goes through after failures pulls
//! every held retry forward, so delivery is back at the full allowed rate within seconds of the
//! Bot API answering again. An outage is logged when it starts and when it ends, not per message.

use async_trait::async_trait;
use futures::StreamExt;

use crate::buttons::Keyboard;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox::{self, Due};
use crate::texts::calendar as texts;

/// A reminder sent this long after its due time is marked as late (补发).
pub const LATE_AFTER_SECS: i64 = 300;
/// Transient failures are retried this many times before the row is given up as failed: with
/// the back-off capped at [`MAX_BACKOFF_SECS`], about an hour of trying.
pub const MAX_ATTEMPTS: i64 = 120;
/// The longest wait between two tries of one row. A longer wait would leave messages held long
/// after Telegram answers again; a probe every 30 s while it does not is cheap.
pub const MAX_BACKOFF_SECS: i64 = 30;
/// Tries at recording a send Telegram accepted, before the row is left to the next start.
const MARK_TRIES: u32 = 3;
/// Rows sent at once; the outlet orders them per chat.
const CONCURRENCY: usize = 16;
const BATCH: i64 = 500;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent { message_id: i64 },
    Skipped(&'static str),
    Retry { at: i64, error: String },
    Failed(String),
}

/// One queued message on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing<'a> {
    pub chat_id: i64,
    pub html: &'a str,
    pub keyboard: Option<&'a Keyboard>,
    /// How many tries went before this one, for the outlet's back-off.
    pub attempts: i64,
    pub now: i64,
}

/// Where the outbox's messages go: Telegram, or the console's screen.
#[async_trait]
pub trait Outlet: Send + Sync {
    async fn deliver(&self, message: Outgoing<'_>) -> Outcome;
}

/// Seconds to wait before try `attempt + 1` after a transient failure: doubling from 2 s, at
/// most [`MAX_BACKOFF_SECS`].
pub fn backoff(attempt: i64) -> i64 {
    (1i64 << attempt.clamp(1, 6)).min(MAX_BACKOFF_SECS)
}

/// When the current run of transient failures began (`None` while sends go through): the
/// outage is logged once when it begins and once when it ends. Process-wide, like the Bot API
/// it describes; it only decides what is logged.
static FAILING_SINCE: std::sync::Mutex<Option<i64>> = std::sync::Mutex::new(None);

/// Sends every row due by `now`; returns how many were sent.
pub async fn deliver_due(state: &AppState, outlet: &dyn Outlet, now: i64) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let rows = outbox::due(&state.db, now, BATCH).await?;
        if rows.is_empty() {
            return Ok(sent);
        }
        let count = rows.len();
        let results: Vec<AppResult<bool>> = futures::stream::iter(rows)
            .map(|row| deliver_one(state, outlet, row, now))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for result in results {
            if result? {
                sent += 1;
            }
        }
        if (count as i64) < BATCH {
            return Ok(sent);
        }
    }
}

async fn deliver_one(state: &AppState, outlet: &dyn Outlet, row: Due, now: i64) -> AppResult<bool> {
    if row.expires_at.is_some_and(|expiry| expiry <= now) {
        outbox::mark_skipped(&state.db, row.id, "expired before it could be sent").await?;
        tracing::info!(key = %row.key, "reminder no longer matters; recorded as skipped");
        return Ok(false);
    }
    if !outbox::claim(&state.db, row.id).await? {
        return Ok(false);
    }
    let db = &state.db;
    match send(outlet, &row, now).await {
        // The window of at-least-once: record a send Telegram accepted before anything else.
        Outcome::Sent { message_id } => {
            record_sent(state, &row, message_id, now).await?;
            came_back(state, &row, now).await?;
            return Ok(true);
        }
        Outcome::Skipped(reason) => outbox::mark_skipped(db, row.id, reason).await?,
        Outcome::Retry { at, error } => {
            went_wrong(&row, &error, now);
            outbox::retry_later(db, row.id, at, &error).await?
        }
        Outcome::Failed(error) => {
            tracing::warn!(key = %row.key, chat = row.chat_id, error = %error, "send failed for good");
            outbox::mark_failed(db, row.id, &error).await?
        }
    }
    Ok(false)
}

/// Marks a sent row, trying again briefly if the write fails. A row that cannot be marked stays
/// `sending`: no pass takes it again (nor counts it as due), and the next start re-queues it,
/// which is the one way a message goes out twice.
async fn record_sent(state: &AppState, row: &Due, message_id: i64, now: i64) -> AppResult<()> {
    let late = now - row.due_at > LATE_AFTER_SECS;
    let mut tries = 0;
    loop {
        let result =
            outbox::mark_sent(&state.db, row.id, message_id, late, state.now().timestamp()).await;
        tries += 1;
        match result {
            Ok(()) => return Ok(()),
            Err(err) if tries >= MARK_TRIES => {
                tracing::error!(key = %row.key, error = %err, "sent, but could not record it; it will be sent again after a restart");
                return Err(err);
            }
            Err(err) => {
                tracing::warn!(key = %row.key, error = %err, "could not record a send; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(tries))).await;
            }
        }
    }
}

/// A transient failure: the first one of an outage is logged as a warning, the rest quietly.
fn went_wrong(row: &Due, error: &str, now: i64) {
    let mut since = FAILING_SINCE.lock().unwrap_or_else(|e| e.into_inner());
    if since.is_none() {
        *since = Some(now);
        tracing::warn!(key = %row.key, error = %error, "sending failed; holding messages in the outbox and retrying (further failures are logged at debug level until a retry goes through)");
    } else {
        tracing::debug!(key = %row.key, attempt = row.attempts + 1, error = %error, "send failed; will retry");
    }
}

/// A send went through. If it was a retry, the Bot API answers again after failing: every
/// retry still held back goes out now instead of at the end of its back-off, and the end of the
/// failures is logged. A first try going through proves less (one message may fail while
/// others pass), so it releases nothing.
async fn came_back(state: &AppState, row: &Due, now: i64) -> AppResult<()> {
    if row.attempts == 0 {
        return Ok(());
    }
    let since = FAILING_SINCE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let released = outbox::retry_held_now(&state.db, now).await?;
    if since.is_some() || released > 0 {
        tracing::info!(
            failing_for_secs = since.map(|since| now - since),
            released,
            "sending works again; held messages go out now"
        );
    }
    if released > 0 {
        state.wake.notify_one();
    }
    Ok(())
}

async fn send(outlet: &dyn Outlet, row: &Due, now: i64) -> Outcome {
    let keyboard = match row.markup.as_deref().map(Keyboard::from_json) {
        Some(Some(keyboard)) => Some(keyboard),
        Some(None) => return Outcome::Failed("stored keyboard is not valid JSON".to_owned()),
        None => None,
    };
    let late = now - row.due_at > LATE_AFTER_SECS;
    let text = if late {
        format!("{}{}", texts::LATE_PREFIX, row.text)
    } else {
        row.text.clone()
    };
    outlet
        .deliver(Outgoing {
            chat_id: row.chat_id,
            html: &text,
            keyboard: keyboard.as_ref(),
            attempts: row.attempts,
            now,
        })
        .await
}

#[cfg(test)]
mod tests;
