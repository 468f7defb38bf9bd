//! Users, administrators, branches and their members.

use crate::error::AppResult;
use crate::storage::Db;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub id: i64,
    pub chat_id: i64,
    pub name: String,
    pub kind: String,
    pub join_code: String,
    pub active: bool,
    /// The organisation the branch belongs to (the root until an administrator moves it).
    pub org_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub full_name: String,
    pub username: Option<String>,
}

/// What `/join` or the deep link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    Joined,
    AlreadyMember,
    /// Moved from the named branch.
    Moved(String),
}

/// Records the user as last seen.
pub async fn upsert_user(
    db: &Db,
    id: i64,
    full_name: &str,
    username: Option<&str>,
    now: i64,
) -> AppResult<()> {
    sqlx::query!(
        "INSERT INTO users (id, full_name, username, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET full_name = excluded.full_name, username = excluded.username",
        id,
        full_name,
        username,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn user(db: &Db, id: i64) -> AppResult<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"SELECT id, full_name, username FROM users WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

pub async fn user_by_username(db: &Db, username: &str) -> AppResult<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"SELECT id, full_name, username FROM users
           WHERE username = ? COLLATE NOCASE"#,
        username
    )
    .fetch_optional(db)
    .await?)
}

/// Binds a group chat to a branch, or updates the stored name and kind; returns the branch and
/// whether it is new. A group bound before keeps its id, join code and history, and its
/// organisation unless `org` names one (a new branch without one goes under the root).
pub async fn bind(
    db: &Db,
    chat_id: i64,
    name: &str,
    kind: &str,
    new_code: &str,
    org: Option<i64>,
    now: i64,
) -> AppResult<(Branch, bool)> {
    let mut tx = crate::storage::write(db).await?;
    let existed = sqlx::query_scalar!("SELECT id FROM branches WHERE chat_id = ?", chat_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    sqlx::query!(
        "INSERT INTO branches (chat_id, name, kind, join_code, active, org_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, COALESCE(?5, 1), ?6, ?6)
         ON CONFLICT(chat_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
             active = 1, org_id = COALESCE(?5, org_id), updated_at = excluded.updated_at",
        chat_id,
        name,
        kind,
        new_code,
        org,
        now
    )
    .execute(&mut *tx)
    .await?;
    let branch = sqlx::query_as!(
        Branch,
        r#"SELECT id AS "id!", chat_id, name, kind, join_code, active AS "active: bool", org_id FROM branches WHERE chat_id = ?"#,
        chat_id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((branch, !existed))
}

/// Marks the branch unbound; its terms, meetings and scores stay. Reminders still queued for
/// the group are recorded as skipped: the group asked to hear no more.
pub async fn unbind(db: &Db, chat_id: i64, now: i64) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let done = sqlx::query!(
        "UPDATE branches SET active = 0, updated_at = ? WHERE chat_id = ? AND active = 1",
        now,
        chat_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE outbox SET status = 'skipped', last_error = 'branch unbound' WHERE chat_id = ? AND status = 'pending'",
        chat_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The active branch bound to this chat.
pub async fn by_chat(db: &Db, chat_id: i64) -> AppResult<Option<Branch>> {
    Ok(sqlx::query_as!(
        Branch,
        r#"SELECT id AS "id!", chat_id, name, kind, join_code, active AS "active: bool", org_id FROM branches
           WHERE chat_id = ? AND active = 1"#,
        chat_id
    )
    .fetch_optional(db)
    .await?)
}

pub async fn by_id(db: &Db, id: i64) -> AppResult<Option<Branch>> {
    Ok(sqlx::query_as!(
        Branch,
        r#"SELECT id AS "id!", chat_id, name, kind, join_code, active AS "active: bool", org_id FROM branches WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

pub async fn by_code(db: &Db, code: &str) -> AppResult<Option<Branch>> {
    Ok(sqlx::query_as!(
        Branch,
        r#"SELECT id AS "id!", chat_id, name, kind, join_code, active AS "active: bool", org_id FROM branches
           WHERE join_code = ? AND active = 1"#,
        code
    )
    .fetch_optional(db)
    .await?)
}

pub async fn active_branches(db: &Db) -> AppResult<Vec<Branch>> {
    Ok(sqlx::query_as!(
        Branch,
        r#"SELECT id AS "id!", chat_id, name, kind, join_code, active AS "active: bool", org_id FROM branches
           WHERE active = 1 ORDER BY id"#
    )
    .fetch_all(db)
    .await?)
}

/// Puts the user in the branch; joining twice is harmless.
pub async fn join(db: &Db, user_id: i64, branch_id: i64, now: i64) -> AppResult<JoinOutcome> {
    let mut tx = crate::storage::write(db).await?;
    let current = sqlx::query!(
        "SELECT m.branch_id, b.name FROM members m JOIN branches b ON b.id = m.branch_id WHERE m.user_id = ?",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match current {
        Some(row) if row.branch_id == branch_id => JoinOutcome::AlreadyMember,
        Some(row) => JoinOutcome::Moved(row.name),
        None => JoinOutcome::Joined,
    };
    if outcome != JoinOutcome::AlreadyMember {
        sqlx::query!(
            "INSERT INTO members (user_id, branch_id, joined_at) VALUES (?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET branch_id = excluded.branch_id, joined_at = excluded.joined_at",
            user_id,
            branch_id,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// The branch the user belongs to, if it is still bound.
pub async fn member_branch(db: &Db, user_id: i64) -> AppResult<Option<Branch>> {
    Ok(sqlx::query_as!(
        Branch,
        r#"SELECT b.id AS "id!", b.chat_id, b.name, b.kind, b.join_code, b.active AS "active: bool",
                  b.org_id
           FROM members m JOIN branches b ON b.id = m.branch_id WHERE m.user_id = ?"#,
        user_id
    )
    .fetch_optional(db)
    .await?)
}

pub async fn member_count(db: &Db, branch_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        "SELECT COUNT(*) FROM members WHERE branch_id = ?",
        branch_id
    )
    .fetch_one(db)
    .await?)
}

/// A group upgraded to a supergroup gets a new chat id: the branch and its queued messages follow.
/// Telegram announces the upgrade in both chats, so the second call finds nothing to move; a
/// supergroup that already has a branch of its own (bound before the notice arrived) keeps it.
pub async fn migrate_chat(db: &Db, from: i64, to: i64) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let done = sqlx::query!(
        "UPDATE branches SET chat_id = ? WHERE chat_id = ?
           AND NOT EXISTS (SELECT 1 FROM branches WHERE chat_id = ?)",
        to,
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'",
        to,
        from
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;

    #[tokio::test]
    async fn binding_again_updates_and_unbind_keeps_history() {
        let db = connect_memory().await.unwrap();
        let (b, new) = bind(&db, -100, "一支部", "机关", "CODE1", None, 1)
            .await
            .unwrap();
        assert!(new);
        let (b2, new2) = bind(&db, -100, "第一支部", "学校", "CODE2", None, 2)
            .await
            .unwrap();
        assert!(!new2);
        assert_eq!(
            (b2.id, b2.join_code.as_str(), b2.name.as_str()),
            (b.id, "CODE1", "第一支部")
        );
        let reminder = crate::storage::outbox::NewMessage {
            key: "k".into(),
            topic: None,
            chat_id: -100,
            text: "明天开会".into(),
            markup: None,
            due_at: 10,
            expires_at: None,
        };
        crate::storage::outbox::enqueue(&db, &reminder, 2)
            .await
            .unwrap();
        assert!(unbind(&db, -100, 3).await.unwrap());
        assert_eq!(
            crate::storage::outbox::status_of(&db, "k")
                .await
                .unwrap()
                .as_deref(),
            Some("skipped")
        );
        assert!(by_chat(&db, -100).await.unwrap().is_none());
        assert!(by_id(&db, b.id).await.unwrap().is_some());
        assert!(!unbind(&db, -100, 4).await.unwrap());
    }

    #[tokio::test]
    async fn joining_twice_is_harmless() {
        let db = connect_memory().await.unwrap();
        upsert_user(&db, 7, "张三", None, 0).await.unwrap();
        let (a, _) = bind(&db, -1, "甲", "农村", "A1", None, 0).await.unwrap();
        let (b, _) = bind(&db, -2, "乙", "农村", "B1", None, 0).await.unwrap();
        assert_eq!(join(&db, 7, a.id, 1).await.unwrap(), JoinOutcome::Joined);
        assert_eq!(
            join(&db, 7, a.id, 2).await.unwrap(),
            JoinOutcome::AlreadyMember
        );
        assert_eq!(
            join(&db, 7, b.id, 3).await.unwrap(),
            JoinOutcome::Moved("甲".into())
        );
        assert_eq!(member_branch(&db, 7).await.unwrap().unwrap().id, b.id);
    }

    #[tokio::test]
    async fn an_upgraded_group_keeps_its_branch() {
        let db = connect_memory().await.unwrap();
        let (b, _) = bind(&db, -5, "甲", "农村", "C1", None, 0).await.unwrap();
        assert!(migrate_chat(&db, -5, -1005).await.unwrap());
        assert_eq!(by_chat(&db, -1005).await.unwrap().unwrap().id, b.id);
        assert!(!migrate_chat(&db, -5, -1006).await.unwrap());
        // A supergroup bound on its own before the notice arrived keeps its branch.
        let (old, _) = bind(&db, -7, "乙", "机关", "C2", None, 0).await.unwrap();
        let (new, _) = bind(&db, -1007, "乙", "机关", "C3", None, 0).await.unwrap();
        assert!(!migrate_chat(&db, -7, -1007).await.unwrap());
        assert_eq!(by_chat(&db, -7).await.unwrap().unwrap().id, old.id);
        assert_eq!(by_chat(&db, -1007).await.unwrap().unwrap().id, new.id);
    }
}
