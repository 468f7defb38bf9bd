//! Administrators in private chat: the test calendar (/rounds) and the question bank
//! (/bank, uploading a TOML or Excel bank, confirming it). The rules are in `service::rounds`
//! and `service::bank`.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::buttons::CallbackData;
use crate::chat::roles::{authorize, require, Permission};
use crate::chat::send::{self, esc};
use crate::chat::{Button, Door, Incoming, Keyboard, Person, Press};
use crate::domain::schedule::parse_schedule;
use crate::error::AppResult;
use crate::questions::{render_summary, render_upload_result, summarize};
use crate::service::bank::{self, accepted_name, Decision, Refusal, MAX_UPLOAD_BYTES};
use crate::service::rounds::{self as calendar, Closed, Opened};
use crate::service::AppState;
use crate::texts::rounds as texts;

/// Rounds listed by `/rounds`.
const RECENT_ROUNDS: i64 = 5;
/// Calendar openings listed by `/rounds`.
const NEXT_OPENINGS: usize = 3;

// ---- /rounds --------------------------------------------------------------------------------

/// What `/rounds` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundsAction {
    Show,
    Open,
    Close,
    Usage,
}

pub fn parse_rounds_args(args: &str) -> RoundsAction {
    match args.trim().to_lowercase().as_str() {
        "" => RoundsAction::Show,
        "open" | "开启" | "开始" => RoundsAction::Open,
        "close" | "结束" | "关闭" => RoundsAction::Close,
        _ => RoundsAction::Usage,
    }
}

pub async fn rounds(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::AdministerRoot)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let tz = state.config.timezone;
    let reply = match parse_rounds_args(args) {
        RoundsAction::Show => rounds_overview(state).await?,
        RoundsAction::Open => match calendar::open_now(state, user.id).await? {
            Opened::AlreadyOpen(id) => texts::already_open(id),
            Opened::Opened {
                round_id,
                closes_at,
                groups_told,
            } => texts::opened_by_hand(round_id, &closes_at.with_timezone(&tz), groups_told),
        },
        RoundsAction::Close => match calendar::close_now(state).await? {
            Closed::NoneOpen => texts::NONE_OPEN.to_owned(),
            Closed::Closed {
                round_id,
                finished,
                groups_told,
            } => texts::closed_by_hand(round_id, finished, groups_told),
        },
        RoundsAction::Usage => texts::ROUNDS_USAGE.to_owned(),
    };
    send::html(door, msg.chat.id, &reply).await.map(drop)
}

fn local(ts: i64, tz: Tz) -> DateTime<Tz> {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// The calendar in words, the round in progress, the last few rounds and the next openings.
pub async fn rounds_overview(state: &AppState) -> AppResult<String> {
    let config = &state.config;
    let tz = config.timezone;
    let overview = calendar::overview(state, RECENT_ROUNDS, NEXT_OPENINGS).await?;
    let description = parse_schedule(&config.test_calendar)
        .map(|s| s.description())
        .unwrap_or_else(|_| config.test_calendar.clone());
    let mut parts = vec![texts::calendar(&esc(&description), tz, config.round_days)];
    parts.push(match &overview.current {
        Some(r) => texts::current_round(
            r.id,
            &local(r.opens_at, tz),
            &local(r.closes_at, tz),
            r.finished,
            r.opened_by.is_some(),
        ),
        None => texts::NO_CURRENT_ROUND.to_owned(),
    });
    let mut lines = vec![texts::RECENT_TITLE.to_owned()];
    if overview.recent.is_empty() {
        lines.push(texts::NO_ROUNDS_YET.to_owned());
    }
    for r in &overview.recent {
        let ended = r.closed_at.unwrap_or(r.closes_at);
        lines.push(texts::recent_line(
            r.id,
            &local(r.opens_at, tz),
            &local(ended, tz),
            r.finished,
            r.is_open,
        ));
    }
    parts.push(lines.join("\n"));
    let mut lines = vec![texts::NEXT_TITLE.to_owned()];
    if overview.next.is_empty() {
        lines.push(texts::NO_NEXT_OPENINGS.to_owned());
    }
    lines.extend(
        overview
            .next
            .iter()
            .map(|d| crate::texts::reminders::datetime_local(&d.with_timezone(&tz))),
    );
    if overview.current.is_some() && !overview.next.is_empty() {
        lines.push(texts::NEXT_WAITS_NOTE.to_owned());
    }
    parts.push(lines.join("\n"));
    parts.push(texts::ROUNDS_COMMANDS.to_owned());
    Ok(parts.join("\n\n"))
}

// ---- /bank ----------------------------------------------------------------------------------

pub async fn bank(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    if require(door, state, msg, user, Permission::AdministerRoot)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let text = bank_overview(state).await?;
    send::html(door, msg.chat.id, &text).await.map(drop)
}

/// Counts of the active bank, where it came from, and how to upload another.
pub async fn bank_overview(state: &AppState) -> AppResult<String> {
    let active = bank::active(state).await?;
    let counts = if active.questions.is_empty() {
        texts::BANK_EMPTY.to_owned()
    } else {
        esc(&render_summary(&summarize(&active.questions)))
    };
    let source = match active.upload {
        Some(upload) => texts::source_upload(
            upload.id,
            &esc(&upload.file_name),
            &local(
                upload.applied_at.unwrap_or(upload.created_at),
                state.config.timezone,
            ),
        ),
        None => texts::SOURCE_FILES.to_owned(),
    };
    let review = match bank::flagged(state, &active.questions).await? {
        Some(flagged) => {
            let rows: Vec<_> = flagged.rows.iter().collect();
            let section =
                crate::reports::bank_review::render(flagged.round_id, &rows, flagged.min_answers);
            format!("\n\n{}", esc(&section))
        }
        None => String::new(),
    };
    Ok(format!(
        "{}\n{counts}\n{source}{review}\n\n{}",
        texts::BANK_TITLE,
        texts::BANK_HOW_TO_UPLOAD
    ))
}

// ---- uploads --------------------------------------------------------------------------------

/// A document sent in a group. Uploads are read in private chat only (a draft bank must not
/// show in a branch group); an administrator's bank file is told so instead of being ignored.
/// Any other file is group chatter and gets no reply.
pub async fn on_group_document(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    document: &crate::chat::Document,
    state: &AppState,
) -> AppResult<()> {
    let bank_file = document.file_name.as_deref().is_some_and(accepted_name);
    if !bank_file
        || !crate::chat::roles::Caller::load(state, user.id)
            .await?
            .is_admin
    {
        return Ok(());
    }
    send::html(door, msg.chat.id, texts::NOT_PRIVATE_DOCUMENT)
        .await
        .map(drop)
}

/// A document sent in private chat: a question bank upload (administrators only).
pub async fn on_document(
    door: &dyn Door,
    msg: &Incoming,
    user: &Person,
    state: &AppState,
) -> AppResult<()> {
    let Some(doc) = &msg.document else {
        return Ok(());
    };
    if !msg.chat.is_private() {
        return send::html(door, msg.chat.id, texts::NOT_PRIVATE_DOCUMENT)
            .await
            .map(drop);
    }
    let name = doc
        .file_name
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    // Only a bank file is an upload attempt; any other file from a trainee gets the usual hint
    // rather than an administrators-only refusal.
    let is_admin = crate::chat::roles::Caller::load(state, user.id)
        .await?
        .is_admin;
    if !is_admin && !accepted_name(&name) {
        return send::html(door, msg.chat.id, crate::texts::common::PRIVATE_HINT)
            .await
            .map(drop);
    }
    if require(door, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    if let Some(refusal) = refuse_before_download(&name, doc.size) {
        return send::html(door, msg.chat.id, &refusal).await.map(drop);
    }
    let bytes = match door.download(doc).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, file = %name, "could not download an uploaded bank");
            return send::html(door, msg.chat.id, texts::UPLOAD_DOWNLOAD_FAILED)
                .await
                .map(drop);
        }
    };
    if bytes.len() > MAX_UPLOAD_BYTES as usize {
        return send::html(door, msg.chat.id, &too_big(bytes.len()))
            .await
            .map(drop);
    }
    // A roster sheet (支部 or 姓名 first) is a roster, for the sender's part of the tree.
    if let Some(layout) = super::roster_org::roster_layout(&name, &bytes) {
        return super::roster_org::on_upload(door, msg, user, &name, &bytes, layout, state).await;
    }
    // An Excel sheet headed 组织名称 is the organisation tree, not a question bank.
    let org_sheet = name
        .to_lowercase()
        .ends_with(".xlsx")
        .then(|| crate::service::org_import::org_sheet(&bytes))
        .flatten();
    if let Some(sheet) = org_sheet {
        return super::orgs::on_import(door, msg, user, &name, bytes.len(), sheet, state).await;
    }
    if require(door, state, msg, user, Permission::AdministerRoot)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let checked = match bank::check_upload(state, user.id, &name, &bytes).await? {
        Ok(checked) => checked,
        Err(errors) => {
            let reply = esc(&render_upload_result(&Err(errors)));
            return send::html(door, msg.chat.id, &reply).await.map(drop);
        }
    };
    let text = upload_summary(state, &name, &checked);
    let id = checked.upload_id;
    let buttons = Keyboard::new([[
        Button::callback(
            texts::BUTTON_CONFIRM,
            CallbackData::ConfirmUpload { upload: id }.encode(),
        ),
        Button::callback(
            texts::BUTTON_CANCEL,
            CallbackData::CancelUpload { upload: id }.encode(),
        ),
    ]]);
    send::html_with_buttons(door, msg.chat.id, &text, &buttons)
        .await
        .map(drop)
}

/// What a checked upload contains, how it differs from the active bank, and what to watch.
fn upload_summary(state: &AppState, name: &str, checked: &bank::Checked) -> String {
    let diff = checked.diff;
    let mut text = format!(
        "{}\n{}\n{}\n\n{}",
        texts::upload_checked(&esc(name)),
        esc(&render_summary(&summarize(&checked.questions))),
        texts::upload_diff(diff.added, diff.changed, diff.unchanged, diff.retired),
        texts::UPLOAD_CONFIRM_NOTE
    );
    let per_test = state.config.questions_per_test;
    if checked.questions.len() < per_test {
        text.push_str("\n\n");
        text.push_str(&texts::upload_smaller_than_test(
            checked.questions.len(),
            per_test,
        ));
    }
    if !checked.reshaped_in_use.is_empty() {
        text.push_str("\n\n");
        text.push_str(&in_use_warning(state, &checked.reshaped_in_use));
    }
    // Cues do not block the upload, but the editor sees which questions to rewrite.
    if let Some(warnings) = crate::questions::upload_warnings(&checked.questions, &text) {
        text.push_str("\n\n");
        text.push_str(&esc(&warnings));
    }
    text
}

/// What is wrong with a file before it is even downloaded: no name, not a bank format, too big.
/// Telegram fills in the size; a missing one reads as u32::MAX and is checked after download.
fn refuse_before_download(name: &str, size: u32) -> Option<String> {
    if name.is_empty() {
        return Some(texts::UPLOAD_NO_NAME.to_owned());
    }
    if !accepted_name(name) {
        return Some(texts::upload_wrong_type(&esc(name)));
    }
    (size != u32::MAX && size > MAX_UPLOAD_BYTES).then(|| too_big(size as usize))
}

/// Ids named in the warning about questions a running test uses; the rest are counted.
const IN_USE_IDS_SHOWN: usize = 10;

fn in_use_warning(state: &AppState, reshaped: &[String]) -> String {
    texts::upload_reshapes_in_use(
        &esc(&texts::id_list(reshaped, IN_USE_IDS_SHOWN)),
        state.config.time_limit_minutes,
    )
}

fn too_big(bytes: usize) -> String {
    texts::upload_too_big(
        bytes as f64 / (1024.0 * 1024.0),
        MAX_UPLOAD_BYTES / (1024 * 1024),
    )
}

/// ConfirmUpload and CancelUpload buttons.
pub async fn on_upload_button(
    door: &dyn Door,
    query: &Press,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let alert = |text: &str| {
        let text = text.to_owned();
        async move { door.answer(&query.id, Some(&text), true).await }
    };
    let (id, confirm) = match data {
        CallbackData::ConfirmUpload { upload } => (upload, true),
        CallbackData::CancelUpload { upload } => (upload, false),
        _ => return alert(crate::texts::common::STALE_BUTTON).await,
    };
    let chat_id = query.message.map_or(query.from.id, |m| m.chat_id);
    let caller = match authorize(
        door,
        state,
        chat_id,
        &query.from,
        Permission::AdministerRoot,
    )
    .await?
    {
        Ok(caller) => caller,
        Err(refusal) => return alert(refusal).await,
    };
    let reply = match bank::decide(state, caller.user_id, id, confirm).await? {
        Err(Refusal::Gone) => return alert(texts::ALERT_GONE).await,
        Err(Refusal::NotYours) => return alert(texts::ALERT_NOT_YOURS).await,
        Err(Refusal::DoneAlready) => return alert(texts::ALERT_DONE_ALREADY).await,
        Err(Refusal::NotNewest) => return alert(texts::ALERT_NOT_NEWEST).await,
        Err(Refusal::InUse(reshaped)) => {
            alert(texts::ALERT_IN_USE).await?;
            return send::html(door, chat_id, &in_use_warning(state, &reshaped))
                .await
                .map(drop);
        }
        Ok(Decision::Applied { outcome, total }) => {
            door.answer(&query.id, Some(texts::ALERT_APPLIED), false)
                .await?;
            texts::upload_applied(
                outcome.added,
                outcome.updated,
                outcome.unchanged,
                outcome.retired,
                total,
            )
        }
        Ok(Decision::Cancelled) => {
            door.answer(&query.id, Some(texts::ALERT_CANCELLED), false)
                .await?;
            texts::UPLOAD_CANCELLED.to_owned()
        }
    };
    if let Some(message) = query.message {
        // The buttons have done their job; a failure to remove them changes nothing.
        let _ = door
            .clear_buttons(message.chat_id, message.message_id)
            .await;
    }
    send::html(door, chat_id, &reply).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_arguments() {
        assert_eq!(parse_rounds_args(""), RoundsAction::Show);
        assert_eq!(parse_rounds_args(" OPEN "), RoundsAction::Open);
        assert_eq!(parse_rounds_args("结束"), RoundsAction::Close);
        assert_eq!(parse_rounds_args("open now"), RoundsAction::Usage);
    }
}
