//! End-to-end under faults (issue 15): the compiled bot against the fake Bot API while its
//! calls fail at random, 429s arrive and Telegram goes away for a while; and the bot killed
//! with SIGKILL while the outbox is delivering. Afterwards every announcement, reminder and
//! closing summary arrived exactly once and every answer was stored once, as pressed.
//!
//! Time: under faults the bot's clock runs ten times faster than the wall clock (so back-offs,
//! measured on the bot's clock, pass quickly), and jumps a week to close the round.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use branchbot::texts::calendar::LATE_PREFIX;
use branchbot::texts::common::INTERNAL_ERROR;
use branchbot::texts::quiz_flow::MYSCORES_EMPTY;

use crate::support::*;

const GROUPS: i64 = 6;
/// The length of the outage. Issue 15 asks for 30 s; 6 s keeps the suite quick while still
/// outlasting every retry a reply makes (3 tries within ~1.5 s) and several outbox back-offs.
const OUTAGE: Duration = Duration::from_secs(6);
const QUESTIONS: i64 = 4;
/// How long the whole answering phase may take before the test gives up.
const ANSWERING_LIMIT: Duration = Duration::from_secs(90);

const ANNOUNCEMENT: &str = "第1期党务业务测试开始了";
const TERM_REMINDER: &str = "【换届提醒】";
const SUMMARY: &str = "第1期党务业务测试已结束";

fn group(i: i64) -> i64 {
    -3000 - i
}
fn secretary(i: i64) -> i64 {
    4000 + i
}
fn trainee(i: i64) -> i64 {
    5000 + i
}

/// Six bound branch groups (机关, term from 16 September 2023: its six-month reminder falls due
/// on 16 March 2026 at 09:05), one trainee joined to each, the clock on Tuesday 10 March 2026.
/// The calendar opens round 1 on 16 March at 09:00 for a week.
async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    for i in 1..=GROUPS {
        api.add_user(secretary(i), &format!("书记{i}"), None);
        api.add_user(trainee(i), &format!("党员{i}"), None);
        api.add_private_chat(trainee(i));
        api.add_group(
            group(i),
            &format!("第{i}支部群"),
            &[secretary(i)],
            &[trainee(i)],
        );
    }
    let env = TestEnv::new()
        .var("BRANCHBOT_QUESTIONS_PER_TEST", QUESTIONS)
        .var("BRANCHBOT_DAY_BEFORE_TIME", "09:05");
    env.set_now(at("2026-03-10T02:00:00Z"));
    let bot = launch(&api, &env).await;
    for i in 1..=GROUPS {
        bind(&api, secretary(i), group(i), &format!("第{i}党支部 机关")).await;
        api.push_text(secretary(i), group(i), "/term 2023-09-16");
        api.wait_for_text(group(i), "已设置本届任期", WAIT).await;
        let code = env.join_code(group(i)).await;
        api.push_text(trainee(i), trainee(i), &format!("/join {code}"));
        api.wait_for_text(trainee(i), "你已加入", WAIT).await;
    }
    (api, env, bot)
}

/// The bot's clock, moved by the test: ticking ten times faster than real time, or jumping.
/// Both go through one lock so a jump is never overwritten by a tick computed before it.
#[derive(Clone)]
struct SimClock {
    dir: PathBuf,
    file: PathBuf,
    lock: Arc<Mutex<()>>,
}

impl SimClock {
    fn new(env: &TestEnv) -> SimClock {
        SimClock {
            dir: env.dir().to_owned(),
            file: env.clock_file(),
            lock: Arc::new(Mutex::new(())),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        let text = std::fs::read_to_string(&self.file).unwrap();
        DateTime::parse_from_rfc3339(text.trim()).unwrap().to_utc()
    }

    fn write(&self, now: DateTime<Utc>) {
        let tmp = self.dir.join("clock.sim");
        std::fs::write(&tmp, now.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap();
        std::fs::rename(&tmp, &self.file).unwrap();
    }

    fn jump(&self, to: DateTime<Utc>) {
        let _held = self.lock.lock().unwrap();
        self.write(to);
    }

    fn advance(&self, by: chrono::Duration) {
        let _held = self.lock.lock().unwrap();
        self.write(self.now() + by);
    }

    /// Ticks one simulated second every 100 ms until `stop` is set.
    fn run(self, stop: Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.advance(chrono::Duration::seconds(1));
            }
        })
    }
}

async fn optional_i64(env: &TestEnv, sql: &str) -> Option<i64> {
    env.query_one::<Option<i64>>(sql).await
}

/// The newest message in the trainee's chat carrying buttons for question `position`.
fn question_message(api: &FakeApi, user: i64, attempt: i64, position: i64) -> Option<SentMessage> {
    let answer = format!("a:{attempt}:{position}:");
    let toggle = format!("t:{attempt}:{position}:");
    api.messages_in(user).into_iter().rev().find(|m| {
        m.buttons().iter().any(|b| {
            b.callback_data
                .as_deref()
                .is_some_and(|d| d.starts_with(&answer) || d.starts_with(&toggle))
        })
    })
}

/// Polls `sql` until it gives something other than `before`, for at most `limit`.
async fn changes(env: &TestEnv, sql: &str, before: &str, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if env.query_one::<String>(sql).await != before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    false
}

/// A trainee takes the whole test the way a person would under a flaky connection: press the
/// first shown option (for a 多选: tick it, then submit), press again if nothing happened, and
/// send /test again when the next question does not come.
async fn take_test(api: &FakeApi, env: &TestEnv, user: i64, deadline: Instant) -> i64 {
    let nudge_after = Duration::from_secs(6);
    api.push_text(user, user, "/test");
    let mut nudged = Instant::now();
    let attempt = loop {
        assert!(Instant::now() < deadline, "trainee {user} never got a test");
        let sql = format!("SELECT MAX(id) FROM attempts WHERE user_id = {user}");
        if let Some(id) = optional_i64(env, &sql).await {
            break id;
        }
        if nudged.elapsed() > nudge_after {
            api.push_text(user, user, "/test");
            nudged = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for position in 0..QUESTIONS {
        let state = format!(
            "SELECT selection || '|' || COALESCE(chosen, '') FROM attempt_questions
             WHERE attempt_id = {attempt} AND position = {position}"
        );
        nudged = Instant::now();
        loop {
            assert!(
                Instant::now() < deadline,
                "trainee {user} stuck at question {position}"
            );
            let now: String = env.query_one(&state).await;
            let (selection, chosen) = now.split_once('|').unwrap();
            if !chosen.is_empty() {
                break;
            }
            let Some(msg) = question_message(api, user, attempt, position) else {
                if nudged.elapsed() > nudge_after {
                    api.push_text(user, user, "/test");
                    nudged = Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let multi = msg.buttons().iter().any(|b| {
                b.callback_data
                    .as_deref()
                    .is_some_and(|d| d.starts_with("t:"))
            });
            let data = match (multi, selection.is_empty()) {
                // A 多选 button says the state it sets: tick the first option.
                (true, true) => format!("t:{attempt}:{position}:0:1"),
                (true, false) => format!("s:{attempt}:{position}"),
                (false, _) => format!("a:{attempt}:{position}:0"),
            };
            api.push_callback(user, msg.chat_id, msg.message_id, &data);
            if !changes(env, &state, &now, Duration::from_secs(5)).await {
                nudged = Instant::now() - nudge_after;
            }
        }
    }
    attempt
}

/// Counts the outbox rows due by `until` (Unix seconds) that are not sent yet.
fn unsent_due_by(until: i64) -> String {
    format!(
        "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') AND due_at <= {until}"
    )
}

/// The outbox rows of `chat`, one line each, for a failure message.
async fn outbox_of(env: &TestEnv, chat: i64) -> String {
    let pool = env.db().await;
    let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT dedup_key, status, attempts, last_error FROM outbox WHERE chat_id = ? ORDER BY id",
    )
    .bind(chat)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|(key, status, attempts, error)| {
            format!("  {key}: {status} after {attempts} tries ({error:?})")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every message the outbox recorded as sent arrived exactly as often as it was recorded, and
/// nothing due by `until` is left pending, in flight or failed.
async fn assert_outbox_delivered_once(api: &FakeApi, env: &TestEnv, until: i64) {
    let pool = env.db().await;
    let left: Vec<(String, String)> = sqlx::query_as(
        "SELECT dedup_key, status FROM outbox
         WHERE status IN ('pending', 'sending', 'failed') AND due_at <= ?",
    )
    .bind(until)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(left.is_empty(), "not delivered: {left:?}");
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT chat_id, text FROM outbox WHERE status = 'sent'")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let mut recorded: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for row in rows {
        *recorded.entry(row).or_default() += 1;
    }
    for ((chat, text), times) in &recorded {
        let arrived = api
            .messages_in(*chat)
            .iter()
            .filter(|m| m.text.trim_start_matches(LATE_PREFIX) == text)
            .count();
        assert_eq!(arrived, *times, "chat {chat}: {text}");
    }
}

#[tokio::test]
async fn under_faults_429s_and_an_outage_everything_arrives_once_and_every_answer_is_stored_once() {
    let started = Instant::now();
    let (api, env, mut bot) = world().await;
    api.set_chaos(Some(ChaosConfig {
        seed: 15,
        failure_rate: 0.10,
        retry_after_rate: 0.03,
        retry_after_secs: 1,
        ..ChaosConfig::default()
    }));

    // 16 March 09:00: the round opens (six announcements); the clock runs on from there, and at
    // 09:05 the six term reminders fall due while the trainees answer.
    let clock = SimClock::new(&env);
    clock.jump(at("2026-03-16T01:00:00Z"));
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'", 1)
        .await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticking = clock.clone().run(stop.clone());

    let deadline = Instant::now() + ANSWERING_LIMIT;
    let outage = async {
        tokio::time::sleep(Duration::from_secs(4)).await;
        api.start_outage(OUTAGE);
    };
    let trainees = futures::future::join_all((1..=GROUPS).map(|i| {
        let (api, env) = (&api, &env);
        async move { take_test(api, env, trainee(i), deadline).await }
    }));
    let (attempts, ()) = tokio::join!(trainees, outage);
    // Let the clock pass 09:05 if the trainees were quicker than that.
    let reminded = at("2026-03-16T01:06:00Z");
    while clock.now() < reminded {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A week passes before the close: whatever fell due by now goes out, retries included,
    // before the announcements expire with their round. Under faults a failed send can hold
    // its pass for teloxide's 10 s pause after a 5xx, so this can take a few passes.
    let settling = Instant::now();
    env.eventually_i64_within(
        &unsent_due_by(reminded.timestamp()),
        0,
        Duration::from_secs(90),
    )
    .await;
    let settled_in = settling.elapsed();

    // 23 March 09:00: the round closes, still under faults: six closing summaries. The clock
    // keeps running, so the back-offs of failed sends pass.
    clock.jump(at("2026-03-23T01:00:00Z"));
    for i in 1..=GROUPS {
        api.wait_until("the closing summary", Duration::from_secs(40), |api| {
            (count_containing(api, group(i), SUMMARY) > 0).then_some(())
        })
        .await;
    }
    let stats = api.chaos_stats();
    api.set_chaos(None);
    // Whatever is still held for a retry goes out within its (capped) back-off.
    let closed = at("2026-03-23T01:00:00Z").timestamp();
    env.eventually_i64(&unsent_due_by(closed), 0).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticking.await.unwrap();
    scheduler_fence(&api, &env).await;

    // A failed reply is tried again, not turned into the apology that nothing was changed
    // (each press here did change something).
    let apologies: usize = (1..=GROUPS)
        .map(|i| count_containing(&api, trainee(i), INTERNAL_ERROR))
        .sum();
    eprintln!(
        "chaos run: {stats:?}, outage {OUTAGE:?}, {apologies} apologies, outbox settled \
         {settled_in:?} after 09:06, {:?} in all",
        started.elapsed()
    );
    assert_eq!(apologies, 0, "replies that failed were not retried");
    for i in 1..=GROUPS {
        for what in [ANNOUNCEMENT, TERM_REMINDER, SUMMARY] {
            let arrived = count_containing(&api, group(i), what);
            if arrived != 1 {
                panic!(
                    "group {i}: {what} arrived {arrived} times\noutbox of the group:\n{}\n{}",
                    outbox_of(&env, group(i)).await,
                    api.dump()
                );
            }
        }
    }
    assert_outbox_delivered_once(&api, &env, closed).await;

    // Every answer stored once, as pressed: the first shown option of each question.
    for (i, attempt) in (1..=GROUPS).zip(attempts) {
        let user = trainee(i);
        assert_eq!(
            env.query_i64(&format!(
                "SELECT COUNT(*) FROM attempts WHERE user_id = {user}"
            ))
            .await,
            1
        );
        assert_eq!(
            env.query_one::<String>(&format!("SELECT status FROM attempts WHERE id = {attempt}"))
                .await,
            "finished"
        );
        let as_pressed = env
            .query_i64(&format!(
                "SELECT COUNT(*) FROM attempt_questions WHERE attempt_id = {attempt}
                 AND chosen = substr(option_order, 1, 1)"
            ))
            .await;
        assert_eq!(as_pressed, QUESTIONS, "trainee {user}");
    }
    // The faults really happened.
    assert!(stats.failures() >= 10, "{stats:?}");
    assert!(stats.retry_afters >= 2, "{stats:?}");
    assert!(stats.outage_refusals >= 1, "{stats:?}");
    assert!(bot.stop().await.success());
}

/// Issue 15, defect 3: killed at random moments while the outbox delivers, the bot neither
/// loses nor doubles a message — except one whose kill fell inside the one-request window
/// (Telegram had accepted it, the row was still `sending`), which may arrive twice and no more.
#[tokio::test]
async fn killed_while_delivering_nothing_is_lost_and_only_the_window_may_double() {
    let (api, env, mut bot) = world().await;
    // A slow Telegram (each call takes 250 ms), so the kills fall while requests are on their way.
    let latency = Duration::from_millis(250);
    api.set_chaos(Some(ChaosConfig {
        latency,
        ..ChaosConfig::default()
    }));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // Each jump makes messages fall due in every group: the round's announcement and the term
    // reminders, then meeting reminders, then the closing summaries.
    let jumps = [
        "2026-03-16T01:00:00Z",
        "2026-03-16T01:05:00Z",
        "2026-03-20T01:00:00Z",
        "2026-03-23T01:00:00Z",
        "2026-04-01T00:00:00Z",
        "2026-04-05T01:00:00Z",
    ];
    let mut window: Vec<(i64, String)> = Vec::new();
    let mut kills_outside = 0;
    for jump in jumps {
        env.set_now(at(jump));
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1200))).await;
        bot.kill();
        // The process is dead; once its last requests have landed (or not), what it recorded
        // and what Telegram accepted stand.
        tokio::time::sleep(latency * 2).await;
        let pool = env.db().await;
        let in_flight: Vec<(i64, String)> =
            sqlx::query_as("SELECT chat_id, text FROM outbox WHERE status = 'sending'")
                .fetch_all(&pool)
                .await
                .unwrap();
        let (sent, pending, sending): (f64, f64, f64) = sqlx::query_as(
            "SELECT TOTAL(status = 'sent'), TOTAL(status = 'pending'), TOTAL(status = 'sending')
             FROM outbox",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        let accepted = |chat: i64, text: &str| {
            api.messages_in(chat)
                .iter()
                .any(|m| m.text.trim_start_matches(LATE_PREFIX) == text)
        };
        let exposed: Vec<_> = in_flight
            .into_iter()
            .filter(|(chat, text)| accepted(*chat, text))
            .collect();
        // A kill while something was still to send, none of it inside the window.
        if exposed.is_empty() && pending + sending > 0.0 {
            kills_outside += 1;
        }
        eprintln!(
            "kill at {jump}: {sent} sent, {pending} pending, {sending} sending, {} in the window",
            exposed.len()
        );
        window.extend(exposed);
        bot.crash_and_restart();
        bot.wait_until_polling().await;
    }
    env.advance(chrono::Duration::minutes(1));
    env.eventually_i64(
        "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')",
        0,
    )
    .await;
    scheduler_fence(&api, &env).await;
    assert!(
        kills_outside >= 3,
        "at least three kills fell mid-delivery outside the window"
    );

    let pool = env.db().await;
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT chat_id, text, status FROM outbox")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert!(rows.iter().all(|(_, _, status)| status != "failed"));
    let mut checked = 0;
    for (chat, text, status) in rows.iter().filter(|(_, _, s)| s == "sent") {
        let arrived = api
            .messages_in(*chat)
            .iter()
            .filter(|m| m.text.trim_start_matches(LATE_PREFIX) == text)
            .count();
        let same = rows
            .iter()
            .filter(|(c, t, s)| c == chat && t == text && s == status)
            .count();
        let doubled = window
            .iter()
            .filter(|(c, t)| c == chat && t == text)
            .count();
        assert!(
            (same..=same + doubled).contains(&arrived),
            "chat {chat}: arrived {arrived}, recorded {same}, in the window {doubled}: {text}"
        );
        checked += 1;
    }
    assert!(checked >= 3 * GROUPS as usize, "{checked} messages checked");
    for i in 1..=GROUPS {
        assert!(count_containing(&api, group(i), ANNOUNCEMENT) >= 1);
        assert!(count_containing(&api, group(i), SUMMARY) >= 1);
    }
    assert!(bot.stop().await.success());
}

/// Issue 15, defect 13: a direct reply waits out a 429 instead of being lost, and a server
/// error (a real HTTP 500, after which teloxide sleeps 10 s) costs seconds, not ten: the reply
/// and the answer to a press are tried again well inside Telegram's 15 s for a press.
#[tokio::test]
async fn a_reply_waits_out_a_429_and_a_server_error_costs_seconds_not_ten() {
    let api = FakeApi::start().await;
    let user = trainee(1);
    api.add_user(user, "党员1", None);
    api.add_private_chat(user);
    let env = TestEnv::new();
    let mut bot = launch(&api, &env).await;

    // 429 with retry_after 2: the reply comes after the wait, once, and no apology.
    api.fail_next("sendMessage", 1, Fault::RetryAfter(2));
    let mark = api.mark();
    let asked = Instant::now();
    api.push_text(user, user, "/myscores");
    api.wait_for_text_since(mark, user, MYSCORES_EMPTY, WAIT)
        .await;
    assert!(
        asked.elapsed() >= Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );

    // A 500 on the reply: tried again after a few seconds, not after teloxide's 10 s.
    api.fail_next("sendMessage", 1, Fault::ServerError);
    let asked = Instant::now();
    api.push_text(user, user, "/myscores");
    api.wait_until("the second reply", WAIT, |api| {
        let replies = api
            .messages_since(mark)
            .into_iter()
            .filter(|m| m.plain_text == MYSCORES_EMPTY)
            .count();
        (replies == 2).then_some(())
    })
    .await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(8), "{took:?}");

    let since = api.messages_since(mark);
    assert_eq!(since.len(), 2, "{since:#?}");
    assert!(since.iter().all(|m| m.plain_text != INTERNAL_ERROR));
    assert_eq!(
        api.calls_to("sendMessage")
            .iter()
            .filter(|c| !c.ok())
            .count(),
        2,
        "one refused try each"
    );
    assert!(bot.stop().await.success());
}
