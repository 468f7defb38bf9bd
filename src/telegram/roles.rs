//! Who may do what. Every command and button goes through `authorize`, so the rules live here
//! and nowhere else.

use teloxide::prelude::*;
use teloxide::types::{ChatMemberStatus, Message, User};

use crate::error::AppResult;
use crate::storage::branches;
use crate::telegram::{send, AppState};
use crate::texts::common as t;

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Bind the group, set the term and plan, record meetings: the group's Telegram
    /// administrators, or any administrator of the superior organisation.
    ManageBranch,
    /// Reports, rounds, the question bank: administrators and super-administrators.
    Administer,
    /// Grant and revoke the administrator role: super-administrators from the configuration.
    GrantRoles,
}

/// The caller's standing, as far as it was needed to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i64,
    pub is_super: bool,
    pub is_admin: bool,
}

impl Caller {
    pub async fn load(state: &AppState, user_id: i64) -> AppResult<Caller> {
        let is_super = crate::first_run::is_super_admin(state, user_id).await?;
        let is_admin = is_super || branches::is_admin(&state.db, user_id).await?;
        Ok(Caller {
            user_id,
            is_super,
            is_admin,
        })
    }
}

/// `Ok(Ok(caller))` when allowed, `Ok(Err(refusal))` with the Chinese refusal otherwise.
pub async fn authorize(
    bot: &Bot,
    state: &AppState,
    chat_id: ChatId,
    user: &User,
    permission: Permission,
) -> AppResult<Result<Caller, &'static str>> {
    let caller = Caller::load(state, user.id.0 as i64).await?;
    let allowed = match permission {
        Permission::GrantRoles => caller.is_super,
        Permission::Administer => caller.is_admin,
        Permission::ManageBranch => caller.is_admin || is_group_admin(bot, chat_id, user).await?,
    };
    if allowed {
        return Ok(Ok(caller));
    }
    Ok(Err(match permission {
        Permission::GrantRoles => t::REFUSE_SUPER_ADMIN,
        Permission::Administer => t::REFUSE_ADMIN,
        Permission::ManageBranch => t::REFUSE_GROUP_ADMIN,
    }))
}

/// Asks Telegram whether the user administers the group; Telegram is the authority here.
/// Supergroups count too: teloxide's `ChatId::is_group` is true only for basic groups, and most
/// branch groups are supergroups (every group with more than 200 members or a public link).
async fn is_group_admin(bot: &Bot, chat_id: ChatId, user: &User) -> AppResult<bool> {
    if !(chat_id.is_group() || chat_id.is_channel_or_supergroup()) {
        return Ok(false);
    }
    let member = bot.get_chat_member(chat_id, user.id).await?;
    Ok(matches!(
        member.status(),
        ChatMemberStatus::Owner | ChatMemberStatus::Administrator
    ))
}

/// Checks the caller of a command and, when refused, replies in the chat with who may do it.
/// `None` means refused (and answered).
pub async fn require(
    bot: &Bot,
    state: &AppState,
    msg: &Message,
    user: &User,
    permission: Permission,
) -> AppResult<Option<Caller>> {
    if permission == Permission::ManageBranch && is_anonymous_admin(msg) {
        return Ok(Some(Caller {
            user_id: user.id.0 as i64,
            is_super: false,
            is_admin: false,
        }));
    }
    match authorize(bot, state, msg.chat.id, user, permission).await? {
        Ok(caller) => Ok(Some(caller)),
        Err(refusal) => {
            send::html(bot, msg.chat.id, refusal).await?;
            Ok(None)
        }
    }
}

/// A group administrator posting "as the group" arrives from Telegram's anonymous-admin bot
/// with the group itself as sender; only administrators can do that.
pub fn is_anonymous_admin(msg: &Message) -> bool {
    msg.sender_chat
        .as_ref()
        .is_some_and(|c| c.id == msg.chat.id)
}
