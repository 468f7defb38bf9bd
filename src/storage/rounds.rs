//! Test rounds (期次).

use crate::error::AppResult;
use crate::storage::Db;

/// A test round as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// The round number users see (期次).
    pub id: i64,
    pub opens_at: i64,
    pub closes_at: i64,
    pub status: String,
}

/// The round open at `now`, if any.
pub async fn open_round(db: &Db, now: i64) -> AppResult<Option<Round>> {
    Ok(sqlx::query_as!(
        Round,
        r#"SELECT id AS "id!", opens_at, closes_at, status FROM rounds
           WHERE status = 'open' AND opens_at <= ? ORDER BY opens_at DESC LIMIT 1"#,
        now
    )
    .fetch_optional(db)
    .await?)
}

pub async fn by_id(db: &Db, id: i64) -> AppResult<Option<Round>> {
    Ok(sqlx::query_as!(Round, r#"SELECT id AS "id!", opens_at, closes_at, status FROM rounds WHERE id = ?"#, id)
        .fetch_optional(db)
        .await?)
}
