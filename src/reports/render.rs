//! A round report or compliance report rendered for sending: the summary messages, the Excel
//! workbook, the CSV files and the chart. CPU-bound; callers run it on the blocking pool.

use crate::error::{AppError, AppResult};
use crate::reports::model::{ComplianceReport, RoundReport};
use crate::reports::{chart, csv, text, xlsx};
use crate::texts::report_replies as texts;

/// A summary longer than this many messages is cut to its first message plus a file, so an
/// administrator of a thousand branches is not sent a wall of messages.
pub const MAX_SUMMARY_MESSAGES: usize = 3;

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

/// The compliance report as a named workbook.
pub fn compliance_file(report: &ComplianceReport) -> AppResult<(String, Vec<u8>)> {
    let bytes = xlsx::compliance_workbook(report)
        .map_err(|e| AppError::Report(format!("workbook: {e}")))?;
    Ok((texts::compliance_file_name(report.as_of), bytes))
}

/// The messages to send and whether the summary was cut (see [`MAX_SUMMARY_MESSAGES`]).
pub fn plan_summary(parts: &[String]) -> (&[String], bool) {
    if parts.len() > MAX_SUMMARY_MESSAGES {
        (&parts[..1], true)
    } else {
        (parts, false)
    }
}

/// The summary as a web page: the message HTML is valid HTML already (only `<b>`, `<i>`,
/// `<code>` and escaped text), so it only needs a page around it that keeps its line breaks.
pub fn summary_page(title: &str, parts: &[String]) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"white-space: pre-wrap; font-family: sans-serif; max-width: 60em; margin: 2em auto\">\n{}\n</body>\n</html>\n",
        crate::texts::esc(title),
        parts.join("\n")
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

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
            orgs: Vec::new(),
            kinds: Vec::new(),
            round_id: 3,
            opens_at: at,
            closes_at: at,
            closed: true,
            pass_mark: 60,
            branches,
            trainees,
            non_participants: Vec::new(),
            never_joined: Vec::new(),
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
