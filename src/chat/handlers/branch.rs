//! Start, help, binding a group to a branch, joining a branch, and administrator roles.

use rand::distr::{Distribution, Uniform};

use crate::chat::roles::{authorize, require, Caller, Permission};
use crate::chat::{send, Button, Door, Incoming, Keyboard, Person};
use crate::domain::term::BranchKind;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::branches::{self, JoinOutcome};
use crate::storage::orgs as orgs_store;
use crate::texts::common as t;
use crate::texts::orgs as ot;

/// Deep-link payload prefix that joins a branch: `j_<code>`.
pub const JOIN_PAYLOAD: &str = "j_";
/// Deep-link payload prefix that joins a branch and starts the open round's test: `t_<code>`.
pub const TEST_PAYLOAD: &str = "t_";

const MAX_BRANCH_NAME_CHARS: usize = 60;

pub async fn help_private(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let caller = Caller::load(state, user.id).await?;
    let mut text = t::HELP_PRIVATE_TRAINEE.to_owned();
    if caller.is_admin {
        text.push_str(t::HELP_PRIVATE_ADMIN);
    }
    if caller.is_super {
        text.push_str(t::HELP_PRIVATE_SUPER);
    }
    send::html(door, msg.chat.id, &text).await.map(drop)
}

pub async fn help_group(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let mut text = t::HELP_GROUP.to_owned();
    let manages = msg.as_group_admin
        || authorize(door, state, msg.chat.id, user, Permission::ManageBranch)
            .await?
            .is_ok();
    if manages {
        text.push_str(t::HELP_GROUP_ADMIN);
    }
    if branches::by_chat(&state.db, msg.chat.id).await?.is_none() {
        text.push_str("\n\n");
        text.push_str(t::NOT_BOUND);
    }
    send::html(door, msg.chat.id, &text).await.map(drop)
}

/// `/start` in private chat: plain, or a deep link that joins a branch (and maybe starts the test).
pub async fn start_private(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    payload: &str,
    state: &AppState,
) -> AppResult<()> {
    if let Some(code) = payload.strip_prefix(JOIN_PAYLOAD) {
        return join(door, msg, user, code, state).await;
    }
    if let Some(code) = payload.strip_prefix(TEST_PAYLOAD) {
        if join_quietly(door, msg, user, code, state).await? {
            return super::quiz_entry(door, msg.chat.id, user, state).await;
        }
        return Ok(());
    }
    help_private(door, msg, user, state).await
}

/// Joins without the "already a member" reply; false when the code was refused.
async fn join_quietly(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    code: &str,
    state: &AppState,
) -> AppResult<bool> {
    let code = code.trim().to_uppercase();
    if code.is_empty() {
        // A link cut short (`?start=t_`) has no code to call invalid; say how to join instead.
        send::html(door, msg.chat.id, t::JOIN_USAGE).await?;
        return Ok(false);
    }
    let Some(branch) = branches::by_code(&state.db, &code).await? else {
        send::html(door, msg.chat.id, &t::join_bad_code(&send::esc(&code))).await?;
        return Ok(false);
    };
    let outcome = branches::join(&state.db, user.id, branch.id, state.now().timestamp()).await?;
    match outcome {
        JoinOutcome::AlreadyMember => {}
        JoinOutcome::Joined => {
            send::html(
                door,
                msg.chat.id,
                &t::joined_for_test(&send::esc(&branch.name)),
            )
            .await?;
        }
        JoinOutcome::Moved(from) => {
            send::html(
                door,
                msg.chat.id,
                &t::moved(&send::esc(&from), &send::esc(&branch.name)),
            )
            .await?;
        }
    }
    super::roster::offer_link(door, msg.chat.id, user.id, &branch, state).await?;
    Ok(true)
}

pub async fn join(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    code: &str,
    state: &AppState,
) -> AppResult<()> {
    let code = code.trim().to_uppercase();
    if code.is_empty() {
        return send::html(door, msg.chat.id, t::JOIN_USAGE).await.map(drop);
    }
    let Some(branch) = branches::by_code(&state.db, &code).await? else {
        return send::html(door, msg.chat.id, &t::join_bad_code(&send::esc(&code)))
            .await
            .map(drop);
    };
    let name = send::esc(&branch.name);
    let reply = match branches::join(&state.db, user.id, branch.id, state.now().timestamp()).await?
    {
        JoinOutcome::Joined => t::joined(&name),
        JoinOutcome::AlreadyMember => t::already_member(&name),
        JoinOutcome::Moved(from) => t::moved(&send::esc(&from), &name),
    };
    send::html(door, msg.chat.id, &reply).await?;
    super::roster::offer_link(door, msg.chat.id, user.id, &branch, state).await
}

/// Splits `/bind` arguments into a name and an optional kind (the last word, if it is one).
pub fn parse_bind_args(args: &str) -> Result<(String, BranchKind), String> {
    let args = args.trim();
    if args.is_empty() {
        return Err(t::BIND_USAGE.to_owned());
    }
    let (name, kind) = match args.rsplit_once(char::is_whitespace) {
        Some((name, last)) => match BranchKind::parse(last) {
            Some(kind) => (name.trim(), kind),
            None if last.chars().count() <= 4 && looks_like_kind_attempt(last) => {
                return Err(t::bind_unknown_kind(&send::esc(last)));
            }
            None => (args, BranchKind::Other),
        },
        None => (args, BranchKind::Other),
    };
    if name.chars().count() > MAX_BRANCH_NAME_CHARS {
        return Err(t::BIND_NAME_TOO_LONG.to_owned());
    }
    Ok((name.to_owned(), kind))
}

/// A short last word that is not part of a branch name (names end in 支部, 党支部, 总支 ...)
/// was probably meant as a kind.
fn looks_like_kind_attempt(word: &str) -> bool {
    !(word.ends_with("支部") || word.ends_with("总支") || word.ends_with("党委"))
}

fn new_join_code(state: &AppState) -> String {
    // No 0/O or 1/I: codes are read aloud and typed by hand.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let pick = Uniform::new(0, ALPHABET.len()).expect("non-empty alphabet");
    state.with_rng(|rng| (0..8).map(|_| ALPHABET[pick.sample(rng)] as char).collect())
}

pub async fn bind(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::ManageBranch)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let (name, kind) = match parse_bind_args(args) {
        Ok(parsed) => parsed,
        Err(reply) => return send::html(door, msg.chat.id, &reply).await.map(drop),
    };
    // A scoped administrator binding a new group puts it under the organisation they hold.
    let caller = Caller::load(state, user.id).await?;
    let org = match caller.admin_orgs.as_slice() {
        [one] if !caller.is_root_admin() => Some(*one),
        _ => None,
    };
    let branch = bind_branch(state, msg.chat.id, &name, kind, org).await?;
    let reply = t::bound(
        &send::esc(&branch.name),
        kind.label(),
        kind.default_term_years(),
        branch.new,
    );
    send::html(door, msg.chat.id, &reply).await.map(drop)
}

/// A branch as just bound, and whether it is new.
pub struct Bound {
    pub name: String,
    pub new: bool,
}

/// Binds (or binds again) the group as a branch, under `org` when given (a new branch without
/// one goes under the root), and sets it up.
pub async fn bind_branch(
    state: &AppState,
    chat_id: i64,
    name: &str,
    kind: BranchKind,
    org: Option<i64>,
) -> AppResult<Bound> {
    let now = state.now();
    let code = new_join_code(state);
    let (branch, new) = branches::bind(
        &state.db,
        chat_id,
        name,
        kind.label(),
        &code,
        org,
        now.timestamp(),
    )
    .await?;
    super::on_branch_bound(state, &branch, new, now).await?;
    Ok(Bound {
        name: branch.name,
        new,
    })
}

pub async fn unbind(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::ManageBranch)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let reply = if branches::unbind(&state.db, msg.chat.id, state.now().timestamp()).await? {
        state.wake.notify_one();
        t::UNBOUND
    } else {
        t::NOT_BOUND
    };
    send::html(door, msg.chat.id, reply).await.map(drop)
}

pub async fn status(door: &dyn Door, msg: &Incoming, state: &AppState) -> AppResult<()> {
    let Some(branch) = branches::by_chat(&state.db, msg.chat.id).await? else {
        return send::html(door, msg.chat.id, t::NOT_BOUND).await.map(drop);
    };
    let members = branches::member_count(&state.db, branch.id).await?;
    let mut text = t::branch_status(
        &send::esc(&branch.name),
        &branch.kind,
        members,
        &branch.join_code,
    );
    text.push_str(&super::status_sections(state, &branch).await?);
    text.push_str(&super::roster::status_section(state, &branch).await?);
    send::html(door, msg.chat.id, &text).await.map(drop)
}

pub async fn invite(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::ManageBranch)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let Some(branch) = branches::by_chat(&state.db, msg.chat.id).await? else {
        return send::html(door, msg.chat.id, t::NOT_BOUND).await.map(drop);
    };
    let link = state.deep_link(&format!("{JOIN_PAYLOAD}{}", branch.join_code));
    let Ok(url) = link.parse::<url::Url>() else {
        return Err(crate::error::AppError::Report(format!(
            "bad deep link {link}"
        )));
    };
    let buttons = Keyboard::new([[Button::url(t::INVITE_BUTTON, url)]]);
    send::html_with_buttons(
        door,
        msg.chat.id,
        &t::invite(&send::esc(&branch.name)),
        &buttons,
    )
    .await
    .map(drop)
}

/// `/grant` and `/revoke`: by numeric id or @username of someone who has talked to the bot,
/// optionally naming the organisation (the root when left out; `/revoke` without one takes
/// every organisation away).
pub async fn grant(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    grant: bool,
    state: &AppState,
) -> AppResult<()> {
    let Some(caller) = require(door, state, msg, user, Permission::GrantRoles).await? else {
        return Ok(());
    };
    let (who, org_ref) = args
        .split_once(char::is_whitespace)
        .map_or((args, ""), |(w, o)| (w, o.trim()));
    if who.is_empty() {
        let usage = if grant {
            ot::GRANT_USAGE
        } else {
            ot::REVOKE_USAGE
        };
        return send::html(door, msg.chat.id, usage).await.map(drop);
    }
    let target = match who.strip_prefix('@') {
        Some(name) => branches::user_by_username(&state.db, name).await?,
        None => match who.parse::<i64>() {
            Ok(id) => branches::user(&state.db, id).await?,
            Err(_) => None,
        },
    };
    let Some(target) = target else {
        return send::html(door, msg.chat.id, &t::unknown_user(&send::esc(who)))
            .await
            .map(drop);
    };
    let viewer = caller.viewer(state).await?;
    let org = if org_ref.is_empty() {
        None
    } else {
        match crate::service::orgs::resolve(&viewer.tree, org_ref) {
            Ok(org) => Some(org),
            Err(refusal) => {
                return send::html(door, msg.chat.id, &ot::refusal(&refusal))
                    .await
                    .map(drop)
            }
        }
    };
    let name = send::esc(&target.full_name);
    let now = state.now().timestamp();
    let reply = if grant {
        let org = org.unwrap_or(crate::domain::org::ROOT);
        let org_name = send::esc(
            &viewer
                .tree
                .get(org)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
        );
        if orgs_store::grant(&state.db, target.id, org, user.id, now).await? {
            door.role_changed(target.id, true).await;
            tracing::info!(user = target.id, org, "administrator granted");
            ot::granted(&name, &org_name)
        } else {
            ot::granted_already(&name, &org_name)
        }
    } else if crate::service::first_run::is_super_admin(state, target.id).await? {
        t::CANNOT_REVOKE_SUPER.to_owned()
    } else {
        match orgs_store::revoke(&state.db, target.id, org).await? {
            0 => ot::not_admin_of(&name),
            n => {
                let still = !orgs_store::admin_orgs(&state.db, target.id)
                    .await?
                    .is_empty();
                door.role_changed(target.id, still).await;
                tracing::info!(user = target.id, ?org, "administrator revoked");
                ot::revoked(&name, n)
            }
        }
    };
    send::html(door, msg.chat.id, &reply).await.map(drop)
}

/// `/admins`: the administrators of the caller's part of the tree and what each holds there.
pub async fn list_admins(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let Some(caller) = require(door, state, msg, user, Permission::Administer).await? else {
        return Ok(());
    };
    let viewer = caller.viewer(state).await?;
    let mut held: Vec<(crate::storage::branches::User, Vec<i64>)> = Vec::new();
    for (admin, org) in orgs_store::admins(&state.db).await? {
        if !viewer.scope.sees(org) {
            continue;
        }
        match held.iter_mut().find(|(u, _)| u.id == admin.id) {
            Some((_, orgs)) => orgs.push(org),
            None => held.push((admin, vec![org])),
        }
    }
    let lines: Vec<String> = held
        .iter()
        .map(|(u, orgs)| {
            let handle = u
                .username
                .as_deref()
                .map(|n| format!(" @{}", send::esc(n)))
                .unwrap_or_default();
            ot::admin_line(
                &send::esc(&u.full_name),
                &handle,
                u.id,
                &send::esc(&super::orgs::org_names(&viewer, orgs)),
            )
        })
        .collect();
    send::html(door, msg.chat.id, &t::admin_list(&lines))
        .await
        .map(drop)
}
