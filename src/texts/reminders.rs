//! Texts of dates, terms and elections, meeting schedules and meeting plans.
//!
//! Everything here is plain text without `<`, `>` or `&`, so callers may put it into an HTML
//! message as is; user-supplied parts (a branch name) are added and escaped by the caller.
//! Rules are cited by the short names of DOMAIN.md; local practice is labelled as such.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::domain::dates::DateError;
use crate::domain::meetings::{DefaultMeeting, Frequency, MeetingKind};
use crate::domain::schedule::{
    has_day_beyond_28, next_occurrences, read_cron, Rule, Schedule, ScheduleError, Timed,
    QUARTER_FIRST, QUARTER_LAST, QUARTER_SECOND,
};
use crate::domain::term::{
    current_state, BranchKind, LadderStep, Term, TermError, TermReminder, TermState,
};

// ---- dates ------------------------------------------------------------------------------------

/// `2026年12月1日`.
pub fn date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The accepted forms, named in every date refusal.
pub const DATE_FORMS: &str = "2026年12月1日、2026-12-01、2026/12/1 或 2026.12.1";

pub fn date_unreadable() -> String {
    format!("没看懂这个日期。请写成 {DATE_FORMS} 这样的形式。")
}

pub fn date_impossible(year: i32, month: u32, day: u32) -> String {
    format!("日期不存在：{year}年没有{month}月{day}日。请核对后重新输入。")
}

/// 周一 .. 周日.
pub fn weekday(w: Weekday) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][w.num_days_from_monday() as usize % 7]
}

// ---- branch kinds and terms -------------------------------------------------------------------

pub fn branch_kind_label(kind: BranchKind) -> &'static str {
    match kind {
        BranchKind::Rural => "农村",
        BranchKind::Community => "社区",
        BranchKind::Organ => "机关",
        BranchKind::School => "学校",
        BranchKind::Hospital => "医院",
        BranchKind::StateOwned => "国企",
        BranchKind::NewSector => "两新",
        BranchKind::Other => "其他",
    }
}

/// The reply to an unknown kind after `/bind`.
pub fn branch_kind_unknown() -> String {
    let kinds: Vec<&str> = BranchKind::ALL.iter().map(|k| k.label()).collect();
    format!("没看懂支部类型。可选：{}。", kinds.join("、"))
}

/// Shown when a branch has no term yet.
pub const TERM_NOT_SET: &str =
    "还没有设置本届任期。请发送 /term 本届选举日期 任期年数，例如 /term 2023年12月1日 3（年数可省略，农村、社区默认5年，其他默认3年）。";

macro_rules! local_practice {
    () => {
        "地方通行做法，不是全国统一规定"
    };
}

/// Marks a default that rests on local practice (DOMAIN.md ✘); tests look for it.
pub const LOCAL_PRACTICE_NOTE: &str = local_practice!();

pub fn term_error(e: &TermError) -> String {
    match *e {
        TermError::YearsUnreadable => {
            "没看懂任期年数。请写数字，例如 /term 2023年12月1日 3。".to_owned()
        }
        TermError::YearsOutOfRange { years } => format!(
            "任期{years}年不在允许范围内。党章第三十一条规定支部委员会每届任期三年至五年；\
             农村、社区为5年，其他支部一般为3年（支部条例第二十一条）；2017年以前的老数据可能是2年。\
             请填写2到5之间的年数。"
        ),
        TermError::ElectedInFuture { elected_on, today } => format!(
            "选举日期{}还没到（今天是{}）。请填写已经举行选举的日期。",
            date(elected_on),
            date(today)
        ),
        TermError::ElectedBeforeCurrentTerm {
            elected_on,
            current_elected_on,
        } => format!(
            "选举日期{}不晚于本届的选举日期{}，前后矛盾。请核对日期。",
            date(elected_on),
            date(current_elected_on)
        ),
        TermError::DelayNotAfterCurrentEnd {
            new_end,
            current_end,
        } => format!(
            "新的届满日期{}应晚于现在的届满日期{}。",
            date(new_end),
            date(current_end)
        ),
        TermError::DelayTooLong {
            new_end,
            original_end,
            limit,
        } => format!(
            "延期最晚只能到{}：延期换届须经上级党组织批准，延期时间一般不超过1年（选举条例第三条），\
             从原届满日期{}算起。你填写的是{}。",
            date(limit),
            date(original_end),
            date(new_end)
        ),
        TermError::DateOutOfRange => "日期超出了可以计算的范围，请核对。".to_owned(),
    }
}

/// The reply to a successful `/term`.
pub fn term_set(term: &Term) -> String {
    format!(
        "已设置本届任期：{}选举，任期{}年，{}届满。\n届满前6个月起，会在本群按步骤提醒换届工作。",
        date(term.elected_on),
        term.years,
        date(term.ends_on)
    )
}

/// The reply to a successful `/elected`.
pub fn elected_recorded(new_term: &Term) -> String {
    format!(
        "已记录换届选举：{}。新一届任期{}年，{}届满。\n\
         请将选举结果报上级党组织：委员报备案，书记、副书记报批准（支部条例第二十一条）。",
        date(new_term.elected_on),
        new_term.years,
        date(new_term.ends_on)
    )
}

/// The reply to a successful `/delay`.
pub fn delay_recorded(term: &Term) -> String {
    format!(
        "已记录经上级党组织批准的延期：届满日期改为{}（原定{}）。提醒将按新的届满日期发送。",
        date(term.end()),
        date(term.ends_on)
    )
}

/// 届满前6个月 .. 届满前1周.
pub fn ladder_step_when(step: LadderStep) -> &'static str {
    match step {
        LadderStep::SixMonths => "届满前6个月",
        LadderStep::ThreeMonths => "届满前3个月",
        LadderStep::TwoMonths => "届满前2个月",
        LadderStep::OneMonth => "届满前1个月",
        LadderStep::TwoWeeks => "届满前2周",
        LadderStep::OneWeek => "届满前1周",
    }
}

/// The election step due at a ladder step, in a few words.
pub fn election_step_title(step: LadderStep) -> &'static str {
    match step {
        LadderStep::SixMonths => "启动换届准备",
        LadderStep::ThreeMonths => "研究换届工作",
        LadderStep::TwoMonths => "起草换届请示",
        LadderStep::OneMonth => "推荐候选人预备人选",
        LadderStep::TwoWeeks => "筹备党员大会",
        LadderStep::OneWeek => "召开党员大会选举",
    }
}

/// What the step involves, with its sources (DOMAIN.md §1, election sequence).
pub fn election_step_detail(step: LadderStep) -> &'static str {
    match step {
        LadderStep::SixMonths => {
            "上级党组织应当及时提醒督促按期换届（任期意见 三）；按中央机关的工作指导（旗帜网），\
             一般在任期届满前6个月以发函或电话等形式通知，这一时间不是任期意见原文的规定。\
             支部着手准备：摸清党员情况，\
             核对有选举权的正式党员名单（预备党员和受留党察看处分的党员没有选举权，选举条例第五条），\
             考虑下届支部委员会的职数和人选。"
        }
        LadderStep::ThreeMonths => {
            "支部委员会研究换届选举工作：拟定下届委员会职数、选举时间和候选人产生办法，听取党员意见，\
             为起草请示做准备。"
        }
        LadderStep::TwoMonths => {
            "支部委员会召开会议，起草关于换届选举的请示（届期、选举时间、大会议程、委员会职数、\
             候选人产生办法），报上级党组织。"
        }
        LadderStep::OneMonth => {
            "收到上级党组织批复后，组织党员酝酿推荐，由支部委员会提出候选人预备人选，\
             报上级党组织审查同意（选举条例第十四条）。"
        }
        LadderStep::TwoWeeks => {
            "确定候选人名单，差额不少于应选人数的20%（选举条例第十三条）；通知全体党员，\
             准备选票和选举办法。有选举权的到会党员超过应到会人数的五分之四，会议方可进行选举（选举条例）。"
        }
        LadderStep::OneWeek => {
            "在届满前召开党员大会，以无记名投票方式选举新一届支部委员会；新一届委员会选举书记、副书记。\
             选举结果报上级党组织：委员报备案，书记、副书记报批准（支部条例第二十一条）。"
        }
    }
}

/// The practice caveat of a step, if it has one.
fn step_practice_note(step: LadderStep) -> Option<&'static str> {
    step.is_local_practice().then_some(concat!(
        "（届满前1至2个月报送请示是",
        local_practice!(),
        "，具体以上级党组织要求为准。）"
    ))
}

const AFTER_ELECTION_HINT: &str =
    "完成选举后请发送 /elected 选举日期；已获上级批准延期的，请发送 /delay 新届满日期。";

/// The group message of a ladder step. It names the end date rather than the days left, so it
/// stays true when it is sent late.
pub fn step_reminder(step: LadderStep, end: NaiveDate) -> String {
    let mut lines = vec![
        format!("【换届提醒】{}", ladder_step_when(step)),
        format!("本届支部委员会任期将于{}届满。", date(end)),
        format!("现在应做：{}", election_step_title(step)),
        election_step_detail(step).to_owned(),
    ];
    if let Some(note) = step_practice_note(step) {
        lines.push(note.to_owned());
    }
    match step.next() {
        Some(next) => lines.push(format!(
            "下一步：{}（{}）{}",
            date(next.due_date(end)),
            ladder_step_when(next),
            election_step_title(next)
        )),
        None => lines.push(AFTER_ELECTION_HINT.to_owned()),
    }
    lines.join("\n")
}

/// The weekly message to the group once the term has ended with no election recorded.
pub fn overdue_notice(end: NaiveDate, days_overdue: i64) -> String {
    format!(
        "【换届逾期】本届支部委员会任期已于{}届满，已逾期{}天，尚未记录换届选举。\n\
         请尽快召开党员大会完成换届选举。确需延期的，须报上级党组织批准，延期一般不超过1年（选举条例第三条）。\n\
         {AFTER_ELECTION_HINT}\n\
         本提醒每周发送一次，直到记录换届或延期。",
        date(end),
        days_overdue
    )
}

/// Heading of the admin-chat notice; the caller lists the branches under it.
pub const OVERDUE_ADMIN_HEADER: &str = "【换届逾期】以下支部任期已届满，尚未记录换届选举：";

/// Heads the administrators' group's notice of meetings whose period ended unrecorded.
pub const MISSED_ADMIN_HEADER: &str =
    "【会议未按期召开】以下会议期限已过，仍未记录召开，请督促支部补开并在支部群里用 /held 记录：";

/// One missed meeting in that notice.
pub fn missed_admin_line(branch: &str, meeting: &str, when: &str) -> String {
    format!("• <b>{branch}</b>：{meeting}（原定 {when}）")
}

pub fn missed_admin_more(n: usize) -> String {
    format!("……另有 {n} 项，私聊我发送 /overdue 查看全部。")
}

/// Follows the escaped branch name in the admin-chat notice.
pub fn overdue_admin_detail(end: NaiveDate, days_overdue: i64) -> String {
    format!("（{}届满，已逾期{}天）", date(end), days_overdue)
}

/// The /status block of a term.
pub fn term_status(term: &Term, state: &TermState) -> String {
    let mut lines = vec![
        "【换届情况】".to_owned(),
        format!(
            "本届选举日期：{}（任期{}年）",
            date(term.elected_on),
            term.years
        ),
    ];
    match term.delayed_to {
        Some(delayed) => {
            lines.push(format!("原定届满日期：{}", date(term.ends_on)));
            lines.push(format!("经批准延期至：{}", date(delayed)));
        }
        None => lines.push(format!("任期届满日期：{}", date(state.end))),
    }
    if state.overdue {
        lines.push(format!(
            "状态：已逾期{}天，尚未记录换届选举",
            state.days_overdue
        ));
        lines.push(
            "下一步：尽快召开党员大会完成选举，或报上级党组织批准延期（一般不超过1年，选举条例第三条）"
                .to_owned(),
        );
        lines.push(AFTER_ELECTION_HINT.to_owned());
        return lines.join("\n");
    }
    if state.days_left == 0 {
        lines.push("剩余天数：今天届满".to_owned());
    } else {
        lines.push(format!("剩余天数：{}天", state.days_left));
    }
    lines.push("状态：未逾期".to_owned());
    match state.current {
        Some(step) => lines.push(format!(
            "当前阶段：{}（{}起）",
            election_step_title(step),
            ladder_step_when(step)
        )),
        None => lines.push("当前阶段：任期内，暂无换届事项".to_owned()),
    }
    match state.next {
        Some((step, due)) => lines.push(format!(
            "下一步：{}（{}）{}",
            date(due),
            ladder_step_when(step),
            election_step_title(step)
        )),
        None => lines.push(format!(
            "下一步：在{}前召开党员大会完成选举",
            date(state.end)
        )),
    }
    lines.join("\n")
}

// ---- schedules --------------------------------------------------------------------------------

/// Examples of every form the schedule parser reads; part of every schedule refusal.
pub const SCHEDULE_EXAMPLES: &str = "可以这样写：\n\
每月5日 15:00\n\
每月5号15点\n\
每周三 9:30\n\
每周一、周四 9:00\n\
每月第一个周五 15:00\n\
每季度首月10日 14:00\n\
每年12月20日（不写时间按9:00）\n\
也可以写 cron 表达式，例如 0 15 5 * *（依次为 分 时 日 月 星期）";

pub fn schedule_error(e: ScheduleError) -> String {
    let reason = match e {
        ScheduleError::Unrecognized => "没看懂这个时间安排。",
        ScheduleError::BadTime => "时间不对：小时应在0到23之间，分钟在0到59之间。",
        ScheduleError::BadDay => "日期不对：月份应在1到12之间，并且这个月要有这一天。",
        ScheduleError::BadCron => "这个 cron 表达式无效。",
        ScheduleError::Never => "按这个安排，永远不会有开会日期。",
        ScheduleError::TooFrequent => "安排太密了：会议最多每天一次。",
        ScheduleError::LastDayUnsupported => {
            "暂不支持“每月最后一天”，可以改成每月28日或其他固定日期。"
        }
    };
    format!("{reason}\n{SCHEDULE_EXAMPLES}")
}

/// `15:00`, `9:30`.
pub fn clock(hour: u32, minute: u32) -> String {
    format!("{hour}:{minute:02}")
}

fn day_list(days: &[u32]) -> String {
    days.iter()
        .map(|d| format!("{d}日"))
        .collect::<Vec<_>>()
        .join("、")
}

/// 1 = Monday .. 7 = Sunday.
fn weekday_number(day: u32) -> &'static str {
    match day {
        1 => "周一",
        2 => "周二",
        3 => "周三",
        4 => "周四",
        5 => "周五",
        6 => "周六",
        _ => "周日",
    }
}

pub fn rule_daily() -> String {
    "每天".to_owned()
}

pub fn rule_monthly(days: &[u32]) -> String {
    format!("每月{}", day_list(days))
}

pub fn rule_yearly(month: u32, days: &[u32]) -> String {
    format!("每年{month}月{}", day_list(days))
}

/// `which`: 1 = the first month of each quarter, 2 = the second, 3 = the last.
pub fn rule_quarterly(which: u32, days: &[u32]) -> String {
    let month = match which {
        1 => "首月",
        2 => "第二个月",
        _ => "末月",
    };
    format!("每季度{month}{}", day_list(days))
}

pub fn rule_nth_weekday(nth: u32, weekday: u32) -> String {
    let nth = ["一", "二", "三", "四"]
        .get(nth.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("一");
    format!("每月第{nth}个{}", weekday_number(weekday))
}

/// `weekdays`: 1 = Monday .. 7 = Sunday, sorted. Runs of three or more read as a range
/// (`每周一至周五`).
pub fn rule_weekly(weekdays: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < weekdays.len() {
        let mut j = i;
        while j + 1 < weekdays.len() && weekdays[j + 1] == weekdays[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            parts.push(format!(
                "{}至{}",
                weekday_number(weekdays[i]),
                weekday_number(weekdays[j])
            ));
        } else {
            parts.extend(
                weekdays[i..=j]
                    .iter()
                    .map(|d| weekday_number(*d).to_owned()),
            );
        }
        i = j + 1;
    }
    format!("每{}", parts.join("、"))
}

/// A cron expression that has no words.
pub fn schedule_cron_fallback(cron: &str) -> String {
    format!("按 cron 表达式 {cron}")
}

/// Shown under a schedule naming a day some months lack.
pub const SCHEDULE_SHORT_MONTH_NOTE: &str = "注意：没有这一天的月份不会安排。";

/// Shown when a schedule has no dates left.
pub const SCHEDULE_NO_MORE_DATES: &str = "按这个安排，之后没有开会日期了，请检查。";

/// `2026年12月5日（周六）15:00`.
pub fn datetime_local(d: &DateTime<Tz>) -> String {
    format!(
        "{}（{}）{}",
        date(d.date_naive()),
        weekday(d.weekday()),
        clock(d.hour(), d.minute())
    )
}

/// 北京时间 for the zones of China, otherwise the zone's name.
pub fn zone_label(tz: Tz) -> String {
    match tz {
        Tz::Asia__Shanghai | Tz::Asia__Chongqing | Tz::Asia__Harbin | Tz::PRC => {
            "北京时间".to_owned()
        }
        other => format!("{} 时间", other.name()),
    }
}

/// The understood schedule and its next dates, echoed after a secretary sets one.
pub fn schedule_echo(
    description: &str,
    next: &[DateTime<Tz>],
    tz: Tz,
    short_month_note: bool,
) -> String {
    let mut lines = vec![format!("我理解的安排：{description}")];
    if next.is_empty() {
        lines.push(SCHEDULE_NO_MORE_DATES.to_owned());
    } else {
        lines.push(format!("接下来的日期（{}）：", zone_label(tz)));
        lines.extend(next.iter().map(datetime_local));
    }
    if short_month_note {
        lines.push(SCHEDULE_SHORT_MONTH_NOTE.to_owned());
    }
    lines.join("\n")
}

// ---- meetings ---------------------------------------------------------------------------------

pub fn meeting_title(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::MembersMeeting => "支部党员大会",
        MeetingKind::CommitteeMeeting => "支部委员会会议",
        MeetingKind::GroupMeeting => "党小组会",
        MeetingKind::PartyLecture => "党课",
        MeetingKind::ThemeDay => "主题党日",
        MeetingKind::OrgLifeMeeting => "组织生活会",
        MeetingKind::DemocraticAppraisal => "民主评议党员",
    }
}

pub fn frequency_label(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "每月",
        Frequency::Quarterly => "每季度",
        Frequency::Yearly => "每年",
    }
}

/// The default schedule in words; must read back to the default cron (tested in meetings).
pub fn default_rule_text(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::MembersMeeting => "每季度首月20日 15:00",
        MeetingKind::CommitteeMeeting => "每月5日 15:00",
        MeetingKind::GroupMeeting => "每月10日 15:00",
        MeetingKind::PartyLecture => "每季度首月25日 15:00",
        MeetingKind::ThemeDay => "每月15日 9:00",
        MeetingKind::OrgLifeMeeting => "每年12月10日 15:00",
        MeetingKind::DemocraticAppraisal => "每年12月20日 15:00",
    }
}

/// The rule behind each default and its source (DOMAIN.md §2).
pub fn meeting_note(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::MembersMeeting => {
            "一般每季度召开一次（支部条例第十一条）。表决事项须经应到会有表决权党员的半数以上同意。"
        }
        MeetingKind::CommitteeMeeting => {
            "一般每月召开一次，须有半数以上委员到会（支部条例第十二条）。"
        }
        MeetingKind::GroupMeeting => "一般每月召开一次（支部条例第十三条）。",
        MeetingKind::PartyLecture => concat!(
            "每季度一次是",
            local_practice!(),
            "，可按本地要求修改；全国性的要求是党委（党组）书记每年至少讲一次党课（支部条例第十五条）。"
        ),
        MeetingKind::ThemeDay => "每月相对固定一天开展（支部条例第十六条）。",
        MeetingKind::OrgLifeMeeting => {
            "每年至少召开一次，一般安排在第四季度（支部条例第十七条）。"
        }
        MeetingKind::DemocraticAppraisal => {
            "一般每年开展一次，按个人自评、党员互评、民主测评进行（支部条例第十八条）。"
        }
    }
}

// ---- domain values in words ------------------------------------------------------------------
//
// The domain types carry no wording; their words are given here, so that `domain` never depends
// on `texts` and every sentence stays in one place.

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DateError::Unreadable => f.write_str(&date_unreadable()),
            DateError::Impossible { year, month, day } => {
                f.write_str(&date_impossible(year, month, day))
            }
        }
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&schedule_error(*self))
    }
}

impl fmt::Display for TermError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&term_error(self))
    }
}

impl fmt::Display for BranchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl BranchKind {
    /// The name users see; it is also the value stored in `branches.kind`.
    pub fn label(self) -> &'static str {
        branch_kind_label(self)
    }
}

impl MeetingKind {
    /// The full name shown to users, e.g. 支部委员会会议.
    pub fn title(self) -> &'static str {
        meeting_title(self)
    }
}

impl Frequency {
    /// 每月 / 每季度 / 每年, for plans and reports.
    pub fn label(self) -> &'static str {
        frequency_label(self)
    }
}

impl DefaultMeeting {
    /// Stored as `meeting_plans.title`.
    pub fn title(&self) -> &'static str {
        self.kind.title()
    }

    /// The schedule in words, stored as `meeting_plans.rule_text`; parses back to `cron`.
    pub fn rule_text(&self) -> &'static str {
        default_rule_text(self.kind)
    }

    /// The rule and its source, shown with the plan; says when a default is local practice.
    pub fn note(&self) -> &'static str {
        meeting_note(self.kind)
    }
}

impl TermReminder {
    /// The message for the branch group; plain text, free of `<`, `>` and `&`.
    pub fn message(&self, end: NaiveDate, today: NaiveDate) -> String {
        match *self {
            TermReminder::Step(step) => step_reminder(step, end),
            TermReminder::Overdue { .. } => {
                overdue_notice(end, current_state(end, today).days_overdue)
            }
        }
    }
}

/// The /status block for a term on `today`; plain text without `<`, `>` or `&`.
pub fn status_text(term: &Term, today: NaiveDate) -> String {
    term_status(term, &current_state(term.end(), today))
}

impl Timed {
    /// `每月5日 15:00`: the words `parse_schedule` reads back to the same cron.
    pub fn describe(&self) -> String {
        let time = clock(self.hour, self.minute);
        let rule = match &self.rule {
            Rule::Daily => rule_daily(),
            Rule::MonthDays { months: None, days } => rule_monthly(days),
            Rule::MonthDays {
                months: Some(months),
                days,
            } => match months.as_slice() {
                [m] => rule_yearly(*m, days),
                m if m == QUARTER_FIRST => rule_quarterly(1, days),
                m if m == QUARTER_SECOND => rule_quarterly(2, days),
                m if m == QUARTER_LAST => rule_quarterly(3, days),
                _ => rule_monthly(days),
            },
            Rule::NthWeekday { nth, weekday } => rule_nth_weekday(*nth, *weekday),
            Rule::Weekly { weekdays } => rule_weekly(weekdays),
        };
        format!("{rule} {time}")
    }
}

impl Schedule {
    /// What the bot understood, in Chinese, e.g. `每月5日 15:00`; shapes without words show the
    /// expression itself. Free of `<`, `>` and `&`.
    pub fn description(&self) -> String {
        read_cron(&self.cron)
            .map(|timed| timed.describe())
            .unwrap_or_else(|| schedule_cron_fallback(&self.cron))
    }
}

/// What the bot understood and the next three dates, for replying to the secretary.
pub fn echo(schedule: &Schedule, tz: Tz, now: DateTime<Utc>) -> String {
    let next: Vec<DateTime<Tz>> = next_occurrences(&schedule.cron, tz, now, 3)
        .into_iter()
        .map(|d| d.with_timezone(&tz))
        .collect();
    schedule_echo(
        &schedule.description(),
        &next,
        tz,
        has_day_beyond_28(&schedule.cron),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::parse_date;
    use crate::domain::meetings::default_plan;
    use crate::domain::schedule::parse_schedule;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
    }

    fn html_safe(s: &str) -> bool {
        !s.contains(['<', '>', '&'])
    }

    #[test]
    fn formats_without_padding() {
        assert_eq!(date(d(2026, 12, 1)), "2026年12月1日");
        assert_eq!(date(d(2027, 3, 15)), "2027年3月15日");
    }

    #[test]
    fn messages_name_the_forms_and_are_html_safe() {
        let unreadable = DateError::Unreadable.to_string();
        assert!(unreadable.contains("2026年12月1日"));
        assert!(unreadable.contains("2026-12-01"));
        let impossible = parse_date("2026年2月30日").unwrap_err().to_string();
        assert!(impossible.contains("2月30日"));
        for m in [unreadable, impossible] {
            assert!(!m.contains(['<', '>', '&']));
        }
    }

    #[test]
    fn echo_shows_the_rule_and_three_dates() {
        let tz = chrono_tz::Asia::Shanghai;
        let s = parse_schedule("每月5号15点").unwrap();
        let e = echo(&s, tz, utc(2026, 1, 1, 0, 0));
        assert!(e.contains("每月5日 15:00"), "{e}");
        assert!(e.contains("2026年1月5日"), "{e}");
        assert!(e.contains("2026年2月5日"), "{e}");
        assert!(e.contains("2026年3月5日"), "{e}");
        assert!(e.contains("15:00"), "{e}");
        assert!(!e.contains(['<', '>', '&']), "{e}");
        let s = parse_schedule("每月31日").unwrap();
        let e = echo(&s, tz, utc(2026, 1, 1, 0, 0));
        assert!(e.contains(SCHEDULE_SHORT_MONTH_NOTE), "{e}");
        let s = parse_schedule("0 0 9 1 1 * 2020").unwrap();
        let e = echo(&s, tz, utc(2026, 1, 1, 0, 0));
        assert!(e.contains(SCHEDULE_NO_MORE_DATES), "{e}");
    }

    #[test]
    fn texts_name_the_step_and_the_end_and_mark_practice() {
        let end = d(2026, 12, 1);
        for step in LadderStep::ALL {
            let m = TermReminder::Step(step).message(end, step.due_date(end));
            assert!(m.contains("2026年12月1日"), "{m}");
            assert!(m.contains(election_step_title(step)), "{m}");
            assert!(html_safe(&m), "{m}");
            assert_eq!(m.contains(LOCAL_PRACTICE_NOTE), step.is_local_practice());
        }
        let m = TermReminder::Overdue { number: 2 }.message(end, d(2026, 12, 9));
        assert!(m.contains("2026年12月1日") && m.contains("8天"), "{m}");
        assert!(html_safe(&m));
    }

    #[test]
    fn default_rule_texts_parse_to_their_cron() {
        let plan = default_plan();
        assert_eq!(plan.len(), MeetingKind::ALL.len());
        for m in &plan {
            let parsed = parse_schedule(m.rule_text())
                .unwrap_or_else(|e| panic!("{}: {e:?}", m.rule_text()));
            assert_eq!(parsed.cron, m.cron, "{}", m.title());
            assert_eq!(parsed.description(), m.rule_text(), "{}", m.title());
            assert!(cron::Schedule::try_from(m.cron).is_ok());
            for s in [m.title(), m.rule_text(), m.note()] {
                assert!(!s.contains(['<', '>', '&']), "{s}");
            }
        }
    }

    #[test]
    fn default_plan_follows_the_rules() {
        let plan = default_plan();
        let find = |k: MeetingKind| plan.iter().find(|m| m.kind == k).unwrap();
        assert_eq!(
            find(MeetingKind::CommitteeMeeting).rule_text(),
            "每月5日 15:00"
        );
        // Yearly meetings fall in the fourth quarter (支部条例 第十七条).
        for k in [
            MeetingKind::OrgLifeMeeting,
            MeetingKind::DemocraticAppraisal,
        ] {
            assert!(find(k).cron.split(' ').nth(4) == Some("12"));
        }
        // The quarterly 党课 is marked as local practice and names the national rule.
        let lecture = find(MeetingKind::PartyLecture).note();
        assert!(lecture.contains(LOCAL_PRACTICE_NOTE), "{lecture}");
        assert!(lecture.contains("每年至少"), "{lecture}");
        for m in &plan {
            assert_eq!(
                m.note().contains(LOCAL_PRACTICE_NOTE),
                m.kind.frequency_is_local_practice()
            );
            assert!(m.note().contains("支部条例"), "{}", m.note());
        }
    }

    #[test]
    fn status_texts_are_html_safe_on_every_day_around_the_end() {
        let end = d(2026, 12, 1);
        let term = Term {
            elected_on: d(2023, 12, 1),
            years: 3,
            ends_on: end,
            delayed_to: None,
        };
        for offset in -400..400 {
            let today = end + chrono::TimeDelta::days(offset);
            assert!(html_safe(&status_text(&term, today)));
        }
    }

    #[test]
    fn constants_are_html_safe() {
        let mut all: Vec<String> = vec![
            TERM_NOT_SET.to_owned(),
            SCHEDULE_EXAMPLES.to_owned(),
            OVERDUE_ADMIN_HEADER.to_owned(),
            branch_kind_unknown(),
            date_unreadable(),
        ];
        for step in LadderStep::ALL {
            all.push(election_step_detail(step).to_owned());
        }
        for kind in MeetingKind::ALL {
            all.push(meeting_note(kind).to_owned());
        }
        for s in all {
            assert!(!s.contains(['<', '>', '&']), "{s}");
        }
    }

    #[test]
    fn zone_labels() {
        assert_eq!(zone_label(chrono_tz::Asia::Shanghai), "北京时间");
        assert_eq!(zone_label(chrono_tz::Europe::Berlin), "Europe/Berlin 时间");
    }

    #[test]
    fn only_the_request_step_is_practice() {
        for step in LadderStep::ALL {
            let m = step_reminder(step, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
            assert_eq!(
                m.contains(LOCAL_PRACTICE_NOTE),
                step == LadderStep::TwoMonths
            );
        }
    }
}
