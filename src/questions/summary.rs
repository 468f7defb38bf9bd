//! What an administrator is told after a bank is checked: counts when it is good, the
//! errors when it is not, short enough for one Telegram message.

use std::path::Path;

use super::cue_stats::{cue_stats, render_stats};
use super::error::{BankError, BankFormat, ErrorKind};
use super::lint::{lint, LintWarning};
use super::model::{Question, QuestionKind};
use super::toml_file::load_dir;
use super::validate::TELEGRAM_MESSAGE_LIMIT;
use crate::texts::lint as lint_texts;
use crate::texts::questions as texts;

/// Errors shown in a chat reply; the rest are only counted.
pub const MAX_ERRORS_SHOWN: usize = 30;
/// Categories named in a summary; a bank with more is summarised with a count.
const MAX_CATEGORIES_SHOWN: usize = 40;
/// Room kept free in a reply for the caller's own first line.
const REPLY_RESERVE: usize = 300;

/// Counts of a bank, for the reply after an upload and for `questions check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankSummary {
    pub total: usize,
    /// Always all three kinds, in the order 单选, 多选, 判断, zero counts included.
    pub by_kind: Vec<(QuestionKind, usize)>,
    /// In order of first appearance in the bank, which is the order the editor wrote.
    pub by_category: Vec<(String, usize)>,
}

pub fn summarize(questions: &[Question]) -> BankSummary {
    let by_kind = [
        QuestionKind::Single,
        QuestionKind::Multiple,
        QuestionKind::TrueFalse,
    ]
    .into_iter()
    .map(|kind| (kind, questions.iter().filter(|q| q.kind == kind).count()))
    .collect();
    let mut by_category: Vec<(String, usize)> = Vec::new();
    for question in questions {
        match by_category
            .iter_mut()
            .find(|(name, _)| *name == question.category)
        {
            Some((_, count)) => *count += 1,
            None => by_category.push((question.category.clone(), 1)),
        }
    }
    BankSummary {
        total: questions.len(),
        by_kind,
        by_category,
    }
}

/// The summary in three lines: total, by kind, by category.
pub fn render_summary(summary: &BankSummary) -> String {
    let kinds: Vec<String> = summary
        .by_kind
        .iter()
        .map(|(kind, count)| texts::kind_count(kind.label(), *count))
        .collect();
    let mut categories: Vec<String> = summary
        .by_category
        .iter()
        .take(MAX_CATEGORIES_SHOWN)
        .map(|(name, count)| texts::category_count(name, *count))
        .collect();
    let hidden = summary
        .by_category
        .len()
        .saturating_sub(MAX_CATEGORIES_SHOWN);
    if hidden > 0 {
        categories.push(texts::more_categories(hidden));
    }
    [
        texts::summary_total(summary.total),
        texts::summary_by_kind(&kinds.join(texts::LIST_SEPARATOR)),
        texts::summary_by_category(&categories.join(texts::LIST_SEPARATOR)),
    ]
    .join("\n")
}

/// The errors one per line for a chat reply: at most `MAX_ERRORS_SHOWN`, and never more
/// than fits in one message, followed by how many were left out.
pub fn render_errors(errors: &[BankError]) -> String {
    let budget = TELEGRAM_MESSAGE_LIMIT - REPLY_RESERVE;
    let mut out = texts::errors_title(errors.len());
    let mut shown = 0;
    for error in errors.iter().take(MAX_ERRORS_SHOWN) {
        let line = format!("\n{error}");
        if utf16_len(&out) + utf16_len(&line) > budget {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < errors.len() {
        out.push('\n');
        out.push_str(&texts::more_errors(errors.len() - shown));
    }
    out
}

/// The reply to an uploaded bank: the summary when it is valid, the errors otherwise.
pub fn render_upload_result(result: &Result<Vec<Question>, Vec<BankError>>) -> String {
    match result {
        Ok(questions) => format!(
            "{}\n{}",
            texts::upload_passed(),
            render_summary(&summarize(questions))
        ),
        Err(errors) => format!("{}\n{}", texts::upload_failed(), render_errors(errors)),
    }
}

/// What `branchbot questions check` does besides validating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Item-writing warnings fail the check (for CI).
    pub strict: bool,
    /// Print the cue statistics of a valid bank.
    pub stats: bool,
}

/// [`check_bank`] with the default options: warnings are printed but do not fail.
pub fn check_dir_report(dir: &Path) -> (bool, String) {
    check_bank(dir, CheckOptions::default())
}

/// For `branchbot questions check [DIR]`: whether the bank passes, and what to print (the
/// summary and every item-writing warning, or every error one per line — a terminal has no
/// length limit). `dir` may also be one `.toml` or `.xlsx` file, checked as an upload would
/// be, so a sheet can be checked on the server before it is sent to the bot.
pub fn check_bank(dir: &Path, options: CheckOptions) -> (bool, String) {
    let result = if dir.is_file() {
        let name = dir.display().to_string();
        match std::fs::read(dir) {
            Ok(bytes) => super::parse_upload(&name, &bytes),
            Err(err) => Err(vec![BankError::new(
                &name,
                0,
                BankFormat::Toml,
                ErrorKind::Io,
                texts::read_failed(&err.to_string()),
            )]),
        }
    } else {
        load_dir(dir)
    };
    let questions = match result {
        Ok(questions) => questions,
        Err(errors) => {
            let mut out: Vec<String> = errors.iter().map(ToString::to_string).collect();
            out.push(texts::check_failed(errors.len()));
            return (false, out.join("\n"));
        }
    };
    let warnings = lint(&questions);
    let mut out = vec![
        texts::check_passed(),
        render_summary(&summarize(&questions)),
    ];
    if !warnings.is_empty() {
        out.push(lint_texts::warnings_title(warnings.len()));
        out.extend(warnings.iter().map(ToString::to_string));
    }
    if options.stats {
        out.push(render_stats(&cue_stats(&questions)));
    }
    let failed = options.strict && !warnings.is_empty();
    if failed {
        out.push(lint_texts::strict_failed(warnings.len()));
    }
    (!failed, out.join("\n"))
}

/// The item-writing warnings of an uploaded bank, to append to a reply that already holds
/// `reply_so_far`; cut to fit the rest of the message. None when the bank has no cue.
pub fn upload_warnings(questions: &[Question], reply_so_far: &str) -> Option<String> {
    let warnings = lint(questions);
    let budget = TELEGRAM_MESSAGE_LIMIT.saturating_sub(utf16_len(reply_so_far) + REPLY_RESERVE);
    (!warnings.is_empty()).then(|| render_warnings(&warnings, budget))
}

/// The item-writing warnings for a chat reply, cut like [`render_errors`] to fit one
/// message with room left for the rest of the reply; empty when there are none.
pub fn render_warnings(warnings: &[LintWarning], budget: usize) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = lint_texts::warnings_title(warnings.len());
    let mut shown = 0;
    for warning in warnings.iter().take(MAX_ERRORS_SHOWN) {
        let line = format!("\n{warning}");
        if utf16_len(&out) + utf16_len(&line) > budget {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < warnings.len() {
        out.push('\n');
        out.push_str(&lint_texts::more_warnings(warnings.len() - shown));
    }
    out
}

pub(crate) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}
