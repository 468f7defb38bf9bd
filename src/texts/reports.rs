//! Words of the reports: Telegram summaries, Excel/CSV headers and chart labels.
//!
//! Functions take already formatted numbers (`"66.3"`, `"44.4%"`) so the wording can change
//! without touching the arithmetic. Nothing here escapes HTML; the callers do.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::domain::stats::ItemFlag;

/// `2026年3月1日`, the form SPEC.md names for users.
pub fn date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// `2026年3月1日 09:00`.
pub fn date_time(dt: NaiveDateTime) -> String {
    format!("{} {:02}:{:02}", date(dt.date()), dt.hour(), dt.minute())
}

// --- Round summary for administrators -------------------------------------------------------

pub fn round_title(round_id: i64) -> String {
    format!("第 {round_id} 期业务测试报告")
}
pub const ROUND_STILL_OPEN: &str = "（测试进行中，数据为截至目前的情况）";
pub fn round_period(opens: &str, closes: &str) -> String {
    format!("测试时间：{opens} 至 {closes}")
}
pub fn participation_line(participants: u32, members: u32, rate: Option<&str>) -> String {
    match rate {
        Some(rate) => format!("参加人数：{participants}/{members}（{rate}）"),
        None => format!("参加人数：{participants}"),
    }
}
pub fn average_line(average: &str) -> String {
    format!("平均分：{average} 分")
}
pub fn pass_rate_line(rate: &str, pass_mark: u32) -> String {
    format!("及格率：{rate}（及格线 {pass_mark} 分）")
}
pub fn reliability_line(value: &str) -> String {
    format!("试卷信度（KR-20）：{value}")
}
pub const BY_BRANCH: &str = "各支部情况";
pub fn branch_line(
    name: &str,
    kind: &str,
    participants: u32,
    members: u32,
    average: &str,
    pass_rate: &str,
) -> String {
    format!(
        "{name}（{kind}）：参加 {participants}/{members}，平均 {average} 分，及格率 {pass_rate}"
    )
}
pub fn branch_line_nobody(name: &str, kind: &str, members: u32) -> String {
    format!("{name}（{kind}）：无人参加（0/{members}）")
}
pub const LOWEST_BRANCHES: &str = "平均分最低的支部";
pub const BY_ORG: &str = "按组织汇总";
pub const BY_KIND: &str = "按支部类型汇总";
pub fn org_line(
    name: &str,
    branches: u32,
    participants: u32,
    members: u32,
    rate: &str,
    average: &str,
) -> String {
    format!("{name}：{branches} 个支部，参加 {participants}/{members}（{rate}），平均 {average} 分")
}
pub fn kind_line(
    kind: &str,
    branches: u32,
    participants: u32,
    members: u32,
    rate: &str,
    average: &str,
) -> String {
    format!("{kind}：{branches} 个支部，参加 {participants}/{members}（{rate}），平均 {average} 分")
}
pub fn more_orgs(n: usize) -> String {
    format!("……另有 {n} 个下级组织，见 Excel “组织汇总”表")
}
pub fn org_group(path: &str) -> String {
    format!("〔{path}〕")
}
pub fn ranked_branch(rank: usize, name: &str, average: &str) -> String {
    format!("{rank}. {name}：{average} 分")
}
pub const WEAKEST_CATEGORIES: &str = "最薄弱的知识分类";
pub fn ranked_category(rank: usize, category: &str, rate: &str, answered: u32) -> String {
    format!("{rank}. {category}：正确率 {rate}（共 {answered} 次作答）")
}
pub const WEAKEST_QUESTIONS: &str = "正确率最低的题目";
pub fn ranked_question(rank: usize, id: &str, category: &str, facility: &str) -> String {
    format!("{rank}. {id}（{category}）：正确率 {facility}")
}
pub const FLAGGED_QUESTIONS: &str = "建议复核的题目";
pub fn flagged_question(id: &str, category: &str, flags: &str) -> String {
    format!("{id}（{category}）：{flags}")
}
pub const LOWEST_SCORES: &str = "得分最低的学员";
pub fn ranked_trainee(rank: usize, branch: &str, name: &str, score: u32) -> String {
    format!("{rank}. {name}（{branch}）：{score} 分")
}
pub fn non_participants_line(count: usize) -> String {
    format!("未参加：{count} 人，名单见 Excel 报表“未参加”工作表。")
}
pub fn never_joined_line(count: usize) -> String {
    format!("未加入（名册上从未使用机器人）：{count} 人，名单见 Excel 报表“未加入”工作表。")
}
/// After a branch line counted by joined members while other branches count by roster.
pub const BY_JOINED_MARK: &str = "（按已加入人数统计）";
/// When no branch in the report has a roster yet.
pub const ALL_BY_JOINED: &str =
    "参与率按已加入机器人的人数统计：各支部尚未上传党员名册（书记在支部群发送 /roster 上传后，按名册中应参加测试的人数统计）。";
pub const BASIS_ROSTER: &str = "按名册";
/// A group's own view: what its participation counts against.
pub const BRANCH_BY_ROSTER: &str = "（按党员名册中应参加测试的人数统计）";
pub const BRANCH_BY_JOINED: &str = "（按已加入机器人的人数统计；上传党员名册后按名册统计）";
pub const BASIS_JOINED: &str = "按已加入人数统计";
pub const FILES_HINT: &str = "完整数据见随附的 Excel 和 CSV 文件。";

/// When nobody has submitted an attempt in the round.
pub fn empty_round(round_id: i64) -> String {
    format!("第 {round_id} 期测试还没有人提交答卷，暂无成绩可统计。")
}

// --- Branch view for a secretary (no personal data) ---------------------------------------------

pub fn branch_title(round_id: i64, branch: &str) -> String {
    format!("第 {round_id} 期业务测试 · {branch}")
}
pub fn branch_average_line(average: &str) -> String {
    format!("本支部平均分：{average} 分")
}
pub const BRANCH_NOBODY: &str = "本支部暂无人参加本期测试。";
pub fn branch_closes_line(closes: &str) -> String {
    format!("测试截止时间：{closes}，请提醒尚未参加的同志按时完成。")
}
pub const BRANCH_NOT_IN_REPORT: &str = "本期报告中没有本支部的数据。";

// --- Compliance ----------------------------------------------------------------------------------

pub fn compliance_title(as_of: &str) -> String {
    format!("组织生活合规情况（截至 {as_of}）")
}
pub const OVERDUE_ELECTIONS: &str = "逾期未换届的支部";
pub fn overdue_line(branch: &str, kind: &str, deadline: &str, days: i64, delayed: bool) -> String {
    let what = if delayed { "延期截止" } else { "届满" };
    format!("{branch}（{kind}）：{what} {deadline}，已逾期 {days} 天")
}
pub const APPROACHING_ELECTIONS: &str = "即将届满的支部";
pub fn approaching_line(
    branch: &str,
    kind: &str,
    deadline: &str,
    days: i64,
    delayed: bool,
) -> String {
    let what = if delayed { "延期截止" } else { "届满" };
    format!("{branch}（{kind}）：{what} {deadline}，还有 {days} 天")
}
pub fn missed_meetings_heading(start: &str, end: &str) -> String {
    format!("会议缺开情况（{start} 至 {end}）")
}
pub fn missed_meeting(meeting: &str, missed: u32, scheduled: u32) -> String {
    format!("{meeting} 缺 {missed} 次（应开 {scheduled} 次）")
}
pub fn branch_meetings_line(branch: &str, items: &str) -> String {
    format!("{branch}：{items}")
}
pub const NO_MISSED_MEETINGS: &str = "统计期内没有缺开的会议。";
pub const NO_OVERDUE_ELECTIONS: &str = "没有逾期未换届的支部。";
pub const ALL_CLEAR: &str = "所有支部均按期换届，统计期内没有缺开的会议。";
pub const ITEM_SEPARATOR: &str = "；";

// --- Flags ------------------------------------------------------------------------------------

pub fn flag(flag: ItemFlag) -> &'static str {
    match flag {
        ItemFlag::TooEasy => "过于容易",
        ItemFlag::TooHard => "过难",
        ItemFlag::NotDiscriminating => "区分度低",
        ItemFlag::Misleading => "可能有误导（区分度为负）",
    }
}

/// The flags of a question in one cell or line.
pub fn flags(flags: &[ItemFlag]) -> String {
    flags
        .iter()
        .map(|&f| flag(f))
        .collect::<Vec<_>>()
        .join("、")
}

// --- Tables: sheet names and column headers --------------------------------------------------

pub const SHEET_OVERVIEW: &str = "概况";
pub const SHEET_BRANCHES: &str = "支部";
pub const SHEET_TRAINEES: &str = "学员";
pub const SHEET_NON_PARTICIPANTS: &str = "未参加";
pub const SHEET_NEVER_JOINED: &str = "未加入";
pub const SHEET_QUESTIONS: &str = "题目";
pub const SHEET_CATEGORIES: &str = "分类";
pub const SHEET_TREND: &str = "趋势";
pub const SHEET_ELECTIONS: &str = "换届";
pub const SHEET_MEETINGS: &str = "会议";
pub const SHEET_ORGS: &str = "组织汇总";
pub const SHEET_KINDS: &str = "类型汇总";

pub const COL_DEPTH: &str = "层级";
pub const COL_ORG: &str = "组织";
pub const COL_ORG_PATH: &str = "组织路径";
pub const COL_BRANCH_COUNT: &str = "支部数";
/// Columns of the organisation path, top level first; deeper levels share the last column.
pub const COL_ORG_LEVELS: [&str; 6] = [
    "一级组织",
    "二级组织",
    "三级组织",
    "四级组织",
    "五级组织",
    "六级及以下组织",
];

pub const COL_ITEM: &str = "项目";
pub const COL_VALUE: &str = "数值";
pub const OVERVIEW_ROUND: &str = "期次";
pub const OVERVIEW_OPENS: &str = "开始时间";
pub const OVERVIEW_CLOSES: &str = "截止时间";
pub const OVERVIEW_STATUS: &str = "状态";
pub const OVERVIEW_MEMBERS: &str = "应参加人数";
pub const OVERVIEW_PARTICIPANTS: &str = "实际参加人数";
pub const OVERVIEW_PARTICIPATION: &str = "参与率";
pub const OVERVIEW_AVERAGE: &str = "平均分";
pub const OVERVIEW_PASS_RATE: &str = "及格率";
pub const OVERVIEW_PASS_MARK: &str = "及格线";
pub const OVERVIEW_RELIABILITY: &str = "信度（KR-20）";
pub const ROUND_OPEN: &str = "进行中";
pub const ROUND_CLOSED: &str = "已结束";

pub const COL_BRANCH: &str = "支部";
pub const COL_BRANCH_KIND: &str = "类型";
pub const COL_MEMBERS: &str = "应参加人数";
pub const COL_PARTICIPANTS: &str = "实参加人数";
pub const COL_BASIS: &str = "统计口径";
pub const COL_PARTICIPATION: &str = "参与率";
pub const COL_AVERAGE: &str = "平均分";
pub const COL_PASS_RATE: &str = "及格率";

pub const COL_NAME: &str = "姓名";
pub const COL_SCORE: &str = "得分";
pub const COL_CORRECT: &str = "答对题数";
pub const COL_TOTAL: &str = "总题数";
pub const COL_PASSED: &str = "是否及格";
pub const COL_OUTCOME: &str = "交卷方式";
pub const COL_FINISHED_AT: &str = "交卷时间";
pub const COL_TIME_TAKEN: &str = "用时";
pub const YES: &str = "是";
pub const NO: &str = "否";
pub const OUTCOME_FINISHED: &str = "正常交卷";
pub const OUTCOME_TIMED_OUT: &str = "超时交卷";

pub const COL_QUESTION_ID: &str = "题号";
pub const COL_CATEGORY: &str = "分类";
pub const COL_KIND: &str = "题型";
pub const COL_QUESTION_TEXT: &str = "题目";
pub const COL_ANSWERED: &str = "作答人数";
pub const COL_FACILITY: &str = "正确率";
pub const COL_DISCRIMINATION: &str = "区分度";
pub const COL_FLAGS: &str = "提示";
pub const UNKNOWN_CATEGORY: &str = "（未知分类）";

pub const COL_ANSWERS: &str = "作答次数";
pub const COL_CORRECT_ANSWERS: &str = "答对次数";
pub const COL_CORRECT_RATE: &str = "正确率";

pub const COL_ROUND: &str = "期次";
pub const COL_ROUND_LABEL: &str = "名称";

pub const COL_TERM_ENDS: &str = "届满日期";
pub const COL_DELAYED_TO: &str = "延期至";
pub const COL_STATUS: &str = "状态";
pub const COL_DAYS_LEFT: &str = "剩余天数";
pub const ELECTION_OVERDUE: &str = "已逾期";
pub const ELECTION_APPROACHING: &str = "即将届满";
pub const COL_MEETING: &str = "会议";
pub const COL_SCHEDULED: &str = "应开次数";
pub const COL_HELD: &str = "已开次数";
pub const COL_MISSED: &str = "缺开次数";

// --- Chart -------------------------------------------------------------------------------------

pub fn chart_branches_title(round_id: i64) -> String {
    format!("第 {round_id} 期各支部平均分（括号内为实参加/应参加人数）")
}
/// The figure beside a branch's bar: its average and 实参加/应参加 (by roster where it has one;
/// 已加入 marks a branch counted by its joined members).
pub fn chart_bar_value(average: &str, took: u32, due: u32, by_roster: bool) -> String {
    let basis = if by_roster { "" } else { " 已加入" };
    format!("{average}（{took}/{due}{basis}）")
}
pub fn chart_bar_nobody(due: u32, by_roster: bool) -> String {
    let basis = if by_roster { "" } else { " 已加入" };
    format!("无人参加（0/{due}{basis}）")
}
pub const CHART_TREND_TITLE: &str = "近几期平均分走势";
pub const CHART_AXIS_AVERAGE: &str = "平均分";
pub fn chart_pass_mark(pass_mark: u32) -> String {
    format!("及格线 {pass_mark}")
}
pub const CHART_NO_DATA: &str = "暂无数据";
