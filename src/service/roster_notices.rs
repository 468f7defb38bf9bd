//! What the roster adds to the reminders a branch group gets: the election arithmetic under a
//! term reminder (from the step where it matters), and, when `BRANCHBOT_REMIND_NAMES` is on,
//! the names of roster people due for the test who have not finished, the day before a round
//! closes. Branches without a roster keep today's messages.

use chrono::{DateTime, Utc};

use crate::domain::roster::{committee_seats, Counts, Election, LadderFacts};
use crate::domain::term::TermReminder;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox::NewMessage;
use crate::storage::roster as store;
use crate::storage::roster_org::branches_with_roster;
use crate::storage::rounds::topic;
use crate::texts::esc;
use crate::texts::roster_notices as t;

/// The branch's numbers from its current roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arithmetic {
    pub election: Election,
    /// Committee posts on the roster now.
    pub seats: usize,
}

/// `None` without a roster.
pub async fn arithmetic(state: &AppState, branch_id: i64) -> AppResult<Option<Arithmetic>> {
    let people = store::current(&state.db, branch_id).await?;
    if people.is_empty() {
        return Ok(None);
    }
    let persons = people.iter().map(|p| &p.person);
    Ok(Some(Arithmetic {
        election: Election::of(Counts::of(persons.clone())),
        seats: committee_seats(persons),
    }))
}

/// The section a term reminder gets from the roster, empty when there is no roster.
pub fn ladder_section(arithmetic: Option<&Arithmetic>, reminder: &TermReminder) -> String {
    let facts = LadderFacts::for_reminder(reminder);
    match arithmetic {
        Some(a) if facts.any() => t::ladder_section(&facts, &a.election, a.seats),
        _ => String::new(),
    }
}

/// The day-before notices of round `round_id` for every branch with a roster where someone
/// due has not finished; empty unless `BRANCHBOT_REMIND_NAMES` is on. They share the round's
/// topic, so closing the round withdraws any not yet sent.
pub async fn unfinished_notices(
    state: &AppState,
    round_id: i64,
    closes: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Vec<NewMessage>> {
    if !state.config.remind_names {
        return Ok(Vec::new());
    }
    let branches = branches_with_roster(&state.db).await?;
    let ids: Vec<i64> = branches.iter().map(|b| b.id).collect();
    let parts =
        store::participation(&state.db, round_id, &ids, state.config.roster_test_scope).await?;
    let local = closes.with_timezone(&state.config.timezone);
    Ok(branches
        .iter()
        .zip(parts)
        .filter(|(_, p)| !p.not_taken.is_empty() || !p.never_joined.is_empty())
        .map(|(b, p)| NewMessage {
            key: format!("{}:remind-names:{}", topic(round_id), b.id),
            topic: Some(topic(round_id)),
            chat_id: b.chat_id,
            text: t::unfinished(
                round_id,
                &esc(&b.name),
                &local,
                p.due,
                p.took,
                &p.not_taken,
                &p.never_joined,
            ),
            markup: None,
            due_at: now.timestamp(),
            expires_at: Some(closes.timestamp()),
        })
        .collect())
}
