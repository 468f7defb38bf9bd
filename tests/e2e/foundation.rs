//! End-to-end: the compiled bot against the fake Bot API — start-up, command menus, binding a
//! group to a branch, joining, administrator roles, shutdown.

use branchbot::texts::common as t;
use serde_json::json;

use crate::support::*;

const SECRETARY: i64 = 1001;
const MEMBER: i64 = 1002;
const SUPER: i64 = 1003;
const NEWCOMER: i64 = 1004;
const GROUP: i64 = -2001;

async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(MEMBER, "王党员", "wangdangyuan");
    api.add_user(SUPER, "组织部", "zuzhibu");
    api.add_user(NEWCOMER, "赵新人", "zhaoxinren");
    for user in [SECRETARY, MEMBER, SUPER, NEWCOMER] {
        api.add_private_chat(user);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[MEMBER, NEWCOMER]);
    let env = TestEnv::new().super_admins(&[SUPER]);
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

async fn branch_rows(env: &TestEnv) -> Vec<(i64, String, String, bool)> {
    let pool = env.db().await;
    let rows: Vec<(i64, String, String, bool)> =
        sqlx::query_as("SELECT chat_id, name, kind, active FROM branches ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows
}

#[test]
fn start_without_a_token_fails_with_one_line_naming_it() {
    let mut env = TestEnv::new();
    env.unset_var("TELOXIDE_TOKEN");
    let out = run_cli(&[], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("TELOXIDE_TOKEN") && lines[0].contains("@BotFather"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_setting_is_named() {
    let env = TestEnv::new().timezone("Mars/Olympus");
    let out = run_cli(&[], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BRANCHBOT_TIMEZONE"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn menus_are_registered_per_scope_and_sigterm_stops_cleanly() {
    let (api, _env, mut bot) = world().await;
    api.wait_for_calls("setMyCommands", 4, WAIT).await;
    let private = api
        .commands_for_scope(json!({"type": "all_private_chats"}))
        .unwrap();
    let names: Vec<&str> = private.iter().map(|(c, _)| c.as_str()).collect();
    assert!(names.contains(&"test") && names.contains(&"practice") && !names.contains(&"grant"));
    let admins = api
        .commands_for_scope(json!({"type": "all_chat_administrators"}))
        .unwrap();
    assert!(admins.iter().any(|(c, _)| c == "bind"));
    let groups = api
        .commands_for_scope(json!({"type": "all_group_chats"}))
        .unwrap();
    assert!(!groups.iter().any(|(c, _)| c == "bind"));
    let super_menu = api
        .commands_for_scope(json!({"type": "chat", "chat_id": SUPER}))
        .unwrap();
    assert!(super_menu.iter().any(|(c, _)| c == "grant"));
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn binding_a_group_is_for_its_administrators_only() {
    let (api, env, mut bot) = world().await;

    // A plain member is refused and nothing is stored.
    api.push_text(MEMBER, GROUP, "/bind 第一党支部 机关");
    api.wait_for_text(GROUP, t::REFUSE_GROUP_ADMIN, WAIT).await;
    assert!(branch_rows(&env).await.is_empty());

    // Missing name and unknown kind get the usage; nothing is stored.
    api.push_text(SECRETARY, GROUP, "/bind");
    api.wait_for_text(GROUP, "用法：/bind", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/bind 第一党支部 火星");
    api.wait_for_text(GROUP, "不认识的支部类型", WAIT).await;
    assert!(branch_rows(&env).await.is_empty());

    // In a private chat /bind is a group command.
    api.push_text(SECRETARY, SECRETARY, "/bind 第一党支部");
    api.wait_for_text(SECRETARY, t::GROUP_ONLY, WAIT).await;

    // The group administrator binds; a name with markup characters is escaped, not parsed.
    api.push_text(SECRETARY, GROUP, "/bind 第一<党>支部 社区");
    api.wait_for_text(GROUP, "已将本群绑定为支部", WAIT).await;
    assert_eq!(
        branch_rows(&env).await,
        vec![(GROUP, "第一<党>支部".into(), "社区".into(), true)]
    );

    api.push_text(MEMBER, GROUP, "/status");
    let status = api.wait_for_text(GROUP, "加入码", WAIT).await;
    assert!(
        status.plain_text.contains("第一<党>支部（社区）"),
        "{}",
        status.plain_text
    );

    // Binding again updates; unbinding keeps the row.
    api.push_text(SECRETARY, GROUP, "/bind 第一党支部 学校");
    api.wait_for_text(GROUP, "已更新本群的支部信息", WAIT).await;
    api.push_text(SECRETARY, GROUP, "/unbind");
    api.wait_for_text(GROUP, "已解除本群与支部的绑定", WAIT)
        .await;
    assert_eq!(
        branch_rows(&env).await,
        vec![(GROUP, "第一党支部".into(), "学校".into(), false)]
    );
    api.push_text(MEMBER, GROUP, "/status");
    api.wait_for_text(GROUP, "本群尚未绑定支部", WAIT).await;

    // A super-administrator may bind any group even without being its Telegram admin.
    api.add_group(-2002, "第二支部群", &[], &[SUPER]);
    api.push_text(SUPER, -2002, "/bind 第二党支部");
    api.wait_for_text(-2002, "已将本群绑定为支部", WAIT).await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn trainees_join_by_deep_link_or_code() {
    let (api, env, mut bot) = world().await;
    bind(&api, SECRETARY, GROUP, "第一党支部 农村").await;
    api.push_text(SECRETARY, GROUP, "/invite");
    let invite = api.wait_for_text(GROUP, "欢迎加入", WAIT).await;
    let url = invite.buttons()[0].url.clone().expect("a deep-link button");
    let payload = url
        .split("start=")
        .nth(1)
        .expect("a start payload")
        .to_owned();
    assert!(
        url.starts_with(&format!("https://t.me/{}?start=j_", api.bot_username())),
        "{url}"
    );

    api.push_text(MEMBER, MEMBER, &format!("/start {payload}"));
    api.wait_for_text(MEMBER, "你已加入", WAIT).await;
    api.push_text(MEMBER, MEMBER, &format!("/start {payload}"));
    api.wait_for_text(MEMBER, "你已经是", WAIT).await;

    let code = payload.trim_start_matches("j_").to_lowercase();
    api.push_text(NEWCOMER, NEWCOMER, "/join WRONG123");
    api.wait_for_text(NEWCOMER, "无效", WAIT).await;
    api.push_text(NEWCOMER, NEWCOMER, &format!("/join {code}"));
    api.wait_for_text(NEWCOMER, "你已加入", WAIT).await;

    assert_eq!(env.query_i64("SELECT COUNT(*) FROM members").await, 2);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn only_super_administrators_grant_and_revoke() {
    let (api, _env, mut bot) = world().await;
    // The future administrator must have talked to the bot once.
    api.push_text(MEMBER, MEMBER, "/start");
    api.wait_for_text(MEMBER, "/practice", WAIT).await;

    api.push_text(SECRETARY, SECRETARY, "/grant @wangdangyuan");
    api.wait_for_text(SECRETARY, t::REFUSE_SUPER_ADMIN, WAIT)
        .await;
    api.push_text(MEMBER, MEMBER, "/admins");
    api.wait_for_text(MEMBER, t::REFUSE_ADMIN, WAIT).await;

    api.push_text(SUPER, SUPER, "/grant @nobody_here");
    api.wait_for_text(SUPER, "找不到用户", WAIT).await;
    api.push_text(SUPER, SUPER, "/grant @wangdangyuan");
    api.wait_for_text(SUPER, "已授权 王党员 管理 上级党组织", WAIT)
        .await;
    api.push_text(MEMBER, MEMBER, "/admins");
    api.wait_for_text(MEMBER, "王党员", WAIT).await;
    let menu = api
        .wait_until("the new administrator's menu", WAIT, |api| {
            api.commands_for_scope(json!({"type": "chat", "chat_id": MEMBER}))
        })
        .await;
    assert!(menu.iter().any(|(c, _)| c == "report"));

    api.push_text(SUPER, SUPER, &format!("/revoke {MEMBER}"));
    api.wait_for_text(SUPER, "已撤销 王党员", WAIT).await;
    api.push_text(MEMBER, MEMBER, "/report");
    api.wait_for_text(MEMBER, t::REFUSE_ADMIN, WAIT).await;
    api.push_text(SUPER, SUPER, &format!("/revoke {SUPER}"));
    api.wait_for_text(SUPER, t::CANNOT_REVOKE_SUPER, WAIT).await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn unknown_commands_and_plain_text_get_a_hint() {
    let (api, env, mut bot) = world().await;
    api.push_text(MEMBER, MEMBER, "/frobnicate");
    api.wait_for_text(MEMBER, t::UNKNOWN_COMMAND, WAIT).await;
    api.push_text(MEMBER, MEMBER, "你好");
    api.wait_for_text(MEMBER, t::PRIVATE_HINT, WAIT).await;
    api.push_text(MEMBER, GROUP, "/practice");
    api.wait_for_text(GROUP, t::PRIVATE_ONLY, WAIT).await;
    // Commands addressed to another bot in the group are not ours to answer.
    let mark = api.mark();
    api.push_text(MEMBER, GROUP, "/status@someotherbot");
    assert_quiet_until_reply(
        &api,
        &env,
        mark,
        FollowUp::help(MEMBER, GROUP),
        GROUP,
        |m| m.plain_text.contains("尚未绑定"),
    )
    .await;
    assert!(bot.stop().await.success());
}

/// One chat's updates are answered in the order they came, one after another; a chat that
/// writes meanwhile does not wait behind them (`telegram::lanes`). One message a second into a
/// chat spreads the first chat's three replies over two seconds.
#[tokio::test]
async fn a_chats_updates_are_answered_in_order_and_other_chats_do_not_wait_behind_them() {
    let (api, _env, mut bot) = world().await;
    let mark = api.mark();
    api.push_text(MEMBER, MEMBER, "/frobnicate");
    api.push_text(MEMBER, MEMBER, "你好");
    api.push_text(MEMBER, MEMBER, "/frobnicate");
    api.push_text(NEWCOMER, NEWCOMER, "你好");
    let replies = api
        .wait_until("four replies", WAIT, |api| {
            let replies = api.messages_since(mark);
            (replies.len() >= 4).then_some(replies)
        })
        .await;
    let says = |m: &SentMessage, text: &str| m.plain_text.contains(text) || m.text.contains(text);
    let member: Vec<&SentMessage> = replies.iter().filter(|m| m.chat_id == MEMBER).collect();
    assert_eq!(member.len(), 3, "{replies:#?}");
    assert!(says(member[0], t::UNKNOWN_COMMAND), "{replies:#?}");
    assert!(says(member[1], t::PRIVATE_HINT), "{replies:#?}");
    assert!(says(member[2], t::UNKNOWN_COMMAND), "{replies:#?}");
    let position = |chat: i64| replies.iter().rposition(|m| m.chat_id == chat).unwrap();
    assert!(
        position(NEWCOMER) < position(MEMBER),
        "the newcomer waited behind another chat: {replies:#?}"
    );
    assert!(says(&replies[position(NEWCOMER)], t::PRIVATE_HINT));
    assert!(bot.stop().await.success());
}

#[test]
fn questions_check_passes_the_shipped_bank_strictly_and_names_each_error_of_a_broken_one() {
    let env = TestEnv::new();
    // Strict: the shipped bank carries no item-writing warning either (cues, near-duplicates).
    let good = run_cli(&["questions", "check", "--strict", QUESTIONS_DIR], &env);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let broken_dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/questions/broken"
    );
    let broken = run_cli(&["questions", "check", broken_dir], &env);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    // Every error names its file and line, e.g. "answers.toml:12: ...".
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(".toml:") && l.chars().any(|c| c.is_ascii_digit())),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_admin_chat_hears_when_the_bot_is_removed_from_a_branch_group() {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[]);
    api.add_group(-3001, "组织部工作群", &[], &[]);
    let env = TestEnv::new().admin_chat(-3001);
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 学校").await;

    let bot_user = json!({"id": api.bot_id(), "is_bot": true, "first_name": "branchbot", "username": api.bot_username()});
    let change = |old: &str, new: &str| {
        json!({
            "chat": {"id": GROUP, "type": "group", "title": "第一党支部群"},
            "from": {"id": SECRETARY, "is_bot": false, "first_name": "李书记"},
            "date": 1_772_416_800,
            "old_chat_member": {"user": bot_user, "status": old},
            "new_chat_member": {"user": bot_user, "status": new, "until_date": 0},
        })
    };
    // Being added again is no news (the notice would go through the outbox); being removed is.
    let mark = api.mark();
    api.push_raw_update("my_chat_member", change("left", "member"));
    assert_quiet_until_reply(
        &api,
        &env,
        mark,
        FollowUp::help(SECRETARY, GROUP),
        -3001,
        |_| true,
    )
    .await;
    api.remove_bot_from(GROUP);
    api.push_raw_update("my_chat_member", change("member", "kicked"));
    let notice = api.wait_for_text(-3001, "机器人已被移出", WAIT).await;
    assert!(
        notice.plain_text.contains("第一党支部"),
        "{}",
        notice.plain_text
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_bot_starts_from_a_directory_without_a_question_bank() {
    let api = FakeApi::start().await;
    let mut env = TestEnv::new();
    env.unset_var("BRANCHBOT_QUESTIONS_DIR");
    assert!(!env.dir().join("questions").exists());
    let mut bot = launch(&api, &env).await;
    let shipped = branchbot::questions::embedded::load().expect("the shipped bank");
    let active = env
        .query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
        .await;
    assert_eq!(active, shipped.len() as i64);
    assert!(
        bot.output().contains("built into the binary"),
        "{}",
        bot.output()
    );
    // A configured directory that does not exist is an error, not a silent fallback.
    bot.stop().await;
    env.set_var(
        "BRANCHBOT_QUESTIONS_DIR",
        env.dir().join("no-such-dir").display(),
    );
    let mut again = BotProcess::spawn(&api, &env);
    let status = again.wait_for_exit(WAIT).await.expect("start-up stops");
    assert!(!status.success());
    assert!(again.output().contains("no-such-dir"), "{}", again.output());
}
