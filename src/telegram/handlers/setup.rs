//! First-run commands: `/claim` (private), `/whoami` (anywhere), `/adminchat` (a group).

use teloxide::prelude::*;
use teloxide::types::User;

use crate::error::AppResult;
use crate::first_run;
use crate::storage::branches;
use crate::storage::setup::{self as store, ClaimOutcome};
use crate::telegram::{commands, send, AppState};
use crate::texts::setup_replies as t;

/// `/claim <code>`: the first super-administrator, by the code printed at start-up.
pub async fn claim(
    bot: &Bot,
    msg: &Message,
    user: &User,
    code: &str,
    state: &AppState,
) -> AppResult<()> {
    let code = first_run::normalize_code(code);
    if code.is_empty() {
        return send::html(bot, msg.chat.id, t::CLAIM_USAGE).await.map(drop);
    }
    let configured = !state.config.super_admins.is_empty();
    let now = state.now().timestamp();
    let user_id = user.id.0 as i64;
    let outcome = store::claim(&state.db, user_id, &code, configured, now).await?;
    let reply = match outcome {
        ClaimOutcome::Claimed => {
            tracing::info!(
                user = user_id,
                "the first super-administrator claimed the bot"
            );
            if let Err(err) = commands::register_admin(bot, user_id).await {
                tracing::warn!(user = user_id, error = %err, "could not set the administrator menu");
            }
            t::CLAIMED
        }
        ClaimOutcome::AlreadyClaimed => t::ALREADY_CLAIMED,
        ClaimOutcome::WrongCode => t::WRONG_CODE,
    };
    send::html(bot, msg.chat.id, reply).await.map(drop)
}

/// `/whoami`: the sender's user id, and in a group the chat id too.
pub async fn whoami(bot: &Bot, msg: &Message, user: &User) -> AppResult<()> {
    let user_id = user.id.0 as i64;
    let text = if msg.chat.is_private() {
        t::whoami_private(user_id)
    } else {
        t::whoami_group(user_id, msg.chat.id.0)
    };
    send::html(bot, msg.chat.id, &text).await.map(drop)
}

/// `/adminchat` in a group: a super-administrator makes it the administrators' group.
pub async fn adminchat(bot: &Bot, msg: &Message, user: &User, state: &AppState) -> AppResult<()> {
    if !first_run::is_super_admin(state, user.id.0 as i64).await? {
        return send::html(bot, msg.chat.id, t::ADMIN_CHAT_REFUSED)
            .await
            .map(drop);
    }
    let bound_branch = branches::by_chat(&state.db, msg.chat.id.0).await?;
    if bound_branch.is_some_and(|b| b.active) {
        return send::html(bot, msg.chat.id, t::ADMIN_CHAT_IS_BRANCH)
            .await
            .map(drop);
    }
    store::set_admin_chat(&state.db, msg.chat.id.0, state.now().timestamp()).await?;
    tracing::info!(
        chat = msg.chat.id.0,
        "administrators' group bound from the chat"
    );
    send::html(bot, msg.chat.id, t::ADMIN_CHAT_BOUND)
        .await
        .map(drop)
}
