//! The organisation tree as people use it: who sees which part of it, where escalations go,
//! and a super-administrator's changes to it (add, rename, move, retire, move a branch).
//!
//! Every administrative view asks [`viewer`] first and filters by the [`Scope`] it returns, so
//! an administrator of one township never reads, let alone receives, another township's data.

use std::collections::BTreeSet;

use crate::domain::org::{check_move, MoveRefusal, OrgTree, ROOT};
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::orgs as store;
use crate::storage::{branches, branches::Branch};

/// The kinds of organisation above a branch. 组织部 is the usual root of a deployment.
pub const ORG_KINDS: [&str; 5] = ["组织部", "党委", "党工委", "党组", "党总支"];
/// Names are shown in messages and sheets; longer ones are refused.
pub const MAX_ORG_NAME_CHARS: usize = 60;

/// What part of the tree a person may see and manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Super-administrators and the root's administrators: everything.
    All,
    /// The subtrees of the organisations the administrator holds.
    Orgs(BTreeSet<i64>),
}

impl Scope {
    pub fn sees(&self, org: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Orgs(orgs) => orgs.contains(&org),
        }
    }
}

/// An administrator's place in the tree.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: Scope,
    /// Where their roll-up starts: the root, or the top organisations they hold.
    pub tops: Vec<i64>,
    pub tree: OrgTree,
}

impl Viewer {
    /// Branches (by id → organisation) the viewer may see, in id order.
    pub fn visible_branches(&self, branch_orgs: &std::collections::HashMap<i64, i64>) -> Vec<i64> {
        let mut ids: Vec<i64> = branch_orgs
            .iter()
            .filter(|(_, org)| self.scope.sees(**org))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// `None` when the viewer sees everything: queries then need no filter at all.
    pub fn branch_filter(
        &self,
        branch_orgs: &std::collections::HashMap<i64, i64>,
    ) -> Option<Vec<i64>> {
        match self.scope {
            Scope::All => None,
            Scope::Orgs(_) => Some(self.visible_branches(branch_orgs)),
        }
    }
}

/// The tree as `user` may see it, from the organisations they hold (`is_super` sees all).
pub async fn viewer(state: &AppState, admin_orgs: &[i64], is_super: bool) -> AppResult<Viewer> {
    let tree = store::tree(&state.db).await?;
    Ok(viewer_in(tree, admin_orgs, is_super))
}

pub fn viewer_in(tree: OrgTree, admin_orgs: &[i64], is_super: bool) -> Viewer {
    if is_super || admin_orgs.contains(&ROOT) {
        return Viewer {
            scope: Scope::All,
            tops: vec![ROOT],
            tree,
        };
    }
    let orgs = tree.subtrees(admin_orgs);
    // An organisation held inside another one held adds nothing to the roll-up's starting points.
    let tops = admin_orgs
        .iter()
        .copied()
        .filter(|&o| {
            !admin_orgs
                .iter()
                .any(|&other| other != o && tree.is_within(o, other))
        })
        .collect();
    Viewer {
        scope: Scope::Orgs(orgs),
        tops,
        tree,
    }
}

/// Where escalations go, read once for a batch of them.
pub struct Escalations {
    tree: OrgTree,
    chats: std::collections::HashMap<i64, i64>,
    fallback: Option<i64>,
}

impl Escalations {
    pub async fn load(state: &AppState) -> AppResult<Self> {
        let mut conn = state.db.acquire().await?;
        Self::load_in(&mut conn, state).await
    }

    /// [`Escalations::load`] on a connection already held (a write transaction: asking the
    /// pool for a second one could wait for ever on a pool of one).
    pub async fn load_in(conn: &mut sqlx::SqliteConnection, state: &AppState) -> AppResult<Self> {
        Ok(Self {
            tree: store::tree_in(conn).await?,
            chats: store::admin_chats(conn).await?,
            fallback: state.config.admin_chat,
        })
    }

    /// The administrators' group of the nearest organisation up the tree from `org` that has
    /// one, else `BRANCHBOT_ADMIN_CHAT`. A group only ever hears about its own subtree.
    pub fn chat_for(&self, org: i64) -> Option<i64> {
        self.tree
            .ancestors(org)
            .iter()
            .find_map(|o| self.chats.get(o).copied())
            .or(self.fallback)
    }
}

/// Where an escalation about something under `org` goes (see [`Escalations::chat_for`]).
pub async fn escalation_chat(state: &AppState, org: i64) -> AppResult<Option<i64>> {
    Ok(Escalations::load(state).await?.chat_for(org))
}

/// The startgroup link that adds the bot to a group and binds it under `org`.
pub async fn bind_link(state: &AppState, org: i64) -> AppResult<Option<String>> {
    Ok(store::bind_code(&state.db, org).await?.map(|code| {
        format!(
            "https://t.me/{}?startgroup={}{code}",
            state.bot_username, BIND_PAYLOAD
        )
    }))
}

/// Payload prefix of the startgroup link: `o_<code>`.
pub const BIND_PAYLOAD: &str = "o_";

/// Why a change to the tree was refused; the texts say what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRefusal {
    /// No live organisation has this name or id.
    Unknown(String),
    /// The administrator holds several organisations and named none of them.
    WhichOne,
    /// Several live organisations have this name: the ids tell them apart.
    Ambiguous(String, Vec<i64>),
    /// Outside what the administrator manages.
    OutOfScope(String),
    BadKind(String),
    /// No kind written, and the name does not end in one.
    NoKind,
    BadName,
    Move(MoveRefusal),
    /// Something still hangs under it: live organisations or active branches.
    NotEmpty,
    UnknownBranch(String),
}

/// Finds a live organisation by id or by name.
pub fn resolve(tree: &OrgTree, reference: &str) -> Result<i64, OrgRefusal> {
    let reference = reference.trim();
    if let Some(id) = crate::domain::numbers::parse_count(reference) {
        if let Some(found) = tree.get(id).filter(|o| !o.retired) {
            return Ok(found.id);
        }
    }
    match tree.by_name(reference).as_slice() {
        [] => Err(OrgRefusal::Unknown(reference.to_owned())),
        [one] => Ok(one.id),
        many => Err(OrgRefusal::Ambiguous(
            reference.to_owned(),
            many.iter().map(|o| o.id).collect(),
        )),
    }
}

/// A kind written by a person, or guessed from the name's ending when left out.
pub fn kind_for(name: &str, written: Option<&str>) -> Result<&'static str, OrgRefusal> {
    if let Some(written) = written.map(str::trim).filter(|w| !w.is_empty()) {
        return ORG_KINDS
            .iter()
            .find(|k| **k == written)
            .copied()
            .ok_or_else(|| OrgRefusal::BadKind(written.to_owned()));
    }
    // Longest ending first: 党工委 before 党委 ("…街道党工委" ends with both).
    let mut kinds = ORG_KINDS;
    kinds.sort_by_key(|k| std::cmp::Reverse(k.chars().count()));
    kinds
        .iter()
        .find(|k| name.ends_with(*k))
        .copied()
        .ok_or(OrgRefusal::NoKind)
}

pub fn check_name(name: &str) -> Result<(), OrgRefusal> {
    let n = name.chars().count();
    if n == 0 || n > MAX_ORG_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(OrgRefusal::BadName);
    }
    Ok(())
}

/// The code of an organisation's startgroup link: 48 random bits, unguessable.
pub(crate) fn new_bind_code(state: &AppState) -> String {
    use rand::Rng;
    state.with_rng(|rng| format!("{:012x}", rng.random::<u64>() & 0xffff_ffff_ffff))
}

/// `/org add <上级> <名称> [类别]`.
pub async fn add(
    state: &AppState,
    parent: &str,
    name: &str,
    kind: Option<&str>,
) -> AppResult<Result<i64, OrgRefusal>> {
    let tree = store::tree(&state.db).await?;
    let parent = match resolve(&tree, parent) {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_name(name) {
        return Ok(Err(refusal));
    }
    let kind = match kind_for(name, kind) {
        Ok(kind) => kind,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if tree.child_named(parent, name).is_some() {
        return Ok(Err(OrgRefusal::Move(MoveRefusal::DuplicateName)));
    }
    let code = new_bind_code(state);
    let id = store::create(
        &state.db,
        name,
        kind,
        parent,
        &code,
        state.now().timestamp(),
    )
    .await?;
    tracing::info!(org = id, parent, "organisation added");
    Ok(Ok(id))
}

/// `/org rename <组织> <新名称>`.
pub async fn rename(
    state: &AppState,
    reference: &str,
    name: &str,
) -> AppResult<Result<i64, OrgRefusal>> {
    let tree = store::tree(&state.db).await?;
    let id = match resolve(&tree, reference) {
        Ok(id) => id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_name(name) {
        return Ok(Err(refusal));
    }
    let parent = tree.get(id).and_then(|o| o.parent_id);
    if let Some(parent) = parent {
        if tree.child_named(parent, name).is_some_and(|o| o.id != id) {
            return Ok(Err(OrgRefusal::Move(MoveRefusal::DuplicateName)));
        }
    }
    store::rename(&state.db, id, name, state.now().timestamp()).await?;
    Ok(Ok(id))
}

/// `/org move <组织> <新上级>`.
pub async fn move_org(
    state: &AppState,
    reference: &str,
    parent: &str,
) -> AppResult<Result<i64, OrgRefusal>> {
    let tree = store::tree(&state.db).await?;
    let (id, parent) = match (resolve(&tree, reference), resolve(&tree, parent)) {
        (Ok(id), Ok(parent)) => (id, parent),
        (Err(refusal), _) | (_, Err(refusal)) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_move(&tree, id, parent) {
        return Ok(Err(OrgRefusal::Move(refusal)));
    }
    store::set_parent(&state.db, id, parent, state.now().timestamp()).await?;
    tracing::info!(org = id, parent, "organisation moved");
    Ok(Ok(id))
}

/// `/org retire <组织>`: only an empty organisation; its history stays.
pub async fn retire(state: &AppState, reference: &str) -> AppResult<Result<i64, OrgRefusal>> {
    let tree = store::tree(&state.db).await?;
    let id = match resolve(&tree, reference) {
        Ok(id) => id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if id == ROOT {
        return Ok(Err(OrgRefusal::Move(MoveRefusal::Root)));
    }
    if !store::retire(&state.db, id, state.now().timestamp()).await? {
        return Ok(Err(OrgRefusal::NotEmpty));
    }
    tracing::info!(org = id, "organisation retired");
    Ok(Ok(id))
}

/// `/org branch <支部编号> <组织>`: moves a branch. Allowed when the viewer sees both the
/// branch and the target; closed rounds keep the organisation the branch had then.
pub async fn move_branch(
    state: &AppState,
    viewer: &Viewer,
    branch_ref: &str,
    target: &str,
) -> AppResult<Result<(Branch, i64), OrgRefusal>> {
    let branch = match crate::domain::numbers::parse_count(branch_ref.trim()) {
        Some(id) => branches::by_id(&state.db, id).await?,
        None => None,
    };
    let Some(branch) = branch.filter(|b| viewer.scope.sees(b.org_id)) else {
        return Ok(Err(OrgRefusal::UnknownBranch(branch_ref.trim().to_owned())));
    };
    let target = match resolve(&viewer.tree, target) {
        Ok(t) if viewer.scope.sees(t) => t,
        Ok(_) => return Ok(Err(OrgRefusal::OutOfScope(target.trim().to_owned()))),
        Err(refusal) => return Ok(Err(refusal)),
    };
    store::move_branch(&state.db, branch.id, target, state.now().timestamp()).await?;
    tracing::info!(branch = branch.id, org = target, "branch moved");
    Ok(Ok((branch, target)))
}

/// The organisation a scoped administrator means: the one named, which they must see, or when
/// none is named the single organisation they hold.
pub fn pick_own(viewer: &Viewer, admin_orgs: &[i64], named: &str) -> Result<i64, OrgRefusal> {
    if named.trim().is_empty() {
        return match (viewer.scope == Scope::All, admin_orgs) {
            (true, _) => Ok(ROOT),
            (false, [one]) => Ok(*one),
            _ => Err(OrgRefusal::WhichOne),
        };
    }
    let id = resolve(&viewer.tree, named)?;
    if viewer.scope.sees(id) {
        Ok(id)
    } else {
        Err(OrgRefusal::OutOfScope(named.trim().to_owned()))
    }
}

/// Path names from the viewer's top down to `org`, for report columns and headings.
pub fn path_names(tree: &OrgTree, org: i64) -> Vec<String> {
    tree.path(org).iter().map(|o| o.name.clone()).collect()
}
