//! The branch calendar in the group: term (/term /elected /delay), meeting plan
//! (/meetings /plan /unplan), and recording meetings (/held and the reminder buttons).

use chrono::NaiveDate;

use crate::buttons::CallbackData;
use crate::chat::roles::{authorize, require, Permission};
use crate::chat::send::{self, esc};
use crate::chat::{Button, Door, Incoming, Keyboard, Person, Press};
use crate::domain::dates::parse_date;
use crate::domain::term::parse_years;
use crate::error::AppResult;
use crate::service::meetings::{self, ButtonRefusal, HeldOutcome, MoveOutcome, PlanOutcome};
use crate::service::reminders::format_when;
use crate::service::terms::{self, DelayOutcome, TermStart};
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::texts::calendar as rt;
use crate::texts::common as t;
use crate::texts::meetings as mt;
use crate::texts::reminders::date as format_date;
use crate::texts::reminders::status_text;

/// Choices offered when a secretary moves a meeting.
const MOVE_CHOICES: [u8; 4] = [1, 2, 3, 7];

/// The bound branch of this group, or a reply saying it is not bound.
async fn bound_branch(
    door: &dyn Door,
    msg: &Incoming,
    state: &AppState,
) -> AppResult<Option<Branch>> {
    let branch = branches::by_chat(&state.db, msg.chat.id).await?;
    if branch.is_none() {
        send::html(door, msg.chat.id, t::NOT_BOUND).await?;
    }
    Ok(branch)
}

/// The term and meeting sections of `/status`.
pub async fn status_sections(state: &AppState, branch: &Branch) -> AppResult<String> {
    let standing = terms::standing(state, branch).await?;
    let mut text = String::from("\n\n");
    match &standing.term {
        Some(term) => text.push_str(&status_text(term, standing.today)),
        None => text.push_str(rt::NO_TERM),
    }
    text.push_str(&mt::status_meetings(
        standing.meetings_held,
        standing.meetings_missed,
        standing.meetings_pending,
    ));
    Ok(text)
}

/// The bound branch of this group, if the caller may manage it; replies otherwise.
async fn managed_branch(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<Option<Branch>> {
    let Some(branch) = bound_branch(door, msg, state).await? else {
        return Ok(None);
    };
    let allowed = require(door, state, msg, user, Permission::ManageBranch).await?;
    Ok(allowed.map(|_| branch))
}

/// Reads `<日期> [任期年数]`; the error is the reply, ending with `usage`.
fn parse_date_and_years(args: &str, usage: &str) -> Result<(NaiveDate, Option<u32>), String> {
    let mut words = args.split_whitespace();
    let (Some(date_text), years_text, None) = (words.next(), words.next(), words.next()) else {
        return Err(usage.to_owned());
    };
    let date = parse_date(date_text).map_err(|err| format!("{err}\n\n{usage}"))?;
    let years = years_text
        .map(parse_years)
        .transpose()
        .map_err(|err| err.to_string())?;
    Ok((date, years))
}

/// Replies with `text` and ends the handler.
async fn reply(door: &dyn Door, msg: &Incoming, text: &str) -> AppResult<()> {
    send::html(door, msg.chat.id, text).await.map(drop)
}

/// `/term <日期> [年数]` and `/elected <日期> [年数]`: the term that starts on that date.
pub async fn term(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    start: TermStart,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(door, msg, user, state).await? else {
        return Ok(());
    };
    let (usage, saved) = match start {
        TermStart::Current => (rt::TERM_USAGE, rt::TERM_SAVED),
        TermStart::Election => (rt::ELECTED_USAGE, rt::ELECTED_SAVED),
    };
    let (date, years) = match parse_date_and_years(args, usage) {
        Ok(parsed) => parsed,
        Err(text) => return reply(door, msg, &text).await,
    };
    let text = match terms::start_term(state, &branch, start, date, years).await? {
        Ok(started) if started.confirmation_queued => return Ok(()),
        Ok(started) => format!(
            "{saved}\n\n{}",
            status_text(&started.term, terms::today(state))
        ),
        Err(err) => err.to_string(),
    };
    reply(door, msg, &text).await
}

pub async fn delay(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(door, msg, user, state).await? else {
        return Ok(());
    };
    let new_end = match parse_date(args.trim()) {
        Ok(date) => date,
        Err(err) => return reply(door, msg, &format!("{err}\n\n{}", rt::DELAY_USAGE)).await,
    };
    let text = match terms::record_delay(state, &branch, new_end).await? {
        DelayOutcome::NoTerm => rt::NO_TERM.to_owned(),
        DelayOutcome::Refused(err) => err.to_string(),
        DelayOutcome::Saved(term) => format!(
            "{}\n\n{}",
            rt::DELAY_SAVED,
            status_text(&term, terms::today(state))
        ),
    };
    reply(door, msg, &text).await
}

pub async fn meetings(door: &dyn Door, msg: &Incoming, state: &AppState) -> AppResult<()> {
    let Some(branch) = bound_branch(door, msg, state).await? else {
        return Ok(());
    };
    let planned = meetings::plan_of(state, &branch).await?;
    if planned.is_empty() {
        return reply(door, msg, mt::MEETINGS_EMPTY).await;
    }
    let mut text = mt::meetings_header(&esc(&branch.name));
    for meeting in &planned {
        let next = meeting
            .next
            .map(|at| format_when(state, at))
            .unwrap_or_else(|| mt::NO_NEXT.to_owned());
        text.push('\n');
        text.push_str(&mt::meetings_line(
            &esc(&meeting.plan.title),
            &esc(&meeting.plan.rule_text),
            &next,
        ));
    }
    text.push('\n');
    text.push_str(mt::MEETINGS_FOOTER);
    reply(door, msg, &text).await
}

pub async fn plan(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(door, msg, user, state).await? else {
        return Ok(());
    };
    let Some((name, rule)) = args.trim().split_once(char::is_whitespace) else {
        return reply(door, msg, mt::PLAN_USAGE).await;
    };
    let text = match meetings::set_plan(state, &branch, name, rule.trim()).await? {
        PlanOutcome::NameTooLong => mt::plan_name_too_long(meetings::MAX_TITLE_CHARS),
        PlanOutcome::BadSchedule(err) => mt::plan_bad_schedule(&err.to_string()),
        PlanOutcome::NoDateAhead => mt::PLAN_NO_DATE_AHEAD.to_owned(),
        PlanOutcome::Saved {
            title,
            schedule,
            created,
        } => mt::plan_saved(
            &esc(&title),
            &crate::texts::reminders::echo(&schedule, state.config.timezone, state.now()),
            created,
        ),
    };
    reply(door, msg, &text).await
}

pub async fn unplan(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(door, msg, user, state).await? else {
        return Ok(());
    };
    let name = args.trim();
    if name.is_empty() {
        return reply(door, msg, mt::UNPLAN_USAGE).await;
    }
    let text = match meetings::remove_plan(state, &branch, name).await? {
        Some(title) => mt::unplanned(&esc(&title)),
        None => mt::plan_not_found(&esc(name)),
    };
    reply(door, msg, &text).await
}

pub async fn held(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(door, msg, user, state).await? else {
        return Ok(());
    };
    let mut words = args.split_whitespace();
    let (Some(name), date_text, None) = (words.next(), words.next(), words.next()) else {
        return reply(door, msg, mt::HELD_USAGE).await;
    };
    let date = match date_text.map(parse_date).transpose() {
        Ok(date) => date,
        Err(err) => return reply(door, msg, &format!("{err}\n\n{}", mt::HELD_USAGE)).await,
    };
    let text = match meetings::record_held(state, &branch, name, date, user.id).await? {
        HeldOutcome::Future(date) => mt::held_future(&format_date(date)),
        HeldOutcome::NotFound => mt::plan_not_found(&esc(name)),
        HeldOutcome::Recorded {
            title,
            date,
            fulfils: None,
        } => mt::held_recorded(&esc(&title), &format_date(date)),
        HeldOutcome::Recorded {
            title,
            date,
            fulfils: Some(planned),
        } => mt::held_for_planned(&esc(&title), &format_date(date), &format_date(planned)),
    };
    reply(door, msg, &text).await
}

/// The reminder buttons: record as held, or move this occurrence.
pub async fn on_meeting_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let occurrence_id = match data {
        CallbackData::Held { occurrence }
        | CallbackData::Move { occurrence }
        | CallbackData::MoveBy { occurrence, .. } => occurrence,
        _ => return Ok(()),
    };
    let alert = |text: &'static str| door.answer(&query.id, Some(text), true);
    // A button only works in the group whose meeting it belongs to.
    let chat_id = query.message.map(|m| m.chat_id);
    let occurrence = match meetings::occurrence_for_button(state, occurrence_id, chat_id).await? {
        Ok(occurrence) => occurrence,
        Err(ButtonRefusal::NotFound) => return alert(mt::ALERT_NOT_FOUND).await,
        Err(ButtonRefusal::Unbound) => return alert(mt::ALERT_UNBOUND).await,
        Err(ButtonRefusal::AlreadyRecorded) => {
            // Who may act is checked before what state the meeting is in.
            if !may_manage(door, state, chat_id.unwrap_or_default(), &query.from).await? {
                return alert(mt::ALERT_ONLY_MANAGERS).await;
            }
            return alert(mt::ALERT_ALREADY_RECORDED).await;
        }
    };
    if !may_manage(door, state, occurrence.chat_id, &query.from).await? {
        return alert(mt::ALERT_ONLY_MANAGERS).await;
    }
    let Some(message) = query.message else {
        return alert(mt::ALERT_NOT_FOUND).await;
    };
    let title = esc(&occurrence.title);
    match data {
        CallbackData::Held { .. } => {
            let date = meetings::mark_held_today(state, &occurrence, query.from.id).await?;
            door.answer(&query.id, Some(mt::ALERT_RECORDED), false)
                .await?;
            let text = mt::held_recorded(&title, &format_date(date));
            door.edit(message.chat_id, message.message_id, &text, None)
                .await?;
        }
        CallbackData::Move { .. } => {
            door.answer(&query.id, None, false).await?;
            let buttons = MOVE_CHOICES.iter().map(|&days| {
                Button::callback(
                    mt::move_button(days),
                    CallbackData::MoveBy {
                        occurrence: occurrence.id,
                        days,
                        from: occurrence.at(),
                    }
                    .encode(),
                )
            });
            let when = format_when(state, meetings::from_ts(occurrence.at()));
            let text = mt::move_choices(&title, &when);
            let keyboard = Keyboard::new([buttons]);
            door.edit(message.chat_id, message.message_id, &text, Some(&keyboard))
                .await?;
        }
        CallbackData::MoveBy { days, from, .. } => {
            let new_at = match meetings::move_by_days(state, &occurrence, days, from).await? {
                MoveOutcome::Moved(new_at) => new_at,
                MoveOutcome::AlreadyMoved => return alert(mt::ALERT_ALREADY_MOVED).await,
                MoveOutcome::AlreadyRecorded => return alert(mt::ALERT_ALREADY_RECORDED).await,
            };
            door.answer(&query.id, Some(mt::ALERT_MOVED), false).await?;
            let text = mt::moved(&title, &format_when(state, new_at));
            let keyboard = crate::service::reminders::meeting_buttons(occurrence.id);
            door.edit(message.chat_id, message.message_id, &text, Some(&keyboard))
                .await?;
        }
        _ => {}
    }
    Ok(())
}

async fn may_manage(door: &dyn Door, state: &AppState, chat: i64, who: &Person) -> AppResult<bool> {
    Ok(authorize(door, state, chat, who, Permission::ManageBranch)
        .await?
        .is_ok())
}
