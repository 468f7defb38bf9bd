//! The application layer: the use cases of the product as plain async functions over
//! [`AppState`], taking typed input and returning typed outcomes. No Telegram type crosses into
//! it; the Telegram edge, the console and the scheduler all call these functions, so every rule
//! lives in one place whichever door a person comes through.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use tokio::sync::Notify;

pub mod bank;
pub mod calendar;
pub mod first_run;
pub mod meetings;
pub mod org_import;
pub mod orgs;
pub mod quiz;
pub mod reminders;
pub mod reports;
pub mod roster;
pub mod roster_notices;
pub mod roster_org;
pub mod rounds;
pub mod snapshot;
pub mod terms;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::storage::Db;

/// What the scheduler is told between its passes besides [`AppState::wake`].
///
/// A whole pass plans reminders, rounds, expiries and deliveries: a few dozen statements. When
/// two hundred trainees start and finish a test, what changed is a deadline minutes away and a
/// result to deliver, so those ask for no more than they need.
#[derive(Debug)]
pub struct Nudges {
    /// Deliver the outbox now.
    pub deliver: Notify,
    /// When the scheduler will pass next on its own (Unix seconds); until it says, anything
    /// due wakes it.
    pub next_pass: AtomicI64,
}

impl Default for Nudges {
    fn default() -> Nudges {
        Nudges {
            deliver: Notify::new(),
            next_pass: AtomicI64::new(i64::MAX),
        }
    }
}

/// Everything a handler or the scheduler needs, built once in `app::run` and shared.
#[derive(Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: SharedClock,
    /// Seeded in tests so draws and shuffles are reproducible.
    pub rng: Mutex<StdRng>,
    /// Wakes the scheduler for a whole pass when a change brings the next due time closer.
    pub wake: Arc<Notify>,
    /// Lighter signals to the scheduler, for the changes a busy morning makes by the thousand.
    pub nudges: Nudges,
    /// The bot's @username, for deep links and for commands addressed as /cmd@bot.
    pub bot_username: String,
    /// The active question bank in memory, swapped whole when it changes.
    pub bank: snapshot::BankCache,
    /// The tests being answered, as their last press left them (see [`quiz::LiveAttempts`]).
    pub live_attempts: quiz::LiveAttempts,
    /// The answer path's write in place, beside the pool (see [`crate::storage::direct`]).
    pub direct_writes: crate::storage::direct::DirectWrites,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Something falls due at `ts` (Unix seconds): the scheduler is woken for a whole pass only
    /// if it would otherwise pass later than that.
    pub fn due_at(&self, ts: i64) {
        if ts < self.nudges.next_pass.load(Ordering::SeqCst) {
            self.wake.notify_one();
        }
    }

    /// A message was queued to go now: the scheduler delivers the outbox without a whole pass.
    pub fn deliver_now(&self) {
        self.nudges.deliver.notify_one();
    }

    /// Runs `f` with the shared random generator.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }

    /// A deep link that opens a private chat with the bot and sends /start with `payload`.
    pub fn deep_link(&self, payload: &str) -> String {
        format!("https://t.me/{}?start={payload}", self.bot_username)
    }
}
