//! Start, help, binding a group to a branch, joining a branch, and administrator roles.

use rand::distr::{Distribution, Uniform};

use crate::chat::roles::{authorize, require, Caller, Permission};
use crate::chat::{send, Button, Door, Incoming, Keyboard, Person};
use crate::domain::term::BranchKind;
use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::branches::{self, JoinOutcome};
use crate::texts::common as t;

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
    let now = state.now();
    let code = new_join_code(state);
    let (branch, new) = branches::bind(
        &state.db,
        msg.chat.id,
        &name,
        kind.label(),
        &code,
        now.timestamp(),
    )
    .await?;
    super::on_branch_bound(state, &branch, new, now).await?;
    let reply = t::bound(
        &send::esc(&branch.name),
        kind.label(),
        kind.default_term_years(),
        new,
    );
    send::html(door, msg.chat.id, &reply).await.map(drop)
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

/// `/grant` and `/revoke`: by numeric id or @username of someone who has talked to the bot.
pub async fn grant(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    who: &str,
    grant: bool,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::GrantRoles)
        .await?
        .is_none()
    {
        return Ok(());
    }
    if who.is_empty() {
        let usage = if grant {
            t::GRANT_USAGE
        } else {
            t::REVOKE_USAGE
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
    let name = send::esc(&target.full_name);
    let reply = if grant {
        branches::set_admin(&state.db, target.id, true).await?;
        door.role_changed(target.id, true).await;
        t::granted(&name)
    } else if crate::service::first_run::is_super_admin(state, target.id).await? {
        t::CANNOT_REVOKE_SUPER.to_owned()
    } else if !target.is_admin {
        t::not_admin(&name)
    } else {
        branches::set_admin(&state.db, target.id, false).await?;
        door.role_changed(target.id, false).await;
        t::revoked(&name)
    };
    send::html(door, msg.chat.id, &reply).await.map(drop)
}

pub async fn list_admins(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let lines: Vec<String> = branches::admins(&state.db)
        .await?
        .iter()
        .map(|u| {
            let handle = u
                .username
                .as_deref()
                .map(|n| format!(" @{}", send::esc(n)))
                .unwrap_or_default();
            format!("• {}{} （ID {}）", send::esc(&u.full_name), handle, u.id)
        })
        .collect();
    send::html(door, msg.chat.id, &t::admin_list(&lines))
        .await
        .map(drop)
}
