//! Branch committee terms (任期) and the election (换届) reminder ladder.
//!
//! Rules (DOMAIN.md §1): a branch committee serves 3–5 years (党章 第三十一条), 村/社区 5 years and
//! other branches generally 3 (支部条例 第二十一条); data from before 2017 may carry 2 or 3 years.
//! A delay needs the superior's approval and is generally at most one year (选举条例 第三条).
//! The superior reminds a branch about 6 months ahead (central organs' guidance on 旗帜网; 任期意见 三
//! only says to remind in time, DOMAIN.md §1); the written 请示 1–2 months
//! ahead is local practice (✘), so its text says so.
//!
//! Everything takes `today` as a parameter; the caller decides which calendar day "today" is in
//! the configured time zone.

use chrono::{Days, Months, NaiveDate};

use crate::domain::dates::{fold_width, parse_small_number};

/// The kinds of branch the product distinguishes; the term default and the reports follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BranchKind {
    /// 农村 — village branches, 5-year terms.
    Rural,
    /// 社区 — urban community branches, 5-year terms.
    Community,
    /// 机关 — party and state organs.
    Organ,
    /// 学校
    School,
    /// 医院
    Hospital,
    /// 国企 — state-owned enterprises.
    StateOwned,
    /// 两新 — non-public economic organisations and social organisations.
    NewSector,
    /// 其他
    Other,
}

impl BranchKind {
    /// In the order they are listed to users.
    pub const ALL: [BranchKind; 8] = [
        BranchKind::Rural,
        BranchKind::Community,
        BranchKind::Organ,
        BranchKind::School,
        BranchKind::Hospital,
        BranchKind::StateOwned,
        BranchKind::NewSector,
        BranchKind::Other,
    ];

    /// Reads a kind as a secretary types it after `/bind`: the label itself, or a common longer
    /// or shorter name (村, 国有企业, 非公, 社会组织, 农村党支部 ...).
    pub fn parse(s: &str) -> Option<BranchKind> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '「' | '」'));
        let s = ["党支部", "支部", "类"]
            .iter()
            .find_map(|suffix| s.strip_suffix(suffix).filter(|rest| !rest.is_empty()))
            .unwrap_or(s);
        let kind = match s {
            "农村" | "村" | "乡村" | "行政村" | "村级" => BranchKind::Rural,
            "社区" | "城市社区" | "居委会" | "街道社区" => BranchKind::Community,
            "机关" | "党政机关" | "国家机关" | "政府机关" => BranchKind::Organ,
            "学校" | "高校" | "大学" | "学院" | "中学" | "小学" | "中小学" | "教育" => {
                BranchKind::School
            }
            "医院" | "卫生院" | "医疗" | "卫生" | "医疗卫生" => BranchKind::Hospital,
            "国企" | "国有企业" | "国有" | "央企" | "中央企业" => {
                BranchKind::StateOwned
            }
            "两新"
            | "两新组织"
            | "非公"
            | "非公企业"
            | "非公有制"
            | "非公有制企业"
            | "非公有制经济组织"
            | "社会组织"
            | "新经济组织"
            | "新社会组织"
            | "民企"
            | "民营企业"
            | "私企" => BranchKind::NewSector,
            "其他" | "其它" => BranchKind::Other,
            _ => return None,
        };
        Some(kind)
    }

    /// 支部条例 第二十一条: 村、社区 5 years, other branches generally 3.
    pub fn default_term_years(self) -> u32 {
        match self {
            BranchKind::Rural | BranchKind::Community => 5,
            _ => 3,
        }
    }
}

/// Shortest term accepted: pre-2017 data may carry 2-year terms (2007 党章 第三十条).
pub const MIN_TERM_YEARS: u32 = 2;
/// Longest term the 党章 allows (第三十一条).
pub const MAX_TERM_YEARS: u32 = 5;

/// A committee term as stored in `terms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The election that began the term.
    pub elected_on: NaiveDate,
    /// The term length, kept so that /status can say which rule produced `ends_on`.
    pub years: u32,
    /// `elected_on` plus `years`, the end the rules give.
    pub ends_on: NaiveDate,
    /// An approved delay; the one-year limit counts from `ends_on`, never from an earlier delay.
    pub delayed_to: Option<NaiveDate>,
}

impl Term {
    /// The end that counts for reminders and for being overdue.
    pub fn end(&self) -> NaiveDate {
        self.delayed_to.unwrap_or(self.ends_on)
    }
}

/// Why `/term`, `/elected` or `/delay` was refused; the Display is the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermError {
    /// The term length was not a number of years.
    YearsUnreadable,
    /// Outside [`MIN_TERM_YEARS`]..=[`MAX_TERM_YEARS`].
    YearsOutOfRange { years: u32 },
    /// An election cannot be recorded before it happened.
    ElectedInFuture {
        elected_on: NaiveDate,
        today: NaiveDate,
    },
    /// The new election predates the term it is supposed to end.
    ElectedBeforeCurrentTerm {
        elected_on: NaiveDate,
        current_elected_on: NaiveDate,
    },
    /// A delay must move the end later.
    DelayNotAfterCurrentEnd {
        new_end: NaiveDate,
        current_end: NaiveDate,
    },
    /// A delay beyond one year past the original end (选举条例 第三条).
    DelayTooLong {
        new_end: NaiveDate,
        original_end: NaiveDate,
        limit: NaiveDate,
    },
    /// Date arithmetic left the calendar; only reachable with absurd dates.
    DateOutOfRange,
}

impl std::error::Error for TermError {}

/// The end of a term of `years` starting on `elected_on`. A term begun on 29 February ends on
/// 28 February when the end year has no leap day. `None` only outside chrono's calendar.
pub fn term_end(elected_on: NaiveDate, years: u32) -> Option<NaiveDate> {
    elected_on.checked_add_months(Months::new(years.checked_mul(12)?))
}

/// The latest end an approved delay may set: one year after the original end (选举条例 第三条).
pub fn max_delay_end(original_end: NaiveDate) -> Option<NaiveDate> {
    original_end.checked_add_months(Months::new(12))
}

/// Reads the optional term length of `/term`: `5`, `5年`, `５年`, `五年`.
pub fn parse_years(s: &str) -> Result<u32, TermError> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(fold_width)
        .collect();
    let s = s.strip_suffix('年').unwrap_or(&s);
    parse_small_number(s).ok_or(TermError::YearsUnreadable)
}

/// Checks `/term <本届选举日期> [任期年数]`; without a length the branch kind's default applies.
pub fn validate_term(
    elected_on: NaiveDate,
    years: Option<u32>,
    kind: BranchKind,
    today: NaiveDate,
) -> Result<Term, TermError> {
    let years = years.unwrap_or_else(|| kind.default_term_years());
    if !(MIN_TERM_YEARS..=MAX_TERM_YEARS).contains(&years) {
        return Err(TermError::YearsOutOfRange { years });
    }
    if elected_on > today {
        return Err(TermError::ElectedInFuture { elected_on, today });
    }
    let ends_on = term_end(elected_on, years).ok_or(TermError::DateOutOfRange)?;
    Ok(Term {
        elected_on,
        years,
        ends_on,
        delayed_to: None,
    })
}

/// Checks `/elected <日期>` and returns the term it starts.
///
/// `years` is the new term's length; the caller normally passes the branch kind's default,
/// because a 2-year term carried over from old data must not repeat. An election dated before
/// the current term began is refused: contradictory dates are one of the problems the bot
/// exists to expose (DOMAIN.md §5).
pub fn validate_elected(
    elected_on: NaiveDate,
    current: Option<&Term>,
    years: u32,
    today: NaiveDate,
) -> Result<Term, TermError> {
    if elected_on > today {
        return Err(TermError::ElectedInFuture { elected_on, today });
    }
    if let Some(current) = current {
        if elected_on <= current.elected_on {
            return Err(TermError::ElectedBeforeCurrentTerm {
                elected_on,
                current_elected_on: current.elected_on,
            });
        }
    }
    if !(MIN_TERM_YEARS..=MAX_TERM_YEARS).contains(&years) {
        return Err(TermError::YearsOutOfRange { years });
    }
    let ends_on = term_end(elected_on, years).ok_or(TermError::DateOutOfRange)?;
    Ok(Term {
        elected_on,
        years,
        ends_on,
        delayed_to: None,
    })
}

/// Checks `/delay <新届满日期>` against the term and returns it with the delay applied.
///
/// The new end must be later than the end now in force (a second approved delay may extend the
/// first) and at most one year past the original end, so repeated delays cannot add up beyond
/// what 选举条例 第三条 allows.
pub fn validate_delay(term: &Term, new_end: NaiveDate) -> Result<Term, TermError> {
    let current_end = term.end();
    if new_end <= current_end {
        return Err(TermError::DelayNotAfterCurrentEnd {
            new_end,
            current_end,
        });
    }
    let limit = max_delay_end(term.ends_on).ok_or(TermError::DateOutOfRange)?;
    if new_end > limit {
        return Err(TermError::DelayTooLong {
            new_end,
            original_end: term.ends_on,
            limit,
        });
    }
    Ok(Term {
        delayed_to: Some(new_end),
        ..*term
    })
}

/// The reminders before the term end T, each tied to the election step due at that point
/// (DOMAIN.md §1, election sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LadderStep {
    /// T−6 months: the superior's reminder (旗帜网 guidance, not 任期意见 三); preparation starts.
    SixMonths,
    /// T−3 months: the committee plans the election and checks who may vote.
    ThreeMonths,
    /// T−2 months: the committee drafts the 请示 (local practice ✘).
    TwoMonths,
    /// T−1 month: after the 批复, candidates are proposed and sent up for review.
    OneMonth,
    /// T−2 weeks: the members' meeting is prepared (candidate list, quorum, ballots).
    TwoWeeks,
    /// T−1 week: the election is held and reported.
    OneWeek,
}

impl LadderStep {
    /// Earliest first.
    pub const ALL: [LadderStep; 6] = [
        LadderStep::SixMonths,
        LadderStep::ThreeMonths,
        LadderStep::TwoMonths,
        LadderStep::OneMonth,
        LadderStep::TwoWeeks,
        LadderStep::OneWeek,
    ];

    /// The day this reminder is due for a term ending on `end`. Months are calendar months,
    /// clamped to the month's last day (T = 31 August → T−6 months = 28/29 February).
    pub fn due_date(self, end: NaiveDate) -> NaiveDate {
        let due = match self {
            LadderStep::SixMonths => end.checked_sub_months(Months::new(6)),
            LadderStep::ThreeMonths => end.checked_sub_months(Months::new(3)),
            LadderStep::TwoMonths => end.checked_sub_months(Months::new(2)),
            LadderStep::OneMonth => end.checked_sub_months(Months::new(1)),
            LadderStep::TwoWeeks => end.checked_sub_days(Days::new(14)),
            LadderStep::OneWeek => end.checked_sub_days(Days::new(7)),
        };
        due.unwrap_or(NaiveDate::MIN)
    }

    /// Stable short key, for outbox dedup keys and callback data.
    pub fn key(self) -> &'static str {
        match self {
            LadderStep::SixMonths => "6m",
            LadderStep::ThreeMonths => "3m",
            LadderStep::TwoMonths => "2m",
            LadderStep::OneMonth => "1m",
            LadderStep::TwoWeeks => "2w",
            LadderStep::OneWeek => "1w",
        }
    }

    pub fn from_key(key: &str) -> Option<LadderStep> {
        LadderStep::ALL.into_iter().find(|s| s.key() == key)
    }

    /// True when the step rests on local practice rather than a national rule (DOMAIN.md ✘),
    /// so that texts never present it as law.
    pub fn is_local_practice(self) -> bool {
        self == LadderStep::TwoMonths
    }

    /// The following step, `None` after the last.
    pub fn next(self) -> Option<LadderStep> {
        let i = LadderStep::ALL.iter().position(|s| *s == self)?;
        LadderStep::ALL.get(i + 1).copied()
    }
}

/// Where a term stands on a given day, for /status and for choosing what to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermState {
    /// The end in force (after any approved delay).
    pub end: NaiveDate,
    /// Days from today to the end; 0 on the last day and when overdue.
    pub days_left: i64,
    /// The end has passed and no election is recorded.
    pub overdue: bool,
    /// Days since the end; 0 unless overdue.
    pub days_overdue: i64,
    /// The latest ladder step already due, i.e. what the branch should be doing now.
    pub current: Option<LadderStep>,
    /// The next ladder step and its date; `None` in the last week and once overdue.
    pub next: Option<(LadderStep, NaiveDate)>,
}

/// The ladder steps still ahead of `today` or due on it, earliest first.
pub fn upcoming_steps(end: NaiveDate, today: NaiveDate) -> Vec<(LadderStep, NaiveDate)> {
    LadderStep::ALL
        .into_iter()
        .map(|step| (step, step.due_date(end)))
        .filter(|(_, due)| *due >= today)
        .collect()
}

/// Where a term ending on `end` stands on `today`. The end day itself still belongs to the term;
/// the branch is overdue from the day after.
pub fn current_state(end: NaiveDate, today: NaiveDate) -> TermState {
    let diff = (end - today).num_days();
    let overdue = diff < 0;
    let (current, next) = if overdue {
        (None, None)
    } else {
        let current = LadderStep::ALL
            .into_iter()
            .rev()
            .find(|s| s.due_date(end) <= today);
        let next = LadderStep::ALL
            .into_iter()
            .map(|s| (s, s.due_date(end)))
            .find(|(_, due)| *due > today);
        (current, next)
    };
    TermState {
        end,
        days_left: diff.max(0),
        overdue,
        days_overdue: (-diff).max(0),
        current,
        next,
    }
}

/// Days between weekly overdue notices.
pub const OVERDUE_NOTICE_INTERVAL_DAYS: u64 = 7;

/// The first overdue notice date strictly after `after`: notices fall on the day after the end,
/// then every 7 days until an election or a delay is recorded.
pub fn next_overdue_notice_after(end: NaiveDate, after: NaiveDate) -> NaiveDate {
    let first = end.succ_opt().unwrap_or(NaiveDate::MAX);
    if after < first {
        return first;
    }
    let elapsed = (after - first).num_days().unsigned_abs();
    let weeks = elapsed / OVERDUE_NOTICE_INTERVAL_DAYS + 1;
    first
        .checked_add_days(Days::new(weeks * OVERDUE_NOTICE_INTERVAL_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// Which overdue notice falls on `day` (1 = the day after the end), or `None` if none does.
/// Used to key notices so that each is sent once.
pub fn overdue_notice_number(end: NaiveDate, day: NaiveDate) -> Option<u32> {
    let since_first = (day - end).num_days() - 1;
    if since_first < 0 || since_first % OVERDUE_NOTICE_INTERVAL_DAYS as i64 != 0 {
        return None;
    }
    u32::try_from(since_first / OVERDUE_NOTICE_INTERVAL_DAYS as i64 + 1).ok()
}

/// One reminder about a term, as the scheduler queues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermReminder {
    /// A step of the ladder before the end.
    Step(LadderStep),
    /// The n-th weekly overdue notice, 1 being the day after the end.
    Overdue { number: u32 },
}

impl TermReminder {
    /// Stable key naming this reminder among a term's reminders; the caller adds the branch, the
    /// term and the end date it was computed for, so that a delay yields fresh keys.
    pub fn key(&self) -> String {
        match self {
            TermReminder::Step(step) => format!("term-{}", step.key()),
            TermReminder::Overdue { number } => format!("term-overdue-{number}"),
        }
    }

    /// The day the reminder is due for a term ending on `end`.
    pub fn due_date(&self, end: NaiveDate) -> NaiveDate {
        match *self {
            TermReminder::Step(step) => step.due_date(end),
            TermReminder::Overdue { number } => end
                .checked_add_days(Days::new(
                    1 + u64::from(number.saturating_sub(1)) * OVERDUE_NOTICE_INTERVAL_DAYS,
                ))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// The day from which a reminder not yet sent (the bot was down) is stale: the next reminder
    /// is then due and says more, so this one is skipped rather than sent late.
    pub fn stale_from(&self, end: NaiveDate) -> NaiveDate {
        match *self {
            TermReminder::Step(step) => match step.next() {
                Some(next) => next.due_date(end),
                None => end.succ_opt().unwrap_or(NaiveDate::MAX),
            },
            TermReminder::Overdue { number } => TermReminder::Overdue {
                number: number.saturating_add(1),
            }
            .due_date(end),
        }
    }
}

/// The first term reminder due strictly after `after`, with its date. There always is one,
/// since overdue notices repeat until the term is closed. No two reminders of one end fall on
/// the same day, so passing the returned date back in walks them all.
pub fn next_reminder_after(end: NaiveDate, after: NaiveDate) -> (TermReminder, NaiveDate) {
    if let Some((step, due)) = LadderStep::ALL
        .into_iter()
        .map(|s| (s, s.due_date(end)))
        .find(|(_, due)| *due > after)
    {
        return (TermReminder::Step(step), due);
    }
    let due = next_overdue_notice_after(end, after);
    let number = overdue_notice_number(end, due).unwrap_or(u32::MAX);
    (TermReminder::Overdue { number }, due)
}

/// Every term reminder that falls due on `day`, earliest step first.
pub fn reminders_due_on(end: NaiveDate, day: NaiveDate) -> Vec<TermReminder> {
    let mut due: Vec<TermReminder> = LadderStep::ALL
        .into_iter()
        .filter(|s| s.due_date(end) == day)
        .map(TermReminder::Step)
        .collect();
    if let Some(number) = overdue_notice_number(end, day) {
        due.push(TermReminder::Overdue { number });
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn arb_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..60_000).prop_map(|n| d(1950, 1, 1) + Days::new(n))
    }

    #[test]
    fn kinds_parse_from_labels_and_aliases() {
        for kind in BranchKind::ALL {
            assert_eq!(BranchKind::parse(kind.label()), Some(kind));
        }
        for (s, kind) in [
            ("村", BranchKind::Rural),
            ("农村党支部", BranchKind::Rural),
            (" 社区 ", BranchKind::Community),
            ("国有企业", BranchKind::StateOwned),
            ("非公", BranchKind::NewSector),
            ("社会组织", BranchKind::NewSector),
            ("非公有制经济组织", BranchKind::NewSector),
            ("高校", BranchKind::School),
            ("卫生院", BranchKind::Hospital),
            ("其它", BranchKind::Other),
            ("机关支部", BranchKind::Organ),
        ] {
            assert_eq!(BranchKind::parse(s), Some(kind), "{s}");
        }
        for s in ["", "支部", "公司", "farm"] {
            assert_eq!(BranchKind::parse(s), None, "{s}");
        }
    }

    #[test]
    fn labels_match_the_schema() {
        let labels: Vec<&str> = BranchKind::ALL.iter().map(|k| k.label()).collect();
        assert_eq!(
            labels,
            ["农村", "社区", "机关", "学校", "医院", "国企", "两新", "其他"]
        );
    }

    #[test]
    fn default_terms_follow_the_kind() {
        assert_eq!(BranchKind::Rural.default_term_years(), 5);
        assert_eq!(BranchKind::Community.default_term_years(), 5);
        for kind in &BranchKind::ALL[2..] {
            assert_eq!(kind.default_term_years(), 3, "{kind}");
        }
    }

    #[test]
    fn term_end_adds_calendar_years() {
        assert_eq!(term_end(d(2023, 12, 1), 3), Some(d(2026, 12, 1)));
        assert_eq!(term_end(d(2024, 2, 29), 3), Some(d(2027, 2, 28)));
        assert_eq!(term_end(d(2024, 2, 29), 4), Some(d(2028, 2, 29)));
        assert_eq!(term_end(d(2024, 2, 29), u32::MAX), None);
    }

    #[test]
    fn years_parse_in_the_forms_people_type() {
        for (s, v) in [("5", 5), ("5年", 5), ("５年", 5), ("五年", 5), (" 3 ", 3)] {
            assert_eq!(parse_years(s), Ok(v), "{s}");
        }
        for s in ["", "年", "five", "3.5", "-3"] {
            assert_eq!(parse_years(s), Err(TermError::YearsUnreadable), "{s}");
        }
    }

    #[test]
    fn term_validation() {
        let today = d(2026, 5, 1);
        let t = validate_term(d(2023, 12, 1), None, BranchKind::School, today).unwrap();
        assert_eq!(
            (t.years, t.ends_on, t.delayed_to),
            (3, d(2026, 12, 1), None)
        );
        let t = validate_term(d(2023, 12, 1), None, BranchKind::Rural, today).unwrap();
        assert_eq!(t.ends_on, d(2028, 12, 1));
        assert!(validate_term(d(2015, 1, 1), Some(2), BranchKind::Organ, today).is_ok());
        for years in [0, 1, 6, 10] {
            assert_eq!(
                validate_term(d(2023, 12, 1), Some(years), BranchKind::Organ, today),
                Err(TermError::YearsOutOfRange { years })
            );
        }
        assert_eq!(
            validate_term(d(2026, 5, 2), None, BranchKind::Organ, today),
            Err(TermError::ElectedInFuture {
                elected_on: d(2026, 5, 2),
                today
            })
        );
        assert!(validate_term(today, None, BranchKind::Organ, today).is_ok());
    }

    #[test]
    fn elected_validation() {
        let today = d(2026, 11, 20);
        let current = validate_term(d(2023, 12, 1), None, BranchKind::Organ, today).unwrap();
        let next = validate_elected(d(2026, 11, 18), Some(&current), 3, today).unwrap();
        assert_eq!(next.ends_on, d(2029, 11, 18));
        assert!(matches!(
            validate_elected(d(2026, 11, 21), Some(&current), 3, today),
            Err(TermError::ElectedInFuture { .. })
        ));
        assert!(matches!(
            validate_elected(d(2023, 12, 1), Some(&current), 3, today),
            Err(TermError::ElectedBeforeCurrentTerm { .. })
        ));
        assert!(validate_elected(d(2020, 1, 1), None, 3, today).is_ok());
        assert!(matches!(
            validate_elected(d(2026, 11, 18), None, 9, today),
            Err(TermError::YearsOutOfRange { years: 9 })
        ));
    }

    #[test]
    fn delay_is_limited_to_one_year_past_the_original_end() {
        let term = validate_term(d(2023, 12, 1), None, BranchKind::Organ, d(2026, 1, 1)).unwrap();
        let delayed = validate_delay(&term, d(2027, 6, 1)).unwrap();
        assert_eq!(delayed.end(), d(2027, 6, 1));
        assert_eq!(delayed.ends_on, d(2026, 12, 1));
        // A second delay may extend the first, but the limit stays the original end + 1 year.
        assert_eq!(
            validate_delay(&delayed, d(2027, 12, 1)).unwrap().end(),
            d(2027, 12, 1)
        );
        assert_eq!(
            validate_delay(&delayed, d(2027, 12, 2)),
            Err(TermError::DelayTooLong {
                new_end: d(2027, 12, 2),
                original_end: d(2026, 12, 1),
                limit: d(2027, 12, 1)
            })
        );
        assert_eq!(
            validate_delay(&delayed, d(2027, 6, 1)),
            Err(TermError::DelayNotAfterCurrentEnd {
                new_end: d(2027, 6, 1),
                current_end: d(2027, 6, 1)
            })
        );
        assert!(matches!(
            validate_delay(&term, d(2026, 11, 1)),
            Err(TermError::DelayNotAfterCurrentEnd { .. })
        ));
    }

    #[test]
    fn leap_day_delay_limit_clamps() {
        let term = Term {
            elected_on: d(2021, 2, 28),
            years: 3,
            ends_on: d(2024, 2, 29),
            delayed_to: None,
        };
        assert_eq!(max_delay_end(term.ends_on), Some(d(2025, 2, 28)));
        assert!(validate_delay(&term, d(2025, 2, 28)).is_ok());
        assert!(validate_delay(&term, d(2025, 3, 1)).is_err());
    }

    #[test]
    fn ladder_dates() {
        let end = d(2026, 12, 1);
        let dates: Vec<NaiveDate> = LadderStep::ALL.iter().map(|s| s.due_date(end)).collect();
        assert_eq!(
            dates,
            [
                d(2026, 6, 1),
                d(2026, 9, 1),
                d(2026, 10, 1),
                d(2026, 11, 1),
                d(2026, 11, 17),
                d(2026, 11, 24)
            ]
        );
        // Month ends clamp.
        assert_eq!(
            LadderStep::SixMonths.due_date(d(2026, 8, 31)),
            d(2026, 2, 28)
        );
        assert_eq!(
            LadderStep::SixMonths.due_date(d(2024, 8, 31)),
            d(2024, 2, 29)
        );
        assert_eq!(
            LadderStep::ThreeMonths.due_date(d(2026, 5, 31)),
            d(2026, 2, 28)
        );
        assert_eq!(
            LadderStep::OneMonth.due_date(d(2026, 3, 31)),
            d(2026, 2, 28)
        );
    }

    #[test]
    fn keys_round_trip() {
        for step in LadderStep::ALL {
            assert_eq!(LadderStep::from_key(step.key()), Some(step));
        }
        assert_eq!(LadderStep::from_key("x"), None);
        assert_eq!(TermReminder::Step(LadderStep::TwoMonths).key(), "term-2m");
        assert_eq!(TermReminder::Overdue { number: 3 }.key(), "term-overdue-3");
    }

    #[test]
    fn upcoming_includes_today() {
        let end = d(2026, 12, 1);
        let up = upcoming_steps(end, d(2026, 10, 1));
        assert_eq!(up.first(), Some(&(LadderStep::TwoMonths, d(2026, 10, 1))));
        assert_eq!(up.len(), 4);
        assert_eq!(upcoming_steps(end, d(2026, 10, 2)).len(), 3);
        assert_eq!(upcoming_steps(end, d(2026, 1, 1)).len(), 6);
        assert!(upcoming_steps(end, d(2026, 11, 25)).is_empty());
    }

    #[test]
    fn state_before_during_and_after() {
        let end = d(2026, 12, 1);
        let s = current_state(end, d(2026, 1, 1));
        assert_eq!(s.current, None);
        assert_eq!(s.next, Some((LadderStep::SixMonths, d(2026, 6, 1))));
        assert_eq!((s.days_left, s.overdue, s.days_overdue), (334, false, 0));

        let s = current_state(end, d(2026, 10, 1));
        assert_eq!(s.current, Some(LadderStep::TwoMonths));
        assert_eq!(s.next, Some((LadderStep::OneMonth, d(2026, 11, 1))));

        let s = current_state(end, d(2026, 11, 30));
        assert_eq!((s.current, s.next), (Some(LadderStep::OneWeek), None));
        assert_eq!(s.days_left, 1);

        let s = current_state(end, end);
        assert_eq!((s.days_left, s.overdue), (0, false));

        let s = current_state(end, d(2026, 12, 11));
        assert_eq!((s.days_left, s.overdue, s.days_overdue), (0, true, 10));
        assert_eq!((s.current, s.next), (None, None));
    }

    #[test]
    fn overdue_notices_are_weekly_from_the_day_after_the_end() {
        let end = d(2026, 12, 1);
        assert_eq!(
            next_overdue_notice_after(end, d(2026, 1, 1)),
            d(2026, 12, 2)
        );
        assert_eq!(
            next_overdue_notice_after(end, d(2026, 12, 1)),
            d(2026, 12, 2)
        );
        assert_eq!(
            next_overdue_notice_after(end, d(2026, 12, 2)),
            d(2026, 12, 9)
        );
        assert_eq!(
            next_overdue_notice_after(end, d(2026, 12, 8)),
            d(2026, 12, 9)
        );
        assert_eq!(
            next_overdue_notice_after(end, d(2026, 12, 9)),
            d(2026, 12, 16)
        );
        assert_eq!(overdue_notice_number(end, d(2026, 12, 1)), None);
        assert_eq!(overdue_notice_number(end, d(2026, 12, 2)), Some(1));
        assert_eq!(overdue_notice_number(end, d(2026, 12, 3)), None);
        assert_eq!(overdue_notice_number(end, d(2026, 12, 16)), Some(3));
    }

    #[test]
    fn next_reminder_walks_the_ladder_then_the_weeks() {
        let end = d(2026, 12, 1);
        let mut after = d(2026, 1, 1);
        let mut seen = Vec::new();
        for _ in 0..8 {
            let (r, due) = next_reminder_after(end, after);
            assert_eq!(r.due_date(end), due);
            assert!(reminders_due_on(end, due).contains(&r));
            seen.push(r.key());
            after = due;
        }
        assert_eq!(
            seen,
            [
                "term-6m",
                "term-3m",
                "term-2m",
                "term-1m",
                "term-2w",
                "term-1w",
                "term-overdue-1",
                "term-overdue-2"
            ]
        );
    }

    #[test]
    fn stale_from_is_the_next_reminder() {
        let end = d(2026, 12, 1);
        let r = TermReminder::Step(LadderStep::SixMonths);
        assert_eq!(r.stale_from(end), d(2026, 9, 1));
        let r = TermReminder::Step(LadderStep::OneWeek);
        assert_eq!(r.stale_from(end), d(2026, 12, 2));
        let r = TermReminder::Overdue { number: 1 };
        assert_eq!(r.stale_from(end), d(2026, 12, 9));
    }

    #[test]
    fn error_texts_explain() {
        let e = TermError::YearsOutOfRange { years: 7 }.to_string();
        assert!(e.contains('7') && e.contains("第三十一条"), "{e}");
        let e = TermError::DelayTooLong {
            new_end: d(2028, 1, 1),
            original_end: d(2026, 12, 1),
            limit: d(2027, 12, 1),
        }
        .to_string();
        assert!(
            e.contains("2027年12月1日") && e.contains("选举条例第三条"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn ladder_is_ordered_and_before_the_end(end in arb_date()) {
            let dates: Vec<NaiveDate> = LadderStep::ALL.iter().map(|s| s.due_date(end)).collect();
            prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(dates.iter().all(|x| *x < end));
            prop_assert!(end - dates[0] <= chrono::TimeDelta::days(184));
        }

        #[test]
        fn state_is_consistent(end in arb_date(), offset in -400i64..400) {
            let today = end + chrono::TimeDelta::days(offset);
            let s = current_state(end, today);
            prop_assert_eq!(s.overdue, today > end);
            prop_assert_eq!(s.days_left - s.days_overdue, (end - today).num_days());
            if let Some((_, due)) = s.next {
                prop_assert!(due > today);
            }
            let due_today = s.current.filter(|c| c.due_date(end) == today);
            let first_upcoming = upcoming_steps(end, today).first().map(|x| x.0);
            prop_assert_eq!(first_upcoming, due_today.or(s.next.map(|x| x.0)));
            if let Some(c) = s.current {
                prop_assert!(c.due_date(end) <= today);
            }
        }

        #[test]
        fn overdue_notices(end in arb_date(), offset in -30i64..400) {
            let after = end + chrono::TimeDelta::days(offset);
            let next = next_overdue_notice_after(end, after);
            prop_assert!(next > after && next > end);
            prop_assert!(overdue_notice_number(end, next).is_some());
            // Nothing in between is a notice day.
            let mut day = after.succ_opt().unwrap();
            while day < next {
                prop_assert!(overdue_notice_number(end, day).is_none());
                day = day.succ_opt().unwrap();
            }
        }

        #[test]
        fn term_end_then_delay_limit(elected in arb_date(), years in 2u32..=5) {
            let end = term_end(elected, years).unwrap();
            prop_assert!(end > elected);
            let term = Term { elected_on: elected, years, ends_on: end, delayed_to: None };
            let limit = max_delay_end(end).unwrap();
            prop_assert!(validate_delay(&term, limit).is_ok());
            prop_assert!(validate_delay(&term, limit.succ_opt().unwrap()).is_err());
        }
    }
}
