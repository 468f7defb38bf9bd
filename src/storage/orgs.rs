//! Organisations, the administrators of each, their administrators' groups, and which
//! organisation a branch belonged to in a past round.

use std::collections::HashMap;

use crate::domain::org::{Org, OrgTree};
use crate::error::AppResult;
use crate::storage::branches::User;
use crate::storage::Db;

/// The whole tree, retired organisations included.
pub async fn tree(db: &Db) -> AppResult<OrgTree> {
    let mut conn = db.acquire().await?;
    tree_in(&mut conn).await
}

/// [`tree`] on a connection: inside a write transaction nothing can change it before the commit.
pub async fn tree_in(conn: &mut sqlx::SqliteConnection) -> AppResult<OrgTree> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", name, kind, parent_id, retired_at IS NOT NULL AS "retired!: bool"
           FROM organisations"#
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(OrgTree::new(
        rows.into_iter()
            .map(|r| Org {
                id: r.id,
                name: r.name,
                kind: r.kind,
                parent_id: r.parent_id,
                retired: r.retired,
            })
            .collect(),
    ))
}

/// A new organisation (the caller checked the parent and the name); returns its id.
pub async fn create(
    db: &Db,
    name: &str,
    kind: &str,
    parent: i64,
    bind_code: &str,
    now: i64,
) -> AppResult<i64> {
    let id = sqlx::query_scalar!(
        r#"INSERT INTO organisations (name, kind, parent_id, bind_code, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        name,
        kind,
        parent,
        bind_code,
        now,
        now
    )
    .fetch_one(db)
    .await?;
    Ok(id)
}

pub async fn rename(db: &Db, id: i64, name: &str, now: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE organisations SET name = ?, updated_at = ? WHERE id = ?",
        name,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_parent(db: &Db, id: i64, parent: i64, now: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE organisations SET parent_id = ?, updated_at = ? WHERE id = ? AND id != 1",
        parent,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Retires an organisation without live children or active branches (checked here, in the
/// same statement, so a branch bound meanwhile cannot be left under a retired organisation).
/// False when something still hangs under it.
pub async fn retire(db: &Db, id: i64, now: i64) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE organisations SET retired_at = ?, updated_at = ?
         WHERE id = ? AND id != 1 AND retired_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM organisations c WHERE c.parent_id = ?3 AND c.retired_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM branches b WHERE b.org_id = ?3 AND b.active = 1)",
        now,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The live organisation a startgroup link's code binds to.
pub async fn by_bind_code(db: &Db, code: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM organisations WHERE bind_code = ? AND retired_at IS NULL"#,
        code
    )
    .fetch_optional(db)
    .await?)
}

pub async fn bind_code(db: &Db, id: i64) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT bind_code FROM organisations WHERE id = ?", id)
            .fetch_optional(db)
            .await?,
    )
}

/// Counts of active branches per organisation.
pub async fn branch_counts(db: &Db) -> AppResult<HashMap<i64, u32>> {
    let rows = sqlx::query!(
        r#"SELECT org_id, COUNT(*) AS "n!: i64" FROM branches WHERE active = 1 GROUP BY org_id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.org_id, u32::try_from(r.n).unwrap_or(0)))
        .collect())
}

/// Moves a branch; its history stays with it, and closed rounds keep the organisation it had.
pub async fn move_branch(db: &Db, branch_id: i64, org: i64, now: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE branches SET org_id = ?, updated_at = ? WHERE id = ?",
        org,
        now,
        branch_id
    )
    .execute(db)
    .await?;
    Ok(())
}

// ---- administrators -------------------------------------------------------------------------

/// The organisations a user administers.
pub async fn admin_orgs(db: &Db, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.org_id AS "org_id!" FROM org_admins a
           JOIN organisations o ON o.id = a.org_id AND o.retired_at IS NULL
           WHERE a.user_id = ? ORDER BY a.org_id"#,
        user_id
    )
    .fetch_all(db)
    .await?)
}

/// Grants `org` to a user; false when they held it already.
pub async fn grant(db: &Db, user_id: i64, org: i64, by: i64, now: i64) -> AppResult<bool> {
    let done = sqlx::query!(
        "INSERT OR IGNORE INTO org_admins (user_id, org_id, granted_by, granted_at) VALUES (?, ?, ?, ?)",
        user_id,
        org,
        by,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes one organisation, or all of them when `org` is `None`; returns how many went.
pub async fn revoke(db: &Db, user_id: i64, org: Option<i64>) -> AppResult<u64> {
    let done = sqlx::query!(
        "DELETE FROM org_admins WHERE user_id = ? AND (?2 IS NULL OR org_id = ?2)",
        user_id,
        org
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Every administrator with an organisation they hold, by organisation then user.
pub async fn admins(db: &Db) -> AppResult<Vec<(User, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT u.id, u.full_name, u.username, a.org_id
           FROM org_admins a JOIN users u ON u.id = a.user_id
           ORDER BY a.org_id, u.id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                User {
                    id: r.id,
                    full_name: r.full_name,
                    username: r.username,
                },
                r.org_id,
            )
        })
        .collect())
}

// ---- administrators' groups -----------------------------------------------------------------

/// Every organisation's administrators' group.
pub async fn admin_chats(conn: &mut sqlx::SqliteConnection) -> AppResult<HashMap<i64, i64>> {
    let rows = sqlx::query!(r#"SELECT org_id AS "org_id!", chat_id FROM org_admin_chats"#)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.chat_id)).collect())
}

/// The organisation whose administrators' group `chat_id` is.
pub async fn org_of_admin_chat(db: &Db, chat_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT org_id AS "org_id!" FROM org_admin_chats WHERE chat_id = ?"#,
        chat_id
    )
    .fetch_optional(db)
    .await?)
}

/// Makes `chat_id` the administrators' group of `org` (a group serves one organisation: bound
/// again for another, it moves).
pub async fn set_admin_chat(db: &Db, org: i64, chat_id: i64, by: i64, now: i64) -> AppResult<()> {
    let mut tx = crate::storage::write(db).await?;
    sqlx::query!(
        "DELETE FROM org_admin_chats WHERE chat_id = ? AND org_id != ?",
        chat_id,
        org
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO org_admin_chats (org_id, chat_id, bound_by, bound_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (org_id) DO UPDATE SET chat_id = excluded.chat_id,
             bound_by = excluded.bound_by, bound_at = excluded.bound_at",
        org,
        chat_id,
        by,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A group that became a supergroup stays its organisation's administrators' group.
pub async fn migrate_admin_chat(db: &Db, from: i64, to: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE org_admin_chats SET chat_id = ? WHERE chat_id = ?",
        to,
        from
    )
    .execute(db)
    .await?;
    Ok(())
}

// ---- rounds ---------------------------------------------------------------------------------

/// Records where every branch stands as a round closes (inside the closing transaction).
pub async fn snapshot_round(conn: &mut sqlx::SqliteConnection, round_id: i64) -> AppResult<()> {
    sqlx::query!(
        "INSERT OR IGNORE INTO round_branch_orgs (round_id, branch_id, org_id)
         SELECT ?, id, org_id FROM branches",
        round_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Which organisation each branch belonged to in the round: as recorded when it closed, and
/// for a branch bound since (or an open round) the organisation of now.
pub async fn round_orgs(db: &Db, round_id: i64) -> AppResult<HashMap<i64, i64>> {
    let rows = sqlx::query!(
        r#"SELECT b.id AS "branch!", COALESCE(r.org_id, b.org_id) AS "org!: i64"
           FROM branches b
           LEFT JOIN round_branch_orgs r ON r.round_id = ? AND r.branch_id = b.id"#,
        round_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.branch, r.org)).collect())
}

/// Each branch's organisation now.
pub async fn branch_orgs(db: &Db) -> AppResult<HashMap<i64, i64>> {
    let rows = sqlx::query!(r#"SELECT id AS "id!", org_id FROM branches"#)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.org_id)).collect())
}

// ---- imports --------------------------------------------------------------------------------

/// A checked import waiting for confirmation.
#[derive(Debug, Clone)]
pub struct PendingImport {
    pub id: i64,
    pub admin_id: i64,
    pub plan: String,
    pub done: bool,
}

pub async fn save_import(
    db: &Db,
    admin_id: i64,
    file_name: &str,
    plan: &str,
    now: i64,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO pending_org_imports (admin_id, file_name, plan, created_at)
           VALUES (?, ?, ?, ?) RETURNING id AS "id!""#,
        admin_id,
        file_name,
        plan,
        now
    )
    .fetch_one(db)
    .await?)
}

pub async fn import(db: &Db, id: i64) -> AppResult<Option<PendingImport>> {
    Ok(sqlx::query_as!(
        PendingImport,
        r#"SELECT id AS "id!", admin_id, plan,
                  (applied_at IS NOT NULL OR cancelled_at IS NOT NULL) AS "done!: bool"
           FROM pending_org_imports WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// Marks an import applied or cancelled; false when it was decided already (a second press).
pub async fn close_import(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    applied: bool,
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE pending_org_imports
         SET applied_at = CASE WHEN ?2 THEN ?3 END, cancelled_at = CASE WHEN ?2 THEN NULL ELSE ?3 END
         WHERE id = ?1 AND applied_at IS NULL AND cancelled_at IS NULL",
        id,
        applied,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::migrate::Migrator;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;

    /// A deployment from before the tree: its branches go under the root, its administrators
    /// administer the root (so they keep seeing everything), its administrators' group is the
    /// root's, and its closed rounds keep their branches at the root.
    #[tokio::test]
    async fn an_existing_deployment_upgrades_in_place() {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .unwrap()
            .foreign_keys(true);
        let db = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let all = sqlx::migrate!("./migrations");
        let before = Migrator {
            migrations: all
                .migrations
                .iter()
                .filter(|m| m.version < 50)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..Migrator::DEFAULT
        };
        before.run(&db).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO users (id, full_name, is_admin, created_at) VALUES (7, '管理员', 1, 0), (8, '党员', 0, 0);
             INSERT INTO branches (id, chat_id, name, kind, join_code, created_at, updated_at)
               VALUES (1, -100, '一支部', '农村', 'C1', 0, 0);
             INSERT INTO bot_settings (key, value, updated_at) VALUES ('admin_chat', '-555', 0);
             INSERT INTO rounds (id, opens_at, closes_at, status) VALUES (1, 0, 10, 'closed'), (2, 20, 30, 'open');",
        )
        .execute(&db)
        .await
        .unwrap();
        all.run(&db).await.unwrap();

        assert_eq!(admin_orgs(&db, 7).await.unwrap(), vec![1]);
        assert!(admin_orgs(&db, 8).await.unwrap().is_empty());
        assert_eq!(branch_orgs(&db).await.unwrap()[&1], 1);
        let mut conn = db.acquire().await.unwrap();
        assert_eq!(admin_chats(&mut conn).await.unwrap()[&1], -555);
        drop(conn);
        assert_eq!(round_orgs(&db, 1).await.unwrap()[&1], 1);
        let tree = tree(&db).await.unwrap();
        assert_eq!(tree.len(), 1);
        assert_eq!(tree.get(1).unwrap().parent_id, None);
    }

    #[tokio::test]
    async fn a_closed_round_keeps_the_organisation_a_branch_had() {
        let db = crate::storage::connect_memory().await.unwrap();
        let org = create(&db, "城关镇党委", "党委", 1, "abc", 0)
            .await
            .unwrap();
        sqlx::raw_sql(
            "INSERT INTO branches (id, chat_id, name, kind, join_code, created_at, updated_at)
               VALUES (1, -100, '一支部', '农村', 'C1', 0, 0);
             INSERT INTO rounds (id, opens_at, closes_at, status) VALUES (1, 0, 10, 'open');",
        )
        .execute(&db)
        .await
        .unwrap();
        let mut conn = db.acquire().await.unwrap();
        snapshot_round(&mut conn, 1).await.unwrap();
        drop(conn);
        move_branch(&db, 1, org, 1).await.unwrap();
        assert_eq!(round_orgs(&db, 1).await.unwrap()[&1], 1, "as it was");
        assert_eq!(branch_orgs(&db).await.unwrap()[&1], org, "as it is");
        assert!(
            retire(&db, org, 2).await.is_ok_and(|r| !r),
            "a branch hangs under it"
        );
        move_branch(&db, 1, 1, 3).await.unwrap();
        assert!(retire(&db, org, 4).await.unwrap());
    }
}
