//! End-to-end: paths a real trainee or secretary takes that the feature tests did not — a
//! supergroup, odd `/plan` input, deep links without a code, meeting buttons after `/unbind`,
//! and meeting reminders sent late on the day of the meeting.

use crate::support::*;

const SECRETARY: i64 = 1001;
const TRAINEE: i64 = 1002;
const GROUP: i64 = -2001;
/// Telegram gives supergroups ids of the form -100xxxxxxxxxx.
const SUPERGROUP: i64 = -1001234567890;

/// The bot with a secretary administering a basic group and a supergroup, and a trainee.
async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(TRAINEE, "王党员", "wangdangyuan");
    api.add_private_chat(TRAINEE);
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[TRAINEE]);
    api.add_group(SUPERGROUP, "第二党支部群", &[SECRETARY], &[TRAINEE]);
    // No round open at the start, so no announcement interleaves with the replies.
    let env = TestEnv::new().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *");
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

#[tokio::test]
async fn a_supergroup_administrator_binds_and_plans() {
    let (api, env, _bot) = world().await;
    let bound = ask(&api, SECRETARY, SUPERGROUP, "/bind 第二党支部 社区").await;
    assert!(
        bound.plain_text.contains("已将本群绑定为支部"),
        "{}",
        bound.plain_text
    );
    let planned = ask(&api, SECRETARY, SUPERGROUP, "/plan 支委会 每月6日 15:00").await;
    assert!(
        planned.plain_text.contains("已修改会议计划"),
        "{}",
        planned.plain_text
    );
    let term = ask(&api, SECRETARY, SUPERGROUP, "/term 2023-09-10").await;
    assert!(
        term.plain_text.contains("已设置本届任期"),
        "{}",
        term.plain_text
    );
    // A plain member of the supergroup is still refused.
    let refused = ask(&api, TRAINEE, SUPERGROUP, "/unbind").await;
    assert!(refused.plain_text.contains("只有本群的管理员"));
    assert_eq!(
        env.query_i64(
            "SELECT COUNT(*) FROM branches WHERE active = 1 AND chat_id = -1001234567890"
        )
        .await,
        1
    );
    assert_every_call_accepted(&api);
}

#[tokio::test]
async fn plan_refuses_a_schedule_with_no_date_ahead_and_an_overlong_name() {
    let (api, env, _bot) = world().await;
    ask(&api, SECRETARY, GROUP, "/bind 第一党支部 机关").await;
    let plans = "SELECT COUNT(*) FROM meeting_plans";
    let before = env.query_i64(plans).await;

    // Valid cron, but its only year is past: nothing would ever be reminded.
    let past = ask(&api, SECRETARY, GROUP, "/plan 读书会 0 0 9 1 1 * 2020").await;
    assert!(
        !past.plain_text.contains("已新增") && past.plain_text.contains("没有开会日期"),
        "{}",
        past.plain_text
    );

    let long_name = format!("/plan {} 每月5日 15:00", "<学&习>".repeat(40));
    let long = ask(&api, SECRETARY, GROUP, &long_name).await;
    assert!(long.plain_text.contains("太长"), "{}", long.plain_text);

    assert_eq!(env.query_i64(plans).await, before, "nothing was stored");
    assert_every_call_accepted(&api);
}

#[tokio::test]
async fn a_deep_link_without_a_code_shows_how_to_join() {
    let (api, _env, _bot) = world().await;
    for payload in ["/start t_", "/start j_"] {
        let reply = ask(&api, TRAINEE, TRAINEE, payload).await;
        assert!(
            reply.plain_text.starts_with("用法：/join"),
            "{payload}: {}",
            reply.plain_text
        );
    }
}

/// The secretary's group with the 支委会 (5 March 15:00) day-before reminder delivered.
async fn reminder_in_group(api: &FakeApi, env: &TestEnv) -> SentMessage {
    ask(api, SECRETARY, GROUP, "/bind 第一党支部 机关").await;
    env.set_now(at("2026-03-04T01:00:30Z"));
    api.wait_for_text(GROUP, "会议提醒", WAIT).await
}

#[tokio::test]
async fn meeting_buttons_after_unbind_change_nothing() {
    let (api, env, _bot) = world().await;
    let reminder = reminder_in_group(&api, &env).await;
    let move_data = reminder.callback_data("改期").unwrap();
    let held_data = reminder.callback_data("已召开").unwrap();
    let occurrence: i64 = move_data.trim_start_matches("m:").parse().unwrap();
    let unbound = ask(&api, SECRETARY, GROUP, "/unbind").await;
    assert!(unbound.plain_text.contains("已解除"));

    let scheduled = env
        .query_i64(&format!(
            "SELECT scheduled_at FROM meeting_occurrences WHERE id = {occurrence}"
        ))
        .await;
    for data in [
        move_data,
        held_data,
        format!("mb:{occurrence}:1:{scheduled}"),
    ] {
        let id = api.push_callback(SECRETARY, GROUP, reminder.message_id, &data);
        let answer = api.wait_for_callback_answer(&id, WAIT).await;
        assert!(answer.show_alert, "{data}");
        assert!(
            answer.text.as_deref().unwrap_or("").contains("解除"),
            "{data}: {:?}",
            answer.text
        );
    }
    let row = format!(
        "SELECT COUNT(*) FROM meeting_occurrences
         WHERE id = {occurrence} AND status = 'pending' AND moved_to IS NULL"
    );
    assert_eq!(env.query_i64(&row).await, 1, "the occurrence is untouched");
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND chat_id = -2001")
            .await,
        0,
        "nothing is queued for the unbound group"
    );
    assert_every_call_accepted(&api);
}

#[tokio::test]
async fn a_reminder_sent_late_on_the_meeting_day_does_not_say_tomorrow() {
    let (api, env, mut bot) = world().await;
    ask(&api, SECRETARY, GROUP, "/bind 第一党支部 机关").await;
    // The bot is down from Monday until 10:00 on Thursday 5 March, the day of the 支委会 at
    // 15:00: yesterday's "tomorrow" reminder no longer tells the truth; this morning's does.
    assert!(bot.stop().await.success());
    env.set_now(at("2026-03-05T02:00:00Z"));
    let mut bot = launch(&api, &env).await;
    let today = api.wait_for_text(GROUP, "今天有", WAIT).await;
    assert!(today.plain_text.contains("补发"), "{}", today.plain_text);
    assert_scheduler_quiet(&api, &env, 0, GROUP, |m| m.plain_text.contains("明天有")).await;
    assert!(bot.stop().await.success());
}

/// A service message Telegram sends when a basic group becomes a supergroup: `migrate_to_chat_id`
/// in the old group, `migrate_from_chat_id` in the new one.
fn push_migration(
    api: &FakeApi,
    env: &TestEnv,
    chat: i64,
    chat_type: &str,
    field: &str,
    other: i64,
) {
    let payload = serde_json::json!({
        "message_id": 700_000 + chat.rem_euclid(1000),
        "date": env.now().timestamp(),
        "chat": {"id": chat, "type": chat_type, "title": "第一党支部群"},
        "from": {"id": SECRETARY, "is_bot": false, "first_name": "李书记"},
        field: other,
    });
    api.push_raw_update("message", payload);
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_keeps_its_branch() {
    let (api, env, _bot) = world().await;
    ask(&api, SECRETARY, GROUP, "/bind 第一党支部 机关").await;
    ask(&api, SECRETARY, GROUP, "/term 2023-09-10").await;
    // The 支委会 of 5 March and its two reminders are written two days ahead.
    env.set_now(at("2026-03-03T08:00:00Z"));
    let queued = |chat: i64| {
        format!("SELECT COUNT(*) FROM outbox WHERE chat_id = {chat} AND status = 'pending'")
    };
    env.eventually_i64(&queued(GROUP), 2).await;
    push_migration(&api, &env, GROUP, "group", "migrate_to_chat_id", SUPERGROUP);
    push_migration(
        &api,
        &env,
        SUPERGROUP,
        "supergroup",
        "migrate_from_chat_id",
        GROUP,
    );
    let status = ask(&api, SECRETARY, SUPERGROUP, "/status").await;
    assert!(
        status.plain_text.contains("第一党支部") && status.plain_text.contains("2026年9月10日"),
        "{}",
        status.plain_text
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM branches").await,
        1,
        "no second branch"
    );
    // The upgraded group's reminders go to the new chat id.
    assert_eq!(env.query_i64(&queued(GROUP)).await, 0);
    assert_eq!(env.query_i64(&queued(SUPERGROUP)).await, 2);
    assert_quiet_until_reply(
        &api,
        &env,
        0,
        FollowUp::help(SECRETARY, SUPERGROUP),
        SUPERGROUP,
        |m| m.plain_text.contains("内部错误"),
    )
    .await;
    assert_every_call_accepted(&api);
}

#[tokio::test]
async fn a_member_of_an_unbound_branch_is_not_told_to_join() {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(TRAINEE, "王党员", "wangdangyuan");
    api.add_private_chat(TRAINEE);
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[TRAINEE]);
    // The default calendar: the round of 1 March is open.
    let env = TestEnv::new();
    let _bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一<党>支部 机关").await;
    let code = env.join_code(GROUP).await;
    let joined = ask(&api, TRAINEE, TRAINEE, &format!("/join {code}")).await;
    assert!(
        joined.plain_text.contains("你已加入"),
        "{}",
        joined.plain_text
    );
    api.push_text(SECRETARY, GROUP, "/unbind");
    api.wait_for_text(GROUP, "已解除", WAIT).await;
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'", 1)
        .await;
    let reply = ask(&api, TRAINEE, TRAINEE, "/test").await;
    assert!(
        reply.plain_text.contains("第一<党>支部 已解除"),
        "{}",
        reply.plain_text
    );
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM attempts").await, 0);
    assert_every_call_accepted(&api);
}
