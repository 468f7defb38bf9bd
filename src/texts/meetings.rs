//! Texts for meeting reminders and for recording meetings.

pub fn meeting_reminder(title: &str, when: &str, tomorrow: bool) -> String {
    let head = if tomorrow { "明天" } else { "今天" };
    format!(
        "⏰ 会议提醒：{head}有 <b>{title}</b>\n时间：{when}\n\n会后请点击“已召开”记录；如需改期请点击“改期”。\
         也可发送 /held {title} [日期] 记录。"
    )
}

pub const BUTTON_HELD: &str = "✅ 已召开";
pub const BUTTON_MOVE: &str = "📅 改期";

pub fn move_choices(title: &str, when: &str) -> String {
    format!("<b>{title}</b>（原定 {when}）要推迟多久？")
}

pub fn move_button(days: u8) -> String {
    match days {
        1 => "推迟1天".to_owned(),
        7 => "推迟1周".to_owned(),
        d => format!("推迟{d}天"),
    }
}

pub fn moved(title: &str, when: &str) -> String {
    format!("已将 <b>{title}</b> 改到 {when}，届时会再次提醒。")
}

pub fn held_recorded(title: &str, date: &str) -> String {
    format!("已记录：<b>{title}</b> 于 {date} 召开。")
}

/// `/held` that fulfils a planned occurrence: which one, and that its reminders stop.
pub fn held_for_planned(title: &str, date: &str, planned: &str) -> String {
    format!(
        "已记录：<b>{title}</b> 于 {date} 召开，计为计划于 {planned} 的那次会议（同一周期内），该次会议不再提醒。"
    )
}

pub const ALERT_ONLY_MANAGERS: &str = "只有本支部的管理员可以记录或改期会议。";
pub const ALERT_ALREADY_RECORDED: &str = "这次会议已经记录过了，无需重复操作。";
/// A move button pressed after the meeting was moved already (twice, or a redelivered press).
pub const ALERT_ALREADY_MOVED: &str = "这次会议已经改期，请在新的时间提醒里操作。";
pub const ALERT_NOT_FOUND: &str = "找不到这次会议，可能已被删除或改期。";
pub const ALERT_UNBOUND: &str =
    "本群已解除与支部的绑定，会议按钮不再可用。群管理员重新 /bind 后即可继续记录。";
pub const ALERT_RECORDED: &str = "已记录";
pub const ALERT_MOVED: &str = "已改期";

pub const MEETINGS_EMPTY: &str =
    "本支部还没有会议计划。发送 /plan 会议 时间 添加，例如 /plan 支委会 每月5日 15:00。";

pub fn meetings_header(branch: &str) -> String {
    format!("<b>{branch} 会议计划</b>")
}

pub fn meetings_line(title: &str, rule: &str, next: &str) -> String {
    format!("• <b>{title}</b>：{rule}\n  下次：{next}")
}

pub const MEETINGS_FOOTER: &str = "\n修改：/plan 会议 时间（如 /plan 支委会 每月5日 15:00，或 cron 表达式）\n删除：/unplan 会议\n记录：/held 会议 [日期]\n党课按季度安排属于各地常见做法（全国性规定为党委书记每年至少讲一次党课），可按本地要求修改。";

pub const NO_NEXT: &str = "（无）";

pub const PLAN_USAGE: &str = "用法：/plan 会议名称 时间\n例如：\n/plan 支委会 每月5日 15:00\n/plan 党小组会 每周三 9:30\n/plan 党员大会 每季度首月10日 14:00\n/plan 组织生活会 每年12月20日\n/plan 主题党日 0 0 9 10 * *（cron 表达式）";

pub fn plan_saved(title: &str, echo: &str, new: bool) -> String {
    let head = if new {
        "已新增会议计划"
    } else {
        "已修改会议计划"
    };
    format!("{head}：<b>{title}</b>\n{echo}")
}

pub fn plan_name_too_long(max: usize) -> String {
    format!("会议名称太长（最多 {max} 个字），请缩短后重试。\n\n{PLAN_USAGE}")
}

pub const PLAN_NO_DATE_AHEAD: &str = "按这个安排，之后没有开会日期了（cron 表达式里的年份是否已经过去？），计划没有保存。请检查时间后重新发送。";

pub fn plan_bad_schedule(error: &str) -> String {
    format!("{error}\n\n{PLAN_USAGE}")
}

pub const UNPLAN_USAGE: &str =
    "用法：/unplan 会议名称，例如 /unplan 党小组会。发送 /meetings 查看现有计划。";

pub fn plan_not_found(name: &str) -> String {
    format!("会议计划里没有“{name}”。发送 /meetings 查看现有计划。")
}

pub fn unplanned(title: &str) -> String {
    format!("已删除会议计划 <b>{title}</b>，以后不再提醒；已有记录保留。")
}

pub const HELD_USAGE: &str = "用法：/held 会议名称 [日期]，例如 /held 支委会 或 /held 主题党日 2026-12-01。不写日期即为今天。";

pub fn held_future(date: &str) -> String {
    format!("{date} 还没有到，不能记录为已召开。请会后再记录。")
}

pub fn status_meetings(held: i64, missed: i64, pending: i64) -> String {
    format!("\n\n<b>会议</b>：已召开 {held} 次，未按期召开 {missed} 次，待召开 {pending} 次。发送 /meetings 查看计划。")
}
