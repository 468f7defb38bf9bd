//! Reports in chat: /report for administrators (private) and for anyone in a branch group (that
//! branch only), /overdue for administrators.
//!
//! The data comes from `storage::reports` (aggregated in SQL); the renderings from `reports::*`.
//! Rendering the workbook and the chart is CPU work of a second or so for a large round, so it
//! runs on the blocking pool, away from the threads that serve other chats.

use teloxide::prelude::*;
use teloxide::types::{ChatAction, InputFile, InputMedia, InputMediaDocument, User};

use crate::config::Config;
use crate::domain::stats::Thresholds;
use crate::error::{AppError, AppResult};
use crate::reports::model::{ComplianceReport, RoundReport};
use crate::reports::{chart, csv, text, xlsx};
use crate::scheduler::local_date;
use crate::storage::branches;
use crate::storage::reports::{self as store, ReportOptions, RoundInfo};
use crate::telegram::roles::{require, Permission};
use crate::telegram::send;
use crate::telegram::AppState;
use crate::texts::common as common_texts;
use crate::texts::report_replies as texts;

/// Rounds in the trend chart and table, this one included.
pub const TREND_ROUNDS: u32 = 8;
/// Default period of `/overdue`, in days.
pub const DEFAULT_OVERDUE_DAYS: u32 = 90;
/// The longest period `/overdue` accepts: ten years covers any term.
pub const MAX_OVERDUE_DAYS: u32 = 3650;
/// Terms ending within this many days are listed as approaching: half a year leaves time for
/// the election steps (request, nomination, approval).
pub const APPROACHING_DAYS: u32 = 180;
/// A summary longer than this many messages is cut to its first message plus a file, so an
/// administrator of a thousand branches is not sent a wall of messages.
pub const MAX_SUMMARY_MESSAGES: usize = 3;
/// Telegram puts at most ten documents in one album.
const MAX_ALBUM: usize = 10;

/// How reports are made with this configuration; the command line uses the same.
pub fn report_options(config: &Config) -> ReportOptions {
    ReportOptions {
        pass_mark: config.pass_mark,
        timezone: config.timezone,
        trend_rounds: TREND_ROUNDS,
        thresholds: Thresholds::default(),
        round_label: texts::round_label,
    }
}

/// `/report [期次]` in private chat: the full report with files, administrators only.
pub async fn report_private(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    if require(bot, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let Some(round) = find_round(bot, chat, args, state).await? else {
        return Ok(());
    };
    if !store::has_submissions(&state.db, round.id).await? {
        return send::html(bot, chat, &text::empty_round(round.id))
            .await
            .map(drop);
    }
    // Purely cosmetic: a failure to show "sending a file…" must not stop the report.
    let _ = bot.send_chat_action(chat, ChatAction::UploadDocument).await;
    let report = store::round_report(&state.db, &round, &report_options(&state.config)).await?;
    let rendered = tokio::task::spawn_blocking(move || render_round(&report))
        .await
        .map_err(|e| AppError::Report(format!("rendering task failed: {e}")))??;
    send_round(bot, chat, round.id, rendered).await
}

/// `/report [期次]` in a branch group: that branch's participation and average only. Anyone in
/// the group may ask; nothing personal is read, let alone shown.
pub async fn report_group(
    bot: &Bot,
    msg: &Message,
    _user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    let branch = match branches::by_chat(&state.db, chat.0).await? {
        Some(branch) if branch.active => branch,
        _ => {
            return send::html(bot, chat, common_texts::NOT_BOUND)
                .await
                .map(drop)
        }
    };
    let Some(round) = find_round(bot, chat, args, state).await? else {
        return Ok(());
    };
    let report =
        store::branch_report(&state.db, &round, branch.id, &report_options(&state.config)).await?;
    send_parts(bot, chat, &text::branch_summary(&report, branch.id)).await
}

/// `/overdue [天数]`: the compliance report, administrators only.
pub async fn overdue(
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    if require(bot, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let Some(days) = parse_days(args) else {
        return send::html(
            bot,
            chat,
            &texts::overdue_usage(MAX_OVERDUE_DAYS, DEFAULT_OVERDUE_DAYS),
        )
        .await
        .map(drop);
    };
    let as_of = local_date(state.config.timezone, state.now());
    let report = store::compliance_report(
        &state.db,
        as_of,
        days,
        APPROACHING_DAYS,
        state.config.timezone,
    )
    .await?;
    let parts = text::compliance_summary(&report);
    let long = parts.len() > 1;
    send_summary(bot, chat, &parts).await?;
    if long {
        let workbook = tokio::task::spawn_blocking(move || compliance_file(&report))
            .await
            .map_err(|e| AppError::Report(format!("rendering task failed: {e}")))??;
        bot.send_document(chat, InputFile::memory(workbook.1).file_name(workbook.0))
            .caption(texts::COMPLIANCE_FILE_CAPTION)
            .await?;
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
    match ascii_digits(core)
        .parse::<i64>()
        .ok()
        .or_else(|| chinese_number(core))
    {
        Some(n) if n >= 1 => RoundArg::Number(n),
        _ => RoundArg::Invalid,
    }
}

/// A number written in Chinese numerals below ten thousand (三, 十二, 二十, 一百零五, 两百),
/// since rounds are named 第三期 in speech and in documents.
fn chinese_number(s: &str) -> Option<i64> {
    let digit = |c: char| match c {
        '两' => Some(2),
        _ => "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|d| d as i64),
    };
    let mut total = 0;
    let mut pending: Option<i64> = None;
    let mut last_unit = 10_000;
    // 一百五 is 150 in speech but 105 by the rule; refuse rather than guess.
    let mut after_big_unit = false;
    let mut previous_was_big_unit = false;
    for c in s.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '〇' | '零' => {
                pending = None;
                previous_was_big_unit = false;
                continue;
            }
            _ => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(digit(c)?);
                after_big_unit = previous_was_big_unit;
                previous_was_big_unit = false;
                continue;
            }
        };
        if unit >= last_unit {
            return None;
        }
        // 十二 means 12: a unit without a digit before it counts once.
        total += pending.take().unwrap_or(1) * unit;
        last_unit = unit;
        after_big_unit = false;
        previous_was_big_unit = unit >= 100;
    }
    if pending.is_some() && after_big_unit {
        return None;
    }
    let value = total + pending.unwrap_or(0);
    (!s.is_empty()).then_some(value)
}

/// `/overdue` days: empty means the default; a number from 1 to [`MAX_OVERDUE_DAYS`], with an
/// optional trailing 天.
pub fn parse_days(args: &str) -> Option<u32> {
    let args = args.trim();
    if args.is_empty() {
        return Some(DEFAULT_OVERDUE_DAYS);
    }
    let core = args.strip_suffix('天').unwrap_or(args).trim();
    ascii_digits(core)
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=MAX_OVERDUE_DAYS).contains(d))
}

/// Full-width digits (as Chinese input methods type them) as ASCII.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Resolves the round argument, replying (and returning `None`) when there is no such round.
async fn find_round(
    bot: &Bot,
    chat: ChatId,
    args: &str,
    state: &AppState,
) -> AppResult<Option<RoundInfo>> {
    let requested = match parse_round_arg(args) {
        RoundArg::Default => None,
        RoundArg::Number(n) => Some(n),
        RoundArg::Invalid => {
            send::html(bot, chat, &texts::report_usage()).await?;
            return Ok(None);
        }
    };
    let round = store::pick_round(&state.db, requested).await?;
    if round.is_none() {
        let reply = match requested {
            Some(n) => texts::no_such_round(n),
            None => texts::NO_ROUNDS.to_owned(),
        };
        send::html(bot, chat, &reply).await?;
    }
    Ok(round)
}

/// A round report rendered for sending.
#[derive(Debug)]
pub struct RenderedRound {
    pub summary: Vec<String>,
    pub workbook: Vec<u8>,
    pub csv_files: Vec<(String, Vec<u8>)>,
    pub chart: ChartOutcome,
}

#[derive(Debug)]
pub enum ChartOutcome {
    Png(Vec<u8>),
    /// Drawing failed; the rest of the report still goes out.
    Failed,
}

/// Every rendering of the round; CPU-bound, for the blocking pool.
pub fn render_round(report: &RoundReport) -> AppResult<RenderedRound> {
    let workbook =
        xlsx::round_workbook(report).map_err(|e| AppError::Report(format!("workbook: {e}")))?;
    let csv_files = csv::round_csv(report).map_err(|e| AppError::Report(format!("csv: {e}")))?;
    let chart = match chart::render_chart(report, &chart::ChartFonts::configured()) {
        Ok(png) => ChartOutcome::Png(png),
        Err(err) => {
            tracing::error!(error = %err, round = report.round_id, "chart rendering failed");
            ChartOutcome::Failed
        }
    };
    Ok(RenderedRound {
        summary: text::round_summary(report),
        workbook,
        csv_files,
        chart,
    })
}

fn compliance_file(report: &ComplianceReport) -> AppResult<(String, Vec<u8>)> {
    let bytes = xlsx::compliance_workbook(report)
        .map_err(|e| AppError::Report(format!("workbook: {e}")))?;
    Ok((texts::compliance_file_name(report.as_of), bytes))
}

/// Summary, workbook, CSV album, chart — in that order, so the text arrives first.
async fn send_round(
    bot: &Bot,
    chat: ChatId,
    round_id: i64,
    rendered: RenderedRound,
) -> AppResult<()> {
    if send_summary(bot, chat, &rendered.summary).await? {
        let page = summary_page(&texts::summary_title(round_id), &rendered.summary);
        bot.send_document(
            chat,
            InputFile::memory(page).file_name(texts::summary_file_name(round_id)),
        )
        .await?;
    }
    bot.send_document(
        chat,
        InputFile::memory(rendered.workbook).file_name(texts::workbook_file_name(round_id)),
    )
    .caption(texts::workbook_caption(round_id))
    .await?;
    send_album(bot, chat, rendered.csv_files, &texts::csv_caption(round_id)).await?;
    match rendered.chart {
        ChartOutcome::Png(png) => {
            bot.send_photo(
                chat,
                InputFile::memory(png).file_name(texts::chart_file_name(round_id)),
            )
            .caption(texts::chart_caption(round_id))
            .await?;
        }
        ChartOutcome::Failed => {
            send::html(bot, chat, texts::CHART_FAILED).await?;
        }
    }
    Ok(())
}

/// Sends a summary that is already split to Telegram's limit. Returns true when it was too long
/// and only its beginning went out: the caller then sends the whole of it as a file.
async fn send_summary(bot: &Bot, chat: ChatId, parts: &[String]) -> AppResult<bool> {
    let (shown, cut) = plan_summary(parts);
    send_parts(bot, chat, shown).await?;
    if cut {
        send::html(bot, chat, texts::SUMMARY_CUT).await?;
    }
    Ok(cut)
}

/// The messages to send and whether the summary was cut (see [`MAX_SUMMARY_MESSAGES`]).
pub fn plan_summary(parts: &[String]) -> (&[String], bool) {
    if parts.len() > MAX_SUMMARY_MESSAGES {
        (&parts[..1], true)
    } else {
        (parts, false)
    }
}

/// Each part is within Telegram's limit already; `send::html` adds the shared message options.
async fn send_parts(bot: &Bot, chat: ChatId, parts: &[String]) -> AppResult<()> {
    for part in parts {
        send::html(bot, chat, part).await?;
    }
    Ok(())
}

/// The summary as a web page: the message HTML is valid HTML already (only `<b>`, `<i>`,
/// `<code>` and escaped text), so it only needs a page around it that keeps its line breaks.
pub fn summary_page(title: &str, parts: &[String]) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"white-space: pre-wrap; font-family: sans-serif; max-width: 60em; margin: 2em auto\">\n{}\n</body>\n</html>\n",
        send::esc(title),
        parts.join("\n")
    )
    .into_bytes()
}

/// Files as document albums of up to ten, the caption under the first; a lone file goes as a
/// plain document (an album needs at least two).
async fn send_album(
    bot: &Bot,
    chat: ChatId,
    files: Vec<(String, Vec<u8>)>,
    caption: &str,
) -> AppResult<()> {
    let mut files = files.into_iter().peekable();
    let mut first = true;
    while files.peek().is_some() {
        let chunk: Vec<(String, Vec<u8>)> = files.by_ref().take(MAX_ALBUM).collect();
        let with_caption = |index: usize, doc: InputMediaDocument| {
            if first && index == 0 {
                doc.caption(caption)
            } else {
                doc
            }
        };
        if let [(name, bytes)] = chunk.as_slice() {
            let mut request = bot.send_document(
                chat,
                InputFile::memory(bytes.clone()).file_name(name.clone()),
            );
            if first {
                request = request.caption(caption);
            }
            request.await?;
        } else {
            let media: Vec<InputMedia> = chunk
                .into_iter()
                .enumerate()
                .map(|(i, (name, bytes))| {
                    InputMedia::Document(with_caption(
                        i,
                        InputMediaDocument::new(InputFile::memory(bytes).file_name(name)),
                    ))
                })
                .collect();
            bot.send_media_group(chat, media).await?;
        }
        first = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

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

    #[test]
    fn long_summaries_are_cut_to_their_first_message() {
        let parts: Vec<String> = (0..MAX_SUMMARY_MESSAGES)
            .map(|i| format!("part {i}"))
            .collect();
        assert_eq!(plan_summary(&parts), (&parts[..], false));
        let mut long = parts.clone();
        long.push("one too many".to_owned());
        assert_eq!(plan_summary(&long), (&long[..1], true));
    }

    #[test]
    fn the_summary_page_keeps_the_message_html() {
        let page = String::from_utf8(summary_page(
            "第 3 期 <报告>",
            &["<b>标题</b>".to_owned(), "a &amp; b".to_owned()],
        ))
        .unwrap_or_default();
        assert!(page.contains("<title>第 3 期 &lt;报告&gt;</title>"));
        assert!(page.contains("<b>标题</b>\na &amp; b"));
        assert!(page.contains("charset=\"utf-8\""));
    }

    #[test]
    fn the_compliance_file_is_a_named_workbook() {
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default();
        let report = ComplianceReport {
            as_of,
            period_start: as_of,
            period_end: as_of,
            overdue_elections: Vec::new(),
            approaching_elections: Vec::new(),
            missed_meetings: Vec::new(),
        };
        let (name, bytes) = compliance_file(&report).unwrap();
        assert_eq!(name, texts::compliance_file_name(as_of));
        assert!(name.ends_with("2026-03-15.xlsx"));
        assert!(bytes.starts_with(b"PK"));
    }

    #[test]
    fn a_large_round_renders_a_split_summary_and_every_file() {
        use crate::reports::model::{BranchRow, TraineeRow};
        // 300 branches: the branch list alone runs past one message.
        let branches: Vec<BranchRow> = (0..300)
            .map(|i| BranchRow::from_scores(i, format!("第{i}党支部"), "社区", 10, &[70, 50], 60))
            .collect();
        let trainees: Vec<TraineeRow> = (0..600)
            .map(|i| TraineeRow {
                branch: format!("第{}党支部", i / 2),
                name: format!("学员{i}"),
                score: if i % 2 == 0 { 70 } else { 50 },
                correct: 10,
                total: 20,
                outcome: crate::reports::model::AttemptOutcome::Finished,
                finished_at: None,
                seconds_taken: Some(300),
            })
            .collect();
        let at = NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        let report = RoundReport {
            round_id: 3,
            opens_at: at,
            closes_at: at,
            closed: true,
            pass_mark: 60,
            branches,
            trainees,
            non_participants: Vec::new(),
            questions: Vec::new(),
            categories: Vec::new(),
            reliability: None,
            trend: Vec::new(),
        };
        let rendered = render_round(&report).unwrap();
        assert!(rendered.summary.len() > 1);
        assert!(rendered
            .summary
            .iter()
            .all(|p| p.chars().count() <= text::TELEGRAM_TEXT_LIMIT));
        let (shown, cut) = plan_summary(&rendered.summary);
        assert!(cut && shown.len() == 1);
        assert!(rendered.workbook.starts_with(b"PK"));
        assert_eq!(rendered.csv_files.len(), report.tables().len());
    }
}
