//! The test calendar by hand: `/rounds open` and `/rounds close`, and what `/rounds` shows.

use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::service::calendar;
use crate::service::AppState;
use crate::storage::rounds::{self as store, RoundInfo};

/// What opening a round by hand led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A round is already open: one at a time.
    AlreadyOpen(i64),
    Opened {
        round_id: i64,
        closes_at: DateTime<Utc>,
        groups_told: usize,
    },
}

/// Opens a round now, for the configured length, announced in every branch group.
pub async fn open_now(state: &AppState, admin: i64) -> AppResult<Opened> {
    let now = state.now();
    if let Some(open) = store::current(&state.db).await? {
        return Ok(Opened::AlreadyOpen(open.id));
    }
    let closes_at = calendar::closes_at(state.config.timezone, now, state.config.round_days);
    match calendar::open_round(state, now, closes_at, Some(admin)).await? {
        Some((round_id, groups_told)) => {
            tracing::info!(round = round_id, admin, "test round opened by hand");
            Ok(Opened::Opened {
                round_id,
                closes_at,
                groups_told,
            })
        }
        // Opened by the calendar (or another administrator) in the meantime.
        None => match store::current(&state.db).await? {
            Some(open) => Ok(Opened::AlreadyOpen(open.id)),
            None => Err(crate::error::AppError::Report(
                "a round could not be opened and none is open".to_owned(),
            )),
        },
    }
}

/// What closing the open round by hand led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    NoneOpen,
    Closed {
        round_id: i64,
        finished: i64,
        groups_told: usize,
    },
}

/// Closes the open round now: attempts in progress are scored as answered, groups get results.
pub async fn close_now(state: &AppState) -> AppResult<Closed> {
    let Some(open) = store::current(&state.db).await? else {
        return Ok(Closed::NoneOpen);
    };
    Ok(
        match calendar::close_round(state, open.id, state.now()).await? {
            Some((finished, groups_told)) => Closed::Closed {
                round_id: open.id,
                finished,
                groups_told,
            },
            None => Closed::NoneOpen,
        },
    )
}

/// The calendar's state for `/rounds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub current: Option<RoundInfo>,
    pub recent: Vec<RoundInfo>,
    /// Openings the calendar has next, after the latest round.
    pub next: Vec<DateTime<Utc>>,
}

/// The round in progress, the last `recent` rounds and the next `openings` calendar dates.
pub async fn overview(state: &AppState, recent: i64, openings: usize) -> AppResult<Overview> {
    let config = &state.config;
    let tz = config.timezone;
    let latest = store::latest_opens_at(&state.db)
        .await?
        .and_then(|ts| DateTime::from_timestamp(ts, 0));
    let now = state.now();
    let after = latest.map_or(now, |l| l.max(now));
    Ok(Overview {
        current: store::current(&state.db).await?,
        recent: store::recent(&state.db, recent).await?,
        next: crate::domain::schedule::next_occurrences(&config.test_calendar, tz, after, openings),
    })
}
