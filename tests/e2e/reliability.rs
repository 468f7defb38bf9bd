//! End-to-end: issue 15's defects on the test-taking and command paths, each shown through the
//! compiled bot and the fake Bot API — a round reopened within a second, a bank file dropped
//! into a group, a redelivered 多选 press, a press whose next question could not be sent, a
//! result that must survive a failed send.

use branchbot::texts::common as ct;
use branchbot::texts::quiz as qt;
use branchbot::texts::rounds as rt;

use crate::quiz::{
    drawn, question_message, question_message_after, world, Drawn, BANK, GROUP, SECRETARY, TRAINEE,
};
use crate::support::*;

const ADMIN: i64 = 1001;
const MEMBER: i64 = 1002;
const GROUP_1: i64 = -2001;

/// Joins the trainee and starts the test; returns the attempt id.
async fn start_test(api: &FakeApi, env: &TestEnv, code: &str) -> i64 {
    api.push_text(TRAINEE, TRAINEE, &format!("/join {code}"));
    api.wait_for_text(TRAINEE, "第一党支部", WAIT).await;
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text(TRAINEE, "业务测试开始", WAIT).await;
    env.query_one("SELECT id FROM attempts").await
}

/// The callback data of the button whose data starts with `prefix`.
fn button_data(msg: &SentMessage, prefix: &str) -> String {
    msg.buttons()
        .into_iter()
        .filter_map(|b| b.callback_data)
        .find(|d| d.starts_with(prefix))
        .unwrap_or_else(|| panic!("no button {prefix}… in {:?}", msg.buttons()))
}

/// Answers question `position` right through its buttons (the data the bot put on them).
async fn answer_right(api: &FakeApi, env: &TestEnv, attempt: i64, position: i64) {
    let question = drawn(env, attempt, position).await;
    answer_with(api, attempt, position, &question).await;
}

/// Presses the shown options `question.correct` of question `position`.
async fn answer_with(api: &FakeApi, attempt: i64, position: i64, question: &Drawn) {
    let msg = question_message(api, attempt, position).await;
    if question.kind == "多选" {
        for &shown in &question.correct {
            let now = message(api, TRAINEE, msg.message_id);
            let data = button_data(&now, &format!("t:{attempt}:{position}:{shown}:"));
            let answer = press(api, TRAINEE, &now, &data).await;
            assert!(!answer.show_alert, "{answer:?}");
        }
        let answer = press(api, TRAINEE, &msg, &format!("s:{attempt}:{position}")).await;
        assert!(!answer.show_alert, "{answer:?}");
    } else {
        let data = format!("a:{attempt}:{position}:{}", question.correct[0]);
        let answer = press(api, TRAINEE, &msg, &data).await;
        assert!(!answer.show_alert, "{answer:?}");
    }
}

/// No call the bot made was refused, and no apology claimed that nothing was stored.
fn assert_no_refusal_and_no_false_apology(api: &FakeApi) {
    for call in api.calls_to("answerCallbackQuery") {
        assert!(
            call.ok(),
            "a press answered twice: {:?}",
            call.error_description()
        );
        let text = call.params["text"].as_str().unwrap_or_default();
        assert!(!text.contains("数据未作改动"), "{text}");
    }
    for m in api.messages_in(TRAINEE) {
        assert!(!m.text.contains("数据未作改动"), "{}", m.text);
    }
}

/// Defect 12: open, close and open again within one second (the clock stands still here)
/// opens a second round instead of failing on the opening time.
#[tokio::test]
async fn a_round_reopened_within_the_same_second_opens() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[]);
    let env = TestEnv::new().super_admins(&[ADMIN]);
    env.set_now(at("2026-03-10T02:00:00Z"));
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;

    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "已开启第1期测试", WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/rounds close");
    api.wait_for_text_since(mark, ADMIN, "已结束第1期测试", WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "已开启第2期测试", WAIT)
        .await;
    assert_eq!(count_containing(&api, ADMIN, "内部错误"), 0);
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'")
            .await,
        1
    );
    // The database survives a restart with the rebuilt table (the migration ran once).
    assert!(bot.restart().await.success(), "{}", bot.output());
    bot.wait_until_polling().await;
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "不能同时开启两期", WAIT)
        .await;
    assert!(bot.stop().await.success());
}

/// Defect 7: an administrator's bank file in a group is answered with where uploads go; a
/// member's file in the group stays group chatter, and nothing is stored either way.
#[tokio::test]
async fn a_bank_file_sent_into_a_group_is_answered_with_where_uploads_go() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER, "王党员", None);
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER]);
    let env = TestEnv::new().super_admins(&[ADMIN]);
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;

    let mark = api.mark();
    api.push_document(ADMIN, GROUP_1, "题库.toml", b"[[question]]\n", None);
    api.wait_for_text_since(mark, GROUP_1, rt::NOT_PRIVATE_DOCUMENT, WAIT)
        .await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads").await,
        0
    );

    // A member's file (a photo of the minutes, a bank) gets no reply from the bot. (The round's
    // announcement to the new branch shares the group's rate limit with the replies: let it
    // go out first.)
    scheduler_fence(&api, &env).await;
    let quiet_from = api.mark();
    api.push_document(MEMBER, GROUP_1, "会议记录.xlsx", b"PK", None);
    api.push_document(MEMBER, GROUP_1, "题库.toml", b"[[question]]\n", None);
    assert_quiet_until_reply(
        &api,
        &env,
        quiet_from,
        FollowUp::help(ADMIN, GROUP_1),
        GROUP_1,
        |_| true,
    )
    .await;
    assert!(bot.stop().await.success());
}

/// Defect 11: Telegram redelivers a press whose update was not confirmed before a crash. The
/// 多选 button says which state it sets, so the same press applied twice leaves the option
/// ticked instead of toggling it back off.
#[tokio::test]
async fn a_redelivered_multiple_choice_press_is_applied_once() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    let mut position = 0;
    while drawn(&env, attempt, position).await.kind != "多选" {
        answer_right(&api, &env, attempt, position).await;
        position += 1;
    }
    let msg = question_message(&api, attempt, position).await;
    let data = button_data(&msg, &format!("t:{attempt}:{position}:0:"));
    let first = press(&api, TRAINEE, &msg, &data).await;
    assert!(!first.show_alert, "{first:?}");
    // The same update again, as after a crash before getUpdates confirmed it.
    let again = press(&api, TRAINEE, &msg, &data).await;
    assert!(!again.show_alert, "{again:?}");
    let (order, selection): (String, String) = {
        let pool = env.db().await;
        let row = sqlx::query_as(
            "SELECT option_order, selection FROM attempt_questions WHERE attempt_id = ? AND position = ?",
        )
        .bind(attempt)
        .bind(position)
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        row
    };
    let ticked = order.chars().next().unwrap().to_string();
    assert_eq!(selection, ticked, "shown option 0 stays ticked");
    api.wait_until("the button to show the tick", WAIT, |api| {
        let now = message(api, TRAINEE, msg.message_id);
        let first_button = now.buttons().into_iter().next()?;
        first_button.text.contains(qt::SELECTED_MARK).then_some(())
    })
    .await;
    // A button of the old encoding (option without the state) is refused cleanly.
    let old = press(&api, TRAINEE, &msg, &format!("t:{attempt}:{position}:0")).await;
    assert_eq!(old.text.as_deref(), Some(ct::STALE_BUTTON));
    assert_eq!(
        env.query_one::<String>(&format!(
            "SELECT selection FROM attempt_questions WHERE attempt_id = {attempt} AND position = {position}"
        ))
        .await,
        ticked
    );
    assert!(bot.stop().await.success());
}

/// Defects 9 and 10: the answer is stored and the press answered ('已记录'); then showing the
/// next question (an edit of the test's message) fails once. The press is not answered again (Telegram would refuse it), no
/// apology says nothing was stored, and the next question still arrives.
#[tokio::test]
async fn a_failed_next_question_is_retried_without_a_second_answer_or_a_false_apology() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    question_message(&api, attempt, 0).await;
    // The next question is the answered one's message edited in place.
    api.fail_next("editMessageText", 1, Fault::ServerErrorInstant);
    answer_right(&api, &env, attempt, 0).await;
    question_message(&api, attempt, 1).await;
    assert_eq!(
        env.query_i64(&format!(
            "SELECT COUNT(*) FROM attempt_questions WHERE attempt_id = {attempt} AND chosen IS NOT NULL"
        ))
        .await,
        1
    );
    // The rest of the test goes on normally.
    for position in 1..4 {
        answer_right(&api, &env, attempt, position).await;
    }
    api.wait_for_text(TRAINEE, &qt::score_line(100), WAIT).await;
    assert_no_refusal_and_no_false_apology(&api);
    assert!(bot.stop().await.success());
}

/// Defect 8: the last answer completes and scores the attempt; sending the result fails. The
/// result with the score still reaches the trainee, once.
#[tokio::test]
async fn a_finished_tests_result_survives_a_failed_send() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    for position in 0..3 {
        answer_right(&api, &env, attempt, position).await;
    }
    question_message(&api, attempt, 3).await;
    // The result's send fails: Telegram had a moment of trouble.
    api.fail_next("sendMessage", 1, Fault::Network);
    answer_right(&api, &env, attempt, 3).await;
    env.eventually_i64(
        &format!("SELECT COUNT(*) FROM attempts WHERE id = {attempt} AND status = 'finished'"),
        1,
    )
    .await;
    // Time passes (a retry is due within minutes), and the trainee has the result.
    env.advance(chrono::Duration::minutes(10));
    api.wait_for_text(TRAINEE, &qt::score_line(100), WAIT).await;
    scheduler_fence(&api, &env).await;
    assert_eq!(count_containing(&api, TRAINEE, &qt::score_line(100)), 1);
    assert!(bot.stop().await.success());
    let _ = (GROUP, SECRETARY);
}

/// Defect 4: the bank files change while a test runs and the bot restarts. The attempt keeps
/// the questions, options and answers it was drawn with: the resumed question shows the old
/// wording, and the presses that were right when it was drawn score full marks.
#[tokio::test]
async fn a_running_test_keeps_its_questions_when_the_bank_files_change() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    let mut as_drawn = Vec::new();
    for position in 0..4 {
        as_drawn.push(drawn(&env, attempt, position).await);
    }
    answer_with(&api, attempt, 0, &as_drawn[0]).await;
    let before_restart = question_message(&api, attempt, 1).await;

    // Every question reworded and its answer moved; kinds and option counts stay.
    let changed = BANK
        .replace("text = \"", "text = \"（新版）")
        .replace("answer = \"ABC\"", "answer = \"ABD\"")
        .replace("answer = \"A\"", "answer = \"C\"")
        .replace("answer = \"B\"", "answer = \"D\"")
        .replace("answer = \"错\"", "answer = \"对\"");
    std::fs::write(env.dir().join("bank").join("bank.toml"), changed).unwrap();
    assert!(bot.restart().await.success(), "{}", bot.output());
    bot.wait_until_polling().await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE text LIKE '（新版）%'")
            .await,
        4,
        "the bank was reloaded from the changed files"
    );

    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "继续第", WAIT).await;
    let resent = question_message_after(&api, attempt, 1, before_restart.message_id).await;
    assert!(!resent.plain_text.contains("新版"), "{}", resent.plain_text);
    // The old copy's buttons go before presses continue on the new one.
    api.wait_until("the old copy to lose its buttons", WAIT, |api| {
        message(api, TRAINEE, before_restart.message_id)
            .buttons()
            .is_empty()
            .then_some(())
    })
    .await;
    for (position, question) in as_drawn.iter().enumerate().skip(1) {
        let position = position as i64;
        let shown = question_message(&api, attempt, position).await;
        assert!(!shown.plain_text.contains("新版"), "{}", shown.plain_text);
        answer_with(&api, attempt, position, question).await;
    }
    api.wait_for_text(TRAINEE, &qt::score_line(100), WAIT).await;
    assert_eq!(
        env.query_i64(&format!(
            "SELECT score FROM attempts WHERE id = {attempt} AND status = 'finished'"
        ))
        .await,
        100
    );
    // /myscores (read from the attempt) agrees.
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/myscores");
    let scores = api.wait_for_text_since(mark, TRAINEE, "100", WAIT).await;
    assert!(scores.plain_text.contains("100"), "{}", scores.plain_text);
    assert!(bot.stop().await.success());
}

/// Defect 5: the time limit ends the attempt while its question waits with buttons. The
/// buttons go without anyone pressing them, and the result arrives once.
#[tokio::test]
async fn the_time_limit_takes_the_buttons_off_the_last_question() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    answer_right(&api, &env, attempt, 0).await;
    let current = question_message(&api, attempt, 1).await;
    env.advance(chrono::Duration::minutes(31));
    api.wait_for_text(TRAINEE, qt::TIMED_OUT, WAIT).await;
    api.wait_until("the open question to lose its buttons", WAIT, |api| {
        message(api, TRAINEE, current.message_id)
            .buttons()
            .is_empty()
            .then_some(())
    })
    .await;
    scheduler_fence(&api, &env).await;
    assert_eq!(count_containing(&api, TRAINEE, qt::TIMED_OUT), 1);
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// Defect 5, after a resume: the old copy is stripped once. When the bot cannot store the new
/// copy's id (as when it dies right after sending it; here a trigger makes the store fail), the
/// next `/test` does not strip the old copy again — Telegram would refuse that with "message
/// is not modified" — and every call the bot made was accepted.
#[tokio::test]
async fn a_resumed_question_strips_the_old_copy_once() {
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    let first = question_message(&api, attempt, 0).await;
    assert!(bot.restart().await.success(), "{}", bot.output());
    bot.wait_until_polling().await;
    env.execute(&format!(
        "CREATE TRIGGER lose_new_ids BEFORE UPDATE OF message_id ON attempt_questions
         WHEN NEW.message_id > {} BEGIN SELECT RAISE(ABORT, 'the bot died'); END",
        first.message_id
    ))
    .await;
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "继续第", WAIT).await;
    let second = question_message_after(&api, attempt, 0, first.message_id).await;
    api.wait_for_text_since(mark, TRAINEE, "抱歉", WAIT).await;
    env.execute("DROP TRIGGER lose_new_ids").await;

    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "继续第", WAIT).await;
    let third = question_message_after(&api, attempt, 0, second.message_id).await;
    let question = drawn(&env, attempt, 0).await;
    answer_with(&api, attempt, 0, &question).await;
    question_message(&api, attempt, 1).await;
    assert!(third.message_id > second.message_id);
    assert!(message(&api, TRAINEE, first.message_id)
        .buttons()
        .is_empty());
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// Defect 6: `/held` for a meeting whose planned occurrence is still days ahead (not yet
/// materialised). Held in the same month, it fulfils that occurrence: the reply says which
/// one, no reminder for it comes, and it is not counted missed later.
#[tokio::test]
async fn a_meeting_held_before_its_planned_day_fulfils_the_occurrence_of_its_month() {
    use branchbot::texts::meetings as mt;
    use branchbot::texts::reminders::date as format_date;
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "李书记", "lishuji");
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[]);
    let env = TestEnv::new();
    // Monday 2 March 2026, 10:00 in Shanghai; the 支委会 is planned for the 5th at 15:00.
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;

    let mark = api.mark();
    api.push_text(ADMIN, GROUP_1, "/held 支委会");
    let day = |d: u32| format_date(chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap());
    let expected = mt::held_for_planned("支部委员会会议", &day(2), &day(5))
        .replace("<b>", "")
        .replace("</b>", "");
    api.wait_for_text_since(mark, GROUP_1, &expected, WAIT)
        .await;
    // The same command again (Telegram redelivers it after a crash): still one record.
    let mark = api.mark();
    api.push_text(ADMIN, GROUP_1, "/held 支委会");
    api.wait_for_text_since(mark, GROUP_1, &expected, WAIT)
        .await;

    // The 5th, 15:30: no reminder of the 支委会 came, the day before or on the day.
    let quiet_from = api.mark();
    env.set_now(at("2026-03-04T02:00:00Z"));
    scheduler_fence(&api, &env).await;
    env.set_now(at("2026-03-05T07:30:00Z"));
    assert_scheduler_quiet(&api, &env, quiet_from, GROUP_1, |m| {
        m.plain_text.contains("支部委员会会议")
    })
    .await;

    // Past the March period: the 支委会 was held once and never missed.
    env.set_now(at("2026-04-10T08:00:00Z"));
    let of_title = |status: &str| {
        format!(
            "SELECT COUNT(*) FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id \
             WHERE o.status = '{status}' AND p.title = '支部委员会会议' AND o.scheduled_at < {}",
            at("2026-04-01T00:00:00Z").timestamp()
        )
    };
    env.eventually_i64(
        "SELECT COUNT(*) FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id \
         WHERE o.status = 'missed' AND p.title = '党小组会'",
        1,
    )
    .await;
    assert_eq!(env.query_i64(&of_title("missed")).await, 0);
    assert_eq!(env.query_i64(&of_title("held")).await, 1);
    assert!(bot.stop().await.success());
}

/// Defect 10: the next question cannot be sent at all (every try fails). The press was
/// answered once ('已记录'), the trainee is told truthfully that the answer is saved and how to
/// go on, and `/test` brings the next question.
#[tokio::test]
async fn a_next_question_that_cannot_be_sent_is_announced_truthfully() {
    use branchbot::texts::common as ct;
    let (api, env, mut bot, code) = world().await;
    let attempt = start_test(&api, &env, &code).await;
    question_message(&api, attempt, 0).await;
    // Every try fails: the door tries the next question `MAX_TRIES` times.
    let tries = branchbot::telegram::api::MAX_TRIES as usize;
    api.fail_next("editMessageText", tries, Fault::ServerErrorInstant);
    let mark = api.mark();
    answer_right(&api, &env, attempt, 0).await;
    // The tries go into one private chat, at most one a second (the shared rate limiter).
    let patience = std::time::Duration::from_secs(20);
    api.wait_for_text_since(mark, TRAINEE, ct::SAVED_BUT_REPLY_FAILED, patience)
        .await;
    assert_eq!(
        env.query_i64(&format!(
            "SELECT COUNT(*) FROM attempt_questions WHERE attempt_id = {attempt} AND chosen IS NOT NULL"
        ))
        .await,
        1
    );
    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "已答 1/4 题", WAIT)
        .await;
    question_message(&api, attempt, 1).await;
    assert_no_refusal_and_no_false_apology(&api);
    assert!(bot.stop().await.success());
}

/// Defect 11, meetings: "move by one day" pressed, then the same press redelivered (as after
/// a crash before getUpdates confirmed it). The meeting moves by one day, not two: the button
/// carries the date it moves from, and the second press is told the meeting was moved.
#[tokio::test]
async fn a_redelivered_move_press_moves_the_meeting_once() {
    use branchbot::texts::meetings as mt;
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "李书记", "lishuji");
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[]);
    let env = TestEnv::new();
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;
    // 4 March, 09:00:30: the 支委会 of the 5th is reminded the day before, with its buttons.
    env.set_now(at("2026-03-04T01:00:30Z"));
    let reminder = api.wait_for_text(GROUP_1, "会议提醒", WAIT).await;
    let move_data = reminder.callback_data("改期").unwrap();
    let occurrence: i64 = move_data.trim_start_matches("m:").parse().unwrap();
    let answer = press(&api, ADMIN, &reminder, &move_data).await;
    assert!(!answer.show_alert, "{answer:?}");
    let choices = api
        .wait_until("the move choices", WAIT, |api| {
            let now = message(api, GROUP_1, reminder.message_id);
            now.buttons()
                .iter()
                .any(|b| {
                    b.callback_data
                        .as_deref()
                        .is_some_and(|d| d.starts_with("mb:"))
                })
                .then_some(now)
        })
        .await;
    let by_one_day = choices
        .buttons()
        .into_iter()
        .filter_map(|b| b.callback_data)
        .find(|d| {
            let one_day = format!("mb:{occurrence}:1");
            d == &one_day || d.starts_with(&format!("{one_day}:"))
        })
        .expect("a one-day choice");
    let first = press(&api, ADMIN, &choices, &by_one_day).await;
    assert!(!first.show_alert, "{first:?}");
    let again = press(&api, ADMIN, &choices, &by_one_day).await;
    assert_eq!(again.text.as_deref(), Some(mt::ALERT_ALREADY_MOVED));
    assert_eq!(
        env.query_i64(&format!(
            "SELECT moved_to - scheduled_at FROM meeting_occurrences WHERE id = {occurrence}"
        ))
        .await,
        86_400,
        "moved by one day, once"
    );
    // The older button data (no date to move from) is refused cleanly.
    let old = press(&api, ADMIN, &choices, &format!("mb:{occurrence}:1")).await;
    assert_eq!(old.text.as_deref(), Some(ct::STALE_BUTTON));
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// Defect 8, a recorded election: the confirmation is queued with the change in one
/// transaction, so a send that fails is retried and the group hears it exactly once.
#[tokio::test]
async fn a_recorded_elections_confirmation_survives_a_failed_send() {
    let (api, env, mut bot, _code) = world().await;
    let today = env
        .now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    // More failures in a row than a direct reply retries.
    api.fail_next("sendMessage", 5, Fault::Network);
    api.push_text(SECRETARY, GROUP, &format!("/elected {today}"));
    env.eventually_i64("SELECT COUNT(*) FROM terms WHERE closed_on IS NULL", 1)
        .await;
    // The first delivery failed and the row waits for its next attempt.
    env.eventually_i64(
        "SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'elected:%' AND attempts > 0",
        1,
    )
    .await;
    // Time passes (each retry waits a little longer), and the group has the confirmation.
    let saved = branchbot::texts::calendar::ELECTED_SAVED;
    for _ in 0..20 {
        if count_containing(&api, GROUP, saved) > 0 {
            break;
        }
        env.advance(chrono::Duration::minutes(1));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    api.wait_for_text(GROUP, saved, WAIT).await;
    scheduler_fence(&api, &env).await;
    assert_eq!(count_containing(&api, GROUP, saved), 1);
    assert!(bot.stop().await.success());
}
