//! Wording of the organisation tree: /org, scoped administrators, administrators' groups,
//! binding a branch by an organisation's link, and the tree import.

use crate::domain::org::MoveRefusal;
use crate::service::org_import::{ImportError, Plan, Problem};
use crate::service::orgs::{OrgRefusal, MAX_ORG_NAME_CHARS, ORG_KINDS};
use crate::texts::esc;

pub const ORG_USAGE: &str = "<b>组织架构命令</b>\n\
/org — 查看所辖组织架构（含各组织编号和支部数）\n\
/org link 组织 — 获取把机器人拉进支部群并直接绑定到该组织的链接\n\
/org branch 支部编号 组织 — 把支部调整到另一组织下（历史成绩保留在原组织）\n\
超级管理员还可以：\n\
/org add 上级组织 名称 [类别] — 新建组织（类别：组织部、党委、党工委、党组、党总支）\n\
/org rename 组织 新名称 — 更名\n\
/org move 组织 新上级 — 调整隶属关系\n\
/org retire 组织 — 撤销（须先移走下属组织和支部；历史记录保留）\n\
/org template — 下载组织架构导入模板；填好后直接发送 Excel 文件即可导入\n\
组织可以写名称，也可以写 /org 列出的编号。";

pub const TREE_TITLE: &str = "<b>组织架构</b>";
pub const RETIRED_MARK: &str = "（已撤销）";

pub fn tree_line(depth: usize, name: &str, kind: &str, id: i64, branches: u32) -> String {
    format!(
        "{}{name}（{kind}，编号 {id}，支部 {branches} 个）",
        "　".repeat(depth)
    )
}

pub fn more_below(n: usize) -> String {
    format!("……另有 {n} 个下级组织未列出，发送 /org 组织名称或编号 查看某个组织的下级和支部。")
}

pub fn branch_line(depth: usize, name: &str, id: i64) -> String {
    format!("{}· {name}（支部编号 {id}）", "　".repeat(depth))
}

pub fn added(name: &str, id: i64) -> String {
    format!("已新建组织 <b>{name}</b>（编号 {id}）。发送 /org link {id} 获取绑定支部群的链接。")
}
pub fn renamed(name: &str) -> String {
    format!("已更名为 <b>{name}</b>。")
}
pub fn moved(name: &str, parent: &str) -> String {
    format!("已把 <b>{name}</b> 调整到 <b>{parent}</b> 之下。")
}
pub fn retired(name: &str) -> String {
    format!("已撤销 <b>{name}</b>。历史记录和报告保留。")
}
pub fn branch_moved(branch: &str, org: &str) -> String {
    format!("已把支部 <b>{branch}</b> 调整到 <b>{org}</b> 之下。已结束的测试期次仍计入原组织。")
}

pub fn bind_link(org: &str, link: &str) -> String {
    format!(
        "<b>{org}</b> 的支部群绑定链接：\n{link}\n\n\
         支部书记（群管理员）点击链接、选择支部群，机器人入群后即绑定为 {org} 下属支部，\
         以群名称作为支部名称；之后可在群里发送 /bind 支部名称 类型 修改名称和类型。\
         请只把链接交给本组织的支部书记。"
    )
}

pub fn refusal(refusal: &OrgRefusal) -> String {
    match refusal {
        OrgRefusal::WhichOne => {
            "您管理多个组织，请写明是哪一个，例如 /adminchat 城关镇党委。".to_owned()
        }
        OrgRefusal::Unknown(name) => {
            format!(
                "没有找到组织“{}”。发送 /org 查看组织名称和编号。",
                esc(name)
            )
        }
        OrgRefusal::Ambiguous(name, ids) => format!(
            "有多个组织叫“{}”（编号 {}），请改用编号。",
            esc(name),
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        OrgRefusal::OutOfScope(name) => {
            format!(
                "“{}”不在您管理的范围内。您只能管理所辖组织及其下级。",
                esc(name)
            )
        }
        OrgRefusal::NoKind => format!(
            "请写明组织类别：{}（名称以这些词结尾时可省略）。",
            ORG_KINDS.join("、")
        ),
        OrgRefusal::BadKind(kind) => format!(
            "不认识的组织类别“{}”。可选：{}。党支部请在支部群里用 /bind 绑定。",
            esc(kind),
            ORG_KINDS.join("、")
        ),
        OrgRefusal::BadName => {
            format!("组织名称不能为空，最多 {MAX_ORG_NAME_CHARS} 个字。")
        }
        OrgRefusal::Move(m) => move_refusal(*m).to_owned(),
        OrgRefusal::NotEmpty => {
            "该组织下还有组织或支部，请先用 /org move、/org branch 把它们调整到别处再撤销。"
                .to_owned()
        }
        OrgRefusal::UnknownBranch(id) => format!(
            "没有找到您管理范围内编号为“{}”的支部。发送 /org 查看支部编号。",
            esc(id)
        ),
    }
}

fn move_refusal(refusal: MoveRefusal) -> &'static str {
    match refusal {
        MoveRefusal::Root => "最上级组织不能调整隶属关系或撤销。",
        MoveRefusal::UnknownOrg | MoveRefusal::UnknownParent => {
            "没有找到该组织。发送 /org 查看组织名称和编号。"
        }
        MoveRefusal::RetiredParent => "目标上级组织已撤销，不能调整到其下。",
        MoveRefusal::Cycle => "不能把组织调整到它自己或它的下级组织之下。",
        MoveRefusal::DuplicateName => "同一上级组织下已有同名组织，请换一个名称。",
    }
}

// ---- administrators ---------------------------------------------------------------------------

pub const GRANT_USAGE: &str = "用法：/grant 用户ID或@用户名 [组织]\n\
不写组织即授权为最上级组织的管理员（可查看全部）；写明组织则只管理该组织及其下级，例如 /grant @zhangsan 城关镇党委。\n\
对方需先私聊过机器人。";
pub const REVOKE_USAGE: &str =
    "用法：/revoke 用户ID或@用户名 [组织]\n不写组织即撤销其全部管理员权限。";

pub fn granted(name: &str, org: &str) -> String {
    format!("已授权 {name} 管理 <b>{org}</b> 及其下级组织。")
}
pub fn granted_already(name: &str, org: &str) -> String {
    format!("{name} 已经是 <b>{org}</b> 的管理员。")
}
pub fn revoked(name: &str, count: u64) -> String {
    format!("已撤销 {name} 的 {count} 项管理员权限，立即生效。")
}
pub fn not_admin_of(name: &str) -> String {
    format!("{name} 没有相应的管理员权限，无需撤销。")
}

pub fn admin_line(name: &str, handle: &str, id: i64, orgs: &str) -> String {
    format!("• {name}{handle} （ID {id}）— {orgs}")
}

// ---- administrators' groups -------------------------------------------------------------------

pub fn admin_chat_bound(org: &str) -> String {
    format!(
        "已将本群设为 <b>{org}</b> 的管理员群：所辖支部换届逾期、会议未按期召开、机器人被移出支部群时，会在这里提醒。"
    )
}
pub const ADMIN_CHAT_REFUSED: &str =
    "只有上级组织的管理员可以把本群设为管理员群。如需权限，请联系超级管理员授权。";

// ---- binding by link ----------------------------------------------------------------------------

pub fn bound_by_link(branch: &str, org: &str) -> String {
    format!(
        "已将本群绑定为 <b>{org}</b> 下属支部：<b>{branch}</b>（类型“其他”）。\n\
         请群管理员发送 /bind 支部名称 类型 确认名称和类型（如 /bind {branch} 农村），发送 /term 设置本届任期。"
    )
}
pub const BIND_LINK_INVALID: &str =
    "这个绑定链接无效或所属组织已撤销。请向上级组织管理员重新获取链接（/org link）。";
pub const BIND_LINK_REFUSED: &str = "只有群管理员或该组织的管理员可以用绑定链接绑定本群。";
pub const BIND_LINK_NO_TITLE: &str = "没有读到群名称，请发送 /bind 支部名称 类型 完成绑定。";

// ---- import ---------------------------------------------------------------------------------------

pub const TEMPLATE_ROWS: [[&str; 3]; 3] = [
    ["某某县委组织部", "", "组织部"],
    ["城关镇党委", "某某县委组织部", "党委"],
    ["城关镇机关党总支", "城关镇党委", "党总支"],
];
pub const TEMPLATE_FILE: &str = "组织架构导入模板.xlsx";
pub const TEMPLATE_CAPTION: &str = "组织架构导入模板：每行一个组织，填写组织名称、上级组织（最上级一行留空）、组织类别。填好后直接发给我。";

/// `file` is escaped by the caller; the names of the plan come from the sheet and are escaped here.
pub fn import_checked(file: &str, rows: usize, plan: &Plan) -> String {
    let mut text = format!("<b>组织架构文件 {file}</b>：共 {rows} 行，检查通过。\n确认后将：\n");
    text.push_str(&format!(
        "新增组织 {} 个，调整隶属 {} 个，更改类别 {} 个，不变 {} 个",
        plan.create.len(),
        plan.moves.len(),
        plan.rekind.len(),
        plan.unchanged
    ));
    if let Some(name) = &plan.rename_root {
        text.push_str(&format!("，最上级组织更名为“{}”", esc(name)));
    }
    text.push('。');
    let shown: Vec<String> = plan
        .create
        .iter()
        .take(10)
        .map(|(name, _, parent)| format!("＋ {}（上级：{}）", esc(name), esc(parent)))
        .chain(
            plan.moves
                .iter()
                .take(10)
                .map(|(id, parent)| format!("→ 编号 {id} 调整到 {}", esc(parent))),
        )
        .collect();
    if !shown.is_empty() {
        text.push_str("\n\n");
        text.push_str(&shown.join("\n"));
    }
    text.push_str("\n\n未列入文件的组织保持不变，不会被撤销或删除。");
    text
}
pub const IMPORT_NOTHING: &str = "文件与现有组织架构完全一致，无需导入。";
pub const BUTTON_CONFIRM: &str = "确认导入";
pub const BUTTON_CANCEL: &str = "取消";
pub fn import_applied(plan: &Plan) -> String {
    format!(
        "组织架构已导入：新增 {} 个，调整隶属 {} 个，更改类别 {} 个。发送 /org 查看。",
        plan.create.len(),
        plan.moves.len(),
        plan.rekind.len()
    )
}
pub const IMPORT_CANCELLED: &str = "已取消，组织架构没有变化。";
pub const ALERT_GONE: &str = "找不到这次上传，请重新发送文件。";
pub const ALERT_NOT_YOURS: &str = "这是其他管理员上传的文件，只有上传者可以确认。";
pub const ALERT_DONE_ALREADY: &str = "这次上传已经处理过了。";
pub const ALERT_APPLIED: &str = "已导入";
pub const ALERT_CANCELLED: &str = "已取消";
pub const IMPORT_STALE: &str =
    "上传之后组织架构已有变化，文件与现状不再相符，没有导入。请重新检查：";
pub const IMPORT_TOO_BIG: &str =
    "文件太大（最大 2 MB）。组织架构表每行一个组织，请检查是否发错了文件。";
pub const IMPORT_DOWNLOAD_FAILED: &str = "没能下载这个文件，请稍后重新发送。";

/// Every error with its row and column; at most `limit` shown, the rest counted.
pub fn import_errors(file: &str, errors: &[ImportError], limit: usize) -> String {
    let mut lines = vec![format!(
        "<b>组织架构文件 {file}</b> 有 {} 处问题，没有导入任何内容：",
        errors.len()
    )];
    for e in errors.iter().take(limit) {
        let place = match (e.line, e.column) {
            (0, None) => String::new(),
            (0, Some(c)) => format!("“{c}”列："),
            (l, None) => format!("第 {l} 行："),
            (l, Some(c)) => format!("第 {l} 行“{c}”列："),
        };
        lines.push(format!("• {place}{}", problem(&e.problem)));
    }
    if errors.len() > limit {
        lines.push(format!("……另有 {} 处", errors.len() - limit));
    }
    lines.push("请修改后重新发送。发送 /org template 获取模板。".to_owned());
    lines.join("\n")
}

fn problem(p: &Problem) -> String {
    match p {
        Problem::NotXlsx => "不是有效的 Excel（.xlsx）文件".into(),
        Problem::MissingColumn => "缺少这一列（须有：组织名称、上级组织、组织类别）".into(),
        Problem::NoRows => "表中没有组织".into(),
        Problem::TooManyRows(max) => format!("超过 {max} 行，请分批导入"),
        Problem::Formula => "是公式，请粘贴为数值".into(),
        Problem::BadName => format!("组织名称为空或超过 {MAX_ORG_NAME_CHARS} 个字"),
        Problem::NoKind => {
            format!("缺少组织类别（可选：{}）", ORG_KINDS.join("、"))
        }
        Problem::BadKind(k) => format!(
            "不认识的组织类别“{}”（可选：{}）",
            esc(k),
            ORG_KINDS.join("、")
        ),
        Problem::DuplicateName(first) => format!("与第 {first} 行重名"),
        Problem::SecondRoot(first) => {
            format!("上级组织为空，但第 {first} 行已是最上级组织；只能有一个最上级组织")
        }
        Problem::UnknownParent(name) => {
            format!("上级组织“{}”既不在表中，也不在现有架构中", esc(name))
        }
        Problem::RetiredParent(name) => format!("上级组织“{}”已撤销", esc(name)),
        Problem::AmbiguousName(name) => {
            format!(
                "现有架构中有多个组织叫“{}”，请先用 /org rename 区分",
                esc(name)
            )
        }
        Problem::Cycle => "隶属关系形成循环（组织成了自己的下级）".into(),
        Problem::RootMoved => "最上级组织不能有上级组织".into(),
    }
}

pub const NOT_PRIVATE_IMPORT: &str = "组织架构文件请在私聊中发给我。";

#[cfg(test)]
mod tests {
    use super::*;

    /// Names in an imported sheet are user input: they reach the chat escaped.
    #[test]
    fn an_import_summary_escapes_the_sheets_names() {
        let plan = Plan {
            create: vec![("<b>新党委".into(), "党委".into(), "县委&组织部".into())],
            moves: vec![(3, "<i>乡".into())],
            rekind: Vec::new(),
            rename_root: Some("<u>县".into()),
            unchanged: 0,
        };
        let text = import_checked("a.xlsx", 2, &plan);
        for raw in ["<b>新", "&组织", "<i>", "<u>"] {
            assert!(!text.contains(raw), "{raw} unescaped in {text}");
        }
        assert!(text.contains("&lt;b&gt;新党委") && text.contains("县委&amp;组织部"));
    }
}
