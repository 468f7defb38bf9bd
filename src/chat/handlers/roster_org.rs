//! An organisation's roster sheet (a 支部 column) in private chat, and its confirm and cancel
//! buttons. The rules are in `service::roster_org`; phone numbers are never shown.

use crate::buttons::CallbackData;
use crate::chat::roles::{authorize, require, Permission};
use crate::chat::send::{self, esc};
use crate::chat::{Button, Door, Incoming, Keyboard, Person, Press};
use crate::error::AppResult;
use crate::roster::sheet::Layout;
use crate::service::roster_org::{self as service, Checked, Decision, Refusal};
use crate::service::AppState;
use crate::texts::roster_org as t;

/// Which roster layout an .xlsx sent in private chat has, if it is a roster at all.
pub fn roster_layout(name: &str, bytes: &[u8]) -> Option<Layout> {
    if !crate::service::roster::accepted_name(name) {
        return None;
    }
    crate::roster::sheet::layout_of(bytes)
}

/// A roster sheet sent in private chat, already downloaded (and the sender is an
/// administrator): an organisation's sheet is checked against the sender's subtree; a
/// branch's own sheet is sent back to its group.
pub async fn on_upload(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    name: &str,
    bytes: &[u8],
    layout: Layout,
    state: &AppState,
) -> AppResult<()> {
    let chat = msg.chat.id;
    if layout == Layout::Branch {
        return send::html(door, chat, t::BRANCH_SHEET_IN_PRIVATE)
            .await
            .map(drop);
    }
    let Some(caller) = require(door, state, msg, user, Permission::Administer).await? else {
        return Ok(());
    };
    let viewer = caller.viewer(state).await?;
    let checked = match service::check_upload(state, &viewer, user.id, name, bytes).await? {
        Ok(checked) => checked,
        Err(errors) => {
            return send::html(door, chat, &t::refused(&esc(name), &errors))
                .await
                .map(drop)
        }
    };
    let id = checked.upload_id;
    let buttons = Keyboard::new([[
        Button::callback(
            t::BUTTON_CONFIRM,
            CallbackData::ConfirmOrgRoster { upload: id }.encode(),
        ),
        Button::callback(
            t::BUTTON_CANCEL,
            CallbackData::CancelOrgRoster { upload: id }.encode(),
        ),
    ]]);
    send::html_with_buttons(door, chat, &summary(name, &checked), &buttons)
        .await
        .map(drop)
}

/// Characters the summary may take: it goes out with its buttons as one message (Telegram
/// takes 4096), so branch lines stop before it and the rest are totalled.
const SUMMARY_BUDGET: usize = 3600;

/// Branches with changes first, each with its counts and names; past [`t::BRANCHES_SHOWN`]
/// lines or [`SUMMARY_BUDGET`] characters the rest are totalled.
fn summary(name: &str, checked: &Checked) -> String {
    let mut branches: Vec<&service::BranchSummary> = checked.branches.iter().collect();
    branches.sort_by_key(|b| b.diff.is_empty());
    let head = t::summary_head(&esc(name), checked.people, checked.branches.len());
    let foot = t::summary_foot(checked.untouched);
    // Room for the head, the foot and the line that totals the rest.
    let mut used = head.chars().count() + foot.chars().count() + 100;
    let mut lines = vec![head];
    for b in branches.iter().take(t::BRANCHES_SHOWN) {
        let line = t::branch_line(&esc(&b.name), b.total, &b.diff);
        used += line.chars().count() + 1;
        if used > SUMMARY_BUDGET {
            break;
        }
        lines.push(line);
    }
    let rest = &branches[lines.len() - 1..];
    if !rest.is_empty() {
        let sum = |f: fn(&service::BranchSummary) -> usize| rest.iter().map(|b| f(b)).sum();
        lines.push(t::more_branches(
            rest.len(),
            sum(|b| b.diff.added.len()),
            sum(|b| b.diff.changed.len()),
            sum(|b| b.diff.left.len()),
        ));
    }
    lines.push(String::new());
    lines.push(foot);
    lines.join("\n")
}

/// ConfirmOrgRoster and CancelOrgRoster.
pub async fn on_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let alert = |text: &'static str| door.answer(&query.id, Some(text), true);
    let (id, confirm) = match data {
        CallbackData::ConfirmOrgRoster { upload } => (upload, true),
        CallbackData::CancelOrgRoster { upload } => (upload, false),
        _ => return alert(crate::texts::common::STALE_BUTTON).await,
    };
    let chat = query.message.map_or(query.from.id, |m| m.chat_id);
    let caller = match authorize(door, state, chat, &query.from, Permission::Administer).await? {
        Ok(caller) => caller,
        Err(refusal) => return alert(refusal).await,
    };
    let viewer = caller.viewer(state).await?;
    let reply = match service::decide(state, &viewer, caller.user_id, id, confirm).await? {
        Err(Refusal::Gone) => return alert(t::ALERT_GONE).await,
        Err(Refusal::NotYours) => return alert(t::ALERT_NOT_YOURS).await,
        Err(Refusal::DoneAlready) => return alert(t::ALERT_DONE_ALREADY).await,
        Err(Refusal::Stale(branches)) => {
            door.answer(&query.id, Some(t::ALERT_STALE), true).await?;
            let names: Vec<String> = branches.iter().map(|b| esc(b)).collect();
            t::stale(&names)
        }
        Ok(Decision::Applied { branches, totals }) => {
            door.answer(&query.id, Some(t::ALERT_APPLIED), false)
                .await?;
            t::applied(
                branches,
                totals.added,
                totals.changed,
                totals.left,
                totals.total,
            )
        }
        Ok(Decision::Cancelled) => {
            door.answer(&query.id, Some(t::ALERT_CANCELLED), false)
                .await?;
            t::CANCELLED.to_owned()
        }
    };
    if let Some(message) = query.message {
        // The buttons have done their job; a failure to remove them changes nothing.
        let _ = door
            .clear_buttons(message.chat_id, message.message_id)
            .await;
    }
    send::html(door, chat, &reply).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roster::RosterDiff;

    #[test]
    fn a_summary_of_many_branches_with_long_names_fits_one_message() {
        let long = |i: usize| format!("{i:0>30}");
        let branches: Vec<service::BranchSummary> = (0..500)
            .map(|b| service::BranchSummary {
                name: format!("{b}{}", "支".repeat(55)),
                total: 40,
                diff: RosterDiff {
                    added: (0..20).map(long).collect(),
                    changed: (0..20).map(long).collect(),
                    left: (0..20).map(long).collect(),
                    unchanged: 0,
                },
            })
            .collect();
        let checked = Checked {
            upload_id: 1,
            people: 20_000,
            branches,
            untouched: 3,
        };
        let text = summary("很长的文件名.xlsx", &checked);
        assert!(text.chars().count() < 4096, "{}", text.chars().count());
        assert!(text.contains("……另有"), "{text}");
        // Small ones show every branch.
        let mut few = checked.clone();
        few.branches.truncate(2);
        few.branches[1].diff = RosterDiff::default();
        let text = summary("名册.xlsx", &few);
        assert!(
            !text.contains("……另有") && text.contains("无变化"),
            "{text}"
        );
    }
}
