//! Background work: turning schedules into reminders and delivering them.
//!
//! The loop sleeps until the earliest due time or until a change wakes it (mini-redis' purge
//! task shape). Each due time comes from an indexed column (`terms.next_check_at`,
//! `meeting_plans.next_at`, `meeting_occurrences.period_end`, `outbox.due_at`, ...), so a pass
//! costs the same with ten branches or a hundred thousand: nothing is recomputed for branches
//! that are not due.
//!
//! One pass is `tick`, which tests call directly with the clock they control.

pub mod delivery;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox;

/// The longest sleep without re-checking, a guard against clock jumps on the host.
const MAX_SLEEP: Duration = Duration::from_secs(300);
/// With a simulated clock, time can jump at any moment: look often.
const SIMULATED_POLL: Duration = Duration::from_millis(100);
/// After an error, try again after this long.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// How long a pass in progress may go on after a shutdown signal. A pass can be waiting on
/// Telegram's rate limits (20 messages a minute into one group); what it has not sent by then
/// stays in the outbox and goes out after the next start.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Runs until `stop` turns true, giving the pass in progress `SHUTDOWN_GRACE` to finish.
pub async fn run(
    state: Arc<AppState>,
    outlet: Arc<dyn delivery::Outlet>,
    mut stop: watch::Receiver<bool>,
) {
    match outbox::recover_in_flight(&state.db).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(rows = n, "re-queued messages whose send was interrupted"),
        Err(err) => tracing::error!(error = %err, "could not recover the outbox"),
    }
    loop {
        if *stop.borrow() {
            return;
        }
        // While a pass runs, anything falling due wakes the next one: the pass may have read
        // the due times before it was stored.
        state.nudges.next_pass.store(i64::MAX, Ordering::SeqCst);
        let now = state.now();
        let pass = tick(&state, outlet.as_ref(), now);
        let Some(outcome) = unless_stopped(pass, &mut stop).await else {
            tracing::info!("stopping mid-pass; unsent messages stay queued");
            return;
        };
        let wait = match outcome {
            Ok(Some(next)) => (next - state.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_SLEEP),
            Ok(None) => MAX_SLEEP,
            Err(err) => {
                tracing::error!(error = %err, "scheduler pass failed");
                ERROR_PAUSE
            }
        };
        let wait = if state.clock.is_simulated() {
            wait.min(SIMULATED_POLL)
        } else {
            wait
        };
        if wait.is_zero() {
            continue;
        }
        let next_pass =
            state.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        state
            .nudges
            .next_pass
            .store(next_pass.timestamp(), Ordering::SeqCst);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                _ = state.wake.notified() => break,
                _ = stop.changed() => break,
                // A result or a reply queued to go now: the outbox alone, then back to waiting
                // for the pass that was due anyway.
                _ = state.nudges.deliver.notified() => {
                    let now = state.now().timestamp();
                    let delivering = delivery::deliver_due(&state, outlet.as_ref(), now);
                    let Some(delivered) = unless_stopped(delivering, &mut stop).await else {
                        tracing::info!("stopping mid-delivery; unsent messages stay queued");
                        return;
                    };
                    if let Err(err) = delivered {
                        tracing::error!(error = %err, "delivering the outbox failed");
                    }
                    if *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

/// Runs `work` to its end; after a stop signal it gets [`SHUTDOWN_GRACE`] more, and `None`
/// says it did not finish in that time.
async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    stop: &mut watch::Receiver<bool>,
) -> Option<T> {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => Some(done),
        _ = stop.changed() => tokio::time::timeout(SHUTDOWN_GRACE, &mut work).await.ok(),
    }
}

/// One pass: plan what fell due into the outbox, deliver what is due, and say when to look again.
pub async fn tick(
    state: &AppState,
    outlet: &dyn delivery::Outlet,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    crate::service::reminders::plan_due(state, now).await?;
    crate::service::calendar::plan_due(state, now).await?;
    crate::service::quiz::expire_attempts(state, now).await?;
    crate::service::roster::plan_probation_reminders(state, now).await?;
    delivery::deliver_due(state, outlet, now.timestamp()).await?;
    next_due(state, now).await
}

/// The earliest instant anything is due, from the indexed columns.
pub async fn next_due(state: &AppState, now: DateTime<Utc>) -> AppResult<Option<DateTime<Utc>>> {
    let candidates = [
        crate::service::reminders::next_due(state).await?,
        crate::service::calendar::next_due(state, now).await?,
        crate::service::quiz::next_attempt_deadline(state).await?,
        outbox::next_due(&state.db).await?,
    ];
    Ok(candidates
        .into_iter()
        .flatten()
        .min()
        .and_then(|ts| DateTime::from_timestamp(ts, 0)))
}
