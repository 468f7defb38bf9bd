//! Terms and elections (换届): the current term, a completed election, an approved delay, and
//! the branch's standing for `/status`. The date rules are in `domain::term`; this module stores
//! what they allow and schedules the next reminder check.

use chrono::NaiveDate;

use crate::domain::dates::local_date;
use crate::domain::term::{
    validate_delay, validate_elected, validate_term, BranchKind, Term, TermError,
};
use crate::error::AppResult;
use crate::service::reminders::first_term_check;
use crate::service::AppState;
use crate::storage::branches::Branch;
use crate::storage::outbox::NewMessage;
use crate::storage::reminders as store;

/// Today in the deployment's time zone.
pub fn today(state: &AppState) -> NaiveDate {
    local_date(state.config.timezone, state.now())
}

/// The branch kind a stored branch was bound with; unknown kinds count as 其他.
pub fn branch_kind(branch: &Branch) -> BranchKind {
    BranchKind::parse(&branch.kind).unwrap_or(BranchKind::Other)
}

/// Which term a date starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermStart {
    /// `/term`: the current term, from the election already held on that date.
    Current,
    /// `/elected`: an election was just held; the next term starts on that date.
    Election,
}

/// A term stored by [`start_term`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub term: Term,
    /// The confirmation was queued in the outbox with the change (an election: the record the
    /// secretary relies on must reach the group even if the bot stops right after); the caller
    /// sends nothing itself.
    pub confirmation_queued: bool,
}

/// Stores the term that starts on `date`; its length defaults by branch kind.
pub async fn start_term(
    state: &AppState,
    branch: &Branch,
    start: TermStart,
    date: NaiveDate,
    years: Option<u32>,
) -> AppResult<Result<Started, TermError>> {
    let today = today(state);
    let now = state.now().timestamp();
    let term = match start {
        TermStart::Current => validate_term(date, years, branch_kind(branch), today),
        TermStart::Election => {
            let years = years.unwrap_or_else(|| branch_kind(branch).default_term_years());
            let current = store::open_term(&state.db, branch.id).await?;
            validate_elected(date, current.as_ref().map(|row| &row.term), years, today)
        }
    };
    let term = match term {
        Ok(term) => term,
        Err(err) => return Ok(Err(err)),
    };
    let next_check = Some(first_term_check(state, term.end(), today));
    match start {
        TermStart::Current => {
            store::set_term(&state.db, branch.id, &term, next_check, now).await?;
        }
        TermStart::Election => {
            let notice = NewMessage {
                key: format!("elected:{}:{now}", branch.id),
                topic: None,
                chat_id: branch.chat_id,
                text: format!(
                    "{}\n\n{}",
                    crate::texts::calendar::ELECTED_SAVED,
                    crate::texts::reminders::status_text(&term, today)
                ),
                markup: None,
                due_at: now,
                expires_at: None,
            };
            store::record_election(&state.db, branch.id, &term, next_check, now, &notice).await?;
        }
    }
    state.wake.notify_one();
    Ok(Ok(Started {
        confirmation_queued: start == TermStart::Election,
        term,
    }))
}

/// What an approved delay led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelayOutcome {
    /// There is no term to delay; `/term` comes first.
    NoTerm,
    Refused(TermError),
    Saved(Term),
}

/// `/delay`: the superior approved moving the term's end to `new_end` (at most a year).
pub async fn record_delay(
    state: &AppState,
    branch: &Branch,
    new_end: NaiveDate,
) -> AppResult<DelayOutcome> {
    let Some(row) = store::open_term(&state.db, branch.id).await? else {
        return Ok(DelayOutcome::NoTerm);
    };
    let term = match validate_delay(&row.term, new_end) {
        Ok(term) => term,
        Err(err) => return Ok(DelayOutcome::Refused(err)),
    };
    let next_check = first_term_check(state, term.end(), today(state));
    store::record_delay(&state.db, row.id, new_end, Some(next_check)).await?;
    state.wake.notify_one();
    Ok(DelayOutcome::Saved(term))
}

/// A branch's standing for `/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub term: Option<Term>,
    pub today: NaiveDate,
    pub meetings_held: i64,
    pub meetings_missed: i64,
    pub meetings_pending: i64,
}

pub async fn standing(state: &AppState, branch: &Branch) -> AppResult<Standing> {
    let term = store::open_term(&state.db, branch.id)
        .await?
        .map(|row| row.term);
    let (held, missed, pending) = store::meeting_counts(&state.db, branch.id).await?;
    Ok(Standing {
        term,
        today: today(state),
        meetings_held: held,
        meetings_missed: missed,
        meetings_pending: pending,
    })
}
