//! Messages whose buttons must go (`stale_keyboards`): queued in the transaction that makes
//! them stale, cleared by `chat::sweep` through a door.

use sqlx::{Executor, Sqlite};

use crate::error::AppResult;
use crate::storage::Db;

/// A message whose buttons are to be taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stale {
    pub chat_id: i64,
    pub message_id: i64,
    pub tries: i64,
}

/// Queues the message still showing an attempt that has just ended: the test is one message
/// edited from question to question, the newest one recorded (see `storage::quiz::live_message`).
/// Its buttons may be gone already (the last answer takes them off); clearing them again is
/// harmless.
pub async fn queue_attempt<'c, E>(
    executor: E,
    attempt_id: i64,
    chat_id: i64,
    now: i64,
) -> AppResult<u64>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "INSERT INTO stale_keyboards (chat_id, message_id, created_at)
         SELECT ?, MAX(message_id), ? FROM attempt_questions WHERE attempt_id = ?
         GROUP BY attempt_id HAVING MAX(message_id) IS NOT NULL
         ON CONFLICT(chat_id, message_id) DO NOTHING",
        chat_id,
        now,
        attempt_id
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Up to `limit` messages to clear, oldest first.
pub async fn pending(db: &Db, limit: i64) -> AppResult<Vec<Stale>> {
    Ok(sqlx::query_as!(
        Stale,
        r#"SELECT chat_id AS "chat_id!", message_id AS "message_id!", tries AS "tries!"
           FROM stale_keyboards ORDER BY created_at, chat_id, message_id LIMIT ?"#,
        limit
    )
    .fetch_all(db)
    .await?)
}

/// The buttons are gone (or can never be taken off): forget the message.
pub async fn done(db: &Db, chat_id: i64, message_id: i64) -> AppResult<()> {
    sqlx::query!(
        "DELETE FROM stale_keyboards WHERE chat_id = ? AND message_id = ?",
        chat_id,
        message_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One more failed try.
pub async fn tried(db: &Db, chat_id: i64, message_id: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE stale_keyboards SET tries = tries + 1 WHERE chat_id = ? AND message_id = ?",
        chat_id,
        message_id
    )
    .execute(db)
    .await?;
    Ok(())
}
