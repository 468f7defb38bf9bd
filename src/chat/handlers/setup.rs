//! First-run commands: `/claim` (private), `/whoami` (anywhere). (`/adminchat` binds an
//! organisation's administrators' group: `handlers::orgs`.)

use crate::chat::{send, Door, Incoming, Person};
use crate::error::AppResult;
use crate::service::first_run;
use crate::service::AppState;
use crate::storage::setup::{self as store, ClaimOutcome};
use crate::texts::setup_replies as t;

/// `/claim <code>`: the first super-administrator, by the code printed at start-up.
pub async fn claim(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    code: &str,
    state: &AppState,
) -> AppResult<()> {
    let code = first_run::normalize_code(code);
    if code.is_empty() {
        return send::html(door, msg.chat.id, t::CLAIM_USAGE)
            .await
            .map(drop);
    }
    let configured = !state.config.super_admins.is_empty();
    let now = state.now().timestamp();
    let user_id = user.id;
    let outcome = store::claim(&state.db, user_id, &code, configured, now).await?;
    let reply = match outcome {
        ClaimOutcome::Claimed => {
            tracing::info!(
                user = user_id,
                "the first super-administrator claimed the bot"
            );
            door.role_changed(user_id, true).await;
            t::CLAIMED
        }
        ClaimOutcome::AlreadyClaimed => t::ALREADY_CLAIMED,
        ClaimOutcome::WrongCode => t::WRONG_CODE,
    };
    send::html(door, msg.chat.id, reply).await.map(drop)
}

/// `/whoami`: the sender's user id, and in a group the chat id too.
pub async fn whoami(door: &dyn Door, msg: &Incoming, user: &Person) -> AppResult<()> {
    let user_id = user.id;
    let text = if msg.chat.is_private() {
        t::whoami_private(user_id)
    } else {
        t::whoami_group(user_id, msg.chat.id)
    };
    send::html(door, msg.chat.id, &text).await.map(drop)
}
