//! Attempts at a round's test, the answers given in them, and `/practice` state.
//!
//! Every change that a button press makes is one statement guarded by the state it expects
//! (`chosen IS NULL`, `status = 'in_progress'`, the practice nonce), so a double press, a late
//! press or two presses racing each other change the database at most once.

use rusqlite::types::Value;
use sqlx::{Executor, Sqlite, SqliteConnection};

use crate::domain::quiz as domain;
use crate::error::AppResult;
use crate::storage::direct::DirectWrites;
use crate::storage::Db;

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    InProgress,
    Finished,
    /// Ended by the time limit or by the round closing; unanswered questions count as wrong.
    TimedOut,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::InProgress => "in_progress",
            AttemptStatus::Finished => "finished",
            AttemptStatus::TimedOut => "timed_out",
        }
    }

    /// Unknown values read as finished: the schema's CHECK makes them impossible, and an
    /// attempt that cannot be read must never be answerable.
    fn parse(value: &str) -> Self {
        match value {
            "in_progress" => AttemptStatus::InProgress,
            "timed_out" => AttemptStatus::TimedOut,
            _ => AttemptStatus::Finished,
        }
    }
}

/// One trainee's test in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub round_id: i64,
    pub user_id: i64,
    /// The branch the trainee belonged to when starting, for reports by branch.
    pub branch_id: Option<i64>,
    pub started_at: i64,
    /// The server refuses answers from this instant on.
    pub deadline_at: i64,
    pub finished_at: Option<i64>,
    pub status: AttemptStatus,
    pub question_count: i64,
    pub correct_count: Option<i64>,
    /// Out of 100, set when the attempt ends.
    pub score: Option<i64>,
}

struct RawAttempt {
    id: i64,
    round_id: i64,
    user_id: i64,
    branch_id: Option<i64>,
    started_at: i64,
    deadline_at: i64,
    finished_at: Option<i64>,
    status: String,
    question_count: i64,
    correct_count: Option<i64>,
    score: Option<i64>,
}

impl From<RawAttempt> for Attempt {
    fn from(raw: RawAttempt) -> Self {
        Attempt {
            id: raw.id,
            round_id: raw.round_id,
            user_id: raw.user_id,
            branch_id: raw.branch_id,
            started_at: raw.started_at,
            deadline_at: raw.deadline_at,
            finished_at: raw.finished_at,
            status: AttemptStatus::parse(&raw.status),
            question_count: raw.question_count,
            correct_count: raw.correct_count,
            score: raw.score,
        }
    }
}

/// One drawn question of an attempt and what was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptQuestion {
    pub attempt_id: i64,
    pub position: i64,
    pub question_id: String,
    /// Digit string: shown position `i` holds original option `option_order[i]`.
    pub option_order: String,
    /// 多选 toggles so far (original indices as digits), kept so they survive a restart.
    pub selection: String,
    /// The answer given (original indices as digits); `None` while unanswered.
    pub chosen: Option<String>,
    pub is_correct: Option<bool>,
    pub answered_at: Option<i64>,
    /// The message sent to show this question. The test is one message edited in place, so
    /// from this question on it shows the test (see [`live_message`]); `None` for questions
    /// shown in an earlier message's edits.
    pub message_id: Option<i64>,
    /// The question as it was when the attempt started (JSON of a `Question`); `None` for
    /// attempts from before copies were kept.
    pub question_copy: Option<String>,
}

/// What a new attempt starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    pub round_id: i64,
    pub user_id: i64,
    pub branch_id: Option<i64>,
    pub started_at: i64,
    pub deadline_at: i64,
    /// `(question_id, option_order)` in test order.
    pub questions: Vec<(String, String)>,
}

/// The result of asking for a new attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new attempt, with its questions in test order as stored (each with its copy).
    Created(Attempt, Vec<AttemptQuestion>),
    /// The trainee already has an attempt in this round (one attempt per round).
    Existing(Attempt),
}

/// Stored when an attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub correct: u32,
    pub total: u32,
    pub score: u32,
}

/// Creates the attempt and its questions in one transaction, or returns the attempt the trainee
/// already has in this round.
pub async fn start_attempt(db: &Db, new: &NewAttempt) -> AppResult<Started> {
    let mut tx = crate::storage::write(db).await?;
    let count = new.questions.len() as i64;
    // The new row as stored, defaults included: no read after the insert.
    let inserted = sqlx::query_as!(
        RawAttempt,
        r#"INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, question_count)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(round_id, user_id) DO NOTHING
           RETURNING id AS "id!", round_id AS "round_id!", user_id AS "user_id!", branch_id,
                     started_at AS "started_at!", deadline_at AS "deadline_at!", finished_at,
                     status AS "status!", question_count AS "question_count!", correct_count, score"#,
        new.round_id,
        new.user_id,
        new.branch_id,
        new.started_at,
        new.deadline_at,
        count
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(attempt) = inserted.map(Attempt::from) else {
        tx.rollback().await?;
        return match attempt_in_round(db, new.round_id, new.user_id).await? {
            Some(existing) => Ok(Started::Existing(existing)),
            None => Err(sqlx::Error::RowNotFound.into()),
        };
    };
    let id = attempt.id;
    // One statement for all the questions (a round trip each would cost more than the rest
    // of starting a test): `[[question_id, option_order], ...]` in test order, each question
    // copied as it stands in this transaction, so the attempt keeps it.
    let drawn =
        serde_json::to_string(&new.questions).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut rows = sqlx::query!(
        r#"INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, question_copy)
           SELECT ?, d.key, q.id, json_extract(d.value, '$[1]'),
                  json_object('id', q.id, 'kind', q.kind, 'category', q.category,
                      'text', q.text, 'options', json(q.options), 'answer', json(q.answer),
                      'explanation', q.explanation, 'source', q.source)
           FROM json_each(?) d JOIN questions q ON q.id = json_extract(d.value, '$[0]')
           RETURNING position AS "position!: i64", question_id AS "question_id!: String",
                     option_order AS "option_order!: String", question_copy"#,
        id,
        drawn
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| AttemptQuestion {
        attempt_id: id,
        position: r.position,
        question_id: r.question_id,
        option_order: r.option_order,
        selection: String::new(),
        chosen: None,
        is_correct: None,
        answered_at: None,
        message_id: None,
        question_copy: r.question_copy,
    })
    .collect::<Vec<_>>();
    if rows.len() != new.questions.len() {
        return Err(sqlx::Error::RowNotFound.into());
    }
    rows.sort_by_key(|r| r.position);
    tx.commit().await?;
    Ok(Started::Created(attempt, rows))
}

pub async fn attempt(db: &Db, id: i64) -> AppResult<Option<Attempt>> {
    let raw = sqlx::query_as!(
        RawAttempt,
        r#"SELECT id AS "id!", round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                  question_count, correct_count, score
           FROM attempts WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(raw.map(Attempt::from))
}

pub async fn attempt_in_round(db: &Db, round_id: i64, user_id: i64) -> AppResult<Option<Attempt>> {
    let raw = sqlx::query_as!(
        RawAttempt,
        r#"SELECT id AS "id!", round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                  question_count, correct_count, score
           FROM attempts WHERE round_id = ? AND user_id = ?"#,
        round_id,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(raw.map(Attempt::from))
}

/// The trainee's attempt still in progress, in whichever round.
pub async fn in_progress_of_user(db: &Db, user_id: i64) -> AppResult<Option<Attempt>> {
    let raw = sqlx::query_as!(
        RawAttempt,
        r#"SELECT id AS "id!", round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                  question_count, correct_count, score
           FROM attempts WHERE user_id = ? AND status = 'in_progress' ORDER BY id DESC LIMIT 1"#,
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(raw.map(Attempt::from))
}

/// Attempts whose time ran out at `now` and are still open, oldest deadline first.
pub async fn overdue(db: &Db, now: i64, limit: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM attempts WHERE status = 'in_progress' AND deadline_at <= ?
           ORDER BY deadline_at, id LIMIT ?"#,
        now,
        limit
    )
    .fetch_all(db)
    .await?)
}

/// Attempts of a round that are still open (for closing the round).
pub async fn in_progress_of_round(db: &Db, round_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM attempts WHERE round_id = ? AND status = 'in_progress' ORDER BY id"#,
        round_id
    )
    .fetch_all(db)
    .await?)
}

/// The earliest deadline of an open attempt, so the scheduler wakes up for it.
pub async fn next_deadline(db: &Db) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MIN(deadline_at) AS "deadline: i64" FROM attempts WHERE status = 'in_progress'"#
    )
    .fetch_one(db)
    .await?)
}

/// Every question of an attempt in test order; takes a transaction too, so the end of an
/// attempt can read exactly the answers it scored.
pub async fn questions_of<'c, E>(executor: E, attempt_id: i64) -> AppResult<Vec<AttemptQuestion>>
where
    E: Executor<'c, Database = Sqlite>,
{
    Ok(sqlx::query_as!(
        AttemptQuestion,
        r#"SELECT attempt_id, position, question_id, option_order, selection, chosen,
                  is_correct AS "is_correct: bool", answered_at, message_id, question_copy
           FROM attempt_questions WHERE attempt_id = ? ORDER BY position"#,
        attempt_id
    )
    .fetch_all(executor)
    .await?)
}

pub async fn question_at(
    db: &Db,
    attempt_id: i64,
    position: i64,
) -> AppResult<Option<AttemptQuestion>> {
    Ok(sqlx::query_as!(
        AttemptQuestion,
        r#"SELECT attempt_id, position, question_id, option_order, selection, chosen,
                  is_correct AS "is_correct: bool", answered_at, message_id, question_copy
           FROM attempt_questions WHERE attempt_id = ? AND position = ?"#,
        attempt_id,
        position
    )
    .fetch_optional(db)
    .await?)
}

/// The first unanswered question: where the trainee is now, and where a resumed test goes on.
pub async fn current_question(db: &Db, attempt_id: i64) -> AppResult<Option<AttemptQuestion>> {
    Ok(sqlx::query_as!(
        AttemptQuestion,
        r#"SELECT attempt_id, position, question_id, option_order, selection, chosen,
                  is_correct AS "is_correct: bool", answered_at, message_id, question_copy
           FROM attempt_questions WHERE attempt_id = ? AND chosen IS NULL ORDER BY position LIMIT 1"#,
        attempt_id
    )
    .fetch_optional(db)
    .await?)
}

/// Forgets message `message_id` as the one showing the attempt's test (its buttons were taken
/// off), on whichever question row it was recorded.
pub async fn forget_message_id(db: &Db, attempt_id: i64, message_id: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE attempt_questions SET message_id = NULL WHERE attempt_id = ? AND message_id = ?",
        attempt_id,
        message_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The message that shows the attempt's test now: the newest one recorded on any of its
/// questions. A test is one message edited in place from question to question, so its id is
/// recorded once, on the question it was sent for; a resume sends a newer message (Telegram's
/// ids grow within a chat) and records it on the question it resumed at.
pub async fn live_message(db: &Db, attempt_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT MAX(message_id) AS "message_id: i64" FROM attempt_questions WHERE attempt_id = ?"#,
        attempt_id
    )
    .fetch_one(db)
    .await?)
}

pub async fn set_message_id(
    db: &Db,
    attempt_id: i64,
    position: i64,
    message_id: i64,
) -> AppResult<()> {
    sqlx::query!(
        "UPDATE attempt_questions SET message_id = ? WHERE attempt_id = ? AND position = ?",
        message_id,
        attempt_id,
        position
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces a 多选 selection, but only if it is still `old` (a concurrent toggle would otherwise
/// be lost), the question is still the current unanswered one and the attempt can be answered.
/// Written in place where it can be ([`DirectWrites`]), like an answer.
pub async fn set_selection(
    db: &Db,
    writes: &DirectWrites,
    attempt_id: i64,
    position: i64,
    old: &str,
    new: &str,
    now: i64,
) -> AppResult<bool> {
    let params = [
        Value::Text(new.to_owned()),
        Value::Integer(attempt_id),
        Value::Integer(position),
        Value::Text(old.to_owned()),
        Value::Integer(attempt_id),
        Value::Integer(attempt_id),
        Value::Integer(now),
    ];
    Ok(writes.execute(db, SET_SELECTION, &params).await? == 1)
}

const SET_SELECTION: &str = "UPDATE attempt_questions SET selection = ?
     WHERE attempt_id = ? AND position = ? AND chosen IS NULL AND selection = ?
       AND position = (SELECT MIN(position) FROM attempt_questions WHERE attempt_id = ? AND chosen IS NULL)
       AND EXISTS (SELECT 1 FROM attempts WHERE id = ? AND status = 'in_progress' AND deadline_at > ?)";

/// Stores an answer when it is given: one statement, its own write transaction, guarded so that
/// only the current unanswered question of an attempt still in time can be answered, and only
/// once; false when the guard refused. A wrong answer also puts the question into the
/// trainee's practice box 0, so `/practice` brings it back: the trigger of migration 0055 does
/// that inside this statement. Written in place where it can be ([`DirectWrites`]): this is the
/// write of every press.
pub async fn record_answer(
    db: &Db,
    writes: &DirectWrites,
    attempt_id: i64,
    position: i64,
    chosen: &str,
    is_correct: bool,
    now: i64,
) -> AppResult<bool> {
    let params = [
        Value::Text(chosen.to_owned()),
        Value::Integer(i64::from(is_correct)),
        Value::Integer(now),
        Value::Integer(attempt_id),
        Value::Integer(position),
        Value::Integer(attempt_id),
        Value::Integer(attempt_id),
        Value::Integer(now),
    ];
    Ok(writes.execute(db, RECORD_ANSWER, &params).await? == 1)
}

const RECORD_ANSWER: &str = "UPDATE attempt_questions SET chosen = ?, is_correct = ?, answered_at = ?
     WHERE attempt_id = ? AND position = ? AND chosen IS NULL
       AND position = (SELECT MIN(position) FROM attempt_questions WHERE attempt_id = ? AND chosen IS NULL)
       AND EXISTS (SELECT 1 FROM attempts WHERE id = ? AND status = 'in_progress' AND deadline_at > ?)";

/// Everything a press on a test question is checked against, read with one statement: the
/// attempt, whether its round is open, the message showing the test, and its unanswered
/// questions (the current one first; the ones answers lead to after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressState {
    pub attempt: Attempt,
    pub round_open: bool,
    /// See [`live_message`].
    pub live_message: Option<i64>,
    /// In test order; empty when every question is answered.
    pub unanswered: Vec<AttemptQuestion>,
}

impl PressState {
    /// The first unanswered question's position.
    pub fn current(&self) -> Option<i64> {
        self.unanswered.first().map(|q| q.position)
    }
}

pub async fn press_state(db: &Db, attempt_id: i64) -> AppResult<Option<PressState>> {
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id!", a.round_id, a.user_id, a.branch_id, a.started_at, a.deadline_at,
                  a.finished_at, a.status, a.question_count, a.correct_count, a.score,
                  r.status AS "round_status?: String",
                  (SELECT MAX(message_id) FROM attempt_questions WHERE attempt_id = a.id) AS "live_message?: i64",
                  q.position AS "position?: i64", q.question_id AS "question_id?: String",
                  q.option_order AS "option_order?: String", q.selection AS "selection?: String",
                  q.question_copy AS "question_copy?: String"
           FROM attempts a
           LEFT JOIN rounds r ON r.id = a.round_id
           LEFT JOIN attempt_questions q ON q.attempt_id = a.id AND q.chosen IS NULL
           WHERE a.id = ?
           ORDER BY q.position"#,
        attempt_id
    )
    .fetch_all(db)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let attempt = Attempt::from(RawAttempt {
        id: first.id,
        round_id: first.round_id,
        user_id: first.user_id,
        branch_id: first.branch_id,
        started_at: first.started_at,
        deadline_at: first.deadline_at,
        finished_at: first.finished_at,
        status: first.status.clone(),
        question_count: first.question_count,
        correct_count: first.correct_count,
        score: first.score,
    });
    let round_open = first.round_status.as_deref() == Some("open");
    let live_message = first.live_message;
    let unanswered = rows
        .into_iter()
        .filter_map(|r| {
            Some(AttemptQuestion {
                attempt_id,
                position: r.position?,
                question_id: r.question_id?,
                option_order: r.option_order?,
                selection: r.selection?,
                chosen: None,
                is_correct: None,
                answered_at: None,
                message_id: None,
                question_copy: r.question_copy,
            })
        })
        .collect();
    Ok(Some(PressState {
        attempt,
        round_open,
        live_message,
        unanswered,
    }))
}

/// Ends an attempt still in progress and stores its score (answered questions only count);
/// `None` when it had already ended. Runs inside the caller's transaction so a message about
/// the end can be queued atomically with it.
pub async fn finish(
    conn: &mut SqliteConnection,
    attempt_id: i64,
    status: AttemptStatus,
    now: i64,
) -> AppResult<Option<Finished>> {
    let status = status.as_str();
    let row = sqlx::query!(
        r#"UPDATE attempts SET status = ?, finished_at = ?,
               correct_count = (SELECT COUNT(*) FROM attempt_questions WHERE attempt_id = attempts.id AND is_correct = 1)
           WHERE id = ? AND status = 'in_progress'
           RETURNING correct_count AS "correct!: i64", question_count"#,
        status,
        now,
        attempt_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let correct = u32::try_from(row.correct).unwrap_or(0);
    let total = u32::try_from(row.question_count).unwrap_or(0);
    let score = domain::score(correct, total);
    let stored = i64::from(score);
    sqlx::query!(
        "UPDATE attempts SET score = ? WHERE id = ?",
        stored,
        attempt_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(Some(Finished {
        correct,
        total,
        score,
    }))
}

/// One line of a trainee's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub round_id: i64,
    pub round_opens_at: i64,
    pub status: AttemptStatus,
    pub score: Option<i64>,
    pub correct_count: Option<i64>,
    pub question_count: i64,
    pub finished_at: Option<i64>,
}

/// The trainee's attempts, oldest round first.
pub async fn history(db: &Db, user_id: i64) -> AppResult<Vec<HistoryRow>> {
    let rows = sqlx::query!(
        r#"SELECT a.round_id, r.opens_at, a.status, a.score, a.correct_count, a.question_count, a.finished_at
           FROM attempts a JOIN rounds r ON r.id = a.round_id
           WHERE a.user_id = ? ORDER BY r.opens_at, a.round_id"#,
        user_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryRow {
            round_id: r.round_id,
            round_opens_at: r.opens_at,
            status: AttemptStatus::parse(&r.status),
            score: r.score,
            correct_count: r.correct_count,
            question_count: r.question_count,
            finished_at: r.finished_at,
        })
        .collect())
}

/// A trainee's Leitner record of one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeBox {
    pub question_id: String,
    pub box_: i64,
    pub seen_at: i64,
}

pub async fn practice_boxes(db: &Db, user_id: i64) -> AppResult<Vec<PracticeBox>> {
    Ok(sqlx::query_as!(
        PracticeBox,
        r#"SELECT question_id, box AS box_, seen_at FROM practice_boxes WHERE user_id = ?"#,
        user_id
    )
    .fetch_all(db)
    .await?)
}

/// The practice question a trainee is looking at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeCurrent {
    pub question_id: String,
    pub option_order: String,
    pub selection: String,
    /// Carried by the buttons; it changes whenever the question is answered or replaced.
    pub nonce: i64,
}

pub async fn practice_current(db: &Db, user_id: i64) -> AppResult<Option<PracticeCurrent>> {
    Ok(sqlx::query_as!(
        PracticeCurrent,
        "SELECT question_id, option_order, selection, nonce FROM practice_current WHERE user_id = ?",
        user_id
    )
    .fetch_optional(db)
    .await?)
}

/// Shows a new practice question; returns the nonce its buttons carry. The nonce only grows,
/// so buttons of any earlier question are stale.
pub async fn set_practice_current(
    db: &Db,
    user_id: i64,
    question_id: &str,
    option_order: &str,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO practice_current (user_id, question_id, option_order, selection, nonce)
           VALUES (?, ?, ?, '', 1)
           ON CONFLICT(user_id) DO UPDATE SET question_id = excluded.question_id,
               option_order = excluded.option_order, selection = '', nonce = practice_current.nonce + 1
           RETURNING nonce"#,
        user_id,
        question_id,
        option_order
    )
    .fetch_one(db)
    .await?)
}

/// Replaces the practice 多选 selection if the question and selection are still as shown.
pub async fn set_practice_selection(
    db: &Db,
    user_id: i64,
    nonce: i64,
    old: &str,
    new: &str,
) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE practice_current SET selection = ? WHERE user_id = ? AND nonce = ? AND selection = ?",
        new,
        user_id,
        nonce,
        old
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a practice answer: retires the nonce (so the same buttons cannot answer twice) and
/// moves the question to `new_box`, in one transaction; false when the nonce was already used.
pub async fn record_practice(
    db: &Db,
    user_id: i64,
    nonce: i64,
    question_id: &str,
    new_box: u8,
    now: i64,
) -> AppResult<bool> {
    let mut tx = crate::storage::write(db).await?;
    let done = sqlx::query!(
        "UPDATE practice_current SET nonce = nonce + 1, selection = '' WHERE user_id = ? AND nonce = ? AND question_id = ?",
        user_id,
        nonce,
        question_id
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    let new_box = i64::from(new_box);
    sqlx::query!(
        "INSERT INTO practice_boxes (user_id, question_id, box, seen_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(user_id, question_id) DO UPDATE SET box = excluded.box, seen_at = excluded.seen_at",
        user_id,
        question_id,
        new_box,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::questions::model::{Question, QuestionKind};
    use crate::storage::{branches, connect_memory, questions};

    pub(crate) fn question(id: &str, kind: QuestionKind) -> Question {
        let (options, answer) = match kind {
            QuestionKind::Single => (vec!["甲", "乙", "丙", "丁"], vec![1]),
            QuestionKind::Multiple => (vec!["甲", "乙", "丙", "丁"], vec![0, 2]),
            QuestionKind::TrueFalse => (vec!["对", "错"], vec![0]),
        };
        Question {
            id: id.to_owned(),
            kind,
            category: "党费".to_owned(),
            text: format!("题目 {id}"),
            options: options.into_iter().map(str::to_owned).collect(),
            answer,
            explanation: "因为".to_owned(),
            source: "党章".to_owned(),
        }
    }

    /// A user 7, an open round 1 (opens 0, closes 10 000) and three questions q1..q3.
    pub(crate) async fn fixture() -> Db {
        let db = connect_memory().await.unwrap();
        seed(&db).await;
        db
    }

    async fn seed(db: &Db) {
        branches::upsert_user(db, 7, "张三", None, 0).await.unwrap();
        branches::upsert_user(db, 8, "李四", None, 0).await.unwrap();
        sqlx::query("INSERT INTO rounds (id, opens_at, closes_at) VALUES (1, 0, 10000)")
            .execute(db)
            .await
            .unwrap();
        let bank = [
            question("q1", QuestionKind::Single),
            question("q2", QuestionKind::Multiple),
            question("q3", QuestionKind::TrueFalse),
        ];
        questions::replace_bank(db, &bank, 0).await.unwrap();
    }

    /// The answer writes' two paths: through the pool (in memory), and in place beside it (on a
    /// file), each with the fixture's data.
    async fn answer_paths() -> Vec<(Db, DirectWrites, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let on_file = crate::storage::connect(&url).await.unwrap();
        seed(&on_file).await;
        vec![
            (fixture().await, DirectWrites::disabled(), None),
            (on_file, DirectWrites::open(&url).unwrap(), Some(dir)),
        ]
    }

    /// On a file every write ran in place (nothing else was writing); in memory none did.
    fn wrote_where_expected(writes: &DirectWrites, on_file: bool) {
        let (here, pooled) = writes.counts();
        if on_file {
            assert!(here > 0 && pooled == 0, "in place {here}, pooled {pooled}");
        } else {
            assert_eq!(here, 0);
        }
    }

    pub(crate) fn new_attempt(user_id: i64, deadline_at: i64) -> NewAttempt {
        NewAttempt {
            round_id: 1,
            user_id,
            branch_id: None,
            started_at: 100,
            deadline_at,
            questions: vec![
                ("q1".to_owned(), "3210".to_owned()),
                ("q2".to_owned(), "0123".to_owned()),
                ("q3".to_owned(), "01".to_owned()),
            ],
        }
    }

    /// A new attempt of user `user_id` in round 1 with the three fixture questions.
    pub(crate) async fn created(db: &Db, user_id: i64, deadline_at: i64) -> Attempt {
        match start_attempt(db, &new_attempt(user_id, deadline_at))
            .await
            .unwrap()
        {
            Started::Created(a, _) => a,
            Started::Existing(a) => panic!("attempt {} existed", a.id),
        }
    }

    #[tokio::test]
    async fn one_attempt_per_round_with_its_questions() {
        let db = fixture().await;
        let a = created(&db, 7, 1900).await;
        assert_eq!(
            (a.status, a.question_count, a.deadline_at),
            (AttemptStatus::InProgress, 3, 1900)
        );
        let again = start_attempt(&db, &new_attempt(7, 5000)).await.unwrap();
        assert_eq!(again, Started::Existing(a.clone()));
        let rows = questions_of(&db, a.id).await.unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.question_id.as_str()).collect();
        assert_eq!(ids, ["q1", "q2", "q3"]);
        assert_eq!(rows[0].option_order, "3210");
        assert_eq!(
            current_question(&db, a.id).await.unwrap().unwrap().position,
            0
        );
        assert_eq!(attempt_in_round(&db, 1, 7).await.unwrap(), Some(a.clone()));
        assert_eq!(in_progress_of_user(&db, 7).await.unwrap(), Some(a));
        assert_eq!(attempt_in_round(&db, 1, 8).await.unwrap(), None);
    }

    /// A new attempt comes back with its questions as stored, copies included, so the first
    /// press needs no read.
    #[tokio::test]
    async fn a_new_attempt_returns_its_questions_as_stored() {
        let db = fixture().await;
        let Started::Created(a, rows) = start_attempt(&db, &new_attempt(8, 1900)).await.unwrap()
        else {
            panic!("not created");
        };
        assert_eq!(rows, questions_of(&db, a.id).await.unwrap());
        assert!(rows.iter().all(|r| r.question_copy.is_some()));
    }

    #[tokio::test]
    async fn an_answer_is_stored_once_and_only_for_the_current_question_in_time() {
        for (db, w, _dir) in answer_paths().await {
            let a = created(&db, 7, 1900).await;
            // Not the current question.
            assert!(!record_answer(&db, &w, a.id, 1, "0", false, 200)
                .await
                .unwrap());
            // After the deadline.
            assert!(!record_answer(&db, &w, a.id, 0, "1", true, 1900)
                .await
                .unwrap());
            assert!(record_answer(&db, &w, a.id, 0, "1", true, 200)
                .await
                .unwrap());
            // A double press changes nothing.
            assert!(!record_answer(&db, &w, a.id, 0, "2", false, 201)
                .await
                .unwrap());
            let first = question_at(&db, a.id, 0).await.unwrap().unwrap();
            assert_eq!(
                (first.chosen.as_deref(), first.is_correct, first.answered_at),
                (Some("1"), Some(true), Some(200))
            );
            assert_eq!(
                current_question(&db, a.id).await.unwrap().unwrap().position,
                1
            );
            // No such position.
            assert!(!record_answer(&db, &w, a.id, 9, "0", false, 200)
                .await
                .unwrap());
            wrote_where_expected(&w, _dir.is_some());
        }
    }

    #[tokio::test]
    async fn a_wrong_test_answer_lands_in_practice_box_zero() {
        for (db, w, _dir) in answer_paths().await {
            let a = created(&db, 7, 1900).await;
            assert!(record_answer(&db, &w, a.id, 0, "2", false, 200)
                .await
                .unwrap());
            let boxes = practice_boxes(&db, 7).await.unwrap();
            assert_eq!(
                boxes,
                vec![PracticeBox {
                    question_id: "q1".into(),
                    box_: 0,
                    seen_at: 200
                }]
            );
            wrote_where_expected(&w, _dir.is_some());
        }
    }

    #[tokio::test]
    async fn selections_are_compare_and_set_and_frozen_once_answered() {
        for (db, w, _dir) in answer_paths().await {
            let a = created(&db, 7, 1900).await;
            assert!(record_answer(&db, &w, a.id, 0, "1", true, 200)
                .await
                .unwrap());
            assert!(set_selection(&db, &w, a.id, 1, "", "0", 210).await.unwrap());
            // A toggle based on an outdated selection is refused rather than losing the other.
            assert!(!set_selection(&db, &w, a.id, 1, "", "2", 211).await.unwrap());
            assert!(set_selection(&db, &w, a.id, 1, "0", "02", 212)
                .await
                .unwrap());
            assert_eq!(
                question_at(&db, a.id, 1).await.unwrap().unwrap().selection,
                "02"
            );
            // Not the current question, or after the deadline.
            assert!(!set_selection(&db, &w, a.id, 2, "", "0", 213).await.unwrap());
            assert!(!set_selection(&db, &w, a.id, 1, "02", "0", 1900)
                .await
                .unwrap());
            assert!(record_answer(&db, &w, a.id, 1, "02", true, 214)
                .await
                .unwrap());
            assert!(!set_selection(&db, &w, a.id, 1, "02", "0", 215)
                .await
                .unwrap());
            wrote_where_expected(&w, _dir.is_some());
        }
    }

    #[tokio::test]
    async fn finishing_scores_what_was_answered_once() {
        for (db, w, _dir) in answer_paths().await {
            let a = created(&db, 7, 1900).await;
            assert!(record_answer(&db, &w, a.id, 0, "1", true, 200)
                .await
                .unwrap());
            assert!(record_answer(&db, &w, a.id, 1, "0", false, 201)
                .await
                .unwrap());
            let mut conn = db.acquire().await.unwrap();
            let done = finish(&mut conn, a.id, AttemptStatus::TimedOut, 300)
                .await
                .unwrap();
            assert_eq!(
                done,
                Some(Finished {
                    correct: 1,
                    total: 3,
                    score: 33
                })
            );
            assert_eq!(
                finish(&mut conn, a.id, AttemptStatus::Finished, 301)
                    .await
                    .unwrap(),
                None
            );
            drop(conn);
            let stored = attempt(&db, a.id).await.unwrap().unwrap();
            assert_eq!(
                (
                    stored.status,
                    stored.score,
                    stored.correct_count,
                    stored.finished_at
                ),
                (AttemptStatus::TimedOut, Some(33), Some(1), Some(300))
            );
            // A finished attempt takes no more answers.
            assert!(!record_answer(&db, &w, a.id, 2, "0", true, 302)
                .await
                .unwrap());
            assert_eq!(in_progress_of_user(&db, 7).await.unwrap(), None);
            wrote_where_expected(&w, _dir.is_some());
        }
    }

    #[tokio::test]
    async fn deadlines_overdue_and_round_lists() {
        let db = fixture().await;
        assert_eq!(next_deadline(&db).await.unwrap(), None);
        let a = created(&db, 7, 1900).await;
        let b = created(&db, 8, 1500).await;
        assert_eq!(next_deadline(&db).await.unwrap(), Some(1500));
        assert_eq!(overdue(&db, 1499, 10).await.unwrap(), Vec::<i64>::new());
        assert_eq!(overdue(&db, 1500, 10).await.unwrap(), vec![b.id]);
        assert_eq!(overdue(&db, 2000, 10).await.unwrap(), vec![b.id, a.id]);
        assert_eq!(overdue(&db, 2000, 1).await.unwrap(), vec![b.id]);
        assert_eq!(
            in_progress_of_round(&db, 1).await.unwrap(),
            vec![a.id, b.id]
        );
    }

    #[tokio::test]
    async fn history_lists_rounds_in_order() {
        let db = fixture().await;
        sqlx::query(
            "INSERT INTO rounds (id, opens_at, closes_at, status) VALUES (2, 20000, 30000, 'open')",
        )
        .execute(&db)
        .await
        .unwrap();
        let first = created(&db, 7, 1900).await;
        let mut conn = db.acquire().await.unwrap();
        finish(&mut conn, first.id, AttemptStatus::Finished, 300)
            .await
            .unwrap();
        drop(conn);
        let second = NewAttempt {
            round_id: 2,
            started_at: 20100,
            deadline_at: 21900,
            ..new_attempt(7, 0)
        };
        start_attempt(&db, &second).await.unwrap();
        let rows = history(&db, 7).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].round_id, rows[0].status, rows[0].score),
            (1, AttemptStatus::Finished, Some(0))
        );
        assert_eq!(
            (rows[1].round_id, rows[1].status, rows[1].score),
            (2, AttemptStatus::InProgress, None)
        );
        assert!(history(&db, 8).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn practice_nonces_make_old_buttons_stale() {
        let db = fixture().await;
        let n1 = set_practice_current(&db, 7, "q2", "3210").await.unwrap();
        assert!(set_practice_selection(&db, 7, n1, "", "1").await.unwrap());
        assert!(!set_practice_selection(&db, 7, n1, "", "2").await.unwrap());
        let n2 = set_practice_current(&db, 7, "q1", "0123").await.unwrap();
        assert!(n2 > n1);
        let current = practice_current(&db, 7).await.unwrap().unwrap();
        assert_eq!(
            (
                current.question_id.as_str(),
                current.selection.as_str(),
                current.nonce
            ),
            ("q1", "", n2)
        );
        // The old question's buttons are stale.
        assert!(!record_practice(&db, 7, n1, "q2", 1, 50).await.unwrap());
        assert!(!set_practice_selection(&db, 7, n1, "", "1").await.unwrap());
        assert!(record_practice(&db, 7, n2, "q1", 1, 50).await.unwrap());
        // Answering twice is refused.
        assert!(!record_practice(&db, 7, n2, "q1", 2, 51).await.unwrap());
        assert_eq!(
            practice_boxes(&db, 7).await.unwrap(),
            vec![PracticeBox {
                question_id: "q1".into(),
                box_: 1,
                seen_at: 50
            }]
        );
        assert!(practice_current(&db, 8).await.unwrap().is_none());
    }
}
