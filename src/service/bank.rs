//! The question bank from chat: what is active, checking an uploaded bank, and applying or
//! discarding it.
//!
//! An upload is checked completely before anything changes; a valid one waits in
//! `pending_uploads` until the administrator who sent it confirms, and only the newest upload
//! can be confirmed, once. Confirming replaces the whole active bank (questions that left it
//! are retired, never deleted) and makes the upload the bank's source, which start-up keeps
//! until the files in `questions/` change (see `startup`).

use std::collections::{HashMap, HashSet};

use crate::domain::stats::Thresholds;
use crate::reports::model::QuestionRow;

use crate::error::{AppError, AppResult};
use crate::questions::model::Question;
use crate::questions::{parse_upload, BankError};
use crate::service::AppState;
use crate::storage::questions::{self as store, replace_bank, SyncOutcome};
use crate::storage::rounds::uploads::{self, Upload};

/// Telegram lets bots download up to 20 MB; a question bank is a few hundred KB at most.
pub const MAX_UPLOAD_BYTES: u32 = 5 * 1024 * 1024;

/// How an uploaded bank differs from the active one, by question id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BankDiff {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Active questions the upload does not have: they would be retired.
    pub retired: usize,
}

pub fn diff_banks(active: &[Question], upload: &[Question]) -> BankDiff {
    let by_id: HashMap<&str, &Question> = active.iter().map(|q| (q.id.as_str(), q)).collect();
    let mut diff = BankDiff::default();
    for q in upload {
        match by_id.get(q.id.as_str()) {
            None => diff.added += 1,
            Some(old) if *old == q => diff.unchanged += 1,
            Some(_) => diff.changed += 1,
        }
    }
    let kept = upload.len() - diff.added;
    diff.retired = active.len().saturating_sub(kept);
    diff
}

/// Whether a file name is one the bank accepts: `.toml` or `.xlsx`.
pub fn accepted_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    lower.ends_with(".toml") || lower.ends_with(".xlsx")
}

/// The active bank and the upload it came from, if any.
pub struct Active {
    pub questions: Vec<Question>,
    pub upload: Option<Upload>,
}

pub async fn active(state: &AppState) -> AppResult<Active> {
    let questions = store::active(&state.db).await?;
    let upload = match uploads::source(&state.db).await?.and_then(|s| s.upload_id) {
        Some(id) => uploads::by_id(&state.db, id).await?,
        None => None,
    };
    Ok(Active { questions, upload })
}

/// The active questions the latest closed round's analysis flags (too easy, too hard,
/// misleading), with their figures, so the bank's owner sees which to rewrite.
#[derive(Debug, Clone, PartialEq)]
pub struct Flagged {
    pub round_id: i64,
    pub rows: Vec<QuestionRow>,
    /// Answers a question needs before it can be flagged at all.
    pub min_answers: usize,
}

/// `None` before any round has closed or when it had no answers.
pub async fn flagged(state: &AppState, active: &[Question]) -> AppResult<Option<Flagged>> {
    let Some(round) = crate::storage::reports::pick_round(&state.db, None).await? else {
        return Ok(None);
    };
    if !round.closed {
        return Ok(None);
    }
    let thresholds = Thresholds::default();
    let rows = crate::storage::reports::question_analysis(&state.db, round.id, &thresholds).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let ids: HashSet<&str> = active.iter().map(|q| q.id.as_str()).collect();
    let rows = crate::reports::bank_review::flagged_active(&rows, &ids)
        .into_iter()
        .cloned()
        .collect();
    Ok(Some(Flagged {
        round_id: round.id,
        rows,
        min_answers: thresholds.min_answers,
    }))
}

/// A checked upload waiting for its sender's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub upload_id: i64,
    pub questions: Vec<Question>,
    pub diff: BankDiff,
    /// Questions a running test uses that the upload would change in kind or option count.
    pub reshaped_in_use: Vec<String>,
}

/// Checks an uploaded bank file and, when valid, keeps it pending for confirmation.
pub async fn check_upload(
    state: &AppState,
    admin: i64,
    name: &str,
    bytes: &[u8],
) -> AppResult<Result<Checked, Vec<BankError>>> {
    let questions = match parse_upload(name, bytes) {
        Ok(questions) => questions,
        Err(errors) => return Ok(Err(errors)),
    };
    let active = store::active(&state.db).await?;
    let diff = diff_banks(&active, &questions);
    let json = serde_json::to_string(&questions).map_err(|e| AppError::Bank(e.to_string()))?;
    let upload_id = uploads::create(&state.db, admin, name, &json, state.now().timestamp()).await?;
    tracing::info!(
        upload = upload_id,
        admin,
        questions = questions.len(),
        "question bank uploaded, awaiting confirmation"
    );
    let reshaped_in_use = store::reshaped_in_use(&state.db, &questions).await?;
    Ok(Ok(Checked {
        upload_id,
        questions,
        diff,
        reshaped_in_use,
    }))
}

/// Why a confirm or cancel button does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Gone,
    NotYours,
    DoneAlready,
    /// Only the newest upload can be applied.
    NotNewest,
    /// Tests that started since the check use questions the upload would reshape; the upload
    /// stays pending, so the same button works once those tests are over.
    InUse(Vec<String>),
}

/// What a confirm or cancel button did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Applied { outcome: SyncOutcome, total: usize },
    Cancelled,
}

/// Applies (`confirm`) or discards the pending upload `id` for the administrator who sent it.
pub async fn decide(
    state: &AppState,
    admin: i64,
    id: i64,
    confirm: bool,
) -> AppResult<Result<Decision, Refusal>> {
    let Some(upload) = uploads::by_id(&state.db, id).await? else {
        return Ok(Err(Refusal::Gone));
    };
    if upload.admin_id != admin {
        return Ok(Err(Refusal::NotYours));
    }
    if upload.applied_at.is_some() || upload.cancelled_at.is_some() {
        return Ok(Err(Refusal::DoneAlready));
    }
    let now = state.now().timestamp();
    if !confirm {
        if !uploads::cancel(&state.db, id, admin, now).await? {
            return Ok(Err(Refusal::DoneAlready));
        }
        return Ok(Ok(Decision::Cancelled));
    }
    if uploads::newest_id(&state.db).await? != Some(id) {
        return Ok(Err(Refusal::NotNewest));
    }
    let questions: Vec<Question> = serde_json::from_str(&upload.questions)
        .map_err(|e| AppError::Bank(format!("upload {id}: {e}")))?;
    // Checked again now: tests may have started since the upload was checked.
    let reshaped = store::reshaped_in_use(&state.db, &questions).await?;
    if !reshaped.is_empty() {
        return Ok(Err(Refusal::InUse(reshaped)));
    }
    if !uploads::claim_for_apply(&state.db, id, admin, now).await? {
        return Ok(Err(Refusal::DoneAlready));
    }
    let outcome = replace_bank(&state.db, &questions, now).await?;
    state.bank.reload(&state.db).await?;
    tracing::info!(
        upload = id,
        admin,
        added = outcome.added,
        updated = outcome.updated,
        retired = outcome.retired,
        "uploaded question bank applied"
    );
    Ok(Ok(Decision::Applied {
        outcome,
        total: questions.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::fixtures::statement as q;

    #[test]
    fn an_upload_is_compared_by_id_and_content() {
        let active = [q("a", "一"), q("b", "二"), q("c", "三")];
        let upload = [q("a", "一"), q("b", "改"), q("d", "四")];
        assert_eq!(
            diff_banks(&active, &upload),
            BankDiff {
                added: 1,
                changed: 1,
                unchanged: 1,
                retired: 1
            }
        );
        assert_eq!(
            diff_banks(&[], &upload),
            BankDiff {
                added: 3,
                ..BankDiff::default()
            }
        );
        assert_eq!(
            diff_banks(&active, &[]),
            BankDiff {
                retired: 3,
                ..BankDiff::default()
            }
        );
    }

    #[test]
    fn only_toml_and_xlsx_files_are_accepted() {
        for ok in ["题库.toml", "BANK.XLSX", " a.xlsx "] {
            assert!(accepted_name(ok), "{ok}");
        }
        for bad in ["题库.xls", "bank.csv", "bank.toml.exe", "xlsx", ""] {
            assert!(!accepted_name(bad), "{bad}");
        }
    }
}
