//! Reports in chat: /report for administrators (private) and for anyone in a branch group (that
//! branch only), /overdue for administrators.
//!
//! The data comes from `storage::reports` (aggregated in SQL); the renderings from `reports::*`.
//! Rendering the workbook and the chart is CPU work of a second or so for a large round, so it
//! runs on the blocking pool, away from the threads that serve other chats.

use crate::chat::roles::{require, Permission};
use crate::chat::{send, Door, Incoming, OutFile, Person};
use crate::domain::numbers::parse_count;
use crate::error::{AppError, AppResult};
use crate::reports::render::{self, plan_summary, summary_page, ChartOutcome, RenderedRound};
use crate::reports::text;
use crate::service::reports::{self as service, Picked};
use crate::service::AppState;
use crate::storage::branches;
use crate::storage::reports::RoundInfo;
use crate::texts::common as common_texts;
use crate::texts::report_replies as texts;

/// Default period of `/overdue`, in days.
pub const DEFAULT_OVERDUE_DAYS: u32 = 90;
/// The longest period `/overdue` accepts: ten years covers any term.
pub const MAX_OVERDUE_DAYS: u32 = 3650;

/// `/report [期次]` in private chat: the full report with files, administrators only.
pub async fn report_private(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    let Some(caller) = require(door, state, msg, user, Permission::Administer).await? else {
        return Ok(());
    };
    let Some(round) = find_round(door, chat, args, state).await? else {
        return Ok(());
    };
    // Purely cosmetic: a failure to show "sending a file…" must not stop the report.
    door.show_working(chat).await;
    // Only the caller's subtree is read at all, so nothing else can reach a file or a line.
    let viewer = caller.viewer(state).await?;
    let Some(report) = service::round_report(state, &round, &viewer).await? else {
        return send::html(door, chat, &text::empty_round(round.id))
            .await
            .map(drop);
    };
    let rendered = tokio::task::spawn_blocking(move || render::render_round(&report))
        .await
        .map_err(|e| AppError::Report(format!("rendering task failed: {e}")))??;
    send_round(door, chat, round.id, rendered).await
}

/// `/report [期次]` in a branch group: that branch's participation and average only. Anyone in
/// the group may ask; nothing personal is read, let alone shown.
pub async fn report_group(
    door: &dyn Door,
    msg: &Incoming,
    _user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    let branch = match branches::by_chat(&state.db, chat).await? {
        Some(branch) if branch.active => branch,
        _ => {
            return send::html(door, chat, common_texts::NOT_BOUND)
                .await
                .map(drop)
        }
    };
    let Some(round) = find_round(door, chat, args, state).await? else {
        return Ok(());
    };
    let report = service::branch_report(state, &round, branch.id).await?;
    send_parts(door, chat, &text::branch_summary(&report, branch.id)).await
}

/// `/overdue [天数]`: the compliance report, administrators only.
pub async fn overdue(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    let Some(caller) = require(door, state, msg, user, Permission::Administer).await? else {
        return Ok(());
    };
    let Some(days) = parse_days(args) else {
        let usage = texts::overdue_usage(MAX_OVERDUE_DAYS, DEFAULT_OVERDUE_DAYS);
        return send::html(door, chat, &usage).await.map(drop);
    };
    let viewer = caller.viewer(state).await?;
    let report = service::compliance(state, days, &viewer).await?;
    let parts = text::compliance_summary(&report);
    let long = parts.len() > 1;
    send_summary(door, chat, &parts).await?;
    if let Some(section) = super::roster::overdue_section(state, &viewer).await? {
        send::html(door, chat, &section).await?;
    }
    if long {
        let (name, bytes) = tokio::task::spawn_blocking(move || render::compliance_file(&report))
            .await
            .map_err(|e| AppError::Report(format!("rendering task failed: {e}")))??;
        let file = OutFile {
            name,
            bytes,
            caption: Some(texts::COMPLIANCE_FILE_CAPTION.to_owned()),
        };
        door.send_files(chat, vec![file]).await?;
    }
    Ok(())
}

/// What `/report` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundArg {
    /// No number: the default round.
    Default,
    Number(i64),
    Invalid,
}

/// Accepts `3`, `第3期`, `第 3 期`, full-width digits and Chinese numerals (`第三期`); anything
/// else is invalid.
pub fn parse_round_arg(args: &str) -> RoundArg {
    let args = args.trim();
    if args.is_empty() {
        return RoundArg::Default;
    }
    let core = args.strip_prefix('第').unwrap_or(args);
    let core = core.strip_suffix('期').unwrap_or(core).trim();
    match parse_count(core) {
        Some(n) if n >= 1 => RoundArg::Number(n),
        _ => RoundArg::Invalid,
    }
}

/// `/overdue` days: empty means the default; a number from 1 to [`MAX_OVERDUE_DAYS`], with an
/// optional trailing 天.
pub fn parse_days(args: &str) -> Option<u32> {
    let args = args.trim();
    if args.is_empty() {
        return Some(DEFAULT_OVERDUE_DAYS);
    }
    let core = args.strip_suffix('天').unwrap_or(args).trim();
    parse_count(core)
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| (1..=MAX_OVERDUE_DAYS).contains(d))
}

/// Resolves the round argument, replying (and returning `None`) when there is no such round.
async fn find_round(
    door: &dyn Door,
    chat: i64,
    args: &str,
    state: &AppState,
) -> AppResult<Option<RoundInfo>> {
    let requested = match parse_round_arg(args) {
        RoundArg::Default => None,
        RoundArg::Number(n) => Some(n),
        RoundArg::Invalid => {
            send::html(door, chat, &texts::report_usage()).await?;
            return Ok(None);
        }
    };
    let reply = match service::pick_round(state, requested).await? {
        Picked::Round(round) => return Ok(Some(round)),
        Picked::NoSuchRound(n) => texts::no_such_round(n),
        Picked::NoRoundsYet => texts::NO_ROUNDS.to_owned(),
    };
    send::html(door, chat, &reply).await?;
    Ok(None)
}

/// Summary, workbook, CSV album, chart — in that order, so the text arrives first.
async fn send_round(
    door: &dyn Door,
    chat: i64,
    round_id: i64,
    rendered: RenderedRound,
) -> AppResult<()> {
    if send_summary(door, chat, &rendered.summary).await? {
        let page = summary_page(&texts::summary_title(round_id), &rendered.summary);
        let file = OutFile {
            name: texts::summary_file_name(round_id),
            bytes: page,
            caption: None,
        };
        door.send_files(chat, vec![file]).await?;
    }
    let workbook = OutFile {
        name: texts::workbook_file_name(round_id),
        bytes: rendered.workbook,
        caption: Some(texts::workbook_caption(round_id)),
    };
    door.send_files(chat, vec![workbook]).await?;
    let caption = texts::csv_caption(round_id);
    let csv_files: Vec<OutFile> = rendered
        .csv_files
        .into_iter()
        .enumerate()
        .map(|(i, (name, bytes))| OutFile {
            name,
            bytes,
            caption: (i == 0).then(|| caption.clone()),
        })
        .collect();
    door.send_files(chat, csv_files).await?;
    match rendered.chart {
        ChartOutcome::Png(png) => {
            let chart = OutFile {
                name: texts::chart_file_name(round_id),
                bytes: png,
                caption: Some(texts::chart_caption(round_id)),
            };
            door.send_picture(chat, chart).await?;
        }
        ChartOutcome::Failed => {
            send::html(door, chat, texts::CHART_FAILED).await?;
        }
    }
    Ok(())
}

/// Sends a summary that is already split to Telegram's limit. Returns true when it was too long
/// and only its beginning went out: the caller then sends the whole of it as a file.
async fn send_summary(door: &dyn Door, chat: i64, parts: &[String]) -> AppResult<bool> {
    let (shown, cut) = plan_summary(parts);
    send_parts(door, chat, shown).await?;
    if cut {
        send::html(door, chat, texts::SUMMARY_CUT).await?;
    }
    Ok(cut)
}

/// Each part is within Telegram's limit already.
async fn send_parts(door: &dyn Door, chat: i64, parts: &[String]) -> AppResult<()> {
    for part in parts {
        send::html(door, chat, part).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_arguments() {
        assert_eq!(parse_round_arg(""), RoundArg::Default);
        assert_eq!(parse_round_arg(" 3 "), RoundArg::Number(3));
        assert_eq!(parse_round_arg("第12期"), RoundArg::Number(12));
        assert_eq!(parse_round_arg("第 ７ 期"), RoundArg::Number(7));
        for (chinese, n) in [
            ("三", 3),
            ("第三期", 3),
            ("十", 10),
            ("第十二期", 12),
            ("二十", 20),
            ("二十三", 23),
            ("一百零五", 105),
            ("两百", 200),
            ("一千零一", 1001),
            ("一百一十", 110),
        ] {
            assert_eq!(parse_round_arg(chinese), RoundArg::Number(n), "{chinese}");
        }
        assert_eq!(parse_round_arg("零"), RoundArg::Invalid);
        for bad in [
            "abc",
            "0",
            "-1",
            "3.5",
            "第期",
            "99999999999999999999",
            "三四",
            "十十",
            "第三十期期",
            "一百五",
            "三两",
        ] {
            assert_eq!(parse_round_arg(bad), RoundArg::Invalid, "{bad}");
        }
    }

    #[test]
    fn day_arguments() {
        assert_eq!(parse_days(""), Some(DEFAULT_OVERDUE_DAYS));
        assert_eq!(parse_days("30"), Some(30));
        assert_eq!(parse_days("３０天"), Some(30));
        for bad in ["0", "3651", "-5", "abc", "1.5"] {
            assert_eq!(parse_days(bad), None, "{bad}");
        }
    }
}
