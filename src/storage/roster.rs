//! Rosters (党员名册): the people of each branch, pending sheet uploads, which Telegram account
//! is which person, claims by name waiting for the secretary, and participation in a round
//! measured against the roster.
//!
//! People are never deleted: one who leaves the sheet gets `left_at`, and comes back as the same
//! row (and keeps their link) if a later sheet has them again.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::roster::{Duty, Person, Status, TestScope};
use crate::error::AppResult;
use crate::storage::Db;

/// A person on a roster, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub branch_id: i64,
    pub person: Person,
    /// The Telegram account linked to this person.
    pub user_id: Option<i64>,
    pub left_at: Option<i64>,
}

struct Row {
    id: i64,
    branch_id: i64,
    name: String,
    status: String,
    duty: Option<String>,
    phone: Option<String>,
    takes_test: Option<i64>,
    joined_on: Option<String>,
    full_on: Option<String>,
    on_probation: i64,
    left_at: Option<i64>,
    user_id: Option<i64>,
}

impl Row {
    fn into_stored(self) -> Stored {
        let date = |d: Option<String>| d.and_then(|d| d.parse::<NaiveDate>().ok());
        Stored {
            id: self.id,
            branch_id: self.branch_id,
            person: Person {
                name: self.name,
                status: Status::from_key(&self.status).unwrap_or(Status::Other),
                duty: self.duty.as_deref().and_then(Duty::from_key),
                phone: self.phone,
                takes_test: self.takes_test.map(|v| v != 0),
                joined_on: date(self.joined_on),
                full_on: date(self.full_on),
                on_probation: self.on_probation != 0,
            },
            user_id: self.user_id,
            left_at: self.left_at,
        }
    }
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Everyone on the branch's roster, those who left included, in roster order.
pub async fn people(db: &Db, branch_id: i64) -> AppResult<Vec<Stored>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT p.id AS "id!", p.branch_id, p.name, p.status, p.duty, p.phone, p.takes_test,
                  p.joined_on, p.full_on, p.on_probation, p.left_at, l.user_id AS "user_id?"
           FROM roster_people p LEFT JOIN roster_links l ON l.person_id = p.id
           WHERE p.branch_id = ? ORDER BY p.id"#,
        branch_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Row::into_stored).collect())
}

/// The people currently on the roster (not 转出).
pub async fn current(db: &Db, branch_id: i64) -> AppResult<Vec<Stored>> {
    let mut people = people(db, branch_id).await?;
    people.retain(|p| p.left_at.is_none());
    Ok(people)
}

/// Whether the branch has a roster: anyone on it now.
pub async fn has_roster(db: &Db, branch_id: i64) -> AppResult<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM roster_people WHERE branch_id = ? AND left_at IS NULL) AS "e!: bool""#,
        branch_id
    )
    .fetch_one(db)
    .await?)
}

/// What applying a sheet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    pub added: usize,
    pub changed: usize,
    pub left: usize,
    pub total: usize,
}

/// Makes `people` the branch's roster in one transaction: new names are added (or a person who
/// left comes back), changed ones updated, and current people missing from `people` marked 转出
/// at `now`. `upload` is marked applied in the same transaction when given.
pub async fn apply(
    db: &Db,
    branch_id: i64,
    people: &[Person],
    upload: Option<i64>,
    now: i64,
) -> AppResult<Applied> {
    let mut tx = crate::storage::write(db).await?;
    let out = apply_in(&mut tx, branch_id, people, now).await?;
    if let Some(upload) = upload {
        sqlx::query!(
            "UPDATE roster_uploads SET applied_at = ? WHERE id = ?",
            now,
            upload
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// [`apply`] inside the caller's transaction: an organisation's upload applies many branches
/// at once.
pub async fn apply_in(
    tx: &mut sqlx::SqliteConnection,
    branch_id: i64,
    people: &[Person],
    now: i64,
) -> AppResult<Applied> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT p.id AS "id!", p.branch_id, p.name, p.status, p.duty, p.phone, p.takes_test,
                  p.joined_on, p.full_on, p.on_probation, p.left_at, NULL AS "user_id?: i64"
           FROM roster_people p WHERE p.branch_id = ? ORDER BY p.id"#,
        branch_id
    )
    .fetch_all(&mut *tx)
    .await?;
    // The newest row of each name: a current one, or the last who left under that name.
    let mut by_name: HashMap<String, Stored> = HashMap::new();
    for row in rows {
        let stored = row.into_stored();
        let replace = by_name
            .get(&stored.person.name)
            .is_none_or(|old| old.left_at.is_some());
        if replace {
            by_name.insert(stored.person.name.clone(), stored);
        }
    }
    let mut out = Applied {
        total: people.len(),
        ..Applied::default()
    };
    for p in people {
        let status = p.status.key();
        let duty = p.duty.map(Duty::key);
        let takes = p.takes_test.map(i64::from);
        let joined = date_text(p.joined_on);
        let full = date_text(p.full_on);
        let probation = i64::from(p.on_probation);
        match by_name.remove(&p.name) {
            Some(old) if old.left_at.is_none() && old.person == *p => {}
            Some(old) => {
                if old.left_at.is_some() {
                    out.added += 1;
                } else {
                    out.changed += 1;
                }
                sqlx::query!(
                    "UPDATE roster_people SET status = ?, duty = ?, phone = ?, takes_test = ?,
                     joined_on = ?, full_on = ?, on_probation = ?, left_at = NULL, updated_at = ?
                     WHERE id = ?",
                    status,
                    duty,
                    p.phone,
                    takes,
                    joined,
                    full,
                    probation,
                    now,
                    old.id
                )
                .execute(&mut *tx)
                .await?;
            }
            None => {
                out.added += 1;
                sqlx::query!(
                    "INSERT INTO roster_people (branch_id, name, status, duty, phone, takes_test,
                     joined_on, full_on, on_probation, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    branch_id,
                    p.name,
                    status,
                    duty,
                    p.phone,
                    takes,
                    joined,
                    full,
                    probation,
                    now,
                    now
                )
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    for gone in by_name.values().filter(|s| s.left_at.is_none()) {
        out.left += 1;
        sqlx::query!(
            "UPDATE roster_people SET left_at = ?, updated_at = ? WHERE id = ?",
            now,
            now,
            gone.id
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(out)
}

// ---- pending uploads ------------------------------------------------------------------------

/// A checked sheet waiting for its uploader's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: i64,
    pub branch_id: i64,
    pub uploader_id: i64,
    pub file_name: String,
    /// JSON of the validated `Vec<Person>`.
    pub people: String,
    pub created_at: i64,
    pub applied_at: Option<i64>,
    pub cancelled_at: Option<i64>,
}

pub async fn create_upload(
    db: &Db,
    branch_id: i64,
    uploader_id: i64,
    file_name: &str,
    people_json: &str,
    now: i64,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO roster_uploads (branch_id, uploader_id, file_name, people, created_at)
           VALUES (?, ?, ?, ?, ?) RETURNING id AS "id!""#,
        branch_id,
        uploader_id,
        file_name,
        people_json,
        now
    )
    .fetch_one(db)
    .await?)
}

pub async fn upload(db: &Db, id: i64) -> AppResult<Option<Upload>> {
    Ok(sqlx::query_as!(
        Upload,
        r#"SELECT id AS "id!", branch_id, uploader_id, file_name, people, created_at, applied_at,
                  cancelled_at
           FROM roster_uploads WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// When the branch's roster last changed (a person added, changed or 转出), if ever.
pub async fn last_change(db: &Db, branch_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MAX(MAX(updated_at, COALESCE(left_at, 0))) AS "at: i64"
           FROM roster_people WHERE branch_id = ?"#,
        branch_id
    )
    .fetch_one(db)
    .await?)
}

/// The newest upload for the branch; only it may be applied.
pub async fn newest_upload(db: &Db, branch_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MAX(id) AS "id: i64" FROM roster_uploads WHERE branch_id = ?"#,
        branch_id
    )
    .fetch_one(db)
    .await?)
}

/// Marks a pending upload cancelled; false when it was decided already.
pub async fn cancel_upload(db: &Db, id: i64, now: i64) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE roster_uploads SET cancelled_at = ?
         WHERE id = ? AND applied_at IS NULL AND cancelled_at IS NULL",
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remembers that `/roster upload` was sent: the next sheet from `user` in `chat` until
/// `expires_at` is a roster.
pub async fn expect_upload(db: &Db, chat_id: i64, user_id: i64, expires_at: i64) -> AppResult<()> {
    sqlx::query!(
        "INSERT INTO roster_upload_requests (chat_id, user_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT(chat_id, user_id) DO UPDATE SET expires_at = excluded.expires_at",
        chat_id,
        user_id,
        expires_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a roster sheet is expected from `user` in `chat` at `now`; the request is used up.
pub async fn take_upload_request(db: &Db, chat_id: i64, user_id: i64, now: i64) -> AppResult<bool> {
    let row = sqlx::query_scalar!(
        "DELETE FROM roster_upload_requests WHERE chat_id = ? AND user_id = ? RETURNING expires_at",
        chat_id,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.is_some_and(|expires| expires >= now))
}

// ---- links and claims -----------------------------------------------------------------------

/// How an account came to be linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Phone,
    Secretary,
}

/// Links `user` to `person` unless either is linked already; an old link of the user to
/// someone no longer on a roster (转出, or in a branch they left) gives way. Open claims of the
/// user or for the person are closed as superseded. False when the person or user is taken.
pub async fn link(
    db: &Db,
    person_id: i64,
    user_id: i64,
    via: Via,
    confirmed_by: Option<i64>,
    now: i64,
) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let via = match via {
        Via::Phone => "phone",
        Via::Secretary => "secretary",
    };
    // A link to a person who left, or who is on another branch's roster than the user's
    // current branch, is history: it gives way to the new one.
    sqlx::query!(
        "DELETE FROM roster_links WHERE user_id = ? AND person_id IN (
             SELECT p.id FROM roster_people p
             WHERE p.left_at IS NOT NULL
                OR p.branch_id NOT IN (SELECT branch_id FROM members WHERE user_id = ?))",
        user_id,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query!(
        "INSERT OR IGNORE INTO roster_links (person_id, user_id, via, confirmed_by, linked_at)
         VALUES (?, ?, ?, ?, ?)",
        person_id,
        user_id,
        via,
        confirmed_by,
        now
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query!(
            "UPDATE roster_claims SET decided_at = ?, outcome = 'superseded'
             WHERE decided_at IS NULL AND (person_id = ? OR user_id = ?)",
            now,
            person_id,
            user_id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Removes the link of `person`; false when there was none.
pub async fn unlink(db: &Db, person_id: i64) -> AppResult<bool> {
    let done = sqlx::query!("DELETE FROM roster_links WHERE person_id = ?", person_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The current roster person of `branch` linked to `user`, if any.
pub async fn linked_in(db: &Db, branch_id: i64, user_id: i64) -> AppResult<Option<Stored>> {
    Ok(current(db, branch_id)
        .await?
        .into_iter()
        .find(|p| p.user_id == Some(user_id)))
}

/// A claim by name, waiting for or decided by the secretary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub person_id: i64,
    pub user_id: i64,
    pub decided_at: Option<i64>,
}

pub async fn create_claim(db: &Db, person_id: i64, user_id: i64, now: i64) -> AppResult<i64> {
    let mut tx = crate::storage::write(db).await?;
    // One open claim per person and account: a new choice replaces the user's earlier one.
    sqlx::query!(
        "UPDATE roster_claims SET decided_at = ?, outcome = 'superseded'
         WHERE decided_at IS NULL AND user_id = ?",
        now,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO roster_claims (person_id, user_id, created_at) VALUES (?, ?, ?)
           RETURNING id AS "id!""#,
        person_id,
        user_id,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn claim(db: &Db, id: i64) -> AppResult<Option<Claim>> {
    Ok(sqlx::query_as!(
        Claim,
        r#"SELECT id AS "id!", person_id, user_id, decided_at FROM roster_claims WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// Closes an open claim; false when it was decided already.
pub async fn decide_claim(db: &Db, id: i64, by: i64, confirmed: bool, now: i64) -> AppResult<bool> {
    let outcome = if confirmed { "confirmed" } else { "refused" };
    let done = sqlx::query!(
        "UPDATE roster_claims SET decided_at = ?, decided_by = ?, outcome = ?
         WHERE id = ? AND decided_at IS NULL",
        now,
        by,
        outcome,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn person(db: &Db, id: i64) -> AppResult<Option<Stored>> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT p.id AS "id!", p.branch_id, p.name, p.status, p.duty, p.phone, p.takes_test,
                  p.joined_on, p.full_on, p.on_probation, p.left_at, l.user_id AS "user_id?"
           FROM roster_people p LEFT JOIN roster_links l ON l.person_id = p.id
           WHERE p.id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Row::into_stored))
}

// ---- reminders ------------------------------------------------------------------------------

/// A 预备党员 of an active branch with 入党日期 and no 转正 recorded, not yet reminded about the
/// 预备期 that began on `joined_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbationCandidate {
    pub person_id: i64,
    pub branch_id: i64,
    pub chat_id: i64,
    pub branch_name: String,
    /// The branch's organisation: `/overdue` shows an administrator their subtree only.
    pub org_id: i64,
    pub name: String,
    pub joined_on: String,
}

pub async fn probation_candidates(db: &Db) -> AppResult<Vec<ProbationCandidate>> {
    Ok(sqlx::query_as!(
        ProbationCandidate,
        r#"SELECT p.id AS "person_id!", p.branch_id, b.chat_id, b.name AS branch_name, b.org_id, p.name,
                  p.joined_on AS "joined_on!"
           FROM roster_people p JOIN branches b ON b.id = p.branch_id
           WHERE p.status = 'probationary' AND p.full_on IS NULL AND p.joined_on IS NOT NULL
             AND p.left_at IS NULL AND b.active = 1
             AND NOT EXISTS (SELECT 1 FROM roster_reminders r
                             WHERE r.person_id = p.id AND r.what = 'probation:' || p.joined_on)
           ORDER BY p.branch_id, p.id"#
    )
    .fetch_all(db)
    .await?)
}

/// Every 预备党员 of an active branch with 入党日期 and no 转正 recorded, reminded or not (for
/// `/overdue`), by branch.
pub async fn probationers(db: &Db) -> AppResult<Vec<ProbationCandidate>> {
    Ok(sqlx::query_as!(
        ProbationCandidate,
        r#"SELECT p.id AS "person_id!", p.branch_id, b.chat_id, b.name AS branch_name, b.org_id, p.name,
                  p.joined_on AS "joined_on!"
           FROM roster_people p JOIN branches b ON b.id = p.branch_id
           WHERE p.status = 'probationary' AND p.full_on IS NULL AND p.joined_on IS NOT NULL
             AND p.left_at IS NULL AND b.active = 1
           ORDER BY p.branch_id, p.id"#
    )
    .fetch_all(db)
    .await?)
}

/// Records that `people` were reminded about their 预备期 and queues `message`, in one
/// transaction: the reminder goes out once even if the bot stops in between.
pub async fn queue_probation_reminder(
    db: &Db,
    people: &[&ProbationCandidate],
    message: &crate::storage::outbox::NewMessage,
    now: i64,
) -> AppResult<()> {
    let mut tx = crate::storage::write(db).await?;
    for p in people {
        let what = format!("probation:{}", p.joined_on);
        sqlx::query!(
            "INSERT OR IGNORE INTO roster_reminders (person_id, what, queued_at) VALUES (?, ?, ?)",
            p.person_id,
            what,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    crate::storage::outbox::enqueue(&mut *tx, message, now).await?;
    tx.commit().await?;
    Ok(())
}

// ---- participation --------------------------------------------------------------------------

/// One branch's participation in a round, measured against its roster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Participation {
    pub branch_id: i64,
    /// Without a roster the other fields are empty and reports count joined members instead
    /// ("按已加入人数统计").
    pub has_roster: bool,
    /// 应参加: roster people due for the test who were on the roster during the round.
    pub due: usize,
    /// 实参加: those of `due` whose linked account finished (or ran out of time in) the round.
    pub took: usize,
    /// 未加入（从未使用机器人）: due, with no linked account.
    pub never_joined: Vec<String>,
    /// 未参加: due, linked, and no finished attempt in the round.
    pub not_taken: Vec<String>,
}

/// Participation in `round_id` for each of `branch_ids`, in that order. A person counts for a
/// round when they were on the roster while it ran (added before it closed, not 转出 before it
/// opened), so a later upload does not rewrite an old round's figures. 身份, 职务 and
/// 参加业务测试 are read as they stand now. `scope` is the deployment's default for people whose
/// 参加业务测试 is empty.
pub async fn participation(
    db: &Db,
    round_id: i64,
    branch_ids: &[i64],
    scope: TestScope,
) -> AppResult<Vec<Participation>> {
    let mut conn = db.acquire().await?;
    participation_in(&mut conn, round_id, branch_ids, scope).await
}

/// [`participation`] on a connection (a report's read transaction), in one query for all the
/// branches: a report of 20,000 branches asks once, not 20,000 times.
pub async fn participation_in(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    branch_ids: &[i64],
    scope: TestScope,
) -> AppResult<Vec<Participation>> {
    let mut out: Vec<Participation> = branch_ids
        .iter()
        .map(|&branch_id| Participation {
            branch_id,
            ..Participation::default()
        })
        .collect();
    let Some(round) = sqlx::query!(
        r#"SELECT opens_at, COALESCE(closed_at, closes_at) AS "ends_at!: i64" FROM rounds WHERE id = ?"#,
        round_id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(out);
    };
    let index: HashMap<i64, usize> = branch_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    let list = serde_json::to_string(branch_ids).unwrap_or_else(|_| "[]".to_owned());
    let rows = sqlx::query!(
        r#"SELECT p.branch_id, p.name, p.status, p.duty, p.takes_test, l.user_id AS "user_id?: i64",
                  EXISTS (SELECT 1 FROM attempts a WHERE a.round_id = ?1 AND a.user_id = l.user_id
                          AND a.status IN ('finished', 'timed_out')) AS "took!: bool"
           FROM roster_people p LEFT JOIN roster_links l ON l.person_id = p.id
           WHERE p.branch_id IN (SELECT value FROM json_each(?2))
             AND p.created_at <= ?3 AND (p.left_at IS NULL OR p.left_at > ?4)
           ORDER BY p.branch_id, p.id"#,
        round_id,
        list,
        round.ends_at,
        round.opens_at
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let Some(part) = index.get(&row.branch_id).map(|&i| &mut out[i]) else {
            continue;
        };
        // A roster uploaded after the round does not make the round's figures "by roster".
        part.has_roster = true;
        let person = Person {
            name: row.name,
            status: Status::from_key(&row.status).unwrap_or(Status::Other),
            duty: row.duty.as_deref().and_then(Duty::from_key),
            phone: None,
            takes_test: row.takes_test.map(|v| v != 0),
            joined_on: None,
            full_on: None,
            on_probation: false,
        };
        if !person.due_for_test(scope) {
            continue;
        }
        part.due += 1;
        match (row.user_id, row.took) {
            (None, _) => part.never_joined.push(person.name),
            (Some(_), true) => part.took += 1,
            (Some(_), false) => part.not_taken.push(person.name),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
