//! The one way the bot talks to the Bot API: one rate limiter for everything, and a short,
//! bounded retry for the requests a person is waiting on.
//!
//! Replies (the [`super::TelegramDoor`]) and the outbox's deliveries ([`super::delivery`]) go
//! through the same teloxide [`Throttle`], so a broadcast to forty groups and the replies to the
//! trainees share Telegram's limits (about 30 messages a second overall, 20 a minute into one
//! group, one a second into one chat) instead of each spending them in full and earning 429s.
//!
//! Two behaviours of teloxide 0.17 shape the retry:
//!
//! - With `Settings::retry` (the default) the throttle waits out a 429's `retry_after` and sends
//!   again, forever, inside the request. We turn that off and wait here instead, a bounded number
//!   of times, so the wait is visible and ends. The throttle still freezes its queue for the
//!   `retry_after` it saw (Telegram asks the whole bot to slow down).
//! - On any 5xx answer teloxide's client sleeps 10 s before it returns the error
//!   (`teloxide_core::net::request`, `DELAY_ON_SERVER_ERROR`); nothing configures it. A press
//!   whose answer sleeps 10 s stalls every later update of that chat, and Telegram drops button
//!   answers after 15 s. So a request a person is waiting on gets a time budget per try
//!   ([`budget`]): past it the try is abandoned and made again. A healthy Bot API answers in well
//!   under a second; Telegram did not act on a request it answered with a 5xx, and a cut
//!   connection is retried the same way, so the retry sends what had not arrived.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::adaptors::throttle::{Limits, Settings, Throttle};
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio::time::Instant;

/// Tries of a request that failed for a passing reason (5xx, cut connection, no answer in time).
pub const MAX_TRIES: u32 = 3;
/// 429s waited out for one request before it is given up.
pub const MAX_RETRY_AFTER_WAITS: u32 = 3;
/// The longest `retry_after` waited for within a request a person is waiting on.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Pauses before the second and third try.
const PAUSES: [Duration; 2] = [Duration::from_millis(300), Duration::from_millis(1000)];

/// The bot behind the shared rate limiter, and what it last heard about 429s.
pub struct Api {
    bot: Throttle<Bot>,
    /// Until when Telegram asked the bot to hold back (the last 429's `retry_after`): a try that
    /// waits in the throttle's frozen queue is not "taking too long".
    frozen_until: Mutex<Option<Instant>>,
}

/// What kind of request, for its time budget per try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not rate limited by the throttle: answering a press, editing, asking about a member.
    Direct,
    /// A new message into a chat: it may wait in the throttle's queue for that chat's turn.
    Send { chat: i64 },
    /// An upload: its size decides how long it takes, so only a generous bound applies.
    Upload,
    /// An outbox delivery: the outbox keeps the row and retries failures on its own schedule,
    /// so only 429s are waited out here (as the throttle used to do inside the request); no time
    /// budget, no quick retries.
    Delivery,
}

impl Api {
    /// Wraps `bot` in the one throttle the whole process uses; needs a Tokio runtime (the
    /// throttle's worker is spawned).
    pub fn new(bot: Bot) -> Arc<Api> {
        let settings = Settings::default().limits(Limits::default()).no_retry();
        Arc::new(Api {
            bot: Throttle::spawn_with_settings(bot, settings),
            frozen_until: Mutex::new(None),
        })
    }

    /// The throttled bot, for requests that handle their own failures (the outbox's outlet).
    pub fn bot(&self) -> &Throttle<Bot> {
        &self.bot
    }

    /// Sends the request `make` builds, retrying as the module documentation says; `what`
    /// names it in the logs.
    pub async fn call<T, R, F>(&self, what: &str, kind: Kind, make: F) -> Result<T, RequestError>
    where
        F: Fn(&Throttle<Bot>) -> R,
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        let mut failures = 0;
        let mut waits = 0;
        loop {
            let error = match self.one_try(kind, make(&self.bot)).await {
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
                    self.freeze(after);
                    tokio::time::sleep(after).await;
                }
                error
                    if kind != Kind::Delivery
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

    /// One try within its time budget; a try past its budget counts as a passing failure.
    async fn one_try<T, R>(&self, kind: Kind, request: R) -> Result<T, RequestError>
    where
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        let request = request.into_future();
        let Some(budget) = budget(kind) else {
            return request.await;
        };
        tokio::pin!(request);
        let mut deadline = Instant::now() + budget;
        loop {
            tokio::select! {
                result = &mut request => return result,
                _ = tokio::time::sleep_until(deadline) => {
                    // Waiting in a queue Telegram froze is not a fault: give the try the time.
                    match self.frozen() {
                        Some(until) if until + budget > deadline => deadline = until + budget,
                        _ => return Err(RequestError::Io(Arc::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no answer from the Bot API in time",
                        )))),
                    }
                }
            }
        }
    }

    fn freeze(&self, after: Duration) {
        let until = Instant::now() + after;
        let mut frozen = self.frozen_until.lock().unwrap_or_else(|e| e.into_inner());
        if frozen.is_none_or(|t| t < until) {
            *frozen = Some(until);
        }
    }

    fn frozen(&self) -> Option<Instant> {
        *self.frozen_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Time one try may take. Direct requests and sends into a private chat (one message a second,
/// the trainee's own) answer at once when Telegram is healthy; a group's turn may be several
/// seconds away (20 messages a minute, fewer in a supergroup), so a group send gets longer than
/// teloxide's 10 s pause, and an upload longer still. A delivery has none: the outbox decides.
pub fn budget(kind: Kind) -> Option<Duration> {
    let secs = match kind {
        Kind::Direct => 3,
        Kind::Send { chat } if chat > 0 => 4,
        Kind::Send { .. } => 20,
        Kind::Upload => 60,
        Kind::Delivery => return None,
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
    fn a_private_reply_gets_less_time_than_teloxides_server_error_pause() {
        let pause = Some(Duration::from_secs(10));
        assert!(budget(Kind::Direct) < pause);
        assert!(budget(Kind::Send { chat: 42 }) < pause);
        assert!(budget(Kind::Send { chat: -100 }) > pause);
        assert_eq!(budget(Kind::Delivery), None);
    }
}
