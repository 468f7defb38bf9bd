//! The question bank: the model, and loading it from TOML files or an Excel sheet with validation.
//!
//! # Layout
//! - `model`: the validated [`model::Question`] everyone else uses.
//! - `toml_file`: `questions/*.toml` (the hand-edited format, see `questions/FORMAT.md`),
//!   loading a directory and writing questions back as TOML.
//! - `xlsx`: the same bank as an Excel sheet, for uploads.
//! - `validate` (private): the rules both formats share, and the limits below.
//! - `summary`: counts and the Chinese replies for chat and the command line.
//! - `lint`: item-writing checks (cues such as "the longest option is the answer"), reported
//!   as warnings; `similarity`: the near-duplicate measure the checks and the draw share;
//!   `cue_stats`: the cue figures `questions check --stats` prints.
//!
//! Every loader reports all problems it finds, each with file, line (or Excel row) and a
//! Chinese sentence, and returns questions only when there is none.

pub mod cue_stats;
pub mod embedded;
pub mod lint;
pub mod model;
pub mod similarity;
pub mod toml_file;
pub mod xlsx;

mod error;
mod summary;
mod validate;

#[cfg(test)]
mod lint_tests;
#[cfg(test)]
mod tests;

pub use cue_stats::{cue_stats, render_stats, CueStats, Share, WordStats};
pub use error::{BankError, BankFormat, ErrorKind};
pub use lint::{lint, LintWarning, WarningKind};
pub use summary::{
    check_bank, check_dir_report, render_errors, render_summary, render_upload_result,
    render_warnings, summarize, upload_warnings, BankSummary, CheckOptions, MAX_ERRORS_SHOWN,
};
pub use toml_file::{load_dir, load_sources, parse_toml, to_toml};
pub use validate::{
    question_message_len, review_message_len, MAX_CATEGORY_CHARS, MAX_EXPLANATION_CHARS,
    MAX_ID_CHARS, MAX_OPTIONS, MAX_OPTION_CHARS, MAX_SOURCE_CHARS, MAX_TEXT_CHARS,
    MESSAGE_HEADER_RESERVE, MIN_OPTIONS, REVIEW_EXTRA_RESERVE, SOURCE_DOCUMENTS,
    TELEGRAM_MESSAGE_LIMIT,
};
pub use xlsx::parse_xlsx;

use model::Question;

/// Parses a bank uploaded in chat, choosing the format by the file name's extension.
pub fn parse_upload(file_name: &str, bytes: &[u8]) -> Result<Vec<Question>, Vec<BankError>> {
    let lower = file_name.to_lowercase();
    if lower.ends_with(".xlsx") {
        return parse_xlsx(file_name, bytes);
    }
    let unsupported = |kind, message| {
        Err(vec![BankError::new(
            file_name,
            0,
            BankFormat::Toml,
            kind,
            message,
        )])
    };
    if !lower.ends_with(".toml") {
        return unsupported(
            ErrorKind::UnsupportedFile,
            crate::texts::questions::unsupported_upload(),
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(content) => parse_toml(file_name, content),
        Err(_) => unsupported(ErrorKind::NotUtf8, crate::texts::questions::not_utf8()),
    }
}
