//! End-to-end: election and meeting reminders through the compiled bot and the fake Bot API,
//! with the clock moved by the test — ladders, overdue notices, buttons, restarts, and
//! Telegram's failures (429, 5xx, a group the bot was removed from).

use branchbot::texts::calendar::LATE_PREFIX;
use branchbot::texts::meetings as mt;

use crate::support::*;

const SECRETARY: i64 = 1001;
const MEMBER: i64 = 1002;
const GROUP: i64 = -2001;
const ADMIN_CHAT: i64 = -3001;

async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(MEMBER, "王党员", "wangdangyuan");
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[MEMBER]);
    api.add_group(ADMIN_CHAT, "组织部工作群", &[], &[]);
    // Default clock: Monday 2 March 2026, 10:00 in Shanghai.
    let env = TestEnv::new().admin_chat(ADMIN_CHAT);
    let bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;
    (api, env, bot)
}

#[tokio::test]
async fn the_election_ladder_arrives_once_and_overdue_notices_reach_the_admins() {
    let (api, env, mut bot) = world().await;
    // 机关 branch: 3-year term, ends 10 September 2026.
    api.push_text(SECRETARY, GROUP, "/term 2023-09-10");
    let reply = api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    assert!(
        reply.plain_text.contains("2026年9月10日"),
        "{}",
        reply.plain_text
    );

    // Six months before the end, at 09:00 local, the first step arrives.
    env.set_now(at("2026-03-10T01:00:30Z"));
    let first = api.wait_for_text(GROUP, "【换届提醒】", WAIT).await;
    assert!(first.plain_text.contains("第一党支部") && first.plain_text.contains("2026年9月10日"));
    assert!(!first.plain_text.contains("补发"));

    // A restart does not send it again.
    assert!(bot.stop().await.success());
    let mut bot = launch(&api, &env).await;
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| {
        m.message_id != first.message_id && m.plain_text.contains("【换届提醒】")
    })
    .await;

    // The bot is down from March to 12 September: the ladder steps in between are stale and
    // recorded as skipped; the first overdue notice (11 September) still matters and is sent late.
    assert!(bot.stop().await.success());
    env.set_now(at("2026-09-12T02:00:00Z"));
    let mut bot = launch(&api, &env).await;
    let overdue = api.wait_for_text(GROUP, "【换届逾期】", WAIT).await;
    assert!(
        overdue.plain_text.contains("补发"),
        "{}",
        overdue.plain_text
    );
    let admins = api.wait_for_text(ADMIN_CHAT, "【换届逾期】", WAIT).await;
    assert!(admins.plain_text.contains("第一党支部"));
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| {
        m.message_id > first.message_id && m.plain_text.contains("【换届提醒】")
    })
    .await;
    assert_eq!(count_containing(&api, GROUP, "【换届提醒】"), 1);
    let skipped = env
        .query_i64(
            "SELECT COUNT(*) FROM outbox WHERE status = 'skipped' AND dedup_key LIKE 'term:%'",
        )
        .await;
    assert_eq!(skipped, 5, "3m, 2m, 1m, 2w and 1w were stale");

    // A week later the notice repeats, to the group and to the admins.
    env.set_now(at("2026-09-18T01:01:00Z"));
    api.wait_until("the second weekly overdue notice", WAIT, |api| {
        (count_containing(api, GROUP, "【换届逾期】") == 2
            && count_containing(api, ADMIN_CHAT, "【换届逾期】") == 2)
            .then_some(())
    })
    .await;

    // Recording the election ends the notices.
    env.set_now(at("2026-09-20T04:00:00Z"));
    api.push_text(SECRETARY, GROUP, "/elected 2026-09-20");
    api.wait_for_text(GROUP, "已记录换届选举", WAIT).await;
    env.set_now(at("2026-09-25T02:00:00Z"));
    assert_scheduler_quiet(&api, &env, 0, ADMIN_CHAT, |_| {
        count_containing(&api, ADMIN_CHAT, "【换届逾期】") > 2
    })
    .await;
    assert_eq!(
        env.query_i64(
            "SELECT COUNT(*) FROM terms WHERE closed_on IS NULL AND ends_on = '2029-09-20'"
        )
        .await,
        1
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn meeting_reminders_have_buttons_only_managers_may_press() {
    let (api, env, mut bot) = world().await;
    api.push_text(SECRETARY, GROUP, "/plan 支委会 每月5日 15:00");
    let echo = api.wait_for_text(GROUP, "支部委员会会议", WAIT).await;
    assert!(
        echo.plain_text.contains("2026年3月5日"),
        "the echo names the next dates: {}",
        echo.plain_text
    );

    // The day before, at 09:00 local, the reminder arrives with its buttons.
    env.set_now(at("2026-03-04T01:00:10Z"));
    let reminder = api
        .wait_for_message(
            GROUP,
            |m| m.plain_text.contains("明天") && m.plain_text.contains("支部委员会会议"),
            WAIT,
        )
        .await;
    let held = reminder
        .callback_data(mt::BUTTON_HELD)
        .expect("a held button");
    let move_button = reminder
        .callback_data(mt::BUTTON_MOVE)
        .expect("a move button");

    // A plain member's press gets an alert and changes nothing.
    let press = api.push_callback(MEMBER, GROUP, reminder.message_id, &held);
    let answer = api.wait_for_callback_answer(&press, WAIT).await;
    assert!(answer.show_alert && answer.text.as_deref() == Some(mt::ALERT_ONLY_MANAGERS));
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM meeting_occurrences WHERE status = 'held'")
            .await,
        0
    );

    // A forged press gets an alert too.
    let forged = api.push_callback(SECRETARY, GROUP, reminder.message_id, "h:999999");
    assert!(api.wait_for_callback_answer(&forged, WAIT).await.show_alert);

    // The secretary moves it by one day: the morning reminder for the 5th no longer comes.
    let press = api.push_callback(SECRETARY, GROUP, reminder.message_id, &move_button);
    api.wait_for_callback_answer(&press, WAIT).await;
    let choices = api.wait_for_text(GROUP, "要推迟多久", WAIT).await;
    let one_day = choices.callback_data("推迟1天").expect("a one-day choice");
    let press = api.push_callback(SECRETARY, GROUP, choices.message_id, &one_day);
    api.wait_for_callback_answer(&press, WAIT).await;
    api.wait_for_text(GROUP, "2026年3月6日 15:00", WAIT).await;

    env.set_now(at("2026-03-05T00:01:00Z"));
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| m.plain_text.contains("今天有")).await;

    // The day before the new date the reminder comes again; the secretary records it as held.
    env.set_now(at("2026-03-05T01:00:30Z"));
    let again = api
        .wait_for_message(
            GROUP,
            |m| m.plain_text.contains("明天") && m.message_id != reminder.message_id,
            WAIT,
        )
        .await;
    let press = api.push_callback(
        SECRETARY,
        GROUP,
        again.message_id,
        &again.callback_data(mt::BUTTON_HELD).unwrap(),
    );
    assert_eq!(
        api.wait_for_callback_answer(&press, WAIT)
            .await
            .text
            .as_deref(),
        Some(mt::ALERT_RECORDED)
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM meeting_occurrences WHERE status = 'held'")
            .await,
        1
    );
    // Pressing again is harmless.
    let press = api.push_callback(SECRETARY, GROUP, again.message_id, &held);
    assert_eq!(
        api.wait_for_callback_answer(&press, WAIT)
            .await
            .text
            .as_deref(),
        Some(mt::ALERT_ALREADY_RECORDED)
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn meetings_not_recorded_become_missed_and_held_records_by_command() {
    let (api, env, mut bot) = world().await;
    api.push_text(MEMBER, GROUP, "/meetings");
    let plan = api.wait_for_text(GROUP, "第一党支部 会议计划", WAIT).await;
    for title in [
        "支部党员大会",
        "支部委员会会议",
        "党小组会",
        "党课",
        "主题党日",
        "组织生活会",
        "民主评议党员",
    ] {
        assert!(
            plan.plain_text.contains(title),
            "default plan lacks {title}: {}",
            plan.plain_text
        );
    }
    // Only managers record meetings.
    api.push_text(MEMBER, GROUP, "/held 支委会");
    api.wait_for_text(GROUP, "只有本群的管理员", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/held 支委会 2026-12-01");
    api.wait_for_text(GROUP, "还没有到", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/held 读书会");
    api.wait_for_text(GROUP, "会议计划里没有", WAIT).await;

    // Through March: the 支委会 of 5 March is recorded by command, nothing else is.
    env.set_now(at("2026-03-05T00:01:00Z"));
    api.wait_for_text(GROUP, "今天有", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/held 支委会");
    api.wait_for_text(GROUP, "已记录", WAIT).await;
    // Past 10 April the periods of the 5 March 支委会 (held) and the 10 March 党小组会 (not) end.
    env.set_now(at("2026-04-10T08:00:00Z"));
    let missed = "SELECT COUNT(*) FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id WHERE o.status = 'missed' AND p.title = '党小组会'";
    env.eventually_i64(missed, 1).await;
    let held = env.query_i64("SELECT COUNT(*) FROM meeting_occurrences o JOIN meeting_plans p ON p.id = o.plan_id WHERE o.status = 'held' AND p.title = '支部委员会会议'").await;
    assert_eq!(held, 1);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn bad_calendar_input_gets_examples_and_changes_nothing() {
    let (api, env, mut bot) = world().await;
    api.push_text(SECRETARY, GROUP, "/term 2023-02-30");
    api.wait_for_text(GROUP, "2月30日", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/term 去年春天");
    api.wait_for_text(GROUP, "2026年12月1日", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/term 2027-01-01");
    api.wait_for_text(GROUP, "2027年1月1日", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/delay 2027-01-01");
    api.wait_for_text(GROUP, "尚未设置本届任期", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/plan 支委会 有空就开");
    api.wait_for_text(GROUP, "每月5日 15:00", WAIT).await;
    api.push_text(MEMBER, GROUP, "/term 2024-01-01");
    api.wait_for_text(GROUP, "只有本群的管理员", WAIT).await;
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM terms").await, 0);

    api.push_text(SECRETARY, GROUP, "/term 2024-01-01");
    api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    // 2027-01-01 + 1 year is the limit; two years is refused with the reason.
    api.push_text(SECRETARY, GROUP, "/delay 2029-01-01");
    api.wait_for_text(GROUP, "1年", WAIT).await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM terms WHERE delayed_to IS NOT NULL")
            .await,
        0
    );
    api.push_text(SECRETARY, GROUP, "/delay 2027-06-30");
    api.wait_for_text(GROUP, "已记录经批准的延期换届", WAIT)
        .await;
    api.push_text(MEMBER, GROUP, "/status");
    api.wait_for_text(GROUP, "2027年6月30日", WAIT).await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn delivery_waits_out_429_retries_5xx_and_skips_a_group_that_removed_the_bot() {
    let (api, env, mut bot) = world().await;
    api.add_user(3001, "周书记", "zhoushuji");
    api.add_group(-2002, "第二党支部群", &[3001], &[]);
    bind(&api, 3001, -2002, "第二党支部 学校").await;
    api.push_text(SECRETARY, GROUP, "/term 2023-09-10");
    api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    api.push_text(3001, -2002, "/term 2023-09-10");
    api.wait_for_text(-2002, "已设置本届任期", WAIT).await;

    // The second group removes the bot; the first answers 429 once, then a server error once.
    api.remove_bot_from(-2002);
    api.fail_next("sendMessage", 1, Fault::RetryAfter(1));
    env.set_now(at("2026-03-10T01:00:30Z"));
    api.wait_for_text(GROUP, "【换届提醒】", WAIT).await;
    api.wait_until("the removed group's reminder to fail", WAIT, |api| {
        let failed = api
            .calls_to("sendMessage")
            .iter()
            .any(|c| c.params["chat_id"] == -2002 && c.error_code() == Some(403));
        failed.then_some(())
    })
    .await;
    env.eventually_i64(
        "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND dedup_key LIKE 'term:%'",
        1,
    )
    .await;
    // Once the scheduler has caught up, the 429 was retried once and the reminder sent once.
    scheduler_fence(&api, &env).await;
    let retried = api
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.error_code() == Some(429))
        .count();
    assert_eq!(retried, 1);
    assert_eq!(count_containing(&api, GROUP, "【换届提醒】"), 1);

    // A server error: the message it hits waits for its back-off, then is tried once more.
    // (Many messages fall due on 10 June, meeting reminders among them; which one the error
    // hits is not fixed, so the check follows that message.)
    api.fail_next("sendMessage", 1, Fault::ServerErrorInstant);
    env.set_now(at("2026-06-10T01:00:30Z"));
    let hit = api
        .wait_until("a server error", WAIT, |api| {
            api.calls_to("sendMessage")
                .into_iter()
                .find(|c| c.error_description() == Some("Internal Server Error"))
        })
        .await;
    // The same message: same chat, same text (a retry may drop the late notice 补发).
    let text_of = |c: &ApiCall| {
        let text = c.params["text"].as_str().unwrap_or_default().to_owned();
        text.trim_start_matches(LATE_PREFIX).to_owned()
    };
    let tries = |api: &FakeApi| {
        api.calls_to("sendMessage")
            .iter()
            .filter(|c| c.params["chat_id"] == hit.params["chat_id"])
            .filter(|c| text_of(c) == text_of(&hit))
            .count()
    };
    scheduler_fence(&api, &env).await;
    assert_eq!(tries(&api), 1, "not again before its back-off");
    env.advance(chrono::Duration::seconds(5));
    api.wait_until("the retry", WAIT, |api| (tries(api) == 2).then_some(()))
        .await;
    api.wait_until("the 3-month reminder", WAIT, |api| {
        (count_containing(api, GROUP, "【换届提醒】") == 2).then_some(())
    })
    .await;
    scheduler_fence(&api, &env).await;
    assert_eq!(tries(&api), 2, "tried once more, not again");
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| {
        m.plain_text.contains("【换届提醒】") && m.plain_text.contains("补发")
    })
    .await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_crash_between_recording_and_sending_loses_nothing() {
    let (api, env, mut bot) = world().await;
    api.push_text(SECRETARY, GROUP, "/term 2023-09-10");
    api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    // The send fails with a network error, so the reminder stays recorded but unsent...
    api.fail_next("sendMessage", 1, Fault::Network);
    env.set_now(at("2026-03-10T01:00:30Z"));
    api.wait_until("a failed send", WAIT, |api| {
        (!api.calls_to("sendMessage").is_empty()).then_some(())
    })
    .await;
    // ...when the bot is killed.
    bot.kill();
    let mut bot = launch(&api, &env).await;
    env.advance(chrono::Duration::minutes(1));
    api.wait_for_text(GROUP, "【换届提醒】", WAIT).await;
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| {
        m.plain_text.matches("【换届提醒】").count() > 1
    })
    .await;
    assert_eq!(count_containing(&api, GROUP, "【换届提醒】"), 1);
    assert!(bot.stop().await.success());
}
