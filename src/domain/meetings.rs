//! The regular meetings of a branch (三会一课 and the rest) and the plan a new branch starts with.
//!
//! Frequencies follow DOMAIN.md §2 (支部条例 第十一条 to 第十八条). The quarterly 党课 is local
//! practice (✘): the national rule is at least one 党课 a year, and the default's note says so.
//! Days and times of the defaults are this product's choice; secretaries change them.

use chrono::{Datelike, Months, NaiveDate};

use crate::domain::dates::fold_width;

/// A kind of regular meeting; the stored key identifies it in `meeting_plans.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MeetingKind {
    /// 支部党员大会, quarterly (支部条例 第十一条).
    MembersMeeting,
    /// 支部委员会会议, monthly (支部条例 第十二条).
    CommitteeMeeting,
    /// 党小组会, monthly (支部条例 第十三条).
    GroupMeeting,
    /// 党课, quarterly by local practice; nationally at least yearly (支部条例 第十五条).
    PartyLecture,
    /// 主题党日, monthly (支部条例 第十六条).
    ThemeDay,
    /// 组织生活会, yearly, generally in the fourth quarter (支部条例 第十七条).
    OrgLifeMeeting,
    /// 民主评议党员, yearly (支部条例 第十八条).
    DemocraticAppraisal,
}

/// How often a kind of meeting is due; a period that ends with none held counts as missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    /// The calendar period containing `date`, as `[start, end)`: the month, the quarter or the
    /// year. Periods are calendar-aligned so that reports by month or quarter line up.
    pub fn period(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let (start_month, months) = match self {
            Frequency::Monthly => (date.month(), 1),
            Frequency::Quarterly => ((date.month0() / 3) * 3 + 1, 3),
            Frequency::Yearly => (1, 12),
        };
        let start = NaiveDate::from_ymd_opt(date.year(), start_month, 1).unwrap_or(date);
        let end = start
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX);
        (start, end)
    }
}

impl MeetingKind {
    /// In the order plans are listed.
    pub const ALL: [MeetingKind; 7] = [
        MeetingKind::MembersMeeting,
        MeetingKind::CommitteeMeeting,
        MeetingKind::GroupMeeting,
        MeetingKind::PartyLecture,
        MeetingKind::ThemeDay,
        MeetingKind::OrgLifeMeeting,
        MeetingKind::DemocraticAppraisal,
    ];

    /// Stable ASCII key for storage and callback data; never changes once released.
    pub fn kind_key(self) -> &'static str {
        match self {
            MeetingKind::MembersMeeting => "members_meeting",
            MeetingKind::CommitteeMeeting => "committee_meeting",
            MeetingKind::GroupMeeting => "group_meeting",
            MeetingKind::PartyLecture => "party_lecture",
            MeetingKind::ThemeDay => "theme_day",
            MeetingKind::OrgLifeMeeting => "org_life_meeting",
            MeetingKind::DemocraticAppraisal => "democratic_appraisal",
        }
    }

    pub fn from_key(key: &str) -> Option<MeetingKind> {
        MeetingKind::ALL.into_iter().find(|k| k.kind_key() == key)
    }

    /// Finds the kind from what a secretary types after `/held`: the full title, the common
    /// short names (支委会, 党员大会, 支部大会, 党日, 生活会, 评议 ...) or the storage key.
    pub fn parse_alias(s: &str) -> Option<MeetingKind> {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(fold_width)
            .collect();
        let s = s.trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '「' | '」' | '《' | '》'));
        if let Some(kind) = MeetingKind::from_key(&s.to_ascii_lowercase()) {
            return Some(kind);
        }
        let kind = match s {
            "支部党员大会" | "党员大会" | "支部大会" | "全体党员大会" | "党员会" | "大会" => {
                MeetingKind::MembersMeeting
            }
            "支部委员会会议"
            | "支部委员会"
            | "支委会"
            | "支委会议"
            | "支委会会议"
            | "支委"
            | "委员会"
            | "委员会会议" => MeetingKind::CommitteeMeeting,
            "党小组会" | "党小组会议" | "党小组" | "小组会" => {
                MeetingKind::GroupMeeting
            }
            "党课" | "讲党课" | "上党课" | "专题党课" => MeetingKind::PartyLecture,
            "主题党日" | "主题党日活动" | "党日" | "党日活动" => {
                MeetingKind::ThemeDay
            }
            "组织生活会" | "专题组织生活会" | "生活会" => {
                MeetingKind::OrgLifeMeeting
            }
            "民主评议党员" | "民主评议" | "评议党员" | "评议" => {
                MeetingKind::DemocraticAppraisal
            }
            _ => return None,
        };
        Some(kind)
    }

    /// How often the rules want it held (DOMAIN.md §2).
    pub fn frequency(self) -> Frequency {
        match self {
            MeetingKind::CommitteeMeeting | MeetingKind::GroupMeeting | MeetingKind::ThemeDay => {
                Frequency::Monthly
            }
            MeetingKind::MembersMeeting | MeetingKind::PartyLecture => Frequency::Quarterly,
            MeetingKind::OrgLifeMeeting | MeetingKind::DemocraticAppraisal => Frequency::Yearly,
        }
    }

    /// True when the frequency is local practice rather than a national rule (DOMAIN.md ✘).
    pub fn frequency_is_local_practice(self) -> bool {
        self == MeetingKind::PartyLecture
    }
}

/// One meeting of the plan a newly bound branch receives. Its title, its schedule in words
/// (`rule_text`, which parses back to `cron`) and its note on the rule and its source are
/// words, given by `texts::reminders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultMeeting {
    pub kind: MeetingKind,
    /// Stored as `meeting_plans.cron`.
    pub cron: &'static str,
}

/// The plan from DOMAIN.md §2, with days spread over the month so meetings do not pile up.
pub fn default_plan() -> Vec<DefaultMeeting> {
    MeetingKind::ALL
        .into_iter()
        .map(|kind| DefaultMeeting {
            kind,
            cron: default_cron(kind),
        })
        .collect()
}

/// The cron of each default; `texts::default_rule_text` says the same in words (tested).
fn default_cron(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::MembersMeeting => "0 0 15 20 1,4,7,10 *",
        MeetingKind::CommitteeMeeting => "0 0 15 5 * *",
        MeetingKind::GroupMeeting => "0 0 15 10 * *",
        MeetingKind::PartyLecture => "0 0 15 25 1,4,7,10 *",
        MeetingKind::ThemeDay => "0 0 9 15 * *",
        MeetingKind::OrgLifeMeeting => "0 0 15 10 12 *",
        MeetingKind::DemocraticAppraisal => "0 0 15 20 12 *",
    }
}

/// A meeting recorded as held counts for the planned occurrence when it took place at most this
/// many days before that occurrence (a meeting held early, in the same period, fulfils it);
/// earlier than that it is a meeting of its own.
pub const HELD_EARLY_WINDOW_DAYS: i64 = 45;

/// Whether a meeting held on `held_on` fulfils the planned occurrence on `planned_on`.
pub fn held_fulfils(planned_on: chrono::NaiveDate, held_on: chrono::NaiveDate) -> bool {
    planned_on - chrono::Duration::days(HELD_EARLY_WINDOW_DAYS) <= held_on
}

/// Whether a meeting held on `held_on` fulfils the occurrence planned on `planned_on` of a
/// plan with this frequency: both fall in the same calendar period (month, quarter or year),
/// whichever comes first. The rules ask for a meeting per period, not on a given day.
pub fn fulfils_in_period(
    frequency: Frequency,
    planned_on: chrono::NaiveDate,
    held_on: chrono::NaiveDate,
) -> bool {
    frequency.period(planned_on) == frequency.period(held_on)
}

/// A moved meeting counts as missed only after the day it was moved to has passed.
pub fn moved_period_end(new_at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    new_at + chrono::Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn keys_round_trip_and_are_unique() {
        for k in MeetingKind::ALL {
            assert_eq!(MeetingKind::from_key(k.kind_key()), Some(k));
            assert_eq!(MeetingKind::parse_alias(k.kind_key()), Some(k));
            assert_eq!(MeetingKind::parse_alias(k.title()), Some(k));
        }
        assert_eq!(MeetingKind::from_key("nope"), None);
    }

    #[test]
    fn aliases() {
        for (s, k) in [
            ("支委会", MeetingKind::CommitteeMeeting),
            ("党员大会", MeetingKind::MembersMeeting),
            ("支部大会", MeetingKind::MembersMeeting),
            ("主题党日", MeetingKind::ThemeDay),
            ("党日", MeetingKind::ThemeDay),
            ("党课", MeetingKind::PartyLecture),
            ("党小组会", MeetingKind::GroupMeeting),
            ("小组会", MeetingKind::GroupMeeting),
            ("组织生活会", MeetingKind::OrgLifeMeeting),
            ("生活会", MeetingKind::OrgLifeMeeting),
            ("民主评议", MeetingKind::DemocraticAppraisal),
            (" 支 委 会 ", MeetingKind::CommitteeMeeting),
            ("“党课”", MeetingKind::PartyLecture),
        ] {
            assert_eq!(MeetingKind::parse_alias(s), Some(k), "{s}");
        }
        for s in ["", "会议", "三会一课", "party"] {
            assert_eq!(MeetingKind::parse_alias(s), None, "{s}");
        }
    }

    #[test]
    fn a_meeting_held_in_the_period_of_a_planned_one_fulfils_it() {
        // Monthly: held on 2 March, planned for 5 March (ahead) or 1 March (behind).
        assert!(fulfils_in_period(
            Frequency::Monthly,
            d(2026, 3, 5),
            d(2026, 3, 2)
        ));
        assert!(fulfils_in_period(
            Frequency::Monthly,
            d(2026, 3, 1),
            d(2026, 3, 31)
        ));
        assert!(!fulfils_in_period(
            Frequency::Monthly,
            d(2026, 4, 5),
            d(2026, 3, 31)
        ));
        // Quarterly: the quarter, not 45 days.
        assert!(fulfils_in_period(
            Frequency::Quarterly,
            d(2026, 6, 30),
            d(2026, 4, 1)
        ));
        assert!(!fulfils_in_period(
            Frequency::Quarterly,
            d(2026, 7, 1),
            d(2026, 6, 30)
        ));
        // Yearly: the calendar year.
        assert!(fulfils_in_period(
            Frequency::Yearly,
            d(2026, 12, 20),
            d(2026, 1, 10)
        ));
        assert!(!fulfils_in_period(
            Frequency::Yearly,
            d(2027, 1, 5),
            d(2026, 12, 31)
        ));
    }

    #[test]
    fn periods_are_calendar_aligned() {
        assert_eq!(
            Frequency::Monthly.period(d(2026, 2, 14)),
            (d(2026, 2, 1), d(2026, 3, 1))
        );
        assert_eq!(
            Frequency::Quarterly.period(d(2026, 5, 31)),
            (d(2026, 4, 1), d(2026, 7, 1))
        );
        assert_eq!(
            Frequency::Quarterly.period(d(2026, 12, 31)),
            (d(2026, 10, 1), d(2027, 1, 1))
        );
        assert_eq!(
            Frequency::Yearly.period(d(2026, 7, 1)),
            (d(2026, 1, 1), d(2027, 1, 1))
        );
        assert_eq!(MeetingKind::PartyLecture.frequency(), Frequency::Quarterly);
        assert_eq!(MeetingKind::ThemeDay.frequency(), Frequency::Monthly);
        assert_eq!(
            MeetingKind::DemocraticAppraisal.frequency(),
            Frequency::Yearly
        );
    }

    #[test]
    fn a_meeting_held_early_in_the_window_fulfils_the_planned_one() {
        let planned = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        assert!(held_fulfils(planned, planned));
        assert!(held_fulfils(planned, planned - chrono::Duration::days(45)));
        assert!(!held_fulfils(planned, planned - chrono::Duration::days(46)));
    }
}
