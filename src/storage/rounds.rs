//! Test rounds (期次), and the messages that opening, the day-before reminder and closing queue.
//!
//! Each state change and the messages it causes are one transaction: the caller opens it and
//! passes `&mut *tx`, so a crash leaves either both or neither. Messages to people are written
//! with `INSERT … SELECT`, one statement per round however many members there are.

use sqlx::{Executor, Sqlite};

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

/// A round with what the calendar and `/rounds` need besides the times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundInfo {
    pub id: i64,
    pub opens_at: i64,
    pub closes_at: i64,
    pub is_open: bool,
    /// The day-before reminders are queued.
    pub reminded: bool,
    /// Who opened it by hand; `None` for the calendar.
    pub opened_by: Option<i64>,
    pub closed_at: Option<i64>,
    /// Attempts that reached the end (finished or timed out).
    pub finished: i64,
}

/// One branch's participation in a closed round, for the result message to its group.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchResult {
    pub branch_id: i64,
    pub chat_id: i64,
    pub name: String,
    /// Current members plus anyone who finished the round for this branch and has moved since;
    /// a member who finished it for another branch before moving here counts there, not here.
    pub members: i64,
    pub finished: i64,
    /// Mean score (out of 100) of the finished attempts; `None` when nobody finished.
    pub average: Option<f64>,
}

/// The dedup-key prefix and outbox topic of everything a round sends.
pub fn topic(round_id: i64) -> String {
    format!("round:{round_id}")
}

/// The open round, if any. Its opening time may lie up to a second ahead of the clock (see
/// [`insert_if_none_open`]), so it is not compared with now.
pub async fn open_round(db: &Db) -> AppResult<Option<Round>> {
    Ok(sqlx::query_as!(
        Round,
        r#"SELECT id AS "id!", opens_at, closes_at, status FROM rounds
           WHERE status = 'open' ORDER BY opens_at DESC LIMIT 1"#
    )
    .fetch_optional(db)
    .await?)
}

pub async fn by_id(db: &Db, id: i64) -> AppResult<Option<Round>> {
    Ok(sqlx::query_as!(
        Round,
        r#"SELECT id AS "id!", opens_at, closes_at, status FROM rounds WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// The round whose status is open, whatever the time (at most one exists).
pub async fn current(db: &Db) -> AppResult<Option<RoundInfo>> {
    Ok(sqlx::query_as!(
        RoundInfo,
        r#"SELECT r.id AS "id!", r.opens_at, r.closes_at, r.status = 'open' AS "is_open!: bool",
                  r.reminded AS "reminded: bool", r.opened_by, r.closed_at,
                  (SELECT COUNT(*) FROM attempts a WHERE a.round_id = r.id AND a.status != 'in_progress') AS "finished!: i64"
           FROM rounds r WHERE r.status = 'open' ORDER BY r.opens_at DESC LIMIT 1"#
    )
    .fetch_optional(db)
    .await?)
}

/// The most recent rounds, newest first.
pub async fn recent(db: &Db, limit: i64) -> AppResult<Vec<RoundInfo>> {
    Ok(sqlx::query_as!(
        RoundInfo,
        r#"SELECT r.id AS "id!", r.opens_at, r.closes_at, r.status = 'open' AS "is_open!: bool",
                  r.reminded AS "reminded: bool", r.opened_by, r.closed_at,
                  (SELECT COUNT(*) FROM attempts a WHERE a.round_id = r.id AND a.status != 'in_progress') AS "finished!: i64"
           FROM rounds r ORDER BY r.opens_at DESC LIMIT ?"#,
        limit
    )
    .fetch_all(db)
    .await?)
}

/// When the latest round opened: the calendar looks for its next opening after this.
pub async fn latest_opens_at(db: &Db) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT MAX(opens_at) AS "at: i64" FROM rounds"#)
            .fetch_one(db)
            .await?,
    )
}

/// Inserts a round unless one is open; the id, or `None` when a round is open already.
/// One statement, so a hand-opened round and the calendar cannot both win.
///
/// Opening times are unique (the calendar finds its next opening after the latest one), so a
/// round opened within the same second as the previous one (open, close, open again) opens a
/// second after it instead of failing on the constraint.
pub async fn insert_if_none_open<'c, E>(
    executor: E,
    opens_at: i64,
    closes_at: i64,
    opened_by: Option<i64>,
) -> AppResult<Option<i64>>
where
    E: Executor<'c, Database = Sqlite>,
{
    let id = sqlx::query_scalar!(
        r#"INSERT INTO rounds (opens_at, closes_at, status, opened_by)
           SELECT MAX(?, COALESCE((SELECT MAX(opens_at) + 1 FROM rounds), 0)), ?, 'open', ?
           WHERE NOT EXISTS (SELECT 1 FROM rounds WHERE status = 'open')
           RETURNING id AS "id!""#,
        opens_at,
        closes_at,
        opened_by
    )
    .fetch_optional(executor)
    .await?;
    Ok(id)
}

/// Marks the round closed; false when it was closed already (by a concurrent pass or by hand).
pub async fn mark_closed<'c, E>(executor: E, id: i64, now: i64) -> AppResult<bool>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "UPDATE rounds SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
        now,
        id
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the day-before reminders as queued; false when they were already.
pub async fn mark_reminded<'c, E>(executor: E, id: i64) -> AppResult<bool>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "UPDATE rounds SET reminded = 1 WHERE id = ? AND reminded = 0 AND status = 'open'",
        id
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues the same private reminder to every member of an active branch who has not finished
/// an attempt in the round (no attempt yet, or one still in progress). Returns how many.
pub async fn queue_reminders<'c, E>(
    executor: E,
    round_id: i64,
    text: &str,
    markup: Option<&str>,
    due_at: i64,
    expires_at: i64,
    now: i64,
) -> AppResult<u64>
where
    E: Executor<'c, Database = Sqlite>,
{
    let topic = topic(round_id);
    let done = sqlx::query!(
        r#"INSERT INTO outbox (dedup_key, topic, chat_id, text, reply_markup, due_at, expires_at, created_at)
           SELECT ? || ':remind:' || m.user_id, ?, m.user_id, ?, ?, ?, ?, ?
           FROM members m JOIN branches b ON b.id = m.branch_id
           WHERE b.active = 1
             AND NOT EXISTS (SELECT 1 FROM attempts a
                             WHERE a.round_id = ? AND a.user_id = m.user_id AND a.status != 'in_progress')
           ORDER BY m.user_id
           ON CONFLICT(dedup_key) DO NOTHING"#,
        topic,
        topic,
        text,
        markup,
        due_at,
        expires_at,
        now,
        round_id
    )
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Participation and average score of every active branch in the round, in one query.
pub async fn branch_results<'c, E>(executor: E, round_id: i64) -> AppResult<Vec<BranchResult>>
where
    E: Executor<'c, Database = Sqlite>,
{
    Ok(sqlx::query_as!(
        BranchResult,
        r#"SELECT b.id AS "branch_id!", b.chat_id, b.name,
                  (SELECT COUNT(*) FROM (
                       SELECT m.user_id FROM members m
                       WHERE m.branch_id = b.id
                         AND NOT EXISTS (SELECT 1 FROM attempts x
                                         WHERE x.round_id = ?1 AND x.user_id = m.user_id
                                           AND x.status != 'in_progress' AND x.branch_id IS NOT b.id)
                       UNION
                       SELECT a.user_id FROM attempts a
                       WHERE a.round_id = ?1 AND a.branch_id = b.id AND a.status != 'in_progress'
                  )) AS "members!: i64",
                  (SELECT COUNT(*) FROM attempts a
                   WHERE a.round_id = ?1 AND a.branch_id = b.id AND a.status != 'in_progress') AS "finished!: i64",
                  (SELECT AVG(a.score) FROM attempts a
                   WHERE a.round_id = ?1 AND a.branch_id = b.id AND a.status != 'in_progress') AS "average: f64"
           FROM branches b WHERE b.active = 1 ORDER BY b.id"#,
        round_id
    )
    .fetch_all(executor)
    .await?)
}

/// The open round's closing time and whether its reminder is queued: all the scheduler needs
/// to know when to look again.
pub async fn open_round_due(db: &Db) -> AppResult<Option<(i64, bool)>> {
    let row = sqlx::query!(
        r#"SELECT closes_at, reminded AS "reminded: bool" FROM rounds WHERE status = 'open' ORDER BY opens_at DESC LIMIT 1"#
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.closes_at, r.reminded)))
}

/// Question-bank uploads waiting for (or past) an administrator's confirmation, and which bank
/// is active. They live here because this task owns this file; they could move to their own
/// `storage::uploads` module with a one-line declaration.
pub mod uploads {
    use crate::error::AppResult;
    use crate::storage::Db;

    /// An uploaded bank as stored.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Upload {
        pub id: i64,
        pub admin_id: i64,
        pub file_name: String,
        /// JSON of the validated `Vec<Question>`.
        pub questions: String,
        pub created_at: i64,
        pub applied_at: Option<i64>,
        pub cancelled_at: Option<i64>,
    }

    /// Where the active bank came from.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct BankSource {
        /// Fingerprint of the `questions/` files last loaded at start-up.
        pub files_fingerprint: String,
        /// The applied upload that is active, or `None` when the files are.
        pub upload_id: Option<i64>,
        pub updated_at: i64,
    }

    pub async fn create(
        db: &Db,
        admin_id: i64,
        file_name: &str,
        questions_json: &str,
        now: i64,
    ) -> AppResult<i64> {
        Ok(sqlx::query_scalar!(
            r#"INSERT INTO pending_uploads (admin_id, file_name, questions, created_at) VALUES (?, ?, ?, ?)
               RETURNING id AS "id!""#,
            admin_id,
            file_name,
            questions_json,
            now
        )
        .fetch_one(db)
        .await?)
    }

    pub async fn by_id(db: &Db, id: i64) -> AppResult<Option<Upload>> {
        Ok(sqlx::query_as!(
            Upload,
            r#"SELECT id AS "id!", admin_id, file_name, questions, created_at, applied_at, cancelled_at
               FROM pending_uploads WHERE id = ?"#,
            id
        )
        .fetch_optional(db)
        .await?)
    }

    /// The id of the newest upload of all; only that one may be confirmed.
    pub async fn newest_id(db: &Db) -> AppResult<Option<i64>> {
        Ok(
            sqlx::query_scalar!(r#"SELECT MAX(id) AS "id: i64" FROM pending_uploads"#)
                .fetch_one(db)
                .await?,
        )
    }

    /// Marks the upload applied and makes it the active source, in one transaction, before the
    /// bank is replaced: if the process dies in between, start-up finds the upload active and
    /// applies it. False when the upload is not the newest or was applied or cancelled already.
    pub async fn claim_for_apply(db: &Db, id: i64, admin_id: i64, now: i64) -> AppResult<bool> {
        let mut tx = crate::storage::write(db).await?;
        let done = sqlx::query!(
            "UPDATE pending_uploads SET applied_at = ?
             WHERE id = ? AND admin_id = ? AND applied_at IS NULL AND cancelled_at IS NULL
               AND id = (SELECT MAX(id) FROM pending_uploads)",
            now,
            id,
            admin_id
        )
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query!(
            "INSERT INTO bank_source (id, files_fingerprint, upload_id, updated_at) VALUES (1, '', ?, ?)
             ON CONFLICT(id) DO UPDATE SET upload_id = excluded.upload_id, updated_at = excluded.updated_at",
            id,
            now
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Discards an upload; false when it was applied or cancelled already, or is not the admin's.
    pub async fn cancel(db: &Db, id: i64, admin_id: i64, now: i64) -> AppResult<bool> {
        let done = sqlx::query!(
            "UPDATE pending_uploads SET cancelled_at = ?
             WHERE id = ? AND admin_id = ? AND applied_at IS NULL AND cancelled_at IS NULL",
            now,
            id,
            admin_id
        )
        .execute(db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn source(db: &Db) -> AppResult<Option<BankSource>> {
        Ok(sqlx::query_as!(
            BankSource,
            "SELECT files_fingerprint, upload_id, updated_at FROM bank_source WHERE id = 1"
        )
        .fetch_optional(db)
        .await?)
    }

    /// Remembers the files' fingerprint while an upload stays the active bank.
    pub async fn set_files_fingerprint(db: &Db, fingerprint: &str) -> AppResult<()> {
        sqlx::query!(
            "UPDATE bank_source SET files_fingerprint = ? WHERE id = 1",
            fingerprint
        )
        .execute(db)
        .await?;
        Ok(())
    }

    /// Records that the files in `questions/` (with this fingerprint) are the active bank.
    pub async fn set_files_active(db: &Db, fingerprint: &str, now: i64) -> AppResult<()> {
        sqlx::query!(
            "INSERT INTO bank_source (id, files_fingerprint, upload_id, updated_at) VALUES (1, ?, NULL, ?)
             ON CONFLICT(id) DO UPDATE SET files_fingerprint = excluded.files_fingerprint,
                 upload_id = NULL, updated_at = excluded.updated_at",
            fingerprint,
            now
        )
        .execute(db)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;

    /// Issue 15, defect 12: open, close, open within one second.
    #[tokio::test]
    async fn a_round_reopened_in_the_same_second_opens_a_second_later() {
        let db = connect_memory().await.unwrap();
        assert_eq!(
            insert_if_none_open(&db, 100, 200, Some(7)).await.unwrap(),
            Some(1)
        );
        assert!(mark_closed(&db, 1, 100).await.unwrap());
        assert_eq!(
            insert_if_none_open(&db, 100, 200, Some(7)).await.unwrap(),
            Some(2)
        );
        assert_eq!(latest_opens_at(&db).await.unwrap(), Some(101));
        assert_eq!(open_round(&db).await.unwrap().map(|r| r.id), Some(2));
    }

    #[tokio::test]
    async fn only_one_round_is_open_at_a_time() {
        let db = connect_memory().await.unwrap();
        assert_eq!(
            insert_if_none_open(&db, 100, 200, None).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            insert_if_none_open(&db, 150, 250, Some(7)).await.unwrap(),
            None
        );
        assert_eq!(open_round(&db).await.unwrap().map(|r| r.id), Some(1));
        assert!(mark_closed(&db, 1, 190).await.unwrap());
        assert!(!mark_closed(&db, 1, 191).await.unwrap());
        assert_eq!(
            insert_if_none_open(&db, 300, 400, Some(7)).await.unwrap(),
            Some(2)
        );
        assert!(mark_reminded(&db, 2).await.unwrap());
        assert!(!mark_reminded(&db, 2).await.unwrap());
        let current = current(&db).await.unwrap().unwrap();
        assert_eq!(
            (
                current.id,
                current.opened_by,
                current.reminded,
                current.finished
            ),
            (2, Some(7), true, 0)
        );
        assert_eq!(open_round_due(&db).await.unwrap(), Some((400, true)));
        assert_eq!(latest_opens_at(&db).await.unwrap(), Some(300));
        let recent: Vec<(i64, bool, Option<i64>)> = recent(&db, 5)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.is_open, r.closed_at))
            .collect();
        assert_eq!(recent, [(2, true, None), (1, false, Some(190))]);
    }

    #[tokio::test]
    async fn an_upload_is_applied_only_by_its_admin_only_once_and_only_if_newest() {
        let db = connect_memory().await.unwrap();
        let first = uploads::create(&db, 7, "a.toml", "[]", 1).await.unwrap();
        let second = uploads::create(&db, 8, "b.xlsx", "[]", 2).await.unwrap();
        assert_eq!(uploads::newest_id(&db).await.unwrap(), Some(second));
        assert!(
            !uploads::claim_for_apply(&db, first, 7, 3).await.unwrap(),
            "not the newest"
        );
        assert!(
            !uploads::claim_for_apply(&db, second, 7, 3).await.unwrap(),
            "not the uploader"
        );
        assert!(uploads::claim_for_apply(&db, second, 8, 3).await.unwrap());
        assert!(
            !uploads::claim_for_apply(&db, second, 8, 4).await.unwrap(),
            "only once"
        );
        assert!(
            !uploads::cancel(&db, second, 8, 4).await.unwrap(),
            "applied already"
        );
        let source = uploads::source(&db).await.unwrap().unwrap();
        assert_eq!(source.upload_id, Some(second));
        let applied = uploads::by_id(&db, second).await.unwrap().unwrap();
        assert_eq!(
            (applied.file_name.as_str(), applied.applied_at),
            ("b.xlsx", Some(3))
        );

        assert!(uploads::cancel(&db, first, 7, 5).await.unwrap());
        assert!(!uploads::cancel(&db, first, 7, 6).await.unwrap());
        uploads::set_files_active(&db, "fp", 7).await.unwrap();
        assert_eq!(uploads::source(&db).await.unwrap().unwrap().upload_id, None);
    }
}
