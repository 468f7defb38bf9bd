//! End-to-end: the test calendar and the administrators' question-bank upload, through the
//! compiled bot and the fake Bot API, with the clock moved by the test.

use branchbot::texts::common as ct;
use branchbot::texts::rounds as rt;
use rust_xlsxwriter::Workbook;

use crate::support::*;

const ADMIN: i64 = 1001;
const SECRETARY_2: i64 = 1011;
const MEMBER_1: i64 = 1002;
const MEMBER_2: i64 = 1003;
const MEMBER_3: i64 = 1004;
const GROUP_1: i64 = -2001;
const GROUP_2: i64 = -2002;

/// The join code in a round announcement's deep link `https://t.me/<bot>?start=t_<code>`.
fn code_in_link(url: &str) -> String {
    let prefix = format!("https://t.me/{BOT_USERNAME}?start=t_");
    url.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not a test deep link: {url}"))
        .to_owned()
}

#[tokio::test]
async fn a_round_opens_by_the_calendar_reminds_the_unfinished_and_posts_results() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(SECRETARY_2, "二支书记", "shuji2");
    for (id, name) in [(MEMBER_1, "王一"), (MEMBER_2, "王二"), (MEMBER_3, "王三")] {
        api.add_user(id, name, None);
    }
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[MEMBER_1, MEMBER_2]);
    api.add_group(GROUP_2, "二支部群", &[SECRETARY_2], &[MEMBER_3]);
    // Tuesday 10 March 2026, 10:00 in Shanghai: the 1 March round's window ended on the 8th.
    let env = TestEnv::new().super_admins(&[ADMIN]);
    env.set_now(at("2026-03-10T02:00:00Z"));
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;
    bind(&api, SECRETARY_2, GROUP_2, "第二党支部 农村").await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM rounds").await,
        0,
        "no window was open at start"
    );

    // 16 March, 09:00: round 1 opens and every branch group gets the announcement.
    env.set_now(at("2026-03-16T01:00:00Z"));
    let mut codes = Vec::new();
    for (group, branch) in [(GROUP_1, "第一党支部"), (GROUP_2, "第二党支部")] {
        let announcement = api
            .wait_for_text(group, "第1期党务业务测试开始了", WAIT)
            .await;
        assert!(
            announcement.plain_text.contains(branch),
            "{}",
            announcement.plain_text
        );
        assert!(
            announcement.plain_text.contains("2026年3月23日"),
            "closes a week later: {}",
            announcement.plain_text
        );
        let buttons = announcement.buttons();
        assert_eq!(buttons.len(), 1, "{buttons:?}");
        let code = code_in_link(buttons[0].url.as_deref().expect("a URL button"));
        assert_eq!(code, env.join_code(group).await);
        codes.push(code);
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM rounds WHERE status = 'open' AND opened_by IS NULL")
            .await,
        1
    );

    // Members join with the codes the buttons carry.
    for (member, code) in [
        (MEMBER_1, &codes[0]),
        (MEMBER_2, &codes[0]),
        (MEMBER_3, &codes[1]),
    ] {
        api.push_text(member, member, &format!("/join {code}"));
        api.wait_for_text(member, "你已加入", WAIT).await;
    }
    // Member 1 and member 3 finish the test (scores 90 and 70); member 2 does not.
    env.execute("INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, finished_at, status, question_count, correct_count, score)
         SELECT 1, m.user_id, m.branch_id, 0, 0, 1, 'finished', 20, m.user_id % 100, CASE m.user_id WHEN 1002 THEN 90 ELSE 70 END
         FROM members m WHERE m.user_id IN (1002, 1004)",
    )
    .await;

    // 22 March, 09:00, a day before closing: only member 2 is reminded, privately.
    env.set_now(at("2026-03-22T01:00:00Z"));
    let reminder = api
        .wait_for_text(MEMBER_2, "第1期党务业务测试将于", WAIT)
        .await;
    assert!(
        reminder.plain_text.contains("2026年3月23日"),
        "{}",
        reminder.plain_text
    );
    assert_eq!(
        reminder.callback_data(rt::REMINDER_BUTTON).as_deref(),
        Some("st")
    );
    for finished in [MEMBER_1, MEMBER_3] {
        assert_scheduler_quiet(&api, &env, 0, finished, |m| m.plain_text.contains("将于")).await;
    }

    // 23 March, 09:00: the round closes and each group gets participation and average only.
    env.set_now(at("2026-03-23T01:00:00Z"));
    let first = api
        .wait_for_text(GROUP_1, "第1期党务业务测试已结束", WAIT)
        .await;
    assert!(
        first.plain_text.contains("1/2 人完成") && first.plain_text.contains("平均分 90.0"),
        "{}",
        first.plain_text
    );
    let second = api
        .wait_for_text(GROUP_2, "第1期党务业务测试已结束", WAIT)
        .await;
    assert!(
        second.plain_text.contains("1/1 人完成") && second.plain_text.contains("平均分 70.0"),
        "{}",
        second.plain_text
    );
    for text in [&first.plain_text, &second.plain_text] {
        assert!(
            !text.contains("王一") && !text.contains("王二") && !text.contains("王三"),
            "no names: {text}"
        );
    }
    assert_eq!(
        env.query_i64(
            "SELECT COUNT(*) FROM rounds WHERE status = 'closed' AND closed_at IS NOT NULL"
        )
        .await,
        1
    );

    // /rounds tells the administrator what happened and what comes next.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds");
    let overview = api.wait_for_text_since(mark, ADMIN, "测试日历", WAIT).await;
    for needle in [
        "第1期",
        "已结束",
        "完成 2 人",
        "2026年4月1日",
        "2026年4月16日",
        "2026年5月1日",
        "7 天",
    ] {
        assert!(
            overview.plain_text.contains(needle),
            "{needle} in {}",
            overview.plain_text
        );
    }
    // Trainees may not.
    let mark = api.mark();
    api.push_text(MEMBER_1, MEMBER_1, "/rounds open");
    api.wait_for_text_since(mark, MEMBER_1, ct::REFUSE_ADMIN, WAIT)
        .await;
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM rounds").await, 1);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn rounds_open_and_close_by_hand() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_group(GROUP_1, "一支部群", &[ADMIN], &[]);
    let env = TestEnv::new().super_admins(&[ADMIN]);
    env.set_now(at("2026-03-10T02:00:00Z"));
    let mut bot = launch(&api, &env).await;
    bind(&api, ADMIN, GROUP_1, "第一党支部 机关").await;

    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/rounds close");
    api.wait_for_text_since(mark, ADMIN, rt::NONE_OPEN, WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "已开启第1期测试", WAIT)
        .await;
    api.wait_for_text(GROUP_1, "第1期党务业务测试开始了", WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/rounds open");
    api.wait_for_text_since(mark, ADMIN, "不能同时开启两期", WAIT)
        .await;
    api.push_text(ADMIN, ADMIN, "/rounds 随便");
    api.wait_for_text_since(mark, ADMIN, "用法：", WAIT).await;
    api.push_text(ADMIN, ADMIN, "/rounds close");
    api.wait_for_text_since(mark, ADMIN, "已结束第1期测试", WAIT)
        .await;
    let result = api
        .wait_for_text(GROUP_1, "第1期党务业务测试已结束", WAIT)
        .await;
    assert!(
        result.plain_text.contains("无人完成"),
        "{}",
        result.plain_text
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM rounds WHERE status = 'closed' AND opened_by = 1001")
            .await,
        1
    );
    assert!(bot.stop().await.success());
}

/// An Excel bank as FORMAT.md documents it: a title row, then the header, then one row each.
fn workbook(rows: &[[&str; 11]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "党务知识题库（测试）").unwrap();
    let header = [
        "题号", "题型", "分类", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "出处",
    ];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(1, col as u16, *name).unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        for (col, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(i as u32 + 2, col as u16, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const GOOD_ROWS: [[&str; 11]; 3] = [
    [
        "up-001",
        "单选",
        "党费",
        "党员每月缴纳党费的比例按什么计算？",
        "税后工资收入",
        "税前工资",
        "奖金",
        "全部收入",
        "A",
        "按每月工资收入（税后）计算。",
        "党费规定 第一条",
    ],
    [
        "up-002",
        "判断",
        "组织设置",
        "正式党员3人以上的单位应当成立党支部。",
        "",
        "",
        "",
        "",
        "对",
        "党章规定，凡是有正式党员三人以上的，都应当成立党的基层组织。",
        "党章 第三十条",
    ],
    [
        "up-003",
        "多选",
        "组织生活",
        "“三会一课”包括下列哪些？",
        "支部党员大会",
        "支部委员会",
        "党小组会",
        "党课",
        "ABCD",
        "三会一课即支部党员大会、支部委员会、党小组会和党课。",
        "支部条例 第十九条",
    ],
];

#[tokio::test]
async fn an_excel_upload_is_checked_then_confirmed_and_survives_a_restart() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER_1, "王一", None);
    let env = TestEnv::new().super_admins(&[ADMIN]);
    let mut bot = launch(&api, &env).await;
    let before = env
        .query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
        .await;
    assert!(before > 100, "the repository bank is loaded: {before}");

    // Not an administrator: refused.
    let mark = api.mark();
    api.push_document(MEMBER_1, MEMBER_1, "题库.xlsx", &workbook(&GOOD_ROWS), None);
    api.wait_for_text_since(mark, MEMBER_1, ct::REFUSE_ADMIN, WAIT)
        .await;
    // Another kind of file: told what is accepted.
    api.push_document(ADMIN, ADMIN, "题库.docx", b"PK not a bank", None);
    api.wait_for_text_since(mark, ADMIN, "只接受 .toml 文件或 .xlsx 表格", WAIT)
        .await;

    // Too big: refused before downloading.
    let big = vec![0u8; 5 * 1024 * 1024 + 1];
    api.push_document(ADMIN, ADMIN, "大题库.xlsx", &big, None);
    api.wait_for_text_since(mark, ADMIN, "文件太大", WAIT).await;
    assert!(api.calls_to("getFile").is_empty());

    // A sheet with errors: every error with its Excel row, and nothing changes.
    let mut bad = GOOD_ROWS;
    bad[0][8] = "E"; // row 3: no option E
    bad[2][9] = ""; // row 5: no explanation
    api.push_document(ADMIN, ADMIN, "有错的题库.xlsx", &workbook(&bad), None);
    let errors = api
        .wait_for_text_since(mark, ADMIN, "未做任何更改", WAIT)
        .await;
    assert!(
        errors.plain_text.contains("第3行") && errors.plain_text.contains("第5行"),
        "{}",
        errors.plain_text
    );
    assert!(
        errors.plain_text.contains("2 处错误"),
        "{}",
        errors.plain_text
    );
    assert!(errors.buttons().is_empty());
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM pending_uploads").await,
        0
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        before
    );

    // A good sheet: the summary, the differences and the buttons.
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "新题库.xlsx", &workbook(&GOOD_ROWS), None);
    let summary = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    for needle in [
        "题库共 3 题",
        "单选 1",
        "多选 1",
        "判断 1",
        "党费 1",
        "新增 3 题",
        &format!("停用 {before} 题"),
        "整体替换",
    ] {
        assert!(
            summary.plain_text.contains(needle),
            "{needle} in {}",
            summary.plain_text
        );
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        before,
        "not yet"
    );
    let confirm = summary.callback_data("确认").expect("a confirm button");

    // Someone else's press changes nothing.
    let press = api.push_callback(MEMBER_1, ADMIN, summary.message_id, &confirm);
    let answer = api.wait_for_callback_answer(&press, WAIT).await;
    assert!(answer.show_alert);
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        before
    );

    // The administrator confirms: the bank is replaced, the old questions retired, not deleted.
    let press = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let answer = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_APPLIED));
    let done = api
        .wait_for_text_since(mark, ADMIN, "题库已替换", WAIT)
        .await;
    assert!(
        done.plain_text.contains("当前题库共 3 题"),
        "{}",
        done.plain_text
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        3
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 1")
            .await,
        before
    );
    // Only once.
    let press = api.push_callback(ADMIN, ADMIN, summary.message_id, &confirm);
    let again = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(
        (again.text.as_deref(), again.show_alert),
        (Some(rt::ALERT_DONE_ALREADY), true)
    );

    // /bank shows the uploaded bank and the restart rule.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/bank");
    let bank = api.wait_for_text_since(mark, ADMIN, "当前题库", WAIT).await;
    for needle in ["题库共 3 题", "新题库.xlsx", "重启后", "整体替换"] {
        assert!(
            bank.plain_text.contains(needle),
            "{needle} in {}",
            bank.plain_text
        );
    }

    // A restart with questions/ unchanged keeps the upload.
    bot.restart().await;
    bot.wait_until_polling().await;
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        3
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0 AND id LIKE 'up-%'")
            .await,
        3
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn an_older_or_cancelled_upload_cannot_be_confirmed() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    let env = TestEnv::new().super_admins(&[ADMIN]);
    let mut bot = launch(&api, &env).await;
    let before = env
        .query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
        .await;

    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "第一份.xlsx", &workbook(&GOOD_ROWS), None);
    let first = api
        .wait_for_text_since(mark, ADMIN, "第一份.xlsx 检查通过", WAIT)
        .await;
    api.push_document(
        ADMIN,
        ADMIN,
        "第二份.xlsx",
        &workbook(&GOOD_ROWS[..2]),
        None,
    );
    let second = api
        .wait_for_text_since(mark, ADMIN, "第二份.xlsx 检查通过", WAIT)
        .await;
    let (confirm_second, cancel_second) = (
        second.callback_data("确认").unwrap(),
        second.callback_data("取消").unwrap(),
    );

    let press = api.push_callback(
        ADMIN,
        ADMIN,
        first.message_id,
        &first.callback_data("确认").unwrap(),
    );
    let stale = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(
        (stale.text.as_deref(), stale.show_alert),
        (Some(rt::ALERT_NOT_NEWEST), true)
    );

    let press = api.push_callback(ADMIN, ADMIN, second.message_id, &cancel_second);
    api.wait_for_callback_answer(&press, WAIT).await;
    api.wait_for_text_since(mark, ADMIN, rt::UPLOAD_CANCELLED, WAIT)
        .await;
    let press = api.push_callback(ADMIN, ADMIN, second.message_id, &confirm_second);
    let cancelled = api.wait_for_callback_answer(&press, WAIT).await;
    assert_eq!(cancelled.text.as_deref(), Some(rt::ALERT_DONE_ALREADY));
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM questions WHERE retired = 0")
            .await,
        before
    );
    assert!(bot.stop().await.success());
}
