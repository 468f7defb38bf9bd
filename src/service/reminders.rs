//! Planning election and meeting reminders into the outbox.
//!
//! Election terms: `terms.next_check_at` is the instant of the next reminder (a ladder step or a
//! weekly overdue notice). When it passes, the reminders of that day are queued and the column
//! moves to the next one. Meetings: `meeting_plans.next_at` is `MATERIALISE_LEAD` before the next
//! occurrence; when it passes, the occurrence row and its two reminders are written, and the
//! column moves to the occurrence after. If the bot was down, the same steps run for every date
//! missed, and delivery sends late what still matters and records the rest as skipped.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::buttons::CallbackData;
use crate::buttons::{Button, Keyboard};
use crate::domain::dates::{local_date, local_instant};
use crate::domain::schedule::next_occurrence;
use crate::domain::term::{next_reminder_after, reminders_due_on, TermReminder};
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::reminders::{self as store, meeting_topic, term_topic};
use crate::texts::esc;
use crate::texts::meetings as mt;
use crate::texts::reminders as rt;

/// How long before a meeting its occurrence (and its reminders) are written.
pub const MATERIALISE_LEAD: Duration = Duration::days(2);
const BATCH: i64 = 500;
/// Catch-up after a long downtime stops after this many steps per row and pass.
const MAX_CATCH_UP: usize = 400;

pub async fn plan_due(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    plan_terms(state, now).await?;
    plan_meetings(state, now).await?;
    escalate_missed(state, now).await
}

/// At most this many missed meetings are named in one notice; the rest are counted.
const MISSED_LINES: usize = 30;

/// Meetings whose period ended with nothing recorded are marked missed, and each administrators'
/// group nearest up the tree gets one notice naming those of its subtree, in the same
/// transaction (so a crash neither loses nor repeats it). One notice per group and pass, not
/// one per meeting: after a weekend or a downtime a county's group reads one list.
async fn escalate_missed(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let mut tx = crate::storage::write(&state.db).await?;
    let missed = store::sweep_missed(&mut tx, now.timestamp()).await?;
    if missed.is_empty() {
        return Ok(());
    }
    // Read only when needed, on the transaction's own connection.
    let escalations = crate::service::orgs::Escalations::load_in(&mut tx, state).await?;
    let mut by_chat: Vec<(i64, Vec<&store::Missed>)> = Vec::new();
    for m in &missed {
        let Some(chat_id) = escalations.chat_for(m.org_id) else {
            continue;
        };
        match by_chat.iter_mut().find(|(c, _)| *c == chat_id) {
            Some((_, list)) => list.push(m),
            None => by_chat.push((chat_id, vec![m])),
        }
    }
    for (chat_id, list) in by_chat {
        let mut lines: Vec<String> = list
            .iter()
            .take(MISSED_LINES)
            .map(|m| {
                let at = DateTime::from_timestamp(m.scheduled_at, 0).unwrap_or(now);
                rt::missed_admin_line(
                    &esc(&m.branch_name),
                    &esc(&m.title),
                    &format_when(state, at),
                )
            })
            .collect();
        if list.len() > MISSED_LINES {
            lines.push(rt::missed_admin_more(list.len() - MISSED_LINES));
        }
        let notice = NewMessage {
            // Each occurrence is missed once, so the first one names this notice for good.
            key: format!("missed:{chat_id}:{}", list[0].occurrence),
            topic: None,
            chat_id,
            text: format!("{}\n{}", rt::MISSED_ADMIN_HEADER, lines.join("\n")),
            markup: None,
            due_at: now.timestamp(),
            expires_at: None,
        };
        outbox::enqueue(&mut *tx, &notice, now.timestamp()).await?;
    }
    tx.commit().await?;
    if !missed.is_empty() {
        tracing::info!(
            missed = missed.len(),
            "meeting periods ended with nothing recorded"
        );
    }
    Ok(())
}

pub async fn next_due(state: &AppState) -> AppResult<Option<i64>> {
    Ok([
        store::next_term_check(&state.db).await?,
        store::next_plan_due(&state.db).await?,
        store::next_period_end(&state.db).await?,
    ]
    .into_iter()
    .flatten()
    .min())
}

/// The instant the reminders of `date` go out.
fn reminder_instant(state: &AppState, date: NaiveDate) -> i64 {
    local_instant(state.config.timezone, date, state.config.day_before_time).timestamp()
}

/// The first term reminder strictly after `today` (what is due today is in the reply to /term).
pub fn first_term_check(state: &AppState, end: NaiveDate, today: NaiveDate) -> i64 {
    let (_, date) = next_reminder_after(end, today);
    reminder_instant(state, date)
}

async fn plan_terms(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let tz = state.config.timezone;
    loop {
        let due = store::due_terms(&state.db, now.timestamp(), BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        // Most passes find nothing due: the tree is read only when a batch is.
        let escalations = crate::service::orgs::Escalations::load(state).await?;
        for item in &due {
            let end = item.row.term.end();
            let mut check_at = item.next_check_at;
            let roster = match item.branch_active {
                true => {
                    crate::service::roster_notices::arithmetic(state, item.row.branch_id).await?
                }
                false => None,
            };
            let mut tx = crate::storage::write(&state.db).await?;
            for _ in 0..MAX_CATCH_UP {
                if check_at > now.timestamp() {
                    break;
                }
                let Some(instant) = DateTime::from_timestamp(check_at, 0) else {
                    break;
                };
                let day = local_date(tz, instant);
                if item.branch_active {
                    for reminder in reminders_due_on(end, day) {
                        let expires = reminder_instant(state, reminder.stale_from(end));
                        let key = format!("{}:{}:{end}", term_topic(item.row.id), reminder.key());
                        let text = format!(
                            "<b>{}</b>\n{}{}",
                            esc(&item.branch_name),
                            reminder.message(end, day),
                            crate::service::roster_notices::ladder_section(
                                roster.as_ref(),
                                &reminder
                            )
                        );
                        let message = NewMessage {
                            key: key.clone(),
                            topic: Some(term_topic(item.row.id)),
                            chat_id: item.chat_id,
                            text: text.clone(),
                            markup: None,
                            due_at: check_at,
                            expires_at: Some(expires),
                        };
                        outbox::enqueue(&mut *tx, &message, now.timestamp()).await?;
                        if let (TermReminder::Overdue { .. }, Some(admin_chat)) =
                            (reminder, escalations.chat_for(item.org_id))
                        {
                            let days_overdue = (day - end).num_days();
                            let text = format!(
                                "{}\n• <b>{}</b>{}",
                                rt::OVERDUE_ADMIN_HEADER,
                                esc(&item.branch_name),
                                rt::overdue_admin_detail(end, days_overdue)
                            );
                            let to_admins = NewMessage {
                                key: format!("{key}:admin"),
                                chat_id: admin_chat,
                                text,
                                ..message
                            };
                            outbox::enqueue(&mut *tx, &to_admins, now.timestamp()).await?;
                        }
                    }
                }
                let (_, next_date) = next_reminder_after(end, day);
                check_at = reminder_instant(state, next_date);
            }
            store::set_next_check(&mut *tx, item.row.id, Some(check_at)).await?;
            tx.commit().await?;
        }
        if (due.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// When the occurrence at `at` gets materialised.
pub fn materialise_at(at: DateTime<Utc>) -> i64 {
    (at - MATERIALISE_LEAD).timestamp()
}

/// The plan's first `next_at` from `now`: the lead before the next occurrence.
pub fn first_plan_check(state: &AppState, cron: &str, now: DateTime<Utc>) -> Option<i64> {
    next_occurrence(cron, state.config.timezone, now).map(materialise_at)
}

async fn plan_meetings(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let tz = state.config.timezone;
    loop {
        let due = store::due_plans(&state.db, now.timestamp(), BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        for item in &due {
            let plan = &item.plan;
            let mut next_at = plan.next_at;
            let mut tx = crate::storage::write(&state.db).await?;
            for _ in 0..MAX_CATCH_UP {
                let Some(check) = next_at.filter(|t| *t <= now.timestamp()) else {
                    break;
                };
                let Some(probe) = DateTime::from_timestamp(check, 0) else {
                    break;
                };
                // next_at = occurrence − lead, so the occurrence is the first one after this probe.
                let Some(at) = next_occurrence(
                    &plan.cron,
                    tz,
                    probe + MATERIALISE_LEAD - Duration::seconds(1),
                ) else {
                    next_at = None;
                    break;
                };
                let following = next_occurrence(&plan.cron, tz, at);
                let period_end = following.unwrap_or(at + Duration::days(31)).timestamp();
                let inserted = store::insert_occurrence(
                    &mut *tx,
                    plan.id,
                    plan.branch_id,
                    at.timestamp(),
                    period_end,
                )
                .await?;
                if let (Some(occurrence), true) = (inserted, item.branch_active) {
                    for reminder in
                        meeting_reminders(state, occurrence, item.chat_id, &plan.title, at)
                    {
                        outbox::enqueue(&mut *tx, &reminder, now.timestamp()).await?;
                    }
                }
                next_at = following.map(materialise_at);
            }
            store::set_plan_next(&mut *tx, plan.id, next_at).await?;
            tx.commit().await?;
        }
        if (due.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// The day-before and morning-of reminders of a meeting at `at`, with the record/move buttons.
/// A reminder that would fall at or after the meeting itself is left out. The day-before one
/// says "明天", which stops being true at midnight: sent late on the day itself it would
/// contradict (and duplicate) the morning-of one, so it expires at the start of that day.
pub fn meeting_reminders(
    state: &AppState,
    occurrence: i64,
    chat_id: i64,
    title: &str,
    at: DateTime<Utc>,
) -> Vec<NewMessage> {
    let tz = state.config.timezone;
    let date = local_date(tz, at);
    let when = format_when(state, at);
    let markup = Some(meeting_buttons(occurrence).to_json());
    let mut reminders = Vec::new();
    let candidates = [
        (date.pred_opt(), state.config.day_before_time, true, "d1"),
        (Some(date), state.config.morning_time, false, "d0"),
    ];
    for (day, time, tomorrow, tag) in candidates {
        let Some(day) = day else { continue };
        let due = local_instant(tz, day, time);
        if due >= at {
            continue;
        }
        let expires_at = if tomorrow {
            at.min(local_instant(tz, date, chrono::NaiveTime::MIN))
        } else {
            at
        };
        reminders.push(NewMessage {
            key: format!("{}:{tag}:{}", meeting_topic(occurrence), at.timestamp()),
            topic: Some(meeting_topic(occurrence)),
            chat_id,
            text: mt::meeting_reminder(&esc(title), &when, tomorrow),
            markup: markup.clone(),
            due_at: due.timestamp(),
            expires_at: Some(expires_at.timestamp()),
        });
    }
    reminders
}

pub fn meeting_buttons(occurrence: i64) -> Keyboard {
    Keyboard::new([[
        Button::callback(mt::BUTTON_HELD, CallbackData::Held { occurrence }.encode()),
        Button::callback(mt::BUTTON_MOVE, CallbackData::Move { occurrence }.encode()),
    ]])
}

/// A meeting time as users read it: 2026年12月5日 15:00.
pub fn format_when(state: &AppState, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&state.config.timezone);
    format!(
        "{} {}",
        crate::texts::reminders::date(local.date_naive()),
        local.format("%H:%M")
    )
}
