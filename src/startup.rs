//! What happens once before the bot takes updates: the question bank from `questions/` is
//! validated and made the active bank, so a broken bank stops start-up instead of a test.
//!
//! An administrator's uploaded bank must not be undone by the next restart, and an operator's
//! edit of `questions/` must not be ignored either. The rule: **the most recent change wins**.
//! Start-up remembers a fingerprint of the files it loaded. If an upload was applied since and
//! the files are unchanged (same fingerprint), the upload stays the active bank; if the files
//! changed, they were edited after the upload, and they become the active bank. The files are
//! validated either way, so a broken `questions/` still stops start-up.

use crate::app::StartError;
use crate::error::AppResult;
use crate::questions::embedded;
use crate::questions::model::Question;
use crate::questions::toml_file::load_dir;
use crate::service::AppState;
use crate::storage::questions::replace_bank;
use crate::storage::rounds::uploads;
use crate::storage::Db;

pub async fn prepare(state: &AppState) -> Result<(), StartError> {
    let dir = &state.config.questions_dir;
    let use_embedded = !state.config.questions_dir_configured && !dir.exists();
    let (bank, label) = if use_embedded {
        (embedded::load(), embedded::LABEL.to_owned())
    } else {
        (load_dir(dir), dir.display().to_string())
    };
    let bank = bank.map_err(|errors| StartError::Bank {
        dir: label.clone(),
        report: errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    })?;
    tracing::info!(
        bank = %label,
        questions = bank.len(),
        "question bank files read{}",
        if use_embedded { " (no questions/ directory here: using the bank built into the binary)" } else { "" }
    );
    activate_bank(&state.db, &bank, state.now().timestamp()).await?;
    state.bank.reload(&state.db).await?;
    Ok(())
}

/// Which bank start-up made active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveBank {
    /// The files in `questions/`.
    Files,
    /// The applied upload with this id: the files have not changed since it was applied.
    Upload(i64),
}

/// Makes `files` (the validated `questions/` bank) or the latest applied upload active, by the
/// rule in the module doc.
pub async fn activate_bank(db: &Db, files: &[Question], now: i64) -> AppResult<ActiveBank> {
    let fingerprint = fingerprint(files);
    if let Some(source) = uploads::source(db).await? {
        // An empty fingerprint: the upload was applied before any start-up recorded the files.
        let files_unchanged =
            source.files_fingerprint == fingerprint || source.files_fingerprint.is_empty();
        if let (Some(id), true) = (source.upload_id, files_unchanged) {
            match uploaded_bank(db, id).await? {
                Some(bank) => {
                    let outcome = replace_bank(db, &bank, now).await?;
                    uploads::set_files_fingerprint(db, &fingerprint).await?;
                    tracing::info!(
                        upload = id,
                        questions = bank.len(),
                        changed = outcome.added + outcome.updated + outcome.retired,
                        "kept the uploaded question bank: questions/ has not changed since it was applied"
                    );
                    return Ok(ActiveBank::Upload(id));
                }
                None => tracing::warn!(
                    upload = id,
                    "the active uploaded bank is unreadable; loading questions/ instead"
                ),
            }
        } else if let Some(id) = source.upload_id {
            tracing::info!(
                upload = id,
                "questions/ changed since the last upload was applied; the files win"
            );
        }
    }
    let outcome = replace_bank(db, files, now).await?;
    uploads::set_files_active(db, &fingerprint, now).await?;
    tracing::info!(
        questions = files.len(),
        added = outcome.added,
        updated = outcome.updated,
        retired = outcome.retired,
        "question bank loaded from questions/"
    );
    Ok(ActiveBank::Files)
}

async fn uploaded_bank(db: &Db, id: i64) -> AppResult<Option<Vec<Question>>> {
    let Some(upload) = uploads::by_id(db, id).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&upload.questions).ok())
}

/// A stable fingerprint of a bank's content (FNV-1a over its JSON): the same files give the
/// same value on every start and every Rust version, unlike `DefaultHasher`.
pub fn fingerprint(bank: &[Question]) -> String {
    let json = serde_json::to_string(bank).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}-{}", bank.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::fixtures::statement as q;
    use crate::storage::{connect_memory, questions::active};

    async fn active_ids(db: &Db) -> Vec<String> {
        active(db)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.id)
            .collect()
    }

    async fn upload_and_apply(db: &Db, bank: &[Question], now: i64) -> i64 {
        let json = serde_json::to_string(bank).unwrap();
        let id = uploads::create(db, 7, "题库.xlsx", &json, now)
            .await
            .unwrap();
        assert!(uploads::claim_for_apply(db, id, 7, now).await.unwrap());
        replace_bank(db, bank, now).await.unwrap();
        id
    }

    #[tokio::test]
    async fn an_upload_survives_restarts_until_the_files_change() {
        let db = connect_memory().await.unwrap();
        let files = [q("f1", "一"), q("f2", "二")];
        assert_eq!(
            activate_bank(&db, &files, 1).await.unwrap(),
            ActiveBank::Files
        );
        assert_eq!(active_ids(&db).await, ["f1", "f2"]);

        let id = upload_and_apply(&db, &[q("u1", "上传")], 2).await;
        // Restart with the same files: the upload stays, twice over.
        assert_eq!(
            activate_bank(&db, &files, 3).await.unwrap(),
            ActiveBank::Upload(id)
        );
        assert_eq!(
            activate_bank(&db, &files, 4).await.unwrap(),
            ActiveBank::Upload(id)
        );
        assert_eq!(active_ids(&db).await, ["u1"]);

        // The operator edits questions/: the files are the newer change.
        let edited = [q("f1", "一"), q("f2", "二改")];
        assert_eq!(
            activate_bank(&db, &edited, 5).await.unwrap(),
            ActiveBank::Files
        );
        assert_eq!(active_ids(&db).await, ["f1", "f2"]);
        assert_eq!(
            activate_bank(&db, &edited, 6).await.unwrap(),
            ActiveBank::Files
        );
    }

    #[tokio::test]
    async fn an_upload_applied_before_any_start_up_is_kept() {
        let db = connect_memory().await.unwrap();
        let id = upload_and_apply(&db, &[q("u1", "上传")], 1).await;
        assert_eq!(
            activate_bank(&db, &[q("f1", "一")], 2).await.unwrap(),
            ActiveBank::Upload(id)
        );
        assert_eq!(active_ids(&db).await, ["u1"]);
        // From now on the files are known, and a change to them wins.
        assert_eq!(
            activate_bank(&db, &[q("f1", "改")], 3).await.unwrap(),
            ActiveBank::Files
        );
    }

    #[test]
    fn fingerprints_follow_content() {
        assert_eq!(fingerprint(&[q("a", "一")]), fingerprint(&[q("a", "一")]));
        assert_ne!(fingerprint(&[q("a", "一")]), fingerprint(&[q("a", "二")]));
        assert!(fingerprint(&[]).ends_with("-0"));
    }
}
