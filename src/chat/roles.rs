//! Who may do what. Every command and button goes through `authorize`, so the rules live here
//! and nowhere else.

use crate::chat::{send, Door, Incoming, Person};
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::branches;
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
        let is_super = crate::service::first_run::is_super_admin(state, user_id).await?;
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
    door: &dyn Door,
    state: &AppState,
    chat_id: i64,
    user: &Person,
    permission: Permission,
) -> AppResult<Result<Caller, &'static str>> {
    let caller = Caller::load(state, user.id).await?;
    let allowed = match permission {
        Permission::GrantRoles => caller.is_super,
        Permission::Administer => caller.is_admin,
        Permission::ManageBranch => {
            caller.is_admin || door.is_group_admin(chat_id, user.id).await?
        }
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

/// Checks the caller of a command and, when refused, replies in the chat with who may do it.
/// `None` means refused (and answered).
pub async fn require(
    door: &dyn Door,
    state: &AppState,
    msg: &Incoming,
    user: &Person,
    permission: Permission,
) -> AppResult<Option<Caller>> {
    if permission == Permission::ManageBranch && msg.as_group_admin {
        return Ok(Some(Caller {
            user_id: user.id,
            is_super: false,
            is_admin: false,
        }));
    }
    match authorize(door, state, msg.chat.id, user, permission).await? {
        Ok(caller) => Ok(Some(caller)),
        Err(refusal) => {
            send::html(door, msg.chat.id, refusal).await?;
            Ok(None)
        }
    }
}
