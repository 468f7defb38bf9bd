//! Texts for start, help, binding, joining and roles. HTML parse mode: anything a user typed
//! is escaped by the caller before it is put into these templates.

pub const INTERNAL_ERROR: &str =
    "抱歉，处理时出现内部错误，数据未作改动。请稍后再试；如反复出现，请联系管理员。";
/// Talking to Telegram failed: whether the change before it was stored is not known here, so
/// this says nothing about it.
pub const SEND_FAILED: &str = "抱歉，消息未能发送成功，请稍后再试；如反复出现，请联系管理员。";
/// The press was recorded, then a message after it (such as the next question) could not be
/// sent.
pub const SAVED_BUT_REPLY_FAILED: &str =
    "你的操作已保存，但后续消息未能发出。请稍后发送 /test 或相应命令继续。";
pub const UNKNOWN_COMMAND: &str = "未知命令。发送 /help 查看可用命令。";
pub const GROUP_ONLY: &str = "这个命令要在支部的群聊里使用。";
pub const PRIVATE_ONLY: &str = "这个命令请在与我的私聊中使用，以免个人信息出现在群里。";
pub const PRIVATE_HINT: &str = "请使用命令与我交流，发送 /help 查看可用命令。";

pub const REFUSE_GROUP_ADMIN: &str = "只有本群的管理员（或上级管理员）可以这样做。";
pub const REFUSE_SUPER_ADMIN: &str = "只有超级管理员可以授予或撤销管理员权限、调整组织架构。";
pub const REFUSE_ROOT_ADMIN: &str = "测试日历和题库由最上级组织的管理员统一管理，您的管理范围是所辖组织。如需调整，请联系上级组织管理员。";
pub const REFUSE_ADMIN: &str = "只有上级组织的管理员可以这样做。如需权限，请联系超级管理员授权。";
pub const NOT_BOUND: &str = "本群尚未绑定支部。群管理员可发送 /bind 支部名称 [类型] 进行绑定。";

pub const HELP_PRIVATE_TRAINEE: &str = "<b>支部工作助手</b>\n\
我每半月组织一次党务业务测试，帮助党务干部、党员和入党积极分子掌握党务基本知识。\n\n\
/join 加入码 — 加入所在支部（加入码由支部群里的按钮或书记提供）\n\
/test — 参加本期测试（每期一次，限时作答）\n\
/practice — 随时练习，优先复习答错过的题\n\
/myscores — 查看自己的历次成绩\n\
/whoami — 查看自己的 Telegram 用户 ID\n\
/help — 查看本说明";

pub const HELP_PRIVATE_ADMIN: &str = "\n\n<b>管理员命令</b>\n\
/report [期次] — 所辖支部的测试成绩报告（含各级组织汇总、Excel、CSV 和图表）\n\
/overdue — 换届逾期与会议缺失情况\n\
/rounds — 测试日历；/rounds open 开启一期，/rounds close 结束本期\n\
/bank — 题库情况；直接发送 TOML 或 Excel 文件可上传题库\n\
/admins — 管理员名单
/org — 所辖组织架构；/org link 组织 — 获取支部群绑定链接
在管理员群里发送 /adminchat [组织] — 把该群设为本组织接收逾期提醒的管理员群";

pub const HELP_PRIVATE_SUPER: &str = "\n\n<b>超级管理员命令</b>\n\
/grant 用户ID或@用户名 — 授予管理员权限\n\
/revoke 用户ID或@用户名 — 撤销管理员权限\n\
在上级管理员群里发送 /adminchat — 把该群设为接收逾期提醒的管理员群";

pub const HELP_GROUP: &str = "<b>支部工作助手</b>\n\
我帮助支部按时换届、按时召开“三会一课”等会议，并每半月组织党务业务测试。\n\n\
/status — 支部情况：任期届满、下一步换届工作、是否逾期\n\
/meetings — 会议计划及下次日期\n\
/report — 本支部测试参与率和平均分\n\
/whoami — 查看自己的用户 ID 和本群 chat id\n\
/help — 查看本说明";

pub const HELP_GROUP_ADMIN: &str = "\n\n<b>群管理员命令</b>\n\
/bind 支部名称 [类型] — 绑定本群为支部（类型：农村、社区、机关、学校、医院、国企、两新、其他）\n\
/unbind — 解除绑定（历史记录保留）\n\
/invite — 发布“加入支部”按钮\n\
/term 本届选举日期 [任期年数] — 设置本届任期\n\
/elected 日期 — 记录已完成换届选举\n\
/delay 新届满日期 — 记录经批准的延期换届\n\
/plan 会议 时间 — 新增或修改会议计划，如 /plan 支委会 每月5日 15:00\n\
/unplan 会议 — 删除一项会议计划\n\
/roster — 党员名册：统计、模板（/roster template）、上传（/roster upload）\n\
/held 会议 [日期] — 记录会议已召开";

pub const BIND_USAGE: &str = "用法：/bind 支部名称 [类型]\n例如：/bind 城关镇第一党支部 社区\n类型可选：农村、社区、机关、学校、医院、国企、两新、其他（不填则为“其他”）。";
pub const BIND_NAME_TOO_LONG: &str = "支部名称太长（最多 60 个字），请缩短后重试。";

pub fn bind_unknown_kind(kind: &str) -> String {
    format!("不认识的支部类型“{kind}”。\n{BIND_USAGE}")
}

pub fn bound(name: &str, kind: &str, term_years: u32, new: bool) -> String {
    let head = if new {
        "已将本群绑定为支部"
    } else {
        "已更新本群的支部信息"
    };
    format!(
        "{head}：<b>{name}</b>（{kind}）。\n默认任期 {term_years} 年（{}）。\n\
         已建立默认会议计划，发送 /meetings 查看；发送 /term 设置本届任期；发送 /invite 发布加入按钮。",
        if term_years == 5 { "村、社区党支部每届任期5年" } else { "一般党支部每届任期3年" }
    )
}

pub const UNBOUND: &str =
    "已解除本群与支部的绑定。该支部的任期、会议和测试记录仍然保留；重新 /bind 即可恢复。";

pub fn branch_status(name: &str, kind: &str, members: i64, join_code: &str) -> String {
    format!("<b>{name}</b>（{kind}）\n已加入成员：{members} 人\n加入码：<code>{join_code}</code>")
}

pub fn invite(name: &str) -> String {
    format!("欢迎加入 <b>{name}</b>。点击下方按钮，在与我的私聊中完成加入，之后即可参加每半月一次的业务测试。")
}
pub const INVITE_BUTTON: &str = "加入支部";

pub const JOIN_USAGE: &str =
    "用法：/join 加入码\n加入码可在支部群里发送 /status 查看，或点击群里的“加入支部”按钮直接加入。";

pub fn join_bad_code(code: &str) -> String {
    format!("加入码“{code}”无效或该支部已解除绑定。请向支部书记确认加入码。\n{JOIN_USAGE}")
}

pub fn joined(name: &str) -> String {
    format!("你已加入 <b>{name}</b>。测试开放时我会通知你；现在可以发送 /practice 练习。")
}

/// Joining through a round announcement: what follows is the test (or why there is none).
pub fn joined_for_test(name: &str) -> String {
    format!("你已加入 <b>{name}</b>。")
}

pub fn already_member(name: &str) -> String {
    format!("你已经是 <b>{name}</b> 的成员了，无需重复加入。")
}

pub fn moved(from: &str, to: &str) -> String {
    format!("你已从 {from} 转入 <b>{to}</b>。")
}

pub fn unknown_user(who: &str) -> String {
    format!("找不到用户“{who}”。对方需要先私聊我发送 /start，然后再授权。")
}

pub const CANNOT_REVOKE_SUPER: &str = "超级管理员由配置文件指定，无法在聊天中撤销。";

pub fn admin_list(lines: &[String]) -> String {
    if lines.is_empty() {
        "目前没有通过授权产生的管理员。".to_owned()
    } else {
        format!("<b>管理员</b>\n{}", lines.join("\n"))
    }
}

pub const STALE_BUTTON: &str = "这个按钮已失效或无法识别，请重新发送命令。";

pub fn bot_removed(branch: &str, kind: &str) -> String {
    format!(
        "⚠️ 机器人已被移出 <b>{branch}</b>（{kind}）的支部群，该支部的换届和会议提醒、测试通知都无法送达。\n\
         请联系该支部书记把机器人重新拉进群；支部的历史记录均已保留。"
    )
}
