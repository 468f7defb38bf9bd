//! The outbox's Telegram outlet: sends through the process's one rate limiter ([`Api`], shared
//! with the replies), and sorts failures into retry-later and give-up. Within a send it only
//! waits out a 429's `retry_after` (bounded, as replies do); every other failure goes back to the
//! outbox, which keeps the row and retries it on its own schedule.

use std::sync::Arc;

use async_trait::async_trait;
use teloxide::prelude::*;
use teloxide::types::{LinkPreviewOptions, ParseMode};
use teloxide::{ApiError, RequestError};

use super::api::{Api, Kind};
use crate::scheduler::delivery::{backoff, Outcome, Outgoing, Outlet, MAX_ATTEMPTS};

/// The Bot API behind the shared rate limiter.
pub struct TelegramOutlet {
    api: Arc<Api>,
}

impl TelegramOutlet {
    pub fn new(api: Arc<Api>) -> TelegramOutlet {
        TelegramOutlet { api }
    }
}

#[async_trait]
impl Outlet for TelegramOutlet {
    async fn deliver(&self, message: Outgoing<'_>) -> Outcome {
        let markup = match message.keyboard.map(super::markup) {
            Some(Ok(markup)) => Some(markup),
            Some(Err(err)) => return Outcome::Failed(err.to_string()),
            None => None,
        };
        let chat = ChatId(message.chat_id);
        let request = self
            .api
            .call("sendMessage", Kind::Delivery { chat: chat.0 }, |bot| {
                let request = bot
                    .send_message(chat, message.html)
                    .parse_mode(ParseMode::Html)
                    .allow_paid_broadcast(self.api.paid_broadcast())
                    .link_preview_options(LinkPreviewOptions {
                        is_disabled: true,
                        url: None,
                        prefer_small_media: false,
                        prefer_large_media: false,
                        show_above_text: false,
                    });
                match &markup {
                    Some(markup) => request.reply_markup(markup.clone()),
                    None => request,
                }
            });
        match request.await {
            Ok(sent) => Outcome::Sent {
                message_id: i64::from(sent.id.0),
            },
            Err(err) => classify(err, message.attempts + 1, message.now),
        }
    }
}

/// Decides between retrying and giving up, from what Telegram answered.
fn classify(err: RequestError, attempt: i64, now: i64) -> Outcome {
    let backoff = |attempt: i64| now + backoff(attempt);
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
