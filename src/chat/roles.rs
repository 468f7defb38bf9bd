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
    /// administrators, or an administrator whose part of the tree holds the branch (any
    /// administrator while the group is not bound yet).
    ManageBranch,
    /// Reports and escalations of their own subtree: any administrator.
    Administer,
    /// The test calendar and the question bank, which every branch shares: administrators of
    /// the root organisation and super-administrators.
    AdministerRoot,
    /// Grant and revoke administrators, change the organisation tree: super-administrators.
    GrantRoles,
}

/// The caller's standing, as far as it was needed to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i64,
    pub is_super: bool,
    pub is_admin: bool,
    /// The organisations they administer (their subtrees are what they see).
    pub admin_orgs: Vec<i64>,
}

impl Caller {
    pub async fn load(state: &AppState, user_id: i64) -> AppResult<Caller> {
        let is_super = crate::service::first_run::is_super_admin(state, user_id).await?;
        let admin_orgs = crate::storage::orgs::admin_orgs(&state.db, user_id).await?;
        Ok(Caller {
            user_id,
            is_super,
            is_admin: is_super || !admin_orgs.is_empty(),
            admin_orgs,
        })
    }

    /// Administers the root (or is a super-administrator): sees and manages everything.
    pub fn is_root_admin(&self) -> bool {
        self.is_super || self.admin_orgs.contains(&crate::domain::org::ROOT)
    }

    /// Their place in the tree; only meaningful for administrators.
    pub async fn viewer(&self, state: &AppState) -> AppResult<crate::service::orgs::Viewer> {
        crate::service::orgs::viewer(state, &self.admin_orgs, self.is_super).await
    }

    /// Whether they administer the branch bound to `chat_id` (any administrator may act in a
    /// group that is not bound yet).
    async fn manages_chat(&self, state: &AppState, chat_id: i64) -> AppResult<bool> {
        if !self.is_admin {
            return Ok(false);
        }
        if self.is_root_admin() {
            return Ok(true);
        }
        match branches::by_chat(&state.db, chat_id).await? {
            None => Ok(true),
            Some(branch) => Ok(self.viewer(state).await?.scope.sees(branch.org_id)),
        }
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
        Permission::AdministerRoot => caller.is_root_admin(),
        Permission::ManageBranch => {
            caller.manages_chat(state, chat_id).await?
                || door.is_group_admin(chat_id, user.id).await?
        }
    };
    if allowed {
        return Ok(Ok(caller));
    }
    Ok(Err(match permission {
        Permission::GrantRoles => t::REFUSE_SUPER_ADMIN,
        Permission::Administer => t::REFUSE_ADMIN,
        // Someone who administers nothing is told who may; a scoped administrator, why not them.
        Permission::AdministerRoot if !caller.is_admin => t::REFUSE_ADMIN,
        Permission::AdministerRoot => t::REFUSE_ROOT_ADMIN,
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
            admin_orgs: Vec::new(),
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
