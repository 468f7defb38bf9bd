//! Rosters in chat: `/roster` in the branch group (counts, template, upload, unlink), a roster
//! sheet sent to the group and its confirmation, and linking an account to a roster person in
//! private chat (a verified phone number, or a name the secretary confirms in the group). The
//! rules are in `service::roster`. Phone numbers are never written to a group.

use crate::buttons::CallbackData;
use crate::chat::roles::{authorize, require, Permission};
use crate::chat::send::{self, esc};
use crate::chat::{Button, Contact, Document, Door, Incoming, Keyboard, OutFile, Person, Press};
use crate::error::AppResult;
use crate::service::roster::{
    self as service, ClaimOutcome, ClaimRefusal, ContactOutcome, Decision, Refusal, Rejected,
    Unlinked, MAX_UPLOAD_BYTES,
};
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::texts::common;
use crate::texts::roster as t;

/// What `/roster` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Show,
    Template,
    Upload,
    Unlink(String),
    Usage,
}

pub fn parse_args(args: &str) -> Action {
    let args = args.trim();
    let (word, rest) = args
        .split_once(char::is_whitespace)
        .map_or((args, ""), |(w, r)| (w, r.trim()));
    match (word.to_lowercase().as_str(), rest) {
        ("", _) => Action::Show,
        ("template" | "模板", "") => Action::Template,
        ("upload" | "上传", "") => Action::Upload,
        ("unlink" | "解除", name) if !name.is_empty() => Action::Unlink(name.to_owned()),
        _ => Action::Usage,
    }
}

/// `/roster …` in a group: for the group's administrators (the secretary) only.
pub async fn command(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    let Some(branch) = branches::by_chat(&state.db, msg.chat.id).await? else {
        return send::html(door, msg.chat.id, common::NOT_BOUND)
            .await
            .map(drop);
    };
    if require(door, state, msg, user, Permission::ManageBranch)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let reply = match parse_args(args) {
        Action::Show => show(state, &branch).await?,
        Action::Template => {
            let bytes = crate::roster::template::template()
                .map_err(|e| crate::error::AppError::Report(format!("roster template: {e}")))?;
            let file = OutFile {
                name: t::TEMPLATE_FILE.to_owned(),
                bytes,
                caption: Some(t::TEMPLATE_CAPTION.to_owned()),
            };
            return door.send_files(msg.chat.id, vec![file]).await;
        }
        Action::Upload => {
            service::expect_upload(state, msg.chat.id, user.id).await?;
            t::upload_waiting(service::REQUEST_MINUTES)
        }
        Action::Unlink(name) => match service::unlink(state, branch.id, &name).await? {
            Unlinked::Unlinked => t::unlinked(&esc(&name)),
            Unlinked::NotLinked => t::not_linked(&esc(&name)),
            Unlinked::NotOnRoster => t::not_on_roster(&esc(&name)),
        },
        Action::Usage => t::USAGE.to_owned(),
    };
    send::html(door, msg.chat.id, &reply).await.map(drop)
}

async fn show(state: &AppState, branch: &Branch) -> AppResult<String> {
    let o = service::overview(state, branch.id).await?;
    if o.people == 0 && o.left == 0 {
        return Ok(t::NO_ROSTER.to_owned());
    }
    Ok(t::overview(&t::Overview {
        branch: &esc(&branch.name),
        people: o.people,
        members: o.members,
        due: o.due,
        linked: o.linked,
        due_linked: o.due_linked,
        left: o.left,
        with_phone: o.with_phone,
    }))
}

/// A document in a group: a roster when its caption says so or `/roster upload` was sent just
/// before by the same person; anything else goes where group documents went before.
pub async fn on_group_document(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    document: &Document,
    state: &AppState,
) -> AppResult<()> {
    let captioned = msg
        .text
        .as_deref()
        .is_some_and(|c| service::is_roster_caption(c, &state.bot_username));
    let is_roster = captioned || service::upload_expected(state, msg.chat.id, user.id).await?;
    if !is_roster {
        return super::admin::on_group_document(door, msg, user, document, state).await;
    }
    let Some(branch) = branches::by_chat(&state.db, msg.chat.id).await? else {
        return send::html(door, msg.chat.id, common::NOT_BOUND)
            .await
            .map(drop);
    };
    if require(door, state, msg, user, Permission::ManageBranch)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let name = document.file_name.as_deref().unwrap_or_default().trim();
    if !service::accepted_name(name) {
        return send::html(door, msg.chat.id, t::UPLOAD_WRONG_TYPE)
            .await
            .map(drop);
    }
    let too_big = t::upload_too_big(MAX_UPLOAD_BYTES / (1024 * 1024));
    if document.size != u32::MAX && document.size > MAX_UPLOAD_BYTES {
        return send::html(door, msg.chat.id, &too_big).await.map(drop);
    }
    let bytes = match door.download(document).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, "could not download an uploaded roster");
            return send::html(door, msg.chat.id, t::UPLOAD_DOWNLOAD_FAILED)
                .await
                .map(drop);
        }
    };
    if bytes.len() > MAX_UPLOAD_BYTES as usize {
        return send::html(door, msg.chat.id, &too_big).await.map(drop);
    }
    let checked = match service::check_upload(state, branch.id, user.id, name, &bytes).await? {
        Ok(checked) => checked,
        Err(Rejected::OrganisationSheet) => {
            return send::html(door, msg.chat.id, t::ORG_SHEET_NOT_YET)
                .await
                .map(drop);
        }
        Err(Rejected::Errors(errors)) => {
            return send::html(door, msg.chat.id, &t::upload_refused(&errors))
                .await
                .map(drop);
        }
    };
    let id = checked.upload_id;
    let buttons = Keyboard::new([[
        Button::callback(
            t::BUTTON_CONFIRM,
            CallbackData::ConfirmRoster { upload: id }.encode(),
        ),
        Button::callback(
            t::BUTTON_CANCEL,
            CallbackData::CancelRoster { upload: id }.encode(),
        ),
    ]]);
    let text = t::upload_summary(&esc(name), checked.total, &checked.diff);
    send::html_with_buttons(door, msg.chat.id, &text, &buttons)
        .await
        .map(drop)
}

/// Every roster button.
pub async fn on_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    match data {
        CallbackData::ConfirmRoster { upload } => on_upload(door, query, upload, true, state).await,
        CallbackData::CancelRoster { upload } => on_upload(door, query, upload, false, state).await,
        CallbackData::ClaimPerson { person } => on_claim(door, query, person, state).await,
        CallbackData::ConfirmClaim { claim } => on_decide(door, query, claim, true, state).await,
        CallbackData::RefuseClaim { claim } => on_decide(door, query, claim, false, state).await,
        _ => alert(door, query, common::STALE_BUTTON).await,
    }
}

async fn alert(door: &dyn Door, query: &Press, text: &str) -> AppResult<()> {
    door.answer(&query.id, Some(text), true).await
}

/// The group's branch and the caller's right to manage it, for a press in a group; `None`
/// when refused (and answered).
async fn group_press(
    door: &dyn Door,
    query: &Press,
    state: &AppState,
) -> AppResult<Option<(Branch, i64)>> {
    let Some(chat) = query.message.map(|m| m.chat_id) else {
        alert(door, query, common::STALE_BUTTON).await?;
        return Ok(None);
    };
    let Some(branch) = branches::by_chat(&state.db, chat).await? else {
        alert(door, query, t::ALERT_WRONG_CHAT).await?;
        return Ok(None);
    };
    if let Err(refusal) =
        authorize(door, state, chat, &query.from, Permission::ManageBranch).await?
    {
        alert(door, query, refusal).await?;
        return Ok(None);
    }
    Ok(Some((branch, chat)))
}

async fn clear(door: &dyn Door, query: &Press) {
    if let Some(message) = query.message {
        // The buttons have done their job; a failure to remove them changes nothing.
        let _ = door
            .clear_buttons(message.chat_id, message.message_id)
            .await;
    }
}

async fn on_upload(
    door: &dyn Door,
    query: &Press,
    id: i64,
    confirm: bool,
    state: &AppState,
) -> AppResult<()> {
    let Some((branch, chat)) = group_press(door, query, state).await? else {
        return Ok(());
    };
    let reply = match service::decide(state, branch.id, query.from.id, id, confirm).await? {
        Err(Refusal::Gone) => return alert(door, query, t::ALERT_GONE).await,
        Err(Refusal::WrongBranch) => return alert(door, query, t::ALERT_WRONG_CHAT).await,
        Err(Refusal::NotYours) => return alert(door, query, t::ALERT_NOT_YOURS).await,
        Err(Refusal::DoneAlready) => return alert(door, query, t::ALERT_DONE_ALREADY).await,
        Err(Refusal::NotNewest) => return alert(door, query, t::ALERT_NOT_NEWEST).await,
        Err(Refusal::ChangedSince) => return alert(door, query, t::ALERT_CHANGED_SINCE).await,
        Ok(Decision::Applied(a)) => {
            door.answer(&query.id, Some(t::ALERT_APPLIED), false)
                .await?;
            t::applied(a.added, a.changed, a.left, a.total)
        }
        Ok(Decision::Cancelled) => {
            door.answer(&query.id, Some(t::ALERT_CANCELLED), false)
                .await?;
            t::CANCELLED.to_owned()
        }
    };
    clear(door, query).await;
    send::html(door, chat, &reply).await.map(drop)
}

// ---- linking --------------------------------------------------------------------------------

/// After someone joined `branch` in private chat: when it has a roster and they are not on it
/// yet, ask who they are. Branches without a roster are left as they were.
pub async fn offer_link(
    door: &dyn Door,
    chat: i64,
    user: i64,
    branch: &Branch,
    state: &AppState,
) -> AppResult<()> {
    let Some(offer) = service::offer(state, branch.id, user).await? else {
        return Ok(());
    };
    let prompt = t::link_prompt(&esc(&branch.name), offer.phones);
    if offer.phones {
        door.send_contact_request(chat, &prompt, Some(t::CONTACT_BUTTON))
            .await?;
    } else {
        send::html(door, chat, &prompt).await?;
    }
    if offer.names.is_empty() {
        return send::html(door, chat, t::NO_NAMES_LEFT).await.map(drop);
    }
    let buttons: Vec<Button> = offer
        .names
        .iter()
        .map(|(id, name)| {
            Button::callback(
                name.clone(),
                CallbackData::ClaimPerson { person: *id }.encode(),
            )
        })
        .collect();
    let rows: Vec<Vec<Button>> = buttons.chunks(3).map(<[Button]>::to_vec).collect();
    send::html_with_buttons(door, chat, t::CHOOSE_NAME, &Keyboard::new(rows))
        .await
        .map(drop)
}

/// A contact sent in private chat.
pub async fn on_contact(
    door: &dyn Door,
    msg: &Incoming,
    contact: &Contact,
    state: &AppState,
) -> AppResult<()> {
    let outcome =
        service::link_by_contact(state, msg.from.id, contact.user_id, &contact.phone).await?;
    let reply = match outcome {
        // The button stays, so the person can press it instead of forwarding a card.
        ContactOutcome::NotOwn => {
            return send::html(door, msg.chat.id, t::CONTACT_NOT_OWN)
                .await
                .map(drop)
        }
        ContactOutcome::NotNeeded => t::CONTACT_NOT_NEEDED.to_owned(),
        ContactOutcome::NoMatch => t::CONTACT_NO_MATCH.to_owned(),
        ContactOutcome::Taken => t::CONTACT_TAKEN.to_owned(),
        ContactOutcome::Linked { name, branch } => t::linked(&esc(&name), &esc(&branch)),
    };
    door.send_contact_request(msg.chat.id, &reply, None)
        .await
        .map(drop)
}

/// A name chosen in private chat: the claim goes to the branch group for the secretary.
async fn on_claim(door: &dyn Door, query: &Press, person: i64, state: &AppState) -> AppResult<()> {
    let (claim_id, name, branch) = match service::claim_name(state, query.from.id, person).await? {
        ClaimOutcome::NotMember => return alert(door, query, t::ALERT_NOT_MEMBER).await,
        ClaimOutcome::AlreadyLinked => return alert(door, query, t::ALERT_ALREADY_LINKED).await,
        ClaimOutcome::Taken => return alert(door, query, t::ALERT_NAME_TAKEN).await,
        ClaimOutcome::Sent {
            claim_id,
            name,
            branch,
        } => (claim_id, name, branch),
    };
    door.answer(&query.id, Some(t::ALERT_CLAIM_SENT), false)
        .await?;
    let buttons = Keyboard::new([[
        Button::callback(
            t::BUTTON_CLAIM_OK,
            CallbackData::ConfirmClaim { claim: claim_id }.encode(),
        ),
        Button::callback(
            t::BUTTON_CLAIM_NO,
            CallbackData::RefuseClaim { claim: claim_id }.encode(),
        ),
    ]]);
    let request = t::claim_request(&esc(&query.from.name), &esc(&name));
    send::html_with_buttons(door, branch.chat_id, &request, &buttons).await?;
    if let Some(message) = query.message {
        door.edit(
            message.chat_id,
            message.message_id,
            &t::claim_sent(&esc(&name)),
            None,
        )
        .await?;
    }
    Ok(())
}

/// The secretary's press on a claim in the group.
async fn on_decide(
    door: &dyn Door,
    query: &Press,
    claim: i64,
    confirm: bool,
    state: &AppState,
) -> AppResult<()> {
    let Some((branch, chat)) = group_press(door, query, state).await? else {
        return Ok(());
    };
    let decided = match service::decide_claim(state, &branch, query.from.id, claim, confirm).await?
    {
        Err(ClaimRefusal::Gone) => return alert(door, query, t::ALERT_GONE).await,
        Err(ClaimRefusal::WrongBranch) => return alert(door, query, t::ALERT_WRONG_CHAT).await,
        Err(ClaimRefusal::DoneAlready) => return alert(door, query, t::ALERT_CLAIM_DONE).await,
        Err(ClaimRefusal::Taken) => return alert(door, query, t::ALERT_NAME_TAKEN).await,
        Ok(decided) => decided,
    };
    let toast = if confirm {
        t::ALERT_CLAIM_CONFIRMED
    } else {
        t::ALERT_CLAIM_REFUSED
    };
    door.answer(&query.id, Some(toast), false).await?;
    clear(door, query).await;
    let (who, as_whom) = (esc(&decided.user_name), esc(&decided.person));
    let (group, private) = if decided.confirmed {
        (
            t::claim_confirmed_group(&who, &as_whom),
            t::linked(&as_whom, &esc(&decided.branch)),
        )
    } else {
        (
            t::claim_refused_group(&who, &as_whom),
            t::claim_refused_private(&as_whom),
        )
    };
    send::html(door, chat, &group).await?;
    // The person may have blocked the bot since; the group has been told either way. Once
    // linked, the phone button offered with the names is taken away.
    let told = if decided.confirmed {
        door.send_contact_request(decided.user_id, &private, None)
            .await
    } else {
        send::html(door, decided.user_id, &private).await
    };
    if let Err(err) = told {
        tracing::warn!(user = decided.user_id, error = %err, "could not tell a claimant");
    }
    Ok(())
}

// ---- /status --------------------------------------------------------------------------------

/// The roster's part of `/status`: the election arithmetic with its sources, or that the
/// branch counts joined members only.
pub async fn status_section(state: &AppState, branch: &Branch) -> AppResult<String> {
    let today = crate::domain::dates::local_date(state.config.timezone, state.now());
    Ok(match service::election(state, branch.id, today).await? {
        Some((election, overdue)) => t::election_section(&election, &overdue),
        None => t::STATUS_NO_ROSTER.to_owned(),
    })
}

/// The roster's part of `/overdue`: 预备党员 whose 预备期 has ended, by branch of `viewer`'s
/// subtree; `None` when there are none.
pub async fn overdue_section(
    state: &AppState,
    viewer: &crate::service::orgs::Viewer,
) -> AppResult<Option<String>> {
    let today = crate::domain::dates::local_date(state.config.timezone, state.now());
    let branches = service::probation_overdue(state, viewer, today).await?;
    Ok((!branches.is_empty()).then(|| t::overdue_probation(&branches)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_arguments() {
        assert_eq!(parse_args(""), Action::Show);
        assert_eq!(parse_args(" Template "), Action::Template);
        assert_eq!(parse_args("上传"), Action::Upload);
        assert_eq!(parse_args("unlink 张 三"), Action::Unlink("张 三".into()));
        assert_eq!(parse_args("unlink"), Action::Usage);
        assert_eq!(parse_args("upload now"), Action::Usage);
    }
}
