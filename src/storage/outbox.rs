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

/// Pending rows whose next attempt is due by `now`, oldest first.
///
/// The predicate is the one [`next_due`] takes the minimum over (status `pending`, instant
/// `COALESCE(next_attempt_at, due_at)`), so a row counted as due is always a row taken here.
pub async fn due(db: &Db, now: i64, limit: i64) -> AppResult<Vec<Due>> {
    Ok(sqlx::query_as!(
        Due,
        r#"SELECT id AS "id!", dedup_key AS key, chat_id, text, reply_markup AS markup, due_at, expires_at, attempts
           FROM outbox WHERE status = 'pending' AND COALESCE(next_attempt_at, due_at) <= ?
           ORDER BY COALESCE(next_attempt_at, due_at), id LIMIT ?"#,
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

/// Puts a row back to be tried again at `retry_at`. Only the next attempt moves: `due_at` keeps
/// the instant the message fell due, from which lateness and expiry are judged.
pub async fn retry_later(db: &Db, id: i64, retry_at: i64, error: &str) -> AppResult<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'sending'",
        retry_at,
        error,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Pulls every retry waiting for its back-off forward to `now` (a send just went through, so
/// the Bot API answers again); rows told by a 429 when to come back keep their time.
pub async fn retry_held_now(db: &Db, now: i64) -> AppResult<u64> {
    let done = sqlx::query!(
        "UPDATE outbox SET next_attempt_at = ?1
         WHERE status = 'pending' AND next_attempt_at > ?1 AND COALESCE(last_error, '') NOT LIKE '429%'",
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// When [`due`] will next take a row. Only `pending` rows count: a `sending` row is in flight,
/// or stranded by a failed mark until the next start re-queues it; counting it made the
/// scheduler compute a zero wait for a row `due` never takes, and spin.
pub async fn next_due(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(COALESCE(next_attempt_at, due_at)) AS "due: i64" FROM outbox WHERE status = 'pending'"#
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;

    fn message(key: &str, due_at: i64) -> NewMessage {
        NewMessage {
            key: key.to_owned(),
            topic: None,
            chat_id: -100,
            text: "提醒".to_owned(),
            markup: None,
            due_at,
            expires_at: None,
        }
    }

    /// Issue 15, defect 1: what `next_due` counts, `due` takes — a row left `sending` is neither.
    #[tokio::test]
    async fn a_row_left_sending_is_neither_taken_nor_counted() {
        let db = connect_memory().await.unwrap();
        enqueue(&db, &message("k", 100), 1).await.unwrap();
        let row = due(&db, 1000, 10).await.unwrap().remove(0);
        assert!(claim(&db, row.id).await.unwrap());
        assert!(due(&db, 1000, 10).await.unwrap().is_empty());
        assert_eq!(next_due(&db).await.unwrap(), None);
        assert_eq!(recover_in_flight(&db).await.unwrap(), 1);
        assert_eq!(next_due(&db).await.unwrap(), Some(100));
    }

    /// Issue 15, defect 2: a retry moves the next attempt, never the due time.
    #[tokio::test]
    async fn a_retry_moves_the_next_attempt_and_keeps_the_due_time() {
        let db = connect_memory().await.unwrap();
        enqueue(&db, &message("k", 100), 1).await.unwrap();
        let row = due(&db, 100, 10).await.unwrap().remove(0);
        assert!(claim(&db, row.id).await.unwrap());
        retry_later(&db, row.id, 500, "Bad Gateway").await.unwrap();
        assert!(due(&db, 499, 10).await.unwrap().is_empty());
        assert_eq!(next_due(&db).await.unwrap(), Some(500));
        let again = due(&db, 500, 10).await.unwrap();
        assert_eq!((again[0].due_at, again[0].attempts), (100, 1));
        // A send that went through pulls it forward; its due time still does not move.
        assert_eq!(retry_held_now(&db, 200).await.unwrap(), 1);
        assert_eq!(due(&db, 200, 10).await.unwrap()[0].due_at, 100);
    }
}
