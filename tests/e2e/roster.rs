//! Rosters end to end, through the compiled bot and the fake Bot API: a secretary uploads a
//! roster in the branch group and confirms it, people join and are linked by their verified
//! phone number or by name with the secretary's confirmation, `/status` shows the election
//! arithmetic, and every bad sheet, forged press, foreign contact and second claim is refused
//! with nothing stored.

use branchbot::domain::roster::{Duty, Person, Status};
use branchbot::roster::sheet::Layout;
use branchbot::roster::template;
use branchbot::texts::common as ct;
use branchbot::texts::roster as rt;
use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;
use serde_json::json;

use crate::support::*;

const SECRETARY: i64 = 1001;
const ZHANG: i64 = 3001;
const LI: i64 = 3002;
const STRANGER: i64 = 3003;
const GROUP: i64 = -2001;
const PHONE: &str = "13800138000";

pub(crate) fn person(name: &str, status: Status, duty: Option<Duty>) -> Person {
    Person {
        name: name.to_owned(),
        status,
        duty,
        phone: None,
        takes_test: None,
        joined_on: None,
        full_on: None,
        on_probation: false,
    }
}

/// Seven 正式党员 (one under 留党察看), a 预备党员 whose 预备期 ended in January and an
/// 入党积极分子: 张三 has a phone number, nobody else does.
fn roster() -> Vec<Person> {
    let mut zhang = person("张三", Status::Full, Some(Duty::Secretary));
    zhang.phone = Some(PHONE.to_owned());
    let mut probation = person("钱七", Status::Full, None);
    probation.on_probation = true;
    let mut due = person("孙八", Status::Probationary, None);
    due.joined_on = NaiveDate::from_ymd_opt(2025, 1, 10);
    vec![
        zhang,
        person("李四", Status::Full, Some(Duty::Organisation)),
        person("王五", Status::Full, Some(Duty::Propaganda)),
        person("赵六", Status::Full, None),
        probation,
        person("周九", Status::Full, None),
        person("吴十", Status::Full, None),
        due,
        person("郑十一", Status::Activist, None),
    ]
}

/// A branch's roster sheet, as the template lays it out.
pub(crate) fn sheet(people: &[Person]) -> Vec<u8> {
    let rows: Vec<(&str, &Person)> = people.iter().map(|p| ("", p)).collect();
    template::filled(Layout::Branch, &rows).unwrap()
}

/// A contact message from `from` in their private chat: Telegram fills `user_id` with the
/// sender's own id for the request_contact button; a forwarded card carries another.
pub(crate) fn push_contact(
    api: &FakeApi,
    from: i64,
    phone: &str,
    owner: Option<i64>,
    message_id: i64,
) {
    let mut contact = json!({ "phone_number": phone, "first_name": "名片" });
    if let Some(owner) = owner {
        contact["user_id"] = json!(owner);
    }
    api.push_raw_update(
        "message",
        json!({
            "message_id": message_id,
            "from": { "id": from, "is_bot": false, "first_name": format!("U{from}") },
            "chat": { "id": from, "type": "private", "first_name": format!("U{from}") },
            "date": 1_772_416_800,
            "contact": contact,
        }),
    );
}

/// No round opens during these tests: their group replies are the only group messages.
fn quiet_calendar() -> TestEnv {
    TestEnv::new().var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 * 2099")
}

async fn links(env: &TestEnv) -> i64 {
    env.query_i64("SELECT COUNT(*) FROM roster_links").await
}

#[tokio::test]
async fn upload_confirm_status_and_reminder() {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    for (id, name) in [(ZHANG, "张三"), (LI, "小李"), (STRANGER, "路人")] {
        api.add_user(id, name, None);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[ZHANG, LI, STRANGER]);
    // The secretary administers the organisation too, for /overdue.
    let env = quiet_calendar().super_admins(&[SECRETARY]);
    api.add_private_chat(SECRETARY);
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;

    // No roster yet: /roster says how to make one, /status that participation counts joiners.
    let reply = ask(&api, SECRETARY, GROUP, "/roster").await;
    assert!(
        reply.plain_text.contains("还没有党员名册"),
        "{}",
        reply.plain_text
    );
    let status = ask(&api, SECRETARY, GROUP, "/status").await;
    assert!(
        status.plain_text.contains("按已加入人数统计"),
        "{}",
        status.plain_text
    );

    // The template comes as a file that reads back as an empty roster.
    api.push_text(SECRETARY, GROUP, "/roster template");
    let file = api
        .wait_for_document(GROUP, |f| f.file_name == rt::TEMPLATE_FILE, WAIT)
        .await;
    let empty = branchbot::roster::sheet::parse(&file.bytes, Layout::Branch).unwrap_err();
    assert_eq!(
        empty[0].problem,
        branchbot::roster::sheet::Problem::NoPeople
    );

    // Only the group's administrators may upload.
    let reply = ask(&api, STRANGER, GROUP, "/roster upload").await;
    assert_eq!(reply.plain_text, ct::REFUSE_GROUP_ADMIN);

    // After /roster upload, the secretary's next sheet is the roster.
    let reply = ask(&api, SECRETARY, GROUP, "/roster upload").await;
    assert!(
        reply.plain_text.contains("10 分钟内"),
        "{}",
        reply.plain_text
    );
    let mark = api.mark();
    api.push_document(SECRETARY, GROUP, "名册.xlsx", &sheet(&roster()), None);
    let summary = api.wait_for_text_since(mark, GROUP, "检查通过", WAIT).await;
    assert!(
        summary.plain_text.contains("新增：9 人"),
        "{}",
        summary.plain_text
    );
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);

    // Forged and foreign presses change nothing.
    let confirm = summary.callback_data(rt::BUTTON_CONFIRM).unwrap();
    let answer = press(&api, STRANGER, &summary, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(ct::REFUSE_GROUP_ADMIN));
    let answer = press(&api, SECRETARY, &summary, "rc:999").await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_GONE));
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);

    let mark = api.mark();
    let answer = press(&api, SECRETARY, &summary, &confirm).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_APPLIED));
    api.wait_for_text_since(mark, GROUP, "名册已导入：新增 9 人", WAIT)
        .await;
    // 孙八's 预备期 ended in January: the group is reminded (once, checked at the end).
    let reminder = api
        .wait_for_text_since(mark, GROUP, "预备期届满提醒", WAIT)
        .await;
    assert!(
        reminder.plain_text.contains("孙八"),
        "{}",
        reminder.plain_text
    );
    let again = press(&api, SECRETARY, &summary, &confirm).await;
    assert_eq!(again.text.as_deref(), Some(rt::ALERT_DONE_ALREADY));
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 9);

    // /status: the arithmetic with its sources. 7 正式党员 (钱七 under 留党察看 has no vote).
    let status = ask(&api, SECRETARY, GROUP, "/status").await;
    let text = &status.plain_text;
    for expected in [
        "有选举权的正式党员：6 人",
        "选举条例 第五条",
        "正式党员 7 人（7 人以上）：应设立支部委员会",
        "即至少 5 人到会",
        "即至少 4 票",
        "应选 3 人至少 4 名候选人",
        "预备期已满一年、名册未登记转正：孙八",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // /overdue names the 预备党员 too, by branch.
    let mark = api.mark();
    api.push_text(SECRETARY, SECRETARY, "/overdue");
    let overdue = api
        .wait_for_text_since(mark, SECRETARY, "名册未登记转正的预备党员", WAIT)
        .await;
    assert!(
        overdue.plain_text.contains("第一党支部：孙八"),
        "{}",
        overdue.plain_text
    );

    // The same roster again: nothing changes, and the 预备期 reminder is not repeated.
    let mark = api.mark();
    api.push_document(
        SECRETARY,
        GROUP,
        "名册.xlsx",
        &sheet(&roster()),
        Some("/roster"),
    );
    let summary = api
        .wait_for_text_since(mark, GROUP, "未变：9 人", WAIT)
        .await;
    press_label(&api, SECRETARY, &summary, rt::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, GROUP, "名册已导入：新增 0 人", WAIT)
        .await;
    scheduler_fence(&api, &env).await;
    assert_eq!(count_containing(&api, GROUP, "预备期届满提醒"), 1);

    // One 正式党员 fewer: six, so no committee; five voters, all five must come (4 of 5 is not
    // more than four fifths).
    let six: Vec<Person> = roster().into_iter().filter(|p| p.name != "吴十").collect();
    let mark = api.mark();
    api.push_document(SECRETARY, GROUP, "名册.xlsx", &sheet(&six), Some("/roster"));
    let summary = api
        .wait_for_text_since(mark, GROUP, "转出：1 人（吴十）", WAIT)
        .await;
    press_label(&api, SECRETARY, &summary, rt::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, GROUP, "转出 1 人", WAIT)
        .await;
    let status = ask(&api, SECRETARY, GROUP, "/status").await;
    for expected in [
        "有选举权的正式党员：5 人",
        "正式党员 6 人（不足 7 人）：不设支部委员会，选举书记 1 人",
        "即至少 5 人到会",
        "即至少 3 票",
    ] {
        assert!(
            status.plain_text.contains(expected),
            "{expected} missing from:\n{}",
            status.plain_text
        );
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM roster_people WHERE left_at IS NOT NULL")
            .await,
        1,
        "吴十 is kept, marked 转出"
    );

    // No phone number ever reached the group.
    for m in api.messages_in(GROUP) {
        assert!(!m.plain_text.contains("8000"), "{}", m.plain_text);
    }
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

/// A bound branch with the roster of [`roster`] uploaded and confirmed by the secretary.
async fn with_roster(api: &FakeApi) {
    upload_roster(api, SECRETARY, GROUP, &sheet(&roster())).await;
}

/// `secretary` sends `sheet` into `group` as the branch's roster and confirms it.
pub(crate) async fn upload_roster(api: &FakeApi, secretary: i64, group: i64, sheet: &[u8]) {
    let mark = api.mark();
    api.push_document(secretary, group, "名册.xlsx", sheet, Some("/roster"));
    let summary = api.wait_for_text_since(mark, group, "检查通过", WAIT).await;
    press_label(api, secretary, &summary, rt::BUTTON_CONFIRM).await;
    api.wait_for_text_since(mark, group, "名册已导入", WAIT)
        .await;
}

#[tokio::test]
async fn join_by_phone_and_by_name_with_the_secretary() {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    for (id, name) in [(ZHANG, "张三"), (LI, "小李"), (STRANGER, "路人")] {
        api.add_user(id, name, None);
    }
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[ZHANG, LI, STRANGER]);
    let env = quiet_calendar();
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;
    with_roster(&api).await;

    // 张三 joins: asked for his phone with Telegram's request_contact keyboard, and offered names.
    let code: String = env.query_one("SELECT join_code FROM branches").await;
    let mark = api.mark();
    api.push_text(ZHANG, ZHANG, &format!("/join {code}"));
    let prompt = api
        .wait_for_text_since(mark, ZHANG, "已导入党员名册", WAIT)
        .await;
    let keyboard = prompt.reply_markup.clone().expect("a reply keyboard");
    assert_eq!(keyboard["keyboard"][0][0]["request_contact"], json!(true));
    let names = api
        .wait_for_text_since(mark, ZHANG, "选择你在名册中的姓名", WAIT)
        .await;
    assert_eq!(names.buttons().len(), 9);

    // Someone else's contact card is refused; his own verified number links him.
    let mark = api.mark();
    push_contact(&api, ZHANG, PHONE, Some(LI), 900_001);
    api.wait_for_text_since(mark, ZHANG, "只能发送你自己的手机号", WAIT)
        .await;
    push_contact(&api, ZHANG, PHONE, None, 900_002);
    api.wait_until("a second refusal", WAIT, |api| {
        (count_containing(api, ZHANG, "只能发送你自己的手机号") == 2).then_some(())
    })
    .await;
    assert_eq!(links(&env).await, 0);
    let mark = api.mark();
    push_contact(&api, ZHANG, "+86 138-0013-8000", Some(ZHANG), 900_003);
    let linked = api
        .wait_for_text_since(mark, ZHANG, "名册中的“张三”", WAIT)
        .await;
    assert_eq!(
        linked.reply_markup.clone().unwrap()["remove_keyboard"],
        json!(true)
    );
    assert_eq!(links(&env).await, 1);

    // 小李 has no number on the roster: she chooses 李四, the secretary confirms in the group.
    let mark = api.mark();
    api.push_text(LI, LI, &format!("/join {code}"));
    let names = api
        .wait_for_text_since(mark, LI, "选择你在名册中的姓名", WAIT)
        .await;
    assert_eq!(names.buttons().len(), 8, "张三 is taken");
    let li_data = names.callback_data("李四").unwrap();
    let mark = api.mark();
    let answer = press(&api, LI, &names, &li_data).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_CLAIM_SENT));
    let request = api
        .wait_for_text_since(mark, GROUP, "申请认领名册中的“李四”", WAIT)
        .await;
    let ok = request.callback_data(rt::BUTTON_CLAIM_OK).unwrap();
    let answer = press(&api, STRANGER, &request, &ok).await;
    assert_eq!(answer.text.as_deref(), Some(ct::REFUSE_GROUP_ADMIN));
    assert_eq!(links(&env).await, 1);
    let mark = api.mark();
    press(&api, SECRETARY, &request, &ok).await;
    let linked = api
        .wait_for_text_since(mark, LI, "名册中的“李四”", WAIT)
        .await;
    assert_eq!(
        linked.reply_markup.clone().unwrap()["remove_keyboard"],
        json!(true)
    );
    api.wait_for_text_since(mark, GROUP, "已确认", WAIT).await;
    assert_eq!(links(&env).await, 2);
    let again = press(&api, SECRETARY, &request, &ok).await;
    assert_eq!(again.text.as_deref(), Some(rt::ALERT_CLAIM_DONE));

    // A stranger cannot claim a linked name, even with the old button's data; a claim the
    // secretary refuses links nothing.
    let mark = api.mark();
    api.push_text(STRANGER, STRANGER, &format!("/join {code}"));
    let names = api
        .wait_for_text_since(mark, STRANGER, "选择你在名册中的姓名", WAIT)
        .await;
    let answer = press(&api, STRANGER, &names, &li_data).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_NAME_TAKEN));
    let wang = names.callback_data("王五").unwrap();
    let mark = api.mark();
    press(&api, STRANGER, &names, &wang).await;
    let request = api
        .wait_for_text_since(mark, GROUP, "申请认领名册中的“王五”", WAIT)
        .await;
    let no = request.callback_data(rt::BUTTON_CLAIM_NO).unwrap();
    let mark = api.mark();
    press(&api, SECRETARY, &request, &no).await;
    api.wait_for_text_since(mark, STRANGER, "没有确认你认领“王五”", WAIT)
        .await;
    assert_eq!(links(&env).await, 2);

    // Unlinking frees the name.
    let reply = ask(&api, SECRETARY, GROUP, "/roster unlink 张三").await;
    assert!(
        reply.plain_text.contains("已解除“张三”"),
        "{}",
        reply.plain_text
    );
    let reply = ask(&api, SECRETARY, GROUP, "/roster unlink 张三").await;
    assert!(
        reply.plain_text.contains("还没有关联"),
        "{}",
        reply.plain_text
    );
    assert_eq!(links(&env).await, 1);

    let overview = ask(&api, SECRETARY, GROUP, "/roster").await;
    assert!(
        overview.plain_text.contains("名册人数：9（其中党员 8）"),
        "{}",
        overview.plain_text
    );
    assert!(
        overview.plain_text.contains("登记了手机号：1 人"),
        "{}",
        overview.plain_text
    );

    // No phone number ever reached the group.
    for m in api.messages_in(GROUP) {
        assert!(!m.plain_text.contains("8000"), "{}", m.plain_text);
    }
    assert_every_call_accepted(&api);
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn bad_sheets_are_refused_and_change_nothing() {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[]);
    let env = quiet_calendar();
    let mut bot = launch(&api, &env).await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;

    let formula = {
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        for (c, h) in branchbot::roster::sheet::HEADERS.iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s.write_string(1, 0, "张三").unwrap();
        s.write_formula(1, 1, "=\"正式\"&\"党员\"").unwrap();
        book.save_to_buffer().unwrap()
    };
    let mut duplicate = roster();
    duplicate.push(duplicate[1].clone());
    let mut org = roster();
    org.truncate(2);
    let org_rows: Vec<(&str, &Person)> = org.iter().map(|p| ("一支部", p)).collect();
    let org_sheet = template::filled(Layout::Organisation, &org_rows).unwrap();
    let big: Vec<Person> = (0..10_000)
        .map(|i| person(&format!("人{i}"), Status::Full, None))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("公式.xlsx", formula, "第 2 行 B 列（身份）：单元格含有公式"),
        (
            "重复.xlsx",
            sheet(&duplicate),
            "第 11 行 A 列（姓名）：姓名与第 3 行重复",
        ),
        ("批量.xlsx", org_sheet, "组织批量名册"),
        ("一万行.xlsx", sheet(&big), "超过上限 5000 行"),
        (
            "名册.xls",
            b"old excel".to_vec(),
            "只接受 Excel 文件（.xlsx）",
        ),
        ("坏文件.xlsx", b"not a zip".to_vec(), "不是有效的 .xlsx"),
    ];
    for (name, bytes, expected) in cases {
        let mark = api.mark();
        api.push_document(SECRETARY, GROUP, name, &bytes, Some("/roster"));
        let reply = api.wait_for_text_since(mark, GROUP, expected, WAIT).await;
        assert!(reply.buttons().is_empty(), "{}", reply.plain_text);
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM roster_uploads").await,
        0
    );
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);

    // A sheet without the caption and without /roster upload is not taken as a roster.
    let mark = api.mark();
    api.push_document(SECRETARY, GROUP, "名单.xlsx", &sheet(&roster()), None);
    assert_quiet_until_reply(
        &api,
        &env,
        mark,
        FollowUp::help(SECRETARY, GROUP),
        GROUP,
        |_| true,
    )
    .await;

    // An older upload cannot be confirmed once a newer one exists.
    let mark = api.mark();
    api.push_document(
        SECRETARY,
        GROUP,
        "一.xlsx",
        &sheet(&roster()),
        Some("/roster"),
    );
    let first = api.wait_for_text_since(mark, GROUP, "检查通过", WAIT).await;
    let mark = api.mark();
    api.push_document(
        SECRETARY,
        GROUP,
        "二.xlsx",
        &sheet(&roster()[..3]),
        Some("/roster"),
    );
    let second = api.wait_for_text_since(mark, GROUP, "检查通过", WAIT).await;
    let answer = press_label(&api, SECRETARY, &first, rt::BUTTON_CONFIRM).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_NOT_NEWEST));
    let answer = press_label(&api, SECRETARY, &second, rt::BUTTON_CANCEL).await;
    assert_eq!(answer.text.as_deref(), Some(rt::ALERT_CANCELLED));
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM roster_people").await, 0);
    assert!(bot.stop().await.success());
}
