//! The knowledge test as use cases: entering a round's test, answering, running out of time,
//! the round closing, practice and one's own scores.
//!
//! The database is the only state: which question is current, the 多选 selection so far and
//! the deadline are all stored, so a restart of the bot loses nothing and entering again picks
//! up at the first unanswered question. Every press is checked (whose attempt, which question,
//! still in time) before anything is stored, and the store itself is guarded again, so a forged,
//! stale, late or doubled press changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::quiz::{
    self as domain, Action, PracticeCandidate, PressKind, Refusal, TestResult,
};
use crate::error::{AppError, AppResult};
use crate::questions::model::Question;
use crate::service::snapshot::Bank;
use crate::service::AppState;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::quiz::{self as store, Attempt, AttemptQuestion, AttemptStatus, Started};
use crate::storage::rounds::{self, Round};
use crate::storage::{branches, questions};
use crate::texts::quiz_flow as t;
use crate::texts::quiz_view;
use crate::texts::split::{split_message, TELEGRAM_TEXT_LIMIT};

pub use crate::storage::quiz::HistoryRow;

/// Overdue attempts ended per scheduler pass; the rest follow in the next pass.
const EXPIRE_BATCH: i64 = 200;

/// A stored question as the trainee sees it: the question, its option order, the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// Boxed: outcomes carrying a question stay small beside those that carry none.
    pub question: Box<Question>,
    /// Shown position `i` holds original option `order[i]`.
    pub order: Vec<u8>,
    /// 多选 options ticked so far (original indices).
    pub selection: Vec<u8>,
}

/// A test question to put in front of the trainee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestQuestion {
    pub attempt_id: i64,
    /// 0-based position in the attempt.
    pub position: i64,
    pub total: usize,
    pub shown: Shown,
    /// The message that showed the test until now (before a resume): its buttons must go, so
    /// only one message answers the question.
    pub earlier_message: Option<i64>,
}

/// The end of a test: the score and the questions not answered right, with what was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub result: TestResult,
    pub missed: Vec<(Question, Vec<u8>)>,
}

impl Finished {
    /// The score summary and the review, split into messages.
    pub fn render(&self) -> Vec<String> {
        let missed: Vec<(&Question, &[u8])> =
            self.missed.iter().map(|(q, c)| (q, c.as_slice())).collect();
        quiz_view::render_result(&self.result, &missed)
    }
}

/// What comes after an answer, or when a trainee comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Question(TestQuestion),
    /// Every question is answered: the attempt is scored and closed, and the result is queued
    /// for the trainee in the same transaction, so a crash before it is sent cannot lose it.
    ResultQueued,
    /// The attempt was ended meanwhile by the time limit or the round closing; that path has
    /// queued the result for the trainee.
    EndedElsewhere,
    /// The press answered the last question and the answer is stored: show it and
    /// [`conclude`] the test, which scores it and queues the result.
    LastAnswered(Unfinished),
}

/// A test whose every question is answered and that is not yet scored; only [`press`] makes
/// one, and only [`conclude`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished(Attempt);

/// Ends a test after its last answer: scores it and queues the result in one write
/// transaction. The caller runs it while it shows the answer, so the last press is answered as
/// fast as any other; a crash before it leaves an attempt with every answer stored, which the
/// next `/test` or the time limit ends.
pub async fn conclude(state: &AppState, test: Unfinished) -> AppResult<()> {
    finish_now(state, &test.0, state.now()).await.map(drop)
}

/// What entering the test (`/test`, the announcement's button) leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    NoOpenRound {
        next_opening: Option<DateTime<Utc>>,
    },
    /// The trainee's branch was unbound; telling them to join would send them looking for a
    /// code that no longer works.
    BranchUnbound {
        branch_name: String,
    },
    JoinFirst,
    EmptyBank,
    Started {
        round_id: i64,
        question_count: usize,
        minutes: i64,
        deadline_at: i64,
        next: Next,
    },
    Resumed {
        round_id: i64,
        answered: usize,
        total: usize,
        deadline_at: i64,
        next: Next,
    },
    /// The time ran out while the trainee was away; the result is queued for them.
    TimeUp {
        round_id: i64,
    },
    AlreadyDone {
        round_id: i64,
        score: i64,
        passed: bool,
    },
}

/// Starts the open round's test for a trainee, or resumes it where it stopped.
pub async fn enter(state: &AppState, user_id: i64) -> AppResult<Entry> {
    let now = state.now();
    let Some(round) = open_round(state, now).await? else {
        let next_opening = crate::domain::schedule::next_occurrence(
            &state.config.test_calendar,
            state.config.timezone,
            now,
        );
        return Ok(Entry::NoOpenRound { next_opening });
    };
    if let Some(attempt) = store::attempt_in_round(&state.db, round.id, user_id).await? {
        return continue_attempt(state, &round, attempt, now).await;
    }
    let branch = match branches::member_branch(&state.db, user_id).await? {
        Some(branch) if branch.active => branch,
        Some(branch) => {
            return Ok(Entry::BranchUnbound {
                branch_name: branch.name,
            })
        }
        None => return Ok(Entry::JoinFirst),
    };
    let snapshot = state.bank.get(&state.db).await?;
    let bank = &snapshot.questions;
    // One question per same-fact group, and what the trainee saw in recent rounds last.
    let seen = crate::storage::draw_history::rounds_ago(&state.db, user_id, round.id).await?;
    let rounds_ago: Vec<Option<u32>> = bank.iter().map(|q| seen.get(&q.id).copied()).collect();
    let limits = domain::DrawLimits {
        groups: &snapshot.groups,
        rounds_ago: &rounds_ago,
    };
    let per_test = state.config.questions_per_test;
    let drawn = state.with_rng(|rng| domain::draw(bank, per_test, &limits, rng));
    let drawn_rows: Vec<(String, String)> = drawn
        .iter()
        .filter_map(|d| {
            let question = bank.get(d.question_index)?;
            let order = domain::encode_indices(&d.option_order).ok()?;
            Some((question.id.clone(), order))
        })
        .collect();
    if drawn_rows.is_empty() {
        return Ok(Entry::EmptyBank);
    }
    let started_at = now.timestamp();
    let new = store::NewAttempt {
        round_id: round.id,
        user_id,
        branch_id: Some(branch.id),
        started_at,
        deadline_at: domain::test_deadline(
            started_at,
            state.config.time_limit_minutes,
            round.closes_at,
        ),
        questions: drawn_rows,
    };
    match store::start_attempt(&state.db, &new).await? {
        Started::Created(attempt, rows) => {
            state.due_at(attempt.deadline_at);
            // The first question is the first row just inserted, and no message shows the
            // test yet: nothing to read back.
            let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
            let next = Next::Question(TestQuestion {
                attempt_id: attempt.id,
                position: first.position,
                total: rows.len(),
                shown: load_shown(state, first).await?,
                earlier_message: None,
            });
            // What the first press is checked against is known now: it needs no read (the
            // message showing the test is added when it is sent, `question_sent`).
            let seen = store::PressState {
                attempt: attempt.clone(),
                round_open: true,
                live_message: None,
                unanswered: rows,
            };
            state
                .live_attempts
                .keep(Live::new(Arc::clone(&snapshot), seen));
            Ok(Entry::Started {
                round_id: round.id,
                question_count: usize::try_from(attempt.question_count).unwrap_or(0),
                minutes: (attempt.deadline_at - attempt.started_at + 59) / 60,
                deadline_at: attempt.deadline_at,
                next,
            })
        }
        Started::Existing(attempt) => continue_attempt(state, &round, attempt, now).await,
    }
}

/// Entering again when the trainee already has an attempt in this round.
async fn continue_attempt(
    state: &AppState,
    round: &Round,
    attempt: Attempt,
    now: DateTime<Utc>,
) -> AppResult<Entry> {
    match attempt.status {
        AttemptStatus::InProgress if now.timestamp() >= attempt.deadline_at => {
            end_early(state, attempt.id, Ending::TimeLimit, now).await?;
            Ok(Entry::TimeUp { round_id: round.id })
        }
        AttemptStatus::InProgress => {
            let all = store::questions_of(&state.db, attempt.id).await?;
            Ok(Entry::Resumed {
                round_id: round.id,
                answered: all.iter().filter(|q| q.chosen.is_some()).count(),
                total: all.len(),
                deadline_at: attempt.deadline_at,
                next: next_step(state, &attempt, now).await?,
            })
        }
        AttemptStatus::Finished | AttemptStatus::TimedOut => {
            let score = attempt.score.unwrap_or(0);
            Ok(Entry::AlreadyDone {
                round_id: round.id,
                score,
                passed: domain::passed(u32::try_from(score).unwrap_or(0), state.config.pass_mark),
            })
        }
    }
}

/// The round open at `now`; one whose closing time passed counts as closed even before the
/// scheduler has recorded it.
async fn open_round(state: &AppState, now: DateTime<Utc>) -> AppResult<Option<Round>> {
    let round = rounds::open_round(&state.db).await?;
    Ok(round.filter(|r| r.closes_at > now.timestamp()))
}

/// The first unanswered question, or the end of the test if every question is answered (the
/// bot stopped between the last answer and the result).
async fn next_step(state: &AppState, attempt: &Attempt, now: DateTime<Utc>) -> AppResult<Next> {
    match store::current_question(&state.db, attempt.id).await? {
        Some(row) => Ok(Next::Question(TestQuestion {
            attempt_id: attempt.id,
            position: row.position,
            total: usize::try_from(attempt.question_count).unwrap_or(0),
            shown: load_shown(state, &row).await?,
            earlier_message: store::live_message(&state.db, attempt.id).await?,
        })),
        None => finish_now(state, attempt, now).await,
    }
}

/// The buttons of an earlier copy of a question were taken off (a resume): forget that copy,
/// so a crash before the new copy's id is stored does not make the next resume strip it
/// again, and the new copy answers meanwhile.
pub async fn earlier_copy_stripped(
    state: &AppState,
    attempt_id: i64,
    message_id: i64,
) -> AppResult<()> {
    state.live_attempts.forget(attempt_id);
    store::forget_message_id(&state.db, attempt_id, message_id).await
}

/// Remembers which message shows the test from this question on (it is edited in place to the
/// next questions), so a press on an older copy is refused. Memory learns it once it is stored.
pub async fn question_sent(
    state: &AppState,
    attempt_id: i64,
    position: i64,
    message_id: i64,
) -> AppResult<()> {
    let live = state.live_attempts.take(attempt_id);
    store::set_message_id(&state.db, attempt_id, position, message_id).await?;
    if let Some(mut live) = live {
        // The database's view is the newest message of the attempt's rows.
        let newest = live
            .seen
            .live_message
            .map_or(message_id, |m| m.max(message_id));
        live.seen.live_message = Some(newest);
        state.live_attempts.keep(live);
    }
    Ok(())
}

/// A test question as the trainee sees it, from the attempt's copy of the question.
async fn load_shown(state: &AppState, row: &AttemptQuestion) -> AppResult<Shown> {
    let question = attempt_question(state, &row.question_id, row.question_copy.as_deref()).await?;
    shown_of(
        question,
        &row.question_id,
        &row.option_order,
        &row.selection,
    )
}

/// The question an attempt drew: its copy taken when the attempt started, so a bank changed
/// since (an upload, a restart with changed files) changes nothing in a running or finished
/// test. Attempts from before copies were kept read the bank.
async fn attempt_question(
    state: &AppState,
    question_id: &str,
    copy: Option<&str>,
) -> AppResult<Question> {
    if let Some(copy) = copy {
        return parse_copy(question_id, copy);
    }
    questions::by_id(&state.db, question_id)
        .await?
        .ok_or_else(|| AppError::Bank(format!("question {question_id} of an attempt is missing")))
}

fn parse_copy(question_id: &str, copy: &str) -> AppResult<Question> {
    serde_json::from_str(copy)
        .map_err(|e| AppError::Bank(format!("stored copy of question {question_id}: {e}")))
}

/// A question an attempt drew, inside a transaction (which holds its connection, so the pool
/// is not read): its copy, or for attempts from before copies were kept, the bank snapshot.
fn question_in_tx(bank: &Bank, question_id: &str, copy: Option<&str>) -> AppResult<Question> {
    match copy {
        Some(copy) => parse_copy(question_id, copy),
        None => bank.get(question_id).cloned().ok_or_else(|| {
            AppError::Bank(format!("question {question_id} of an attempt is missing"))
        }),
    }
}

/// A practice question as the trainee sees it: from the bank.
async fn load_practice_shown(
    state: &AppState,
    question_id: &str,
    order: &str,
    selection: &str,
) -> AppResult<Shown> {
    let question = attempt_question(state, question_id, None).await?;
    shown_of(question, question_id, order, selection)
}

/// A question row read in a transaction, as the trainee sees it.
fn shown_in_tx(bank: &Bank, row: &AttemptQuestion) -> AppResult<Shown> {
    let question = question_in_tx(bank, &row.question_id, row.question_copy.as_deref())?;
    shown_of(
        question,
        &row.question_id,
        &row.option_order,
        &row.selection,
    )
}

fn shown_of(
    question: Question,
    question_id: &str,
    order: &str,
    selection: &str,
) -> AppResult<Shown> {
    let count = question.options.len();
    let order = domain::decode_option_order(order, count)
        .map_err(|e| AppError::Bank(format!("stored option order of {question_id}: {e}")))?;
    // A selection that does not decode is treated as empty rather than trusted.
    let selection = domain::decode_indices(selection, count).unwrap_or_default();
    Ok(Shown {
        question: Box::new(question),
        order,
        selection,
    })
}

/// What a press on a test question led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PressOutcome {
    Refused(Refusal),
    /// A 多选 option was ticked or unticked: show the question again with the new selection.
    Selected(TestQuestion),
    /// The answer is stored; show what was chosen, then what comes next.
    Answered {
        shown: Shown,
        position: i64,
        total: usize,
        chosen: Vec<u8>,
        /// The message that showed the question, when the press did not say.
        message: Option<i64>,
        next: Next,
    },
}

/// A trainee pressed an option, a 多选 toggle or submit on a test question.
///
/// The press is checked against the attempt as the trainee's last accepted press left it
/// ([`LiveAttempts`]), or, the first time and whenever memory and the database might disagree,
/// against the one read of [`store::press_state`]. Then one guarded write, its own write
/// transaction: the answer `UPDATE` (a wrong answer's practice box is written by the schema's
/// trigger inside it, migration 0055) or the 多选 selection's. The guards check in the database
/// what the checks saw, so a press racing another press, the deadline or the round closing
/// changes nothing. The last answer leaves the attempt to [`conclude`], which the caller runs
/// while it shows the answer.
pub async fn press(
    state: &AppState,
    presser: i64,
    attempt_id: i64,
    position: u8,
    press: PressKind,
    pressed_message: Option<i64>,
) -> AppResult<PressOutcome> {
    let now = state.now();
    let pressed = Pressed {
        presser,
        position: i64::from(position),
        press,
        pressed_message,
    };
    if let Some(live) = state.live_attempts.take(attempt_id) {
        if let Judged::Done(outcome) = press_on(state, live, &pressed, now).await? {
            return Ok(*outcome);
        }
        // Memory may be behind the database (the round closed, the time ran out on the
        // scheduler's watch): only the database's state refuses a trainee.
    }
    let bank = state.bank.get(&state.db).await?;
    let Some(seen) = store::press_state(&state.db, attempt_id).await? else {
        return Ok(PressOutcome::Refused(Refusal::Forged));
    };
    let attempt = seen.attempt.clone();
    match press_on(state, Live::new(bank, seen), &pressed, now).await? {
        Judged::Done(outcome) => Ok(*outcome),
        Judged::Refused(refusal) => {
            end_if_over(state, &attempt, presser, refusal, now).await?;
            Ok(PressOutcome::Refused(refusal))
        }
        Judged::Raced => refused_after_race(state, &attempt, now).await,
    }
}

/// What the trainee pressed, as the button said.
struct Pressed {
    presser: i64,
    position: i64,
    press: PressKind,
    pressed_message: Option<i64>,
}

/// How a press fared against one view of its attempt.
enum Judged {
    Done(Box<PressOutcome>),
    /// The view refuses the press; nothing was written.
    Refused(Refusal),
    /// The view accepted it but the guarded write did not: the database has moved on.
    Raced,
}

/// Judges a press against `live` and, when it passes, stores it; the attempt goes back into
/// memory as the press left it.
async fn press_on(
    state: &AppState,
    mut live: Live,
    pressed: &Pressed,
    now: DateTime<Utc>,
) -> AppResult<Judged> {
    let seen = &live.seen;
    if let Err(refusal) = check_test_press(
        seen,
        pressed.presser,
        pressed.position,
        pressed.pressed_message,
        now.timestamp(),
    ) {
        return Ok(Judged::Refused(refusal));
    }
    let Some(row) = seen.unanswered.first() else {
        return Ok(Judged::Refused(Refusal::AlreadyAnswered));
    };
    let shown = shown_in_tx(&live.bank, row)?;
    let action = match domain::resolve_press(
        &shown.question,
        &shown.order,
        &shown.selection,
        pressed.press,
    ) {
        Ok(action) => action,
        Err(refusal) => return Ok(Judged::Refused(refusal)),
    };
    let stored = store_press(state, seen, &shown, &action, now.timestamp()).await?;
    if !stored {
        return Ok(Judged::Raced);
    }
    let attempt = seen.attempt.clone();
    let live_message = seen.live_message;
    let total = usize::try_from(attempt.question_count).unwrap_or(0);
    let position = row.position;
    let outcome = match action {
        Action::Select(selection) => {
            live.seen.unanswered[0].selection = encode(&selection)?;
            state.live_attempts.keep(live);
            PressOutcome::Selected(TestQuestion {
                attempt_id: attempt.id,
                position,
                total,
                shown: Shown { selection, ..shown },
                earlier_message: None,
            })
        }
        Action::Answer(chosen) => {
            live.seen.unanswered.remove(0);
            let next = match live.seen.unanswered.first() {
                Some(next) => {
                    let next = TestQuestion {
                        attempt_id: attempt.id,
                        position: next.position,
                        total,
                        shown: shown_in_tx(&live.bank, next)?,
                        earlier_message: None,
                    };
                    state.live_attempts.keep(live);
                    Next::Question(next)
                }
                None => Next::LastAnswered(Unfinished(attempt.clone())),
            };
            PressOutcome::Answered {
                shown,
                position,
                total,
                chosen,
                message: live_message,
                next,
            }
        }
    };
    Ok(Judged::Done(Box::new(outcome)))
}

/// An attempt being answered, as its last accepted press left it: the attempt, the message
/// showing it and its unanswered questions, with the bank snapshot their copies were compared
/// with.
#[derive(Debug)]
struct Live {
    bank: Arc<Bank>,
    seen: store::PressState,
}

impl Live {
    /// A question's copy is kept only where it differs from `bank` (the bank changed since the
    /// attempt started): two hundred tests in memory then hold ids and option orders, not two
    /// hundred copies of the bank.
    fn new(bank: Arc<Bank>, mut seen: store::PressState) -> Live {
        for row in &mut seen.unanswered {
            let same = row.question_copy.as_deref().is_some_and(|copy| {
                parse_copy(&row.question_id, copy)
                    .is_ok_and(|q| bank.get(&row.question_id) == Some(&q))
            });
            if same {
                row.question_copy = None;
            }
        }
        Live { bank, seen }
    }
}

/// The attempts being answered, in memory, so that a press is one guarded write instead of a
/// read and a write (issue 14).
///
/// Memory is only a hint. The write checks in the database that the question is still the
/// attempt's current one and the attempt still in progress within its time; when it refuses,
/// or memory would refuse, the press is judged again from the database. What the write cannot
/// check — which message shows the test — memory learns only after the database has it
/// ([`question_sent`]) and forgets when a copy's id is taken back ([`earlier_copy_stripped`]);
/// the end of the attempt forgets it too. A test that starts is remembered from its start, so
/// even its first press reads nothing.
#[derive(Debug, Default)]
pub struct LiveAttempts {
    attempts: Mutex<HashMap<i64, Live>>,
}

/// Beyond this many remembered attempts (tests left half-done in a very large deployment, each
/// forgotten only when it expires) memory starts again from empty.
const LIVE_ATTEMPTS_MAX: usize = 100_000;

impl LiveAttempts {
    /// Takes the attempt out while its press is handled; a failure on the way leaves it out.
    fn take(&self, attempt_id: i64) -> Option<Live> {
        self.lock().remove(&attempt_id)
    }

    fn keep(&self, live: Live) {
        let mut attempts = self.lock();
        if attempts.len() >= LIVE_ATTEMPTS_MAX {
            attempts.clear();
        }
        attempts.insert(live.seen.attempt.id, live);
    }

    /// Drops what memory holds of an attempt.
    pub fn forget(&self, attempt_id: i64) {
        self.lock().remove(&attempt_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Live>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The one guarded write of an accepted press; false when the guard refused (a race).
async fn store_press(
    state: &AppState,
    seen: &store::PressState,
    shown: &Shown,
    action: &Action,
    ts: i64,
) -> AppResult<bool> {
    let (attempt, row) = (&seen.attempt, &seen.unanswered[0]);
    match action {
        Action::Select(selection) => {
            let new = encode(selection)?;
            store::set_selection(
                &state.db,
                &state.direct_writes,
                attempt.id,
                row.position,
                &row.selection,
                &new,
                ts,
            )
            .await
        }
        Action::Answer(chosen) => {
            let correct = domain::is_correct(&shown.question, chosen);
            let chosen = encode(chosen)?;
            store::record_answer(
                &state.db,
                &state.direct_writes,
                attempt.id,
                row.position,
                &chosen,
                correct,
                ts,
            )
            .await
        }
    }
}

/// Ends the attempt after its last answer, in a write transaction of its own.
async fn finish_now(state: &AppState, attempt: &Attempt, now: DateTime<Utc>) -> AppResult<Next> {
    state.live_attempts.forget(attempt.id);
    let mut tx = crate::storage::write(&state.db).await?;
    let next = finish(state, &mut tx, attempt, now).await?;
    tx.commit().await?;
    state.deliver_now();
    Ok(next)
}

/// A refusal that shows the attempt is over ends it now, so the trainee gets the result at
/// once instead of at the scheduler's next pass.
async fn end_if_over(
    state: &AppState,
    attempt: &Attempt,
    presser: i64,
    refusal: Refusal,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match refusal {
        Refusal::TimeUp => {
            end_early(state, attempt.id, Ending::TimeLimit, now).await?;
        }
        Refusal::RoundClosed
            if attempt.status == AttemptStatus::InProgress && attempt.user_id == presser =>
        {
            end_early(state, attempt.id, Ending::RoundClosed, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Checks a press on a test question against the stored state, in the order a trainee would
/// find most useful to hear about: whose test, whether it is still running, then the question.
/// Positions are `0..question_count` and answered strictly in order, so the first unanswered
/// position (`seen.current()`) says what any other position is.
pub fn check_test_press(
    seen: &store::PressState,
    presser: i64,
    position: i64,
    pressed_message: Option<i64>,
    now: i64,
) -> Result<(), Refusal> {
    let attempt = &seen.attempt;
    if attempt.user_id != presser {
        return Err(Refusal::NotYours);
    }
    if attempt.status != AttemptStatus::InProgress {
        return Err(Refusal::AttemptOver);
    }
    if !seen.round_open {
        return Err(Refusal::RoundClosed);
    }
    if now >= attempt.deadline_at {
        return Err(Refusal::TimeUp);
    }
    if !(0..attempt.question_count).contains(&position) {
        return Err(Refusal::Forged);
    }
    match seen.current() {
        Some(current) if position > current => return Err(Refusal::NotCurrent),
        Some(current) if position == current => {}
        _ => return Err(Refusal::AlreadyAnswered),
    }
    // The test lives in its newest message; an older copy (before a resume) is stale.
    if let (Some(shown_in), Some(pressed)) = (seen.live_message, pressed_message) {
        if shown_in != pressed {
            return Err(Refusal::Forged);
        }
    }
    Ok(())
}

/// The guarded store refused although the checks passed: another press or the deadline got
/// there first. Say which.
async fn refused_after_race(
    state: &AppState,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<PressOutcome> {
    if now.timestamp() >= attempt.deadline_at {
        end_early(state, attempt.id, Ending::TimeLimit, now).await?;
        return Ok(PressOutcome::Refused(Refusal::TimeUp));
    }
    Ok(PressOutcome::Refused(Refusal::AlreadyAnswered))
}

fn encode(indices: &[u8]) -> AppResult<String> {
    domain::encode_indices(indices).map_err(|e| AppError::Bank(format!("option index: {e}")))
}

/// Ends the attempt after its last answer and queues its result for the trainee, in the
/// caller's write transaction.
async fn finish(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<Next> {
    let (attempt_id, user_id) = (attempt.id, attempt.user_id);
    let ts = now.timestamp();
    let Some(finished) = store::finish(tx, attempt_id, AttemptStatus::Finished, ts).await? else {
        return Ok(Next::EndedElsewhere);
    };
    let rows = store::questions_of(&mut **tx, attempt_id).await?;
    let bank = state.bank.get(&state.db).await?;
    let parts = finished_of(&bank, &rows, finished, state.config.pass_mark, false).render();
    queue_result(tx, attempt_id, user_id, "result", parts, ts).await?;
    Ok(Next::ResultQueued)
}

/// Queues the result messages of an attempt for its trainee, keyed by the attempt and how it
/// ended, so queuing them again (a retried transaction) inserts nothing.
async fn queue_result(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    attempt_id: i64,
    user_id: i64,
    suffix: &str,
    parts: Vec<String>,
    ts: i64,
) -> AppResult<()> {
    for (index, text) in parts.into_iter().enumerate() {
        let key = if index == 0 {
            format!("attempt:{attempt_id}:{suffix}")
        } else {
            format!("attempt:{attempt_id}:{suffix}:{}", index + 1)
        };
        let message = NewMessage {
            key,
            topic: Some(format!("attempt:{attempt_id}")),
            chat_id: user_id,
            text,
            markup: None,
            due_at: ts,
            expires_at: None,
        };
        outbox::enqueue(&mut **tx, &message, ts).await?;
    }
    Ok(())
}

/// The score and every question not answered right.
fn finished_of(
    bank: &Bank,
    rows: &[AttemptQuestion],
    finished: store::Finished,
    pass_mark: u32,
    timed_out: bool,
) -> Finished {
    let missed = rows
        .iter()
        .filter(|row| row.is_correct != Some(true))
        .filter_map(|row| {
            let copy = row.question_copy.as_deref();
            let question = match question_in_tx(bank, &row.question_id, copy) {
                Ok(question) => question,
                Err(err) => {
                    tracing::warn!(attempt_id = row.attempt_id, %err, "question left out");
                    return None;
                }
            };
            let chosen = row
                .chosen
                .as_deref()
                .and_then(|c| domain::decode_indices(c, question.options.len()).ok())
                .unwrap_or_default();
            Some((question, chosen))
        })
        .collect();
    Finished {
        result: TestResult {
            correct: finished.correct,
            total: finished.total,
            pass_mark,
            timed_out,
        },
        missed,
    }
}

/// Why an attempt ended before the trainee finished it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    TimeLimit,
    RoundClosed,
}

/// Ends an attempt still in progress (scored as answered, status timed_out) and queues the
/// result for the trainee in the same transaction, so it reaches them even if the bot stops
/// right after. False when the attempt had already ended.
async fn end_early(
    state: &AppState,
    attempt_id: i64,
    ending: Ending,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    state.live_attempts.forget(attempt_id);
    let Some(attempt) = store::attempt(&state.db, attempt_id).await? else {
        return Ok(false);
    };
    if attempt.status != AttemptStatus::InProgress {
        return Ok(false);
    }
    let bank = state.bank.get(&state.db).await?;
    let ts = now.timestamp();
    let mut tx = crate::storage::write(&state.db).await?;
    let Some(finished) = store::finish(&mut tx, attempt_id, AttemptStatus::TimedOut, ts).await?
    else {
        tx.rollback().await?;
        return Ok(false);
    };
    let rows = store::questions_of(&mut *tx, attempt_id).await?;
    let mut parts = finished_of(&bank, &rows, finished, state.config.pass_mark, true).render();
    let suffix = match ending {
        Ending::TimeLimit => "timeout",
        Ending::RoundClosed => {
            let text = format!(
                "{}\n\n{}",
                t::round_closed_notice(attempt.round_id),
                parts.join("\n\n")
            );
            parts = split_message(&text, TELEGRAM_TEXT_LIMIT);
            "closed"
        }
    };
    queue_result(&mut tx, attempt_id, attempt.user_id, suffix, parts, ts).await?;
    // The question still showing loses its buttons (the scheduler that ends most attempts
    // has no door: `chat::sweep` does it).
    crate::storage::keyboards::queue_attempt(&mut *tx, attempt_id, attempt.user_id, ts).await?;
    tx.commit().await?;
    state.deliver_now();
    Ok(true)
}

/// Scheduler hook: ends attempts whose time limit passed (score stored, trainee told).
pub async fn expire_attempts(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    for id in store::overdue(&state.db, now.timestamp(), EXPIRE_BATCH).await? {
        end_early(state, id, Ending::TimeLimit, now).await?;
    }
    Ok(())
}

/// Scheduler hook: the earliest in-progress attempt deadline.
pub async fn next_attempt_deadline(state: &AppState) -> AppResult<Option<i64>> {
    store::next_deadline(&state.db).await
}

/// Round closing: finishes every attempt of the round still in progress (scored as answered).
pub async fn finalize_round_attempts(
    state: &AppState,
    round_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for id in store::in_progress_of_round(&state.db, round_id).await? {
        end_early(state, id, Ending::RoundClosed, now).await?;
    }
    Ok(())
}

/// A practice question to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PracticeStart {
    /// Not while a test is running: practice shows answers, and the same question may be in
    /// the test.
    Busy,
    EmptyBank,
    Question {
        nonce: i64,
        shown: Shown,
    },
}

/// Picks a practice question, favouring what the trainee got wrong.
pub async fn practice_question(state: &AppState, user_id: i64) -> AppResult<PracticeStart> {
    let now = state.now();
    if let Some(attempt) = store::in_progress_of_user(&state.db, user_id).await? {
        let round_open = open_round(state, now)
            .await?
            .is_some_and(|r| r.id == attempt.round_id);
        if round_open && now.timestamp() < attempt.deadline_at {
            return Ok(PracticeStart::Busy);
        }
    }
    let snapshot = state.bank.get(&state.db).await?;
    let bank = &snapshot.questions;
    let boxes: HashMap<String, (i64, i64)> = store::practice_boxes(&state.db, user_id)
        .await?
        .into_iter()
        .map(|b| (b.question_id, (b.box_, b.seen_at)))
        .collect();
    let candidates: Vec<PracticeCandidate> = bank
        .iter()
        .enumerate()
        .map(|(question_index, q)| {
            let record = boxes.get(&q.id);
            PracticeCandidate {
                question_index,
                box_: record.map(|(b, _)| u8::try_from(*b).unwrap_or(domain::TOP_BOX)),
                seen_at: record.map(|(_, seen)| *seen),
            }
        })
        .collect();
    let picked = state.with_rng(|rng| {
        let index = domain::pick_practice(&candidates, now.timestamp(), rng)?;
        let question = bank.get(index)?;
        Some((question.clone(), domain::shuffle_options(question, rng)))
    });
    let Some((question, order)) = picked else {
        return Ok(PracticeStart::EmptyBank);
    };
    let nonce =
        store::set_practice_current(&state.db, user_id, &question.id, &encode(&order)?).await?;
    Ok(PracticeStart::Question {
        nonce,
        shown: Shown {
            question: Box::new(question),
            order,
            selection: Vec::new(),
        },
    })
}

/// What a press on a practice question led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PracticeOutcome {
    /// Not the trainee's current practice question (an old message, or forged).
    Stale,
    Refused(Refusal),
    Selected {
        nonce: i64,
        shown: Shown,
    },
    Answered {
        shown: Shown,
        chosen: Vec<u8>,
        correct: bool,
    },
}

/// A trainee pressed a button of a practice question.
pub async fn practice_press(
    state: &AppState,
    user_id: i64,
    nonce: i64,
    press: PressKind,
) -> AppResult<PracticeOutcome> {
    let current = store::practice_current(&state.db, user_id).await?;
    let Some(current) = current.filter(|c| c.nonce == nonce) else {
        return Ok(PracticeOutcome::Stale);
    };
    let Ok(shown) = load_practice_shown(
        state,
        &current.question_id,
        &current.option_order,
        &current.selection,
    )
    .await
    else {
        return Ok(PracticeOutcome::Stale);
    };
    let action = match domain::resolve_press(&shown.question, &shown.order, &shown.selection, press)
    {
        Ok(action) => action,
        Err(refusal) => return Ok(PracticeOutcome::Refused(refusal)),
    };
    match action {
        Action::Select(selection) => {
            let stored = store::set_practice_selection(
                &state.db,
                user_id,
                nonce,
                &current.selection,
                &encode(&selection)?,
            )
            .await?;
            if !stored {
                return Ok(PracticeOutcome::Stale);
            }
            Ok(PracticeOutcome::Selected {
                nonce,
                shown: Shown { selection, ..shown },
            })
        }
        Action::Answer(chosen) => {
            let correct = domain::is_correct(&shown.question, &chosen);
            let old_box = store::practice_boxes(&state.db, user_id)
                .await?
                .into_iter()
                .find(|b| b.question_id == shown.question.id)
                .map_or(0, |b| u8::try_from(b.box_).unwrap_or(domain::TOP_BOX));
            let new_box = domain::next_box(old_box, correct);
            let now = state.now().timestamp();
            let stored =
                store::record_practice(&state.db, user_id, nonce, &shown.question.id, new_box, now)
                    .await?;
            if !stored {
                return Ok(PracticeOutcome::Stale);
            }
            Ok(PracticeOutcome::Answered {
                shown,
                chosen,
                correct,
            })
        }
    }
}

/// A trainee's rounds, oldest first.
pub async fn my_scores(state: &AppState, user_id: i64) -> AppResult<Vec<HistoryRow>> {
    store::history(&state.db, user_id).await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use tokio::sync::Notify;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Config;
    use crate::storage::quiz::tests::{created, fixture};
    use crate::texts::quiz as qt;

    fn state(db: crate::storage::Db) -> AppState {
        let config = Config::from_lookup(|key| match key {
            "TELOXIDE_TOKEN" => Some("1:test".to_owned()),
            _ => None,
        })
        .unwrap();
        let now = DateTime::from_timestamp(100, 0).unwrap();
        AppState {
            db,
            config: Arc::new(config),
            clock: Arc::new(ManualClock::new(now)),
            rng: Mutex::new(StdRng::seed_from_u64(1)),
            wake: Arc::new(Notify::new()),
            nudges: Default::default(),
            bot_username: "branchbot".to_owned(),
            bank: Default::default(),
            live_attempts: Default::default(),
            direct_writes: Default::default(),
        }
    }

    fn attempt(user_id: i64, status: AttemptStatus) -> Attempt {
        Attempt {
            id: 1,
            round_id: 1,
            user_id,
            branch_id: None,
            started_at: 100,
            deadline_at: 1900,
            finished_at: None,
            status,
            question_count: 3,
            correct_count: None,
            score: None,
        }
    }

    fn row(position: i64) -> AttemptQuestion {
        AttemptQuestion {
            attempt_id: 1,
            position,
            question_id: "q1".into(),
            option_order: "3210".into(),
            selection: String::new(),
            chosen: None,
            is_correct: None,
            answered_at: None,
            message_id: None,
            question_copy: None,
        }
    }

    /// Question 1 of 3 is current (question 0 answered), the round open.
    fn seen(attempt: Attempt) -> store::PressState {
        store::PressState {
            attempt,
            round_open: true,
            live_message: None,
            unanswered: vec![row(1), row(2)],
        }
    }

    #[test]
    fn presses_are_checked_before_anything_is_stored() {
        let open = seen(attempt(7, AttemptStatus::InProgress));
        let check = |s: &store::PressState, presser, position, now| {
            check_test_press(s, presser, position, None, now)
        };
        assert_eq!(check(&open, 7, 1, 500), Ok(()));
        assert_eq!(check(&open, 8, 1, 500), Err(Refusal::NotYours));
        for status in [AttemptStatus::Finished, AttemptStatus::TimedOut] {
            let over = seen(attempt(7, status));
            assert_eq!(check(&over, 7, 1, 500), Err(Refusal::AttemptOver));
        }
        let closed = store::PressState {
            round_open: false,
            ..open.clone()
        };
        assert_eq!(check(&closed, 7, 1, 500), Err(Refusal::RoundClosed));
        assert_eq!(check(&open, 7, 1, 1900), Err(Refusal::TimeUp));
        assert_eq!(check(&open, 7, 3, 500), Err(Refusal::Forged));
        assert_eq!(check(&open, 7, -1, 500), Err(Refusal::Forged));
        assert_eq!(check(&open, 7, 0, 500), Err(Refusal::AlreadyAnswered));
        assert_eq!(check(&open, 7, 2, 500), Err(Refusal::NotCurrent));
        let all_answered = store::PressState {
            unanswered: Vec::new(),
            ..open.clone()
        };
        assert_eq!(
            check(&all_answered, 7, 2, 500),
            Err(Refusal::AlreadyAnswered)
        );
        // The test was sent again (resume): only its newest message answers it.
        let resent = store::PressState {
            live_message: Some(40),
            ..open.clone()
        };
        let on = |message| check_test_press(&resent, 7, 1, message, 500);
        assert_eq!(on(Some(40)), Ok(()));
        assert_eq!(on(None), Ok(()));
        assert_eq!(on(Some(33)), Err(Refusal::Forged));
    }

    async fn outbox_keys(db: &crate::storage::Db) -> Vec<(String, i64, String)> {
        sqlx::query_as("SELECT dedup_key, chat_id, text FROM outbox ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn overdue_attempts_end_once_and_the_trainee_is_told_through_the_outbox() {
        let db = fixture().await;
        let state = state(db.clone());
        let a = created(&db, 7, 1900).await;
        assert!(
            store::record_answer(&db, &Default::default(), a.id, 0, "1", true, 200)
                .await
                .unwrap()
        );
        assert_eq!(next_attempt_deadline(&state).await.unwrap(), Some(1900));

        let before = DateTime::from_timestamp(1899, 0).unwrap();
        expire_attempts(&state, before).await.unwrap();
        assert_eq!(
            store::attempt(&db, a.id).await.unwrap().unwrap().status,
            AttemptStatus::InProgress
        );

        let after = DateTime::from_timestamp(1900, 0).unwrap();
        expire_attempts(&state, after).await.unwrap();
        expire_attempts(&state, after).await.unwrap();
        let ended = store::attempt(&db, a.id).await.unwrap().unwrap();
        assert_eq!(
            (ended.status, ended.correct_count, ended.score),
            (AttemptStatus::TimedOut, Some(1), Some(33))
        );
        assert_eq!(next_attempt_deadline(&state).await.unwrap(), None);
        let queued = outbox_keys(&db).await;
        assert_eq!(queued.len(), 1);
        let (key, chat, text) = &queued[0];
        assert_eq!(
            (key.as_str(), *chat),
            (format!("attempt:{}:timeout", a.id).as_str(), 7)
        );
        assert!(
            text.contains(qt::TIMED_OUT) && text.contains(&qt::score_line(33)),
            "{text}"
        );
        // The two unanswered questions are reviewed.
        assert!(text.contains(&qt::review_heading(2)), "{text}");
    }

    /// Presses go through memory once the attempt is remembered; an attempt ended behind
    /// memory's back (the database changed, not through this process's handlers) is judged
    /// from the database: the trainee hears the attempt is over, and nothing is stored.
    #[tokio::test]
    async fn a_remembered_attempt_ended_behind_memorys_back_is_judged_from_the_database() {
        let db = fixture().await;
        let state = state(db.clone());
        let a = created(&db, 7, 1900).await;
        let first = press(&state, 7, a.id, 0, PressKind::Choose(0), None)
            .await
            .unwrap();
        assert!(matches!(
            first,
            PressOutcome::Answered {
                next: Next::Question(_),
                ..
            }
        ));
        assert!(state.live_attempts.lock().contains_key(&a.id));
        let tick = press(
            &state,
            7,
            a.id,
            1,
            PressKind::Set { shown: 0, on: true },
            None,
        )
        .await
        .unwrap();
        assert!(matches!(tick, PressOutcome::Selected(_)));
        assert!(state.live_attempts.lock().contains_key(&a.id));

        sqlx::query("UPDATE attempts SET status = 'timed_out', finished_at = 150 WHERE id = ?")
            .bind(a.id)
            .execute(&db)
            .await
            .unwrap();
        let late = press(&state, 7, a.id, 1, PressKind::Submit, None)
            .await
            .unwrap();
        assert_eq!(late, PressOutcome::Refused(Refusal::AttemptOver));
        let rows = store::questions_of(&db, a.id).await.unwrap();
        assert_eq!(rows[1].chosen, None, "nothing stored for q2");
        assert!(!state.live_attempts.lock().contains_key(&a.id));
    }

    /// A new message showing the test (a resume) is learnt by memory once it is stored: a press
    /// on the old copy is refused, one on the new copy taken, both without reading.
    #[tokio::test]
    async fn a_resent_test_is_learnt_by_memory() {
        let db = fixture().await;
        let state = state(db.clone());
        let a = created(&db, 7, 1900).await;
        question_sent(&state, a.id, 0, 40).await.unwrap();
        press(&state, 7, a.id, 0, PressKind::Choose(0), Some(40))
            .await
            .unwrap();
        assert!(state.live_attempts.lock().contains_key(&a.id));
        question_sent(&state, a.id, 1, 41).await.unwrap();
        assert_eq!(
            state.live_attempts.lock()[&a.id].seen.live_message,
            Some(41)
        );
        let stale = press(&state, 7, a.id, 1, PressKind::Submit, Some(40))
            .await
            .unwrap();
        assert_eq!(stale, PressOutcome::Refused(Refusal::Forged));
        let tick = PressKind::Set { shown: 0, on: true };
        let taken = press(&state, 7, a.id, 1, tick, Some(41)).await.unwrap();
        assert!(matches!(taken, PressOutcome::Selected(_)), "{taken:?}");
        // Memory and the database agree on which message shows the test.
        assert_eq!(store::live_message(&db, a.id).await.unwrap(), Some(41));
    }

    /// The last press stores the answer and leaves the test to `conclude`, which scores it and
    /// queues the result once, however often it is asked.
    #[tokio::test]
    async fn the_last_answer_is_stored_and_conclude_scores_the_test_once() {
        let db = fixture().await;
        let state = state(db.clone());
        let a = created(&db, 7, 1900).await;
        let presses = [
            (0, PressKind::Choose(0)),
            (1, PressKind::Set { shown: 0, on: true }),
            (1, PressKind::Submit),
        ];
        for (position, kind) in presses {
            let outcome = press(&state, 7, a.id, position, kind, None).await.unwrap();
            assert!(!matches!(outcome, PressOutcome::Refused(_)), "{outcome:?}");
        }
        let last = press(&state, 7, a.id, 2, PressKind::Choose(0), None)
            .await
            .unwrap();
        let PressOutcome::Answered {
            next: Next::LastAnswered(test),
            ..
        } = last
        else {
            panic!("{last:?}");
        };
        let stored = store::attempt(&db, a.id).await.unwrap().unwrap();
        assert_eq!(stored.status, AttemptStatus::InProgress, "not scored yet");
        assert!(store::questions_of(&db, a.id)
            .await
            .unwrap()
            .iter()
            .all(|q| q.chosen.is_some()));
        conclude(&state, test.clone()).await.unwrap();
        conclude(&state, test).await.unwrap();
        let scored = store::attempt(&db, a.id).await.unwrap().unwrap();
        assert_eq!(scored.status, AttemptStatus::Finished);
        let queued = outbox_keys(&db).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        assert_eq!(queued[0].1, 7);
    }

    #[tokio::test]
    async fn closing_a_round_ends_its_open_attempts() {
        let db = fixture().await;
        let state = state(db.clone());
        let a = created(&db, 7, 1900).await;
        let b = created(&db, 8, 1900).await;
        for position in 0..3 {
            let chosen = ["1", "02", "0"][position as usize];
            assert!(store::record_answer(
                &db,
                &Default::default(),
                b.id,
                position,
                chosen,
                true,
                200
            )
            .await
            .unwrap());
        }
        let mut conn = db.acquire().await.unwrap();
        store::finish(&mut conn, b.id, AttemptStatus::Finished, 300)
            .await
            .unwrap();
        drop(conn);
        let now = DateTime::from_timestamp(1000, 0).unwrap();
        finalize_round_attempts(&state, 1, now).await.unwrap();
        assert_eq!(
            store::attempt(&db, a.id).await.unwrap().unwrap().status,
            AttemptStatus::TimedOut
        );
        let finished_b = store::attempt(&db, b.id).await.unwrap().unwrap();
        assert_eq!(
            (finished_b.status, finished_b.score),
            (AttemptStatus::Finished, Some(100))
        );
        let queued = outbox_keys(&db).await;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].0, format!("attempt:{}:closed", a.id));
        assert!(queued[0].2.starts_with(&t::round_closed_notice(1)));
    }
}
