//! The branch calendar in the group: term (/term /elected /delay), meeting plan
//! (/meetings /plan /unplan), and recording meetings (/held and the reminder buttons).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage, User};

use crate::domain::dates::local_date;
use crate::domain::dates::{format_date, parse_date};
use crate::domain::meetings::{default_plan, MeetingKind};
use crate::domain::schedule::{echo, next_occurrence, parse_schedule};
use crate::domain::term::{
    parse_years, status_text, validate_delay, validate_elected, validate_term, BranchKind,
};
use crate::error::AppResult;
use crate::scheduler::reminders::{
    first_plan_check, first_term_check, format_when, meeting_reminders,
};
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::storage::reminders::{self as store, Plan, PlanEntry};
use crate::telegram::callbacks::CallbackData;
use crate::telegram::roles::{authorize, require, Permission};
use crate::telegram::send::{self, esc};
use crate::texts::calendar as rt;
use crate::texts::common as t;
use crate::texts::meetings as mt;

/// Choices offered when a secretary moves a meeting.
const MOVE_CHOICES: [u8; 4] = [1, 2, 3, 7];

/// The bound branch of this group, or a reply saying it is not bound.
async fn bound_branch(bot: &Bot, msg: &Message, state: &AppState) -> AppResult<Option<Branch>> {
    let branch = branches::by_chat(&state.db, msg.chat.id.0).await?;
    if branch.is_none() {
        send::html(bot, msg.chat.id, t::NOT_BOUND).await?;
    }
    Ok(branch)
}

fn today(state: &AppState) -> NaiveDate {
    local_date(state.config.timezone, state.now())
}

fn branch_kind(branch: &Branch) -> BranchKind {
    BranchKind::parse(&branch.kind).unwrap_or(BranchKind::Other)
}

/// Gives a newly bound branch the default meeting plan (DOMAIN.md §2).
pub async fn on_branch_bound(
    state: &AppState,
    branch: &Branch,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if store::has_any_plan(&state.db, branch.id).await? {
        return Ok(());
    }
    for meeting in default_plan() {
        let next_at = first_plan_check(state, meeting.cron, now);
        let entry = PlanEntry {
            branch_id: branch.id,
            kind: meeting.kind.kind_key(),
            title: meeting.title,
            rule_text: meeting.rule_text,
            cron: meeting.cron,
            next_at,
        };
        store::upsert_plan(&state.db, entry, now.timestamp()).await?;
    }
    state.wake.notify_one();
    Ok(())
}

pub async fn status_sections(state: &AppState, branch: &Branch) -> AppResult<String> {
    let mut text = String::from("\n\n");
    match store::open_term(&state.db, branch.id).await? {
        Some(row) => text.push_str(&status_text(&row.term, today(state))),
        None => text.push_str(rt::NO_TERM),
    }
    let (held, missed, pending) = store::meeting_counts(&state.db, branch.id).await?;
    text.push_str(&mt::status_meetings(held, missed, pending));
    Ok(text)
}

/// The bound branch of this group, if the caller may manage it; replies otherwise.
async fn managed_branch(
    bot: &Bot,
    msg: &Message,
    user: &User,
    state: &AppState,
) -> AppResult<Option<Branch>> {
    let Some(branch) = bound_branch(bot, msg, state).await? else {
        return Ok(None);
    };
    let allowed = require(bot, state, msg, user, Permission::ManageBranch).await?;
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
async fn reply(bot: &Bot, msg: &Message, text: &str) -> AppResult<()> {
    send::html(bot, msg.chat.id, text).await.map(drop)
}

pub async fn term(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let (elected_on, years) = match parse_date_and_years(args, rt::TERM_USAGE) {
        Ok(parsed) => parsed,
        Err(text) => return reply(bot, msg, &text).await,
    };
    let today = today(state);
    let term = match validate_term(elected_on, years, branch_kind(&branch), today) {
        Ok(term) => term,
        Err(err) => return reply(bot, msg, &err.to_string()).await,
    };
    let next_check = first_term_check(state, term.end(), today);
    let now = state.now().timestamp();
    store::set_term(&state.db, branch.id, &term, Some(next_check), now).await?;
    state.wake.notify_one();
    let text = format!("{}\n\n{}", rt::TERM_SAVED, status_text(&term, today));
    reply(bot, msg, &text).await
}

pub async fn elected(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let (date, years) = match parse_date_and_years(args, rt::ELECTED_USAGE) {
        Ok(parsed) => parsed,
        Err(text) => return reply(bot, msg, &text).await,
    };
    let years = years.unwrap_or_else(|| branch_kind(&branch).default_term_years());
    let current = store::open_term(&state.db, branch.id).await?;
    let today = today(state);
    let next = match validate_elected(date, current.as_ref().map(|row| &row.term), years, today) {
        Ok(term) => term,
        Err(err) => return reply(bot, msg, &err.to_string()).await,
    };
    let next_check = first_term_check(state, next.end(), today);
    let now = state.now().timestamp();
    store::record_election(&state.db, branch.id, &next, Some(next_check), now).await?;
    state.wake.notify_one();
    let text = format!("{}\n\n{}", rt::ELECTED_SAVED, status_text(&next, today));
    reply(bot, msg, &text).await
}

pub async fn delay(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let Some(row) = store::open_term(&state.db, branch.id).await? else {
        return send::html(bot, msg.chat.id, rt::NO_TERM).await.map(drop);
    };
    let new_end = match parse_date(args.trim()) {
        Ok(date) => date,
        Err(err) => {
            return send::html(bot, msg.chat.id, &format!("{err}\n\n{}", rt::DELAY_USAGE))
                .await
                .map(drop)
        }
    };
    let term = match validate_delay(&row.term, new_end) {
        Ok(term) => term,
        Err(err) => {
            return send::html(bot, msg.chat.id, &err.to_string())
                .await
                .map(drop)
        }
    };
    let today = today(state);
    let next_check = first_term_check(state, term.end(), today);
    store::record_delay(&state.db, row.id, new_end, Some(next_check)).await?;
    state.wake.notify_one();
    let reply = format!("{}\n\n{}", rt::DELAY_SAVED, status_text(&term, today));
    send::html(bot, msg.chat.id, &reply).await.map(drop)
}

pub async fn meetings(bot: &Bot, msg: &Message, state: &AppState) -> AppResult<()> {
    let Some(branch) = bound_branch(bot, msg, state).await? else {
        return Ok(());
    };
    let plans = store::plans(&state.db, branch.id).await?;
    if plans.is_empty() {
        return send::html(bot, msg.chat.id, mt::MEETINGS_EMPTY)
            .await
            .map(drop);
    }
    let now = state.now();
    let mut text = mt::meetings_header(&esc(&branch.name));
    for plan in &plans {
        let next = next_occurrence(&plan.cron, state.config.timezone, now)
            .map(|at| format_when(state, at))
            .unwrap_or_else(|| mt::NO_NEXT.to_owned());
        text.push('\n');
        text.push_str(&mt::meetings_line(
            &esc(&plan.title),
            &esc(&plan.rule_text),
            &next,
        ));
    }
    text.push('\n');
    text.push_str(mt::MEETINGS_FOOTER);
    send::html(bot, msg.chat.id, &text).await.map(drop)
}

/// Finds the plan entry a secretary named: by meeting kind alias, or by its exact title.
fn find_plan<'a>(plans: &'a [Plan], name: &str) -> Option<&'a Plan> {
    let kind = MeetingKind::parse_alias(name);
    plans
        .iter()
        .find(|p| p.title == name)
        .or_else(|| kind.and_then(|k| plans.iter().find(|p| p.kind == k.kind_key())))
}

const MAX_TITLE_CHARS: usize = 30;

pub async fn plan(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let Some((name, rule)) = args.trim().split_once(char::is_whitespace) else {
        return send::html(bot, msg.chat.id, mt::PLAN_USAGE).await.map(drop);
    };
    if name.chars().count() > MAX_TITLE_CHARS {
        return send::html(bot, msg.chat.id, &mt::plan_name_too_long(MAX_TITLE_CHARS))
            .await
            .map(drop);
    }
    let schedule = match parse_schedule(rule.trim()) {
        Ok(schedule) => schedule,
        Err(err) => {
            return send::html(bot, msg.chat.id, &mt::plan_bad_schedule(&err.to_string()))
                .await
                .map(drop)
        }
    };
    let now = state.now();
    // A valid expression can still have no date left (a cron year already past); saved, it would
    // silently never remind anyone.
    if next_occurrence(&schedule.cron, state.config.timezone, now).is_none() {
        return send::html(bot, msg.chat.id, mt::PLAN_NO_DATE_AHEAD)
            .await
            .map(drop);
    }
    let plans = store::plans(&state.db, branch.id).await?;
    let existing = find_plan(&plans, name);
    let (kind, title) = match (existing, MeetingKind::parse_alias(name)) {
        (Some(plan), _) => (plan.kind.clone(), plan.title.clone()),
        (None, Some(kind)) => (kind.kind_key().to_owned(), kind.title().to_owned()),
        (None, None) => ("other".to_owned(), name.to_owned()),
    };
    let next_at = first_plan_check(state, &schedule.cron, now);
    let entry = PlanEntry {
        branch_id: branch.id,
        kind: &kind,
        title: &title,
        rule_text: rule.trim(),
        cron: &schedule.cron,
        next_at,
    };
    store::upsert_plan(&state.db, entry, now.timestamp()).await?;
    state.wake.notify_one();
    let reply = mt::plan_saved(
        &esc(&title),
        &echo(&schedule, state.config.timezone, now),
        existing.is_none(),
    );
    send::html(bot, msg.chat.id, &reply).await.map(drop)
}

pub async fn unplan(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let name = args.trim();
    if name.is_empty() {
        return send::html(bot, msg.chat.id, mt::UNPLAN_USAGE)
            .await
            .map(drop);
    }
    let plans = store::plans(&state.db, branch.id).await?;
    let Some(plan) = find_plan(&plans, name) else {
        return send::html(bot, msg.chat.id, &mt::plan_not_found(&esc(name)))
            .await
            .map(drop);
    };
    store::deactivate_plan(&state.db, plan.id, state.now().timestamp()).await?;
    send::html(bot, msg.chat.id, &mt::unplanned(&esc(&plan.title)))
        .await
        .map(drop)
}

pub async fn held(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = managed_branch(bot, msg, user, state).await? else {
        return Ok(());
    };
    let mut words = args.split_whitespace();
    let (Some(name), date_text, None) = (words.next(), words.next(), words.next()) else {
        return send::html(bot, msg.chat.id, mt::HELD_USAGE).await.map(drop);
    };
    let today = today(state);
    let date = match date_text.map(parse_date).transpose() {
        Ok(date) => date.unwrap_or(today),
        Err(err) => {
            return send::html(bot, msg.chat.id, &format!("{err}\n\n{}", mt::HELD_USAGE))
                .await
                .map(drop)
        }
    };
    if date > today {
        return send::html(bot, msg.chat.id, &mt::held_future(&format_date(date)))
            .await
            .map(drop);
    }
    let plans = store::plans(&state.db, branch.id).await?;
    let Some(plan) = find_plan(&plans, name) else {
        return send::html(bot, msg.chat.id, &mt::plan_not_found(&esc(name)))
            .await
            .map(drop);
    };
    let by = user.id.0 as i64;
    match store::pending_occurrence(&state.db, plan.id).await? {
        Some(occurrence)
            if local_date(
                state.config.timezone,
                from_ts(occurrence.at()) - Duration::days(45),
            ) <= date =>
        {
            store::mark_held(&state.db, occurrence.id, date, by).await?;
        }
        _ => {
            let at = crate::domain::dates::local_instant(
                state.config.timezone,
                date,
                chrono::NaiveTime::MIN,
            )
            .timestamp();
            store::insert_held(&state.db, plan.id, branch.id, at, date, by).await?;
        }
    }
    send::html(
        bot,
        msg.chat.id,
        &mt::held_recorded(&esc(&plan.title), &format_date(date)),
    )
    .await
    .map(drop)
}

fn from_ts(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// The reminder buttons: record as held, or move this occurrence.
pub async fn on_meeting_button(
    bot: &Bot,
    query: &CallbackQuery,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let occurrence_id = match data {
        CallbackData::Held { occurrence }
        | CallbackData::Move { occurrence }
        | CallbackData::MoveBy { occurrence, .. } => occurrence,
        _ => return Ok(()),
    };
    let alert = |text: &'static str| {
        bot.answer_callback_query(query.id.clone())
            .text(text)
            .show_alert(true)
    };
    let message = query.message.as_ref();
    let chat_id = message.map(|m| m.chat().id);
    let occurrence = store::occurrence(&state.db, occurrence_id).await?;
    // A button only works in the group whose meeting it belongs to.
    let Some(occurrence) = occurrence.filter(|o| Some(ChatId(o.chat_id)) == chat_id) else {
        alert(mt::ALERT_NOT_FOUND).await?;
        return Ok(());
    };
    // After /unbind the group asked to hear no more: recording or moving (which queues new
    // reminders) waits until it is bound again.
    let bound = branches::by_chat(&state.db, occurrence.chat_id).await?;
    if bound.is_none_or(|b| b.id != occurrence.branch_id) {
        alert(mt::ALERT_UNBOUND).await?;
        return Ok(());
    }
    if authorize(
        bot,
        state,
        ChatId(occurrence.chat_id),
        &query.from,
        Permission::ManageBranch,
    )
    .await?
    .is_err()
    {
        alert(mt::ALERT_ONLY_MANAGERS).await?;
        return Ok(());
    }
    if occurrence.status != "pending" {
        alert(mt::ALERT_ALREADY_RECORDED).await?;
        return Ok(());
    }
    let Some(MaybeInaccessibleMessage::Regular(message)) = message else {
        alert(mt::ALERT_NOT_FOUND).await?;
        return Ok(());
    };
    let now = state.now();
    let title = esc(&occurrence.title);
    match data {
        CallbackData::Held { .. } => {
            let date = today(state);
            store::mark_held(&state.db, occurrence.id, date, query.from.id.0 as i64).await?;
            bot.answer_callback_query(query.id.clone())
                .text(mt::ALERT_RECORDED)
                .await?;
            let text = mt::held_recorded(&title, &format_date(date));
            bot.edit_message_text(message.chat.id, message.id, text)
                .parse_mode(teloxide::types::ParseMode::Html)
                .await?;
        }
        CallbackData::Move { .. } => {
            bot.answer_callback_query(query.id.clone()).await?;
            let buttons: Vec<InlineKeyboardButton> = MOVE_CHOICES
                .iter()
                .map(|&days| {
                    InlineKeyboardButton::callback(
                        mt::move_button(days),
                        CallbackData::MoveBy {
                            occurrence: occurrence.id,
                            days,
                        }
                        .encode(),
                    )
                })
                .collect();
            let text = mt::move_choices(&title, &format_when(state, from_ts(occurrence.at())));
            bot.edit_message_text(message.chat.id, message.id, text)
                .parse_mode(teloxide::types::ParseMode::Html)
                .reply_markup(InlineKeyboardMarkup::new([buttons]))
                .await?;
        }
        CallbackData::MoveBy { days, .. } => {
            let new_at = from_ts(occurrence.at()) + Duration::days(i64::from(days));
            let reminders: Vec<_> = meeting_reminders(
                state,
                occurrence.id,
                occurrence.chat_id,
                &occurrence.title,
                new_at,
            )
            .into_iter()
            .filter(|r| r.due_at > now.timestamp())
            .collect();
            let period_end = (new_at + Duration::days(1)).timestamp();
            if !store::move_occurrence(
                &state.db,
                occurrence.id,
                new_at.timestamp(),
                period_end,
                &reminders,
                now.timestamp(),
            )
            .await?
            {
                alert(mt::ALERT_ALREADY_RECORDED).await?;
                return Ok(());
            }
            state.wake.notify_one();
            bot.answer_callback_query(query.id.clone())
                .text(mt::ALERT_MOVED)
                .await?;
            let text = mt::moved(&title, &format_when(state, new_at));
            bot.edit_message_text(message.chat.id, message.id, text)
                .parse_mode(teloxide::types::ParseMode::Html)
                .reply_markup(crate::scheduler::reminders::meeting_buttons(occurrence.id))
                .await?;
        }
        _ => {}
    }
    Ok(())
}
