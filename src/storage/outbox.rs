//! The outbox: every reminder and announcement is a row before it is a message.
//!
//! Rows are written in the same transaction as the change that causes them, keyed by
//! (what, for whom, which occurrence) so planning the same thing twice inserts nothing. The
//! delivery loop sends a row and then marks it sent; see `scheduler::delivery`.

use sqlx::{Executor, Sqlite};

use crate::error::AppResult;
use crate::storage::Db;

/// A message to be sent at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Unique per (what, for whom, which occurrence).
    pub key: String,
    /// What the message is about, so a change (meeting held or moved) can cancel what is pending.
    pub topic: Option<String>,
    pub chat_id: i64,
    /// HTML parse mode.
    pub text: String,
    /// Inline keyboard as JSON.
    pub markup: Option<String>,
    pub due_at: i64,
    /// After this instant the message no longer matters and is recorded as skipped.
    pub expires_at: Option<i64>,
}

/// A row ready for delivery.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub key: String,
    pub chat_id: i64,
    pub text: String,
    pub markup: Option<String>,
    pub due_at: i64,
    pub expires_at: Option<i64>,
    pub attempts: i64,
}

/// Queues a message; false when one with the same key was queued before.
pub async fn enqueue<'c, E>(executor: E, msg: &NewMessage, now: i64) -> AppResult<bool>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "INSERT INTO outbox (dedup_key, topic, chat_id, text, reply_markup, due_at, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedup_key) DO NOTHING",
        msg.key,
        msg.topic,
        msg.chat_id,
        msg.text,
        msg.markup,
        msg.due_at,
        msg.expires_at,
        now
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels what is still pending about `topic` (the meeting was held or moved).
pub async fn cancel_topic<'c, E>(executor: E, topic: &str) -> AppResult<u64>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "UPDATE outbox SET status = 'skipped', last_error = 'cancelled' WHERE topic = ? AND status = 'pending'",
        topic
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Rows left `sending` by a crash go back to `pending`: the send may or may not have reached
/// Telegram, and a reminder sent twice is better than one silently lost.
pub async fn recover_in_flight(db: &Db) -> AppResult<u64> {
    let done = sqlx::query!("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

pub async fn due(db: &Db, now: i64, limit: i64) -> AppResult<Vec<Due>> {
    Ok(sqlx::query_as!(
        Due,
        r#"SELECT id AS "id!", dedup_key AS key, chat_id, text, reply_markup AS markup, due_at, expires_at, attempts
           FROM outbox WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?"#,
        now,
        limit
    )
    .fetch_all(db)
    .await?)
}

/// Claims a row for sending; false when another pass already took it.
pub async fn claim(db: &Db, id: i64) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_sent(db: &Db, id: i64, message_id: i64, late: bool, now: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'sent', message_id = ?, late = ?, sent_at = ?, last_error = NULL WHERE id = ?",
        message_id,
        late,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_skipped(db: &Db, id: i64, reason: &str) -> AppResult<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'skipped', last_error = ? WHERE id = ? AND status IN ('pending', 'sending')",
        reason,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_failed(db: &Db, id: i64, error: &str) -> AppResult<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
        error,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a row back to be tried again at `retry_at`.
pub async fn retry_later(db: &Db, id: i64, retry_at: i64, error: &str) -> AppResult<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'pending', due_at = ?, last_error = ? WHERE id = ?",
        retry_at,
        error,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn next_due(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(due_at) AS "due: i64" FROM outbox WHERE status IN ('pending', 'sending')"#
    )
    .fetch_one(db)
    .await?)
}

/// Status of a row by key, for tests and diagnostics.
pub async fn status_of(db: &Db, key: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT status FROM outbox WHERE dedup_key = ?", key)
            .fetch_optional(db)
            .await?,
    )
}
