//! Meetings (三会一课 and the rest): the plan of a branch, recording a meeting as held, moving
//! one, and the default plan a newly bound branch starts with.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::dates::{local_date, local_instant};
use crate::domain::meetings::{
    default_plan, fulfils_in_period, held_fulfils, moved_period_end, Frequency, MeetingKind,
};
use crate::domain::schedule::{next_occurrence, parse_schedule, Schedule, ScheduleError};
use crate::error::AppResult;
use crate::service::reminders::{first_plan_check, meeting_reminders};
use crate::service::terms::today;
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::storage::reminders::{self as store, Occurrence, Plan, PlanEntry};

/// The longest meeting name a plan takes; longer is almost always a pasted sentence.
pub const MAX_TITLE_CHARS: usize = 30;

/// Gives a newly bound branch the default meeting plan (DOMAIN.md §2), unless it has one.
pub async fn install_default_plan(
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
            title: meeting.title(),
            rule_text: meeting.rule_text(),
            cron: meeting.cron,
            next_at,
        };
        store::upsert_plan(&state.db, entry, now.timestamp()).await?;
    }
    state.wake.notify_one();
    Ok(())
}

/// A plan entry with the next date it falls on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMeeting {
    pub plan: Plan,
    pub next: Option<DateTime<Utc>>,
}

/// The branch's plan for `/meetings`.
pub async fn plan_of(state: &AppState, branch: &Branch) -> AppResult<Vec<PlannedMeeting>> {
    let now = state.now();
    Ok(store::plans(&state.db, branch.id)
        .await?
        .into_iter()
        .map(|plan| PlannedMeeting {
            next: next_occurrence(&plan.cron, state.config.timezone, now),
            plan,
        })
        .collect())
}

/// Finds the plan entry a secretary named: by its exact title, or by meeting kind alias.
fn find_plan<'a>(plans: &'a [Plan], name: &str) -> Option<&'a Plan> {
    let kind = MeetingKind::parse_alias(name);
    plans
        .iter()
        .find(|p| p.title == name)
        .or_else(|| kind.and_then(|k| plans.iter().find(|p| p.kind == k.kind_key())))
}

/// What `/plan` led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanOutcome {
    NameTooLong,
    BadSchedule(ScheduleError),
    /// A valid expression with no date left (a cron year already past): saved, it would
    /// silently never remind anyone.
    NoDateAhead,
    Saved {
        title: String,
        schedule: Schedule,
        created: bool,
    },
}

/// `/plan <会议> <规则>`: adds or changes a meeting of the plan.
pub async fn set_plan(
    state: &AppState,
    branch: &Branch,
    name: &str,
    rule: &str,
) -> AppResult<PlanOutcome> {
    if name.chars().count() > MAX_TITLE_CHARS {
        return Ok(PlanOutcome::NameTooLong);
    }
    let schedule = match parse_schedule(rule) {
        Ok(schedule) => schedule,
        Err(err) => return Ok(PlanOutcome::BadSchedule(err)),
    };
    let now = state.now();
    if next_occurrence(&schedule.cron, state.config.timezone, now).is_none() {
        return Ok(PlanOutcome::NoDateAhead);
    }
    let plans = store::plans(&state.db, branch.id).await?;
    let existing = find_plan(&plans, name);
    let (kind, title) = match (existing, MeetingKind::parse_alias(name)) {
        (Some(plan), _) => (plan.kind.clone(), plan.title.clone()),
        (None, Some(kind)) => (kind.kind_key().to_owned(), kind.title().to_owned()),
        (None, None) => ("other".to_owned(), name.to_owned()),
    };
    let entry = PlanEntry {
        branch_id: branch.id,
        kind: &kind,
        title: &title,
        rule_text: rule,
        cron: &schedule.cron,
        next_at: first_plan_check(state, &schedule.cron, now),
    };
    store::upsert_plan(&state.db, entry, now.timestamp()).await?;
    state.wake.notify_one();
    Ok(PlanOutcome::Saved {
        title,
        schedule,
        created: existing.is_none(),
    })
}

/// `/unplan <会议>`: the title of the meeting taken off the plan, or `None` if none is named so.
pub async fn remove_plan(
    state: &AppState,
    branch: &Branch,
    name: &str,
) -> AppResult<Option<String>> {
    let plans = store::plans(&state.db, branch.id).await?;
    let Some(plan) = find_plan(&plans, name) else {
        return Ok(None);
    };
    store::deactivate_plan(&state.db, plan.id, state.now().timestamp()).await?;
    Ok(Some(plan.title.clone()))
}

/// What `/held` led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldOutcome {
    /// A meeting cannot be recorded before it happened.
    Future(NaiveDate),
    NotFound,
    Recorded {
        title: String,
        date: NaiveDate,
        /// The day of the planned occurrence this meeting fulfils, if it fulfils one.
        fulfils: Option<NaiveDate>,
    },
}

/// `/held <会议> [日期]`: records a meeting as held, on `date` or today. Decided by period: held
/// inside the period (month, quarter or year, from the plan's frequency) of a planned
/// occurrence — behind or still ahead, materialised or not — it fulfils that occurrence, whose
/// reminders are then not sent; otherwise it is a record of its own. Plans of a kind without
/// a frequency keep the window before the pending occurrence.
pub async fn record_held(
    state: &AppState,
    branch: &Branch,
    name: &str,
    date: Option<NaiveDate>,
    by: i64,
) -> AppResult<HeldOutcome> {
    let today = today(state);
    let date = date.unwrap_or(today);
    if date > today {
        return Ok(HeldOutcome::Future(date));
    }
    let plans = store::plans(&state.db, branch.id).await?;
    let Some(plan) = find_plan(&plans, name) else {
        return Ok(HeldOutcome::NotFound);
    };
    let tz = state.config.timezone;
    let frequency = MeetingKind::from_key(&plan.kind).map(MeetingKind::frequency);
    let fulfils = |planned: NaiveDate| match frequency {
        Some(frequency) => fulfils_in_period(frequency, planned, date),
        None => held_fulfils(planned, date),
    };
    let pending = store::pending_occurrence(&state.db, plan.id).await?;
    let mut fulfilled = None;
    if let Some(occurrence) = pending.filter(|o| fulfils(local_date(tz, from_ts(o.at())))) {
        if store::mark_held(&state.db, occurrence.id, date, by).await? {
            fulfilled = Some(local_date(tz, from_ts(occurrence.at())));
        }
    }
    if fulfilled.is_none() {
        if let Some(planned) = frequency.and_then(|f| planned_in_period(state, plan, f, date)) {
            let following = next_occurrence(&plan.cron, tz, planned).unwrap_or(planned);
            let held = store::hold_planned(
                &state.db,
                plan.id,
                branch.id,
                planned.timestamp(),
                following.timestamp(),
                date,
                by,
            )
            .await?;
            fulfilled = held.map(|_| local_date(tz, planned));
        }
    }
    if fulfilled.is_none() {
        let at = local_instant(tz, date, chrono::NaiveTime::MIN).timestamp();
        store::insert_held(&state.db, plan.id, branch.id, at, date, by).await?;
    }
    state.wake.notify_one();
    Ok(HeldOutcome::Recorded {
        title: plan.title.clone(),
        date,
        fulfils: fulfilled,
    })
}

/// The plan's first occurrence in the period (of `frequency`) containing `date`.
fn planned_in_period(
    state: &AppState,
    plan: &Plan,
    frequency: Frequency,
    date: NaiveDate,
) -> Option<DateTime<Utc>> {
    let tz = state.config.timezone;
    let (start, end) = frequency.period(date);
    let from = local_instant(tz, start, chrono::NaiveTime::MIN) - Duration::seconds(1);
    next_occurrence(&plan.cron, tz, from).filter(|at| local_date(tz, *at) < end)
}

pub fn from_ts(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// Why a meeting reminder's button does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonRefusal {
    /// No such occurrence, or the button is not in that meeting's group.
    NotFound,
    /// After /unbind the group asked to hear no more: recording or moving (which queues new
    /// reminders) waits until it is bound again.
    Unbound,
    AlreadyRecorded,
}

/// The pending occurrence a reminder button in `chat_id` points at, if the button may act.
pub async fn occurrence_for_button(
    state: &AppState,
    occurrence_id: i64,
    chat_id: Option<i64>,
) -> AppResult<Result<Occurrence, ButtonRefusal>> {
    let occurrence = store::occurrence(&state.db, occurrence_id).await?;
    let Some(occurrence) = occurrence.filter(|o| Some(o.chat_id) == chat_id) else {
        return Ok(Err(ButtonRefusal::NotFound));
    };
    let bound = branches::by_chat(&state.db, occurrence.chat_id).await?;
    if bound.is_none_or(|b| b.id != occurrence.branch_id) {
        return Ok(Err(ButtonRefusal::Unbound));
    }
    if occurrence.status != "pending" {
        return Ok(Err(ButtonRefusal::AlreadyRecorded));
    }
    Ok(Ok(occurrence))
}

/// The 已召开 button: the occurrence was held today. Returns the date recorded.
pub async fn mark_held_today(
    state: &AppState,
    occurrence: &Occurrence,
    by: i64,
) -> AppResult<NaiveDate> {
    let date = today(state);
    store::mark_held(&state.db, occurrence.id, date, by).await?;
    Ok(date)
}

/// The 改期 buttons: moves the occurrence by `days` and queues its reminders anew. `None` when
/// it was recorded meanwhile.
pub async fn move_by_days(
    state: &AppState,
    occurrence: &Occurrence,
    days: u8,
    from: i64,
) -> AppResult<MoveOutcome> {
    // Moving is relative: the same press applied twice (redelivered after a crash) would move
    // the meeting twice. The press names the time it moves from.
    if occurrence.at() != from {
        return Ok(MoveOutcome::AlreadyMoved);
    }
    let now = state.now();
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
    let moved = store::move_occurrence(
        &state.db,
        occurrence.id,
        new_at.timestamp(),
        moved_period_end(new_at).timestamp(),
        &reminders,
        now.timestamp(),
    )
    .await?;
    if !moved {
        return Ok(MoveOutcome::AlreadyRecorded);
    }
    state.wake.notify_one();
    Ok(MoveOutcome::Moved(new_at))
}

/// What a move button led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved(DateTime<Utc>),
    /// Moved since the choices were shown (a second press, or the same one redelivered).
    AlreadyMoved,
    /// Recorded as held (or missed) meanwhile.
    AlreadyRecorded,
}
