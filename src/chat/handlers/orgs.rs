//! The organisation tree in chat: `/org` (private), `/adminchat` (a group), a group bound by an
//! organisation's startgroup link, and the Excel import of the whole tree.

use crate::buttons::CallbackData;
use crate::chat::roles::{authorize, require, Caller, Permission};
use crate::chat::send::{self, esc};
use crate::chat::{Button, Door, Incoming, Keyboard, OutFile, Person, Press};
use crate::domain::org::ROOT;
use crate::error::AppResult;
use crate::service::org_import::{self, Refusal, MAX_IMPORT_BYTES};
use crate::service::orgs::{self, OrgRefusal, Viewer};
use crate::service::AppState;
use crate::storage::{branches, orgs as store};
use crate::texts::orgs as t;

/// Errors listed in the reply to a bad import; the rest are counted.
const ERRORS_SHOWN: usize = 30;
/// `/org` shows the tree this deep below the viewer's top organisations, in at most this many
/// lines.
const TREE_DEPTH_SHOWN: usize = 2;
const TREE_LINES_SHOWN: usize = 120;
/// Branches listed under one organisation by `/org <组织>`.
const BRANCHES_SHOWN: usize = 200;

/// `/org [子命令]` in private chat.
pub async fn org(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(caller) = require(door, state, msg, user, Permission::Administer).await? else {
        return Ok(());
    };
    let chat = msg.chat.id;
    let (sub, rest) = args
        .split_once(char::is_whitespace)
        .map_or((args, ""), |(a, b)| (a, b.trim()));
    let words: Vec<&str> = rest.split_whitespace().collect();
    let super_only = matches!(
        sub,
        "add"
            | "新建"
            | "rename"
            | "更名"
            | "move"
            | "调整"
            | "retire"
            | "撤销"
            | "template"
            | "模板"
    );
    if super_only && !caller.is_super {
        return send::html(door, chat, crate::texts::common::REFUSE_SUPER_ADMIN)
            .await
            .map(drop);
    }
    let viewer = caller.viewer(state).await?;
    let outcome: Result<String, OrgRefusal> = match (sub, words.as_slice()) {
        ("", []) => return show_tree(door, chat, state, &viewer).await,
        ("add" | "新建", [parent, name]) => orgs::add(state, parent, name, None)
            .await?
            .map(|id| t::added(&esc(name), id)),
        ("add" | "新建", [parent, name, kind]) => orgs::add(state, parent, name, Some(kind))
            .await?
            .map(|id| t::added(&esc(name), id)),
        ("rename" | "更名", [which, name]) => orgs::rename(state, which, name)
            .await?
            .map(|_| t::renamed(&esc(name))),
        ("move" | "调整", [which, parent]) => orgs::move_org(state, which, parent)
            .await?
            .map(|_| t::moved(&esc(which), &esc(parent))),
        ("retire" | "撤销", [which]) => orgs::retire(state, which)
            .await?
            .map(|_| t::retired(&esc(which))),
        ("template" | "模板", []) => {
            let file = OutFile {
                name: t::TEMPLATE_FILE.to_owned(),
                bytes: org_import::template()?,
                caption: Some(t::TEMPLATE_CAPTION.to_owned()),
            };
            return door.send_files(chat, vec![file]).await;
        }
        ("link" | "链接", [which]) => match orgs::pick_own(&viewer, &caller.admin_orgs, which) {
            Ok(id) => {
                let link = orgs::bind_link(state, id).await?.unwrap_or_default();
                let name = viewer
                    .tree
                    .get(id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                Ok(t::bind_link(&esc(&name), &esc(&link)))
            }
            Err(refusal) => Err(refusal),
        },
        ("branch" | "支部", [branch, target]) => {
            orgs::move_branch(state, &viewer, branch, target)
                .await?
                .map(|(branch, org)| {
                    let name = viewer
                        .tree
                        .get(org)
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    t::branch_moved(&esc(&branch.name), &esc(&name))
                })
        }
        (which, []) => match orgs::pick_own(&viewer, &caller.admin_orgs, which) {
            Ok(id) => return show_org(door, chat, state, &viewer, id).await,
            Err(refusal) => Err(refusal),
        },
        _ => Ok(t::ORG_USAGE.to_owned()),
    };
    let reply = outcome.unwrap_or_else(|refusal| t::refusal(&refusal));
    send::html(door, chat, &reply).await.map(drop)
}

/// The viewer's part of the tree with branch counts.
async fn show_tree(door: &dyn Door, chat: i64, state: &AppState, viewer: &Viewer) -> AppResult<()> {
    let counts = store::branch_counts(&state.db).await?;
    let mut lines = vec![t::TREE_TITLE.to_owned()];
    let mut hidden = 0;
    for top in &viewer.tops {
        for (depth, org) in viewer.tree.walk(*top) {
            if org.retired {
                continue;
            }
            // A county's tree fits a message or two; deeper levels are one /org <组织> away.
            if depth > TREE_DEPTH_SHOWN || lines.len() > TREE_LINES_SHOWN {
                hidden += 1;
                continue;
            }
            let below = branches_below(viewer, &counts, org.id);
            lines.push(t::tree_line(
                depth,
                &esc(&org.name),
                &org.kind,
                org.id,
                below,
            ));
        }
    }
    if hidden > 0 {
        lines.push(t::more_below(hidden));
    }
    lines.push(String::new());
    lines.push(t::ORG_USAGE.to_owned());
    send::html(door, chat, &lines.join("\n")).await.map(drop)
}

/// Active branches anywhere below `org` (itself included).
fn branches_below(viewer: &Viewer, counts: &std::collections::HashMap<i64, u32>, org: i64) -> u32 {
    viewer
        .tree
        .subtree(org)
        .iter()
        .map(|o| counts.get(o).copied().unwrap_or(0))
        .sum()
}

/// One organisation: its children and its own branches with their numbers.
async fn show_org(
    door: &dyn Door,
    chat: i64,
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> AppResult<()> {
    let Some(org) = viewer.tree.get(id) else {
        return Ok(());
    };
    let path: Vec<String> = orgs::path_names(&viewer.tree, id)
        .iter()
        .map(|n| esc(n))
        .collect();
    let mut lines = vec![format!(
        "<b>{}</b>（{}，编号 {id}）",
        path.join(" / "),
        org.kind
    )];
    let counts = store::branch_counts(&state.db).await?;
    for child in viewer.tree.children(id).filter(|c| !c.retired) {
        let below = branches_below(viewer, &counts, child.id);
        lines.push(t::tree_line(
            1,
            &esc(&child.name),
            &child.kind,
            child.id,
            below,
        ));
    }
    let own: Vec<_> = branches::active_branches(&state.db)
        .await?
        .into_iter()
        .filter(|b| b.org_id == id)
        .collect();
    for branch in own.iter().take(BRANCHES_SHOWN) {
        lines.push(t::branch_line(1, &esc(&branch.name), branch.id));
    }
    send::html(door, chat, &lines.join("\n")).await.map(drop)
}

/// `/adminchat [组织]` in a group: an administrator makes it their organisation's
/// administrators' group.
pub async fn adminchat(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let caller = Caller::load(state, user.id).await?;
    if !caller.is_admin {
        return send::html(door, msg.chat.id, t::ADMIN_CHAT_REFUSED)
            .await
            .map(drop);
    }
    if branches::by_chat(&state.db, msg.chat.id).await?.is_some() {
        return send::html(
            door,
            msg.chat.id,
            crate::texts::setup_replies::ADMIN_CHAT_IS_BRANCH,
        )
        .await
        .map(drop);
    }
    let viewer = caller.viewer(state).await?;
    let org = match orgs::pick_own(&viewer, &caller.admin_orgs, args) {
        Ok(org) => org,
        Err(refusal) => {
            return send::html(door, msg.chat.id, &t::refusal(&refusal))
                .await
                .map(drop)
        }
    };
    store::set_admin_chat(
        &state.db,
        org,
        msg.chat.id,
        user.id,
        state.now().timestamp(),
    )
    .await?;
    tracing::info!(chat = msg.chat.id, org, "administrators' group bound");
    let name = viewer
        .tree
        .get(org)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    send::html(door, msg.chat.id, &t::admin_chat_bound(&esc(&name)))
        .await
        .map(drop)
}

/// `/start o_<code>` in a group: the bot was added through an organisation's startgroup link.
/// Binds the group under that organisation, named after the group. Only the group's
/// administrators or an administrator of that organisation may.
pub async fn start_group(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    code: &str,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    let Some(org) = store::by_bind_code(&state.db, code.trim()).await? else {
        return send::html(door, chat, t::BIND_LINK_INVALID).await.map(drop);
    };
    let caller = Caller::load(state, user.id).await?;
    let org_admin = caller.is_admin && caller.viewer(state).await?.scope.sees(org);
    let allowed = msg.as_group_admin || org_admin || door.is_group_admin(chat, user.id).await?;
    if !allowed {
        return send::html(door, chat, t::BIND_LINK_REFUSED).await.map(drop);
    }
    let title = msg
        .chat_title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(title) = title else {
        return send::html(door, chat, t::BIND_LINK_NO_TITLE)
            .await
            .map(drop);
    };
    let name: String = title.chars().take(60).collect();
    let kind = crate::domain::term::BranchKind::Other;
    let branch = super::branch::bind_branch(state, chat, &name, kind, Some(org)).await?;
    let tree = store::tree(&state.db).await?;
    let org_name = tree.get(org).map(|o| o.name.clone()).unwrap_or_default();
    send::html(
        door,
        chat,
        &t::bound_by_link(&esc(&branch.name), &esc(&org_name)),
    )
    .await
    .map(drop)
}

/// An organisation sheet sent in private chat (already downloaded): super-administrators only.
pub async fn on_import(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    name: &str,
    size: usize,
    sheet: org_import::OrgSheet,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    if require(door, state, msg, user, Permission::GrantRoles)
        .await?
        .is_none()
    {
        return Ok(());
    }
    if size > MAX_IMPORT_BYTES as usize {
        return send::html(door, chat, t::IMPORT_TOO_BIG).await.map(drop);
    }
    let checked = match org_import::check(state, user.id, name, sheet).await? {
        Ok(checked) => checked,
        Err(errors) => {
            let reply = t::import_errors(&esc(name), &errors, ERRORS_SHOWN);
            return send::html(door, chat, &reply).await.map(drop);
        }
    };
    if checked.plan.is_empty() {
        return send::html(door, chat, t::IMPORT_NOTHING).await.map(drop);
    }
    let id = checked.import_id;
    let buttons = Keyboard::new([[
        Button::callback(
            t::BUTTON_CONFIRM,
            CallbackData::ConfirmOrgImport { import: id }.encode(),
        ),
        Button::callback(
            t::BUTTON_CANCEL,
            CallbackData::CancelOrgImport { import: id }.encode(),
        ),
    ]]);
    let text = t::import_checked(&esc(name), checked.rows, &checked.plan);
    send::html_with_buttons(door, chat, &text, &buttons)
        .await
        .map(drop)
}

/// The import's 确认导入 / 取消 buttons.
pub async fn on_import_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let alert = |text: &'static str| door.answer(&query.id, Some(text), true);
    let (id, confirm) = match data {
        CallbackData::ConfirmOrgImport { import } => (import, true),
        CallbackData::CancelOrgImport { import } => (import, false),
        _ => return alert(crate::texts::common::STALE_BUTTON).await,
    };
    let chat_id = query.message.map_or(query.from.id, |m| m.chat_id);
    let caller = match authorize(door, state, chat_id, &query.from, Permission::GrantRoles).await? {
        Ok(caller) => caller,
        Err(refusal) => return alert(refusal).await,
    };
    let reply = match org_import::decide(state, caller.user_id, id, confirm).await? {
        Err(Refusal::Gone) => return alert(t::ALERT_GONE).await,
        Err(Refusal::NotYours) => return alert(t::ALERT_NOT_YOURS).await,
        Err(Refusal::DoneAlready) => return alert(t::ALERT_DONE_ALREADY).await,
        Err(Refusal::Stale(errors)) => {
            door.answer(&query.id, None, false).await?;
            format!(
                "{}\n{}",
                t::IMPORT_STALE,
                t::import_errors("", &errors, ERRORS_SHOWN)
            )
        }
        Ok(Some(plan)) => {
            door.answer(&query.id, Some(t::ALERT_APPLIED), false)
                .await?;
            t::import_applied(&plan)
        }
        Ok(None) => {
            door.answer(&query.id, Some(t::ALERT_CANCELLED), false)
                .await?;
            t::IMPORT_CANCELLED.to_owned()
        }
    };
    if let Some(message) = query.message {
        let _ = door
            .clear_buttons(message.chat_id, message.message_id)
            .await;
    }
    send::html(door, chat_id, &reply).await.map(drop)
}

/// Text for one administrator's organisations, for `/admins`.
pub fn org_names(viewer: &Viewer, orgs: &[i64]) -> String {
    orgs.iter()
        .map(|o| match viewer.tree.get(*o) {
            Some(org) if *o == ROOT => format!("{}（全部）", org.name),
            Some(org) => org.name.clone(),
            None => o.to_string(),
        })
        .collect::<Vec<_>>()
        .join("、")
}
