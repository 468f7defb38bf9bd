//! End-to-end crash test (issue 15, "must hold afterwards", second bullet): three trainees take
//! the test while a meeting reminder falls due, and the bot is killed with SIGKILL at seeded
//! random points — right after a press was pushed, a few milliseconds into its handling. After
//! every restart the trainees come back with `/test`. Afterwards: every answer the presses gave
//! is stored (nothing lost), no question was asked again after its answer was stored, every
//! score equals what the presses imply, every trainee has the result, and the reminder came.

use std::collections::HashMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use branchbot::domain::quiz::score;
use branchbot::questions::model::{Question, QuestionKind};
use branchbot::texts::quiz as qt;

use crate::quiz::BANK;
use crate::support::*;

const SECRETARY: i64 = 1001;
const TRAINEES: [i64; 3] = [1002, 1003, 1004];
const GROUP: i64 = -2001;
/// Kills at least this many times.
const KILLS: usize = 6;
/// The seed of the crash points and answers; `BRANCHBOT_CRASH_SEED` tries another.
const SEED: u64 = 15;

/// One trainee's test as the test drives it.
struct Taker {
    user: i64,
    attempt: i64,
    /// The shown options pressed for each position, decided at the first visit and kept, so a
    /// question shown again after a crash gets the same answer.
    plan: HashMap<i64, Vec<u8>>,
    done: bool,
}

/// A drawn question as the attempt stored it: the copy and the option order.
async fn stored(env: &TestEnv, attempt: i64, position: i64) -> (Question, Vec<u8>) {
    let (copy, order): (String, String) = {
        let pool = env.db().await;
        let row = sqlx::query_as(
            "SELECT question_copy, option_order FROM attempt_questions WHERE attempt_id = ? AND position = ?",
        )
        .bind(attempt)
        .bind(position)
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        row
    };
    let order = order.bytes().map(|b| b - b'0').collect();
    (serde_json::from_str(&copy).unwrap(), order)
}

/// The question position a message's buttons answer, if it is a question of `attempt`.
fn position_of(m: &SentMessage, attempt: i64) -> Option<i64> {
    shown_position(&m.buttons(), attempt)
}

/// The newest question message of the trainee with buttons, from message `after` on (the test
/// is one message edited in place; a resume sends a newer one).
async fn current_question(api: &FakeApi, t: &Taker, after: i32) -> (SentMessage, i64) {
    let msg = api
        .wait_for_message(
            t.user,
            |m| m.message_id >= after && position_of(m, t.attempt).is_some(),
            WAIT,
        )
        .await;
    let position = position_of(&msg, t.attempt).unwrap();
    (msg, position)
}

/// Pushes the presses that answer `position` with the planned options, as a person would: a
/// 多选 question's options are ticked, and submit is pressed once they show as ticked (a tick
/// lost to a crash is seen and pressed again after the restart, never submitted blind).
async fn push_answer(
    api: &FakeApi,
    env: &TestEnv,
    t: &Taker,
    msg: &SentMessage,
    kind: QuestionKind,
    position: i64,
) {
    let shown = &t.plan[&position];
    let (chat, id, a) = (t.user, msg.message_id, t.attempt);
    if kind != QuestionKind::Multiple {
        api.push_callback(chat, chat, id, &format!("a:{a}:{position}:{}", shown[0]));
        return;
    }
    for option in shown {
        api.push_callback(chat, chat, id, &format!("t:{a}:{position}:{option}:1"));
    }
    let (_, order) = stored(env, a, position).await;
    let mut ticked: Vec<u8> = shown.iter().map(|&s| order[usize::from(s)]).collect();
    ticked.sort_unstable();
    let ticked: String = ticked.iter().map(|i| i.to_string()).collect();
    let query = format!(
        "SELECT COUNT(*) FROM attempt_questions WHERE attempt_id = {a} AND position = {position} AND selection = '{ticked}'"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while env.query_i64(&query).await == 0 {
        if std::time::Instant::now() > deadline {
            // Not shown as ticked: the restart path presses again.
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    api.push_callback(chat, chat, id, &format!("s:{a}:{position}"));
}

/// What the planned presses of a trainee score.
async fn expected_score(env: &TestEnv, t: &Taker) -> (u32, HashMap<i64, String>) {
    let mut correct = 0;
    let mut chosen = HashMap::new();
    for position in 0..4 {
        let (question, order) = stored(env, t.attempt, position).await;
        let mut original: Vec<u8> = t.plan[&position]
            .iter()
            .map(|&s| order[usize::from(s)])
            .collect();
        original.sort_unstable();
        if original == question.answer {
            correct += 1;
        }
        chosen.insert(
            position,
            original.iter().map(|i| i.to_string()).collect::<String>(),
        );
    }
    (score(correct, 4), chosen)
}

/// After a restart every trainee still taking the test writes `/test`; returns the message
/// after which their current question must appear.
async fn come_back(api: &FakeApi, takers: &mut [Taker]) -> HashMap<i64, i32> {
    let mut resumed = HashMap::new();
    for t in takers.iter_mut().filter(|t| !t.done) {
        let mark = api.mark();
        api.push_text(t.user, t.user, "/test");
        let reply = api
            .wait_until("the reply to /test", WAIT, |api| {
                api.messages_since(mark).into_iter().find(|m| {
                    m.chat_id == t.user
                        && (m.plain_text.contains("继续第")
                            || m.plain_text.contains("只能参加一次"))
                })
            })
            .await;
        if reply.plain_text.contains("只能参加一次") {
            t.done = true;
        } else {
            resumed.insert(t.user, reply.message_id);
        }
    }
    resumed
}

#[tokio::test]
async fn sigkill_at_random_points_loses_nothing_asks_nothing_twice_and_scores_what_was_pressed() {
    let started = std::time::Instant::now();
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    for (i, user) in TRAINEES.into_iter().enumerate() {
        api.add_user(user, &format!("学员{i}"), None);
        api.add_private_chat(user);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &TRAINEES);
    let env = TestEnv::new()
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 10 2 3 *")
        .var("BRANCHBOT_QUESTIONS_PER_TEST", 4)
        .var("BRANCHBOT_DAY_BEFORE_TIME", "10:00");
    let bank_dir = env.dir().join("bank");
    std::fs::create_dir_all(&bank_dir).unwrap();
    std::fs::write(bank_dir.join("bank.toml"), BANK).unwrap();
    let env = env.questions_dir(&bank_dir);
    // Wednesday 4 March, 09:55 in Shanghai: the round of 2 March is open; the day-before
    // reminder of the 支委会 (5 March) falls due at 10:00, during the test.
    env.set_now(at("2026-03-04T01:55:00Z"));
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'", 1)
        .await;
    let code = env.join_code(GROUP).await;

    let mut takers = Vec::new();
    for user in TRAINEES {
        api.push_text(user, user, &format!("/join {code}"));
        api.wait_for_text(user, "第一党支部", WAIT).await;
        let mark = api.mark();
        api.push_text(user, user, "/test");
        api.wait_for_text_since(mark, user, "业务测试开始", WAIT)
            .await;
        let attempt = env
            .query_i64(&format!("SELECT id FROM attempts WHERE user_id = {user}"))
            .await;
        takers.push(Taker {
            user,
            attempt,
            plan: HashMap::new(),
            done: false,
        });
    }

    let seed = std::env::var("BRANCHBOT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut kills = 0;
    let mut presses = 0;
    let mut next_kill = rng.random_range(1..=2);
    let mut after: HashMap<i64, i32> = HashMap::new();
    while takers.iter().any(|t| !t.done) {
        let open: Vec<usize> = (0..takers.len()).filter(|&i| !takers[i].done).collect();
        let i = open[rng.random_range(0..open.len())];
        let since = after.get(&takers[i].user).copied().unwrap_or(0);
        let (msg, position) = current_question(&api, &takers[i], since).await;
        let (question, _) = stored(&env, takers[i].attempt, position).await;
        let count = u8::try_from(question.options.len()).unwrap();
        let t = &mut takers[i];
        t.plan.entry(position).or_insert_with(|| {
            if question.kind == QuestionKind::Multiple {
                let mut pick: Vec<u8> = (0..count).filter(|_| rng.random_bool(0.6)).collect();
                if pick.is_empty() {
                    pick.push(0);
                }
                pick
            } else {
                vec![rng.random_range(0..count)]
            }
        });
        push_answer(&api, &env, t, &msg, question.kind, position).await;
        presses += 1;
        if presses == next_kill && kills < KILLS {
            // A crash a few milliseconds into handling the press (or before it arrived).
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..25))).await;
            bot.kill();
            kills += 1;
            if kills == 2 {
                // The reminder falls due while the bot is down.
                env.set_now(at("2026-03-04T02:01:00Z"));
            }
            bot.crash_and_restart();
            bot.wait_until_polling().await;
            after = come_back(&api, &mut takers).await;
            next_kill = presses + rng.random_range(1..=2);
            continue;
        }
        // No crash now: wait until the bot has moved on (next question or the result).
        let user = t.user;
        let attempt = t.attempt;
        let last = position == 3;
        api.wait_until("the bot to move on", WAIT, |api| {
            let messages = api.messages_in(user);
            let moved = messages
                .iter()
                .any(|m| position_of(m, attempt).is_some_and(|p| p > position));
            let finished = messages
                .iter()
                .any(|m| m.plain_text.contains("本次测试得分"));
            (moved || (last && finished)).then_some(())
        })
        .await;
        if last {
            t.done = true;
        }
        after.insert(user, msg.message_id);
    }
    // Every planned kill happened (more presses than kills: each trainee presses 4 times).
    assert!(kills >= 5, "only {kills} kills in {presses} presses");

    for t in &takers {
        // Every answer is stored once, as pressed, and the score is what the presses imply.
        let (expected, chosen) = expected_score(&env, t).await;
        for position in 0..4 {
            let stored_choice: String = env
                .query_one(&format!(
                    "SELECT COALESCE(chosen, '-') FROM attempt_questions WHERE attempt_id = {} AND position = {position}",
                    t.attempt
                ))
                .await;
            assert_eq!(
                stored_choice, chosen[&position],
                "user {} position {position}",
                t.user
            );
        }
        let row: (String, i64) = {
            let pool = env.db().await;
            let row = sqlx::query_as("SELECT status, score FROM attempts WHERE id = ?")
                .bind(t.attempt)
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            row
        };
        assert_eq!(
            row,
            ("finished".to_owned(), i64::from(expected)),
            "user {}",
            t.user
        );
        api.wait_for_text(t.user, &qt::score_line(expected), WAIT)
            .await;
        // No question asked again after its answer was stored: the questions the bot showed
        // the trainee (sent, or edited into the test's message), in order, never go back.
        let positions: Vec<i64> = api
            .calls()
            .iter()
            .filter(|c| c.ok() && c.params["chat_id"].as_i64() == Some(t.user))
            .filter_map(|c| shown_position(&c.buttons(), t.attempt))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] <= w[1]),
            "user {}: questions in the order {positions:?}",
            t.user
        );
    }
    // The reminder that fell due during the crashes arrived.
    let reminder = api.wait_for_text(GROUP, "支部委员会会议", WAIT).await;
    assert!(
        reminder.plain_text.contains("明天"),
        "{}",
        reminder.plain_text
    );
    assert!(bot.stop().await.success());
    eprintln!(
        "crash test (seed {seed}): {kills} SIGKILLs, {presses} answers pushed, {:?}",
        started.elapsed()
    );
}

/// The question position that buttons answer, if they are a question of `attempt`.
fn shown_position(buttons: &[InlineButton], attempt: i64) -> Option<i64> {
    buttons.iter().find_map(|b| {
        let data = b.callback_data.as_deref()?;
        let mut parts = data.split(':');
        let tag = parts.next()?;
        if !matches!(tag, "a" | "t") || parts.next()? != attempt.to_string() {
            return None;
        }
        parts.next()?.parse().ok()
    })
}
