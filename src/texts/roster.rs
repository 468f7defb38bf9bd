//! Texts for rosters (党员名册): the sheet's words, upload checks and summaries, linking an
//! account to a roster person, and the election arithmetic in `/status`. HTML parse mode; the
//! caller escapes anything a user wrote. Phone numbers never appear in these texts.

use chrono::NaiveDate;

use crate::domain::roster::{self, Duty, Election, Person, Status};
use crate::roster::sheet::{Problem, SheetError, HEADERS};

// ---- the words of domain values -------------------------------------------------------------

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Full => "正式党员",
        Status::Probationary => "预备党员",
        Status::Candidate => "发展对象",
        Status::Activist => "入党积极分子",
        Status::Other => "其他",
    }
}

pub fn duty_label(duty: Duty) -> &'static str {
    match duty {
        Duty::Secretary => "书记",
        Duty::Deputy => "副书记",
        Duty::Organisation => "组织委员",
        Duty::Propaganda => "宣传委员",
        Duty::Discipline => "纪检委员",
        Duty::Worker => "党务工作者",
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "是"
    } else {
        "否"
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A person as the cells of a roster row, in [`HEADERS`] order (the phone in full: this is the
/// sheet the secretary keeps, never a chat message).
pub fn sheet_cells(p: &Person) -> [String; 8] {
    [
        p.name.clone(),
        status_label(p.status).to_owned(),
        p.duty.map(duty_label).unwrap_or_default().to_owned(),
        p.phone.clone().unwrap_or_default(),
        p.takes_test.map(yes_no).unwrap_or_default().to_owned(),
        p.joined_on.map(date).unwrap_or_default(),
        p.full_on.map(date).unwrap_or_default(),
        if p.on_probation { "是" } else { "" }.to_owned(),
    ]
}

// ---- the template ---------------------------------------------------------------------------

pub const TEMPLATE_FILE: &str = "党员名册模板.xlsx";
pub const TEMPLATE_NOTES_SHEET: &str = "填写说明";

pub fn template_notes() -> Vec<String> {
    vec![
        "党员名册填写说明（机器人只读取第一个工作表）".to_owned(),
        format!("1. 第一行为表头，列的顺序不能改动：{}。", HEADERS.join("、")),
        "2. 姓名、身份必填；同一支部内姓名不能重复，同名的请加注区分，如“张伟（机关）”。".to_owned(),
        "3. 身份：正式党员、预备党员、发展对象、入党积极分子、其他。".to_owned(),
        "4. 职务：书记、副书记、组织委员、宣传委员、纪检委员、党务工作者，没有职务的留空。".to_owned(),
        "5. 手机号：11 位手机号，可留空；填了手机号的人可用 Telegram 验证手机号直接认领身份。手机号只用于匹配，不会出现在群聊中。".to_owned(),
        "6. 参加业务测试：是／否；留空时按默认规则（有职务的人参加，或按部署设置全体党员参加）。".to_owned(),
        "7. 入党日期、转正日期：如 2023-07-01；预备党员的入党日期用于提醒预备期届满。".to_owned(),
        "8. 留党察看：受留党察看处分的填“是”，其余留空（留党察看期间没有表决权、选举权）。".to_owned(),
        "9. 不要使用公式、合并单元格；名册中不再出现的人员会被标为“转出”，不会删除。".to_owned(),
    ]
}

// ---- /roster --------------------------------------------------------------------------------

pub const USAGE: &str = "<b>党员名册命令</b>（群管理员）\n\
/roster — 查看本支部名册统计\n\
/roster template — 获取名册模板\n\
/roster upload — 之后 10 分钟内发到本群的 Excel 文件作为名册上传（也可以直接发送文件并在说明中写 /roster）\n\
/roster unlink 姓名 — 解除某人的 Telegram 账号关联";

pub const NO_ROSTER: &str = "本支部还没有党员名册，测试参与情况按已加入人数统计。\n\
群管理员可发送 /roster template 获取模板，填好后发送 /roster upload 再把文件发到本群。";

/// Counts only: a group chat never shows who has which phone number.
pub struct Overview<'a> {
    pub branch: &'a str,
    pub people: usize,
    pub members: usize,
    pub due: usize,
    pub linked: usize,
    pub due_linked: usize,
    pub left: usize,
    pub with_phone: usize,
}

pub fn overview(o: &Overview<'_>) -> String {
    format!(
        "<b>{} 党员名册</b>\n名册人数：{}（其中党员 {}）\n应参加业务测试：{} 人，其中已关联账号 {} 人\n已关联 Telegram 账号：{} 人\n登记了手机号：{} 人\n已转出：{} 人\n\n{USAGE}",
        o.branch, o.people, o.members, o.due, o.due_linked, o.linked, o.with_phone, o.left
    )
}

pub const TEMPLATE_CAPTION: &str =
    "党员名册模板：填好后在本群发送 /roster upload，再把文件发到本群。";

pub fn upload_waiting(minutes: i64) -> String {
    format!("请在 {minutes} 分钟内把填好的名册 Excel 文件（.xlsx）发到本群。")
}

pub const UPLOAD_WRONG_TYPE: &str =
    "名册只接受 Excel 文件（.xlsx）。请用 /roster template 获取模板，填好后再发送。";

pub fn upload_too_big(max_mb: u32) -> String {
    format!("文件太大，名册文件不能超过 {max_mb} MB。")
}

pub const UPLOAD_DOWNLOAD_FAILED: &str = "没能下载这个文件，名册未作改动。请稍后重新发送。";

pub const ORG_SHEET_NOT_YET: &str =
    "这是带“支部”列的组织批量名册，请由组织管理员在与我的私聊中发送（名册不在群里公开）。\n\
在支部群里请上传本支部的名册：第一列为“姓名”，可用 /roster template 获取模板。";

/// Errors shown, at most; the rest are counted.
pub const ERRORS_SHOWN: usize = 20;

pub fn upload_refused(errors: &[SheetError]) -> String {
    let mut lines = vec![format!(
        "名册未导入，发现 {} 处问题（未作任何改动）：",
        errors.len()
    )];
    lines.extend(
        errors
            .iter()
            .take(ERRORS_SHOWN)
            .map(|e| format!("• {}", error(e))),
    );
    if errors.len() > ERRORS_SHOWN {
        lines.push(format!(
            "……另有 {} 处问题未列出。",
            errors.len() - ERRORS_SHOWN
        ));
    }
    lines.push("请修改后重新发送 /roster upload 并上传文件。".to_owned());
    lines.join("\n")
}

/// One error, with where it is: "第 5 行 D 列（手机号）：…".
pub fn error(e: &SheetError) -> String {
    let place = match (&e.column, e.row) {
        (_, 0) => String::new(),
        (Some((letter, header)), row) if !header.is_empty() => {
            format!("第 {row} 行 {letter} 列（{header}）：")
        }
        (Some((letter, _)), row) => format!("第 {row} 行 {letter} 列："),
        (None, row) => format!("第 {row} 行："),
    };
    format!("{place}{}", problem(&e.problem))
}

fn problem(p: &Problem) -> String {
    let esc = crate::texts::esc;
    match p {
        Problem::NotXlsx => "无法读取，文件不是有效的 .xlsx 表格。".to_owned(),
        Problem::NoSheet => "表格中没有工作表。".to_owned(),
        Problem::WrongHeader { expected, found } if found.is_empty() => format!(
            "表头应为“{expected}”，这里是空的。第一行必须是表头，顺序为：{}。",
            HEADERS.join("、")
        ),
        Problem::WrongHeader { expected, found } => format!(
            "表头应为“{expected}”，这里是“{}”。列的顺序必须为：{}。",
            esc(found),
            HEADERS.join("、")
        ),
        Problem::OrganisationSheet => ORG_SHEET_NOT_YET.to_owned(),
        Problem::BranchSheet => "这是单个支部的名册；批量名册第一列应为“支部”。".to_owned(),
        Problem::TooManyRows { rows, max } => format!(
            "表格有 {rows} 行，超过上限 {max} 行。一个支部的名册一般不超过 50 人，请检查是否选错了文件。"
        ),
        Problem::NoPeople => "表格中没有人员。".to_owned(),
        Problem::Formula => "单元格含有公式。请复制后“选择性粘贴—数值”，去掉公式再上传。".to_owned(),
        Problem::Merged => "表格中有合并单元格。请取消合并，每人一行、每格一项。".to_owned(),
        Problem::Missing => "必填，不能为空。".to_owned(),
        Problem::NameTooLong => "姓名太长。".to_owned(),
        Problem::UnknownStatus(v) => format!(
            "身份“{}”无法识别，应为：正式党员、预备党员、发展对象、入党积极分子、其他。",
            esc(v)
        ),
        Problem::UnknownDuty(v) => format!(
            "职务“{}”无法识别，应为：书记、副书记、组织委员、宣传委员、纪检委员、党务工作者，或留空。",
            esc(v)
        ),
        // The value is not repeated: a half-right phone number is still personal data.
        Problem::BadPhone(_) => "手机号不是有效的 11 位手机号码。".to_owned(),
        Problem::BadDate(v) => format!("日期“{}”无法识别，请写成 2023-07-01 这样的日期。", esc(v)),
        Problem::BadYesNo(v) => format!("“{}”无法识别，请填“是”或“否”，或留空。", esc(v)),
        Problem::DatesContradict => "转正日期早于入党日期。".to_owned(),
        Problem::ErrorValue => "单元格是错误值（如 #REF!、#N/A）。".to_owned(),
        Problem::DuplicateName { first_row } => format!(
            "姓名与第 {first_row} 行重复。同名的请加注区分，如“张伟（机关）”。"
        ),
        Problem::DuplicatePhone { first_row } => format!("手机号与第 {first_row} 行重复。"),
        Problem::UnknownBranch { name, rows } => format!(
            "你管理的组织中没有支部“{}”（共 {rows} 行）。请写你管理范围内支部的全称或编号（私聊发送 /org 查看）。",
            esc(name)
        ),
        Problem::AmbiguousBranch { name, ids } => format!(
            "你管理的组织中有 {} 个支部名为“{}”（编号 {}）。请改写支部编号。",
            ids.len(),
            esc(name),
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join("、")
        ),
        Problem::SameBranch { first_row } => format!(
            "与第 {first_row} 行是同一个支部，写法不同。同一支部请统一写法（全称或编号）。"
        ),
    }
}

/// Names listed per part of the summary, at most.
pub const NAMES_SHOWN: usize = 30;

fn names(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| crate::texts::esc(n))
        .collect();
    let mut text = shown.join("、");
    if names.len() > NAMES_SHOWN {
        text.push_str(&format!(" 等 {} 人", names.len()));
    }
    text
}

pub fn upload_summary(file: &str, total: usize, diff: &roster::RosterDiff) -> String {
    let mut lines = vec![format!(
        "名册“{file}”检查通过，共 {total} 人。与现有名册相比："
    )];
    let part = |label: &str, list: &[String]| {
        if list.is_empty() {
            format!("{label}：0 人")
        } else {
            format!("{label}：{} 人（{}）", list.len(), names(list))
        }
    };
    lines.push(part("新增", &diff.added));
    lines.push(part("变动", &diff.changed));
    lines.push(part("转出", &diff.left));
    lines.push(format!("未变：{} 人", diff.unchanged));
    lines.push(String::new());
    lines.push("确认后生效；转出的人员保留在历史记录中，不会删除。".to_owned());
    lines.join("\n")
}

pub const BUTTON_CONFIRM: &str = "确认导入";
pub const BUTTON_CANCEL: &str = "取消";

pub fn applied(added: usize, changed: usize, left: usize, total: usize) -> String {
    format!(
        "名册已导入：新增 {added} 人，变动 {changed} 人，转出 {left} 人；现有 {total} 人。
已加入机器人的成员，请在与我的私聊中再发送一次 /join 加入码，认领自己在名册中的身份。"
    )
}
pub const CANCELLED: &str = "已取消，名册未作改动。";
pub const ALERT_APPLIED: &str = "名册已导入";
pub const ALERT_CANCELLED: &str = "已取消";
pub const ALERT_GONE: &str = "这份名册已不存在。";
pub const ALERT_NOT_YOURS: &str = "只有上传这份名册的人可以确认或取消。";
pub const ALERT_DONE_ALREADY: &str = "这份名册已经处理过了。";
pub const ALERT_NOT_NEWEST: &str = "本支部之后又上传了新的名册，这份已过期。请确认最新的那份。";
pub const ALERT_CHANGED_SINCE: &str =
    "上传这份名册之后，本支部名册已有更新（例如上级组织统一导入），这份已过期，没有导入。请发送 /roster 查看现状后重新上传。";
pub const ALERT_WRONG_CHAT: &str = "这个按钮不属于本群的支部。";

// ---- unlink ---------------------------------------------------------------------------------

pub const UNLINK_USAGE: &str = "用法：/roster unlink 姓名";

pub fn unlinked(name: &str) -> String {
    format!("已解除“{name}”与 Telegram 账号的关联。本人可重新加入支部后再次认领。")
}

pub fn not_on_roster(name: &str) -> String {
    format!("本支部名册中没有“{name}”。请核对姓名（发送 /roster 查看名册统计）。")
}

pub fn not_linked(name: &str) -> String {
    format!("“{name}”还没有关联 Telegram 账号，无需解除。")
}

// ---- linking an account to a roster person --------------------------------------------------

pub fn link_prompt(branch: &str, phones: bool) -> String {
    let how = if phones {
        "请点击下方“发送我的手机号”按钮，用 Telegram 验证过的手机号与名册匹配；如果名册里没有你的手机号，也可以在下一条消息里选择你的姓名，由支部书记在群里确认。"
    } else {
        "请在下一条消息里选择你的姓名，由支部书记在群里确认。"
    };
    format!("<b>{branch}</b> 已导入党员名册，需要确认你是名册中的哪一位。\n{how}")
}

pub const CONTACT_BUTTON: &str = "📱 发送我的手机号";
pub const CHOOSE_NAME: &str = "选择你在名册中的姓名（已被认领的姓名不再列出）：";
pub const NO_NAMES_LEFT: &str =
    "名册中的姓名都已被认领。如有错误，请联系支部书记用 /roster unlink 姓名 解除后再认领。";

pub const CONTACT_NOT_OWN: &str =
    "只能发送你自己的手机号：请点击“发送我的手机号”按钮，不要转发别人的名片。未作任何改动。";
pub const CONTACT_NOT_NEEDED: &str =
    "你已经关联了名册中的身份，或所在支部没有名册，无需发送手机号。";
pub const CONTACT_NO_MATCH: &str =
    "名册中没有与你的手机号相同的人员。请选择你的姓名，由支部书记在群里确认；或请书记在名册中补上手机号后重新上传。";
pub const CONTACT_TAKEN: &str = "与这个手机号对应的名册人员已被其他账号认领。如有错误，请联系支部书记用 /roster unlink 姓名 解除。";

pub fn linked(name: &str, branch: &str) -> String {
    format!("已确认：你是 <b>{branch}</b> 名册中的“{name}”。")
}

pub const ALERT_NAME_TAKEN: &str = "这个姓名已被认领。如有错误，请联系支部书记。";
pub const ALERT_ALREADY_LINKED: &str = "你已经关联了名册中的身份。";
pub const ALERT_NOT_MEMBER: &str = "你不是这个支部的成员，不能认领。";
pub const ALERT_CLAIM_SENT: &str = "已提交，等待支部书记确认";

pub fn claim_sent(name: &str) -> String {
    format!("已提交认领“{name}”，等待支部书记在群里确认。确认后我会通知你。")
}

/// Asked in the branch group: who claims which name (no phone numbers).
pub fn claim_request(telegram_name: &str, roster_name: &str) -> String {
    format!("Telegram 用户“{telegram_name}”申请认领名册中的“{roster_name}”。请支部书记（群管理员）核实后确认。")
}

pub const BUTTON_CLAIM_OK: &str = "确认是本人";
pub const BUTTON_CLAIM_NO: &str = "不是本人";

pub fn claim_confirmed_group(telegram_name: &str, roster_name: &str) -> String {
    format!("已确认：“{telegram_name}”即名册中的“{roster_name}”。")
}

pub fn claim_refused_group(telegram_name: &str, roster_name: &str) -> String {
    format!("已拒绝“{telegram_name}”认领“{roster_name}”。")
}

pub fn claim_refused_private(roster_name: &str) -> String {
    format!("支部书记没有确认你认领“{roster_name}”。如有疑问请联系书记；可以重新加入支部后再选择。")
}

pub const ALERT_CLAIM_DONE: &str = "这项认领已经处理过了。";
pub const ALERT_CLAIM_CONFIRMED: &str = "已确认";
pub const ALERT_CLAIM_REFUSED: &str = "已拒绝";

// ---- /status: the election arithmetic --------------------------------------------------------

/// The roster's section of `/status`, each rule with its source.
pub fn election_section(e: &Election, overdue: &[String]) -> String {
    let c = &e.counts;
    let mut lines = vec![
        "\n\n<b>名册与换届测算</b>".to_owned(),
        format!(
            "党员 {} 人：正式党员 {}，预备党员 {}",
            c.members(),
            c.full,
            c.probationary
        ),
        format!(
            "有选举权的正式党员：{} 人（预备党员和受留党察看处分的党员没有表决权、选举权、被选举权，选举条例 第五条）",
            c.voters
        ),
        if e.committee {
            format!(
                "正式党员 {} 人（7 人以上）：应设立支部委员会（支部条例）",
                c.full
            )
        } else {
            format!(
                "正式党员 {} 人（不足 7 人）：不设支部委员会，选举书记 1 人，必要时增设副书记（支部条例）",
                c.full
            )
        },
        format!(
            "选举有效：到会有选举权的党员须超过应到会人数的五分之四，即至少 {} 人到会（选举条例）",
            e.quorum
        ),
        format!(
            "党员大会作出决定：赞成票须超过应到会有表决权党员的半数，即至少 {} 票（支部条例 第十一条）",
            e.majority
        ),
        format!(
            "候选人差额不少于应选人数的 20%（选举条例 第十三条）：应选 3 人至少 {} 名候选人，应选 5 人至少 {} 名",
            roster::least_candidates(3),
            roster::least_candidates(5)
        ),
    ];
    if e.too_big {
        lines.push(format!(
            "⚠️ 党员 {} 人，超过 50 人：党支部党员人数一般不超过 50 名，请考虑分设支部（支部条例 第四条）",
            c.members()
        ));
    }
    if e.too_few_full {
        lines.push(format!(
            "⚠️ 正式党员只有 {} 人，不足 3 人：正式党员 3 人以上才成立党支部（党章 第三十条），请与上级党组织商议",
            c.full
        ));
    }
    if !overdue.is_empty() {
        lines.push(probation_overdue(overdue));
    }
    lines.join("\n")
}

pub fn probation_overdue(names_: &[String]) -> String {
    format!(
        "⚠️ 预备期已满一年、名册未登记转正：{}。请及时讨论转正或按规定延长预备期（党章 第七条；发展细则 第三十二条），并在名册中登记转正日期。",
        names(names_)
    )
}

pub fn probation_reminder(branch: &str, names_: &[String]) -> String {
    format!(
        "<b>{branch}</b> 预备期届满提醒\n{}",
        probation_overdue(names_)
    )
}

/// A branch without a roster, in `/status`.
pub const STATUS_NO_ROSTER: &str =
    "\n\n名册：未导入（测试参与按已加入人数统计；群管理员可发送 /roster 了解如何导入）";

/// `/overdue`'s part about 预备期: one line per branch.
pub fn overdue_probation(branches: &[(String, Vec<String>)]) -> String {
    let mut lines = vec![
        "<b>预备期已满一年、名册未登记转正的预备党员</b>（党章 第七条；发展细则 第三十二条）"
            .to_owned(),
    ];
    lines.extend(
        branches
            .iter()
            .map(|(branch, people)| format!("• {}：{}", crate::texts::esc(branch), names(people))),
    );
    lines.join("\n")
}
