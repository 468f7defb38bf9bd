//! Faults at random for the fake Bot API: a share of the bot's calls fails with 500, 502 or a
//! cut connection, some answer 429 with `retry_after`, and an outage can be switched on for a
//! while (every call answers 502 Bad Gateway). The generator is seeded, so a failing run can be
//! repeated; what was injected is counted, so a test can show the faults really happened.
//!
//! Polling (`getUpdates`) and `getMe` are left alone outside an outage: the subject is what the
//! bot does with its own requests, and a start-up that cannot reach Telegram is tested elsewhere.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::fake_api::Fault;

/// How often each kind of fault is injected.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    pub seed: u64,
    /// Share of calls answered with 500, 502 or a cut connection (a third each).
    pub failure_rate: f64,
    /// Share of calls answered with 429.
    pub retry_after_rate: f64,
    /// The `retry_after` those 429s carry, in seconds.
    pub retry_after_secs: u32,
    /// How long every call (polling aside) waits before the fake acts on it and answers: a
    /// slow Telegram, so a test can kill the bot while its requests are on their way.
    pub latency: Duration,
}

impl Default for ChaosConfig {
    /// No faults, no latency: switch on what a test needs.
    fn default() -> Self {
        ChaosConfig {
            seed: 0,
            failure_rate: 0.0,
            retry_after_rate: 0.0,
            retry_after_secs: 1,
            latency: Duration::ZERO,
        }
    }
}

/// What was injected so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChaosStats {
    pub calls: usize,
    pub server_errors: usize,
    pub bad_gateways: usize,
    pub cut_connections: usize,
    pub retry_afters: usize,
    /// Calls answered 502 because an outage was on.
    pub outage_refusals: usize,
}

impl ChaosStats {
    pub fn failures(&self) -> usize {
        self.server_errors + self.bad_gateways + self.cut_connections
    }
}

pub struct Chaos {
    config: ChaosConfig,
    rng: ChaCha8Rng,
    outage_until: Option<Instant>,
    stats: ChaosStats,
}

impl Chaos {
    pub fn new(config: ChaosConfig) -> Chaos {
        Chaos {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            outage_until: None,
            stats: ChaosStats::default(),
        }
    }

    /// Every call answers 502 for `length` from now.
    pub fn start_outage(&mut self, length: Duration) {
        self.outage_until = Some(Instant::now() + length);
    }

    pub fn in_outage(&self) -> bool {
        self.outage_until
            .is_some_and(|until| Instant::now() < until)
    }

    pub fn stats(&self) -> ChaosStats {
        self.stats.clone()
    }

    /// How long the fake waits before acting on a call of `method`.
    pub fn latency(&self, method: &str) -> Duration {
        if method.eq_ignore_ascii_case("getUpdates") {
            Duration::ZERO
        } else {
            self.config.latency
        }
    }

    /// The fault for this call of `method`, if any.
    pub fn pick(&mut self, method: &str) -> Option<Fault> {
        if self.in_outage() {
            self.stats.outage_refusals += 1;
            return Some(Fault::BadGateway);
        }
        if method.eq_ignore_ascii_case("getUpdates") || method.eq_ignore_ascii_case("getMe") {
            return None;
        }
        self.stats.calls += 1;
        let roll: f64 = self.rng.random();
        if roll < self.config.failure_rate {
            return Some(match self.rng.random_range(0..3) {
                0 => {
                    self.stats.server_errors += 1;
                    Fault::ServerError
                }
                1 => {
                    self.stats.bad_gateways += 1;
                    Fault::BadGateway
                }
                _ => {
                    self.stats.cut_connections += 1;
                    Fault::Network
                }
            });
        }
        if roll < self.config.failure_rate + self.config.retry_after_rate {
            self.stats.retry_afters += 1;
            return Some(Fault::RetryAfter(self.config.retry_after_secs));
        }
        None
    }
}
