//! End-to-end: the bank's quality loop through the compiled bot and the fake Bot API — an
//! uploaded bank's item-writing warnings in the upload summary, `/bank` listing the questions
//! a closed round's analysis flags, and a test draw that skips the trainee's previous round and
//! never asks one fact twice. Rounds and answers are seeded in the database once the bot has
//! loaded its bank.

use std::fmt::Write as _;
use std::time::Duration;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);
const ADMIN: i64 = 1001;
const TRAINEE: i64 = 1002;
const GROUP: i64 = -2001;

/// One question in the TOML format; distinct stems keep them apart for the similarity check.
fn question(id: &str, category: &str, text: &str) -> String {
    format!(
        r#"
[[question]]
id = "{id}"
kind = "单选"
category = "{category}"
text = "{text}"
options = ["甲方案", "乙方案", "丙方案", "丁方案"]
answer = "B"
explanation = "条例这样规定。"
source = "支部条例 第十条"
"#
    )
}

/// A bank directory holding `questions` as one file.
fn bank_dir(env: &TestEnv, questions: &[String]) -> std::path::PathBuf {
    let dir = env.dir().join("questions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bank.toml"), questions.concat()).unwrap();
    dir
}

/// The calendar opens rounds only on 1 January, so nothing opens by itself during the test.
fn quiet_env() -> TestEnv {
    TestEnv::new()
        .super_admins(&[ADMIN])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *")
}

#[tokio::test]
async fn an_uploaded_bank_with_cues_is_accepted_with_its_warnings_listed() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_private_chat(ADMIN);
    let env = quiet_env();
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;

    let upload = r#"
[[question]]
id = "up-001"
kind = "多选"
category = "组织生活"
text = "党支部组织生活包括哪些形式？"
options = ["党员大会", "支部委员会会议", "党小组会", "党课"]
answer = "ABCD"
explanation = "三会一课。"
source = "支部条例 第十九条"
"#;
    let mark = api.mark();
    api.push_document(ADMIN, ADMIN, "题库.toml", upload.as_bytes(), None);
    let reply = api.wait_for_text_since(mark, ADMIN, "检查通过", WAIT).await;
    let text = &reply.plain_text;
    assert!(text.contains("出题提醒 1 条"), "{text}");
    assert!(text.contains("up-001：多选题所有选项都正确"), "{text}");
    // A warning does not block: the upload can still be confirmed.
    assert!(reply.callback_data("确认").is_some(), "{text}");
    assert!(bot.stop().await.success());
}

/// Users 1..=40 of one branch took round 1; `right(user, question)` says who got what right.
fn round_seed(questions: &[&str], right: impl Fn(i64, &str) -> bool) -> String {
    let mut sql = String::from(
        "INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at)
           VALUES (1, -2001, '第一党支部', '社区', 'codeA', 1, 0, 0);
         INSERT INTO rounds (id, opens_at, closes_at, status, closed_at)
           VALUES (1, 1771117200, 1771722000, 'closed', 1771722000);\n",
    );
    for user in 1..=40i64 {
        let uid = 5000 + user;
        let correct = questions.iter().filter(|q| right(user, q)).count();
        let _ = writeln!(
            sql,
            "INSERT INTO users (id, full_name, created_at) VALUES ({uid}, '学员{user}', 0);
             INSERT INTO members (user_id, branch_id, joined_at) VALUES ({uid}, 1, 0);
             INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at,
                                   finished_at, status, question_count, correct_count, score)
               VALUES ({user}, 1, {uid}, 1, 1771120000, 1771121800, 1771120600, 'finished',
                       {}, {correct}, 50);",
            questions.len()
        );
        for (position, id) in questions.iter().enumerate() {
            let ok = i64::from(right(user, id));
            let _ = writeln!(
                sql,
                "INSERT INTO attempt_questions (attempt_id, position, question_id, option_order,
                                                chosen, is_correct)
                   VALUES ({user}, {position}, '{id}', '0123', '1', {ok});"
            );
        }
    }
    sql
}

#[tokio::test]
async fn bank_lists_the_questions_a_closed_round_flags_with_their_figures() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_private_chat(ADMIN);
    let env = quiet_env();
    let dir = bank_dir(
        &env,
        &[
            question("q-easy", "党费", "党员每月交纳党费的计算基数是什么"),
            question("q-hard", "换届选举", "支部委员会任期届满前多久提出换届申请"),
            question("q-mid", "组织生活", "民主评议党员通常在每年什么时候开展"),
            question(
                "q-later",
                "发展党员",
                "入党积极分子培养考察的最短时间是多久",
            ),
        ],
    );
    let env = env.questions_dir(&dir);
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;

    // Before any round has closed, /bank has no analysis to show.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/bank");
    let reply = api.wait_for_text_since(mark, ADMIN, "当前题库", WAIT).await;
    assert!(
        !reply.plain_text.contains("题目分析"),
        "{}",
        reply.plain_text
    );

    // Everyone got q-easy; four of forty got q-hard; q-mid splits the class along q-hard.
    let seed = round_seed(&["q-easy", "q-hard", "q-mid"], |user, id| match id {
        "q-easy" => true,
        "q-hard" => user <= 4,
        _ => user <= 20,
    });
    sqlx::raw_sql(&seed).execute(&env.db().await).await.unwrap();

    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/bank");
    let reply = api.wait_for_text_since(mark, ADMIN, "当前题库", WAIT).await;
    let text = &reply.plain_text;
    assert!(
        text.contains("需要改写的题目（第1期测试题目分析标记，共 2 道）"),
        "{text}"
    );
    assert!(
        text.contains("q-easy（党费）答对率 100.0%（40/40），区分度 —：过于容易"),
        "{text}"
    );
    assert!(
        text.contains("q-hard（换届选举）答对率 10.0%（4/40），区分度 0.33：过难"),
        "{text}"
    );
    assert!(
        !text.contains("q-mid") && !text.contains("q-later"),
        "{text}"
    );
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn a_draw_skips_the_previous_round_and_asks_one_fact_once() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhang");
    api.add_user(TRAINEE, "王党员", "wang");
    api.add_private_chat(TRAINEE);
    api.add_group(GROUP, "第一党支部群", &[ADMIN], &[TRAINEE]);
    let env = quiet_env().var("BRANCHBOT_QUESTIONS_PER_TEST", 3);
    // s-4 and s-5 ask the same fact in nearly the same words.
    let dir = bank_dir(
        &env,
        &[
            question("s-1", "党费", "党员每月交纳党费的计算基数是什么"),
            question("s-2", "换届选举", "支部委员会任期届满前多久提出换届申请"),
            question("s-3", "组织生活", "民主评议党员通常在每年什么时候开展"),
            question("s-4", "发展党员", "入党积极分子培养考察的最短时间是多久"),
            question("s-5", "发展党员", "入党积极分子培养考察的最短时间为多久"),
            question(
                "s-6",
                "组织设置",
                "正式党员不足三人的单位应当怎样设立党组织",
            ),
        ],
    );
    let env = env.questions_dir(&dir);
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;

    // The trainee's previous round drew s-1, s-2 and s-3; round 2 is open now.
    let seed = "
        INSERT INTO users (id, full_name, created_at) VALUES (1002, '王党员', 0);
        INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at)
          VALUES (1, -2001, '第一党支部', '社区', 'codeA', 1, 0, 0);
        INSERT INTO members (user_id, branch_id, joined_at) VALUES (1002, 1, 0);
        INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) VALUES
          (1, 1771117200, 1771722000, 'closed', 1771722000),
          (2, 1772326800, 1772931600, 'open', NULL);
        INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at,
                              finished_at, status, question_count, correct_count, score)
          VALUES (1, 1, 1002, 1, 1771120000, 1771121800, 1771120600, 'finished', 3, 3, 100);
        INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, chosen,
                                       is_correct)
          VALUES (1, 0, 's-1', '0123', '1', 1), (1, 1, 's-2', '0123', '1', 1),
                 (1, 2, 's-3', '0123', '1', 1);";
    sqlx::raw_sql(seed).execute(&env.db().await).await.unwrap();

    let mark = api.mark();
    api.push_text(TRAINEE, TRAINEE, "/test");
    api.wait_for_text_since(mark, TRAINEE, "业务测试开始", WAIT)
        .await;
    let drawn: Vec<String> = sqlx::query_scalar(
        "SELECT question_id FROM attempt_questions aq JOIN attempts a ON a.id = aq.attempt_id
         WHERE a.round_id = 2 ORDER BY question_id",
    )
    .fetch_all(&env.db().await)
    .await
    .unwrap();
    // Three unseen questions remain, but s-4 and s-5 are one fact: s-6, one of those two, and
    // one question of the previous round.
    assert_eq!(drawn.len(), 3, "{drawn:?}");
    assert!(drawn.contains(&"s-6".to_owned()), "{drawn:?}");
    let same_fact = drawn
        .iter()
        .filter(|id| *id == "s-4" || *id == "s-5")
        .count();
    assert_eq!(same_fact, 1, "{drawn:?}");
    let seen = drawn
        .iter()
        .filter(|id| ["s-1", "s-2", "s-3"].contains(&id.as_str()))
        .count();
    assert_eq!(seen, 1, "{drawn:?}");
    assert!(bot.stop().await.success());
}

#[test]
fn questions_check_prints_warnings_fails_on_them_with_strict_and_prints_stats() {
    let env = TestEnv::new();
    let mut dependent = question("d-1", "党费", "党员交纳党费的标准还包括哪一项");
    dependent.push_str(&question(
        "d-2",
        "换届选举",
        "支部委员会任期届满前多久提出换届申请",
    ));
    let dir = bank_dir(&env, &[dependent]);
    let dir = dir.to_str().unwrap();

    let plain = run_cli(&["questions", "check", dir], &env);
    let stdout = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.status.success(), "{stdout}");
    assert!(stdout.contains("d-1：题干含“还包括”"), "{stdout}");

    let strict = run_cli(&["questions", "check", "--strict", dir], &env);
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(!strict.status.success(), "{stderr}");
    assert!(
        stderr.contains("d-1：题干含“还包括”") && stderr.contains("--strict"),
        "{stderr}"
    );

    let stats = run_cli(&["questions", "check", "--stats", dir], &env);
    let stdout = String::from_utf8_lossy(&stats.stdout);
    assert!(stats.status.success(), "{stdout}");
    // The options are of equal length, so no question is judged for "longest".
    assert!(
        stdout.contains("最长选项即答案（单选，全部）：0/0"),
        "{stdout}"
    );
    assert!(stdout.contains("多选题：全部选项正确 0/0"), "{stdout}");

    // Without warnings --strict passes.
    let clean = bank_dir(
        &env,
        &[question("c-1", "党费", "党员每月交纳党费的计算基数是什么")],
    );
    let clean = run_cli(
        &["questions", "check", "--strict", clean.to_str().unwrap()],
        &env,
    );
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
}
