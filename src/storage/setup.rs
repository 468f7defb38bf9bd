//! Queries for the first run: claimed super-administrators and the claim code. (The
//! administrators' groups belong to organisations: `storage::orgs`.)

use crate::error::AppResult;
use crate::storage::{write, Db};

const CLAIM_CODE: &str = "claim_code";

/// What `/claim <code>` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The sender is now a super-administrator; the code is void.
    Claimed,
    /// There is a super-administrator already (the code, if any, is void).
    AlreadyClaimed,
    /// No code is pending, or this is not it.
    WrongCode,
}

/// Super-administrators who claimed the bot (the configured ones are not stored).
pub async fn stored_super_admins(db: &Db) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar!("SELECT user_id FROM super_admins ORDER BY user_id")
            .fetch_all(db)
            .await?,
    )
}

pub async fn is_stored_super_admin(db: &Db, user_id: i64) -> AppResult<bool> {
    let found = sqlx::query_scalar!(
        "SELECT user_id FROM super_admins WHERE user_id = ?",
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Makes `code` the pending claim code, replacing an older one.
pub async fn set_claim_code(db: &Db, code: &str, now: i64) -> AppResult<()> {
    sqlx::query!(
        "INSERT INTO bot_settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        CLAIM_CODE,
        code,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Voids a pending claim code (a super-administrator was configured meanwhile).
pub async fn clear_claim_code(db: &Db) -> AppResult<()> {
    sqlx::query!("DELETE FROM bot_settings WHERE key = ?", CLAIM_CODE)
        .execute(db)
        .await?;
    Ok(())
}

/// Claims the bot for `user_id` with `code`, in one write transaction, so two people sending
/// the code at once cannot both become the first super-administrator. `configured` says whether
/// `BRANCHBOT_SUPER_ADMINS` names anyone (then nobody can claim).
pub async fn claim(
    db: &Db,
    user_id: i64,
    code: &str,
    configured: bool,
    now: i64,
) -> AppResult<ClaimOutcome> {
    let mut tx = write(db).await?;
    let existing = sqlx::query_scalar!("SELECT COUNT(*) FROM super_admins")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 || configured {
        return Ok(ClaimOutcome::AlreadyClaimed);
    }
    let pending = sqlx::query_scalar!("SELECT value FROM bot_settings WHERE key = ?", CLAIM_CODE)
        .fetch_optional(&mut *tx)
        .await?;
    if pending.as_deref() != Some(code) || code.is_empty() {
        return Ok(ClaimOutcome::WrongCode);
    }
    sqlx::query!(
        "INSERT INTO super_admins (user_id, claimed_at) VALUES (?, ?)",
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM bot_settings WHERE key = ?", CLAIM_CODE)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ClaimOutcome::Claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;

    #[tokio::test]
    async fn the_first_claim_wins_and_voids_the_code() {
        let db = connect_memory().await.unwrap();
        assert_eq!(
            claim(&db, 7, "ABC", false, 1).await.unwrap(),
            ClaimOutcome::WrongCode,
            "no code is pending yet"
        );
        set_claim_code(&db, "ABC", 1).await.unwrap();
        assert_eq!(
            claim(&db, 7, "XYZ", false, 2).await.unwrap(),
            ClaimOutcome::WrongCode
        );
        assert_eq!(
            claim(&db, 7, "ABC", true, 2).await.unwrap(),
            ClaimOutcome::AlreadyClaimed,
            "a configured super-administrator exists"
        );
        assert!(stored_super_admins(&db).await.unwrap().is_empty());
        assert_eq!(
            claim(&db, 7, "ABC", false, 3).await.unwrap(),
            ClaimOutcome::Claimed
        );
        assert_eq!(
            claim(&db, 8, "ABC", false, 4).await.unwrap(),
            ClaimOutcome::AlreadyClaimed
        );
        assert_eq!(stored_super_admins(&db).await.unwrap(), vec![7]);
        assert!(is_stored_super_admin(&db, 7).await.unwrap());
        assert!(!is_stored_super_admin(&db, 8).await.unwrap());
    }
}
