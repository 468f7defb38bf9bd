//! Taking the test in private chat, practice, and one's own scores.
//!
//! The database is the only state: which question is current, the 多选 selection so far and
//! the deadline are all stored, so a restart of the bot loses nothing and `/test` picks up at
//! the first unanswered question. Every press is checked (whose attempt, which question, still
//! in time) before anything is stored, and the store itself is guarded again, so a forged,
//! stale, late or doubled press changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, User};

use crate::domain::quiz::{self as domain, OptionButton, PracticeCandidate, TestResult};
use crate::error::{AppError, AppResult};
use crate::questions::model::{option_letter, Question, QuestionKind};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::quiz::{self as store, Attempt, AttemptQuestion, AttemptStatus, Started};
use crate::storage::rounds::{self, Round};
use crate::storage::{branches, questions};
use crate::telegram::callbacks::CallbackData;
use crate::telegram::send;
use crate::telegram::AppState;
use crate::texts::common as ct;
use crate::texts::quiz as qt;
use crate::texts::quiz_flow as t;

/// Option buttons per keyboard row: five letters fit a phone screen.
const BUTTONS_PER_ROW: usize = 5;
/// Overdue attempts ended per scheduler pass; the rest follow in the next pass.
const EXPIRE_BATCH: i64 = 200;

/// `/test`, the test button of a round announcement (deep link) and the StartTest button:
/// starts the open round's test for this trainee, or resumes it where it stopped.
pub async fn entry(bot: &Bot, chat_id: ChatId, user: &User, state: &AppState) -> AppResult<()> {
    let now = state.now();
    let user_id = user.id.0 as i64;
    let Some(round) = open_round(state, now).await? else {
        let tz = state.config.timezone;
        let mut text = t::NO_OPEN_ROUND.to_owned();
        if let Some(next) =
            crate::domain::schedule::next_occurrence(&state.config.test_calendar, tz, now)
        {
            text.push_str(&t::next_round_opens(
                &crate::scheduler::reminders::format_when(state, next),
            ));
        }
        return send::html(bot, chat_id, &text).await.map(drop);
    };
    if let Some(attempt) = store::attempt_in_round(&state.db, round.id, user_id).await? {
        return continue_attempt(bot, chat_id, state, &round, attempt, now).await;
    }
    let branch = match branches::member_branch(&state.db, user_id).await? {
        Some(branch) if branch.active => branch,
        // They did join; telling them to join would send them looking for a code that no
        // longer works.
        Some(branch) => {
            let text = t::branch_unbound(&send::esc(&branch.name));
            return send::html(bot, chat_id, &text).await.map(drop);
        }
        None => return send::html(bot, chat_id, t::JOIN_FIRST).await.map(drop),
    };
    let bank = usable_bank(state).await?;
    let groups = crate::questions::similarity::fact_groups_cached(&bank);
    let seen = crate::storage::draw_history::rounds_ago(&state.db, user_id, round.id).await?;
    let rounds_ago: Vec<Option<u32>> = bank.iter().map(|q| seen.get(&q.id).copied()).collect();
    let limits = domain::DrawLimits {
        groups: &groups,
        rounds_ago: &rounds_ago,
    };
    let per_test = state.config.questions_per_test;
    let drawn = state.with_rng(|rng| domain::draw(&bank, per_test, &limits, rng));
    let mut drawn_rows = Vec::with_capacity(drawn.len());
    for d in &drawn {
        let Some(question) = bank.get(d.question_index) else {
            continue;
        };
        let Ok(order) = domain::encode_indices(&d.option_order) else {
            continue;
        };
        drawn_rows.push((question.id.clone(), order));
    }
    if drawn_rows.is_empty() {
        return send::html(bot, chat_id, t::EMPTY_BANK).await.map(drop);
    }
    let started_at = now.timestamp();
    let limit = i64::from(state.config.time_limit_minutes) * 60;
    // A round that closes sooner than the time limit ends the test with it; say so up front.
    let deadline_at = (started_at + limit).min(round.closes_at);
    let new = store::NewAttempt {
        round_id: round.id,
        user_id,
        branch_id: Some(branch.id),
        started_at,
        deadline_at,
        questions: drawn_rows,
    };
    match store::start_attempt(&state.db, &new).await? {
        Started::Created(attempt) => {
            state.wake.notify_one();
            let minutes = (attempt.deadline_at - attempt.started_at + 59) / 60;
            let intro = t::test_intro(
                round.id,
                attempt.question_count as usize,
                minutes,
                &local_time(state, attempt.deadline_at),
            );
            send::html(bot, chat_id, &intro).await?;
            send_current(bot, chat_id, state, &attempt, now).await
        }
        Started::Existing(attempt) => {
            continue_attempt(bot, chat_id, state, &round, attempt, now).await
        }
    }
}

/// `/test` when the trainee already has an attempt in this round.
async fn continue_attempt(
    bot: &Bot,
    chat_id: ChatId,
    state: &AppState,
    round: &Round,
    attempt: Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match attempt.status {
        AttemptStatus::InProgress if now.timestamp() >= attempt.deadline_at => {
            end_by_time(state, attempt.id, Ending::TimeLimit, now).await?;
            send::html(bot, chat_id, &t::time_up_on_entry(round.id))
                .await
                .map(drop)
        }
        AttemptStatus::InProgress => {
            let all = store::questions_of(&state.db, attempt.id).await?;
            let answered = all.iter().filter(|q| q.chosen.is_some()).count();
            let note = t::test_resume(
                round.id,
                answered,
                all.len(),
                &local_time(state, attempt.deadline_at),
            );
            send::html(bot, chat_id, &note).await?;
            send_current(bot, chat_id, state, &attempt, now).await
        }
        AttemptStatus::Finished | AttemptStatus::TimedOut => {
            let score = attempt.score.unwrap_or(0);
            let passed = domain::passed(u32::try_from(score).unwrap_or(0), state.config.pass_mark);
            let text = t::already_done(round.id, score, state.config.pass_mark, passed);
            send::html(bot, chat_id, &text).await.map(drop)
        }
    }
}

/// The round open at `now`; one whose closing time passed counts as closed even before the
/// scheduler has recorded it.
async fn open_round(state: &AppState, now: DateTime<Utc>) -> AppResult<Option<Round>> {
    let round = rounds::open_round(&state.db, now.timestamp()).await?;
    Ok(round.filter(|r| r.closes_at > now.timestamp()))
}

/// The active questions the encodings can hold (at most ten options each).
async fn usable_bank(state: &AppState) -> AppResult<Vec<Question>> {
    let mut bank = questions::active(&state.db).await?;
    bank.retain(|q| !q.options.is_empty() && q.options.len() <= domain::MAX_OPTIONS);
    Ok(bank)
}

/// Sends the first unanswered question, or ends the test if every question is answered (the
/// bot stopped between the last answer and the result).
async fn send_current(
    bot: &Bot,
    chat_id: ChatId,
    state: &AppState,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match store::current_question(&state.db, attempt.id).await? {
        Some(current) => send_question(bot, chat_id, state, attempt, &current).await,
        None => finish_and_report(bot, chat_id, state, attempt.id, now).await,
    }
}

async fn send_question(
    bot: &Bot,
    chat_id: ChatId,
    state: &AppState,
    attempt: &Attempt,
    row: &AttemptQuestion,
) -> AppResult<()> {
    let shown = Shown::load(state, &row.question_id, &row.option_order, &row.selection).await?;
    let position = usize::try_from(row.position).unwrap_or(0);
    let total = usize::try_from(attempt.question_count).unwrap_or(0);
    let text = domain::render_question(
        &shown.question,
        &shown.order,
        position,
        total,
        &shown.selection,
    );
    let keyboard = test_keyboard(&shown, attempt.id, row.position);
    // A resumed question is sent again; the buttons of its earlier message go, so only one
    // message answers it.
    if let Some(old) = row.message_id.and_then(|id| i32::try_from(id).ok()) {
        if let Err(err) = bot.edit_message_reply_markup(chat_id, MessageId(old)).await {
            tracing::debug!(error = %err, "could not remove the buttons of a resent question");
        }
    }
    let sent = send::html_with_buttons(bot, chat_id, &text, keyboard).await?;
    store::set_message_id(&state.db, attempt.id, row.position, i64::from(sent.id.0)).await
}

/// A stored question as the trainee sees it: the question, its option order, the selection.
struct Shown {
    question: Question,
    order: Vec<u8>,
    selection: Vec<u8>,
}

impl Shown {
    async fn load(
        state: &AppState,
        question_id: &str,
        order: &str,
        selection: &str,
    ) -> AppResult<Shown> {
        let question = questions::by_id(&state.db, question_id)
            .await?
            .ok_or_else(|| {
                AppError::Bank(format!("question {question_id} of an attempt is missing"))
            })?;
        let count = question.options.len();
        let order = domain::decode_option_order(order, count)
            .map_err(|e| AppError::Bank(format!("stored option order of {question_id}: {e}")))?;
        // A selection that does not decode is treated as empty rather than trusted.
        let selection = domain::decode_indices(selection, count).unwrap_or_default();
        Ok(Shown {
            question,
            order,
            selection,
        })
    }
}

fn keyboard(
    shown: &Shown,
    on_option: impl Fn(&OptionButton) -> CallbackData,
    submit: Option<CallbackData>,
) -> InlineKeyboardMarkup {
    let buttons: Vec<InlineKeyboardButton> =
        domain::option_buttons(&shown.question, &shown.order, &shown.selection)
            .iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), on_option(b).encode()))
            .collect();
    let mut rows: Vec<Vec<InlineKeyboardButton>> =
        buttons.chunks(BUTTONS_PER_ROW).map(<[_]>::to_vec).collect();
    if let Some(submit) = submit {
        rows.push(vec![InlineKeyboardButton::callback(
            qt::SUBMIT,
            submit.encode(),
        )]);
    }
    InlineKeyboardMarkup::new(rows)
}

fn test_keyboard(shown: &Shown, attempt: i64, position: i64) -> InlineKeyboardMarkup {
    let position = u8::try_from(position).unwrap_or(u8::MAX);
    let multiple = shown.question.kind == QuestionKind::Multiple;
    keyboard(
        shown,
        |b| {
            if multiple {
                CallbackData::Toggle {
                    attempt,
                    position,
                    option: b.shown_position,
                }
            } else {
                CallbackData::Answer {
                    attempt,
                    position,
                    option: b.shown_position,
                }
            }
        },
        multiple.then_some(CallbackData::Submit { attempt, position }),
    )
}

fn practice_keyboard(shown: &Shown, nonce: i64) -> InlineKeyboardMarkup {
    let multiple = shown.question.kind == QuestionKind::Multiple;
    keyboard(
        shown,
        |b| {
            if multiple {
                CallbackData::PracticeToggle {
                    nonce,
                    option: b.shown_position,
                }
            } else {
                CallbackData::PracticeAnswer {
                    nonce,
                    option: b.shown_position,
                }
            }
        },
        multiple.then_some(CallbackData::PracticeSubmit { nonce }),
    )
}

/// What a press asks for, in the terms of the shown options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    /// 单选/判断: answer with the option shown at this position.
    Choose(u8),
    /// 多选: toggle the option shown at this position.
    Toggle(u8),
    /// 多选: submit the selection.
    Submit,
}

/// Why a press changes nothing; each becomes a short alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Data that names nothing real: no such attempt, question or option, or a button kind
    /// the question does not have.
    Forged,
    NotYours,
    AttemptOver,
    RoundClosed,
    /// The deadline passed: the attempt is ended now.
    TimeUp,
    AlreadyAnswered,
    NotCurrent,
    EmptySubmit,
}

impl Refusal {
    fn text(self) -> &'static str {
        match self {
            Refusal::Forged => ct::STALE_BUTTON,
            Refusal::NotYours => t::NOT_YOUR_TEST,
            Refusal::AttemptOver => t::ATTEMPT_OVER,
            Refusal::RoundClosed => t::ROUND_CLOSED,
            Refusal::TimeUp => t::TIME_UP,
            Refusal::AlreadyAnswered => t::ALREADY_ANSWERED,
            Refusal::NotCurrent => t::NOT_CURRENT_QUESTION,
            Refusal::EmptySubmit => t::EMPTY_SUBMIT,
        }
    }
}

/// What an accepted press does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Store this answer (original indices, sorted).
    Answer(Vec<u8>),
    /// Store this 多选 selection (original indices, sorted).
    Select(Vec<u8>),
}

/// Checks a press on a test question against the stored state, in the order a trainee would
/// find most useful to hear about: whose test, whether it is still running, then the question.
pub fn check_test_press(
    attempt: &Attempt,
    presser: i64,
    round: Option<&Round>,
    row: Option<&AttemptQuestion>,
    current_position: Option<i64>,
    pressed_message: Option<i64>,
    now: i64,
) -> Result<(), Refusal> {
    if attempt.user_id != presser {
        return Err(Refusal::NotYours);
    }
    if attempt.status != AttemptStatus::InProgress {
        return Err(Refusal::AttemptOver);
    }
    match round {
        Some(r) if r.status == "open" => {}
        _ => return Err(Refusal::RoundClosed),
    }
    if now >= attempt.deadline_at {
        return Err(Refusal::TimeUp);
    }
    let Some(row) = row else {
        return Err(Refusal::Forged);
    };
    if row.chosen.is_some() {
        return Err(Refusal::AlreadyAnswered);
    }
    if current_position != Some(row.position) {
        return Err(Refusal::NotCurrent);
    }
    // After a resume the question lives in its newest message; an older copy is stale.
    if let (Some(shown_in), Some(pressed)) = (row.message_id, pressed_message) {
        if shown_in != pressed {
            return Err(Refusal::Forged);
        }
    }
    Ok(())
}

/// Turns a press into what to store, refusing presses the question's kind does not have and
/// options it does not show.
pub fn resolve_press(
    question: &Question,
    order: &[u8],
    selection: &[u8],
    press: Press,
) -> Result<Action, Refusal> {
    let original = |shown: u8| {
        order
            .get(usize::from(shown))
            .copied()
            .ok_or(Refusal::Forged)
    };
    let multiple = question.kind == QuestionKind::Multiple;
    match press {
        Press::Choose(shown) if !multiple => Ok(Action::Answer(vec![original(shown)?])),
        Press::Toggle(shown) if multiple => {
            Ok(Action::Select(domain::toggle(selection, original(shown)?)))
        }
        Press::Submit if multiple && selection.is_empty() => Err(Refusal::EmptySubmit),
        Press::Submit if multiple => {
            let mut chosen = selection.to_vec();
            chosen.sort_unstable();
            chosen.dedup();
            Ok(Action::Answer(chosen))
        }
        _ => Err(Refusal::Forged),
    }
}

/// Answer, Toggle, Submit, Practice* and StartTest buttons.
pub async fn on_button(
    bot: &Bot,
    query: &CallbackQuery,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    use CallbackData as C;
    match data {
        C::Answer {
            attempt,
            position,
            option,
        } => test_press(bot, query, state, attempt, position, Press::Choose(option)).await,
        C::Toggle {
            attempt,
            position,
            option,
        } => test_press(bot, query, state, attempt, position, Press::Toggle(option)).await,
        C::Submit { attempt, position } => {
            test_press(bot, query, state, attempt, position, Press::Submit).await
        }
        C::PracticeAnswer { nonce, option } => {
            practice_press(bot, query, state, nonce, Press::Choose(option)).await
        }
        C::PracticeToggle { nonce, option } => {
            practice_press(bot, query, state, nonce, Press::Toggle(option)).await
        }
        C::PracticeSubmit { nonce } => {
            practice_press(bot, query, state, nonce, Press::Submit).await
        }
        C::PracticeNext => {
            bot.answer_callback_query(query.id.clone()).await?;
            send_practice(
                bot,
                private_chat(&query.from),
                query.from.id.0 as i64,
                state,
            )
            .await
        }
        C::StartTest => {
            bot.answer_callback_query(query.id.clone()).await?;
            entry(bot, private_chat(&query.from), &query.from, state).await
        }
        _ => alert(bot, query, ct::STALE_BUTTON).await,
    }
}

/// A private chat's id is the user's id.
fn private_chat(user: &User) -> ChatId {
    ChatId(user.id.0 as i64)
}

async fn alert(bot: &Bot, query: &CallbackQuery, text: &str) -> AppResult<()> {
    bot.answer_callback_query(query.id.clone())
        .text(text)
        .show_alert(true)
        .await?;
    Ok(())
}

/// Edits the message a button was on. The answer is already stored, so a failed edit (message
/// too old, deleted, unchanged) is logged and does not turn into an error for the trainee.
async fn edit(
    bot: &Bot,
    query: &CallbackQuery,
    fallback: Option<(ChatId, i64)>,
    text: String,
    markup: Option<InlineKeyboardMarkup>,
) {
    let target = match &query.message {
        Some(message) => Some((message.chat().id, message.id())),
        None => {
            fallback.and_then(|(chat, id)| i32::try_from(id).ok().map(|id| (chat, MessageId(id))))
        }
    };
    let Some((chat, message_id)) = target else {
        return;
    };
    let request = bot
        .edit_message_text(chat, message_id, text)
        .parse_mode(ParseMode::Html);
    let result = match markup {
        Some(markup) => request.reply_markup(markup).await,
        None => request.await,
    };
    if let Err(err) = result {
        tracing::warn!(chat = chat.0, error = %err, "could not edit a quiz message");
    }
}

async fn test_press(
    bot: &Bot,
    query: &CallbackQuery,
    state: &AppState,
    attempt_id: i64,
    position: u8,
    press: Press,
) -> AppResult<()> {
    let now = state.now();
    let presser = query.from.id.0 as i64;
    let Some(attempt) = store::attempt(&state.db, attempt_id).await? else {
        return alert(bot, query, ct::STALE_BUTTON).await;
    };
    let position = i64::from(position);
    let round = rounds::by_id(&state.db, attempt.round_id).await?;
    let row = store::question_at(&state.db, attempt.id, position).await?;
    let current = store::current_question(&state.db, attempt.id)
        .await?
        .map(|c| c.position);
    let pressed_message = query.message.as_ref().map(|m| i64::from(m.id().0));
    if let Err(refusal) = check_test_press(
        &attempt,
        presser,
        round.as_ref(),
        row.as_ref(),
        current,
        pressed_message,
        now.timestamp(),
    ) {
        match refusal {
            Refusal::TimeUp => {
                end_by_time(state, attempt.id, Ending::TimeLimit, now).await?;
            }
            Refusal::RoundClosed
                if attempt.status == AttemptStatus::InProgress && attempt.user_id == presser =>
            {
                end_by_time(state, attempt.id, Ending::RoundClosed, now).await?;
            }
            _ => {}
        }
        return alert(bot, query, refusal.text()).await;
    }
    let Some(row) = row else {
        return alert(bot, query, ct::STALE_BUTTON).await;
    };
    let shown = Shown::load(state, &row.question_id, &row.option_order, &row.selection).await?;
    let action = match resolve_press(&shown.question, &shown.order, &shown.selection, press) {
        Ok(action) => action,
        Err(refusal) => return alert(bot, query, refusal.text()).await,
    };
    let chat = ChatId(attempt.user_id);
    let total = usize::try_from(attempt.question_count).unwrap_or(0);
    let index = usize::try_from(position).unwrap_or(0);
    match action {
        Action::Select(selection) => {
            let new_code = encode(&selection)?;
            if !store::set_selection(
                &state.db,
                attempt.id,
                position,
                &row.selection,
                &new_code,
                now.timestamp(),
            )
            .await?
            {
                return refused_after_race(bot, query, state, &attempt, now).await;
            }
            bot.answer_callback_query(query.id.clone()).await?;
            let shown = Shown { selection, ..shown };
            let text = domain::render_question(
                &shown.question,
                &shown.order,
                index,
                total,
                &shown.selection,
            );
            let markup = test_keyboard(&shown, attempt.id, position);
            edit(
                bot,
                query,
                row.message_id.map(|id| (chat, id)),
                text,
                Some(markup),
            )
            .await;
            Ok(())
        }
        Action::Answer(chosen) => {
            let code = encode(&chosen)?;
            let correct = domain::is_correct(&shown.question, &chosen);
            if !store::record_answer(
                &state.db,
                attempt.id,
                position,
                &code,
                correct,
                now.timestamp(),
            )
            .await?
            {
                return refused_after_race(bot, query, state, &attempt, now).await;
            }
            bot.answer_callback_query(query.id.clone())
                .text(t::ANSWER_SAVED)
                .await?;
            let text = answered_view(&shown, index, total, &chosen);
            edit(bot, query, row.message_id.map(|id| (chat, id)), text, None).await;
            send_current(bot, chat, state, &attempt, now).await
        }
    }
}

/// The guarded store refused although the checks passed: another press or the deadline got
/// there first. Say which.
async fn refused_after_race(
    bot: &Bot,
    query: &CallbackQuery,
    state: &AppState,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if now.timestamp() >= attempt.deadline_at {
        end_by_time(state, attempt.id, Ending::TimeLimit, now).await?;
        return alert(bot, query, t::TIME_UP).await;
    }
    alert(bot, query, t::ALREADY_ANSWERED).await
}

fn encode(indices: &[u8]) -> AppResult<String> {
    domain::encode_indices(indices).map_err(|e| AppError::Bank(format!("option index: {e}")))
}

/// The options named by original `indices`, with the letters this trainee saw them under.
fn shown_answer(shown: &Shown, indices: &[u8]) -> String {
    let mut parts = Vec::new();
    for (position, original) in shown.order.iter().enumerate() {
        if !indices.contains(original) {
            continue;
        }
        let Some(text) = shown.question.options.get(usize::from(*original)) else {
            continue;
        };
        if shown.question.kind == QuestionKind::TrueFalse {
            parts.push(send::esc(text));
        } else {
            parts.push(format!(
                "{}. {}",
                option_letter(position as u8),
                send::esc(text)
            ));
        }
    }
    parts.join(t::ANSWER_SEPARATOR)
}

/// An answered test question: what was asked and what was chosen, with no right or wrong
/// (that comes at the end, all at once).
fn answered_view(shown: &Shown, position: usize, total: usize, chosen: &[u8]) -> String {
    let q = &shown.question;
    let header = qt::question_header(position + 1, total, q.kind.label(), &q.category);
    format!(
        "<b>{}</b>\n\n{}\n\n{}",
        send::esc(&header),
        send::esc(&q.text),
        t::answered(&shown_answer(shown, chosen))
    )
}

/// Ends the attempt after its last answer and shows the result at once.
async fn finish_and_report(
    bot: &Bot,
    chat_id: ChatId,
    state: &AppState,
    attempt_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let bank = attempt_questions_bank(state, attempt_id).await?;
    let mut tx = crate::storage::write(&state.db).await?;
    let Some(finished) = store::finish(
        &mut tx,
        attempt_id,
        AttemptStatus::Finished,
        now.timestamp(),
    )
    .await?
    else {
        // Ended meanwhile by the time limit or the round closing; that path tells the trainee.
        tx.rollback().await?;
        return Ok(());
    };
    let rows = store::questions_of(&mut *tx, attempt_id).await?;
    tx.commit().await?;
    for part in result_messages(&bank, &rows, finished, state.config.pass_mark, false) {
        send::html(bot, chat_id, &part).await?;
    }
    Ok(())
}

/// The questions of an attempt by id, loaded before a transaction that needs them (a
/// transaction holds its connection, and the question bank is read through the pool).
async fn attempt_questions_bank(
    state: &AppState,
    attempt_id: i64,
) -> AppResult<HashMap<String, Question>> {
    let mut bank = HashMap::new();
    for row in store::questions_of(&state.db, attempt_id).await? {
        if let Some(question) = questions::by_id(&state.db, &row.question_id).await? {
            bank.insert(row.question_id, question);
        }
    }
    Ok(bank)
}

/// The score summary and the review of every question not answered right.
fn result_messages(
    bank: &HashMap<String, Question>,
    rows: &[AttemptQuestion],
    finished: store::Finished,
    pass_mark: u32,
    timed_out: bool,
) -> Vec<String> {
    let missed: Vec<(&Question, Vec<u8>)> = rows
        .iter()
        .filter(|row| row.is_correct != Some(true))
        .filter_map(|row| {
            let question = bank.get(&row.question_id)?;
            let chosen = row
                .chosen
                .as_deref()
                .and_then(|c| domain::decode_indices(c, question.options.len()).ok())
                .unwrap_or_default();
            Some((question, chosen))
        })
        .collect();
    let missed: Vec<(&Question, &[u8])> = missed.iter().map(|(q, c)| (*q, c.as_slice())).collect();
    let result = TestResult {
        correct: finished.correct,
        total: finished.total,
        pass_mark,
        timed_out,
    };
    domain::render_result(&result, &missed)
}

/// Why an attempt ended before the trainee finished it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    TimeLimit,
    RoundClosed,
}

/// Ends an attempt still in progress (scored as answered, status timed_out) and queues the
/// result for the trainee in the same transaction, so it is sent exactly once even if the
/// bot stops right after. False when the attempt had already ended.
async fn end_by_time(
    state: &AppState,
    attempt_id: i64,
    ending: Ending,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(attempt) = store::attempt(&state.db, attempt_id).await? else {
        return Ok(false);
    };
    if attempt.status != AttemptStatus::InProgress {
        return Ok(false);
    }
    let bank = attempt_questions_bank(state, attempt_id).await?;
    let ts = now.timestamp();
    let mut tx = crate::storage::write(&state.db).await?;
    let Some(finished) = store::finish(&mut tx, attempt_id, AttemptStatus::TimedOut, ts).await?
    else {
        tx.rollback().await?;
        return Ok(false);
    };
    let rows = store::questions_of(&mut *tx, attempt_id).await?;
    let mut parts = result_messages(&bank, &rows, finished, state.config.pass_mark, true);
    let suffix = match ending {
        Ending::TimeLimit => "timeout",
        Ending::RoundClosed => {
            let text = format!(
                "{}\n\n{}",
                t::round_closed_notice(attempt.round_id),
                parts.join("\n\n")
            );
            parts = domain::split_message(&text, domain::TELEGRAM_TEXT_LIMIT);
            "closed"
        }
    };
    for (index, text) in parts.into_iter().enumerate() {
        let key = if index == 0 {
            format!("attempt:{attempt_id}:{suffix}")
        } else {
            format!("attempt:{attempt_id}:{suffix}:{}", index + 1)
        };
        let message = NewMessage {
            key,
            topic: Some(format!("attempt:{attempt_id}")),
            chat_id: attempt.user_id,
            text,
            markup: None,
            due_at: ts,
            expires_at: None,
        };
        outbox::enqueue(&mut *tx, &message, ts).await?;
    }
    tx.commit().await?;
    state.wake.notify_one();
    Ok(true)
}

/// Scheduler hook: ends attempts whose time limit passed (score stored, trainee told).
pub async fn expire_attempts(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    for id in store::overdue(&state.db, now.timestamp(), EXPIRE_BATCH).await? {
        end_by_time(state, id, Ending::TimeLimit, now).await?;
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
        end_by_time(state, id, Ending::RoundClosed, now).await?;
    }
    Ok(())
}

/// A local time for the trainee: `1月16日 09:30`.
fn local_time(state: &AppState, ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|at| {
            at.with_timezone(&state.config.timezone)
                .format("%-m月%-d日 %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn local_date(state: &AppState, ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|at| {
            at.with_timezone(&state.config.timezone)
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

pub async fn practice(bot: &Bot, msg: &Message, user: &User, state: &AppState) -> AppResult<()> {
    send_practice(bot, msg.chat.id, user.id.0 as i64, state).await
}

/// Sends a practice question, favouring what the trainee got wrong. Not while a test is
/// running: practice shows answers, and the same question may be in the test.
async fn send_practice(
    bot: &Bot,
    chat_id: ChatId,
    user_id: i64,
    state: &AppState,
) -> AppResult<()> {
    let now = state.now();
    if let Some(attempt) = store::in_progress_of_user(&state.db, user_id).await? {
        let round_open = open_round(state, now)
            .await?
            .is_some_and(|r| r.id == attempt.round_id);
        if round_open && now.timestamp() < attempt.deadline_at {
            return send::html(bot, chat_id, t::PRACTICE_BUSY).await.map(drop);
        }
    }
    let bank = usable_bank(state).await?;
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
        Some((question, domain::shuffle_options(question, rng)))
    });
    let Some((question, order)) = picked else {
        return send::html(bot, chat_id, t::EMPTY_BANK_PRACTICE)
            .await
            .map(drop);
    };
    let nonce =
        store::set_practice_current(&state.db, user_id, &question.id, &encode(&order)?).await?;
    let shown = Shown {
        question: question.clone(),
        order,
        selection: Vec::new(),
    };
    let text = domain::render_practice_question(&shown.question, &shown.order, &[]);
    send::html_with_buttons(bot, chat_id, &text, practice_keyboard(&shown, nonce))
        .await
        .map(drop)
}

async fn practice_press(
    bot: &Bot,
    query: &CallbackQuery,
    state: &AppState,
    nonce: i64,
    press: Press,
) -> AppResult<()> {
    let user_id = query.from.id.0 as i64;
    let current = store::practice_current(&state.db, user_id).await?;
    let Some(current) = current.filter(|c| c.nonce == nonce) else {
        return alert(bot, query, t::PRACTICE_STALE).await;
    };
    let Ok(shown) = Shown::load(
        state,
        &current.question_id,
        &current.option_order,
        &current.selection,
    )
    .await
    else {
        return alert(bot, query, t::PRACTICE_STALE).await;
    };
    let action = match resolve_press(&shown.question, &shown.order, &shown.selection, press) {
        Ok(action) => action,
        Err(refusal) => return alert(bot, query, refusal.text()).await,
    };
    match action {
        Action::Select(selection) => {
            if !store::set_practice_selection(
                &state.db,
                user_id,
                nonce,
                &current.selection,
                &encode(&selection)?,
            )
            .await?
            {
                return alert(bot, query, t::PRACTICE_STALE).await;
            }
            bot.answer_callback_query(query.id.clone()).await?;
            let shown = Shown { selection, ..shown };
            let text =
                domain::render_practice_question(&shown.question, &shown.order, &shown.selection);
            let markup = practice_keyboard(&shown, nonce);
            edit(bot, query, None, text, Some(markup)).await;
            Ok(())
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
            if !store::record_practice(&state.db, user_id, nonce, &shown.question.id, new_box, now)
                .await?
            {
                return alert(bot, query, t::PRACTICE_STALE).await;
            }
            bot.answer_callback_query(query.id.clone()).await?;
            let next = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                t::PRACTICE_NEXT,
                CallbackData::PracticeNext.encode(),
            )]]);
            edit(
                bot,
                query,
                None,
                practice_feedback(&shown, &chosen, correct),
                Some(next),
            )
            .await;
            Ok(())
        }
    }
}

/// Right or wrong at once, with the right answer, the explanation and the source.
fn practice_feedback(shown: &Shown, chosen: &[u8], correct: bool) -> String {
    let q = &shown.question;
    let header = qt::practice_header(q.kind.label(), &q.category);
    let mut out = format!(
        "<b>{}</b>\n\n{}\n\n<b>{}</b>\n{}{}\n{}<b>{}</b>",
        send::esc(&header),
        send::esc(&q.text),
        if correct {
            t::PRACTICE_RIGHT
        } else {
            t::PRACTICE_WRONG
        },
        qt::YOUR_ANSWER,
        shown_answer(shown, chosen),
        qt::CORRECT_ANSWER,
        shown_answer(shown, &q.answer),
    );
    if !q.explanation.trim().is_empty() {
        out.push_str(&format!(
            "\n{}{}",
            qt::EXPLANATION,
            send::esc(&q.explanation)
        ));
    }
    if !q.source.trim().is_empty() {
        out.push_str(&format!("\n{}{}", qt::SOURCE, send::esc(&q.source)));
    }
    out
}

pub async fn myscores(bot: &Bot, msg: &Message, user: &User, state: &AppState) -> AppResult<()> {
    let rows = store::history(&state.db, user.id.0 as i64).await?;
    let text = render_myscores(&rows, state.config.pass_mark, |ts| local_date(state, ts));
    for part in domain::split_message(&text, domain::TELEGRAM_TEXT_LIMIT) {
        send::html(bot, msg.chat.id, &part).await?;
    }
    Ok(())
}

/// The trainee's rounds oldest first, each scored one with pass/fail and the change from the
/// previous scored round, then a one-line summary.
pub fn render_myscores(
    rows: &[store::HistoryRow],
    pass_mark: u32,
    date: impl Fn(i64) -> String,
) -> String {
    if rows.is_empty() {
        return t::MYSCORES_EMPTY.to_owned();
    }
    let mut lines = vec![format!("<b>{}</b>", t::MYSCORES_TITLE)];
    let mut previous: Option<i64> = None;
    let mut scores = Vec::new();
    let mut passed_count = 0;
    for row in rows {
        let result = match (row.status, row.score) {
            (AttemptStatus::InProgress, _) | (_, None) => t::IN_PROGRESS.to_owned(),
            (status, Some(score)) => {
                let passed = domain::passed(u32::try_from(score).unwrap_or(0), pass_mark);
                passed_count += usize::from(passed);
                let verdict = if passed {
                    t::PASSED_MARK
                } else {
                    t::FAILED_MARK
                };
                let mut line = t::score_result(
                    score,
                    row.correct_count.unwrap_or(0),
                    row.question_count,
                    verdict,
                );
                if status == AttemptStatus::TimedOut {
                    line.push_str(t::TIMED_OUT_MARK);
                }
                if let Some(before) = previous {
                    line.push_str(&t::trend(score - before));
                }
                previous = Some(score);
                scores.push(score);
                line
            }
        };
        lines.push(t::myscores_line(
            row.round_id,
            &date(row.round_opens_at),
            &result,
        ));
    }
    if !scores.is_empty() {
        let count = scores.len() as i64;
        let average = (scores.iter().sum::<i64>() * 2 + count) / (2 * count);
        lines.push(String::new());
        lines.push(t::myscores_summary(
            scores.len(),
            average,
            passed_count,
            pass_mark,
        ));
    }
    lines.join("\n")
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
    use crate::storage::quiz::tests::{fixture, new_attempt, question};
    use crate::storage::quiz::HistoryRow;

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
            bot_username: "branchbot".to_owned(),
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

    fn row(position: i64, chosen: Option<&str>) -> AttemptQuestion {
        AttemptQuestion {
            attempt_id: 1,
            position,
            question_id: "q1".into(),
            option_order: "3210".into(),
            selection: String::new(),
            chosen: chosen.map(str::to_owned),
            is_correct: None,
            answered_at: None,
            message_id: None,
        }
    }

    fn round(status: &str) -> Round {
        Round {
            id: 1,
            opens_at: 0,
            closes_at: 10_000,
            status: status.to_owned(),
        }
    }

    #[test]
    fn presses_are_checked_before_anything_is_stored() {
        let open = round("open");
        let a = attempt(7, AttemptStatus::InProgress);
        let current = row(1, None);
        let check =
            |a: &Attempt, presser, round: Option<&Round>, row: Option<&AttemptQuestion>, now| {
                check_test_press(a, presser, round, row, Some(1), None, now)
            };
        assert_eq!(check(&a, 7, Some(&open), Some(&current), 500), Ok(()));
        assert_eq!(
            check(&a, 8, Some(&open), Some(&current), 500),
            Err(Refusal::NotYours)
        );
        assert_eq!(
            check(
                &attempt(7, AttemptStatus::Finished),
                7,
                Some(&open),
                Some(&current),
                500
            ),
            Err(Refusal::AttemptOver)
        );
        assert_eq!(
            check(
                &attempt(7, AttemptStatus::TimedOut),
                7,
                Some(&open),
                Some(&current),
                500
            ),
            Err(Refusal::AttemptOver)
        );
        assert_eq!(
            check(&a, 7, Some(&round("closed")), Some(&current), 500),
            Err(Refusal::RoundClosed)
        );
        assert_eq!(
            check(&a, 7, None, Some(&current), 500),
            Err(Refusal::RoundClosed)
        );
        assert_eq!(
            check(&a, 7, Some(&open), Some(&current), 1900),
            Err(Refusal::TimeUp)
        );
        assert_eq!(check(&a, 7, Some(&open), None, 500), Err(Refusal::Forged));
        assert_eq!(
            check(&a, 7, Some(&open), Some(&row(0, Some("1"))), 500),
            Err(Refusal::AlreadyAnswered)
        );
        assert_eq!(
            check(&a, 7, Some(&open), Some(&row(2, None)), 500),
            Err(Refusal::NotCurrent)
        );
        // The question was sent again (resume): only its newest message answers it.
        let resent = AttemptQuestion {
            message_id: Some(40),
            ..row(1, None)
        };
        let on =
            |message| check_test_press(&a, 7, Some(&open), Some(&resent), Some(1), message, 500);
        assert_eq!(on(Some(40)), Ok(()));
        assert_eq!(on(None), Ok(()));
        assert_eq!(on(Some(33)), Err(Refusal::Forged));
    }

    #[test]
    fn presses_map_shown_options_to_original_ones() {
        let single = question("s", QuestionKind::Single);
        let multiple = question("m", QuestionKind::Multiple);
        let truth = question("t", QuestionKind::TrueFalse);
        let order = [3, 2, 1, 0];
        assert_eq!(
            resolve_press(&single, &order, &[], Press::Choose(2)),
            Ok(Action::Answer(vec![1]))
        );
        assert_eq!(
            resolve_press(&truth, &[0, 1], &[], Press::Choose(1)),
            Ok(Action::Answer(vec![1]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], Press::Toggle(0)),
            Ok(Action::Select(vec![3]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[0, 3], Press::Toggle(0)),
            Ok(Action::Select(vec![0]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[2, 0], Press::Submit),
            Ok(Action::Answer(vec![0, 2]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], Press::Submit),
            Err(Refusal::EmptySubmit)
        );
        // Forged: options that are not shown, and button kinds the question does not have.
        assert_eq!(
            resolve_press(&single, &order, &[], Press::Choose(4)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&truth, &[0, 1], &[], Press::Choose(2)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&single, &order, &[], Press::Toggle(0)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&single, &order, &[], Press::Submit),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], Press::Choose(0)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], Press::Toggle(15)),
            Err(Refusal::Forged)
        );
    }

    #[test]
    fn answered_view_names_the_letter_the_trainee_saw() {
        let shown = Shown {
            question: question("s", QuestionKind::Single),
            order: vec![3, 2, 1, 0],
            selection: vec![],
        };
        let text = answered_view(&shown, 0, 3, &[1]);
        assert!(text.contains(&t::answered("C. 乙")), "{text}");
        let truth = Shown {
            question: question("t", QuestionKind::TrueFalse),
            order: vec![0, 1],
            selection: vec![],
        };
        assert!(answered_view(&truth, 2, 3, &[1]).contains(&t::answered("错")));
        let feedback = practice_feedback(&shown, &[0], false);
        assert!(
            feedback.contains(t::PRACTICE_WRONG)
                && feedback.contains("C. 乙")
                && feedback.contains("D. 甲"),
            "{feedback}"
        );
    }

    fn history(round_id: i64, status: AttemptStatus, score: Option<i64>) -> HistoryRow {
        HistoryRow {
            round_id,
            round_opens_at: round_id * 1000,
            status,
            score,
            correct_count: score.map(|s| s / 5),
            question_count: 20,
            finished_at: None,
        }
    }

    #[test]
    fn myscores_shows_pass_fail_and_the_trend() {
        assert_eq!(
            render_myscores(&[], 60, |_| String::new()),
            t::MYSCORES_EMPTY
        );
        let rows = [
            history(1, AttemptStatus::Finished, Some(55)),
            history(2, AttemptStatus::TimedOut, Some(70)),
            history(3, AttemptStatus::Finished, Some(70)),
            history(4, AttemptStatus::Finished, Some(60)),
            history(5, AttemptStatus::InProgress, None),
        ];
        let text = render_myscores(&rows, 60, |ts| format!("D{ts}"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains("D1000")
                && lines[1].contains(t::FAILED_MARK)
                && !lines[1].contains('↑'),
            "{text}"
        );
        assert!(
            lines[2].contains(t::PASSED_MARK)
                && lines[2].contains(t::TIMED_OUT_MARK)
                && lines[2].ends_with(&t::trend(15))
        );
        assert!(lines[3].ends_with(&t::trend(0)));
        assert!(lines[4].ends_with(&t::trend(-10)) && lines[4].contains(t::PASSED_MARK));
        assert!(lines[5].contains(t::IN_PROGRESS));
        assert!(text.ends_with(&t::myscores_summary(4, 64, 3, 60)), "{text}");
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
        let Started::Created(a) = store::start_attempt(&db, &new_attempt(7, 1900))
            .await
            .unwrap()
        else {
            panic!()
        };
        assert!(store::record_answer(&db, a.id, 0, "1", true, 200)
            .await
            .unwrap());
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

    #[tokio::test]
    async fn closing_a_round_ends_its_open_attempts() {
        let db = fixture().await;
        let state = state(db.clone());
        let Started::Created(a) = store::start_attempt(&db, &new_attempt(7, 1900))
            .await
            .unwrap()
        else {
            panic!()
        };
        let Started::Created(b) = store::start_attempt(&db, &new_attempt(8, 1900))
            .await
            .unwrap()
        else {
            panic!()
        };
        for position in 0..3 {
            let chosen = ["1", "02", "0"][position as usize];
            assert!(store::record_answer(&db, b.id, position, chosen, true, 200)
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
