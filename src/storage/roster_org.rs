//! An organisation's pending roster uploads (many branches in one sheet), applied in one
//! transaction, and the branches that have a roster (for the reminders that name people).

use crate::domain::roster::Person;
use crate::error::AppResult;
use crate::storage::roster::{apply_in, Applied};
use crate::storage::Db;

/// A checked organisation sheet waiting for its uploader's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUpload {
    pub id: i64,
    pub uploader_id: i64,
    pub file_name: String,
    /// JSON of the plan (see `service::roster_org::BranchPlan`).
    pub plan: String,
    pub applied_at: Option<i64>,
    pub cancelled_at: Option<i64>,
}

pub async fn create(
    db: &Db,
    uploader_id: i64,
    file_name: &str,
    plan_json: &str,
    now: i64,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO roster_org_uploads (uploader_id, file_name, plan, created_at)
           VALUES (?, ?, ?, ?) RETURNING id AS "id!""#,
        uploader_id,
        file_name,
        plan_json,
        now
    )
    .fetch_one(db)
    .await?)
}

pub async fn get(db: &Db, id: i64) -> AppResult<Option<OrgUpload>> {
    Ok(sqlx::query_as!(
        OrgUpload,
        r#"SELECT id AS "id!", uploader_id, file_name, plan, applied_at, cancelled_at
           FROM roster_org_uploads WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// Marks a pending upload cancelled; false when it was decided already.
pub async fn cancel(db: &Db, id: i64, now: i64) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE roster_org_uploads SET cancelled_at = ?
         WHERE id = ? AND applied_at IS NULL AND cancelled_at IS NULL",
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies every branch's people and marks the upload applied, in one transaction; `None`
/// (and nothing changed) when it was decided already, so a double press applies once.
pub async fn apply(
    db: &Db,
    id: i64,
    branches: &[(i64, Vec<Person>)],
    now: i64,
) -> AppResult<Option<Vec<Applied>>> {
    let mut tx = crate::storage::write(db).await?;
    let marked = sqlx::query!(
        "UPDATE roster_org_uploads SET applied_at = ?
         WHERE id = ? AND applied_at IS NULL AND cancelled_at IS NULL",
        now,
        id
    )
    .execute(&mut *tx)
    .await?;
    if marked.rows_affected() != 1 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(branches.len());
    for (branch_id, people) in branches {
        out.push(apply_in(&mut tx, *branch_id, people, now).await?);
    }
    tx.commit().await?;
    Ok(Some(out))
}

/// An active branch with people on its roster now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterBranch {
    pub id: i64,
    pub chat_id: i64,
    pub name: String,
}

pub async fn branches_with_roster(db: &Db) -> AppResult<Vec<RosterBranch>> {
    Ok(sqlx::query_as!(
        RosterBranch,
        r#"SELECT b.id AS "id!", b.chat_id, b.name FROM branches b
           WHERE b.active = 1
             AND EXISTS (SELECT 1 FROM roster_people p WHERE p.branch_id = b.id AND p.left_at IS NULL)
           ORDER BY b.id"#
    )
    .fetch_all(db)
    .await?)
}
