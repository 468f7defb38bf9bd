//! Summaries of closed rounds: each branch's counts and the round's question analysis, written
//! once when the round closes, so its report and the trend read a few thousand rows instead of
//! a million answers.
//!
//! A summary records how many submitted attempts it counted and the pass mark it counted with.
//! A report checks both against the round as it is (one count on a covering index); if they
//! differ — an answer accepted after the close, a changed pass mark — the summary is not used
//! and is written again, so a report never shows a stale figure.

use crate::error::AppResult;
use crate::reports::model::QuestionRow;
use crate::storage::reports::{self, BranchCounts};
use crate::storage::Db;

/// A closed round's summary, when it still matches the round.
#[derive(Debug, Clone)]
pub struct Summary {
    pub participants: i64,
    pub score_sum: i64,
    pub questions: Vec<QuestionRow>,
    pub reliability: Option<f64>,
}

/// Submitted attempts of a round, on the covering index `attempts_round_results`.
async fn submitted(conn: &mut sqlx::SqliteConnection, round_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM attempts
           WHERE round_id = ? AND status IN ('finished', 'timed_out')"#,
        round_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The round's summary if there is one and it still counts what the round holds.
pub async fn fresh(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    pass_mark: u32,
) -> AppResult<Option<Summary>> {
    let Some(row) = sqlx::query!(
        r#"SELECT attempts, participants, score_sum, pass_mark, reliability, questions
           FROM round_summaries WHERE round_id = ?"#,
        round_id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    if row.pass_mark != i64::from(pass_mark) || row.attempts != submitted(conn, round_id).await? {
        return Ok(None);
    }
    // A summary that no longer decodes (written by another version) is simply not used.
    let Ok(questions) = serde_json::from_str(&row.questions) else {
        return Ok(None);
    };
    Ok(Some(Summary {
        participants: row.participants,
        score_sum: row.score_sum,
        questions,
        reliability: row.reliability,
    }))
}

/// Branch counts of a summarised round (only the listed branches when `only` is a JSON list).
pub async fn branch_counts(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
) -> AppResult<Vec<BranchCounts>> {
    Ok(sqlx::query_as!(
        BranchCounts,
        r#"SELECT b.id AS "id!", b.name, b.kind, r.org_id,
                  r.members AS "members!: i64", r.participants AS "participants!: i64",
                  r.scored AS "scored!: i64", r.score_sum AS "score_sum!: i64",
                  r.passed AS "passed!: i64", r.by_roster AS "by_roster!: bool"
           FROM round_branch_orgs r
           JOIN branches b ON b.id = r.branch_id AND b.active = 1
           WHERE r.round_id = ?1 AND r.members IS NOT NULL
             AND (?2 IS NULL OR r.branch_id IN (SELECT value FROM json_each(?2)))
           ORDER BY b.name, b.id"#,
        round_id,
        only
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Attempts scored and their score sum per summarised round among `rounds` (within `only` when
/// given): the trend's participants and average.
/// A summary that no longer counts what its round holds is left out: the caller counts live.
pub async fn trend_totals(
    conn: &mut sqlx::SqliteConnection,
    rounds: &str,
    only: Option<&str>,
) -> AppResult<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT s.round_id AS "round_id!",
                  CASE WHEN ?2 IS NULL THEN s.participants
                       ELSE (SELECT COALESCE(SUM(r.scored), 0) FROM round_branch_orgs r
                             WHERE r.round_id = s.round_id
                               AND r.branch_id IN (SELECT value FROM json_each(?2))) END
                    AS "participants!: i64",
                  CASE WHEN ?2 IS NULL THEN s.score_sum
                       ELSE (SELECT COALESCE(SUM(r.score_sum), 0) FROM round_branch_orgs r
                             WHERE r.round_id = s.round_id
                               AND r.branch_id IN (SELECT value FROM json_each(?2))) END
                    AS "score_sum!: i64"
           FROM round_summaries s
           WHERE s.round_id IN (SELECT value FROM json_each(?1))
             AND s.attempts = (SELECT COUNT(*) FROM attempts a WHERE a.round_id = s.round_id
                                 AND a.status IN ('finished', 'timed_out'))"#,
        rounds,
        only
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.round_id, r.participants, r.score_sum))
        .collect())
}

/// Computes a closed round's summary from its answers and stores it. The reading is one read
/// transaction (a consistent snapshot); the write takes the lock only to store the result, and
/// stores nothing if an attempt was submitted meanwhile (the next report summarises again).
/// Returns whether it was stored.
pub async fn write(db: &Db, round_id: i64, options: &reports::ReportOptions) -> AppResult<bool> {
    let mut read = db.begin().await?;
    let counted = submitted(&mut read, round_id).await?;
    let branches = reports::counted_branches(&mut read, round_id, None, options).await?;
    let (questions, reliability) =
        reports::question_analysis_in(&mut read, round_id, &options.thresholds).await?;
    let totals = sqlx::query!(
        r#"SELECT COUNT(*) AS "participants!: i64", COALESCE(SUM(score), 0) AS "score_sum!: i64",
                  COALESCE(SUM(score >= ?2), 0) AS "passed!: i64"
           FROM attempts WHERE round_id = ?1 AND status IN ('finished', 'timed_out')"#,
        round_id,
        options.pass_mark
    )
    .fetch_one(&mut *read)
    .await?;
    read.commit().await?;

    let json = serde_json::to_string(&questions)
        .map_err(|e| crate::error::AppError::Report(format!("summary: {e}")))?;
    let now = chrono::Utc::now().timestamp();
    let mut tx = crate::storage::write(db).await?;
    if submitted(&mut tx, round_id).await? != counted {
        return Ok(false);
    }
    for b in &branches {
        sqlx::query!(
            "INSERT INTO round_branch_orgs (round_id, branch_id, org_id, members, participants, scored,
                                            score_sum, passed, by_roster)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (round_id, branch_id) DO UPDATE SET members = ?4, participants = ?5,
                 scored = ?6, score_sum = ?7, passed = ?8, by_roster = ?9",
            round_id,
            b.id,
            b.org_id,
            b.members,
            b.participants,
            b.scored,
            b.score_sum,
            b.passed,
            b.by_roster
        )
        .execute(&mut *tx)
        .await?;
    }
    let pass_mark = i64::from(options.pass_mark);
    sqlx::query!(
        "INSERT INTO round_summaries (round_id, attempts, participants, score_sum, passed, pass_mark,
                                      reliability, questions, written_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (round_id) DO UPDATE SET attempts = ?2, participants = ?3, score_sum = ?4,
             passed = ?5, pass_mark = ?6, reliability = ?7, questions = ?8, written_at = ?9",
        round_id,
        counted,
        totals.participants,
        totals.score_sum,
        totals.passed,
        pass_mark,
        reliability,
        json,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Makes sure a closed round has a summary that matches it, writing one if not.
pub async fn ensure(db: &Db, round_id: i64, options: &reports::ReportOptions) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    if fresh(&mut conn, round_id, options.pass_mark)
        .await?
        .is_some()
    {
        return Ok(());
    }
    drop(conn);
    write(db, round_id, options).await.map(drop)
}
