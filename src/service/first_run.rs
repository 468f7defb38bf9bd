//! The first run on a new server: nobody has to look up a numeric Telegram id.
//!
//! When no super-administrator exists (none configured, none stored), start-up prints a one-time
//! claim code to the log and to standard error; whoever sends `/claim <code>` to the bot in
//! private becomes the first super-administrator (stored in the database, so it survives
//! restarts) and the code is void. The administrators' group is bound by a super-administrator
//! sending `/adminchat` in it. The variables `BRANCHBOT_SUPER_ADMINS` and
//! `BRANCHBOT_ADMIN_CHAT` keep working: configured super-administrators count as well as stored
//! ones, and a group bound from the chat takes precedence over the variable because it is the
//! later and more deliberate choice.

use rand::Rng;

use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::setup as store;
use crate::texts::setup as t;

/// Letters and digits that cannot be mistaken for one another when typed from a screen.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 10;

/// Whether `user_id` is a super-administrator, configured or claimed.
pub async fn is_super_admin(state: &AppState, user_id: i64) -> AppResult<bool> {
    let configured = u64::try_from(user_id).is_ok_and(|id| state.config.is_super_admin(id));
    Ok(configured || store::is_stored_super_admin(&state.db, user_id).await?)
}

/// Every super-administrator, configured and claimed, sorted and without repeats.
pub async fn super_admin_ids(state: &AppState) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = state
        .config
        .super_admins
        .iter()
        .filter_map(|&id| i64::try_from(id).ok())
        .collect();
    ids.extend(store::stored_super_admins(&state.db).await?);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// At start-up: when nobody can administer the bot, makes and announces a fresh claim code
/// (log and standard error) and returns it; otherwise voids any old code.
pub async fn offer_claim(state: &AppState) -> AppResult<Option<String>> {
    if !super_admin_ids(state).await?.is_empty() {
        store::clear_claim_code(&state.db).await?;
        return Ok(None);
    }
    let code = state.with_rng(|rng| {
        (0..CODE_LEN)
            .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
            .collect::<String>()
    });
    store::set_claim_code(&state.db, &code, state.now().timestamp()).await?;
    let banner = t::claim_code_banner(&code);
    tracing::warn!("{banner}");
    eprintln!("\n{banner}\n");
    Ok(Some(code))
}

/// A code as a user may type it: spaces dropped, letters upper-cased.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_as_typed_loosely() {
        assert_eq!(normalize_code(" abcd 23ef "), "ABCD23EF");
    }
}
