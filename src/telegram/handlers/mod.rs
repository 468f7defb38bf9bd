//! Where every update goes: messages by chat kind and command, button presses by their data.
//! Internal errors are logged and answered with a short apology; nothing half-done is stored,
//! because every change a handler makes is one transaction.

pub mod admin;
pub mod branch;
pub mod quiz;
pub mod reminders;
pub mod reports;
pub mod setup;

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, Me, User};

use crate::error::AppResult;
use crate::storage::branches;
use crate::storage::outbox::{self, NewMessage};
use crate::telegram::callbacks::CallbackData;
use crate::telegram::commands::{self, GroupCommand, Parsed, PrivateCommand};
use crate::telegram::roles::is_anonymous_admin;
use crate::telegram::{send, AppState};
use crate::texts::common as t;

pub type State = Arc<AppState>;

pub async fn on_message(bot: Bot, msg: Message, me: Me, state: State) -> AppResult<()> {
    if let Err(err) = route_message(&bot, &msg, &me, &state).await {
        tracing::error!(chat = msg.chat.id.0, error = %err, "message handler failed");
        let _ = send::html(&bot, msg.chat.id, t::INTERNAL_ERROR).await;
    }
    Ok(())
}

pub async fn on_callback(bot: Bot, query: CallbackQuery, state: State) -> AppResult<()> {
    if let Err(err) = route_callback(&bot, &query, &state).await {
        tracing::error!(user = query.from.id.0, error = %err, "callback handler failed");
        let _ = bot
            .answer_callback_query(query.id.clone())
            .text(t::INTERNAL_ERROR)
            .show_alert(true)
            .await;
    }
    Ok(())
}

/// The bot's own membership changed. Removed from a bound branch group, it can no longer remind
/// that branch: the superior organisation is told at once instead of finding out at an inspection.
pub async fn on_my_chat_member(update: ChatMemberUpdated, state: State) -> AppResult<()> {
    let removed = update.old_chat_member.is_present() && !update.new_chat_member.is_present();
    if !removed {
        return Ok(());
    }
    let Some(branch) = branches::by_chat(&state.db, update.chat.id.0).await? else {
        return Ok(());
    };
    tracing::warn!(
        branch = branch.id,
        chat = branch.chat_id,
        "the bot was removed from a branch group"
    );
    let Some(admin_chat) = crate::first_run::admin_chat(&state).await? else {
        return Ok(());
    };
    let now = state.now();
    let notice = NewMessage {
        key: format!("removed:{}:{}", branch.id, update.date.timestamp()),
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
async fn remember(state: &AppState, user: &User) -> AppResult<()> {
    let now = state.now().timestamp();
    branches::upsert_user(
        &state.db,
        user.id.0 as i64,
        &user.full_name(),
        user.username.as_deref(),
        now,
    )
    .await
}

async fn route_message(bot: &Bot, msg: &Message, me: &Me, state: &State) -> AppResult<()> {
    // A basic group upgraded to a supergroup gets a new chat id; Telegram tells both chats.
    if let Some(to) = msg.migrate_to_chat_id() {
        return follow_migration(state, msg.chat.id.0, to.0).await;
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        return follow_migration(state, from.0, msg.chat.id.0).await;
    }
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    if user.is_bot && !is_anonymous_admin(msg) {
        return Ok(());
    }
    let bot_name = me.username();
    if msg.chat.is_private() {
        remember(state, user).await?;
        if msg.document().is_some() {
            return handle_document(bot, msg, user, state).await;
        }
        let Some(text) = msg.text() else {
            return send::html(bot, msg.chat.id, t::PRIVATE_HINT)
                .await
                .map(drop);
        };
        match commands::parse::<PrivateCommand, GroupCommand>(text, bot_name) {
            Parsed::Command(cmd) => private_command(bot, msg, user, cmd, state).await,
            Parsed::WrongChat => send::html(bot, msg.chat.id, t::GROUP_ONLY).await.map(drop),
            Parsed::Unknown => send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND)
                .await
                .map(drop),
            Parsed::NotForUs => send::html(bot, msg.chat.id, t::PRIVATE_HINT)
                .await
                .map(drop),
        }
    } else if msg.chat.is_group() || msg.chat.is_supergroup() {
        let Some(text) = msg.text() else {
            return Ok(());
        };
        match commands::parse::<GroupCommand, PrivateCommand>(text, bot_name) {
            Parsed::Command(cmd) => {
                remember(state, user).await?;
                group_command(bot, msg, user, cmd, state).await
            }
            Parsed::WrongChat => send::html(bot, msg.chat.id, t::PRIVATE_ONLY)
                .await
                .map(drop),
            Parsed::Unknown => send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND)
                .await
                .map(drop),
            Parsed::NotForUs => Ok(()),
        }
    } else {
        Ok(())
    }
}

/// Moves the branch bound to the old group (and its queued messages) to the supergroup, so the
/// branch keeps its history and join code and reminders reach the chat people now use.
async fn follow_migration(state: &AppState, from: i64, to: i64) -> AppResult<()> {
    crate::storage::setup::migrate_admin_chat(&state.db, from, to).await?;
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
    bot: &Bot,
    msg: &Message,
    user: &User,
    cmd: PrivateCommand,
    state: &State,
) -> AppResult<()> {
    use PrivateCommand as C;
    match cmd {
        C::Start(payload) => branch::start_private(bot, msg, user, payload.trim(), state).await,
        C::Help => branch::help_private(bot, msg, user, state).await,
        C::Join(code) => branch::join(bot, msg, user, code.trim(), state).await,
        C::Grant(who) => branch::grant(bot, msg, user, who.trim(), true, state).await,
        C::Revoke(who) => branch::grant(bot, msg, user, who.trim(), false, state).await,
        C::Admins => branch::list_admins(bot, msg, user, state).await,
        C::Test => quiz::entry(bot, msg.chat.id, user, state).await,
        C::Practice => quiz::practice(bot, msg, user, state).await,
        C::Myscores => quiz::myscores(bot, msg, user, state).await,
        C::Report(args) => reports::report_private(bot, msg, user, args.trim(), state).await,
        C::Overdue(args) => reports::overdue(bot, msg, user, args.trim(), state).await,
        C::Rounds(args) => admin::rounds(bot, msg, user, args.trim(), state).await,
        C::Bank => admin::bank(bot, msg, user, state).await,
        C::Whoami => setup::whoami(bot, msg, user).await,
        C::Claim(code) => setup::claim(bot, msg, user, &code, state).await,
    }
}

async fn group_command(
    bot: &Bot,
    msg: &Message,
    user: &User,
    cmd: GroupCommand,
    state: &State,
) -> AppResult<()> {
    use GroupCommand as C;
    match cmd {
        C::Start(_) | C::Help => branch::help_group(bot, msg, user, state).await,
        C::Bind(args) => branch::bind(bot, msg, user, args.trim(), state).await,
        C::Unbind => branch::unbind(bot, msg, user, state).await,
        C::Status => branch::status(bot, msg, state).await,
        C::Invite => branch::invite(bot, msg, user, state).await,
        C::Term(args) => reminders::term(bot, msg, user, args.trim(), state).await,
        C::Elected(args) => reminders::elected(bot, msg, user, args.trim(), state).await,
        C::Delay(args) => reminders::delay(bot, msg, user, args.trim(), state).await,
        C::Meetings => reminders::meetings(bot, msg, state).await,
        C::Plan(args) => reminders::plan(bot, msg, user, args.trim(), state).await,
        C::Unplan(args) => reminders::unplan(bot, msg, user, args.trim(), state).await,
        C::Held(args) => reminders::held(bot, msg, user, args.trim(), state).await,
        C::Report(args) => reports::report_group(bot, msg, user, args.trim(), state).await,
        C::Whoami => setup::whoami(bot, msg, user).await,
        C::Adminchat => setup::adminchat(bot, msg, user, state).await,
    }
}

async fn handle_document(bot: &Bot, msg: &Message, user: &User, state: &State) -> AppResult<()> {
    admin::on_document(bot, msg, user, state).await
}

async fn route_callback(bot: &Bot, query: &CallbackQuery, state: &State) -> AppResult<()> {
    remember(state, &query.from).await?;
    let data = query.data.as_deref().and_then(CallbackData::decode);
    match data {
        None => {
            bot.answer_callback_query(query.id.clone())
                .text(crate::texts::common::STALE_BUTTON)
                .show_alert(true)
                .await?;
        }
        Some(
            data @ (CallbackData::Held { .. }
            | CallbackData::Move { .. }
            | CallbackData::MoveBy { .. }),
        ) => {
            reminders::on_meeting_button(bot, query, data, state).await?;
        }
        Some(data @ (CallbackData::ConfirmUpload { .. } | CallbackData::CancelUpload { .. })) => {
            admin::on_upload_button(bot, query, data, state).await?;
        }
        Some(data) => quiz::on_button(bot, query, data, state).await?,
    }
    Ok(())
}

/// Starts (or resumes) the open round's test for a trainee in private chat.
pub async fn quiz_entry(
    bot: &Bot,
    chat_id: ChatId,
    user: &User,
    state: &AppState,
) -> AppResult<()> {
    quiz::entry(bot, chat_id, user, state).await
}

/// A branch was bound (or bound again): give it the default meeting plan if it has none.
pub async fn on_branch_bound(
    state: &AppState,
    branch: &branches::Branch,
    _new: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    reminders::on_branch_bound(state, branch, now).await?;
    // A group bound while a round is open is told about it at once, like the others were.
    if crate::scheduler::rounds::announce_open_round_to(state, branch, now).await? {
        state.wake.notify_one();
    }
    Ok(())
}

/// The term and meeting sections of `/status`.
pub async fn status_sections(state: &AppState, branch: &branches::Branch) -> AppResult<String> {
    reminders::status_sections(state, branch).await
}
