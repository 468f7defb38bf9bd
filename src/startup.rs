//! What happens once before the bot takes updates: the question bank from `questions/` is
//! validated and made the active bank, so a broken bank stops start-up instead of a test.

use crate::app::StartError;
use crate::questions::toml_file::load_dir;
use crate::storage::questions::replace_bank;
use crate::telegram::AppState;

pub async fn prepare(state: &AppState) -> Result<(), StartError> {
    let dir = &state.config.questions_dir;
    let bank = load_dir(dir).map_err(|errors| StartError::Bank {
        dir: dir.display().to_string(),
        report: errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
    })?;
    let outcome = replace_bank(&state.db, &bank, state.now().timestamp()).await?;
    tracing::info!(
        questions = bank.len(),
        added = outcome.added,
        updated = outcome.updated,
        retired = outcome.retired,
        "question bank loaded"
    );
    Ok(())
}
