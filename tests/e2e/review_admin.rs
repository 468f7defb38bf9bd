//! End-to-end review of the administrator's paths: question-bank uploads gone wrong, rounds and
//! reports with odd arguments, round results when branches and members moved, and the command
//! line's errors. Run through the compiled bot and the fake Bot API.

use branchbot::texts::common as ct;
use branchbot::texts::rounds as rt;
use rust_xlsxwriter::Workbook;

use crate::support::*;

const ADMIN: i64 = 1001;
const MEMBER_1: i64 = 1002;
const GROUP_1: i64 = -2001;

const GOOD_TOML: &str = r#"
[[question]]
id = "rv-001"
kind = "判断"
category = "组织设置"
text = "正式党员3人以上的单位应当成立党支部。"
answer = "对"
explanation = "党章第三十条。"
source = "党章 第三十条"

[[question]]
id = "rv-002"
kind = "单选"
category = "党费"
text = "党费按什么计算？"
options = ["税后工资", "税前工资", "奖金"]
answer = "A"
explanation = "按税后工资收入计算。"
source = "党费规定 第一条"
"#;

fn workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "题号", "题型", "分类", "题干", "选项A", "选项B", "答案", "解析", "出处",
    ];
    let row = [
        "xl-001",
        "单选",
        "党费",
        "党费按什么计算？",
        "税后工资",
        "税前工资",
        "A",
        "按税后工资收入计算。",
        "党费规定 第一条",
    ];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
        sheet.write_string(1, col as u16, row[col]).unwrap();
    }
    book.save_to_buffer().unwrap()
}

async fn active_questions(env: &TestEnv) -> i64 {
    env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
        .await
}

#[tokio::test]
async fn broken_uploads_are_explained_and_change_nothing() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER_1, "王一", None);
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1]);
    let env = TestEnv::new().super_admins(&[ADMIN]);
    let mut bot = launch(&api, &env).await;
    let before = active_questions(&env).await;

    // A TOML file with a syntax error: the line and a Chinese hint.
    let mark = api.mark();
    let broken = GOOD_TOML.replace("answer = \"A\"", "answer = \"A");
    api.push_document(ADMIN, ADMIN, "题库.toml", broken.as_bytes(), None);
    let reply = api
        .wait_for_text_since(mark, ADMIN, "未做任何更改", WAIT)
        .await;
    assert!(
        reply.plain_text.contains("TOML 语法错误") && reply.plain_text.contains("题库.toml:17"),
        "{}",
        reply.plain_text
    );

    // A text file renamed to .xlsx.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "改名的.xlsx", GOOD_TOML.as_bytes(), None);
    api.wait_for_text_since(mark, ADMIN, "未做任何更改", WAIT)
        .await;

    // An empty .xlsx.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "空的.xlsx", b"", None);
    api.wait_for_text_since(mark, ADMIN, "未做任何更改", WAIT)
        .await;

    // A TOML file that is not UTF-8 (GBK, as Windows Notepad may save it).
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "gbk.toml", &[0xb5, 0xb3, 0xd5, 0xc2], None);
    api.wait_for_text_since(mark, ADMIN, "UTF-8", WAIT).await;

    // No extension at all.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "题库", GOOD_TOML.as_bytes(), None);
    api.wait_for_text_since(mark, ADMIN, "只接受 .toml 文件或 .xlsx 表格", WAIT)
        .await;

    // Six megabytes.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "大.toml", &vec![b'#'; 6 * 1024 * 1024], None);
    api.wait_for_text_since(mark, ADMIN, "文件太大", WAIT).await;

    // A valid bank from someone who is not an administrator.
    let mark = api.mark();
    api.push_document(MEMBER_1, MEMBER_1, "题库.toml", GOOD_TOML.as_bytes(), None);
    api.wait_for_text_since(mark, MEMBER_1, ct::REFUSE_ADMIN, WAIT)
        .await;

    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads").await,
        0
    );
    assert_eq!(active_questions(&env).await, before);

    // An upper-case extension is a valid upload.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "题库.XLSX", &workbook(), None);
    let summary = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    assert!(summary.callback_data("确认").is_some());
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads").await,
        1
    );

    // A bank file sent into a group: no upload, nothing changes, the bot keeps working (it
    // answers /help), and it tells the administrator that uploads go to the private chat
    // (issue 15, defect 7) — once, and nothing else.
    let mark = api.mark();
    api.push_document(ADMIN, GROUP_1, "题库.toml", GOOD_TOML.as_bytes(), None);
    api.wait_for_text_since(mark, GROUP_1, rt::NOT_PRIVATE_DOCUMENT, WAIT)
        .await;
    assert_quiet_until_reply(
        &api,
        &env,
        mark,
        FollowUp::help(ADMIN, GROUP_1),
        GROUP_1,
        |m| m.plain_text != rt::NOT_PRIVATE_DOCUMENT,
    )
    .await;
    assert_eq!(count_containing(&api, GROUP_1, rt::NOT_PRIVATE_DOCUMENT), 1);
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads").await,
        1
    );
    assert_eq!(active_questions(&env).await, before);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn an_upload_confirmed_twice_at_once_after_a_restart_applies_once() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    let env = TestEnv::new().super_admins(&[ADMIN]);
    let mut bot = launch(&api, &env).await;

    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "题库.toml", GOOD_TOML.as_bytes(), None);
    let summary = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    let confirm = summary.callback_data("确认").unwrap();

    bot.restart().await;
    bot.wait_until_polling().await;

    let first = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let second = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let a = api.wait_for_callback_answer(&first, WAIT).await;
    let b = api.wait_for_callback_answer(&second, WAIT).await;
    let mut texts = [a.text.unwrap_or_default(), b.text.unwrap_or_default()];
    texts.sort();
    let mut expected = [
        rt::ALERT_APPLIED.to_owned(),
        rt::ALERT_DONE_ALREADY.to_owned(),
    ];
    expected.sort();
    assert_eq!(texts, expected);
    api.wait_for_text_since(mark, ADMIN, "题库已替换", WAIT)
        .await;
    settle(&api, &env, &FollowUp::help(ADMIN, ADMIN)).await;
    assert_eq!(active_questions(&env).await, 2);
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads WHERE applied_at IS NOT NULL")
            .await,
        1
    );
    let replaced = api
        .messages_since(mark)
        .into_iter()
        .filter(|m| m.chat_id == ADMIN && m.plain_text.contains("题库已替换"))
        .count();
    assert_eq!(replaced, 1);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn odd_arguments_to_rounds_report_and_overdue_get_usage() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    let env = TestEnv::new()
        .super_admins(&[ADMIN])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *");
    let mut bot = launch(&api, &env).await;
    for (command, needle) in [
        ("/rounds open please", "用法"),
        ("/rounds 1 2 3", "用法"),
        ("/report", "还没有任何一期测试"),
        ("/report 0", "用法"),
        ("/report 99999999999999999999", "用法"),
        ("/report -1", "用法"),
        ("/report 7", "没有第 7 期"),
        ("/report 第三期", "没有第 3 期"),
        ("/report 第三四期", "用法"),
        ("/overdue -5", "用法"),
        ("/overdue 99999", "用法"),
        ("/overdue abc", "用法"),
    ] {
        let mark = api.mark();
        api.push_text(ADMIN, ADMIN, command);
        let got = api.wait_for_text_since(mark, ADMIN, needle, WAIT).await;
        eprintln!("{command} -> {}", got.plain_text);
    }
    assert!(bot.stop().await.success());
}

/// A bank of two: `rv-001` 判断 and `rv-002` 单选 with three options.
fn small_bank_env() -> TestEnv {
    let env = TestEnv::new()
        .super_admins(&[ADMIN])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 10 2 3 *")
        .var("BRANCHBOT_QUESTIONS_PER_TEST", 2);
    let bank_dir = env.dir().join("bank");
    std::fs::create_dir_all(&bank_dir).unwrap();
    std::fs::write(bank_dir.join("bank.toml"), GOOD_TOML).unwrap();
    env.questions_dir(&bank_dir)
}

/// The same ids with other kinds and option counts, as an editor might reuse them.
const REUSED_IDS_TOML: &str = r#"
[[question]]
id = "rv-001"
kind = "单选"
category = "组织设置"
text = "改写后的第一题"
options = ["甲", "乙", "丙", "丁"]
answer = "B"
explanation = "改写。"
source = "党章 第三十条"

[[question]]
id = "rv-002"
kind = "单选"
category = "党费"
text = "改写后的第二题"
options = ["甲", "乙"]
answer = "B"
explanation = "改写。"
source = "党费规定 第一条"
"#;

#[tokio::test]
async fn a_test_in_progress_survives_a_confirmed_upload_that_changes_its_questions() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER_1, "王一", None);
    api.add_private_chat(MEMBER_1);
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1]);
    let env = small_bank_env();
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;
    env.eventually_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open'", 1)
        .await;
    let code = env.join_code(GROUP_1).await;
    api.push_text(MEMBER_1, MEMBER_1, &format!("/join {code}"));
    api.wait_for_text(MEMBER_1, "你已加入", WAIT).await;
    api.push_text(MEMBER_1, MEMBER_1, "/test");
    let question = api
        .wait_for_message(
            MEMBER_1,
            |m| {
                m.buttons().iter().any(|b| {
                    b.callback_data
                        .as_deref()
                        .is_some_and(|d| d.starts_with("a:1:0:"))
                })
            },
            WAIT,
        )
        .await;

    // Meanwhile the administrator uploads a bank that reuses both ids for other questions:
    // warned at once, and refused on confirming while the test runs.
    let mark = api.mark();
    api.push_document(
        ADMIN,
        ADMIN,
        "新题库.toml",
        REUSED_IDS_TOML.as_bytes(),
        None,
    );
    let summary = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    assert!(
        summary.plain_text.contains("进行中的测试正在使用")
            && summary.plain_text.contains("rv-001、rv-002"),
        "{}",
        summary.plain_text
    );
    let confirm = summary.callback_data("确认").unwrap();
    let press = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let refused = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(
        (refused.text.as_deref(), refused.show_alert),
        (Some(rt::ALERT_IN_USE), true)
    );
    api.wait_for_text_since(mark, ADMIN, "最多 30 分钟", WAIT)
        .await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE text LIKE '改写%'")
            .await,
        0
    );

    // The trainee answers the question on the screen: the test goes on.
    let press = api.push_callback(MEMBER_1, MEMBER_1, question.message_id, "a:1:0:0");
    let answer = api.wait_for_callback_answer(&press, WAIT).await;
    assert!(!answer.show_alert, "{answer:?}");
    api.wait_for_message(
        MEMBER_1,
        |m| {
            m.buttons().iter().any(|b| {
                b.callback_data
                    .as_deref()
                    .is_some_and(|d| d.starts_with("a:1:1:"))
            })
        },
        WAIT,
    )
    .await;

    // Once the test is over (here: its time limit), the same button applies the upload.
    env.advance(chrono::Duration::minutes(31));
    env.eventually_i64(
        "SELECT COUNT(*) FROM attempts WHERE status = 'in_progress'",
        0,
    )
    .await;
    let press = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let applied = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(applied.text.as_deref(), Some(rt::ALERT_APPLIED));
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE text LIKE '改写%'")
            .await,
        2
    );
    assert!(bot.stop().await.success());
}

const MEMBER_2: i64 = 1003;
const MEMBER_3: i64 = 1004;
const GROUP_2: i64 = -2002;
const GROUP_3: i64 = -2003;

/// Inserts a finished attempt of round 1 for `user` in the branch they belong to now.
async fn finished_attempt(env: &TestEnv, user: i64, score: i64) {
    env.execute(&format!(
        "INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, finished_at,
                               status, question_count, correct_count, score)
         SELECT 1, user_id, branch_id, 0, 0, 1, 'finished', 2, 2, {score}
         FROM members WHERE user_id = {user}"
    ))
    .await;
}

#[tokio::test]
async fn round_results_count_a_member_who_moved_once_and_skip_an_unbound_branch() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    for (id, name) in [(MEMBER_1, "王一"), (MEMBER_2, "王二"), (MEMBER_3, "王三")] {
        api.add_user(id, name, None);
        api.add_private_chat(id);
    }
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1, MEMBER_2]);
    api.add_group(GROUP_2, "二支部群", &[ADMIN], &[MEMBER_1, MEMBER_3]);
    api.add_group(GROUP_3, "三支部群", &[ADMIN], &[]);
    // The calendar opens round 1 at the clock's start (Monday 2 March 2026, 10:00).
    let env = small_bank_env();
    let mut bot = launch(&api, &env).await;
    for (group, name) in [
        (GROUP_1, "第一党支部"),
        (GROUP_2, "第二党支部"),
        (GROUP_3, "第三党支部"),
    ] {
        bind(&api, ADMIN, group, &format!("{name} 机关")).await;
        api.wait_for_text(group, "第1期党务业务测试开始了", WAIT)
            .await;
    }
    let (code_1, code_2) = (env.join_code(GROUP_1).await, env.join_code(GROUP_2).await);
    for (member, code) in [
        (MEMBER_1, &code_1),
        (MEMBER_2, &code_1),
        (MEMBER_3, &code_2),
    ] {
        let mark = api.mark();
        api.push_text(member, member, &format!("/join {code}"));
        api.wait_for_text_since(mark, member, "你已加入", WAIT)
            .await;
    }
    // 王一 finishes for the first branch, then moves to the second; the third branch is
    // unbound mid-round.
    finished_attempt(&env, MEMBER_1, 80).await;
    let mark = api.mark();
    api.push_text(MEMBER_1, MEMBER_1, &format!("/join {code_2}"));
    api.wait_for_text_since(mark, MEMBER_1, "转入", WAIT).await;
    api.push_text(ADMIN, GROUP_3, "/unbind");
    api.wait_for_text_since(mark, GROUP_3, "解除", WAIT).await;

    // A day before closing: only those who have not finished are reminded.
    let mark = api.mark();
    env.set_now(at("2026-03-08T02:00:00Z"));
    api.wait_for_text_since(mark, MEMBER_2, "将于", WAIT).await;
    api.wait_for_text_since(mark, MEMBER_3, "将于", WAIT).await;
    assert_scheduler_quiet(&api, &env, mark, MEMBER_1, |m| {
        m.plain_text.contains("将于")
    })
    .await;

    // Closing: 王一 counts once, for the branch he finished for.
    let mark = api.mark();
    env.set_now(at("2026-03-09T02:00:00Z"));
    let first = api
        .wait_for_text_since(mark, GROUP_1, "第1期党务业务测试已结束", WAIT)
        .await;
    let second = api
        .wait_for_text_since(mark, GROUP_2, "第1期党务业务测试已结束", WAIT)
        .await;
    assert!(
        first.plain_text.contains("1/2 人完成"),
        "{}",
        first.plain_text
    );
    assert!(
        second.plain_text.contains("应参加 1 人，按已加入人数统计"),
        "{}",
        second.plain_text
    );
    assert_scheduler_quiet(&api, &env, mark, GROUP_3, |_| true).await;

    // The administrator's report agrees: 1/2 in the first branch, 0/1 in the second.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/report 1");
    let summary = api.wait_for_text_since(mark, ADMIN, "参加人数", WAIT).await;
    eprintln!("{}", summary.plain_text);
    assert!(
        summary.plain_text.contains("第一党支部（机关）：参加 1/2"),
        "{}",
        summary.plain_text
    );
    assert!(
        summary
            .plain_text
            .contains("第二党支部（机关）：无人参加（0/1）"),
        "{}",
        summary.plain_text
    );
    assert!(
        summary.plain_text.contains("参加人数：1/3"),
        "{}",
        summary.plain_text
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_bank_smaller_than_a_test_is_announced_as_it_is_and_warned_about() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[]);
    // Twenty questions per test (the default) from a bank of two.
    let env = small_bank_env().var("BRANCHBOT_QUESTIONS_PER_TEST", 20);
    let mut bot = launch(&api, &env).await;
    api.push_text(ADMIN, GROUP_1, "/bind 第一党支部 机关");
    let announcement = api
        .wait_for_text(GROUP_1, "第1期党务业务测试开始了", WAIT)
        .await;
    assert!(
        announcement.plain_text.contains("共 2 题"),
        "{}",
        announcement.plain_text
    );

    let mark = api.mark();
    let one = &GOOD_TOML[..GOOD_TOML.find("[[question]]\nid = \"rv-002\"").unwrap()];
    api.push_document(ADMIN, ADMIN, "一题.toml", one.as_bytes(), None);
    let summary = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    assert!(
        summary
            .plain_text
            .contains("只有 1 题，少于每次测试抽取的 20 题"),
        "{}",
        summary.plain_text
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_round_opened_by_hand_just_before_the_calendar_is_not_followed_by_a_one_hour_round() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER_1, "王一", None);
    api.add_private_chat(MEMBER_1);
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1]);
    // Sunday 15 March 2026, 20:00 in Shanghai: the calendar opens the next round at 09:00 on
    // the 16th.
    let env = small_bank_env().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1,16 * *");
    env.set_now(at("2026-03-16T00:00:00Z"));
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;

    // An hour early, the administrator opens the round by hand: it runs to the 23rd, 08:00.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "已开启第1期测试", WAIT)
        .await;
    api.wait_for_text_since(mark, GROUP_1, "第1期党务业务测试开始了", WAIT)
        .await;

    // The 09:00 opening falls inside it; when round 1 closes, no round of one hour follows.
    env.set_now(at("2026-03-23T00:00:00Z"));
    api.wait_for_text_since(mark, GROUP_1, "第1期党务业务测试已结束", WAIT)
        .await;
    assert_scheduler_quiet(&api, &env, mark, GROUP_1, |m| {
        m.plain_text.contains("第2期")
    })
    .await;
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM rounds").await, 1);
    // The calendar goes on as usual: 1 April.
    env.set_now(at("2026-04-01T01:00:00Z"));
    let next = api
        .wait_for_text_since(mark, GROUP_1, "第2期党务业务测试开始了", WAIT)
        .await;
    assert!(
        next.plain_text.contains("2026年4月8日"),
        "{}",
        next.plain_text
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_report_of_a_round_closed_early_by_hand_shows_when_it_closed() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER_1, "王一", None);
    api.add_private_chat(MEMBER_1);
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1]);
    let env = small_bank_env().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *");
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;
    let code = env.join_code(GROUP_1).await;
    api.push_text(MEMBER_1, MEMBER_1, &format!("/join {code}"));
    api.wait_for_text(MEMBER_1, "你已加入", WAIT).await;

    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "已开启第1期测试", WAIT)
        .await;
    finished_attempt(&env, MEMBER_1, 100).await;
    // Closed by hand the next day, six days early.
    env.set_now(at("2026-03-03T02:00:00Z"));
    api.push_text(ADMIN, ADMIN, "/rounds close");
    api.wait_for_text_since(mark, ADMIN, "已结束第1期测试", WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/report");
    let summary = api.wait_for_text_since(mark, ADMIN, "测试时间", WAIT).await;
    assert!(
        summary
            .plain_text
            .contains("2026年3月2日 10:00 至 2026年3月3日 10:00"),
        "{}",
        summary.plain_text
    );
    assert!(bot.stop().await.success());
}
