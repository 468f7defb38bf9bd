//! Terms, meeting plans and meeting occurrences.

use chrono::NaiveDate;
use sqlx::{Executor, Sqlite};

use crate::domain::term::Term;
use crate::error::AppResult;
use crate::storage::Db;

/// The open term of a branch, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermRow {
    pub id: i64,
    pub branch_id: i64,
    pub term: Term,
}

struct RawTerm {
    id: i64,
    branch_id: i64,
    elected_on: NaiveDate,
    years: i64,
    ends_on: NaiveDate,
    delayed_to: Option<NaiveDate>,
}

impl From<RawTerm> for TermRow {
    fn from(raw: RawTerm) -> Self {
        TermRow {
            id: raw.id,
            branch_id: raw.branch_id,
            term: Term {
                elected_on: raw.elected_on,
                years: u32::try_from(raw.years).unwrap_or(3),
                ends_on: raw.ends_on,
                delayed_to: raw.delayed_to,
            },
        }
    }
}

pub fn term_topic(term_id: i64) -> String {
    format!("term:{term_id}")
}

pub async fn open_term(db: &Db, branch_id: i64) -> AppResult<Option<TermRow>> {
    let raw = sqlx::query_as!(
        RawTerm,
        r#"SELECT id AS "id!", branch_id, elected_on AS "elected_on: NaiveDate", years,
                  ends_on AS "ends_on: NaiveDate", delayed_to AS "delayed_to: NaiveDate"
           FROM terms WHERE branch_id = ? AND closed_on IS NULL"#,
        branch_id
    )
    .fetch_optional(db)
    .await?;
    Ok(raw.map(TermRow::from))
}

/// Sets the branch's current term (replacing what `/term` said before), cancelling reminders
/// planned for the old dates. Returns the term id.
pub async fn set_term(
    db: &Db,
    branch_id: i64,
    term: &Term,
    next_check_at: Option<i64>,
    now: i64,
) -> AppResult<i64> {
    let mut tx = crate::storage::write(db).await?;
    let existing = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM terms WHERE branch_id = ? AND closed_on IS NULL"#,
        branch_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let years = i64::from(term.years);
    let id = match existing {
        Some(id) => {
            sqlx::query!(
                "UPDATE terms SET elected_on = ?, years = ?, ends_on = ?, delayed_to = ?, next_check_at = ? WHERE id = ?",
                term.elected_on,
                years,
                term.ends_on,
                term.delayed_to,
                next_check_at,
                id
            )
            .execute(&mut *tx)
            .await?;
            crate::storage::outbox::cancel_topic(&mut *tx, &term_topic(id)).await?;
            id
        }
        None => insert_term(&mut *tx, branch_id, term, next_check_at, now).await?,
    };
    tx.commit().await?;
    Ok(id)
}

async fn insert_term<'c, E>(
    executor: E,
    branch_id: i64,
    term: &Term,
    next_check_at: Option<i64>,
    now: i64,
) -> AppResult<i64>
where
    E: Executor<'c, Database = Sqlite>,
{
    let years = i64::from(term.years);
    let done = sqlx::query!(
        "INSERT INTO terms (branch_id, elected_on, years, ends_on, delayed_to, next_check_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        branch_id,
        term.elected_on,
        years,
        term.ends_on,
        term.delayed_to,
        next_check_at,
        now
    )
    .execute(executor)
    .await?;
    Ok(done.last_insert_rowid())
}

/// `/elected`: closes the open term on the election date and opens the next one.
pub async fn record_election(
    db: &Db,
    branch_id: i64,
    next: &Term,
    next_check_at: Option<i64>,
    now: i64,
    notice: &crate::storage::outbox::NewMessage,
) -> AppResult<i64> {
    let mut tx = crate::storage::write(db).await?;
    if let Some(old) = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM terms WHERE branch_id = ? AND closed_on IS NULL"#,
        branch_id
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        sqlx::query!(
            "UPDATE terms SET closed_on = ?, next_check_at = NULL WHERE id = ?",
            next.elected_on,
            old
        )
        .execute(&mut *tx)
        .await?;
        crate::storage::outbox::cancel_topic(&mut *tx, &term_topic(old)).await?;
    }
    let id = insert_term(&mut *tx, branch_id, next, next_check_at, now).await?;
    // The secretary's confirmation goes out with the change, so a crash cannot keep it back.
    crate::storage::outbox::enqueue(&mut *tx, notice, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// `/delay`: records the approved new end and replans from it.
pub async fn record_delay(
    db: &Db,
    term_id: i64,
    delayed_to: NaiveDate,
    next_check_at: Option<i64>,
) -> AppResult<()> {
    let mut tx = crate::storage::write(db).await?;
    sqlx::query!(
        "UPDATE terms SET delayed_to = ?, next_check_at = ? WHERE id = ?",
        delayed_to,
        next_check_at,
        term_id
    )
    .execute(&mut *tx)
    .await?;
    crate::storage::outbox::cancel_topic(&mut *tx, &term_topic(term_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// A term whose next reminder is due, with where to send it.
#[derive(Debug, Clone)]
pub struct DueTerm {
    pub row: TermRow,
    pub next_check_at: i64,
    pub chat_id: i64,
    pub branch_name: String,
    pub branch_active: bool,
    /// The branch's organisation: escalations go up the tree from it.
    pub org_id: i64,
}

pub async fn due_terms(db: &Db, now: i64, limit: i64) -> AppResult<Vec<DueTerm>> {
    let rows = sqlx::query!(
        r#"SELECT t.id AS "id!", t.branch_id, t.elected_on AS "elected_on: NaiveDate", t.years,
                  t.ends_on AS "ends_on: NaiveDate", t.delayed_to AS "delayed_to: NaiveDate",
                  t.next_check_at AS "next_check_at!", b.chat_id, b.name, b.active AS "active: bool",
                  b.org_id
           FROM terms t JOIN branches b ON b.id = t.branch_id
           WHERE t.next_check_at IS NOT NULL AND t.next_check_at <= ?
           ORDER BY t.next_check_at LIMIT ?"#,
        now,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DueTerm {
            row: TermRow::from(RawTerm {
                id: r.id,
                branch_id: r.branch_id,
                elected_on: r.elected_on,
                years: r.years,
                ends_on: r.ends_on,
                delayed_to: r.delayed_to,
            }),
            next_check_at: r.next_check_at,
            chat_id: r.chat_id,
            branch_name: r.name,
            branch_active: r.active,
            org_id: r.org_id,
        })
        .collect())
}

pub async fn set_next_check<'c, E>(
    executor: E,
    term_id: i64,
    next_check_at: Option<i64>,
) -> AppResult<()>
where
    E: Executor<'c, Database = Sqlite>,
{
    sqlx::query!(
        "UPDATE terms SET next_check_at = ? WHERE id = ?",
        next_check_at,
        term_id
    )
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn next_term_check(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(next_check_at) AS "t: i64" FROM terms WHERE next_check_at IS NOT NULL"#
    )
    .fetch_one(db)
    .await?)
}

/// One entry of a branch's meeting plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: i64,
    pub branch_id: i64,
    pub kind: String,
    pub title: String,
    pub rule_text: String,
    pub cron: String,
    pub next_at: Option<i64>,
}

pub async fn plans(db: &Db, branch_id: i64) -> AppResult<Vec<Plan>> {
    Ok(sqlx::query_as!(
        Plan,
        r#"SELECT id AS "id!", branch_id, kind, title, rule_text, cron, next_at FROM meeting_plans
           WHERE branch_id = ? AND active = 1 ORDER BY id"#,
        branch_id
    )
    .fetch_all(db)
    .await?)
}

pub async fn has_any_plan(db: &Db, branch_id: i64) -> AppResult<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM meeting_plans WHERE branch_id = ? LIMIT 1",
        branch_id
    )
    .fetch_optional(db)
    .await?
    .is_some())
}

/// A plan entry as a secretary (or the default plan) states it.
#[derive(Debug, Clone, Copy)]
pub struct PlanEntry<'a> {
    pub branch_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub rule_text: &'a str,
    pub cron: &'a str,
    pub next_at: Option<i64>,
}

/// Adds or changes the plan entry with this title; a changed schedule cancels the reminders
/// planned for occurrences that have not been materialised under the new schedule.
pub async fn upsert_plan(db: &Db, entry: PlanEntry<'_>, now: i64) -> AppResult<i64> {
    let PlanEntry {
        branch_id,
        kind,
        title,
        rule_text,
        cron,
        next_at,
    } = entry;
    let mut tx = crate::storage::write(db).await?;
    sqlx::query!(
        "INSERT INTO meeting_plans (branch_id, kind, title, rule_text, cron, next_at, active, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT(branch_id, title) DO UPDATE SET kind = excluded.kind, rule_text = excluded.rule_text,
             cron = excluded.cron, next_at = excluded.next_at, active = 1",
        branch_id,
        kind,
        title,
        rule_text,
        cron,
        next_at,
        now
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM meeting_plans WHERE branch_id = ? AND title = ?"#,
        branch_id,
        title
    )
    .fetch_one(&mut *tx)
    .await?;
    // Pending occurrences of the old schedule no longer apply; their reminders go with them.
    drop_future_occurrences(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Forgets the plan's occurrences still ahead, and cancels their reminders: the schedule they
/// came from has changed or is gone. What already happened stays.
async fn drop_future_occurrences(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    plan_id: i64,
    now: i64,
) -> AppResult<()> {
    let pending = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM meeting_occurrences WHERE plan_id = ? AND status = 'pending' AND scheduled_at > ?"#,
        plan_id,
        now
    )
    .fetch_all(&mut **tx)
    .await?;
    for occurrence in pending {
        crate::storage::outbox::cancel_topic(&mut **tx, &meeting_topic(occurrence)).await?;
        sqlx::query!("DELETE FROM meeting_occurrences WHERE id = ?", occurrence)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Removes a plan entry from future planning; its history stays.
pub async fn deactivate_plan(db: &Db, plan_id: i64, now: i64) -> AppResult<()> {
    let mut tx = crate::storage::write(db).await?;
    sqlx::query!(
        "UPDATE meeting_plans SET active = 0, next_at = NULL WHERE id = ?",
        plan_id
    )
    .execute(&mut *tx)
    .await?;
    drop_future_occurrences(&mut tx, plan_id, now).await?;
    tx.commit().await?;
    Ok(())
}

pub fn meeting_topic(occurrence_id: i64) -> String {
    format!("meeting:{occurrence_id}")
}

/// A plan whose next occurrence is due to be materialised.
#[derive(Debug, Clone)]
pub struct DuePlan {
    pub plan: Plan,
    pub chat_id: i64,
    pub branch_active: bool,
}

pub async fn due_plans(db: &Db, now: i64, limit: i64) -> AppResult<Vec<DuePlan>> {
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id!", p.branch_id, p.kind, p.title, p.rule_text, p.cron, p.next_at,
                  b.chat_id, b.active AS "active: bool"
           FROM meeting_plans p JOIN branches b ON b.id = p.branch_id
           WHERE p.active = 1 AND p.next_at <= ? ORDER BY p.next_at LIMIT ?"#,
        now,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DuePlan {
            plan: Plan {
                id: r.id,
                branch_id: r.branch_id,
                kind: r.kind,
                title: r.title,
                rule_text: r.rule_text,
                cron: r.cron,
                next_at: r.next_at,
            },
            chat_id: r.chat_id,
            branch_active: r.active,
        })
        .collect())
}

pub async fn set_plan_next<'c, E>(executor: E, plan_id: i64, next_at: Option<i64>) -> AppResult<()>
where
    E: Executor<'c, Database = Sqlite>,
{
    sqlx::query!(
        "UPDATE meeting_plans SET next_at = ? WHERE id = ?",
        next_at,
        plan_id
    )
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn next_plan_due(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(next_at) AS "t: i64" FROM meeting_plans WHERE active = 1"#
    )
    .fetch_one(db)
    .await?)
}

/// Materialises an occurrence; None when it already exists.
pub async fn insert_occurrence<'c, E>(
    executor: E,
    plan_id: i64,
    branch_id: i64,
    scheduled_at: i64,
    period_end: i64,
) -> AppResult<Option<i64>>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query!(
        "INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end) VALUES (?, ?, ?, ?)
         ON CONFLICT(plan_id, scheduled_at) DO NOTHING",
        plan_id,
        branch_id,
        scheduled_at,
        period_end
    )
    .execute(executor)
    .await?;
    Ok((done.rows_affected() == 1).then(|| done.last_insert_rowid()))
}

/// A meeting occurrence with its plan and branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub id: i64,
    pub plan_id: i64,
    pub branch_id: i64,
    pub chat_id: i64,
    pub title: String,
    pub scheduled_at: i64,
    pub moved_to: Option<i64>,
    pub period_end: i64,
    pub status: String,
    pub held_on: Option<NaiveDate>,
}

impl Occurrence {
    /// When the meeting takes place now (after a move, if any).
    pub fn at(&self) -> i64 {
        self.moved_to.unwrap_or(self.scheduled_at)
    }
}

pub async fn occurrence(db: &Db, id: i64) -> AppResult<Option<Occurrence>> {
    Ok(sqlx::query_as!(
        Occurrence,
        r#"SELECT o.id AS "id!", o.plan_id, o.branch_id, b.chat_id, p.title, o.scheduled_at, o.moved_to,
                  o.period_end, o.status, o.held_on AS "held_on: NaiveDate"
           FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id JOIN branches b ON b.id = o.branch_id
           WHERE o.id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// The earliest occurrence of this plan still waiting to be recorded.
pub async fn pending_occurrence(db: &Db, plan_id: i64) -> AppResult<Option<Occurrence>> {
    Ok(sqlx::query_as!(
        Occurrence,
        r#"SELECT o.id AS "id!", o.plan_id, o.branch_id, b.chat_id, p.title, o.scheduled_at, o.moved_to,
                  o.period_end, o.status, o.held_on AS "held_on: NaiveDate"
           FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id JOIN branches b ON b.id = o.branch_id
           WHERE o.plan_id = ? AND o.status = 'pending' ORDER BY o.scheduled_at LIMIT 1"#,
        plan_id
    )
    .fetch_optional(db)
    .await?)
}

/// Records an occurrence as held and cancels its remaining reminders; false if it was not pending.
pub async fn mark_held(
    db: &Db,
    occurrence_id: i64,
    held_on: NaiveDate,
    by: i64,
) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let done = sqlx::query!(
        "UPDATE meeting_occurrences SET status = 'held', held_on = ?, recorded_by = ? WHERE id = ? AND status = 'pending'",
        held_on,
        by,
        occurrence_id
    )
    .execute(&mut *tx)
    .await?;
    crate::storage::outbox::cancel_topic(&mut *tx, &meeting_topic(occurrence_id)).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Records the plan's occurrence at `scheduled_at` as held, whether or not the planner has
/// materialised it yet: when it does, the row exists and no reminder is queued. Cancels what
/// is queued for it. `None` when that occurrence was recorded as held on another day already;
/// recorded again for the same day (a redelivered `/held`), it stays one record.
pub async fn hold_planned(
    db: &Db,
    plan_id: i64,
    branch_id: i64,
    scheduled_at: i64,
    period_end: i64,
    held_on: NaiveDate,
    by: i64,
) -> AppResult<Option<i64>> {
    let mut tx = crate::storage::write(db).await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end, status, held_on, recorded_by)
           VALUES (?, ?, ?, ?, 'held', ?, ?)
           ON CONFLICT(plan_id, scheduled_at) DO UPDATE SET status = 'held', held_on = excluded.held_on,
               recorded_by = excluded.recorded_by
           WHERE meeting_occurrences.status != 'held'
              OR meeting_occurrences.held_on = excluded.held_on
           RETURNING id AS "id!""#,
        plan_id,
        branch_id,
        scheduled_at,
        period_end,
        held_on,
        by
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        crate::storage::outbox::cancel_topic(&mut *tx, &meeting_topic(id)).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Records a meeting held outside the plan's materialised occurrences (e.g. `/held` before the
/// reminder went out): a held occurrence at the given instant.
pub async fn insert_held(
    db: &Db,
    plan_id: i64,
    branch_id: i64,
    at: i64,
    held_on: NaiveDate,
    by: i64,
) -> AppResult<()> {
    sqlx::query!(
        "INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end, status, held_on, recorded_by)
         VALUES (?, ?, ?, ?, 'held', ?, ?)
         ON CONFLICT(plan_id, scheduled_at) DO UPDATE SET status = 'held', held_on = excluded.held_on,
             recorded_by = excluded.recorded_by",
        plan_id,
        branch_id,
        at,
        at,
        held_on,
        by
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Moves an occurrence: its old reminders are cancelled and `reminders` (for the new time) queued,
/// all in one transaction.
pub async fn move_occurrence(
    db: &Db,
    occurrence_id: i64,
    new_at: i64,
    period_end: i64,
    reminders: &[crate::storage::outbox::NewMessage],
    now: i64,
) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let done = sqlx::query!(
        "UPDATE meeting_occurrences SET moved_to = ?, period_end = MAX(period_end, ?) WHERE id = ? AND status = 'pending'",
        new_at,
        period_end,
        occurrence_id
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    crate::storage::outbox::cancel_topic(&mut *tx, &meeting_topic(occurrence_id)).await?;
    for reminder in reminders {
        crate::storage::outbox::enqueue(&mut *tx, reminder, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// An occurrence whose period ended with nothing recorded, as its escalation needs it.
#[derive(Debug, Clone)]
pub struct Missed {
    pub occurrence: i64,
    pub branch_name: String,
    pub org_id: i64,
    pub title: String,
    pub scheduled_at: i64,
    pub period_end: i64,
}

/// Occurrences whose period ended with nothing recorded become missed; returns those of
/// active branches, so the caller can escalate them in the same transaction.
pub async fn sweep_missed(conn: &mut sqlx::SqliteConnection, now: i64) -> AppResult<Vec<Missed>> {
    let missed = sqlx::query_as!(
        Missed,
        r#"SELECT o.id AS "occurrence!", b.name AS branch_name, b.org_id, p.title,
                  COALESCE(o.moved_to, o.scheduled_at) AS "scheduled_at!: i64", o.period_end
           FROM meeting_occurrences o
           JOIN meeting_plans p ON p.id = o.plan_id
           JOIN branches b ON b.id = o.branch_id AND b.active = 1
           WHERE o.status = 'pending' AND o.period_end <= ?
           ORDER BY o.id"#,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE meeting_occurrences SET status = 'missed' WHERE status = 'pending' AND period_end <= ?",
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(missed)
}

pub async fn next_period_end(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(period_end) AS "t: i64" FROM meeting_occurrences WHERE status = 'pending'"#
    )
    .fetch_one(db)
    .await?)
}

/// How the branch's meetings went: (held, missed, pending) occurrences.
pub async fn meeting_counts(db: &Db, branch_id: i64) -> AppResult<(i64, i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT COALESCE(SUM(status = 'held'), 0) AS "held!: i64",
                  COALESCE(SUM(status = 'missed'), 0) AS "missed!: i64",
                  COALESCE(SUM(status = 'pending'), 0) AS "pending!: i64"
           FROM meeting_occurrences WHERE branch_id = ?"#,
        branch_id
    )
    .fetch_one(db)
    .await?;
    Ok((row.held, row.missed, row.pending))
}
