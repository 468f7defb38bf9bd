//! What a trainee was drawn in their earlier rounds, so the next draw can leave it for later.

use std::collections::HashMap;

use crate::error::AppResult;
use crate::storage::Db;

/// How many of a trainee's earlier attempts count as recent: a year of half-monthly rounds.
/// A question seen longer ago counts as unseen again.
pub const RECENT_ATTEMPTS: i64 = 24;

/// For each question id the trainee was drawn in one of their `RECENT_ATTEMPTS` latest
/// attempts before `round_id`: how many of those attempts ago (1 = the latest).
pub async fn rounds_ago(db: &Db, user_id: i64, round_id: i64) -> AppResult<HashMap<String, u32>> {
    let rows = sqlx::query!(
        r#"WITH recent AS (
               SELECT id, ROW_NUMBER() OVER (ORDER BY started_at DESC, id DESC) AS ago
               FROM attempts
               WHERE user_id = ? AND round_id != ?
               ORDER BY started_at DESC, id DESC
               LIMIT ?
           )
           SELECT aq.question_id AS "question_id!", MIN(recent.ago) AS "ago!: i64"
           FROM recent JOIN attempt_questions aq ON aq.attempt_id = recent.id
           GROUP BY aq.question_id"#,
        user_id,
        round_id,
        RECENT_ATTEMPTS
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.question_id, u32::try_from(row.ago).unwrap_or(u32::MAX)))
        .collect())
}
