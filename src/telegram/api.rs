//! The one way the bot talks to the Bot API: one rate limiter for everything, and a short,
//! bounded retry for the requests a person is waiting on.
//!
//! Replies and edits (the [`super::TelegramDoor`]), the outbox's deliveries ([`super::delivery`])
//! and the stale-button sweep all go through [`Api::call`], which takes each request's turn
//! from the one [`Limiter`] before sending it, so a broadcast to three hundred groups and the
//! trainees' answers share Telegram's limits (see `limiter` for what counts) instead of each
//! spending them in full and earning 429s.
//!
//! Two behaviours of Telegram and teloxide 0.17 shape the retry:
//!
//! - A 429 carries a `retry_after`: the request waits it out here, a bounded number of times,
//!   and the limiter holds every other request for that long too (Telegram asks the whole bot
//!   to slow down).
//! - On any 5xx answer teloxide's client sleeps 10 s before it returns the error
//!   (`teloxide_core::net::request`, `DELAY_ON_SERVER_ERROR`); nothing configures it. A press
//!   whose answer sleeps 10 s stalls every later update of that chat, and Telegram drops button
//!   answers after 15 s. So a request a person is waiting on gets a time budget per try
//!   ([`budget`]), counted from its turn in the limiter: past it the try is abandoned and made
//!   again. A healthy Bot API answers in well under a second; Telegram did not act on a request
//!   it answered with a 5xx, and a cut connection is retried the same way, so the retry sends
//!   what had not arrived.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio::time::Instant;

pub use super::limiter::Limiter;

/// Tries of a request that failed for a passing reason (5xx, cut connection, no answer in time).
pub const MAX_TRIES: u32 = 3;
/// 429s waited out for one request before it is given up.
pub const MAX_RETRY_AFTER_WAITS: u32 = 3;
/// The longest `retry_after` waited for within a request a person is waiting on.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Pauses before the second and third try.
const PAUSES: [Duration; 2] = [Duration::from_millis(300), Duration::from_millis(1000)];

/// Telegram's overall limit for bots that do not pay for broadcasts.
pub const FREE_PER_SECOND: u32 = 30;

/// The bot and the one rate limiter of the process.
pub struct Api {
    bot: Bot,
    limiter: Limiter,
    /// Above [`FREE_PER_SECOND`] new messages are sent with `allow_paid_broadcast` (0.1 Star
    /// each). Edits cannot be paid for: they stay within the limit the limiter keeps.
    paid: bool,
}

/// What kind of request: whether it counts against Telegram's message limits (and into which
/// chat), and its time budget per try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not a message: answering a press, asking about a member or a file.
    Direct,
    /// Editing a message's text or buttons.
    Edit { chat: i64 },
    /// A new message into a chat.
    Send { chat: i64 },
    /// Files into a chat (an album counts one message per file): their size decides how long
    /// they take, so only a generous bound applies.
    Upload { chat: i64, files: usize },
    /// An outbox delivery: the outbox keeps the row and retries failures on its own schedule,
    /// so only 429s are waited out here; no time budget, no quick retries.
    Delivery { chat: i64 },
}

impl Kind {
    /// The chat and the number of messages the request counts as, if it counts.
    fn counts(self) -> Option<(i64, usize)> {
        match self {
            Kind::Direct => None,
            Kind::Edit { chat } | Kind::Send { chat } | Kind::Delivery { chat } => Some((chat, 1)),
            Kind::Upload { chat, files } => Some((chat, files.max(1))),
        }
    }
}

impl Api {
    /// The bot behind a limiter for `per_second` messages a second overall.
    pub fn new(bot: Bot, per_second: u32) -> Arc<Api> {
        Arc::new(Api {
            bot,
            limiter: Limiter::new(per_second),
            paid: per_second > FREE_PER_SECOND,
        })
    }

    /// Whether new messages go as paid broadcasts (`BRANCHBOT_MESSAGES_PER_SECOND` above 30).
    pub fn paid_broadcast(&self) -> bool {
        self.paid
    }

    /// The bot itself, for what is not a message (downloads, command menus, typing).
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Sends the request `make` builds, in its turn and retrying as the module documentation
    /// says; `what` names it in the logs.
    pub async fn call<T, R, F>(&self, what: &str, kind: Kind, make: F) -> Result<T, RequestError>
    where
        F: Fn(&Bot) -> R,
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        let mut failures = 0;
        let mut waits = 0;
        loop {
            if let Some((chat, count)) = kind.counts() {
                self.limiter.wait(chat, count).await;
            }
            let error = match one_try(kind, make(&self.bot)).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match error {
                RequestError::RetryAfter(seconds)
                    if waits < MAX_RETRY_AFTER_WAITS && seconds.duration() <= MAX_RETRY_AFTER =>
                {
                    let after = seconds.duration();
                    waits += 1;
                    tracing::warn!(request = what, wait = ?after, "Telegram asked to retry later; waiting");
                    self.limiter.freeze(Instant::now() + after);
                    tokio::time::sleep(after).await;
                }
                error
                    if !matches!(kind, Kind::Delivery { .. })
                        && is_transient(&error)
                        && failures + 1 < MAX_TRIES =>
                {
                    tracing::warn!(request = what, try_no = failures + 1, error = %error, "request failed; trying again");
                    tokio::time::sleep(PAUSES[failures as usize]).await;
                    failures += 1;
                }
                error => return Err(error),
            }
        }
    }
}

/// One try within its time budget; a try past its budget counts as a passing failure.
async fn one_try<T, R>(kind: Kind, request: R) -> Result<T, RequestError>
where
    R: IntoFuture<Output = Result<T, RequestError>>,
{
    let request = request.into_future();
    let Some(budget) = budget(kind) else {
        return request.await;
    };
    match tokio::time::timeout(budget, request).await {
        Ok(result) => result,
        Err(_) => Err(RequestError::Io(Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer from the Bot API in time",
        )))),
    }
}

/// Time one try may take once its turn came. A healthy Bot API answers at once, so every
/// request a person waits on gets less than teloxide's 10 s pause after a 5xx, an upload
/// more. A delivery has none: the outbox decides.
pub fn budget(kind: Kind) -> Option<Duration> {
    let secs = match kind {
        Kind::Direct | Kind::Edit { .. } => 3,
        Kind::Send { .. } => 4,
        Kind::Upload { .. } => 60,
        Kind::Delivery { .. } => return None,
    };
    Some(Duration::from_secs(secs))
}

/// A failure that says nothing about the request itself: the server or the network, not a
/// refusal. teloxide reports 5xx answers as `ApiError::Unknown` with the status text.
pub fn is_transient(error: &RequestError) -> bool {
    match error {
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => is_server_error(description),
        _ => false,
    }
}

/// teloxide keeps only the description of an unknown error; Telegram's 4xx descriptions start
/// with the status text ("Bad Request: ...", "Forbidden: ...", "Conflict: ..."), its 5xx do not
/// name a client error.
pub fn is_server_error(description: &str) -> bool {
    const CLIENT: [&str; 5] = [
        "Bad Request",
        "Forbidden",
        "Unauthorized",
        "Conflict",
        "Not Found",
    ];
    !CLIENT.iter().any(|prefix| description.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(description: &str) -> RequestError {
        RequestError::Api(ApiError::Unknown(description.to_owned()))
    }

    #[test]
    fn server_errors_and_network_are_transient_refusals_are_not() {
        assert!(is_transient(&unknown("Internal Server Error")));
        assert!(is_transient(&unknown("Bad Gateway")));
        assert!(!is_transient(&unknown(
            "Bad Request: message text is empty"
        )));
        assert!(!is_transient(&unknown(
            "Forbidden: bot was kicked from the group chat"
        )));
        assert!(!is_transient(&RequestError::Api(ApiError::BotBlocked)));
        assert!(!is_transient(&RequestError::RetryAfter(
            teloxide::types::Seconds::from_seconds(3)
        )));
    }

    #[test]
    fn a_reply_gets_less_time_than_teloxides_server_error_pause() {
        let pause = Some(Duration::from_secs(10));
        assert!(budget(Kind::Direct) < pause);
        assert!(budget(Kind::Edit { chat: 42 }) < pause);
        assert!(budget(Kind::Send { chat: 42 }) < pause);
        assert!(budget(Kind::Send { chat: -100 }) < pause);
        assert_eq!(budget(Kind::Delivery { chat: 42 }), None);
    }

    #[test]
    fn answers_to_presses_do_not_count_as_messages_albums_count_per_file() {
        assert_eq!(Kind::Direct.counts(), None);
        assert_eq!(Kind::Edit { chat: 7 }.counts(), Some((7, 1)));
        assert_eq!(Kind::Upload { chat: 7, files: 3 }.counts(), Some((7, 3)));
    }
}
