//! Taking the test in private chat, practice, and one's own scores: each press or command is
//! one call into `service::quiz`, rendered and sent.

use chrono::DateTime;

use crate::buttons::CallbackData;
use crate::chat::{send, Button, Door, Incoming, Keyboard, Person, Press};
use crate::domain::quiz::PressKind;
use crate::error::AppResult;
use crate::questions::model::QuestionKind;
use crate::service::quiz::{
    self as service, Entry, Next, PracticeOutcome, PracticeStart, PressOutcome, Shown, TestQuestion,
};
use crate::service::AppState;
use crate::texts::common as ct;
use crate::texts::quiz as qt;
use crate::texts::quiz_flow as t;
use crate::texts::quiz_view as view;

/// Option buttons per keyboard row: five letters fit a phone screen.
const BUTTONS_PER_ROW: usize = 5;

/// `/test`, the test button of a round announcement (deep link) and the StartTest button:
/// starts the open round's test for this trainee, or resumes it where it stopped.
pub async fn entry(
    door: &dyn Door,
    chat_id: i64,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let text = match service::enter(state, user.id).await? {
        Entry::NoOpenRound { next_opening } => {
            let mut text = t::NO_OPEN_ROUND.to_owned();
            if let Some(next) = next_opening {
                text.push_str(&t::next_round_opens(
                    &crate::service::reminders::format_when(state, next),
                ));
            }
            text
        }
        Entry::BranchUnbound { branch_name } => t::branch_unbound(&send::esc(&branch_name)),
        Entry::JoinFirst => t::JOIN_FIRST.to_owned(),
        Entry::EmptyBank => t::EMPTY_BANK.to_owned(),
        Entry::TimeUp { round_id } => t::time_up_on_entry(round_id),
        Entry::AlreadyDone {
            round_id,
            score,
            passed,
        } => t::already_done(round_id, score, state.config.pass_mark, passed),
        Entry::Started {
            round_id,
            question_count,
            minutes,
            deadline_at,
            next,
        } => {
            let deadline = local_time(state, deadline_at);
            let intro = t::test_intro(round_id, question_count, minutes, &deadline);
            send::html(door, chat_id, &intro).await?;
            return show_next(door, chat_id, state, next).await;
        }
        Entry::Resumed {
            round_id,
            answered,
            total,
            deadline_at,
            next,
        } => {
            let deadline = local_time(state, deadline_at);
            let note = t::test_resume(round_id, answered, total, &deadline);
            send::html(door, chat_id, &note).await?;
            return show_next(door, chat_id, state, next).await;
        }
    };
    send::html(door, chat_id, &text).await.map(drop)
}

/// Sends the next question; the result of a finished test is already on its way.
async fn show_next(door: &dyn Door, chat_id: i64, state: &AppState, next: Next) -> AppResult<()> {
    match next {
        Next::Question(question) => send_question(door, chat_id, state, &question).await,
        // The result goes out through the outbox, queued when the attempt was completed.
        Next::ResultQueued | Next::EndedElsewhere => Ok(()),
        Next::LastAnswered(test) => service::conclude(state, test).await,
    }
}

async fn send_question(
    door: &dyn Door,
    chat_id: i64,
    state: &AppState,
    question: &TestQuestion,
) -> AppResult<()> {
    let (text, keyboard) = test_question_view(question);
    // A resumed question is sent again; the buttons of its earlier message go, so only one
    // message answers it.
    if let Some(old) = question.earlier_message {
        if let Err(err) = door.clear_buttons(chat_id, old).await {
            tracing::debug!(error = %err, "could not remove the buttons of a resent question");
        }
        service::earlier_copy_stripped(state, question.attempt_id, old).await?;
    }
    let sent = door.send(chat_id, &text, Some(&keyboard)).await?;
    service::question_sent(state, question.attempt_id, question.position, sent).await
}

fn test_question_view(question: &TestQuestion) -> (String, Keyboard) {
    let shown = &question.shown;
    let position = usize::try_from(question.position).unwrap_or(0);
    let text = view::render_question(
        &shown.question,
        &shown.order,
        position,
        question.total,
        &shown.selection,
    );
    (
        text,
        test_keyboard(shown, question.attempt_id, question.position),
    )
}

/// The next question in the message that showed the one just answered, with a line saying
/// what was answered, so the trainee sees it was taken.
fn next_question_view(
    answered: &str,
    answered_index: usize,
    next: &TestQuestion,
) -> (String, Keyboard) {
    let shown = &next.shown;
    let position = usize::try_from(next.position).unwrap_or(0);
    let text = view::render_question_after_answer(
        answered_index,
        answered,
        &shown.question,
        &shown.order,
        position,
        next.total,
    );
    (text, test_keyboard(shown, next.attempt_id, next.position))
}

/// `on_option(shown position, ticked now)` gives each option button its data; a 多选 button
/// sets the opposite of what it shows.
fn keyboard(
    shown: &Shown,
    on_option: impl Fn(u8, bool) -> CallbackData,
    submit: Option<CallbackData>,
) -> Keyboard {
    let buttons: Vec<Button> =
        view::option_buttons(&shown.question, &shown.order, &shown.selection)
            .iter()
            .map(|b| {
                let ticked = shown.selection.contains(&b.original_index);
                Button::callback(
                    b.label.clone(),
                    on_option(b.shown_position, ticked).encode(),
                )
            })
            .collect();
    let mut rows: Vec<Vec<Button>> = buttons.chunks(BUTTONS_PER_ROW).map(<[_]>::to_vec).collect();
    if let Some(submit) = submit {
        rows.push(vec![Button::callback(qt::SUBMIT, submit.encode())]);
    }
    Keyboard::new(rows)
}

fn test_keyboard(shown: &Shown, attempt: i64, position: i64) -> Keyboard {
    let position = u8::try_from(position).unwrap_or(u8::MAX);
    let multiple = shown.question.kind == QuestionKind::Multiple;
    keyboard(
        shown,
        |option, ticked| {
            if multiple {
                CallbackData::Toggle {
                    attempt,
                    position,
                    option,
                    on: !ticked,
                }
            } else {
                CallbackData::Answer {
                    attempt,
                    position,
                    option,
                }
            }
        },
        multiple.then_some(CallbackData::Submit { attempt, position }),
    )
}

fn practice_keyboard(shown: &Shown, nonce: i64) -> Keyboard {
    let multiple = shown.question.kind == QuestionKind::Multiple;
    keyboard(
        shown,
        |option, ticked| {
            if multiple {
                CallbackData::PracticeToggle {
                    nonce,
                    option,
                    on: !ticked,
                }
            } else {
                CallbackData::PracticeAnswer { nonce, option }
            }
        },
        multiple.then_some(CallbackData::PracticeSubmit { nonce }),
    )
}

/// Answer, Toggle, Submit, Practice* and StartTest buttons.
pub async fn on_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    use CallbackData as C;
    match data {
        C::Answer {
            attempt,
            position,
            option,
        } => {
            test_press(
                door,
                query,
                state,
                attempt,
                position,
                PressKind::Choose(option),
            )
            .await
        }
        C::Toggle {
            attempt,
            position,
            option,
            on,
        } => {
            let press = PressKind::Set { shown: option, on };
            test_press(door, query, state, attempt, position, press).await
        }
        C::Submit { attempt, position } => {
            test_press(door, query, state, attempt, position, PressKind::Submit).await
        }
        C::PracticeAnswer { nonce, option } => {
            practice_press(door, query, state, nonce, PressKind::Choose(option)).await
        }
        C::PracticeToggle { nonce, option, on } => {
            let press = PressKind::Set { shown: option, on };
            practice_press(door, query, state, nonce, press).await
        }
        C::PracticeSubmit { nonce } => {
            practice_press(door, query, state, nonce, PressKind::Submit).await
        }
        C::PracticeNext => {
            door.answer(&query.id, None, false).await?;
            send_practice(door, query.from.id, query.from.id, state).await
        }
        C::StartTest => {
            door.answer(&query.id, None, false).await?;
            entry(door, query.from.id, &query.from, state).await
        }
        _ => alert(door, query, ct::STALE_BUTTON).await,
    }
}

/// Answers a press whose change is stored. A failed answer only leaves the client's spinner
/// turning a little longer; the edit and the next question must still follow.
async fn acknowledge(door: &dyn Door, query: &Press, text: Option<&str>) {
    if let Err(err) = door.answer(&query.id, text, false).await {
        tracing::warn!(user = query.from.id, error = %err, "could not answer a press");
    }
}

async fn alert(door: &dyn Door, query: &Press, text: &str) -> AppResult<()> {
    door.answer(&query.id, Some(text), true).await
}

/// Edits the message a button was on. The answer is already stored, so a failed edit (message
/// too old, deleted, unchanged) is logged and does not turn into an error for the trainee.
async fn edit(
    door: &dyn Door,
    query: &Press,
    fallback: Option<(i64, i64)>,
    text: &str,
    keyboard: Option<&Keyboard>,
) {
    let target = query
        .message
        .map(|m| (m.chat_id, m.message_id))
        .or(fallback);
    let Some((chat, message)) = target else {
        return;
    };
    if let Err(err) = door.edit(chat, message, text, keyboard).await {
        tracing::warn!(chat, error = %err, "could not edit a quiz message");
    }
}

/// One press on a test question: down into the service once, back with what to show.
async fn test_press(
    door: &dyn Door,
    query: &Press,
    state: &AppState,
    attempt_id: i64,
    position: u8,
    press: PressKind,
) -> AppResult<()> {
    let pressed_message = query.message.map(|m| m.message_id);
    let outcome = service::press(
        state,
        query.from.id,
        attempt_id,
        position,
        press,
        pressed_message,
    )
    .await?;
    let chat = query.from.id;
    match outcome {
        PressOutcome::Refused(refusal) => alert(door, query, t::refusal(refusal)).await,
        // The edit goes first and the press's answer right after it: the trainee waits for
        // the edit, and one request after the other reuses one connection to the Bot API
        // where two at once would take two and wake the runtime twice as often (issue 14).
        PressOutcome::Selected(question) => {
            let (text, keyboard) = test_question_view(&question);
            edit(door, query, None, &text, Some(&keyboard)).await;
            acknowledge(door, query, None).await;
            Ok(())
        }
        PressOutcome::Answered {
            shown,
            position,
            total,
            chosen,
            message,
            next,
        } => {
            let index = usize::try_from(position).unwrap_or(0);
            let fallback = message.map(|id| (chat, id));
            // One edit per answer: the test's message turns into the next question (or, after
            // the last, into the answered question without buttons; the result follows
            // through the outbox).
            match next {
                // The next question exists only in this edit: a failure is the trainee's to
                // hear about (`on_press` tells them the answer is saved and /test goes on).
                Next::Question(next) => {
                    let answer = view::shown_answer(&shown.question, &shown.order, &chosen);
                    let (text, keyboard) = next_question_view(&answer, index, &next);
                    let target = query
                        .message
                        .map(|m| (m.chat_id, m.message_id))
                        .or(fallback);
                    let edited = async {
                        match target {
                            Some((chat, message)) => {
                                door.edit(chat, message, &text, Some(&keyboard)).await
                            }
                            None => Ok(()),
                        }
                    };
                    let edited = edited.await;
                    acknowledge(door, query, Some(t::ANSWER_SAVED)).await;
                    edited?;
                }
                // The last answer is shown while the test is scored, not after: the trainee
                // sees it as soon as any other, and the score never waits for Telegram (an
                // outage must not let the time limit end a completed test). The result follows
                // through the outbox.
                next @ (Next::LastAnswered(_) | Next::ResultQueued | Next::EndedElsewhere) => {
                    let text =
                        view::answered_view(&shown.question, &shown.order, index, total, &chosen);
                    let shown = async {
                        edit(door, query, fallback, &text, None).await;
                        acknowledge(door, query, Some(t::ANSWER_SAVED)).await;
                    };
                    match next {
                        Next::LastAnswered(test) => {
                            let ((), concluded) =
                                futures::join!(shown, service::conclude(state, test));
                            concluded?;
                        }
                        _ => shown.await,
                    }
                }
            }
            Ok(())
        }
    }
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

pub async fn practice(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    send_practice(door, msg.chat.id, user.id, state).await
}

/// Sends a practice question, favouring what the trainee got wrong.
async fn send_practice(
    door: &dyn Door,
    chat_id: i64,
    user_id: i64,
    state: &AppState,
) -> AppResult<()> {
    match service::practice_question(state, user_id).await? {
        PracticeStart::Busy => send::html(door, chat_id, t::PRACTICE_BUSY).await.map(drop),
        PracticeStart::EmptyBank => send::html(door, chat_id, t::EMPTY_BANK_PRACTICE)
            .await
            .map(drop),
        PracticeStart::Question { nonce, shown } => {
            let text = view::render_practice_question(&shown.question, &shown.order, &[]);
            send::html_with_buttons(door, chat_id, &text, &practice_keyboard(&shown, nonce))
                .await
                .map(drop)
        }
    }
}

async fn practice_press(
    door: &dyn Door,
    query: &Press,
    state: &AppState,
    nonce: i64,
    press: PressKind,
) -> AppResult<()> {
    match service::practice_press(state, query.from.id, nonce, press).await? {
        PracticeOutcome::Stale => alert(door, query, t::PRACTICE_STALE).await,
        PracticeOutcome::Refused(refusal) => alert(door, query, t::refusal(refusal)).await,
        PracticeOutcome::Selected { nonce, shown } => {
            door.answer(&query.id, None, false).await?;
            let text =
                view::render_practice_question(&shown.question, &shown.order, &shown.selection);
            edit(
                door,
                query,
                None,
                &text,
                Some(&practice_keyboard(&shown, nonce)),
            )
            .await;
            Ok(())
        }
        PracticeOutcome::Answered {
            shown,
            chosen,
            correct,
        } => {
            door.answer(&query.id, None, false).await?;
            let next = Keyboard::new([[Button::callback(
                t::PRACTICE_NEXT,
                CallbackData::PracticeNext.encode(),
            )]]);
            let text = view::practice_feedback(&shown.question, &shown.order, &chosen, correct);
            edit(door, query, None, &text, Some(&next)).await;
            Ok(())
        }
    }
}

pub async fn myscores(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let rows = service::my_scores(state, user.id).await?;
    let text = view::render_myscores(&rows, state.config.pass_mark, |ts| local_date(state, ts));
    send::html(door, msg.chat.id, &text).await.map(drop)
}
