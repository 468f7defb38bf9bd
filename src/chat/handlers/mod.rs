//! Where every update goes: messages by chat kind and command, button presses by their data.
//! Internal errors are logged and answered with a short apology; nothing half-done is stored,
//! because every change a handler makes is one transaction.

pub mod admin;
pub mod branch;
pub mod orgs;
pub mod quiz;
pub mod reminders;
pub mod reports;
pub mod roster;
pub mod roster_org;
pub mod setup;

use crate::buttons::CallbackData;
use crate::chat::commands::{self, GroupCommand, Parsed, PrivateCommand};
use crate::chat::{guard, send, Door, Incoming, Person, Press};
use crate::error::AppResult;
use crate::service::terms::TermStart;
use crate::service::AppState;
use crate::storage::branches;
use crate::storage::outbox::{self, NewMessage};
use crate::texts::common as t;

/// A message reached the bot. Internal errors are logged and answered with a short apology
/// that claims nothing was stored only when the failure was the store's, not the sending's.
pub async fn on_message(door: &dyn Door, msg: &Incoming, state: &AppState) {
    if let Err(err) = route_message(door, msg, state).await {
        tracing::error!(chat = msg.chat.id, error = %err, "message handler failed");
        let apology = if guard::is_delivery(&err) {
            t::SEND_FAILED
        } else {
            t::INTERNAL_ERROR
        };
        let _ = send::html(door, msg.chat.id, apology).await;
    }
}

/// A button was pressed. A press is answered once: when the handler already answered it (its
/// change is stored by then), a failure afterwards is told as a message that says so instead
/// of a second answer Telegram would refuse.
pub async fn on_press(door: &dyn Door, query: &Press, state: &AppState) {
    let tracked = guard::Tracked::new(door);
    let Err(err) = route_callback(&tracked, query, state).await else {
        return;
    };
    tracing::error!(user = query.from.id, error = %err, "callback handler failed");
    if !tracked.answered() {
        let apology = if guard::is_delivery(&err) {
            t::SEND_FAILED
        } else {
            t::INTERNAL_ERROR
        };
        let _ = door.answer(&query.id, Some(apology), true).await;
    } else if let Some(chat) = query.message.map(|m| m.chat_id) {
        let _ = send::html(door, chat, t::SAVED_BUT_REPLY_FAILED).await;
    }
}

/// The bot was removed from a group. Removed from a bound branch group, it can no longer remind
/// that branch: the superior organisation is told at once instead of finding out at an inspection.
/// `event_at` (Unix seconds) tells one removal from a later one.
pub async fn on_removed_from_group(state: &AppState, chat_id: i64, event_at: i64) -> AppResult<()> {
    let Some(branch) = branches::by_chat(&state.db, chat_id).await? else {
        return Ok(());
    };
    tracing::warn!(
        branch = branch.id,
        chat = branch.chat_id,
        "the bot was removed from a branch group"
    );
    let Some(admin_chat) = crate::service::orgs::escalation_chat(state, branch.org_id).await?
    else {
        return Ok(());
    };
    let now = state.now();
    let notice = NewMessage {
        key: format!("removed:{}:{event_at}", branch.id),
        topic: None,
        chat_id: admin_chat,
        text: t::bot_removed(&send::esc(&branch.name), &branch.kind),
        markup: None,
        due_at: now.timestamp(),
        expires_at: None,
    };
    outbox::enqueue(&state.db, &notice, now.timestamp()).await?;
    state.wake.notify_one();
    Ok(())
}

/// Remembers who wrote, so administrators can be granted by @username later.
async fn remember(state: &AppState, user: &Person) -> AppResult<()> {
    let now = state.now().timestamp();
    branches::upsert_user(
        &state.db,
        user.id,
        &user.name,
        user.username.as_deref(),
        now,
    )
    .await
}

async fn route_message(door: &dyn Door, msg: &Incoming, state: &AppState) -> AppResult<()> {
    let user = &msg.from;
    if user.is_bot && !msg.as_group_admin {
        return Ok(());
    }
    let bot_name = state.bot_username.as_str();
    if msg.chat.is_private() {
        remember(state, user).await?;
        if msg.document.is_some() {
            return admin::on_document(door, msg, user, state).await;
        }
        if let Some(contact) = &msg.contact {
            return roster::on_contact(door, msg, contact, state).await;
        }
        let Some(text) = msg.text.as_deref() else {
            return send::html(door, msg.chat.id, t::PRIVATE_HINT)
                .await
                .map(drop);
        };
        match commands::parse::<PrivateCommand, GroupCommand>(text, bot_name) {
            Parsed::Command(cmd) => private_command(door, msg, user, cmd, state).await,
            Parsed::WrongChat => send::html(door, msg.chat.id, t::GROUP_ONLY).await.map(drop),
            Parsed::Unknown => send::html(door, msg.chat.id, t::UNKNOWN_COMMAND)
                .await
                .map(drop),
            Parsed::NotForUs => send::html(door, msg.chat.id, t::PRIVATE_HINT)
                .await
                .map(drop),
        }
    } else if msg.chat.is_group() {
        // A document's caption is its text: a sheet sent with "/roster" is a roster upload.
        if let Some(document) = &msg.document {
            return roster::on_group_document(door, msg, user, document, state).await;
        }
        let Some(text) = msg.text.as_deref() else {
            return Ok(());
        };
        match commands::parse::<GroupCommand, PrivateCommand>(text, bot_name) {
            Parsed::Command(cmd) => {
                remember(state, user).await?;
                group_command(door, msg, user, cmd, state).await
            }
            Parsed::WrongChat => send::html(door, msg.chat.id, t::PRIVATE_ONLY)
                .await
                .map(drop),
            Parsed::Unknown => send::html(door, msg.chat.id, t::UNKNOWN_COMMAND)
                .await
                .map(drop),
            Parsed::NotForUs => Ok(()),
        }
    } else {
        Ok(())
    }
}

/// A basic group upgraded to a supergroup gets a new chat id: the branch bound to the old group
/// (and its queued messages) moves to the supergroup, so the branch keeps its history and join
/// code and reminders reach the chat people now use.
pub async fn follow_migration(state: &AppState, from: i64, to: i64) -> AppResult<()> {
    crate::storage::orgs::migrate_admin_chat(&state.db, from, to).await?;
    if branches::migrate_chat(&state.db, from, to).await? {
        tracing::info!(
            from,
            to,
            "group upgraded to a supergroup; the branch follows"
        );
        state.wake.notify_one();
    }
    Ok(())
}

async fn private_command(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    cmd: PrivateCommand,
    state: &AppState,
) -> AppResult<()> {
    use PrivateCommand as C;
    match cmd {
        C::Start(payload) => branch::start_private(door, msg, user, payload.trim(), state).await,
        C::Help => branch::help_private(door, msg, user, state).await,
        C::Join(code) => branch::join(door, msg, user, code.trim(), state).await,
        C::Grant(who) => branch::grant(door, msg, user, who.trim(), true, state).await,
        C::Revoke(who) => branch::grant(door, msg, user, who.trim(), false, state).await,
        C::Admins => branch::list_admins(door, msg, user, state).await,
        C::Org(args) => orgs::org(door, msg, user, args.trim(), state).await,
        C::Test => quiz::entry(door, msg.chat.id, user, state).await,
        C::Practice => quiz::practice(door, msg, user, state).await,
        C::Myscores => quiz::myscores(door, msg, user, state).await,
        C::Report(args) => reports::report_private(door, msg, user, args.trim(), state).await,
        C::Overdue(args) => reports::overdue(door, msg, user, args.trim(), state).await,
        C::Rounds(args) => admin::rounds(door, msg, user, args.trim(), state).await,
        C::Bank => admin::bank(door, msg, user, state).await,
        C::Whoami => setup::whoami(door, msg, user).await,
        C::Claim(code) => setup::claim(door, msg, user, &code, state).await,
    }
}

async fn group_command(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    cmd: GroupCommand,
    state: &AppState,
) -> AppResult<()> {
    use GroupCommand as C;
    match cmd {
        C::Start(payload) => match payload
            .trim()
            .strip_prefix(crate::service::orgs::BIND_PAYLOAD)
        {
            Some(code) => orgs::start_group(door, msg, user, code, state).await,
            None => branch::help_group(door, msg, user, state).await,
        },
        C::Help => branch::help_group(door, msg, user, state).await,
        C::Bind(args) => branch::bind(door, msg, user, args.trim(), state).await,
        C::Unbind => branch::unbind(door, msg, user, state).await,
        C::Status => branch::status(door, msg, state).await,
        C::Invite => branch::invite(door, msg, user, state).await,
        C::Term(args) => {
            reminders::term(door, msg, user, args.trim(), TermStart::Current, state).await
        }
        C::Elected(args) => {
            reminders::term(door, msg, user, args.trim(), TermStart::Election, state).await
        }
        C::Delay(args) => reminders::delay(door, msg, user, args.trim(), state).await,
        C::Meetings => reminders::meetings(door, msg, state).await,
        C::Plan(args) => reminders::plan(door, msg, user, args.trim(), state).await,
        C::Unplan(args) => reminders::unplan(door, msg, user, args.trim(), state).await,
        C::Held(args) => reminders::held(door, msg, user, args.trim(), state).await,
        C::Report(args) => reports::report_group(door, msg, user, args.trim(), state).await,
        C::Whoami => setup::whoami(door, msg, user).await,
        C::Adminchat(args) => orgs::adminchat(door, msg, user, args.trim(), state).await,
        C::Roster(args) => roster::command(door, msg, user, args.trim(), state).await,
    }
}

async fn route_callback(door: &dyn Door, query: &Press, state: &AppState) -> AppResult<()> {
    let data = query.data.as_deref().and_then(CallbackData::decode);
    // A test question's buttons reach only the trainee who wrote /test (remembered then): an
    // answer is not worth a second write (issue 14).
    let answering = matches!(
        data,
        Some(
            CallbackData::Answer { .. } | CallbackData::Toggle { .. } | CallbackData::Submit { .. }
        )
    );
    if !answering {
        remember(state, &query.from).await?;
    }
    match data {
        None => door.answer(&query.id, Some(t::STALE_BUTTON), true).await?,
        Some(
            data @ (CallbackData::Held { .. }
            | CallbackData::Move { .. }
            | CallbackData::MoveBy { .. }),
        ) => {
            reminders::on_meeting_button(door, query, data, state).await?;
        }
        Some(data @ (CallbackData::ConfirmUpload { .. } | CallbackData::CancelUpload { .. })) => {
            admin::on_upload_button(door, query, data, state).await?;
        }
        Some(
            data @ (CallbackData::ConfirmOrgImport { .. } | CallbackData::CancelOrgImport { .. }),
        ) => {
            orgs::on_import_button(door, query, data, state).await?;
        }
        Some(
            data @ (CallbackData::ConfirmRoster { .. }
            | CallbackData::CancelRoster { .. }
            | CallbackData::ClaimPerson { .. }
            | CallbackData::ConfirmClaim { .. }
            | CallbackData::RefuseClaim { .. }),
        ) => {
            roster::on_button(door, query, data, state).await?;
        }
        Some(
            data @ (CallbackData::ConfirmOrgRoster { .. } | CallbackData::CancelOrgRoster { .. }),
        ) => {
            roster_org::on_button(door, query, data, state).await?;
        }
        Some(data) => quiz::on_button(door, query, data, state).await?,
    }
    Ok(())
}

/// Starts (or resumes) the open round's test for a trainee in private chat.
pub async fn quiz_entry(
    door: &dyn Door,
    chat_id: i64,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    quiz::entry(door, chat_id, user, state).await
}

/// A branch was bound (or bound again): give it the default meeting plan if it has none.
pub async fn on_branch_bound(
    state: &AppState,
    branch: &branches::Branch,
    _new: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    crate::service::meetings::install_default_plan(state, branch, now).await?;
    // A group bound while a round is open is told about it at once, like the others were.
    if crate::service::calendar::announce_open_round_to(state, branch, now).await? {
        state.wake.notify_one();
    }
    Ok(())
}

/// The term and meeting sections of `/status`.
pub async fn status_sections(state: &AppState, branch: &branches::Branch) -> AppResult<String> {
    reminders::status_sections(state, branch).await
}
