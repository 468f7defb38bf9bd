//! End-to-end: the whole path of issue 10 — a roster is uploaded, people join by phone and by the
//! secretary's confirmation, a round runs, and the reports count 应参加 against 实参加 with
//! 未加入 and 未参加 listed apart: the group's result at close, the group's /report, and the
//! administrator's summary and workbook.

use crate::reports::sheet_rows;
use crate::roster::{person, push_contact, sheet, upload_roster};
use crate::support::*;
use branchbot::domain::roster::{Duty, Status};
use branchbot::texts::reports as t;
use branchbot::texts::roster as rt;

const ADMIN: i64 = 1000;
const SECRETARY: i64 = 1001;
const ZHANG: i64 = 3001;
const LI: i64 = 3002;
const GROUP: i64 = -2001;
const PHONE: &str = "13800138000";

/// Two 判断 questions a test: every question has the same two buttons.
const BANK: &str = r#"
[[question]]
id = "rr-001"
kind = "判断"
category = "组织设置"
text = "某单位有 2 名正式党员和 2 名预备党员，已满足单独成立党支部的人数条件。"
answer = "错"
explanation = "成立党支部要求有正式党员 3 人以上（党章第三十条、支部条例第四条），预备党员不计入。"
source = "党章 第三十条；支部条例 第四条"

[[question]]
id = "rr-002"
kind = "判断"
category = "组织设置"
text = "党支部是党的基础组织。"
answer = "对"
explanation = "党章第三十四条：党支部是党的基础组织。"
source = "党章 第三十四条"
"#;

/// Five due for the test (a 职务 each), one who is not (no 职务): 张三 has a phone number.
fn roster_sheet() -> Vec<u8> {
    let full = |name: &str, duty| person(name, Status::Full, duty);
    let mut zhang = full("张三", Some(Duty::Secretary));
    zhang.phone = Some(PHONE.to_owned());
    sheet(&[
        zhang,
        full("李四", Some(Duty::Organisation)),
        full("王五", Some(Duty::Propaganda)),
        full("赵六", Some(Duty::Discipline)),
        full("周九", Some(Duty::Worker)),
        full("钱七", None),
    ])
}

/// Takes the test: `/test`, then the first button of each question as it comes.
async fn take_test(api: &FakeApi, env: &TestEnv, user: i64, questions: i64) {
    api.push_text(user, user, "/test");
    env.eventually_i64(
        &format!("SELECT COUNT(*) FROM attempts WHERE user_id = {user}"),
        1,
    )
    .await;
    let attempt: i64 = env
        .query_i64(&format!("SELECT id FROM attempts WHERE user_id = {user}"))
        .await;
    for position in 0..questions {
        let data = format!("a:{attempt}:{position}:0");
        let msg = api
            .wait_until("the question's buttons", WAIT, |api| {
                api.messages_in(user).into_iter().rev().find(|m| {
                    m.buttons()
                        .iter()
                        .any(|b| b.callback_data.as_deref() == Some(data.as_str()))
                })
            })
            .await;
        press(api, user, &msg, &data).await;
    }
    env.eventually_i64(
        &format!("SELECT COUNT(*) FROM attempts WHERE user_id = {user} AND status = 'finished'"),
        1,
    )
    .await;
}

#[tokio::test]
async fn a_round_against_the_roster_reports_due_took_never_joined_and_not_taken() {
    let api = FakeApi::start().await;
    api.add_user(ADMIN, "组织部张", "zhangbu");
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(ZHANG, "张三", None);
    api.add_user(LI, "小李", None);
    for user in [ADMIN, SECRETARY, ZHANG, LI] {
        api.add_private_chat(user);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[ZHANG, LI]);
    // No calendar round: the administrator opens and closes the round by hand.
    let env = TestEnv::new()
        .super_admins(&[ADMIN])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 * 2099")
        .var("BRANCHBOT_QUESTIONS_PER_TEST", 2);
    let bank_dir = env.dir().join("bank");
    std::fs::create_dir_all(&bank_dir).unwrap();
    std::fs::write(bank_dir.join("bank.toml"), BANK).unwrap();
    let env = env.questions_dir(&bank_dir);
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;

    upload_roster(&api, SECRETARY, GROUP, &roster_sheet()).await;

    // 张三 joins and links by his phone; 小李 claims 李四 and the secretary confirms.
    let code = env.join_code(GROUP).await;
    let mark = api.mark();
    api.push_text(ZHANG, ZHANG, &format!("/join {code}"));
    api.wait_for_text_since(mark, ZHANG, "选择你在名册中的姓名", WAIT)
        .await;
    push_contact(&api, ZHANG, PHONE, Some(ZHANG), 900_001);
    api.wait_for_text_since(mark, ZHANG, "名册中的“张三”", WAIT)
        .await;
    let mark = api.mark();
    api.push_text(LI, LI, &format!("/join {code}"));
    let names = api
        .wait_for_text_since(mark, LI, "选择你在名册中的姓名", WAIT)
        .await;
    press_label(&api, LI, &names, "李四").await;
    let request = api
        .wait_for_text_since(mark, GROUP, "申请认领名册中的“李四”", WAIT)
        .await;
    press_label(&api, SECRETARY, &request, rt::BUTTON_CLAIM_OK).await;
    api.wait_for_text_since(mark, LI, "名册中的“李四”", WAIT)
        .await;

    // A round: 张三 takes the test, 小李 (李四) does not.
    let opened = ask(&api, ADMIN, ADMIN, "/rounds open").await;
    assert!(
        opened.plain_text.contains("已开启"),
        "{}",
        opened.plain_text
    );
    take_test(&api, &env, ZHANG, 2).await;
    let mark = api.mark();
    ask(&api, ADMIN, ADMIN, "/rounds close").await;

    // The group's result at close: 1 of the 5 due, by roster.
    let result = api
        .wait_for_text_since(mark, GROUP, "第1期党务业务测试已结束", WAIT)
        .await;
    assert!(
        result.plain_text.contains("1/5 人完成") && result.plain_text.contains("按党员名册"),
        "{}",
        result.plain_text
    );
    let group_view = ask(&api, SECRETARY, GROUP, "/report").await;
    assert!(
        group_view.plain_text.contains("1/5")
            && group_view.plain_text.contains(t::BRANCH_BY_ROSTER),
        "{}",
        group_view.plain_text
    );

    // The administrator's summary and workbook.
    let mark = api.mark();
    api.push_text(ADMIN, ADMIN, "/report");
    let summary = api.wait_for_text_since(mark, ADMIN, "未加入", WAIT).await;
    assert!(
        summary.plain_text.contains(&t::never_joined_line(3)),
        "{}",
        summary.plain_text
    );
    let workbook = api
        .wait_for_document(ADMIN, |d| d.file_name.ends_with(".xlsx"), WAIT)
        .await;
    let branches = sheet_rows(&workbook.bytes, t::SHEET_BRANCHES);
    let header = &branches[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = &branches[1];
    assert_eq!(row[col(t::COL_MEMBERS)], "5");
    assert_eq!(row[col(t::COL_PARTICIPANTS)], "1");
    assert_eq!(row[col(t::COL_BASIS)], t::BASIS_ROSTER);
    let names = |sheet: &str| -> Vec<String> {
        sheet_rows(&workbook.bytes, sheet)[1..]
            .iter()
            .map(|r| r[1].clone())
            .collect()
    };
    assert_eq!(names(t::SHEET_NON_PARTICIPANTS), ["李四"]);
    let mut never = names(t::SHEET_NEVER_JOINED);
    never.sort();
    let mut expected = vec!["周九".to_owned(), "王五".to_owned(), "赵六".to_owned()];
    expected.sort();
    assert_eq!(never, expected, "钱七 is not due, so not listed");

    // No phone number reached the group or the administrator's files.
    for m in api.messages_in(GROUP) {
        assert!(!m.plain_text.contains("8000"), "{}", m.plain_text);
    }
    for f in api.documents_in(ADMIN) {
        assert!(
            !String::from_utf8_lossy(&f.bytes).contains(PHONE),
            "{}",
            f.file_name
        );
    }
    assert!(bot.stop().await.success());
}
