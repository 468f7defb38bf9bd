//! End-to-end: a trainee's test, practice and scores through the compiled bot and the fake Bot
//! API — button presses (a 多选 question among them), a restart in the middle, the server-side
//! time limit, and presses that must change nothing (forged, stale, someone else's).

use branchbot::texts::common as ct;
use branchbot::texts::quiz as qt;
use branchbot::texts::quiz_flow as t;

use crate::support::*;

pub(crate) const SECRETARY: i64 = 1001;
pub(crate) const TRAINEE: i64 = 1002;
const OTHER: i64 = 1003;
pub(crate) const GROUP: i64 = -2001;

/// Four questions from the real bank, one 多选 and one 判断 among them; with four questions
/// per test every trainee gets all four, in their own order.
pub(crate) const BANK: &str = r#"
[[question]]
id = "zz-001"
kind = "单选"
category = "组织设置"
text = "党章规定，企业、农村、机关、学校等基层单位，凡是有正式党员（　）以上的，都应当成立党的基层组织。"
options = ["三人", "五人", "七人", "十人"]
answer = "A"
explanation = "党章第三十条：凡是有正式党员三人以上的，都应当成立党的基层组织。注意是“正式党员”，预备党员不计入。"
source = "党章 第三十条"

[[question]]
id = "zz-002"
kind = "判断"
category = "组织设置"
text = "某单位有 2 名正式党员和 2 名预备党员，已满足单独成立党支部的人数条件。"
answer = "错"
explanation = "成立党支部要求有正式党员 3 人以上（党章第三十条、支部条例第四条），预备党员不计入。正式党员不足 3 人的，应当成立联合党支部。"
source = "党章 第三十条；支部条例 第四条"

[[question]]
id = "zz-005"
kind = "单选"
category = "组织设置"
text = "党章规定，党支部是党的（　）。"
options = ["基层组织", "基础组织", "派出机构", "领导机关"]
answer = "B"
explanation = "党章第三十四条：党支部是党的基础组织。“基层组织”是基层委员会、总支部委员会、支部委员会的统称（第三十条），二者不要混淆。"
source = "党章 第三十四条"

[[question]]
id = "zz-006"
kind = "多选"
category = "组织设置"
text = "党章规定，党支部担负哪些职责？"
options = ["直接教育党员、管理党员、监督党员", "组织群众、宣传群众", "凝聚群众、服务群众", "领导本单位全部行政业务工作"]
answer = "ABC"
explanation = "党章第三十四条：党支部担负直接教育党员、管理党员、监督党员和组织群众、宣传群众、凝聚群众、服务群众的职责。"
source = "党章 第三十四条"
"#;

/// The bot with the small bank, four questions per test, and a test calendar that opens a
/// round at the fake clock's start (Monday 2 March 2026, 10:00 in Shanghai); the group is bound.
/// Returns the branch's join code too.
pub(crate) async fn world() -> (FakeApi, TestEnv, BotProcess, String) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(TRAINEE, "王党员", "wangdangyuan");
    api.add_user(OTHER, "赵旁人", None);
    for user in [SECRETARY, TRAINEE, OTHER] {
        api.add_private_chat(user);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[TRAINEE, OTHER]);
    let env = TestEnv::new()
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 10 2 3 *")
        .var("BRANCHBOT_QUESTIONS_PER_TEST", 4);
    let bank_dir = env.dir().join("bank");
    std::fs::create_dir_all(&bank_dir).unwrap();
    std::fs::write(bank_dir.join("bank.toml"), BANK).unwrap();
    let env = env.questions_dir(&bank_dir);
    let bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;
    let code = env.join_code(GROUP).await;
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'", 1)
        .await;
    (api, env, bot, code)
}

/// One drawn question as stored: its kind and which shown buttons are the right answer.
pub(crate) struct Drawn {
    pub kind: String,
    /// Shown positions (button order) of the correct options.
    pub correct: Vec<u8>,
    pub explanation: String,
}

pub(crate) async fn drawn(env: &TestEnv, attempt: i64, position: i64) -> Drawn {
    let pool = env.db().await;
    let (kind, order, answer, explanation): (String, String, String, String) = sqlx::query_as(
        "SELECT q.kind, aq.option_order, q.answer, q.explanation FROM attempt_questions aq
         JOIN questions q ON q.id = aq.question_id WHERE aq.attempt_id = ? AND aq.position = ?",
    )
    .bind(attempt)
    .bind(position)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    let answer: Vec<u8> = serde_json::from_str(&answer).unwrap();
    let correct = order
        .chars()
        .enumerate()
        .filter(|(_, digit)| answer.contains(&(digit.to_digit(10).unwrap() as u8)))
        .map(|(shown, _)| shown as u8)
        .collect();
    Drawn {
        kind,
        correct,
        explanation,
    }
}

async fn answered_count(env: &TestEnv) -> i64 {
    env.query_one("SELECT COUNT(*) FROM attempt_questions WHERE chosen IS NOT NULL")
        .await
}

/// The newest message in the trainee's chat with a button for question `position`.
pub(crate) async fn question_message(api: &FakeApi, attempt: i64, position: i64) -> SentMessage {
    question_message_after(api, attempt, position, 0).await
}

/// Like `question_message`, for a message newer than `after` (a question sent again).
pub(crate) async fn question_message_after(
    api: &FakeApi,
    attempt: i64,
    position: i64,
    after: i32,
) -> SentMessage {
    let answer = format!("a:{attempt}:{position}:");
    let toggle = format!("t:{attempt}:{position}:");
    api.wait_for_message(
        TRAINEE,
        |m| {
            m.message_id > after
                && m.buttons().iter().any(|b| {
                    b.callback_data
                        .as_deref()
                        .is_some_and(|d| d.starts_with(&answer) || d.starts_with(&toggle))
                })
        },
        WAIT,
    )
    .await
}

async fn refused(api: &FakeApi, user: i64, msg: &SentMessage, data: &str, alert: &str) {
    let answer = press(api, user, msg, data).await;
    assert!(answer.show_alert, "{data}: {answer:?}");
    assert_eq!(answer.text.as_deref(), Some(alert), "{data}");
}

/// Answers a 单选/判断 question with the shown option `shown`; waits for the edit.
async fn choose(api: &FakeApi, attempt: i64, position: i64, shown: u8) {
    let msg = question_message(api, attempt, position).await;
    let answer = press(
        api,
        TRAINEE,
        &msg,
        &format!("a:{attempt}:{position}:{shown}"),
    )
    .await;
    assert!(!answer.show_alert, "{answer:?}");
    answered_in_place(api, &msg, attempt, position).await;
}

/// Waits until the test's message moved on from question `position`: edited in place into the
/// next question (under a line saying what was answered), or after the last one into the
/// answered question without buttons.
pub(crate) async fn answered_in_place(
    api: &FakeApi,
    msg: &SentMessage,
    attempt: i64,
    position: i64,
) {
    let answer = format!("a:{attempt}:{position}:");
    let toggle = format!("t:{attempt}:{position}:");
    api.wait_until("the answered question to be edited", WAIT, |api| {
        let now = message(api, TRAINEE, msg.message_id);
        let still_shown = now.buttons().iter().any(|b| {
            b.callback_data
                .as_deref()
                .is_some_and(|d| d.starts_with(&answer) || d.starts_with(&toggle))
        });
        (now.plain_text.contains("已作答") && !still_shown).then_some(())
    })
    .await;
}

/// Bot API calls that put a message into `chat` or change one there (answerCallbackQuery,
/// which Telegram does not count as a message, and polling are left out).
fn sending_calls(api: &FakeApi, chat: i64) -> usize {
    const SENDING: [&str; 7] = [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendDocument",
        "sendPhoto",
        "sendMediaGroup",
        "copyMessage",
    ];
    api.calls()
        .iter()
        .filter(|c| {
            SENDING.contains(&c.method.as_str()) && c.params["chat_id"].as_i64() == Some(chat)
        })
        .count()
}

/// Toggles shown option `shown` of a 多选 question and waits until its button shows ✅ or not.
async fn toggle(
    api: &FakeApi,
    msg: &SentMessage,
    attempt: i64,
    position: i64,
    shown: u8,
    on: bool,
) {
    // The button carries the state it sets: `…:1` ticks, `…:0` unticks.
    let option = format!("t:{attempt}:{position}:{shown}:");
    let data = format!("{option}{}", u8::from(on));
    let answer = press(api, TRAINEE, msg, &data).await;
    assert!(!answer.show_alert, "{answer:?}");
    api.wait_until("the toggle to show", WAIT, |api| {
        let now = message(api, TRAINEE, msg.message_id);
        let button = now.buttons().into_iter().find(|b| {
            b.callback_data
                .as_deref()
                .is_some_and(|d| d.starts_with(&option))
        })?;
        (button.text.contains(qt::SELECTED_MARK) == on).then_some(())
    })
    .await;
}

async fn submit(api: &FakeApi, msg: &SentMessage, attempt: i64, position: i64) {
    let answer = press(api, TRAINEE, msg, &format!("s:{attempt}:{position}")).await;
    assert!(!answer.show_alert, "{answer:?}");
    answered_in_place(api, msg, attempt, position).await;
}

/// Waits until the trainee's chat has seen `count` sending calls (the fake records a call just
/// after applying it).
async fn at_least(api: &FakeApi, count: usize) {
    api.wait_until("the call to be recorded", WAIT, |api| {
        (sending_calls(api, TRAINEE) >= count).then_some(())
    })
    .await;
}

#[tokio::test]
async fn one_message_call_per_answer_and_the_test_stays_in_one_message() {
    let (api, env, mut bot, code) = world().await;
    api.push_text(TRAINEE, TRAINEE, &format!("/join {code}"));
    api.wait_for_text(TRAINEE, "第一党支部", WAIT).await;
    // Everything /join sends is out before counting starts.
    follow_up(&api, &FollowUp::help(TRAINEE, TRAINEE)).await;
    // So far only messages were sent into the chat, and all arrived.
    let start = api.messages_in(TRAINEE).len();
    at_least(&api, start).await;
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text(TRAINEE, "业务测试开始", WAIT).await;
    let attempt: i64 = env.query_one("SELECT id FROM attempts").await;
    let first = question_message(&api, attempt, 0).await;
    // The intro and the test's one message.
    at_least(&api, start + 2).await;
    assert_eq!(sending_calls(&api, TRAINEE) - start, 2);

    let mut toggles = 0;
    for position in 0..4 {
        let question = drawn(&env, attempt, position).await;
        let msg = question_message(&api, attempt, position).await;
        assert_eq!(
            msg.message_id, first.message_id,
            "every question in the same message"
        );
        if question.kind == "多选" {
            for &shown in &question.correct {
                let before = sending_calls(&api, TRAINEE);
                toggle(&api, &msg, attempt, position, shown, true).await;
                at_least(&api, before + 1).await;
                toggles += 1;
            }
        }
        let before = sending_calls(&api, TRAINEE);
        if question.kind == "多选" {
            submit(&api, &msg, attempt, position).await;
        } else {
            choose(&api, attempt, position, question.correct[0]).await;
        }
        at_least(&api, before + 1).await;
        if position < 3 {
            let now = message(&api, TRAINEE, first.message_id);
            assert!(
                now.plain_text
                    .contains(&format!("第 {} 题已作答", position + 1)),
                "{}",
                now.plain_text
            );
        }
    }
    api.wait_for_text(TRAINEE, &qt::score_line(100), WAIT).await;
    // Nothing else follows: the scheduler has delivered everything due, and the chat's earlier
    // updates are handled once a follow-up is answered.
    scheduler_fence(&api, &env).await;
    follow_up(&api, &FollowUp::help(TRAINEE, TRAINEE)).await;
    let result_parts = count_containing(&api, TRAINEE, &qt::score_line(100));
    assert_eq!(result_parts, 1);
    // intro + the test message + one edit per tick + one edit per answer + the result + /help:
    // each tick and answer made at least one call (above), so each made exactly one.
    let expected = 2 + toggles + 4 + 1 + 1;
    at_least(&api, start + expected).await;
    assert_eq!(
        sending_calls(&api, TRAINEE) - start,
        expected,
        "{}",
        api.dump()
    );
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_whole_test_through_buttons_with_a_restart_and_refused_presses() {
    let (api, env, mut bot, code) = world().await;

    // Not in a branch yet: told to join first, nothing started.
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text(TRAINEE, "/join", WAIT).await;
    assert_eq!(
        env.query_one::<i64>("SELECT COUNT(*) FROM attempts").await,
        0
    );

    // The announcement's deep link joins and starts the test.
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, &format!("/start t_{code}"));
    api.wait_for_text_since(mark, TRAINEE, "业务测试开始", WAIT)
        .await;
    let attempt: i64 = env.query_one("SELECT id FROM attempts").await;
    let round: i64 = env.query_one("SELECT round_id FROM attempts").await;
    assert_eq!(
        env.query_one::<i64>("SELECT COUNT(*) FROM attempt_questions")
            .await,
        4
    );

    let mut wrong_explanation = None;
    let mut last = None;
    for position in 0..4 {
        let question = drawn(&env, attempt, position).await;
        let msg = question_message(&api, attempt, position).await;
        last = Some(msg.clone());
        if question.kind == "多选" {
            // An empty submit is refused.
            refused(
                &api,
                TRAINEE,
                &msg,
                &format!("s:{attempt}:{position}"),
                t::EMPTY_SUBMIT,
            )
            .await;
            // Toggle a wrong option on and off again, then one right option.
            let wrong = (0..4u8).find(|o| !question.correct.contains(o)).unwrap();
            toggle(&api, &msg, attempt, position, wrong, true).await;
            toggle(&api, &msg, attempt, position, wrong, false).await;
            toggle(&api, &msg, attempt, position, question.correct[0], true).await;

            // The bot restarts in the middle; /test resumes at this question, selection kept.
            assert!(bot.restart().await.success(), "{}", bot.output());
            bot.wait_until_polling().await;
            let mark = api.mark();
            api.push_text(TRAINEE, TRAINEE, "/test");
            let resume = api.wait_for_text_since(mark, TRAINEE, "继续第", WAIT).await;
            assert!(
                resume.plain_text.contains(&format!("已答 {position}/4 题")),
                "{}",
                resume.plain_text
            );
            let resent = question_message_after(&api, attempt, position, msg.message_id).await;
            // The earlier copy loses its buttons, and a press on it is stale.
            api.wait_until("the old copy to lose its buttons", WAIT, |api| {
                message(api, TRAINEE, msg.message_id)
                    .buttons()
                    .is_empty()
                    .then_some(())
            })
            .await;
            let old_press = format!("t:{attempt}:{position}:{}:0", question.correct[0]);
            refused(&api, TRAINEE, &msg, &old_press, ct::STALE_BUTTON).await;
            let kept = resent
                .buttons()
                .into_iter()
                .filter(|b| b.text.contains(qt::SELECTED_MARK))
                .count();
            assert_eq!(kept, 1, "{:?}", resent.buttons());

            for &shown in &question.correct[1..] {
                toggle(&api, &resent, attempt, position, shown, true).await;
            }
            submit(&api, &resent, attempt, position).await;
        } else if wrong_explanation.is_none() {
            // The first single-answer question is answered wrong, on purpose.
            let wrong = (0..4u8).find(|o| !question.correct.contains(o)).unwrap();
            choose(&api, attempt, position, wrong).await;
            wrong_explanation = Some(question.explanation.clone());
        } else {
            choose(&api, attempt, position, question.correct[0]).await;
        }

        if position == 0 {
            let answered = answered_count(&env).await;
            let next = question_message(&api, attempt, 1).await;
            let any_button = next.buttons()[0].callback_data.clone().unwrap();
            // Someone else presses the trainee's current question.
            refused(&api, OTHER, &next, &any_button, t::NOT_YOUR_TEST).await;
            // A second press on the answered question (its old data, or any option of it).
            refused(
                &api,
                TRAINEE,
                &next,
                &format!("a:{attempt}:0:0"),
                t::ALREADY_ANSWERED,
            )
            .await;
            // A question that is not the current one.
            refused(
                &api,
                TRAINEE,
                &next,
                &format!("a:{attempt}:3:0"),
                t::NOT_CURRENT_QUESTION,
            )
            .await;
            // Forged: no such attempt, no such position, no such option, malformed data.
            refused(&api, TRAINEE, &next, "a:999999:1:0", ct::STALE_BUTTON).await;
            refused(
                &api,
                TRAINEE,
                &next,
                &format!("a:{attempt}:200:0"),
                ct::STALE_BUTTON,
            )
            .await;
            refused(&api, TRAINEE, &next, "a:1:2", ct::STALE_BUTTON).await;
            let kind_of_next = drawn(&env, attempt, 1).await.kind;
            let foreign_kind = if kind_of_next == "多选" {
                format!("a:{attempt}:1:0")
            } else {
                format!("t:{attempt}:1:0:1")
            };
            refused(&api, TRAINEE, &next, &foreign_kind, ct::STALE_BUTTON).await;
            refused(
                &api,
                TRAINEE,
                &next,
                &format!("a:{attempt}:1:9"),
                ct::STALE_BUTTON,
            )
            .await;
            assert_eq!(
                answered_count(&env).await,
                answered,
                "refused presses stored nothing"
            );
            assert_eq!(
                env.query_one::<String>(
                    "SELECT selection FROM attempt_questions WHERE position = 1"
                )
                .await,
                ""
            );
        }
    }

    // The result: 3 of 4 right, the missed question reviewed with its explanation.
    let result = api.wait_for_text(TRAINEE, &qt::score_line(75), WAIT).await;
    assert!(
        result.plain_text.contains(qt::PASSED),
        "{}",
        result.plain_text
    );
    assert!(
        result.plain_text.contains(&qt::review_heading(1)),
        "{}",
        result.plain_text
    );
    let explanation = wrong_explanation.expect("a single-answer question was drawn");
    assert!(
        result.plain_text.contains(&explanation),
        "{}",
        result.plain_text
    );
    let (status, score, correct): (String, i64, i64) = {
        let pool = env.db().await;
        let row = sqlx::query_as("SELECT status, score, correct_count FROM attempts")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        row
    };
    assert_eq!((status.as_str(), score, correct), ("finished", 75, 3));

    // One attempt per round; old buttons are dead.
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    let again = api
        .wait_for_text_since(mark, TRAINEE, "只能参加一次", WAIT)
        .await;
    assert!(again.plain_text.contains("75"), "{}", again.plain_text);
    let last = last.expect("four questions were shown");
    refused(
        &api,
        TRAINEE,
        &last,
        &format!("a:{attempt}:3:0"),
        t::ATTEMPT_OVER,
    )
    .await;
    assert_eq!(answered_count(&env).await, 4);

    // /myscores lists the round.
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/myscores");
    let scores = api
        .wait_for_text_since(mark, TRAINEE, t::MYSCORES_TITLE, WAIT)
        .await;
    assert!(
        scores.plain_text.contains(&format!("第 {round} 期")) && scores.plain_text.contains("75"),
        "{}",
        scores.plain_text
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_time_limit_ends_a_test_on_the_server() {
    let (api, env, mut bot, code) = world().await;
    api.push_text(TRAINEE, TRAINEE, &format!("/join {code}"));
    api.wait_for_text(TRAINEE, "第一党支部", WAIT).await;
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text(TRAINEE, "业务测试开始", WAIT).await;
    let attempt: i64 = env.query_one("SELECT id FROM attempts").await;

    // One question answered right, then the 30 minutes run out.
    let first = drawn(&env, attempt, 0).await;
    if first.kind == "多选" {
        let msg = question_message(&api, attempt, 0).await;
        for &shown in &first.correct {
            toggle(&api, &msg, attempt, 0, shown, true).await;
        }
        submit(&api, &msg, attempt, 0).await;
    } else {
        choose(&api, attempt, 0, first.correct[0]).await;
    }
    let current = question_message(&api, attempt, 1).await;
    let button = current.buttons()[0].callback_data.clone().unwrap();
    env.advance(chrono::Duration::minutes(31));

    // A press after the deadline is refused, whether it or the scheduler ends the attempt.
    let late = press(&api, TRAINEE, &current, &button).await;
    assert!(late.show_alert, "{late:?}");
    let text = late.text.unwrap_or_default();
    assert!(text == t::TIME_UP || text == t::ATTEMPT_OVER, "{text}");

    let result = api.wait_for_text(TRAINEE, qt::TIMED_OUT, WAIT).await;
    assert!(
        result.plain_text.contains(&qt::score_line(25)),
        "{}",
        result.plain_text
    );
    assert!(
        result.plain_text.contains(&qt::review_heading(3)),
        "{}",
        result.plain_text
    );
    let (status, score, answered): (String, i64, i64) = {
        let pool = env.db().await;
        let row = sqlx::query_as(
            "SELECT status, score, (SELECT COUNT(*) FROM attempt_questions WHERE chosen IS NOT NULL)
             FROM attempts",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        row
    };
    assert_eq!((status.as_str(), score, answered), ("timed_out", 25, 1));
    // The bot marks the row sent just after Telegram accepted the message.
    env.eventually_i64(
        &format!(
            "SELECT COUNT(*) FROM outbox WHERE dedup_key = 'attempt:{attempt}:timeout' \
             AND status = 'sent'"
        ),
        1,
    )
    .await;

    // Told once, also across a restart; /test shows the score.
    assert!(bot.restart().await.success());
    bot.wait_until_polling().await;
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "只能参加一次", WAIT)
        .await;
    scheduler_fence(&api, &env).await;
    let told = api
        .messages_in(TRAINEE)
        .iter()
        .filter(|m| m.plain_text.contains(qt::TIMED_OUT))
        .count();
    assert_eq!(told, 1);

    // After the round closes there is no open round to take.
    env.advance(chrono::Duration::days(8));
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'closed'", 1)
        .await;
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, t::NO_OPEN_ROUND, WAIT)
        .await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn practice_answers_once_moves_on_and_waits_for_a_running_test() {
    let (api, env, mut bot, code) = world().await;
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/myscores");
    api.wait_for_text_since(mark, TRAINEE, t::MYSCORES_EMPTY, WAIT)
        .await;

    // A practice question, answered; the feedback shows right or wrong and a next button.
    api.push_text(TRAINEE, TRAINEE, "/practice");
    let practice = api
        .wait_for_message(
            TRAINEE,
            |m| {
                m.buttons().iter().any(|b| {
                    b.callback_data
                        .as_deref()
                        .is_some_and(|d| d.starts_with("pa:") || d.starts_with("pt:"))
                })
            },
            WAIT,
        )
        .await;
    let buttons = practice.buttons();
    let first = buttons[0].callback_data.clone().unwrap();
    let answered_with = if first.starts_with("pt:") {
        let answer = press(&api, TRAINEE, &practice, &first).await;
        assert!(!answer.show_alert);
        let submit = practice.callback_data(qt::SUBMIT).unwrap();
        let answer = press(&api, TRAINEE, &practice, &submit).await;
        assert!(!answer.show_alert);
        submit
    } else {
        let answer = press(&api, TRAINEE, &practice, &first).await;
        assert!(!answer.show_alert);
        first
    };
    let feedback = api
        .wait_until("practice feedback", WAIT, |api| {
            let now = message(api, TRAINEE, practice.message_id);
            (now.plain_text.contains(t::PRACTICE_RIGHT)
                || now.plain_text.contains(t::PRACTICE_WRONG))
            .then_some(now)
        })
        .await;
    assert!(
        feedback.plain_text.contains(qt::EXPLANATION),
        "{}",
        feedback.plain_text
    );
    assert_eq!(
        env.query_one::<i64>("SELECT COUNT(*) FROM practice_boxes")
            .await,
        1
    );
    // The same answer again is stale and changes nothing.
    refused(&api, TRAINEE, &practice, &answered_with, t::PRACTICE_STALE).await;
    let seen: i64 = env.query_one("SELECT seen_at FROM practice_boxes").await;

    // Next gives another practice question.
    let next = feedback.callback_data(t::PRACTICE_NEXT).unwrap();
    let before = api.messages_in(TRAINEE).len();
    let answer = press(&api, TRAINEE, &feedback, &next).await;
    assert!(!answer.show_alert);
    api.wait_for_message_count(TRAINEE, before + 1, WAIT).await;
    assert_eq!(
        env.query_one::<i64>("SELECT seen_at FROM practice_boxes")
            .await,
        seen
    );

    // While a test runs, practice waits.
    api.push_text(TRAINEE, TRAINEE, &format!("/join {code}"));
    api.wait_for_text(TRAINEE, "第一党支部", WAIT).await;
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text(TRAINEE, "业务测试开始", WAIT).await;
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/practice");
    api.wait_for_text_since(mark, TRAINEE, "请先完成测试", WAIT)
        .await;
    assert!(bot.stop().await.success());
}
