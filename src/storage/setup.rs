//! Queries for the first run: claimed super-administrators, the claim code, and settings made
//! from a chat (the administrators' group).

use crate::error::AppResult;
use crate::storage::{write, Db};

const CLAIM_CODE: &str = "claim_code";
const ADMIN_CHAT: &str = "admin_chat";

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

/// The administrators' group bound with /adminchat, if any.
pub async fn admin_chat(db: &Db) -> AppResult<Option<i64>> {
    let value = sqlx::query_scalar!("SELECT value FROM bot_settings WHERE key = ?", ADMIN_CHAT)
        .fetch_optional(db)
        .await?;
    Ok(value.and_then(|v| v.parse().ok()))
}

pub async fn set_admin_chat(db: &Db, chat_id: i64, now: i64) -> AppResult<()> {
    let value = chat_id.to_string();
    sqlx::query!(
        "INSERT INTO bot_settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        ADMIN_CHAT,
        value,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A branch group that became a supergroup keeps being the administrators' group.
pub async fn migrate_admin_chat(db: &Db, from: i64, to: i64) -> AppResult<()> {
    if admin_chat(db).await? == Some(from) {
        set_admin_chat(db, to, 0).await?;
    }
    Ok(())
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

    #[tokio::test]
    async fn the_admin_chat_is_stored_and_follows_a_migration() {
        let db = connect_memory().await.unwrap();
        assert_eq!(admin_chat(&db).await.unwrap(), None);
        set_admin_chat(&db, -5, 1).await.unwrap();
        set_admin_chat(&db, -6, 2).await.unwrap();
        assert_eq!(admin_chat(&db).await.unwrap(), Some(-6));
        migrate_admin_chat(&db, -6, -1006).await.unwrap();
        assert_eq!(admin_chat(&db).await.unwrap(), Some(-1006));
    }
}
