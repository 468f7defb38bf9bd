//! The delivery pass against an in-memory database and an outlet the test scripts: what is
//! counted as due is taken, lateness is judged from the due time, and a send that goes through
//! after failures releases the held retries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;

use super::*;
use crate::clock::ManualClock;
use crate::config::Config;
use crate::storage::{connect_memory, outbox::NewMessage};
use crate::texts::calendar::LATE_PREFIX;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

/// 2026-03-02 02:00 UTC, a Monday.
const T0: i64 = 1_772_416_800;

async fn state() -> AppState {
    let config =
        Config::from_lookup(|key| (key == "TELOXIDE_TOKEN").then(|| "1:a".to_owned())).unwrap();
    AppState {
        db: connect_memory().await.unwrap(),
        config: Arc::new(config),
        clock: Arc::new(ManualClock::new(at(T0))),
        rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(1)),
        wake: Arc::new(tokio::sync::Notify::new()),
        nudges: Default::default(),
        bot_username: "branchbot_test".to_owned(),
        bank: Default::default(),
        live_attempts: Default::default(),
        direct_writes: Default::default(),
    }
}

async fn queue(state: &AppState, key: &str, chat_id: i64, due_at: i64) {
    let message = NewMessage {
        key: key.to_owned(),
        topic: None,
        chat_id,
        text: format!("提醒 {key}"),
        markup: None,
        due_at,
        expires_at: None,
    };
    assert!(outbox::enqueue(&state.db, &message, T0).await.unwrap());
}

/// An outlet that answers from a script per chat (then `Sent`), records what it sent, and may
/// run SQL on the bot's database while "sending" (to break the write that follows).
#[derive(Default)]
struct Scripted {
    answers: Mutex<HashMap<i64, VecDeque<Outcome>>>,
    sent: Mutex<Vec<(i64, String)>>,
    during_send: Option<(crate::storage::Db, &'static str)>,
}

impl Scripted {
    fn answering(answers: impl IntoIterator<Item = (i64, Outcome)>) -> Scripted {
        let mut script: HashMap<i64, VecDeque<Outcome>> = HashMap::new();
        for (chat, outcome) in answers {
            script.entry(chat).or_default().push_back(outcome);
        }
        Scripted {
            answers: Mutex::new(script),
            ..Scripted::default()
        }
    }

    fn sent(&self) -> Vec<(i64, String)> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Outlet for Scripted {
    async fn deliver(&self, message: Outgoing<'_>) -> Outcome {
        if let Some((db, sql)) = &self.during_send {
            sqlx::raw_sql(sql).execute(db).await.unwrap();
        }
        let answer = self
            .answers
            .lock()
            .unwrap()
            .get_mut(&message.chat_id)
            .and_then(VecDeque::pop_front);
        let answer = answer.unwrap_or(Outcome::Sent { message_id: 7 });
        if matches!(answer, Outcome::Sent { .. }) {
            let sent = (message.chat_id, message.html.to_owned());
            self.sent.lock().unwrap().push(sent);
        }
        answer
    }
}

fn retry(at: i64) -> Outcome {
    Outcome::Retry {
        at,
        error: "Bad Gateway".to_owned(),
    }
}

/// Issue 15, defect 1: Telegram accepted the message but recording it failed. The row stays
/// `sending`, which no pass takes; the scheduler must then not name "now" as the next due time
/// (it did, and spun at 100% until a restart).
#[tokio::test]
async fn a_send_whose_mark_failed_is_not_counted_as_due_forever() {
    let st = state().await;
    queue(&st, "k", -100, T0 - 60).await;
    let outlet = Scripted {
        during_send: Some((
            st.db.clone(),
            "CREATE TRIGGER no_marking BEFORE UPDATE OF status ON outbox WHEN NEW.status = 'sent'
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;",
        )),
        ..Scripted::default()
    };
    assert!(crate::scheduler::tick(&st, &outlet, at(T0)).await.is_err());
    assert_eq!(outlet.sent().len(), 1);
    assert_eq!(
        outbox::status_of(&st.db, "k").await.unwrap().as_deref(),
        Some("sending")
    );
    for pass in 0..3 {
        let next = crate::scheduler::tick(&st, &outlet, at(T0)).await.unwrap();
        assert!(
            next.is_none_or(|next| next > at(T0)),
            "pass {pass}: the next due time is {next:?}, not later than now"
        );
    }
    assert_eq!(outlet.sent().len(), 1, "not sent again in this run");
    // The next start re-queues it: at least once, the one-request window.
    assert_eq!(outbox::recover_in_flight(&st.db).await.unwrap(), 1);
}

/// Issue 15, defect 2: a reminder due at 09:00 that failed and went out at 09:07 is late (补发),
/// judged from when it fell due, not from the last retry.
#[tokio::test]
async fn lateness_is_judged_from_the_due_time_not_from_the_last_retry() {
    let st = state().await;
    queue(&st, "late", -100, T0).await;
    queue(&st, "on-time", -200, T0 + 400).await;
    let outlet = Scripted::answering([(-100, retry(T0 + 400))]);
    crate::scheduler::tick(&st, &outlet, at(T0)).await.unwrap();
    assert!(outlet.sent().is_empty());
    let next = crate::scheduler::tick(&st, &outlet, at(T0 + 1))
        .await
        .unwrap();
    assert_eq!(next, Some(at(T0 + 400)), "woken for the retry");

    crate::scheduler::tick(&st, &outlet, at(T0 + 400))
        .await
        .unwrap();
    let sent = outlet.sent();
    let text_to = |chat: i64| sent.iter().find(|(c, _)| *c == chat).unwrap().1.clone();
    assert!(text_to(-100).starts_with(LATE_PREFIX), "{sent:?}");
    assert!(!text_to(-200).starts_with(LATE_PREFIX), "{sent:?}");
    let (late, due_at): (bool, i64) =
        sqlx::query_as("SELECT late, due_at FROM outbox WHERE dedup_key = 'late'")
            .fetch_one(&st.db)
            .await
            .unwrap();
    assert!(late);
    assert_eq!(due_at, T0, "the due time stays when it fell due");
}

/// Issue 15, defect 14: after an outage the rows wait at most `MAX_BACKOFF_SECS` between tries,
/// and the first retry that goes through releases every held retry at once.
#[tokio::test]
async fn the_first_send_after_an_outage_releases_every_held_retry() {
    assert!((0..=MAX_ATTEMPTS).all(|n| (1..=MAX_BACKOFF_SECS).contains(&backoff(n))));
    assert!(backoff(1) < backoff(2) && backoff(MAX_ATTEMPTS) == MAX_BACKOFF_SECS);

    let st = state().await;
    for chat in 1..=5 {
        queue(&st, &format!("g{chat}"), -chat, T0).await;
    }
    // During the outage every row fails; one is due again in 2 s, the others later.
    let outlet = Scripted::answering(
        (1..=5).map(|chat| (-chat, retry(if chat == 1 { T0 + 2 } else { T0 + 30 }))),
    );
    crate::scheduler::tick(&st, &outlet, at(T0)).await.unwrap();
    assert!(outlet.sent().is_empty());
    // Telegram answers again: the row tried at T0 + 2 goes through, and with it the others.
    let next = crate::scheduler::tick(&st, &outlet, at(T0 + 2))
        .await
        .unwrap();
    assert_eq!(outlet.sent().len(), 1);
    assert_eq!(next, Some(at(T0 + 2)), "the held retries are due now");
    crate::scheduler::tick(&st, &outlet, at(T0 + 2))
        .await
        .unwrap();
    assert_eq!(outlet.sent().len(), 5, "all sent within the same second");
}

/// A 429 says when to come back: a send that goes through does not pull that row forward.
#[tokio::test]
async fn a_row_told_to_wait_by_a_429_keeps_its_time() {
    let st = state().await;
    queue(&st, "a", -1, T0).await;
    queue(&st, "b", -2, T0).await;
    let outlet = Scripted::answering([
        (-1, retry(T0 + 2)),
        (
            -2,
            Outcome::Retry {
                at: T0 + 20,
                error: "429 Too Many Requests".to_owned(),
            },
        ),
    ]);
    crate::scheduler::tick(&st, &outlet, at(T0)).await.unwrap();
    crate::scheduler::tick(&st, &outlet, at(T0 + 2))
        .await
        .unwrap();
    assert_eq!(outlet.sent().len(), 1);
    assert_eq!(outbox::next_due(&st.db).await.unwrap(), Some(T0 + 20));
}
