//! Rosters for administrators and in reminders, end to end through the compiled bot and the
//! fake Bot API: an organisation's roster sheet in private chat (only the sender's subtree, a
//! sibling organisation's administrator can neither upload for nor see another subtree's
//! branches), `/overdue`'s 预备期 list scoped to the viewer, `/roster` and its buttons refused
//! to a sibling's administrator, the election arithmetic in the ladder reminders, and the
//! day-before reminder naming who has not finished when `BRANCHBOT_REMIND_NAMES` is on.
//!
//! ```text
//!   1 县委组织部 (root)
//!   ├── 2 城关镇党委     admins: ADMIN_A   第一党支部 (GROUP_1, Telegram admin GROUP_ADMIN)
//!   │                                     第二党支部 (GROUP_2)
//!   └── 4 河口乡党委     admins: ADMIN_B   第三党支部 (GROUP_3)
//! ```

use branchbot::domain::roster::{Duty, Person, Status};
use branchbot::roster::sheet::Layout;
use branchbot::roster::template;
use branchbot::texts::common as ct;
use branchbot::texts::roster as rt;
use branchbot::texts::roster_org as ot;
use chrono::NaiveDate;

use crate::roster::{person, sheet as branch_sheet};
use crate::support::*;

const ADMIN_A: i64 = 1011;
const ADMIN_B: i64 = 1013;
const GROUP_ADMIN: i64 = 1004;
const GROUP_1: i64 = -2001;
const GROUP_2: i64 = -2002;
const GROUP_3: i64 = -2003;
const PHONE: &str = "13800138000";

const SEED: &str = "
UPDATE organisations SET name = '县委组织部', kind = '组织部' WHERE id = 1;
INSERT INTO organisations (id, name, kind, parent_id, bind_code, created_at, updated_at) VALUES
  (2, '城关镇党委', '党委', 1, 'codeorga', 0, 0),
  (4, '河口乡党委', '党委', 1, 'codeorgb', 0, 0);
INSERT INTO users (id, full_name, created_at) VALUES (1011, '城关管理员', 0), (1013, '河口管理员', 0);
INSERT INTO org_admins (user_id, org_id, granted_at) VALUES (1011, 2, 0), (1013, 4, 0);
INSERT INTO branches (id, chat_id, name, kind, join_code, active, org_id, created_at, updated_at) VALUES
  (1, -2001, '第一党支部', '机关', 'JOINA2', 1, 2, 0, 0),
  (2, -2002, '第二党支部', '社区', 'JOINB2', 1, 2, 0, 0),
  (3, -2003, '第三党支部', '农村', 'JOINC2', 1, 4, 0, 0);
";

/// A 预备党员 admitted on 10 January 2025: the 预备期 ended before the tests' clock.
fn probationer(name: &str) -> Person {
    let mut p = person(name, Status::Probationary, None);
    p.joined_on = NaiveDate::from_ymd_opt(2025, 1, 10);
    p
}

/// Seven 正式党员 (one under 留党察看), a 预备党员 past the 预备期 and an 入党积极分子; three
/// committee posts (书记, 组织委员, 宣传委员); 张三 has a phone number.
fn roster() -> Vec<Person> {
    let mut zhang = person("张三", Status::Full, Some(Duty::Secretary));
    zhang.phone = Some(PHONE.to_owned());
    let mut qian = person("钱七", Status::Full, None);
    qian.on_probation = true;
    vec![
        zhang,
        person("李四", Status::Full, Some(Duty::Organisation)),
        person("王五", Status::Full, Some(Duty::Propaganda)),
        person("赵六", Status::Full, None),
        qian,
        person("周九", Status::Full, None),
        person("吴十", Status::Full, None),
        probationer("孙八"),
        person("郑十一", Status::Activist, None),
    ]
}

fn org_sheet(rows: &[(&str, Person)]) -> Vec<u8> {
    let rows: Vec<(&str, &Person)> = rows.iter().map(|(b, p)| (*b, p)).collect();
    template::filled(Layout::Organisation, &rows).unwrap()
}

async fn people_in(env: &TestEnv, branch: i64) -> i64 {
    env.query_i64(&format!(
        "SELECT COUNT(*) FROM roster_people WHERE branch_id = {branch} AND left_at IS NULL"
    ))
    .await
}

/// Sends `bytes` as `name` in `admin`'s private chat and returns the first reply.
async fn send_sheet(api: &FakeApi, admin: i64, name: &str, bytes: &[u8]) -> SentMessage {
    let mark = api.mark();
    api.push_document(admin, admin, name, bytes, None);
    api.wait_until("a reply to the sheet", WAIT, |api| {
        api.messages_since(mark)
            .into_iter()
            .find(|m| m.chat_id == admin)
    })
    .await
}

/// `/overdue` in `admin`'s private chat: the text of its 预备期 section.
async fn overdue_probation(api: &FakeApi, admin: i64) -> String {
    let mark = api.mark();
    api.push_text(admin, admin, "/overdue");
    api.wait_for_text_since(mark, admin, "名册未登记转正的预备党员", WAIT)
        .await
        .plain_text
}

async fn world(env: TestEnv) -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    for (id, name) in [
        (ADMIN_A, "城关管理员"),
        (ADMIN_B, "河口管理员"),
        (GROUP_ADMIN, "一支部书记"),
    ] {
        api.add_user(id, name, None);
        api.add_private_chat(id);
    }
    api.add_group(GROUP_1, "第一党支部群", &[GROUP_ADMIN], &[]);
    api.add_group(GROUP_2, "第二党支部群", &[], &[]);
    api.add_group(GROUP_3, "第三党支部群", &[], &[]);
    env.seed_database(SEED).await;
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

#[tokio::test]
async fn an_organisation_uploads_rosters_for_its_own_branches_only() {
    let env = TestEnv::new().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 * 2099");
    let (api, env, mut bot) = world(env).await;

    // The sibling township's administrator names 第一党支部, by name or by id: refused exactly
    // like a branch that does not exist, row and column named, nothing stored.
    for cell in ["第一党支部", "1", "不存在支部"] {
        let sheet = org_sheet(&[
            ("第三党支部", person("王甲", Status::Full, None)),
            (cell, person("冒名", Status::Full, None)),
        ]);
        let reply = send_sheet(&api, ADMIN_B, "批量.xlsx", &sheet).await;
        let expected = format!("第 3 行 A 列（支部）：你管理的组织中没有支部“{cell}”（共 1 行）");
        assert!(reply.plain_text.contains(&expected), "{}", reply.plain_text);
        assert!(reply.buttons().is_empty());
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM roster_org_uploads")
            .await,
        0
    );

    // A branch's own sheet in private chat is sent back to its group; an organisation's sheet
    // from someone who administers nothing (a group's Telegram administrator) is refused.
    let reply = send_sheet(&api, ADMIN_A, "名册.xlsx", &branch_sheet(&roster())).await;
    assert_eq!(reply.plain_text, ot::BRANCH_SHEET_IN_PRIVATE);
    let sheet = org_sheet(&[("第一党支部", person("冒名", Status::Full, None))]);
    let reply = send_sheet(&api, GROUP_ADMIN, "批量.xlsx", &sheet).await;
    assert_eq!(reply.plain_text, ct::REFUSE_ADMIN);

    // Township A uploads its two branches (第二 by its id): one summary, per branch, no phones.
    let mut rows: Vec<(&str, Person)> = roster().into_iter().map(|p| ("第一党支部", p)).collect();
    rows.push(("2", person("陈一", Status::Full, Some(Duty::Secretary))));
    rows.push(("2", person("陈二", Status::Full, None)));
    let first = send_sheet(&api, ADMIN_A, "城关镇名册.xlsx", &org_sheet(&rows)).await;
    for expected in [
        "2 个支部，共 11 人",
        "第一党支部（9 人）：新增 9（张三、李四",
        "第二党支部（2 人）：新增 2（陈一、陈二）",
    ] {
        assert!(
            first.plain_text.contains(expected),
            "{expected} missing from:\n{}",
            first.plain_text
        );
    }
    assert!(!first.plain_text.contains("8000"), "{}", first.plain_text);
    assert!(!first.plain_text.contains("第三党支部"));
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);

    // Forged and foreign presses change nothing.
    let confirm = first.callback_data(ot::BUTTON_CONFIRM).unwrap();
    let answer = press(&api, ADMIN_B, &first, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_NOT_YOURS));
    let answer = press(&api, ADMIN_A, &first, "rgc:999").await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_GONE));
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);

    // One branch written two ways (its name and its id) is refused.
    rows.push(("第二党支部", person("陈三", Status::Full, None)));
    let reply = send_sheet(&api, ADMIN_A, "两种写法.xlsx", &org_sheet(&rows)).await;
    assert!(
        reply
            .plain_text
            .contains("第 13 行 A 列（支部）：与第 11 行是同一个支部，写法不同"),
        "{}",
        reply.plain_text
    );
    assert!(reply.buttons().is_empty());

    // A second sheet with one more person in 第二党支部 is confirmed; the first is then stale.
    rows.last_mut().unwrap().0 = "2";
    let second = send_sheet(&api, ADMIN_A, "城关镇名册2.xlsx", &org_sheet(&rows)).await;
    let mark = api.mark();
    let answer = press_label(&api, ADMIN_A, &second, ot::BUTTON_CONFIRM).await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_APPLIED));
    api.wait_for_text_since(
        mark,
        ADMIN_A,
        "组织批量名册已导入 2 个支部：新增 12 人",
        WAIT,
    )
    .await;
    assert_eq!(people_in(&env, 1).await, 9);
    assert_eq!(people_in(&env, 2).await, 3);
    let answer = press(&api, ADMIN_A, &first, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_STALE));
    api.wait_for_text_since(mark, ADMIN_A, "第二党支部。这份批量名册未导入", WAIT)
        .await;
    let again = press_label(&api, ADMIN_A, &second, ot::BUTTON_CONFIRM).await;
    assert_eq!(again.text.as_deref(), Some(ot::ALERT_DONE_ALREADY));
    assert_eq!(
        people_in(&env, 2).await,
        3,
        "the stale sheet changed nothing"
    );

    // A sheet that drops 陈三 is cancelled: he stays.
    rows.pop();
    let third = send_sheet(&api, ADMIN_A, "城关镇名册3.xlsx", &org_sheet(&rows)).await;
    assert!(
        third
            .plain_text
            .contains("第二党支部（2 人）：转出 1（陈三）"),
        "{}",
        third.plain_text
    );
    assert!(third.plain_text.contains("第一党支部（9 人）：无变化"));
    let mark = api.mark();
    let cancel = third.callback_data(ot::BUTTON_CANCEL).unwrap();
    let answer = press(&api, ADMIN_A, &third, &cancel).await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_CANCELLED));
    api.wait_for_text_since(mark, ADMIN_A, ot::CANCELLED, WAIT)
        .await;
    let confirm_third = third.callback_data(ot::BUTTON_CONFIRM).unwrap();
    let answer = press(&api, ADMIN_A, &third, &confirm_third).await;
    assert_eq!(answer.text.as_deref(), Some(ot::ALERT_DONE_ALREADY));
    assert_eq!(people_in(&env, 2).await, 3);

    // Township B uploads its own branch, with a 预备党员 past the 预备期 too.
    let b_rows = vec![
        (
            "第三党支部",
            person("王甲", Status::Full, Some(Duty::Secretary)),
        ),
        ("第三党支部", probationer("王乙")),
    ];
    let summary = send_sheet(&api, ADMIN_B, "河口乡.xlsx", &org_sheet(&b_rows)).await;
    let mark = api.mark();
    press_label(&api, ADMIN_B, &summary, ot::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, ADMIN_B, "组织批量名册已导入 1 个支部", WAIT)
        .await;
    assert_eq!(people_in(&env, 3).await, 2);
    assert_eq!(
        people_in(&env, 1).await,
        9,
        "B's upload touched only its branch"
    );

    // /overdue: each township sees its own 预备党员 only.
    let a = overdue_probation(&api, ADMIN_A).await;
    assert!(a.contains("第一党支部：孙八"), "{a}");
    assert!(!a.contains("第三党支部") && !a.contains("王乙"), "{a}");
    let b = overdue_probation(&api, ADMIN_B).await;
    assert!(b.contains("第三党支部：王乙"), "{b}");
    assert!(!b.contains("第一党支部") && !b.contains("孙八"), "{b}");

    // /roster in 第一党支部's group: its township's administrator may, the sibling's may not.
    let reply = ask(&api, ADMIN_B, GROUP_1, "/roster").await;
    assert_eq!(reply.plain_text, ct::REFUSE_GROUP_ADMIN);
    let reply = ask(&api, ADMIN_A, GROUP_1, "/roster").await;
    assert!(
        reply.plain_text.contains("名册人数：9（其中党员 8）"),
        "{}",
        reply.plain_text
    );
    // The group's buttons too: the sibling is refused, the township's administrator passes the
    // role check (and is told only the uploader may confirm).
    let mark = api.mark();
    api.push_document(
        GROUP_ADMIN,
        GROUP_1,
        "名册.xlsx",
        &branch_sheet(&roster()[..8]),
        Some("/roster"),
    );
    let summary = api
        .wait_for_text_since(mark, GROUP_1, "检查通过", WAIT)
        .await;
    let confirm = summary.callback_data(rt::BUTTON_CONFIRM).unwrap();
    let answer = press(&api, ADMIN_B, &summary, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(ct::REFUSE_GROUP_ADMIN));
    let answer = press(&api, ADMIN_A, &summary, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_NOT_YOURS));
    assert_eq!(people_in(&env, 1).await, 9);

    // No phone number ever reached a group.
    for group in [GROUP_1, GROUP_2, GROUP_3] {
        for m in api.messages_in(group) {
            assert!(!m.plain_text.contains("8000"), "{}", m.plain_text);
        }
    }
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// The roster of [`roster`] applied to 第一党支部 by its township's administrator.
async fn with_roster(api: &FakeApi) {
    let rows: Vec<(&str, Person)> = roster().into_iter().map(|p| ("第一党支部", p)).collect();
    let summary = send_sheet(api, ADMIN_A, "名册.xlsx", &org_sheet(&rows)).await;
    let mark = api.mark();
    press_label(api, ADMIN_A, &summary, ot::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, ADMIN_A, "组织批量名册已导入", WAIT)
        .await;
}

#[tokio::test]
async fn ladder_reminders_carry_the_roster_arithmetic() {
    let env = TestEnv::new().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 * 2099");
    let (api, env, mut bot) = world(env).await;
    with_roster(&api).await;
    // Both branches elected on 10 September 2023: three-year terms end on 10 September 2026.
    for group in [GROUP_1, GROUP_2] {
        let reply = ask(&api, ADMIN_A, group, "/term 2023-09-10 3").await;
        assert!(
            reply.plain_text.contains("2026年9月10日"),
            "{}",
            reply.plain_text
        );
    }

    // T−6 months: the voters and a committee, from the roster; 第二党支部 has none.
    env.set_now(at("2026-03-10T01:00:30Z"));
    let six = api
        .wait_for_text(GROUP_1, "【换届提醒】届满前6个月", WAIT)
        .await;
    for expected in [
        "【按本支部党员名册测算】",
        "有选举权的正式党员 6 人（正式党员 7 人、预备党员 1 人；预备党员和受留党察看处分的党员共 2 人没有表决权、选举权，选举条例第五条）",
        "正式党员 7 人（7 人以上）：应选举支部委员会",
    ] {
        assert!(six.plain_text.contains(expected), "{expected} missing from:\n{}", six.plain_text);
    }
    assert!(
        !six.plain_text.contains("五分之四，即至少"),
        "no quorum yet: {}",
        six.plain_text
    );
    let plain = api
        .wait_for_text(GROUP_2, "【换届提醒】届满前6个月", WAIT)
        .await;
    assert!(!plain.plain_text.contains("名册"), "{}", plain.plain_text);

    // T−2 weeks: the candidates for the roster's three seats and the quorum of six.
    let mark = api.mark();
    env.set_now(at("2026-08-27T01:00:30Z"));
    let two_weeks = api
        .wait_for_text_since(mark, GROUP_1, "【换届提醒】届满前2周", WAIT)
        .await;
    for expected in [
        "名册中现任支部委员 3 人：下届仍选 3 名委员的，委员候选人至少 4 名（差额不少于应选人数的20%，选举条例第十三条）",
        "应到会有选举权的党员 6 人：到会须超过应到会人数的五分之四，即至少 5 人",
    ] {
        assert!(
            two_weeks.plain_text.contains(expected),
            "{expected} missing from:\n{}",
            two_weeks.plain_text
        );
    }
    let plain = api
        .wait_for_text_since(mark, GROUP_2, "【换届提醒】届满前2周", WAIT)
        .await;
    assert!(!plain.plain_text.contains("名册"), "{}", plain.plain_text);
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_day_before_reminder_names_who_has_not_finished_when_asked_to() {
    const ZHANG: i64 = 3001;
    const LI: i64 = 3002;
    // Rounds open on the 1st and the 16th at 09:00 for a week; the setting starts off.
    let env = TestEnv::new();
    env.set_now(at("2026-03-10T02:00:00Z"));
    let (api, mut env, mut bot) = world(env).await;
    for (id, name) in [(ZHANG, "张三"), (LI, "小李")] {
        api.add_user(id, name, None);
        api.add_private_chat(id);
    }
    with_roster(&api).await;
    // 张三 and 李四 (both cadres, due for the test) joined and are linked; 王五 never joined.
    for user in [ZHANG, LI] {
        api.push_text(user, user, "/join JOINA2");
        api.wait_for_text(user, "你已加入", WAIT).await;
    }
    env.execute(
        "INSERT INTO roster_links (person_id, user_id, via, linked_at)
         SELECT id, CASE name WHEN '张三' THEN 3001 ELSE 3002 END, 'secretary', 0
         FROM roster_people WHERE name IN ('张三', '李四')",
    )
    .await;
    let finish = |round: i64| {
        format!(
            "INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, finished_at,
                                   status, question_count, correct_count, score)
             VALUES ({round}, 3001, 1, 0, 0, 1, 'finished', 20, 18, 90)"
        )
    };

    // Round 1 with the setting off: the unfinished are reminded privately, the group hears no names.
    env.set_now(at("2026-03-16T01:00:00Z"));
    api.wait_for_text(GROUP_1, "第1期党务业务测试开始了", WAIT)
        .await;
    env.execute(&finish(1)).await;
    let mark = api.mark();
    env.set_now(at("2026-03-22T01:00:00Z"));
    api.wait_for_text_since(mark, LI, "第1期党务业务测试将于", WAIT)
        .await;
    assert_scheduler_quiet(&api, &env, mark, GROUP_1, |m| {
        m.plain_text.contains("按名册应参加")
    })
    .await;

    // Round 2 with BRANCHBOT_REMIND_NAMES=true: the group is told 李四 has not finished and
    // 王五 never joined; 张三 finished; a branch without a roster hears nothing of it.
    assert!(bot.stop().await.success());
    env.set_var("BRANCHBOT_REMIND_NAMES", "true");
    let mut bot = launch(&api, &env).await;
    env.set_now(at("2026-04-01T01:00:00Z"));
    api.wait_for_text(GROUP_1, "第2期党务业务测试开始了", WAIT)
        .await;
    env.execute(&finish(2)).await;
    let mark = api.mark();
    env.set_now(at("2026-04-07T01:00:00Z"));
    let notice = api
        .wait_for_text_since(mark, GROUP_1, "按名册应参加", WAIT)
        .await;
    let text = &notice.plain_text;
    for expected in [
        "第一党支部：第2期党务业务测试将于",
        "按名册应参加 3 人，已完成 1 人。",
        "未完成（已加入，尚未交卷）1 人：李四",
        "未加入（从未使用机器人）1 人：王五",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(!text.contains("张三") && !text.contains("8000"), "{text}");
    assert_scheduler_quiet(&api, &env, mark, GROUP_2, |m| {
        m.plain_text.contains("按名册应参加")
    })
    .await;
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// A secretary's roster checked before the organisation imported that branch's roster cannot
/// be confirmed afterwards: it would undo the organisation's change unseen.
#[tokio::test]
async fn a_branch_upload_checked_before_an_organisation_import_is_stale() {
    let env = TestEnv::new().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 * 2099");
    let (api, env, mut bot) = world(env).await;
    let mark = api.mark();
    api.push_document(
        GROUP_ADMIN,
        GROUP_1,
        "名册.xlsx",
        &branch_sheet(&roster()),
        Some("/roster"),
    );
    let pending = api
        .wait_for_text_since(mark, GROUP_1, "检查通过", WAIT)
        .await;

    env.advance(chrono::Duration::minutes(5));
    let rows = vec![(
        "第一党支部",
        person("陈一", Status::Full, Some(Duty::Secretary)),
    )];
    let summary = send_sheet(&api, ADMIN_A, "城关镇名册.xlsx", &org_sheet(&rows)).await;
    let mark = api.mark();
    press_label(&api, ADMIN_A, &summary, ot::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, ADMIN_A, "组织批量名册已导入", WAIT)
        .await;
    assert_eq!(people_in(&env, 1).await, 1);

    let answer = press_label(&api, GROUP_ADMIN, &pending, rt::BUTTON_CONFIRM).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_CHANGED_SINCE));
    assert_eq!(
        people_in(&env, 1).await,
        1,
        "the organisation's roster stands"
    );
    assert!(bot.stop().await.success());
}
