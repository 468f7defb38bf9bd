//! The test calendar: opening rounds (announcement in every branch group), reminding those who
//! have not finished a day before closing, closing rounds (results to each group).
//!
//! The calendar is a cron expression read as wall-clock time in the configured zone, and a
//! round lasts `round_days` local days (09:00 to 09:00 also across a daylight-saving change).
//! Nothing about the calendar is stored but the rounds themselves: the next opening is the
//! first calendar occurrence after the latest round whose window `[opens, opens + length)` is
//! still open. So an opening missed while the bot was down opens late if its window is still
//! open and is skipped otherwise, and at the very start the round whose window contains now
//! opens at once. Only one round is open at a time: an opening that falls while the previous
//! round is still open (opened by hand, say) waits for it to close, on the same terms, unless
//! that round covered more than half of its window (then it is skipped).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::buttons::CallbackData;
use crate::buttons::{Button, Keyboard};
use crate::domain::dates::local_instant;
use crate::domain::schedule::next_occurrence;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::branches;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::rounds::{self as store, topic};
use crate::texts::esc;
use crate::texts::rounds as texts;

/// How many local days before closing the private reminder goes out.
pub const REMIND_DAYS_BEFORE: i64 = 1;
/// How long a round's result stays worth posting after it closed (if the bot was down).
const RESULT_EXPIRES_AFTER: Duration = Duration::days(7);
/// Guard for absurd calendars (every minute with week-long rounds): stop scanning here.
const MAX_SCAN: usize = 2000;

// ---- calendar arithmetic (pure) ---------------------------------------------------------------

/// `at` moved by whole local days, keeping the wall-clock time; a time that does not exist on
/// the target day (a spring-forward gap) moves forward to the first one that does.
pub fn add_local_days(tz: Tz, at: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let local = at.with_timezone(&tz).naive_local();
    match local.date().checked_add_signed(Duration::days(days)) {
        Some(date) => local_instant(tz, date, local.time()),
        None => at + Duration::days(days),
    }
}

/// When a round that opens at `opens` closes.
pub fn closes_at(tz: Tz, opens: DateTime<Utc>, round_days: u32) -> DateTime<Utc> {
    add_local_days(tz, opens, i64::from(round_days))
}

/// When the day-before reminder of a round closing at `closes` goes out.
pub fn remind_at(tz: Tz, closes: DateTime<Utc>) -> DateTime<Utc> {
    add_local_days(tz, closes, -REMIND_DAYS_BEFORE)
}

/// What the calendar asks for at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// The occurrence at `scheduled` is due (on time or late): open a round now that closes at
    /// `closes_at`, the end of that occurrence's window.
    Due {
        scheduled: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    },
    /// Nothing is due; the next opening is at this instant.
    Later(DateTime<Utc>),
    /// The calendar has no more occurrences.
    Never,
}

/// The calendar's answer at `now`, given when the latest round opened (`None` before the first).
///
/// Occurrences whose window has ended are skipped; of those whose window contains `now`, the
/// latest is due, since rounds do not overlap and the latest one has the most time left.
pub fn calendar_opening(
    cron: &str,
    tz: Tz,
    round_days: u32,
    latest_opens: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Opening {
    // An occurrence at or before this has a window that ended by now (an hour spare for DST).
    let horizon = add_local_days(tz, now, -i64::from(round_days)) - Duration::hours(1);
    let mut after = latest_opens.map_or(horizon, |latest| latest.max(horizon));
    let mut due = None;
    for _ in 0..MAX_SCAN {
        match next_occurrence(cron, tz, after) {
            None => break,
            Some(occurrence) if occurrence > now => {
                return due.unwrap_or(Opening::Later(occurrence));
            }
            Some(occurrence) => {
                let closes = closes_at(tz, occurrence, round_days);
                if closes > now {
                    due = Some(Opening::Due {
                        scheduled: occurrence,
                        closes_at: closes,
                    });
                }
                after = occurrence;
            }
        }
    }
    due.unwrap_or(Opening::Never)
}

/// [`calendar_opening`] when the latest round opened at `latest.0` and ended (closed, or is to
/// close) at `latest.1`. An occurrence that fell while that round was open waits for it to end,
/// but only opens if at most half of its window was covered by the earlier round: an
/// administrator who opens a round by hand an hour before the calendar would, gets that round
/// for the period, not a second one of an hour after it.
pub fn calendar_opening_after(
    cron: &str,
    tz: Tz,
    round_days: u32,
    latest: Option<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Opening {
    let Some((mut after, ended)) = latest else {
        return calendar_opening(cron, tz, round_days, None, now);
    };
    for _ in 0..MAX_SCAN {
        let opening = calendar_opening(cron, tz, round_days, Some(after), now);
        match opening {
            Opening::Due {
                scheduled,
                closes_at,
            } if scheduled < ended && (ended - scheduled) * 2 > closes_at - scheduled => {
                // Covered by the earlier round: as if it had opened at this occurrence.
                after = scheduled;
            }
            _ => return opening,
        }
    }
    Opening::Never
}

/// The latest round's opening and its end (when it closed, or is to close).
async fn latest_round(state: &AppState) -> AppResult<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let latest = store::recent(&state.db, 1).await?.into_iter().next();
    Ok(latest.and_then(|r| {
        let opens = DateTime::from_timestamp(r.opens_at, 0)?;
        let ended = DateTime::from_timestamp(r.closed_at.unwrap_or(r.closes_at), 0)?;
        Some((opens, ended))
    }))
}

/// The instant the calendar next needs the scheduler, given the open round's closing time and
/// whether its reminder is queued. An opening that falls while a round is open waits for it.
pub fn next_calendar_due(
    opening: Opening,
    open: Option<(DateTime<Utc>, bool)>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let opening_at = match opening {
        Opening::Due { .. } => Some(now),
        Opening::Later(at) => Some(at),
        Opening::Never => None,
    };
    let Some((closes, reminded)) = open else {
        return opening_at;
    };
    let reminder = (!reminded).then(|| remind_at(tz, closes));
    [opening_at.map(|at| at.max(closes)), Some(closes), reminder]
        .into_iter()
        .flatten()
        .min()
}

// ---- scheduler hooks ----------------------------------------------------------------------------

pub async fn plan_due(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    if let Some(open) = store::current(&state.db).await? {
        if open.closes_at <= now.timestamp() {
            close_round(state, open.id, now).await?;
        }
    }
    if store::current(&state.db).await?.is_none() {
        let latest = latest_round(state).await?;
        let config = &state.config;
        if let Opening::Due {
            scheduled,
            closes_at,
        } = calendar_opening_after(
            &config.test_calendar,
            config.timezone,
            config.round_days,
            latest,
            now,
        ) {
            if let Some((id, groups)) = open_round(state, now, closes_at, None).await? {
                let late = now - scheduled > Duration::minutes(5);
                tracing::info!(
                    round = id,
                    groups,
                    late,
                    "test round opened by the calendar"
                );
            }
        }
    }
    if let Some(open) = store::current(&state.db).await? {
        let closes = DateTime::from_timestamp(open.closes_at, 0).unwrap_or(now);
        if !open.reminded && remind_at(state.config.timezone, closes) <= now && closes > now {
            let queued = queue_reminders(state, open.id, closes, now).await?;
            tracing::info!(round = open.id, queued, "day-before test reminders queued");
        }
    }
    Ok(())
}

pub async fn next_due(state: &AppState, now: DateTime<Utc>) -> AppResult<Option<i64>> {
    let latest = latest_round(state).await?;
    let open = store::open_round_due(&state.db)
        .await?
        .and_then(|(closes, reminded)| Some((DateTime::from_timestamp(closes, 0)?, reminded)));
    let config = &state.config;
    let opening = calendar_opening_after(
        &config.test_calendar,
        config.timezone,
        config.round_days,
        latest,
        now,
    );
    Ok(next_calendar_due(opening, open, config.timezone, now).map(|at| at.timestamp()))
}

// ---- state changes (also used by /rounds open and /rounds close) --------------------------------

/// Opens a round now, closing at `closes_at`, and queues its announcement into every active
/// branch group in the same transaction. `None` when a round is open already; otherwise the
/// round id and how many groups are told.
pub async fn open_round(
    state: &AppState,
    now: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    opened_by: Option<i64>,
) -> AppResult<Option<(i64, usize)>> {
    let groups = branches::active_branches(&state.db).await?;
    let questions = questions_per_test(state).await?;
    let mut tx = crate::storage::write(&state.db).await?;
    let Some(id) =
        store::insert_if_none_open(&mut *tx, now.timestamp(), closes_at.timestamp(), opened_by)
            .await?
    else {
        return Ok(None);
    };
    for branch in &groups {
        let message = announcement(state, id, closes_at, branch, questions, now);
        outbox::enqueue(&mut *tx, &message, now.timestamp()).await?;
    }
    tx.commit().await?;
    state.wake.notify_one();
    Ok(Some((id, groups.len())))
}

/// How many questions a test of the round has: the configured number, or the whole bank when
/// it is smaller (an uploaded bank may be).
async fn questions_per_test(state: &AppState) -> AppResult<usize> {
    let bank = crate::storage::questions::active(&state.db).await?.len();
    Ok(state.config.questions_per_test.min(bank))
}

/// The announcement of round `round_id` for one branch group, with the deep-link button that
/// joins the member to that branch and starts the test. One key per (round, branch), so a
/// branch is told once however often this is queued.
fn announcement(
    state: &AppState,
    round_id: i64,
    closes_at: DateTime<Utc>,
    branch: &branches::Branch,
    questions: usize,
    now: DateTime<Utc>,
) -> NewMessage {
    let text = texts::announcement(
        round_id,
        &esc(&branch.name),
        &closes_at.with_timezone(&state.config.timezone),
        questions,
        state.config.time_limit_minutes,
        state.config.pass_mark,
    );
    let link = state.deep_link(&format!("t_{}", branch.join_code));
    let markup = match url::Url::parse(&link) {
        Ok(url) => Some(
            Keyboard::new([[Button::url(texts::announcement_button(round_id), url)]]).to_json(),
        ),
        Err(err) => {
            tracing::warn!(link, error = %err, "deep link is not a URL; announcing without the button");
            None
        }
    };
    NewMessage {
        key: format!("{}:announce:{}", topic(round_id), branch.id),
        topic: Some(topic(round_id)),
        chat_id: branch.chat_id,
        text,
        markup,
        due_at: now.timestamp(),
        expires_at: Some(closes_at.timestamp()),
    }
}

/// A group bound while a round is open has missed its announcement: queue it now (once).
/// For the branch-binding hook; true when something was queued.
pub async fn announce_open_round_to(
    state: &AppState,
    branch: &branches::Branch,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(open) = store::current(&state.db).await? else {
        return Ok(false);
    };
    let Some(closes_at) = DateTime::from_timestamp(open.closes_at, 0).filter(|c| *c > now) else {
        return Ok(false);
    };
    let questions = questions_per_test(state).await?;
    let message = announcement(state, open.id, closes_at, branch, questions, now);
    let queued = outbox::enqueue(&state.db, &message, now.timestamp()).await?;
    if queued {
        state.wake.notify_one();
    }
    Ok(queued)
}

/// Queues the private reminder to everyone in an active branch who has not finished (and, when
/// the setting is on, the names of the unfinished to each branch group with a roster), and
/// marks the round reminded, in one transaction. Returns how many private reminders were queued.
pub async fn queue_reminders(
    state: &AppState,
    round_id: i64,
    closes: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let text = texts::reminder(round_id, &closes.with_timezone(&state.config.timezone));
    let markup = Some(
        Keyboard::new([[Button::callback(
            texts::REMINDER_BUTTON,
            CallbackData::StartTest.encode(),
        )]])
        .to_json(),
    );
    // With BRANCHBOT_REMIND_NAMES, branch groups with a roster hear who has not finished.
    let groups =
        crate::service::roster_notices::unfinished_notices(state, round_id, closes, now).await?;
    let mut tx = crate::storage::write(&state.db).await?;
    if !store::mark_reminded(&mut *tx, round_id).await? {
        return Ok(0);
    }
    for notice in &groups {
        outbox::enqueue(&mut *tx, notice, now.timestamp()).await?;
    }
    let queued = store::queue_reminders(
        &mut *tx,
        round_id,
        &text,
        markup.as_deref(),
        now.timestamp(),
        closes.timestamp(),
        now.timestamp(),
    )
    .await?;
    tx.commit().await?;
    state.wake.notify_one();
    Ok(queued)
}

/// Closes a round: in-progress attempts are finished first (scored as answered), then the round
/// is marked closed, what it still had pending is cancelled, and each active branch group gets
/// its participation and average, all in one transaction. `None` when it was closed already;
/// otherwise how many attempts finished and how many groups are told.
pub async fn close_round(
    state: &AppState,
    round_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<(i64, usize)>> {
    crate::service::quiz::finalize_round_attempts(state, round_id, now).await?;
    let mut tx = crate::storage::write(&state.db).await?;
    if !store::mark_closed(&mut *tx, round_id, now.timestamp()).await? {
        return Ok(None);
    }
    // Reports of this round keep each branch's organisation of now, whatever moves later.
    crate::storage::orgs::snapshot_round(&mut tx, round_id).await?;
    // An announcement or reminder not yet sent would now be wrong.
    outbox::cancel_topic(&mut *tx, &topic(round_id)).await?;
    let results = store::branch_results(&mut *tx, round_id).await?;
    // A branch with a roster is told its participation against the roster's people due.
    let ids: Vec<i64> = results.iter().map(|r| r.branch_id).collect();
    let parts = crate::storage::roster::participation_in(
        &mut tx,
        round_id,
        &ids,
        state.config.roster_test_scope,
    )
    .await?;
    let expires = (now + RESULT_EXPIRES_AFTER).timestamp();
    let mut finished = 0;
    for (result, part) in results.iter().zip(&parts) {
        finished += result.finished;
        let (took, due) = match part.has_roster {
            true => (part.took as i64, part.due as i64),
            false => (result.finished, result.members),
        };
        let message = NewMessage {
            key: format!("{}:result:{}", topic(round_id), result.branch_id),
            topic: Some(topic(round_id)),
            chat_id: result.chat_id,
            text: texts::branch_result(
                round_id,
                &esc(&result.name),
                took,
                due,
                result.average,
                part.has_roster,
            ),
            markup: None,
            due_at: now.timestamp(),
            expires_at: Some(expires),
        };
        outbox::enqueue(&mut *tx, &message, now.timestamp()).await?;
    }
    tx.commit().await?;
    state.wake.notify_one();
    tracing::info!(
        round = round_id,
        finished,
        groups = results.len(),
        "test round closed"
    );
    // The summary its reports read. A failure here loses nothing: the first report writes it.
    let options = crate::service::reports::report_options(&state.config);
    if let Err(err) = crate::storage::summaries::write(&state.db, round_id, &options).await {
        tracing::warn!(round = round_id, error = %err, "could not summarise the closed round");
    }
    Ok(Some((finished, results.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::{Asia::Shanghai, Europe::Berlin};

    const CAL: &str = "0 0 9 1,16 * *";

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn first_round_at_start_is_the_window_containing_now() {
        let now = at(Shanghai, 2026, 5, 3, 14, 0);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, None, now),
            Opening::Due {
                scheduled: at(Shanghai, 2026, 5, 1, 9, 0),
                closes_at: at(Shanghai, 2026, 5, 8, 9, 0)
            }
        );
    }

    #[test]
    fn first_round_at_start_outside_any_window_is_the_next_occurrence() {
        let now = at(Shanghai, 2026, 5, 10, 14, 0);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, None, now),
            Opening::Later(at(Shanghai, 2026, 5, 16, 9, 0))
        );
        // The window is half-open: at the closing instant it no longer counts.
        let closing = at(Shanghai, 2026, 5, 8, 9, 0);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, None, closing),
            Opening::Later(at(Shanghai, 2026, 5, 16, 9, 0))
        );
        // At the opening instant it does.
        let opening = at(Shanghai, 2026, 5, 16, 9, 0);
        assert!(
            matches!(calendar_opening(CAL, Shanghai, 7, None, opening), Opening::Due { scheduled, .. } if scheduled == opening)
        );
    }

    #[test]
    fn an_opening_mostly_covered_by_a_round_opened_by_hand_is_skipped() {
        let hand_opened = at(Shanghai, 2026, 3, 16, 8, 0);
        let hand_closes = at(Shanghai, 2026, 3, 23, 8, 0);
        // While the hand-opened round runs, the calendar waits for 1 April, not for 23 March.
        let during = at(Shanghai, 2026, 3, 20, 12, 0);
        assert_eq!(
            calendar_opening_after(CAL, Shanghai, 7, Some((hand_opened, hand_closes)), during),
            Opening::Later(at(Shanghai, 2026, 4, 1, 9, 0))
        );
        // When it ends, the 16 March opening (one hour left) is not opened.
        assert_eq!(
            calendar_opening_after(
                CAL,
                Shanghai,
                7,
                Some((hand_opened, hand_closes)),
                hand_closes
            ),
            Opening::Later(at(Shanghai, 2026, 4, 1, 9, 0))
        );
        // Opened by hand five days early, it covers two of the seven days: the opening waits and
        // then runs its remaining five days.
        let early = at(Shanghai, 2026, 3, 11, 9, 0);
        let early_closes = at(Shanghai, 2026, 3, 18, 9, 0);
        assert_eq!(
            calendar_opening_after(CAL, Shanghai, 7, Some((early, early_closes)), early_closes),
            Opening::Due {
                scheduled: at(Shanghai, 2026, 3, 16, 9, 0),
                closes_at: at(Shanghai, 2026, 3, 23, 9, 0)
            }
        );
        // Closed by hand before the opening: nothing is covered.
        let closed = at(Shanghai, 2026, 3, 16, 8, 30);
        assert!(matches!(
            calendar_opening_after(CAL, Shanghai, 7, Some((hand_opened, closed)), at(Shanghai, 2026, 3, 16, 9, 0)),
            Opening::Due { scheduled, .. } if scheduled == at(Shanghai, 2026, 3, 16, 9, 0)
        ));
        // A late opening after downtime is not affected: the latest round ended long before.
        let old = at(Shanghai, 2026, 3, 1, 9, 0);
        let old_end = at(Shanghai, 2026, 3, 8, 9, 0);
        assert!(matches!(
            calendar_opening_after(CAL, Shanghai, 7, Some((old, old_end)), at(Shanghai, 2026, 3, 22, 9, 0)),
            Opening::Due { scheduled, .. } if scheduled == at(Shanghai, 2026, 3, 16, 9, 0)
        ));
    }

    #[test]
    fn after_a_round_the_next_opening_is_the_following_occurrence() {
        let latest = at(Shanghai, 2026, 5, 1, 9, 0);
        let now = at(Shanghai, 2026, 5, 3, 0, 0);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, Some(latest), now),
            Opening::Later(at(Shanghai, 2026, 5, 16, 9, 0))
        );
        // A round opened by hand on the 10th does not consume the 16th.
        let by_hand = at(Shanghai, 2026, 5, 10, 15, 30);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, Some(by_hand), by_hand),
            Opening::Later(at(Shanghai, 2026, 5, 16, 9, 0))
        );
    }

    #[test]
    fn a_missed_opening_opens_late_while_its_window_is_open() {
        let latest = at(Shanghai, 2026, 5, 1, 9, 0);
        let now = at(Shanghai, 2026, 5, 20, 11, 0); // down from before the 16th until the 20th
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, Some(latest), now),
            Opening::Due {
                scheduled: at(Shanghai, 2026, 5, 16, 9, 0),
                closes_at: at(Shanghai, 2026, 5, 23, 9, 0)
            }
        );
    }

    #[test]
    fn a_missed_opening_whose_window_ended_is_skipped() {
        let latest = at(Shanghai, 2026, 5, 1, 9, 0);
        let now = at(Shanghai, 2026, 5, 24, 11, 0); // the 16th's window ended on the 23rd
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, Some(latest), now),
            Opening::Later(at(Shanghai, 2026, 6, 1, 9, 0))
        );
        // Down for months: everything in between is skipped, in one step.
        let much_later = at(Shanghai, 2026, 9, 17, 8, 0);
        assert_eq!(
            calendar_opening(CAL, Shanghai, 7, Some(latest), much_later),
            Opening::Due {
                scheduled: at(Shanghai, 2026, 9, 16, 9, 0),
                closes_at: at(Shanghai, 2026, 9, 23, 9, 0)
            }
        );
    }

    #[test]
    fn reminder_and_close_times() {
        let opens = at(Shanghai, 2026, 5, 1, 9, 0);
        let closes = closes_at(Shanghai, opens, 7);
        assert_eq!(closes, at(Shanghai, 2026, 5, 8, 9, 0));
        assert_eq!(remind_at(Shanghai, closes), at(Shanghai, 2026, 5, 7, 9, 0));
        // A one-day round is reminded as it opens.
        assert_eq!(remind_at(Shanghai, closes_at(Shanghai, opens, 1)), opens);
    }

    #[test]
    fn a_round_across_daylight_saving_keeps_the_wall_clock() {
        // Berlin springs forward on 29 March 2026: 09:00 to 09:00 is 6 days 23 hours.
        let opens = at(Berlin, 2026, 3, 26, 9, 0);
        let closes = closes_at(Berlin, opens, 7);
        assert_eq!(closes, at(Berlin, 2026, 4, 2, 9, 0));
        assert_eq!(closes - opens, Duration::hours(7 * 24 - 1));
        assert_eq!(
            remind_at(Berlin, at(Berlin, 2026, 3, 30, 9, 0)),
            at(Berlin, 2026, 3, 29, 9, 0)
        );
        // And falls back on 25 October 2026.
        let autumn = at(Berlin, 2026, 10, 20, 9, 0);
        assert_eq!(
            closes_at(Berlin, autumn, 7) - autumn,
            Duration::hours(7 * 24 + 1)
        );
        // The calendar is read in local time, and a window spanning the change ends at 09:00 local.
        let now = at(Berlin, 2026, 3, 29, 10, 0);
        assert_eq!(
            calendar_opening(CAL, Berlin, 14, None, now),
            Opening::Due {
                scheduled: at(Berlin, 2026, 3, 16, 9, 0),
                closes_at: at(Berlin, 2026, 3, 30, 9, 0)
            }
        );
        assert_eq!(
            at(Berlin, 2026, 3, 30, 9, 0).format("%H:%M").to_string(),
            "07:00"
        );
        assert_eq!(
            calendar_opening(CAL, Berlin, 7, Some(at(Berlin, 2026, 3, 16, 9, 0)), now),
            Opening::Later(at(Berlin, 2026, 4, 1, 9, 0))
        );
        assert_eq!(
            at(Berlin, 2026, 4, 1, 9, 0).format("%H:%M").to_string(),
            "07:00"
        );
    }

    #[test]
    fn next_due_waits_for_the_open_round_and_its_reminder() {
        let now = at(Shanghai, 2026, 5, 2, 12, 0);
        let closes = at(Shanghai, 2026, 5, 8, 9, 0);
        let later = Opening::Later(at(Shanghai, 2026, 5, 16, 9, 0));
        assert_eq!(
            next_calendar_due(later, Some((closes, false)), Shanghai, now),
            Some(at(Shanghai, 2026, 5, 7, 9, 0))
        );
        assert_eq!(
            next_calendar_due(later, Some((closes, true)), Shanghai, now),
            Some(closes)
        );
        // A due opening blocked by the open round is looked at when that round closes.
        let due = Opening::Due {
            scheduled: now,
            closes_at: closes,
        };
        assert_eq!(
            next_calendar_due(due, Some((closes, true)), Shanghai, now),
            Some(closes)
        );
        assert_eq!(next_calendar_due(due, None, Shanghai, now), Some(now));
        assert_eq!(
            next_calendar_due(later, None, Shanghai, now),
            Some(at(Shanghai, 2026, 5, 16, 9, 0))
        );
        assert_eq!(next_calendar_due(Opening::Never, None, Shanghai, now), None);
    }

    #[test]
    fn a_calendar_that_never_fires_again_says_so() {
        let now = at(Shanghai, 2026, 5, 2, 12, 0);
        assert_eq!(
            calendar_opening("0 0 9 1 1 * 2020", Shanghai, 7, None, now),
            Opening::Never
        );
    }

    // ---- the flow against an in-memory database ----

    mod flow {
        use super::*;
        use std::sync::{Arc, Mutex};

        use rand::SeedableRng;

        use crate::clock::ManualClock;
        use crate::config::Config;
        use crate::storage::{connect_memory, outbox, Db};

        async fn state(now: DateTime<Utc>) -> AppState {
            let config =
                Config::from_lookup(|key| (key == "TELOXIDE_TOKEN").then(|| "1:a".to_owned()))
                    .unwrap();
            AppState {
                db: connect_memory().await.unwrap(),
                config: Arc::new(config),
                clock: Arc::new(ManualClock::new(now)),
                rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(1)),
                wake: Arc::new(tokio::sync::Notify::new()),
                nudges: Default::default(),
                bot_username: "branchbot_test".to_owned(),
                bank: Default::default(),
                live_attempts: Default::default(),
                direct_writes: Default::default(),
            }
        }

        async fn exec(db: &Db, sql: &str) {
            sqlx::query(sql).execute(db).await.unwrap();
        }

        /// Branches 甲 (users 1, 2), 乙 (user 3) and an unbound 丙 (user 4).
        async fn seed(db: &Db) {
            exec(db, "INSERT INTO users (id, full_name, created_at) VALUES (1,'一',0),(2,'二',0),(3,'三',0),(4,'四',0)").await;
            exec(
                db,
                "INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at) VALUES
                 (1, -101, '甲<支部>', '机关', 'AAAA', 1, 0, 0),
                 (2, -102, '乙支部', '农村', 'BBBB', 1, 0, 0),
                 (3, -103, '丙支部', '其他', 'CCCC', 0, 0, 0)",
            )
            .await;
            exec(db, "INSERT INTO members (user_id, branch_id, joined_at) VALUES (1,1,0),(2,1,0),(3,2,0),(4,3,0)").await;
        }

        async fn outbox_rows(
            db: &Db,
        ) -> Vec<(String, i64, String, Option<String>, Option<i64>, String)> {
            sqlx::query_as("SELECT dedup_key, chat_id, text, reply_markup, expires_at, status FROM outbox ORDER BY id")
                .fetch_all(db)
                .await
                .unwrap()
        }

        #[tokio::test]
        async fn a_round_opens_reminds_and_closes_through_the_outbox() {
            let start = at(Shanghai, 2026, 5, 3, 14, 0);
            let st = state(start).await;
            seed(&st.db).await;

            // At start, inside the 1 May window: round 1 opens and both bound groups are told.
            plan_due(&st, start).await.unwrap();
            let round = store::current(&st.db).await.unwrap().unwrap();
            let closes = at(Shanghai, 2026, 5, 8, 9, 0);
            assert_eq!(
                (round.id, round.opens_at, round.closes_at),
                (1, start.timestamp(), closes.timestamp())
            );
            let rows = outbox_rows(&st.db).await;
            assert_eq!(rows.len(), 2);
            assert_eq!(
                (rows[0].0.as_str(), rows[0].1),
                ("round:1:announce:1", -101)
            );
            assert_eq!(
                (rows[1].0.as_str(), rows[1].1),
                ("round:1:announce:2", -102)
            );
            assert!(rows[0].2.contains("甲&lt;支部&gt;"), "{}", rows[0].2);
            let markup = rows[0].3.as_deref().unwrap();
            assert!(
                markup.contains("https://t.me/branchbot_test?start=t_AAAA"),
                "{markup}"
            );
            assert_eq!(rows[0].4, Some(closes.timestamp()));

            // Planning again changes nothing; the next look is the reminder.
            plan_due(&st, start).await.unwrap();
            assert_eq!(outbox_rows(&st.db).await.len(), 2);
            assert_eq!(
                next_due(&st, start).await.unwrap(),
                Some(at(Shanghai, 2026, 5, 7, 9, 0).timestamp())
            );

            // User 1 finished with 80, user 2 is in the middle, user 3 has not started.
            exec(
                &st.db,
                "INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, finished_at, status, question_count, correct_count, score)
                 VALUES (1, 1, 1, 0, 0, 1, 'finished', 20, 16, 80), (1, 2, 1, 0, 0, NULL, 'in_progress', 20, NULL, NULL)",
            )
            .await;
            let remind = at(Shanghai, 2026, 5, 7, 9, 0);
            plan_due(&st, remind).await.unwrap();
            let keys: Vec<String> = outbox_rows(&st.db)
                .await
                .into_iter()
                .map(|r| r.0)
                .skip(2)
                .collect();
            assert_eq!(keys, ["round:1:remind:2", "round:1:remind:3"]);
            let reminder = &outbox_rows(&st.db).await[2];
            assert_eq!((reminder.1, reminder.4), (2, Some(closes.timestamp())));
            assert!(reminder.3.as_deref().unwrap().contains("\"st\""));
            assert!(store::current(&st.db).await.unwrap().unwrap().reminded);
            plan_due(&st, remind).await.unwrap();
            assert_eq!(outbox_rows(&st.db).await.len(), 4);
            assert_eq!(
                next_due(&st, remind).await.unwrap(),
                Some(closes.timestamp())
            );

            // Closing: results to both groups, nothing personal; what was not sent is cancelled.
            exec(&st.db, "UPDATE attempts SET status = 'finished', finished_at = 2, score = 55 WHERE user_id = 2").await;
            plan_due(&st, closes).await.unwrap();
            assert!(store::current(&st.db).await.unwrap().is_none());
            let rows = outbox_rows(&st.db).await;
            let results: Vec<_> = rows.iter().filter(|r| r.0.contains(":result:")).collect();
            assert_eq!(results.len(), 2);
            assert_eq!(
                (results[0].0.as_str(), results[0].1),
                ("round:1:result:1", -101)
            );
            assert!(
                results[0].2.contains("2/2") && results[0].2.contains("67.5"),
                "{}",
                results[0].2
            );
            assert!(
                results[1].2.contains("无人完成") && results[1].2.contains("1 人"),
                "{}",
                results[1].2
            );
            assert!(rows
                .iter()
                .filter(|r| !r.0.contains(":result:"))
                .all(|r| r.5 == "skipped"));
            assert_eq!(
                outbox::status_of(&st.db, "round:1:result:2")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("pending")
            );

            // The next opening is the 16th.
            assert_eq!(
                next_due(&st, closes).await.unwrap(),
                Some(at(Shanghai, 2026, 5, 16, 9, 0).timestamp())
            );
        }

        #[tokio::test]
        async fn a_round_opened_by_hand_delays_a_calendar_opening_until_it_closes() {
            let by_hand = at(Shanghai, 2026, 5, 12, 10, 0);
            let st = state(by_hand).await;
            seed(&st.db).await;
            // Pretend round 1 of 1 May happened.
            exec(&st.db, "INSERT INTO rounds (opens_at, closes_at, status) VALUES (1777597200, 1778202000, 'closed')").await;
            let closes = closes_at(Shanghai, by_hand, 7);
            let (id, groups) = open_round(&st, by_hand, closes, Some(9))
                .await
                .unwrap()
                .unwrap();
            assert_eq!((id, groups), (2, 2));
            assert!(open_round(&st, by_hand, closes, Some(9))
                .await
                .unwrap()
                .is_none());

            // The 16th falls inside the hand-opened round: nothing opens then.
            let sixteenth = at(Shanghai, 2026, 5, 16, 9, 0);
            plan_due(&st, sixteenth).await.unwrap();
            assert_eq!(store::current(&st.db).await.unwrap().unwrap().id, 2);
            assert_eq!(
                next_due(&st, sixteenth).await.unwrap(),
                Some(at(Shanghai, 2026, 5, 18, 10, 0).timestamp())
            );

            // When it closes, the 16th opens late, keeping the 16th's closing time.
            plan_due(&st, closes).await.unwrap();
            let round = store::current(&st.db).await.unwrap().unwrap();
            assert_eq!(
                (round.id, round.opens_at, round.closes_at),
                (
                    3,
                    closes.timestamp(),
                    at(Shanghai, 2026, 5, 23, 9, 0).timestamp()
                )
            );
            assert_eq!(store::recent(&st.db, 5).await.unwrap().len(), 3);
        }

        #[tokio::test]
        async fn a_group_bound_during_a_round_is_told_once() {
            let now = at(Shanghai, 2026, 5, 3, 14, 0);
            let st = state(now).await;
            seed(&st.db).await;
            let (branch, _) = branches::bind(&st.db, -104, "丁支部", "学校", "DDDD", None, 0)
                .await
                .unwrap();
            assert!(
                !announce_open_round_to(&st, &branch, now).await.unwrap(),
                "no round open"
            );
            plan_due(&st, now).await.unwrap();
            assert_eq!(outbox_rows(&st.db).await.len(), 3);
            let (late, _) = branches::bind(&st.db, -105, "戊支部", "学校", "EEEE", None, 0)
                .await
                .unwrap();
            assert!(announce_open_round_to(&st, &late, now).await.unwrap());
            assert!(!announce_open_round_to(&st, &late, now).await.unwrap());
            let rows = outbox_rows(&st.db).await;
            assert_eq!(
                (rows[3].0.as_str(), rows[3].1),
                ("round:1:announce:5", -105)
            );
            assert!(rows[3].3.as_deref().unwrap().contains("start=t_EEEE"));
        }

        #[tokio::test]
        async fn an_opening_whose_window_passed_during_downtime_is_skipped() {
            let now = at(Shanghai, 2026, 5, 24, 9, 0);
            let st = state(now).await;
            seed(&st.db).await;
            exec(&st.db, "INSERT INTO rounds (opens_at, closes_at, status) VALUES (1777597200, 1778202000, 'closed')").await;
            plan_due(&st, now).await.unwrap();
            assert!(store::current(&st.db).await.unwrap().is_none());
            assert_eq!(
                next_due(&st, now).await.unwrap(),
                Some(at(Shanghai, 2026, 6, 1, 9, 0).timestamp())
            );
        }
    }
}
