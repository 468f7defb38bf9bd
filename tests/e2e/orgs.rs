//! End-to-end: the organisation tree (issue 9) through the compiled bot and the fake Bot API.
//! Scoped reports, the authorisation matrix, escalations to the nearest administrators' group,
//! binding by an organisation's link, and the Excel import of the tree.
//!
//! ```text
//!   1 县委组织部 (root)         admins: ROOT_ADMIN            group: none (config: CONFIG_CHAT)
//!   ├── 2 城关镇党委            admins: ADMIN_A               group: A_CHAT (bound in a test)
//!   │   ├── 3 城关镇机关党总支  admins: ADMIN_AC
//!   │   │   └── 第一党支部 (GROUP_1)  张三 90
//!   │   └── 第二党支部 (GROUP_2)      李四 60
//!   └── 4 河口乡党委            admins: ADMIN_B
//!       └── 第三党支部 (GROUP_3)      王五 30
//! ```

use std::io::Cursor;

use branchbot::texts::common as ct;
use branchbot::texts::orgs as ot;
use calamine::{Data, Reader, Xlsx};

use crate::support::*;

const SUPER: i64 = 1001;
const ROOT_ADMIN: i64 = 1010;
const ADMIN_A: i64 = 1011;
const ADMIN_AC: i64 = 1012;
const ADMIN_B: i64 = 1013;
const MEMBER: i64 = 1002;
const OUTSIDER: i64 = 1003;
const GROUP_ADMIN: i64 = 1004;
const GROUP_1: i64 = -2001;
const GROUP_2: i64 = -2002;
const GROUP_3: i64 = -2003;
const A_CHAT: i64 = -3100;
const CONFIG_CHAT: i64 = -3999;
const NEW_GROUP: i64 = -2009;

const SEED: &str = "
UPDATE organisations SET name = '县委组织部', kind = '组织部' WHERE id = 1;
INSERT INTO organisations (id, name, kind, parent_id, bind_code, created_at, updated_at) VALUES
  (2, '城关镇党委', '党委', 1, 'codeorga', 0, 0),
  (3, '城关镇机关党总支', '党总支', 2, 'codeorgac', 0, 0),
  (4, '河口乡党委', '党委', 1, 'codeorgb', 0, 0);
INSERT INTO users (id, full_name, created_at) VALUES
  (1010, '县管理员', 0), (1011, '城关管理员', 0), (1012, '总支管理员', 0), (1013, '河口管理员', 0),
  (1002, '张三', 0), (1003, '路人', 0), (3001, '李四', 0), (3002, '王五', 0);
INSERT INTO org_admins (user_id, org_id, granted_at) VALUES
  (1010, 1, 0), (1011, 2, 0), (1012, 3, 0), (1013, 4, 0);
INSERT INTO branches (id, chat_id, name, kind, join_code, active, org_id, created_at, updated_at) VALUES
  (1, -2001, '第一党支部', '机关', 'codeA', 1, 3, 0, 0),
  (2, -2002, '第二党支部', '社区', 'codeB', 1, 2, 0, 0),
  (3, -2003, '第三党支部', '农村', 'codeC', 1, 4, 0, 0);
INSERT INTO members (user_id, branch_id, joined_at) VALUES (1002, 1, 0), (3001, 2, 0), (3002, 3, 0);
INSERT INTO questions (id, kind, category, text, options, answer, explanation, source, updated_at) VALUES
  ('org-1', '单选', '党章', '组织测试题', '[\"甲\",\"乙\"]', '[0]', '', '', 0);
INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) VALUES
  (1, 1771117200, 1771722000, 'closed', 1771722000);
INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                      question_count, correct_count, score) VALUES
  (1, 1, 1002, 1, 1771120000, 1771121800, 1771120600, 'finished', 1, 1, 90),
  (2, 1, 3001, 2, 1771120000, 1771121800, 1771120600, 'finished', 1, 1, 60),
  (3, 1, 3002, 3, 1771120000, 1771121800, 1771120600, 'finished', 1, 0, 30);
INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, is_correct) VALUES
  (1, 0, 'org-1', '01', 1), (2, 0, 'org-1', '01', 1), (3, 0, 'org-1', '01', 0);
INSERT INTO round_branch_orgs (round_id, branch_id, org_id) VALUES (1, 1, 3), (1, 2, 2), (1, 3, 4);
";

async fn world() -> (FakeApi, TestEnv, BotProcess) {
    let api = FakeApi::start().await;
    for (id, name) in [
        (SUPER, "超级管理员"),
        (ROOT_ADMIN, "县管理员"),
        (ADMIN_A, "城关管理员"),
        (ADMIN_AC, "总支管理员"),
        (ADMIN_B, "河口管理员"),
        (MEMBER, "张三"),
        (OUTSIDER, "路人"),
        (GROUP_ADMIN, "群管理员"),
    ] {
        api.add_user(id, name, None);
        api.add_private_chat(id);
    }
    api.add_group(GROUP_1, "第一党支部群", &[GROUP_ADMIN], &[MEMBER]);
    api.add_group(GROUP_2, "第二党支部群", &[], &[]);
    api.add_group(GROUP_3, "第三党支部群", &[], &[]);
    api.add_group(A_CHAT, "城关镇管理员群", &[], &[ADMIN_A]);
    api.add_group(CONFIG_CHAT, "县管理员群", &[], &[]);
    api.add_group(NEW_GROUP, "城关镇第五党支部", &[GROUP_ADMIN], &[]);
    let env = TestEnv::new()
        .super_admins(&[SUPER])
        .admin_chat(CONFIG_CHAT)
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *");
    env.seed_database(SEED).await;
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

/// Waits until the report's last file (the chart) reached `chat`: the chat's messages go out
/// one a second, so what is asked next waits behind the report's files.
async fn wait_for_report_files(api: &FakeApi, chat: i64, photos_before: usize) {
    api.wait_until("the report's chart", REPORT_WAIT, |api| {
        (api.photos_in(chat).len() > photos_before).then_some(())
    })
    .await;
}

/// The trainee names in the workbook's 学员 sheet that `/report` sent to `admin`.
async fn report_names(api: &FakeApi, admin: i64) -> (String, Vec<String>) {
    let mark = api.mark();
    let before = api.documents_in(admin).len();
    let photos = api.photos_in(admin).len();
    api.push_text(admin, admin, "/report 1");
    let summary = api
        .wait_until("the summary", WAIT, |api| {
            api.messages_since(mark)
                .into_iter()
                .find(|m| m.chat_id == admin)
        })
        .await;
    let workbook = api
        .wait_until("the workbook", WAIT, |api| {
            api.documents_in(admin)
                .into_iter()
                .skip(before)
                .find(|f| f.file_name.ends_with(".xlsx"))
        })
        .await;
    wait_for_report_files(api, admin, photos).await;
    let mut book = Xlsx::new(Cursor::new(workbook.bytes)).expect("xlsx");
    let trainees = book.worksheet_range("学员").expect("学员 sheet");
    let names = trainees
        .rows()
        .skip(1)
        .filter_map(|r| match r.get(1) {
            Some(Data::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    (summary.plain_text, names)
}

#[tokio::test]
async fn each_administrator_sees_exactly_their_subtree() {
    let (api, _env, mut bot) = world().await;
    let (_, all) = report_names(&api, ROOT_ADMIN).await;
    // By branch name: 第一, 第三, 第二 in code-point order.
    assert_eq!(all, ["张三", "王五", "李四"]);
    let (summary, a) = report_names(&api, ADMIN_A).await;
    assert_eq!(a, ["张三", "李四"], "the township sees its two branches");
    assert!(summary.contains("按组织汇总") && summary.contains("城关镇机关党总支"));
    for other in ["第三党支部", "河口乡", "王五"] {
        assert!(!summary.contains(other), "{other} leaked into {summary}");
    }
    let (_, ac) = report_names(&api, ADMIN_AC).await;
    assert_eq!(ac, ["张三"]);
    let (summary, b) = report_names(&api, ADMIN_B).await;
    assert_eq!(b, ["王五"]);
    assert!(!summary.contains("城关镇"), "{summary}");
    // Every file sent to the sibling's administrator is free of the other subtree.
    for file in api.documents_in(ADMIN_B) {
        let text = String::from_utf8_lossy(&file.bytes).to_string();
        assert!(
            !text.contains("张三") && !text.contains("李四"),
            "{}",
            file.file_name
        );
    }
    // `/org` shows each administrator their own part of the tree, with branch counts.
    let tree = ask(&api, ADMIN_A, ADMIN_A, "/org").await;
    assert!(
        tree.plain_text
            .contains("城关镇党委（党委，编号 2，支部 2 个）")
            && tree
                .plain_text
                .contains("城关镇机关党总支（党总支，编号 3，支部 1 个）")
            && !tree.plain_text.contains("河口乡"),
        "{}",
        tree.plain_text
    );
    let detail = ask(&api, ADMIN_A, ADMIN_A, "/org 3").await;
    assert!(
        detail.plain_text.contains("第一党支部（支部编号 1）"),
        "{}",
        detail.plain_text
    );
    let foreign = ask(&api, ADMIN_A, ADMIN_A, "/org 河口乡党委").await;
    assert!(
        foreign.plain_text.contains("不在您管理的范围内"),
        "{}",
        foreign.plain_text
    );

    // A branch that moves keeps its closed round where it was.
    let moved = ask(&api, SUPER, SUPER, "/org branch 2 河口乡党委").await;
    assert!(
        moved
            .plain_text
            .contains("已把支部 第二党支部 调整到 河口乡党委"),
        "{}",
        moved.plain_text
    );
    let (_, a_after) = report_names(&api, ADMIN_A).await;
    assert_eq!(
        a_after,
        ["张三", "李四"],
        "round 1 closed with 第二党支部 under 城关镇"
    );
    bot.stop().await;
}

/// One row of the matrix: who, where, what, and whether it must be allowed.
struct Case {
    who: i64,
    chat: i64,
    text: &'static str,
    allowed: bool,
}

/// Administrative commands × roles × chats: allowed ones answer without a refusal, the others
/// with one, and a refused one changes nothing stored.
#[tokio::test]
async fn the_authorisation_matrix_holds() {
    let (api, env, mut bot) = world().await;
    let refusals = [
        ct::REFUSE_ADMIN,
        ct::REFUSE_ROOT_ADMIN,
        ct::REFUSE_SUPER_ADMIN,
        ct::REFUSE_GROUP_ADMIN,
        ot::ADMIN_CHAT_REFUSED,
        "不在您管理的范围内",
        "没有找到您管理范围内",
        ct::PRIVATE_ONLY,
    ];
    let mut cases = Vec::new();
    let everyone = [
        SUPER, ROOT_ADMIN, ADMIN_A, ADMIN_AC, ADMIN_B, MEMBER, OUTSIDER,
    ];
    let admins = [SUPER, ROOT_ADMIN, ADMIN_A, ADMIN_AC, ADMIN_B];
    let root_level = [SUPER, ROOT_ADMIN];
    for who in everyone {
        let admin = admins.contains(&who);
        let root = root_level.contains(&who);
        for (text, allowed) in [
            ("/report 1", admin),
            ("/overdue", admin),
            ("/admins", admin),
            ("/org", admin),
            ("/rounds", root),
            ("/bank", root),
            ("/org add 县委组织部 测试党委", who == SUPER),
            ("/grant 1003 河口乡党委", who == SUPER),
            ("/revoke 1013", who == SUPER),
        ] {
            cases.push(Case {
                who,
                chat: who,
                text,
                allowed,
            });
        }
    }
    // Group commands: a branch is managed by its group's administrators and the administrators
    // whose subtree holds it, nobody else.
    for (who, allowed) in [
        (SUPER, true),
        (ROOT_ADMIN, true),
        (ADMIN_A, true),
        (ADMIN_AC, true),
        (ADMIN_B, false),
        (GROUP_ADMIN, true),
        (MEMBER, false),
        (OUTSIDER, false),
    ] {
        cases.push(Case {
            who,
            chat: GROUP_1,
            text: "/term 2024-03-01",
            allowed,
        });
        cases.push(Case {
            who,
            chat: GROUP_1,
            text: "/unplan 不存在的会议",
            allowed,
        });
    }
    // A scoped administrator's link and moves stay inside the subtree.
    for (who, text, allowed) in [
        (ADMIN_A, "/org link 城关镇机关党总支", true),
        (ADMIN_A, "/org link 河口乡党委", false),
        (ADMIN_B, "/org branch 1 河口乡党委", false),
        (ADMIN_A, "/org branch 1 河口乡党委", false),
        (ADMIN_AC, "/adminchat 城关镇党委", false),
    ] {
        let chat = if text.starts_with("/adminchat") {
            A_CHAT
        } else {
            who
        };
        cases.push(Case {
            who,
            chat,
            text,
            allowed,
        });
    }

    // Administrative commands of the private chat, sent in a branch group even by those who
    // may use them: refused there (nothing administrative is shown to the group). Another
    // group than the one above: Telegram lets a bot send a group 20 messages a minute.
    for (who, text) in [
        (SUPER, "/overdue"),
        (SUPER, "/grant 1003"),
        (ROOT_ADMIN, "/rounds open"),
        (ADMIN_A, "/org"),
        (ADMIN_A, "/admins"),
    ] {
        cases.push(Case {
            who,
            chat: GROUP_2,
            text,
            allowed: false,
        });
    }

    let state_sql = "SELECT (SELECT group_concat(id || name || COALESCE(parent_id, '') || COALESCE(retired_at, ''), ',') FROM organisations)
                     || '|' || (SELECT group_concat(user_id || ':' || org_id, ',') FROM org_admins)
                     || '|' || (SELECT group_concat(id || ':' || org_id, ',') FROM branches)
                     || '|' || (SELECT COUNT(*) FROM terms) || '|' || (SELECT COUNT(*) FROM org_admin_chats)
                     || '|' || (SELECT COUNT(*) FROM rounds)";
    for case in cases {
        let before: String = env.query_one(state_sql).await;
        let photos = api.photos_in(case.chat).len();
        let reply = ask(&api, case.who, case.chat, case.text).await;
        let refused = refusals.iter().any(|r| reply.plain_text.contains(r));
        assert_eq!(
            refused, !case.allowed,
            "{} by {} in {}: {}",
            case.text, case.who, case.chat, reply.plain_text
        );
        if refused {
            let after: String = env.query_one(state_sql).await;
            assert_eq!(
                before, after,
                "{} by {} changed something",
                case.text, case.who
            );
        }
        if case.allowed && case.text.starts_with("/report") {
            wait_for_report_files(&api, case.chat, photos).await;
        }
        // Undo what an allowed change did, so every row starts from the same tree.
        if case.allowed && case.text.starts_with("/org add") {
            env_reset_added(&env).await;
        }
        if case.allowed && case.text.starts_with("/grant") {
            env.execute("DELETE FROM org_admins WHERE user_id = 1003")
                .await;
        }
        if case.allowed && case.text.starts_with("/revoke") {
            env.execute("INSERT OR IGNORE INTO org_admins (user_id, org_id, granted_at) VALUES (1013, 4, 0)").await;
        }
    }
    // A meeting's 已召开 button in 第一党支部's group: the group's managers and the
    // administrators whose subtree holds the branch may press it; the sibling township's
    // administrator, a member and an outsider are refused and nothing is recorded.
    env.execute(
        "INSERT INTO meeting_plans (id, branch_id, kind, title, rule_text, cron, next_at, active, created_at)
         VALUES (801, 1, 'x', '支部委员会会议', '每月', '0 0 9 1 * *', NULL, 1, 0);
         INSERT INTO meeting_occurrences (id, plan_id, branch_id, scheduled_at, period_end, status)
         VALUES (801, 801, 1, 1772500000, 1773000000, 'pending');",
    )
    .await;
    let held = "SELECT COUNT(*) FROM meeting_occurrences WHERE id = 801 AND status = 'held'";
    let msg = ask(&api, GROUP_ADMIN, GROUP_1, "/meetings").await;
    for who in [ADMIN_B, MEMBER, OUTSIDER] {
        let answer = press(&api, who, &msg, "h:801").await;
        assert!(answer.show_alert, "{who}: {answer:?}");
        assert_eq!(env.query_i64(held).await, 0, "{who} recorded a meeting");
    }
    let answer = press(&api, ADMIN_AC, &msg, "h:801").await;
    assert!(!answer.show_alert, "{answer:?}");
    assert_eq!(env.query_i64(held).await, 1);
    bot.stop().await;
}

async fn env_reset_added(env: &TestEnv) {
    env.execute("DELETE FROM organisations WHERE name = '测试党委'")
        .await;
}

/// Buttons and files of the root level, pressed or sent by a scoped administrator: refused,
/// and nothing changes.
#[tokio::test]
async fn forged_buttons_and_files_of_other_roles_are_refused() {
    let (api, env, mut bot) = world().await;
    // An organisation sheet from a scoped administrator.
    let sheet = org_sheet(&[("新乡党委", "县委组织部", "党委")]);
    let mark = api.mark();
    api.push_document(ADMIN_A, ADMIN_A, "组织.xlsx", &sheet, None);
    let reply = api
        .wait_for_text_since(mark, ADMIN_A, "超级管理员", WAIT)
        .await;
    assert!(reply.plain_text.contains(ct::REFUSE_SUPER_ADMIN));
    // The super-administrator's upload, confirmed by a forged press of someone else.
    let mark = api.mark();
    api.push_document(SUPER, SUPER, "组织.xlsx", &sheet, None);
    let summary = api.wait_for_text_since(mark, SUPER, "确认后将", WAIT).await;
    let data = summary
        .callback_data(ot::BUTTON_CONFIRM)
        .expect("confirm button");
    let forged = press(&api, ADMIN_A, &summary, &data).await;
    assert!(forged.show_alert, "{forged:?}");
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM organisations WHERE name = '新乡党委'")
            .await,
        0
    );
    // A question bank from a scoped administrator.
    let mark = api.mark();
    api.push_document(
        ADMIN_B,
        ADMIN_B,
        "题库.toml",
        b"[[question]]\nid = \"x\"\n",
        None,
    );
    let reply = api
        .wait_for_text_since(mark, ADMIN_B, "题库由最上级", WAIT)
        .await;
    assert!(reply.plain_text.contains(ct::REFUSE_ROOT_ADMIN));
    bot.stop().await;
}

fn org_sheet(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["组织名称", "上级组织", "组织类别"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (name, parent, kind)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *name).unwrap();
        sheet.write_string(r, 1, *parent).unwrap();
        sheet.write_string(r, 2, *kind).unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn the_tree_is_imported_from_a_sheet_after_confirmation() {
    let (api, env, mut bot) = world().await;
    let bad = org_sheet(&[
        ("甲党委", "乙党委", "党委"),
        ("乙党委", "甲党委", "党委"),
        ("丙党总支", "不存在的党委", ""),
    ]);
    let mark = api.mark();
    api.push_document(SUPER, SUPER, "坏表.xlsx", &bad, None);
    let errors = api
        .wait_for_text_since(mark, SUPER, "没有导入任何内容", WAIT)
        .await;
    for expected in [
        "第 2 行“上级组织”列",
        "第 3 行“上级组织”列",
        "循环",
        "第 4 行",
        "不存在的党委",
    ] {
        assert!(
            errors.plain_text.contains(expected),
            "{expected}: {}",
            errors.plain_text
        );
    }
    let count = "SELECT COUNT(*) FROM organisations";
    assert_eq!(env.query_i64(count).await, 4, "nothing changed");

    let good = org_sheet(&[
        ("河口乡学校党总支", "河口乡党委", "党总支"),
        ("城关镇机关党总支", "河口乡党委", "党总支"),
    ]);
    let mark = api.mark();
    api.push_document(SUPER, SUPER, "组织.xlsx", &good, None);
    let summary = api.wait_for_text_since(mark, SUPER, "确认后将", WAIT).await;
    assert!(
        summary.plain_text.contains("新增组织 1 个，调整隶属 1 个"),
        "{}",
        summary.plain_text
    );
    assert_eq!(env.query_i64(count).await, 4, "not before confirmation");
    let data = summary.callback_data(ot::BUTTON_CONFIRM).expect("confirm");
    press(&api, SUPER, &summary, &data).await;
    api.wait_for_text_since(mark, SUPER, "组织架构已导入", WAIT)
        .await;
    assert_eq!(env.query_i64(count).await, 5);
    assert_eq!(
        env.query_i64("SELECT parent_id FROM organisations WHERE id = 3")
            .await,
        4,
        "moved under 河口乡党委"
    );
    // A second press of the same button changes nothing more.
    let again = press(&api, SUPER, &summary, &data).await;
    assert!(again.show_alert);
    assert_eq!(env.query_i64(count).await, 5);
    bot.stop().await;
}

#[tokio::test]
async fn a_group_is_bound_under_its_organisation_by_link_and_escalations_go_up_the_tree() {
    let (api, env, mut bot) = world().await;
    // The township's administrators' group.
    let bound = ask(&api, ADMIN_A, A_CHAT, "/adminchat").await;
    assert!(
        bound.plain_text.contains("城关镇党委 的管理员群"),
        "{}",
        bound.plain_text
    );

    // The link's /start in a new group binds it under 城关镇党委, named after the group.
    let link = ask(&api, ADMIN_A, ADMIN_A, "/org link 城关镇党委").await;
    assert!(
        link.plain_text.contains("startgroup=o_codeorga"),
        "{}",
        link.plain_text
    );
    let reply = ask(&api, GROUP_ADMIN, NEW_GROUP, "/start o_codeorga").await;
    assert!(
        reply.plain_text.contains("城关镇党委 下属支部"),
        "{}",
        reply.plain_text
    );
    assert_eq!(
        env.query_i64("SELECT org_id FROM branches WHERE chat_id = -2009")
            .await,
        2
    );
    let bad = ask(&api, GROUP_ADMIN, GROUP_2, "/start o_nosuchcode").await;
    assert!(
        bad.plain_text.contains(ot::BIND_LINK_INVALID),
        "{}",
        bad.plain_text
    );

    // A missed meeting in 第一党支部 (under 城关镇) reaches A_CHAT; one in 第三党支部 (河口乡 has
    // no group, nor has the root) reaches the configured chat. Neither hears the other's.
    env.execute(
        "INSERT INTO meeting_plans (id, branch_id, kind, title, rule_text, cron, next_at, active, created_at)
         VALUES (901, 1, 'x', '支部委员会会议', '每月', '0 0 9 1 * *', NULL, 1, 0),
                (902, 3, 'x', '主题党日', '每月', '0 0 9 1 * *', NULL, 1, 0);
         INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end, status)
         VALUES (901, 1, 1771000000, 1771100000, 'pending'), (902, 3, 1771000000, 1771100000, 'pending');",
    )
    .await;
    bot.restart().await;
    let to_a = api.wait_for_text(A_CHAT, "【会议未按期召开】", WAIT).await;
    assert!(
        to_a.plain_text.contains("第一党支部"),
        "{}",
        to_a.plain_text
    );
    let to_county = api
        .wait_for_text(CONFIG_CHAT, "【会议未按期召开】", WAIT)
        .await;
    assert!(to_county.plain_text.contains("第三党支部"));
    assert_eq!(count_containing(&api, A_CHAT, "第三党支部"), 0);
    assert_eq!(count_containing(&api, CONFIG_CHAT, "第一党支部"), 0);
    bot.stop().await;
}
