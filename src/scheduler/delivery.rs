//! Delivering the outbox.
//!
//! Send first, then mark as sent: a row is claimed (`sending`), sent through teloxide's
//! `Throttle` (about 30 messages a second overall, 20 a minute into one group, 1 a second into one
//! chat; it also waits out 429 `retry_after` and retries), then marked `sent`. A crash between the
//! send and the mark leaves the row `sending`, and start-up puts it back to `pending`: the only
//! window for a duplicate is one HTTP round trip, and no reminder is ever lost.
//!
//! Server errors and network failures are retried with exponential back-off; a chat the bot was
//! removed from (403) or that does not exist fails that row only, without blocking the others.

use futures::StreamExt;
use teloxide::adaptors::throttle::{Limits, Throttle};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, LinkPreviewOptions, ParseMode};
use teloxide::{ApiError, RequestError};

use crate::error::AppResult;
use crate::service::AppState;
use crate::storage::outbox::{self, Due};
use crate::texts::calendar as texts;

/// A reminder sent this long after its due time is marked as late (补发).
pub const LATE_AFTER_SECS: i64 = 300;
/// Transient failures are retried this many times before the row is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// Rows sent at once; the throttle orders them per chat.
const CONCURRENCY: usize = 16;
const BATCH: i64 = 500;

pub type Sender = Throttle<Bot>;

pub fn sender(bot: Bot) -> Sender {
    Throttle::new_spawn(bot, Limits::default())
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Sent { message_id: i64, late: bool },
    Skipped(&'static str),
    Retry { at: i64, error: String },
    Failed(String),
}

/// Sends every row due by `now`; returns how many were sent.
pub async fn deliver_due(state: &AppState, sender: &Sender, now: i64) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let rows = outbox::due(&state.db, now, BATCH).await?;
        if rows.is_empty() {
            return Ok(sent);
        }
        let count = rows.len();
        let results: Vec<AppResult<bool>> = futures::stream::iter(rows)
            .map(|row| deliver_one(state, sender, row, now))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for result in results {
            if result? {
                sent += 1;
            }
        }
        if (count as i64) < BATCH {
            return Ok(sent);
        }
    }
}

async fn deliver_one(state: &AppState, sender: &Sender, row: Due, now: i64) -> AppResult<bool> {
    if row.expires_at.is_some_and(|expiry| expiry <= now) {
        outbox::mark_skipped(&state.db, row.id, "expired before it could be sent").await?;
        tracing::info!(key = %row.key, "reminder no longer matters; recorded as skipped");
        return Ok(false);
    }
    if !outbox::claim(&state.db, row.id).await? {
        return Ok(false);
    }
    let outcome = send(sender, &row, now).await;
    let db = &state.db;
    match &outcome {
        Outcome::Sent { message_id, late } => {
            outbox::mark_sent(db, row.id, *message_id, *late, state.now().timestamp()).await?
        }
        Outcome::Skipped(reason) => outbox::mark_skipped(db, row.id, reason).await?,
        Outcome::Retry { at, error } => {
            tracing::warn!(key = %row.key, attempt = row.attempts + 1, error = %error, "send failed; will retry");
            outbox::retry_later(db, row.id, *at, error).await?
        }
        Outcome::Failed(error) => {
            tracing::warn!(key = %row.key, chat = row.chat_id, error = %error, "send failed for good");
            outbox::mark_failed(db, row.id, error).await?
        }
    }
    Ok(matches!(outcome, Outcome::Sent { .. }))
}

async fn send(sender: &Sender, row: &Due, now: i64) -> Outcome {
    let markup = match row
        .markup
        .as_deref()
        .map(serde_json::from_str::<InlineKeyboardMarkup>)
    {
        Some(Ok(markup)) => Some(markup),
        Some(Err(_)) => return Outcome::Failed("stored keyboard is not valid JSON".to_owned()),
        None => None,
    };
    let late = now - row.due_at > LATE_AFTER_SECS;
    let text = if late {
        format!("{}{}", texts::LATE_PREFIX, row.text)
    } else {
        row.text.clone()
    };
    let mut request = sender
        .send_message(ChatId(row.chat_id), text)
        .parse_mode(ParseMode::Html)
        .link_preview_options(LinkPreviewOptions {
            is_disabled: true,
            url: None,
            prefer_small_media: false,
            prefer_large_media: false,
            show_above_text: false,
        });
    if let Some(markup) = markup {
        request = request.reply_markup(markup);
    }
    match request.await {
        Ok(message) => Outcome::Sent {
            message_id: i64::from(message.id.0),
            late,
        },
        Err(err) => classify(err, row.attempts + 1, now),
    }
}

/// Decides between retrying and giving up, from what Telegram answered.
fn classify(err: RequestError, attempt: i64, now: i64) -> Outcome {
    let backoff = |attempt: i64| now + (1i64 << attempt.clamp(0, 12)).min(3600);
    match err {
        RequestError::RetryAfter(after) => Outcome::Retry {
            at: now + i64::from(after.seconds()),
            error: "429 Too Many Requests".to_owned(),
        },
        RequestError::Api(api) => match api {
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::GroupDeactivated => Outcome::Failed(format!("chat unreachable: {api}")),
            // teloxide names only some 403s; "Forbidden: bot was kicked from the group chat"
            // (a basic group) arrives as Unknown. Any 403 means the chat is gone for us.
            ApiError::Unknown(description) if description.starts_with("Forbidden") => {
                Outcome::Failed(format!("chat unreachable: {description}"))
            }
            // Other unknown descriptions are how teloxide reports 5xx answers: retry those.
            ApiError::Unknown(description) if attempt < MAX_ATTEMPTS => Outcome::Retry {
                at: backoff(attempt),
                error: description,
            },
            other => Outcome::Failed(other.to_string()),
        },
        RequestError::MigrateToChatId(_) => Outcome::Skipped("group was upgraded to a supergroup"),
        transient if attempt < MAX_ATTEMPTS => Outcome::Retry {
            at: backoff(attempt),
            error: transient.to_string(),
        },
        other => Outcome::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_from_chat_fails_at_once_and_server_errors_back_off() {
        assert!(matches!(
            classify(RequestError::Api(ApiError::BotKicked), 1, 0),
            Outcome::Failed(_)
        ));
        let kicked = ApiError::Unknown("Forbidden: bot was kicked from the group chat".into());
        assert!(matches!(
            classify(RequestError::Api(kicked), 1, 0),
            Outcome::Failed(_)
        ));
        let first = classify(
            RequestError::Api(ApiError::Unknown("Internal Server Error".into())),
            1,
            0,
        );
        let later = classify(
            RequestError::Api(ApiError::Unknown("Bad Gateway".into())),
            5,
            0,
        );
        match (first, later) {
            (Outcome::Retry { at: a, .. }, Outcome::Retry { at: b, .. }) => assert!(0 < a && a < b),
            other => panic!("expected retries, got {other:?}"),
        }
        assert!(matches!(
            classify(
                RequestError::Api(ApiError::Unknown("x".into())),
                MAX_ATTEMPTS,
                0
            ),
            Outcome::Failed(_)
        ));
    }
}
