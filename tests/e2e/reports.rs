//! End-to-end: reports through the compiled bot and the fake Bot API (an administrator's
//! /report with its files, a plain user's refusal, a group's own-branch view, /overdue), and
//! the `branchbot report` command line. The database is seeded directly before the bot starts.

use std::io::Cursor;

use branchbot::texts::common as ct;
use branchbot::texts::report_replies as rt;
use branchbot::texts::reports as t;
use calamine::{Data, Reader, Xlsx};

use crate::support::*;

const ADMIN: i64 = 1001;
const MEMBER: i64 = 1002;
const GROUP_A: i64 = -2001;
const GROUP_B: i64 = -2002;

/// Two branches; round 2 (closed) is the one reported, round 3 is open and empty.
///
/// ```text
///   branch        members                       round 2 scores
///   第一党支部    王党员 1002, 张三 3001, 李四 3002   王党员 90, 张三 70 (李四 absent)
///   第二党支部    赵五 3003, 钱六 3004           赵五 40 (timed out; 钱六 absent)
/// ```
/// 第一党支部: 2/3 took part, average 80.0. Overall 3/5, average (90 + 70 + 40) / 3 = 66.7.
const SEED: &str = "
INSERT INTO users (id, full_name, created_at) VALUES
  (1002, '王党员', 0), (3001, '张三', 0), (3002, '李四', 0), (3003, '赵五', 0), (3004, '钱六', 0);
INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at) VALUES
  (1, -2001, '第一党支部', '社区', 'codeA', 1, 0, 0),
  (2, -2002, '第二党支部', '学校', 'codeB', 1, 0, 0);
INSERT INTO members (user_id, branch_id, joined_at) VALUES
  (1002, 1, 0), (3001, 1, 0), (3002, 1, 0), (3003, 2, 0), (3004, 2, 0);
INSERT INTO questions (id, kind, category, text, options, answer, explanation, source, updated_at) VALUES
  ('rpt-1', '单选', '党章', '报告测试题一', '[\"甲\",\"乙\"]', '[0]', '', '', 0),
  ('rpt-2', '判断', '党费', '报告测试题二', '[\"对\",\"错\"]', '[0]', '', '', 0);
INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) VALUES
  (1, 1769907600, 1770512400, 'closed', 1770512400),
  (2, 1771117200, 1771722000, 'closed', 1771722000),
  (3, 1772326800, 1772931600, 'open', NULL);
INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                      question_count, correct_count, score) VALUES
  (1, 1, 1002, 1, 1769910000, 1769911800, 1769910600, 'finished', 2, 1, 50),
  (2, 2, 1002, 1, 1771120000, 1771121800, 1771120600, 'finished', 2, 2, 90),
  (3, 2, 3001, 1, 1771120000, 1771121800, 1771120900, 'finished', 2, 1, 70),
  (4, 2, 3003, 2, 1771120000, 1771121800, 1771121800, 'timed_out', 2, 1, 40);
INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, is_correct) VALUES
  (1, 0, 'rpt-1', '01', 1), (1, 1, 'rpt-2', '01', 0),
  (2, 0, 'rpt-1', '01', 1), (2, 1, 'rpt-2', '01', 1),
  (3, 0, 'rpt-1', '01', 1), (3, 1, 'rpt-2', '01', 0),
  (4, 0, 'rpt-1', '01', 1), (4, 1, 'rpt-2', '01', NULL);
INSERT INTO terms (branch_id, elected_on, years, ends_on, created_at) VALUES
  (2, '2022-12-01', 3, '2025-12-01', 0);
";

/// A seeded database and the environment to run the bot or the CLI on it. The calendar opens
/// rounds only on 1 January, so nothing opens by itself during the test.
async fn seeded_env() -> TestEnv {
    let env = TestEnv::new()
        .super_admins(&[ADMIN])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *");
    env.seed_database(SEED).await;
    env
}

async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(MEMBER, "王党员", "wang");
    api.add_private_chat(ADMIN);
    api.add_private_chat(MEMBER);
    api.add_group(GROUP_A, "第一党支部群", &[], &[MEMBER]);
    api.add_group(GROUP_B, "第二党支部群", &[], &[]);
    let env = seeded_env().await;
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    let workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable workbook");
    workbook.sheet_names().to_vec()
}

/// The rows of a sheet as strings, for comparing with what the test expects.
pub(crate) fn sheet_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable workbook");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV files start with a UTF-8 BOM"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn an_administrator_gets_the_summary_the_workbook_the_csvs_and_the_chart() {
    let (api, _env, mut bot) = world().await;

    api.push_text(ADMIN, ADMIN, "/report");
    let title = t::round_title(2);
    let summary = api.wait_for_text(ADMIN, &title, WAIT).await;
    assert!(summary.plain_text.contains("3/5"), "{}", summary.plain_text);
    assert!(
        summary.plain_text.contains("66.7"),
        "{}",
        summary.plain_text
    );
    assert!(
        summary.plain_text.contains("第一党支部"),
        "{}",
        summary.plain_text
    );

    let workbook = api
        .wait_for_document(ADMIN, |d| d.file_name == rt::workbook_file_name(2), WAIT)
        .await;
    let sheets = sheet_names(&workbook.bytes);
    for sheet in [
        t::SHEET_OVERVIEW,
        t::SHEET_BRANCHES,
        t::SHEET_TRAINEES,
        t::SHEET_NON_PARTICIPANTS,
    ] {
        assert!(sheets.iter().any(|s| s == sheet), "{sheets:?}");
    }
    let branches = sheet_rows(&workbook.bytes, t::SHEET_BRANCHES);
    // The organisation path comes first: every branch of an upgraded deployment is at the root.
    assert_eq!(branches[0][0], t::COL_ORG_LEVELS[0]);
    assert_eq!(branches[1][0], "上级党组织");
    assert_eq!(branches[1][1], "第一党支部");
    assert_eq!(&branches[1][3..5], ["3", "2"]);
    let kinds = sheet_rows(&workbook.bytes, t::SHEET_KINDS);
    assert_eq!(kinds[1][0], "社区", "{kinds:?}");
    let absent = sheet_rows(&workbook.bytes, t::SHEET_NON_PARTICIPANTS);
    let names: Vec<&str> = absent[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, vec!["李四", "钱六"]);

    let photo = api.wait_for_photo(ADMIN, REPORT_WAIT).await;
    assert!(
        photo.bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the chart is a PNG"
    );
    let csvs: Vec<SentFile> = api
        .documents_in(ADMIN)
        .into_iter()
        .filter(|d| d.file_name.ends_with(".csv"))
        .collect();
    assert_eq!(
        csvs.len(),
        10,
        "one CSV per table: the roll-ups and 未加入 included"
    );
    assert!(
        csvs.iter().all(|d| d.media_group_id.is_some()),
        "sent as one album"
    );
    let branches_csv = csvs
        .iter()
        .find(|d| d.file_name == "round-2-branches.csv")
        .expect("the branch table as CSV");
    let rows = csv_rows(&branches_csv.bytes);
    assert_eq!(rows[0][0], t::COL_ORG_LEVELS[0]);
    assert_eq!(rows[0][1], t::COL_BRANCH);
    assert_eq!(rows[2][1], "第二党支部");
    assert_eq!(rows[2][6], "40.0");
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_summary_too_long_for_a_few_messages_comes_as_its_first_part_and_a_page() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_private_chat(ADMIN);
    let env = seeded_env().await;
    // 400 more branches: the per-branch lines alone fill several messages.
    env.seed_database(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
         INSERT INTO branches (chat_id, name, kind, join_code, created_at, updated_at)
         SELECT -100000 - i, '第' || i || '号社区居民委员会党支部', '社区', 'many' || i, 0, 0 FROM n",
    )
    .await;
    let mut bot = launch(&api, &env).await;

    api.push_text(ADMIN, ADMIN, "/report");
    api.wait_for_text(ADMIN, rt::SUMMARY_CUT, WAIT).await;
    let page = api
        .wait_for_document(ADMIN, |d| d.file_name == rt::summary_file_name(2), WAIT)
        .await;
    let page = String::from_utf8(page.bytes).unwrap();
    assert!(
        page.contains("第400号社区居民委员会党支部"),
        "the page has every branch"
    );
    api.wait_for_photo(ADMIN, REPORT_WAIT).await;
    settle(&api, &env, &FollowUp::help(ADMIN, ADMIN)).await;
    let messages = api.messages_in(ADMIN);
    let summary: Vec<&SentMessage> = messages
        .iter()
        .filter(|m| m.plain_text.contains(&t::round_title(2)))
        .collect();
    assert_eq!(
        summary.len(),
        1,
        "only the first part goes out as a message"
    );
    assert!(messages.iter().all(|m| m.text.chars().count() <= 4096));
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn bad_and_unknown_rounds_and_an_empty_round_get_clear_replies_without_files() {
    let (api, env, mut bot) = world().await;
    api.push_text(ADMIN, ADMIN, "/report abc");
    api.wait_for_text(ADMIN, "用法：/report", WAIT).await;
    api.push_text(ADMIN, ADMIN, "/report 第9期");
    api.wait_for_text(ADMIN, &rt::no_such_round(9), WAIT).await;
    api.push_text(ADMIN, ADMIN, "/report 3");
    api.wait_for_text(ADMIN, &t::empty_round(3), WAIT).await;
    assert_quiet_until_reply(&api, &env, 0, FollowUp::help(ADMIN, ADMIN), ADMIN, |m| {
        m.plain_text.contains(&t::round_title(3))
    })
    .await;
    assert!(api.documents_in(ADMIN).is_empty());
    assert!(api.photos_in(ADMIN).is_empty());
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_plain_user_is_refused_and_a_group_sees_only_its_own_branch() {
    let (api, env, mut bot) = world().await;

    api.push_text(MEMBER, MEMBER, "/report");
    api.wait_for_text(MEMBER, ct::REFUSE_ADMIN, WAIT).await;
    api.push_text(MEMBER, MEMBER, "/overdue");
    let refusals = api
        .wait_for_message_count(MEMBER, 2, WAIT)
        .await
        .into_iter()
        .filter(|m| m.text == ct::REFUSE_ADMIN)
        .count();
    assert_eq!(refusals, 2);

    api.push_text(MEMBER, GROUP_A, "/report");
    let view = api
        .wait_for_text(GROUP_A, &t::branch_title(2, "第一党支部"), WAIT)
        .await;
    assert!(view.plain_text.contains("2/3"), "{}", view.plain_text);
    assert!(view.plain_text.contains("80.0"), "{}", view.plain_text);
    for private in ["王党员", "张三", "李四", "第二党支部", "90", "70"] {
        assert!(
            !view.plain_text.contains(private),
            "{private} in {}",
            view.plain_text
        );
    }
    // No file follows, in the group or privately.
    settle(&api, &env, &FollowUp::help(MEMBER, GROUP_A)).await;
    follow_up(&api, &FollowUp::help(MEMBER, MEMBER)).await;
    assert!(api.documents_in(GROUP_A).is_empty());
    assert!(api.photos_in(GROUP_A).is_empty());
    assert!(api.documents_in(MEMBER).is_empty());
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn overdue_lists_the_branch_past_its_term() {
    let (api, _env, mut bot) = world().await;
    api.push_text(ADMIN, ADMIN, "/overdue 30");
    let reply = api.wait_for_text(ADMIN, t::OVERDUE_ELECTIONS, WAIT).await;
    // 第二党支部's term ended 2025-12-01; the clock shows 2026-03-02: 91 days.
    assert!(
        reply.plain_text.contains("第二党支部"),
        "{}",
        reply.plain_text
    );
    assert!(reply.plain_text.contains("91"), "{}", reply.plain_text);
    api.push_text(ADMIN, ADMIN, "/overdue 很久");
    api.wait_for_text(ADMIN, "用法：/overdue", WAIT).await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_command_line_writes_xlsx_csv_and_text() {
    let env = seeded_env().await;
    let xlsx_path = env.dir().join("out.xlsx");
    let out = run_cli(
        &[
            "report",
            "--round",
            "2",
            "--format",
            "xlsx",
            "--out",
            xlsx_path.to_str().unwrap(),
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&xlsx_path).unwrap();
    let trainees = sheet_rows(&bytes, t::SHEET_TRAINEES);
    assert_eq!(trainees.len(), 4, "header and three trainees: {trainees:?}");

    let csv_dir = env.dir().join("csv");
    let out = run_cli(
        &[
            "report",
            "--format",
            "csv",
            "--out",
            csv_dir.to_str().unwrap(),
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let overview = std::fs::read(csv_dir.join("round-2-overview.csv")).unwrap();
    let rows = csv_rows(&overview);
    assert_eq!(rows[1], vec![t::OVERVIEW_ROUND.to_owned(), "2".to_owned()]);
    let files = std::fs::read_dir(&csv_dir).unwrap().count();
    assert_eq!(files, 10);

    // `--org` limits the report to a subtree; an unknown organisation is a clear refusal.
    let out = run_cli(&["report", "--org", "上级党组织", "--format", "text"], &env);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("第二党支部"));
    let out = run_cli(&["report", "--org", "不存在的党委"], &env);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("没有找到组织“不存在的党委”"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run_cli(&["report", "--format", "text"], &env);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&t::round_title(2)), "{stdout}");
    assert!(
        !stdout.contains("<b>"),
        "plain text on a terminal: {stdout}"
    );

    let out = run_cli(&["report", "--round", "99"], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("99"), "{stderr}");
}
