//! The one rate limiter every Bot API request that puts a message into a chat (or changes one)
//! passes through: Telegram's limits as a schedule of reserved send times.
//!
//! Telegram allows a bot about 30 messages a second overall, one a second into one chat and
//! 20 a minute into one group. teloxide's `Throttle` keeps these by counting what was sent in
//! the last second and waking every 250 ms; a second's budget is spent in a burst and the next
//! is found up to a tick late, so it settles some 6% under the limit, and its bursts of 30
//! land at Telegram close enough to the previous burst to earn an occasional 429. It also
//! leaves edits unlimited, which makes an answer that edits the test's message in place free
//! of any limit.
//!
//! Here each request reserves the earliest instant that keeps every limit and sleeps until
//! then; there is no worker and no tick. Overall, no window of 1.025 s (a second with a
//! 2.5% margin) holds more than `rate` reserved instants, so no second at Telegram does either
//! however the network jitters by a few milliseconds. A request that finds that room now goes
//! at once — a trainee's next question never waits for a grid or a timer — and when the window
//! is full (a broadcast) each request takes the earliest instant where a window has room and
//! that lies a slot (`1.025 s / rate`) from its neighbours, which runs at 0.975 of the limit.
//! Per chat, an instant is at least a second after the chat's previous one; per group, at most
//! 20 in any minute. A 429 anywhere freezes new reservations until its `retry_after` passed.
//!
//! What counts: sending (messages, documents, photos, albums: one per file) and editing
//! (text, buttons), since Telegram's flood control applies to edits as well. Answering a button
//! press (`answerCallbackQuery`) is not a message and is answered at once, as are questions
//! to Telegram (`getChatMember`, `getFile`) and the typing indicator.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// One message a second into a chat.
pub const PER_CHAT: Duration = Duration::from_secs(1);
/// Twenty messages a minute into a group.
pub const PER_GROUP_PER_MINUTE: usize = 20;
const MINUTE: Duration = Duration::from_secs(60);
/// The window that may hold `rate` messages is this much longer than a second: evenly spaced
/// sends at exactly 30 a second put 31 into a closed one-second window, and a request delayed
/// on its way (a busy machine, the network) lets the next ones catch up with it. 2.5% leaves
/// some 25 ms for that and runs at 0.975 of the limit (at 2% a loaded machine earned 429s).
const MARGIN: f64 = 1.025;

/// The schedule shared by all requests of the process.
#[derive(Debug)]
pub struct Limiter {
    /// At most `limit` reserved instants in any `window`.
    limit: usize,
    window: Duration,
    /// The spacing of requests queued behind a full window: `window / limit`.
    slot: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    origin: Instant,
    /// Reserved instants (nanoseconds from `origin`, each distinct), at most `limit` in any
    /// `window`; pruned as time passes.
    taken: BTreeSet<u64>,
    /// Per chat, its reserved instants of the last minute, oldest first.
    chats: HashMap<i64, VecDeque<Instant>>,
    frozen_until: Option<Instant>,
    reservations: u64,
}

impl Limiter {
    /// A limiter for `per_second` messages a second overall (Telegram's default is 30; paid
    /// broadcasts allow up to 1,000).
    pub fn new(per_second: u32) -> Limiter {
        let per_second = per_second.max(1);
        Limiter {
            limit: per_second as usize,
            window: Duration::from_secs_f64(MARGIN),
            slot: Duration::from_secs_f64(MARGIN / f64::from(per_second)),
            state: Mutex::new(State {
                origin: Instant::now(),
                taken: BTreeSet::new(),
                chats: HashMap::new(),
                frozen_until: None,
                reservations: 0,
            }),
        }
    }

    /// Waits until `count` messages may go into `chat` (a negative id is a group), then returns.
    pub async fn wait(&self, chat: i64, count: usize) {
        let now = Instant::now();
        let mut at = now;
        for _ in 0..count.max(1) {
            at = self.reserve(chat, now);
        }
        // A timer rounds up to the next millisecond: not worth it for an instant already due.
        if at > now {
            tokio::time::sleep_until(at).await;
        }
        // A 429 seen while this request waited: Telegram asked the whole bot to hold back.
        while let Some(until) = self.frozen_until() {
            if until <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(until).await;
        }
    }

    /// Holds every reservation made from now on until `until` (a 429's `retry_after`).
    pub fn freeze(&self, until: Instant) {
        let mut state = self.lock();
        if state.frozen_until.is_none_or(|t| t < until) {
            state.frozen_until = Some(until);
        }
    }

    pub fn frozen_until(&self) -> Option<Instant> {
        self.lock().frozen_until
    }

    /// The earliest instant at or after `now` that keeps every limit for one message into
    /// `chat`, recorded as taken.
    pub fn reserve(&self, chat: i64, now: Instant) -> Instant {
        let mut state = self.lock();
        state.prune(now, self.window);
        let mut earliest = now.max(state.frozen_until.unwrap_or(now));
        if let Some(sent) = state.chats.get(&chat) {
            if let Some(last) = sent.back() {
                earliest = earliest.max(*last + PER_CHAT);
            }
            if chat < 0 && sent.len() >= PER_GROUP_PER_MINUTE {
                earliest = earliest.max(sent[sent.len() - PER_GROUP_PER_MINUTE] + MINUTE);
            }
        }
        let (window, slot) = (self.window.as_nanos() as u64, self.slot.as_nanos() as u64);
        let mut t = earliest.saturating_duration_since(state.origin).as_nanos() as u64;
        if !fits(&state.taken, t, window, self.limit) {
            // The window is full (a broadcast): the earliest instant a slot from its
            // neighbours where a window has room again.
            loop {
                if let Some(&before) = state.taken.range(..=t).next_back() {
                    t = t.max(before + slot);
                }
                if let Some(&after) = state.taken.range(t..).next() {
                    if after - t < slot {
                        t = after + slot;
                        continue;
                    }
                }
                if fits(&state.taken, t, window, self.limit) {
                    break;
                }
                t = match state.taken.range(t.saturating_sub(window)..=t).next() {
                    Some(&oldest) => t.max(oldest + window + 1),
                    None => t + slot,
                };
            }
        }
        while state.taken.contains(&t) {
            t += 1;
        }
        state.taken.insert(t);
        let at = state.origin + Duration::from_nanos(t);
        state.chats.entry(chat).or_default().push_back(at);
        at
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether one more instant at `t` keeps every window of length `window` (closed) at `limit`
/// instants or fewer. The fullest window holding `t` starts at one of the reserved instants
/// before it, or at `t` itself.
fn fits(taken: &BTreeSet<u64>, t: u64, window: u64, limit: usize) -> bool {
    let before: Vec<u64> = taken.range(t.saturating_sub(window)..=t).copied().collect();
    let after: Vec<u64> = taken.range(t + 1..=t + window).copied().collect();
    let mut reached = 0;
    let mut fullest = 0;
    for (i, &start) in before.iter().chain(std::iter::once(&t)).enumerate() {
        while reached < after.len() && after[reached] <= start + window {
            reached += 1;
        }
        let from_before = if i < before.len() {
            before.len() - i
        } else {
            usize::from(before.last() == Some(&t))
        };
        fullest = fullest.max(from_before + reached);
    }
    fullest < limit
}

impl State {
    /// Forgets instants no window of a new request reaches back to and, now and then, chats
    /// quiet for a minute.
    fn prune(&mut self, now: Instant, window: Duration) {
        let horizon = now
            .saturating_duration_since(self.origin)
            .saturating_sub(window)
            .as_nanos() as u64;
        self.taken = self.taken.split_off(&horizon);
        self.reservations += 1;
        if self.reservations.is_multiple_of(1024) {
            let horizon = now.checked_sub(MINUTE).unwrap_or(self.origin);
            self.chats.retain(|_, sent| {
                while sent.front().is_some_and(|t| *t < horizon) {
                    sent.pop_front();
                }
                !sent.is_empty()
            });
        }
        if self.frozen_until.is_some_and(|t| t <= now) {
            self.frozen_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many of `times` fall in any window of `window` starting at one of them.
    fn most_in_window(times: &[Instant], window: Duration) -> usize {
        let mut sorted = times.to_vec();
        sorted.sort();
        (0..sorted.len())
            .map(|i| {
                sorted[i..]
                    .iter()
                    .take_while(|t| **t <= sorted[i] + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn a_broadcast_runs_just_under_the_overall_limit_and_never_over_it() {
        let limiter = Limiter::new(30);
        let now = Instant::now();
        let times: Vec<Instant> = (0..300).map(|g| limiter.reserve(-1000 - g, now)).collect();
        let span = *times.last().unwrap() - times[0];
        let rate = 299.0 / span.as_secs_f64();
        assert!((29.1..=30.0).contains(&rate), "{rate} messages a second");
        // Even with 25 ms of jitter, no second holds more than 30.
        assert!(most_in_window(&times, Duration::from_millis(1025)) <= 30);
    }

    #[tokio::test]
    async fn one_chat_gets_one_a_second_and_a_group_twenty_a_minute() {
        let limiter = Limiter::new(30);
        let now = Instant::now();
        let private: Vec<Instant> = (0..5).map(|_| limiter.reserve(7, now)).collect();
        for pair in private.windows(2) {
            assert!(pair[1] - pair[0] >= PER_CHAT);
        }
        let group: Vec<Instant> = (0..45).map(|_| limiter.reserve(-5, now)).collect();
        assert!(most_in_window(&group, Duration::from_secs(59)) <= PER_GROUP_PER_MINUTE);
        assert!(group[20] - group[0] >= MINUTE);
        // Another chat is not held up by them.
        assert!(limiter.reserve(8, now) < now + Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_request_into_a_quiet_moment_goes_at_once() {
        let limiter = Limiter::new(30);
        let now = Instant::now();
        // Thirty requests into thirty chats at one moment all go at once; the next waits for
        // the window to have room, and then they follow a slot apart.
        for chat in 0..30 {
            assert!(limiter.reserve(chat, now) - now < Duration::from_micros(1));
        }
        let next = limiter.reserve(30, now);
        assert!(next - now >= limiter.window, "{:?}", next - now);
        let after = limiter.reserve(31, now);
        assert!(after - next >= limiter.slot);
        // Long after, a lone request goes at once again.
        let later = now + Duration::from_secs(5);
        assert_eq!(limiter.reserve(32, later), later);
    }

    proptest::proptest! {
        /// Requests arriving at any moments, in any chats: no window of 1.025 s holds more than
        /// the rate, none goes before its request, and each chat's are a second apart.
        #[test]
        fn reserved_instants_keep_every_limit(
            arrivals in proptest::collection::vec((0u64..3_000, -40i64..60), 1..300),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let _guard = rt.enter();
            let limiter = Limiter::new(30);
            let start = Instant::now();
            let mut arrivals = arrivals;
            arrivals.sort();
            let mut all = Vec::new();
            let mut per_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
            for (ms, chat) in arrivals {
                let now = start + Duration::from_millis(ms);
                let at = limiter.reserve(chat, now);
                proptest::prop_assert!(at >= now);
                all.push(at);
                per_chat.entry(chat).or_default().push(at);
            }
            proptest::prop_assert!(most_in_window(&all, limiter.window) <= 30);
            for times in per_chat.values_mut() {
                times.sort();
                for pair in times.windows(2) {
                    proptest::prop_assert!(pair[1] - pair[0] >= PER_CHAT);
                }
            }
        }
    }

    #[tokio::test]
    async fn a_freeze_holds_new_reservations() {
        let limiter = Limiter::new(30);
        let now = Instant::now();
        limiter.freeze(now + Duration::from_secs(3));
        assert!(limiter.reserve(9, now) >= now + Duration::from_secs(3));
    }
}
