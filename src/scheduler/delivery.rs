//! Delivering the outbox.
//!
//! Send first, then mark as sent: a row is claimed (`sending`), handed to the door's
//! [`Outlet`] (Telegram's respects the Bot API's rate limits), then marked `sent`. A crash
//! between the send and the mark leaves the row `sending`, and start-up puts it back to
//! `pending`: such a message may be sent twice, within a window of one request, and no
//! reminder is ever lost.
//!
//! Failures the outlet calls transient are retried later; a chat the bot was removed from fails
//! that row only, without blocking the others.

use async_trait::async_trait;
use futures::StreamExt;

use crate::buttons::Keyboard;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox::{self, Due};
use crate::texts::calendar as texts;

/// A reminder sent this long after its due time is marked as late (补发).
pub const LATE_AFTER_SECS: i64 = 300;
/// Transient failures are retried this many times before the row is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;
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
    let outcome = send(outlet, &row, now).await;
    let late = now - row.due_at > LATE_AFTER_SECS;
    let db = &state.db;
    match &outcome {
        Outcome::Sent { message_id } => {
            outbox::mark_sent(db, row.id, *message_id, late, state.now().timestamp()).await?
        }
        Outcome::Skipped(reason) => outbox::mark_skipped(db, row.id, reason).await?,
        Outcome::Retry { at, error } => {
            tracing::warn!(key = %row.key, attempt = row.attempts + 1, error = %error, "send failed; will retry");
            outbox::retry_later(db, row.id, *at, error).await?
        }
        Outcome::Failed(error) => {
            tracing::warn!(key = %row.key, chat = row.chat_id, error = %error, "send failed for good");
            outbox::mark_failed(db, row.id, error).await?
        }
    }
    Ok(matches!(outcome, Outcome::Sent { .. }))
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
