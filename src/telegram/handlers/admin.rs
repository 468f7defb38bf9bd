//! Administrators in private chat: the test calendar (/rounds) and the question bank
//! (/bank, uploading a TOML or Excel bank, confirming it).
//!
//! An upload is checked completely before anything changes; a valid one waits in
//! `pending_uploads` until the administrator who sent it confirms, and only the newest upload
//! can be confirmed, once. Confirming replaces the whole active bank (questions that left it
//! are retired, never deleted) and makes the upload the bank's source, which start-up keeps
//! until the files in `questions/` change (see `startup`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, User};

use crate::domain::schedule::{next_occurrences, parse_schedule};
use crate::error::{AppError, AppResult};
use crate::questions::model::Question;
use crate::questions::{parse_upload, render_summary, render_upload_result, summarize};
use crate::scheduler::rounds as calendar;
use crate::storage::questions::{self as bank_store, replace_bank};
use crate::storage::rounds::{self as round_store, uploads};
use crate::telegram::callbacks::CallbackData;
use crate::telegram::roles::{authorize, require, Permission};
use crate::telegram::send::{self, esc};
use crate::telegram::AppState;
use crate::texts::rounds as texts;

/// Telegram lets bots download up to 20 MB; a question bank is a few hundred KB at most.
pub const MAX_UPLOAD_BYTES: u32 = 5 * 1024 * 1024;
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
    bot: &Bot,
    msg: &Message,
    user: &User,
    args: &str,
    state: &AppState,
) -> AppResult<()> {
    if require(bot, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let now = state.now();
    let reply = match parse_rounds_args(args) {
        RoundsAction::Show => rounds_overview(state, now).await?,
        RoundsAction::Open => open_by_hand(state, user.id.0 as i64, now).await?,
        RoundsAction::Close => close_by_hand(state, now).await?,
        RoundsAction::Usage => texts::ROUNDS_USAGE.to_owned(),
    };
    send::html(bot, msg.chat.id, &reply).await.map(drop)
}

fn local(ts: i64, tz: Tz) -> DateTime<Tz> {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// The calendar in words, the round in progress, the last few rounds and the next openings.
pub async fn rounds_overview(state: &AppState, now: DateTime<Utc>) -> AppResult<String> {
    let config = &state.config;
    let tz = config.timezone;
    let description = parse_schedule(&config.test_calendar)
        .map(|s| s.description)
        .unwrap_or_else(|_| config.test_calendar.clone());
    let mut parts = vec![texts::calendar(&esc(&description), tz, config.round_days)];

    let current = round_store::current(&state.db).await?;
    parts.push(match &current {
        Some(r) => texts::current_round(
            r.id,
            &local(r.opens_at, tz),
            &local(r.closes_at, tz),
            r.finished,
            r.opened_by.is_some(),
        ),
        None => texts::NO_CURRENT_ROUND.to_owned(),
    });

    let recent = round_store::recent(&state.db, RECENT_ROUNDS).await?;
    let mut lines = vec![texts::RECENT_TITLE.to_owned()];
    if recent.is_empty() {
        lines.push(texts::NO_ROUNDS_YET.to_owned());
    }
    for r in &recent {
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

    let latest = round_store::latest_opens_at(&state.db)
        .await?
        .and_then(|ts| DateTime::from_timestamp(ts, 0));
    let after = latest.map_or(now, |l| l.max(now));
    let next = next_occurrences(&config.test_calendar, tz, after, NEXT_OPENINGS);
    let mut lines = vec![texts::NEXT_TITLE.to_owned()];
    if next.is_empty() {
        lines.push(texts::NO_NEXT_OPENINGS.to_owned());
    }
    lines.extend(
        next.iter()
            .map(|d| crate::texts::reminders::datetime_local(&d.with_timezone(&tz))),
    );
    if current.is_some() && !next.is_empty() {
        lines.push(texts::NEXT_WAITS_NOTE.to_owned());
    }
    parts.push(lines.join("\n"));
    parts.push(texts::ROUNDS_COMMANDS.to_owned());
    Ok(parts.join("\n\n"))
}

async fn open_by_hand(state: &AppState, admin: i64, now: DateTime<Utc>) -> AppResult<String> {
    if let Some(open) = round_store::current(&state.db).await? {
        return Ok(texts::already_open(open.id));
    }
    let closes = calendar::closes_at(state.config.timezone, now, state.config.round_days);
    Ok(
        match calendar::open_round(state, now, closes, Some(admin)).await? {
            Some((id, groups)) => {
                tracing::info!(round = id, admin, "test round opened by hand");
                texts::opened_by_hand(id, &closes.with_timezone(&state.config.timezone), groups)
            }
            None => match round_store::current(&state.db).await? {
                Some(open) => texts::already_open(open.id),
                None => crate::texts::common::INTERNAL_ERROR.to_owned(),
            },
        },
    )
}

async fn close_by_hand(state: &AppState, now: DateTime<Utc>) -> AppResult<String> {
    let Some(open) = round_store::current(&state.db).await? else {
        return Ok(texts::NONE_OPEN.to_owned());
    };
    Ok(match calendar::close_round(state, open.id, now).await? {
        Some((finished, groups)) => texts::closed_by_hand(open.id, finished, groups),
        None => texts::NONE_OPEN.to_owned(),
    })
}

// ---- /bank ----------------------------------------------------------------------------------

pub async fn bank(bot: &Bot, msg: &Message, user: &User, state: &AppState) -> AppResult<()> {
    if require(bot, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let text = bank_overview(state).await?;
    send::html(bot, msg.chat.id, &text).await.map(drop)
}

/// Counts of the active bank, where it came from, and how to upload another.
pub async fn bank_overview(state: &AppState) -> AppResult<String> {
    let active = bank_store::active(&state.db).await?;
    let counts = if active.is_empty() {
        texts::BANK_EMPTY.to_owned()
    } else {
        esc(&render_summary(&summarize(&active)))
    };
    let source = match uploads::source(&state.db).await?.and_then(|s| s.upload_id) {
        Some(id) => match uploads::by_id(&state.db, id).await? {
            Some(upload) => texts::source_upload(
                upload.id,
                &esc(&upload.file_name),
                &local(
                    upload.applied_at.unwrap_or(upload.created_at),
                    state.config.timezone,
                ),
            ),
            None => texts::SOURCE_FILES.to_owned(),
        },
        None => texts::SOURCE_FILES.to_owned(),
    };
    let review = flagged_section(state, &active).await?;
    Ok(format!(
        "{}\n{counts}\n{source}{review}\n\n{}",
        texts::BANK_TITLE,
        texts::BANK_HOW_TO_UPLOAD
    ))
}

/// The active questions the latest closed round's analysis flags, with their figures, so the
/// bank's owner sees which to rewrite; empty before any round has closed.
async fn flagged_section(state: &AppState, active: &[Question]) -> AppResult<String> {
    let Some(round) = crate::storage::reports::pick_round(&state.db, None).await? else {
        return Ok(String::new());
    };
    if !round.closed {
        return Ok(String::new());
    }
    let thresholds = crate::domain::stats::Thresholds::default();
    let rows = crate::storage::reports::question_analysis(&state.db, round.id, &thresholds).await?;
    if rows.is_empty() {
        return Ok(String::new());
    }
    let ids: std::collections::HashSet<&str> = active.iter().map(|q| q.id.as_str()).collect();
    let flagged = crate::reports::bank_review::flagged_active(&rows, &ids);
    let section = crate::reports::bank_review::render(round.id, &flagged, thresholds.min_answers);
    Ok(format!("\n\n{}", esc(&section)))
}

// ---- uploads --------------------------------------------------------------------------------

/// How an uploaded bank differs from the active one, by question id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BankDiff {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Active questions the upload does not have: they would be retired.
    pub retired: usize,
}

pub fn diff_banks(active: &[Question], upload: &[Question]) -> BankDiff {
    let by_id: HashMap<&str, &Question> = active.iter().map(|q| (q.id.as_str(), q)).collect();
    let mut diff = BankDiff::default();
    for q in upload {
        match by_id.get(q.id.as_str()) {
            None => diff.added += 1,
            Some(old) if *old == q => diff.unchanged += 1,
            Some(_) => diff.changed += 1,
        }
    }
    let kept = upload.len() - diff.added;
    diff.retired = active.len().saturating_sub(kept);
    diff
}

/// Whether a file name is one the bank accepts: `.toml` or `.xlsx`.
pub fn accepted_name(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    lower.ends_with(".toml") || lower.ends_with(".xlsx")
}

/// A document sent in private chat: a question bank upload (administrators only).
pub async fn on_document(bot: &Bot, msg: &Message, user: &User, state: &AppState) -> AppResult<()> {
    let Some(doc) = msg.document() else {
        return Ok(());
    };
    if !msg.chat.is_private() {
        return send::html(bot, msg.chat.id, texts::NOT_PRIVATE_DOCUMENT)
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
    let is_admin = crate::telegram::roles::Caller::load(state, user.id.0 as i64)
        .await?
        .is_admin;
    if !is_admin && !accepted_name(&name) {
        return send::html(bot, msg.chat.id, crate::texts::common::PRIVATE_HINT)
            .await
            .map(drop);
    }
    if require(bot, state, msg, user, Permission::Administer)
        .await?
        .is_none()
    {
        return Ok(());
    }
    if name.is_empty() {
        return send::html(bot, msg.chat.id, texts::UPLOAD_NO_NAME)
            .await
            .map(drop);
    }
    if !accepted_name(&name) {
        return send::html(bot, msg.chat.id, &texts::upload_wrong_type(&esc(&name)))
            .await
            .map(drop);
    }
    // Telegram fills in the size; a missing one reads as u32::MAX and is checked after download.
    let size = doc.file.size;
    if size != u32::MAX && size > MAX_UPLOAD_BYTES {
        return send::html(bot, msg.chat.id, &too_big(size as usize))
            .await
            .map(drop);
    }
    let bytes = match download(bot, doc.file.id.clone()).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, file = %name, "could not download an uploaded bank");
            return send::html(bot, msg.chat.id, texts::UPLOAD_DOWNLOAD_FAILED)
                .await
                .map(drop);
        }
    };
    if bytes.len() > MAX_UPLOAD_BYTES as usize {
        return send::html(bot, msg.chat.id, &too_big(bytes.len()))
            .await
            .map(drop);
    }
    let questions = match parse_upload(&name, &bytes) {
        Ok(questions) => questions,
        Err(errors) => {
            let reply = esc(&render_upload_result(&Err(errors)));
            return send::html(bot, msg.chat.id, &reply).await.map(drop);
        }
    };
    let active = bank_store::active(&state.db).await?;
    let diff = diff_banks(&active, &questions);
    let json = serde_json::to_string(&questions).map_err(|e| AppError::Bank(e.to_string()))?;
    let admin = user.id.0 as i64;
    let id = uploads::create(&state.db, admin, &name, &json, state.now().timestamp()).await?;
    tracing::info!(
        upload = id,
        admin,
        questions = questions.len(),
        "question bank uploaded, awaiting confirmation"
    );
    let mut text = format!(
        "{}\n{}\n{}\n\n{}",
        texts::upload_checked(&esc(&name)),
        esc(&render_summary(&summarize(&questions))),
        texts::upload_diff(diff.added, diff.changed, diff.unchanged, diff.retired),
        texts::UPLOAD_CONFIRM_NOTE
    );
    let per_test = state.config.questions_per_test;
    if questions.len() < per_test {
        text.push_str("\n\n");
        text.push_str(&texts::upload_smaller_than_test(questions.len(), per_test));
    }
    let reshaped = bank_store::reshaped_in_use(&state.db, &questions).await?;
    if !reshaped.is_empty() {
        text.push_str("\n\n");
        text.push_str(&in_use_warning(state, &reshaped));
    }
    // Cues do not block the upload, but the editor sees which questions to rewrite.
    if let Some(warnings) = crate::questions::upload_warnings(&questions, &text) {
        text.push_str("\n\n");
        text.push_str(&esc(&warnings));
    }
    let buttons = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(
            texts::BUTTON_CONFIRM,
            CallbackData::ConfirmUpload { upload: id }.encode(),
        ),
        InlineKeyboardButton::callback(
            texts::BUTTON_CANCEL,
            CallbackData::CancelUpload { upload: id }.encode(),
        ),
    ]]);
    send::html_with_buttons(bot, msg.chat.id, &text, buttons)
        .await
        .map(drop)
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

async fn download(bot: &Bot, file_id: teloxide::types::FileId) -> AppResult<Vec<u8>> {
    let file = bot.get_file(file_id).await?;
    let mut bytes = Vec::new();
    bot.download_file(&file.path, &mut bytes).await?;
    Ok(bytes)
}

/// ConfirmUpload and CancelUpload buttons.
pub async fn on_upload_button(
    bot: &Bot,
    query: &CallbackQuery,
    data: CallbackData,
    state: &AppState,
) -> AppResult<()> {
    let alert = |text: &str| {
        let text = text.to_owned();
        async move {
            bot.answer_callback_query(query.id.clone())
                .text(text)
                .show_alert(true)
                .await?;
            AppResult::Ok(())
        }
    };
    let (id, confirm) = match data {
        CallbackData::ConfirmUpload { upload } => (upload, true),
        CallbackData::CancelUpload { upload } => (upload, false),
        _ => return alert(crate::texts::common::STALE_BUTTON).await,
    };
    let chat_id = query
        .message
        .as_ref()
        .map_or(ChatId(query.from.id.0 as i64), |m| m.chat().id);
    let caller = match authorize(bot, state, chat_id, &query.from, Permission::Administer).await? {
        Ok(caller) => caller,
        Err(refusal) => return alert(refusal).await,
    };
    let Some(upload) = uploads::by_id(&state.db, id).await? else {
        return alert(texts::ALERT_GONE).await;
    };
    if upload.admin_id != caller.user_id {
        return alert(texts::ALERT_NOT_YOURS).await;
    }
    if upload.applied_at.is_some() || upload.cancelled_at.is_some() {
        return alert(texts::ALERT_DONE_ALREADY).await;
    }
    let now = state.now().timestamp();
    let reply = if confirm {
        if uploads::newest_id(&state.db).await? != Some(id) {
            return alert(texts::ALERT_NOT_NEWEST).await;
        }
        let questions: Vec<Question> = serde_json::from_str(&upload.questions)
            .map_err(|e| AppError::Bank(format!("upload {id}: {e}")))?;
        // Checked again now: tests may have started since the upload was checked. The upload
        // stays pending, so the same button works once those tests are over.
        let reshaped = bank_store::reshaped_in_use(&state.db, &questions).await?;
        if !reshaped.is_empty() {
            alert(texts::ALERT_IN_USE).await?;
            return send::html(bot, chat_id, &in_use_warning(state, &reshaped))
                .await
                .map(drop);
        }
        if !uploads::claim_for_apply(&state.db, id, caller.user_id, now).await? {
            return alert(texts::ALERT_DONE_ALREADY).await;
        }
        let outcome = replace_bank(&state.db, &questions, now).await?;
        tracing::info!(
            upload = id,
            admin = caller.user_id,
            added = outcome.added,
            updated = outcome.updated,
            retired = outcome.retired,
            "uploaded question bank applied"
        );
        bot.answer_callback_query(query.id.clone())
            .text(texts::ALERT_APPLIED)
            .await?;
        texts::upload_applied(
            outcome.added,
            outcome.updated,
            outcome.unchanged,
            outcome.retired,
            questions.len(),
        )
    } else {
        if !uploads::cancel(&state.db, id, caller.user_id, now).await? {
            return alert(texts::ALERT_DONE_ALREADY).await;
        }
        bot.answer_callback_query(query.id.clone())
            .text(texts::ALERT_CANCELLED)
            .await?;
        texts::UPLOAD_CANCELLED.to_owned()
    };
    if let Some(message) = &query.message {
        // The buttons have done their job; a failure to remove them changes nothing.
        let _ = bot
            .edit_message_reply_markup(message.chat().id, message.id())
            .await;
    }
    send::html(bot, chat_id, &reply).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::QuestionKind;

    fn q(id: &str, text: &str) -> Question {
        Question {
            id: id.into(),
            kind: QuestionKind::TrueFalse,
            category: "党费".into(),
            text: text.into(),
            options: vec!["对".into(), "错".into()],
            answer: vec![0],
            explanation: "因为".into(),
            source: "党章".into(),
        }
    }

    #[test]
    fn an_upload_is_compared_by_id_and_content() {
        let active = [q("a", "一"), q("b", "二"), q("c", "三")];
        let upload = [q("a", "一"), q("b", "改"), q("d", "四")];
        assert_eq!(
            diff_banks(&active, &upload),
            BankDiff {
                added: 1,
                changed: 1,
                unchanged: 1,
                retired: 1
            }
        );
        assert_eq!(
            diff_banks(&[], &upload),
            BankDiff {
                added: 3,
                ..BankDiff::default()
            }
        );
        assert_eq!(
            diff_banks(&active, &[]),
            BankDiff {
                retired: 3,
                ..BankDiff::default()
            }
        );
    }

    #[test]
    fn only_toml_and_xlsx_files_are_accepted() {
        for ok in ["题库.toml", "BANK.XLSX", " a.xlsx "] {
            assert!(accepted_name(ok), "{ok}");
        }
        for bad in ["题库.xls", "bank.csv", "bank.toml.exe", "xlsx", ""] {
            assert!(!accepted_name(bad), "{bad}");
        }
    }

    #[test]
    fn rounds_arguments() {
        assert_eq!(parse_rounds_args(""), RoundsAction::Show);
        assert_eq!(parse_rounds_args(" OPEN "), RoundsAction::Open);
        assert_eq!(parse_rounds_args("结束"), RoundsAction::Close);
        assert_eq!(parse_rounds_args("open now"), RoundsAction::Usage);
    }
}
