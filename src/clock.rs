//! Where "now" comes from. Production reads the system clock; tests pass a clock they control
//! (in process, or through a file for the compiled binary), so nothing waits for real time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// A simulated clock can jump; sleepers then re-check often instead of sleeping long.
    fn is_simulated(&self) -> bool {
        false
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock the test sets by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(now))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_simulated(&self) -> bool {
        true
    }
}

/// Reads an RFC 3339 instant from a file on every call: how end-to-end tests move the
/// compiled bot through days and weeks. If the file cannot be read, the last good value holds.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    last: Mutex<DateTime<Utc>>,
}

impl FileClock {
    pub fn new(path: PathBuf) -> Self {
        let clock = FileClock {
            path,
            last: Mutex::new(Utc::now()),
        };
        clock.now();
        clock
    }
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(now) = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        {
            *last = now.with_timezone(&Utc);
        }
        *last
    }

    fn is_simulated(&self) -> bool {
        true
    }
}
