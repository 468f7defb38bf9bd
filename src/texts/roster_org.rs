//! Texts for an organisation's roster upload in private chat (a sheet with a 支部 column). HTML
//! parse mode; the caller escapes file and branch names. Names only: phone numbers never appear.

use crate::domain::roster::RosterDiff;
use crate::roster::sheet::SheetError;

/// Branches described line by line in the summary; the rest are counted (a message holds 4096
/// characters).
pub const BRANCHES_SHOWN: usize = 25;
/// Names listed per branch and part; the rest are counted.
pub const NAMES_SHOWN: usize = 8;

pub const BUTTON_CONFIRM: &str = "确认导入";
pub const BUTTON_CANCEL: &str = "取消";

fn names(list: &[String]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| crate::texts::esc(n))
        .collect();
    let mut text = shown.join("、");
    if list.len() > NAMES_SHOWN {
        text.push_str(&format!(" 等 {} 人", list.len()));
    }
    text
}

fn part(label: &str, list: &[String]) -> Option<String> {
    (!list.is_empty()).then(|| format!("{label} {}（{}）", list.len(), names(list)))
}

/// One branch of the summary: `branch` is escaped by the caller.
pub fn branch_line(branch: &str, total: usize, diff: &RosterDiff) -> String {
    let parts: Vec<String> = [
        part("新增", &diff.added),
        part("变动", &diff.changed),
        part("转出", &diff.left),
    ]
    .into_iter()
    .flatten()
    .collect();
    let change = if parts.is_empty() {
        "无变化".to_owned()
    } else {
        parts.join("；")
    };
    format!("• <b>{branch}</b>（{total} 人）：{change}")
}

/// The summary's head; the caller adds the branch lines under it.
pub fn summary_head(file: &str, people: usize, branches: usize) -> String {
    format!(
        "组织批量名册“{file}”检查通过：{branches} 个支部，共 {people} 人。与各支部现有名册相比："
    )
}

pub fn more_branches(n: usize, added: usize, changed: usize, left: usize) -> String {
    format!("……另有 {n} 个支部：合计新增 {added} 人，变动 {changed} 人，转出 {left} 人。")
}

pub fn summary_foot(untouched: usize) -> String {
    let mut text = String::from(
        "确认后所有支部一并生效；转出的人员保留在历史记录中，不会删除。手机号只用于匹配，不会显示。",
    );
    if untouched > 0 {
        text.push_str(&format!(
            "\n你管理的其余 {untouched} 个支部不在表中，名册保持不变。"
        ));
    }
    text
}

pub fn refused(file: &str, errors: &[SheetError]) -> String {
    let mut lines = vec![format!(
        "组织批量名册“{file}”未导入，发现 {} 处问题（未作任何改动）：",
        errors.len()
    )];
    let shown = crate::texts::roster::ERRORS_SHOWN;
    lines.extend(
        errors
            .iter()
            .take(shown)
            .map(|e| format!("• {}", crate::texts::roster::error(e))),
    );
    if errors.len() > shown {
        lines.push(format!("……另有 {} 处问题未列出。", errors.len() - shown));
    }
    lines.push(
        "请修改后重新发送文件。第一列为“支部”（支部全称或编号），其后各列与支部名册模板相同。"
            .to_owned(),
    );
    lines.join("\n")
}

pub fn applied(branches: usize, added: usize, changed: usize, left: usize, total: usize) -> String {
    format!(
        "组织批量名册已导入 {branches} 个支部：新增 {added} 人，变动 {changed} 人，转出 {left} 人；这些支部现有 {total} 人。\n\
         已加入机器人的成员，请在与我的私聊中再发送一次 /join 加入码，认领自己在名册中的身份。"
    )
}

/// `branches` are escaped by the caller.
pub fn stale(branches: &[String]) -> String {
    format!(
        "以下支部的名册在检查之后已有变动，或已不在你的管理范围内：{}。这份批量名册未导入，未作任何改动；请重新发送文件，按新的对比结果确认。",
        branches.join("、")
    )
}

pub const CANCELLED: &str = "已取消，各支部名册未作改动。";
pub const ALERT_APPLIED: &str = "名册已导入";
pub const ALERT_CANCELLED: &str = "已取消";
pub const ALERT_STALE: &str = "名册已有变动，请重新上传";
pub const ALERT_GONE: &str = "这份批量名册已不存在。";
pub const ALERT_NOT_YOURS: &str = "只有上传这份批量名册的管理员可以确认或取消。";
pub const ALERT_DONE_ALREADY: &str = "这份批量名册已经处理过了。";

/// A branch's own roster (姓名 first) sent in private chat.
pub const BRANCH_SHEET_IN_PRIVATE: &str = "这是单个支部的名册（第一列为“姓名”）。\n\
支部名册请由群管理员在支部群里发送 /roster upload 后上传；组织管理员一次上传多个支部时，请在第一列前加一列“支部”，填写支部全称或编号。";
