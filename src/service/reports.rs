//! Report requests: which round, the round report for administrators, one branch's figures for
//! its group, and the compliance report. Rendering is `reports`' job.

use crate::config::Config;
use crate::domain::dates::local_date;
use crate::domain::stats::Thresholds;
use crate::error::AppResult;
use crate::reports::model::{ComplianceReport, RoundReport};
use crate::service::AppState;
use crate::storage::reports::{self as store, ReportOptions, RoundInfo};

/// Rounds in the trend chart and table, this one included.
pub const TREND_ROUNDS: u32 = 8;
/// Terms ending within this many days are listed as approaching: half a year leaves time for
/// the election steps (request, nomination, approval).
pub const APPROACHING_DAYS: u32 = 180;

/// How reports are made with this configuration; the command line uses the same.
pub fn report_options(config: &Config) -> ReportOptions {
    ReportOptions {
        pass_mark: config.pass_mark,
        timezone: config.timezone,
        trend_rounds: TREND_ROUNDS,
        thresholds: Thresholds::default(),
        round_label: crate::texts::report_replies::round_label,
    }
}

/// Which round a report request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Round(RoundInfo),
    NoSuchRound(i64),
    NoRoundsYet,
}

/// Round `requested`, or by default the latest closed round (or the open one).
pub async fn pick_round(state: &AppState, requested: Option<i64>) -> AppResult<Picked> {
    Ok(match store::pick_round(&state.db, requested).await? {
        Some(round) => Picked::Round(round),
        None => match requested {
            Some(n) => Picked::NoSuchRound(n),
            None => Picked::NoRoundsYet,
        },
    })
}

/// The whole round report, or `None` when nobody has submitted an attempt yet.
pub async fn round_report(state: &AppState, round: &RoundInfo) -> AppResult<Option<RoundReport>> {
    if !store::has_submissions(&state.db, round.id).await? {
        return Ok(None);
    }
    let options = report_options(&state.config);
    Ok(Some(store::round_report(&state.db, round, &options).await?))
}

/// One branch's participation and average, for its group.
pub async fn branch_report(
    state: &AppState,
    round: &RoundInfo,
    branch_id: i64,
) -> AppResult<RoundReport> {
    let options = report_options(&state.config);
    store::branch_report(&state.db, round, branch_id, &options).await
}

/// Elections overdue or approaching and meetings missed over the last `days` days.
pub async fn compliance(state: &AppState, days: u32) -> AppResult<ComplianceReport> {
    let tz = state.config.timezone;
    let as_of = local_date(tz, state.now());
    store::compliance_report(&state.db, as_of, days, APPROACHING_DAYS, tz).await
}
