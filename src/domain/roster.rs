//! The branch roster (党员名册) as rules: who a person is, who is due to take the test, and the
//! election arithmetic a secretary needs, each rule with its source (see `DOMAIN.md`).
//!
//! Pure: no storage, no wording. The words for 身份 and 职务 as users type them are parsed here
//! (they are input, like `BranchKind::parse`); how they are shown lives in `texts::roster`.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::numbers::fold_width;
use crate::domain::term::{LadderStep, TermReminder};

/// 身份: a person's standing in the party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// 正式党员
    Full,
    /// 预备党员
    Probationary,
    /// 发展对象
    Candidate,
    /// 入党积极分子
    Activist,
    /// 其他 (群众, 团员 on a combined list ...)
    Other,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Full,
        Status::Probationary,
        Status::Candidate,
        Status::Activist,
        Status::Other,
    ];

    /// The stable key stored in the database.
    pub fn key(self) -> &'static str {
        match self {
            Status::Full => "full",
            Status::Probationary => "probationary",
            Status::Candidate => "candidate",
            Status::Activist => "activist",
            Status::Other => "other",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Reads 身份 as a sheet has it: the word itself or a common short form.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match compact(s).as_str() {
            "正式党员" | "正式" | "党员" | "中共党员" => Status::Full,
            "预备党员" | "预备" | "中共预备党员" => Status::Probationary,
            "发展对象" => Status::Candidate,
            "入党积极分子" | "积极分子" => Status::Activist,
            "其他" | "群众" | "共青团员" | "团员" => Status::Other,
            _ => return None,
        })
    }

    /// A member of the party: counted for the size of the branch (支部条例 第四条).
    pub fn is_member(self) -> bool {
        matches!(self, Status::Full | Status::Probationary)
    }
}

/// 职务 in the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Duty {
    /// 书记
    Secretary,
    /// 副书记
    Deputy,
    /// 组织委员
    Organisation,
    /// 宣传委员
    Propaganda,
    /// 纪检委员
    Discipline,
    /// 党务工作者
    Worker,
}

impl Duty {
    pub const ALL: [Duty; 6] = [
        Duty::Secretary,
        Duty::Deputy,
        Duty::Organisation,
        Duty::Propaganda,
        Duty::Discipline,
        Duty::Worker,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Duty::Secretary => "secretary",
            Duty::Deputy => "deputy",
            Duty::Organisation => "organisation",
            Duty::Propaganda => "propaganda",
            Duty::Discipline => "discipline",
            Duty::Worker => "worker",
        }
    }

    pub fn from_key(key: &str) -> Option<Duty> {
        Duty::ALL.into_iter().find(|d| d.key() == key)
    }

    /// Reads 职务 as a sheet has it; `Ok(None)` for an empty cell or 无.
    pub fn parse(s: &str) -> Result<Option<Duty>, UnknownDuty> {
        Ok(Some(match compact(s).as_str() {
            "" | "无" | "-" | "/" => return Ok(None),
            "书记" | "支部书记" | "党支部书记" => Duty::Secretary,
            "副书记" | "支部副书记" | "党支部副书记" => Duty::Deputy,
            "组织委员" => Duty::Organisation,
            "宣传委员" => Duty::Propaganda,
            "纪检委员" | "纪律检查委员" => Duty::Discipline,
            "党务工作者" | "党务干部" | "党务专干" => Duty::Worker,
            _ => return Err(UnknownDuty),
        }))
    }
}

/// A 职务 the roster does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownDuty;

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// One person on a branch's roster, as a sheet row gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// 姓名, unique within the branch.
    pub name: String,
    pub status: Status,
    pub duty: Option<Duty>,
    /// 11 digits, see [`normalize_phone`].
    pub phone: Option<String>,
    /// 参加业务测试 as written: `None` leaves it to the deployment's default ([`TestScope`]).
    pub takes_test: Option<bool>,
    /// 入党日期: for a 预备党员 the day the 支部大会 admitted them, when the 预备期 starts.
    pub joined_on: Option<NaiveDate>,
    /// 转正日期
    pub full_on: Option<NaiveDate>,
    /// 留党察看: still a member, but without the vote (选举条例 第五条).
    pub on_probation: bool,
}

/// Who is due to take the test when 参加业务测试 is left empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestScope {
    /// Everyone with a 职务 (党务工作者 included): the seed's test is for 党务干部 (DOMAIN §5).
    #[default]
    Cadres,
    /// All 正式 and 预备 党员.
    AllMembers,
}

impl Person {
    /// Whether this person is due to take the test: an explicit 是/否 wins, otherwise `scope`.
    pub fn due_for_test(&self, scope: TestScope) -> bool {
        self.takes_test.unwrap_or(match scope {
            TestScope::Cadres => self.duty.is_some(),
            TestScope::AllMembers => self.status.is_member(),
        })
    }

    /// Has the vote: a 正式党员 not under 留党察看 (选举条例 第五条).
    pub fn may_vote(&self) -> bool {
        self.status == Status::Full && !self.on_probation
    }

    /// The day a 预备党员's one-year 预备期 ends (党章 第七条), when the roster has 入党日期.
    pub fn probation_ends(&self) -> Option<NaiveDate> {
        if self.status != Status::Probationary || self.full_on.is_some() {
            return None;
        }
        self.joined_on?.checked_add_months(Months::new(12))
    }

    /// A 预备党员 whose 预备期 ended by `today` with no 转正 recorded: the branch must decide on
    /// 转正 (or record an extension, 发展细则 第三十二条).
    pub fn probation_overdue(&self, today: NaiveDate) -> bool {
        self.probation_ends().is_some_and(|end| end <= today)
    }
}

/// Reads a mainland mobile number as sheets and Telegram write it (`138 0013 8000`,
/// `+86-13800138000`, `8613800138000`, full-width digits) to its 11 digits; `None` when it is
/// not one.
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .map(fold_width)
        .filter(|c| !matches!(c, ' ' | '-' | '+' | '(' | ')'))
        .collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let local = match digits.len() {
        11 => digits.as_str(),
        13 if digits.starts_with("86") => &digits[2..],
        15 if digits.starts_with("0086") => &digits[4..],
        _ => return None,
    };
    let mut chars = local.chars();
    let valid = chars.next() == Some('1') && chars.next().is_some_and(|c| ('3'..='9').contains(&c));
    valid.then(|| local.to_owned())
}

/// A phone number for an administrator's file: all but the last four digits hidden.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    let keep = n.saturating_sub(4);
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { c })
        .collect()
}

// ---- election arithmetic --------------------------------------------------------------------

/// A branch's numbers, counted from its current roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// 正式党员 (those under 留党察看 included: they remain full members).
    pub full: usize,
    /// 预备党员
    pub probationary: usize,
    /// 有选举权的正式党员: full members not under 留党察看 (选举条例 第五条).
    pub voters: usize,
}

impl Counts {
    pub fn of<'a>(people: impl IntoIterator<Item = &'a Person>) -> Counts {
        people.into_iter().fold(Counts::default(), |mut c, p| {
            match p.status {
                Status::Full => c.full += 1,
                Status::Probationary => c.probationary += 1,
                _ => {}
            }
            c.voters += usize::from(p.may_vote());
            c
        })
    }

    /// 党员: full and probationary members.
    pub fn members(&self) -> usize {
        self.full + self.probationary
    }
}

/// The least number of voting members present for an election meeting to be valid: present
/// must exceed four fifths of those due (到会有选举权的党员超过应到会人数的五分之四, 选举条例).
/// "Exceed" is strict: 5 of 5 is valid, 4 of 5 is not.
pub fn quorum(due: usize) -> usize {
    (4 * due / 5 + 1).min(due.max(1))
}

/// Whether `present` voting members out of `due` make an election meeting valid.
pub fn is_quorate(present: usize, due: usize) -> bool {
    due > 0 && 5 * present > 4 * due
}

/// The least number of candidates for `seats` committee seats: 差额 at least 20% of the seats
/// (选举条例 第十三条), rounded up to whole people. 3 seats → 4 candidates, 5 → 6, 7 → 9.
pub fn least_candidates(seats: usize) -> usize {
    seats + seats.div_ceil(5)
}

/// Votes in favour a 党员大会 decision needs: more than half of the voting members due
/// (支部条例 第十一条).
pub fn majority_of(due: usize) -> usize {
    due / 2 + 1
}

/// Full members from which a branch sets up a 支部委员会; below it, only a 书记 (and a 副书记 if
/// needed) is elected (支部条例).
pub const COMMITTEE_FROM_FULL: usize = 7;
/// A branch generally has at most this many members (支部条例 第四条).
pub const MAX_MEMBERS: usize = 50;
/// Full members needed to set up a branch (党章 第三十条).
pub const MIN_FULL: usize = 3;

/// What the election arithmetic says about a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Election {
    pub counts: Counts,
    /// 7+ 正式党员: a committee is elected; otherwise only a 书记.
    pub committee: bool,
    /// The least voting members present for a valid election meeting.
    pub quorum: usize,
    /// Votes in favour a 党员大会 decision needs.
    pub majority: usize,
    /// More than 50 members: the branch should be split (支部条例 第四条).
    pub too_big: bool,
    /// Fewer than 3 正式党员 (党章 第三十条).
    pub too_few_full: bool,
}

impl Election {
    pub fn of(counts: Counts) -> Election {
        Election {
            counts,
            committee: counts.full >= COMMITTEE_FROM_FULL,
            quorum: quorum(counts.voters),
            majority: majority_of(counts.voters),
            too_big: counts.members() > MAX_MEMBERS,
            too_few_full: counts.full < MIN_FULL,
        }
    }
}

/// Committee seats the branch has now: people whose 职务 is a committee post (书记, 副书记 and
/// the 委员; a 党务工作者 is not a seat).
pub fn committee_seats<'a>(people: impl IntoIterator<Item = &'a Person>) -> usize {
    people
        .into_iter()
        .filter(|p| p.duty.is_some_and(|d| d != Duty::Worker))
        .count()
}

/// A committee has 3 to 5 members, generally no more than 7 (支部条例, DOMAIN §4): a count of
/// current seats outside this range says nothing about the next committee.
pub const COMMITTEE_SEATS: std::ops::RangeInclusive<usize> = 3..=7;

/// Which of the election arithmetic a term reminder shows: what the step in hand needs
/// (DOMAIN §1, election sequence). Preparation counts the voters and decides committee or
/// only a 书记; the 请示 and the nomination need the seats and candidates; the meeting needs the
/// quorum. An overdue term still needs its meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LadderFacts {
    /// 有选举权的正式党员 and who has no vote.
    pub voters: bool,
    /// A 支部委员会 or only a 书记, and the size flags.
    pub body: bool,
    /// The least number of candidates for the seats.
    pub candidates: bool,
    /// 应到会 and the four-fifths quorum.
    pub quorum: bool,
}

impl LadderFacts {
    pub fn for_reminder(reminder: &TermReminder) -> LadderFacts {
        let (voters, body, candidates, quorum) = match reminder {
            TermReminder::Step(LadderStep::SixMonths) => (true, true, false, false),
            TermReminder::Step(LadderStep::ThreeMonths) => (true, true, true, false),
            TermReminder::Step(LadderStep::TwoMonths) => (false, true, true, false),
            TermReminder::Step(LadderStep::OneMonth) => (false, false, true, false),
            TermReminder::Step(LadderStep::TwoWeeks) => (true, false, true, true),
            TermReminder::Step(LadderStep::OneWeek) => (true, false, false, true),
            TermReminder::Overdue { .. } => (true, false, false, true),
        };
        LadderFacts {
            voters,
            body,
            candidates,
            quorum,
        }
    }

    pub fn any(&self) -> bool {
        self.voters || self.body || self.candidates || self.quorum
    }
}

// ---- comparing a sheet with the stored roster -------------------------------------------------

/// How an uploaded roster differs from the current one, by 姓名. Kept with an organisation's
/// pending upload, so a confirmation applies exactly what was shown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RosterDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    /// Current people the sheet does not have: they would be marked 转出.
    pub left: Vec<String>,
    pub unchanged: usize,
}

impl RosterDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.left.is_empty()
    }
}

/// Compares `current` (the stored people who have not left) with `upload`, by name.
pub fn diff(current: &[Person], upload: &[Person]) -> RosterDiff {
    use std::collections::{HashMap, HashSet};
    let by_name: HashMap<&str, &Person> = current.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut out = RosterDiff::default();
    for person in upload {
        match by_name.get(person.name.as_str()) {
            None => out.added.push(person.name.clone()),
            Some(old) if *old == person => out.unchanged += 1,
            Some(_) => out.changed.push(person.name.clone()),
        }
    }
    let kept: HashSet<&str> = upload.iter().map(|p| p.name.as_str()).collect();
    out.left = current
        .iter()
        .filter(|p| !kept.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn person(name: &str, status: Status) -> Person {
        Person {
            name: name.to_owned(),
            status,
            duty: None,
            phone: None,
            takes_test: None,
            joined_on: None,
            full_on: None,
            on_probation: false,
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn who_is_due_for_the_test() {
        let mut p = person("甲", Status::Full);
        assert!(!p.due_for_test(TestScope::Cadres));
        assert!(p.due_for_test(TestScope::AllMembers));
        p.duty = Some(Duty::Worker);
        assert!(p.due_for_test(TestScope::Cadres));
        p.takes_test = Some(false);
        assert!(!p.due_for_test(TestScope::Cadres), "an explicit 否 wins");
        let mut activist = person("乙", Status::Activist);
        assert!(!activist.due_for_test(TestScope::AllMembers));
        activist.takes_test = Some(true);
        assert!(
            activist.due_for_test(TestScope::Cadres),
            "an explicit 是 wins"
        );
        assert!(person("丙", Status::Probationary).due_for_test(TestScope::AllMembers));
    }

    #[test]
    fn only_full_members_not_under_probation_vote() {
        let mut people = vec![
            person("a", Status::Full),
            person("b", Status::Full),
            person("c", Status::Probationary),
            person("d", Status::Activist),
        ];
        people[1].on_probation = true;
        let counts = Counts::of(&people);
        assert_eq!(counts.full, 2);
        assert_eq!(counts.probationary, 1);
        assert_eq!(counts.voters, 1);
        assert_eq!(counts.members(), 3);
    }

    #[test]
    fn quorum_means_more_than_four_fifths() {
        assert!(is_quorate(5, 5));
        assert!(!is_quorate(4, 5));
        assert_eq!(quorum(5), 5);
        assert_eq!(quorum(10), 9);
        assert!(!is_quorate(8, 10));
        assert_eq!(quorum(7), 6);
        assert_eq!(quorum(1), 1);
        assert!(!is_quorate(0, 0));
    }

    #[test]
    fn candidates_exceed_seats_by_a_fifth_rounded_up() {
        assert_eq!(least_candidates(3), 4);
        assert_eq!(least_candidates(5), 6);
        assert_eq!(least_candidates(6), 8);
        assert_eq!(least_candidates(7), 9);
        assert_eq!(least_candidates(1), 2);
    }

    #[test]
    fn committee_from_seven_full_members() {
        let six: Vec<Person> = (0..6)
            .map(|i| person(&i.to_string(), Status::Full))
            .collect();
        let mut seven = six.clone();
        seven.push(person("6", Status::Full));
        assert!(!Election::of(Counts::of(&six)).committee);
        assert!(Election::of(Counts::of(&seven)).committee);
        // Probationary members do not make up the seven.
        let mut six_and_one = six.clone();
        six_and_one.push(person("p", Status::Probationary));
        assert!(!Election::of(Counts::of(&six_and_one)).committee);
    }

    #[test]
    fn flags_for_size() {
        let two: Vec<Person> = (0..2)
            .map(|i| person(&i.to_string(), Status::Full))
            .collect();
        assert!(Election::of(Counts::of(&two)).too_few_full);
        let big: Vec<Person> = (0..51)
            .map(|i| person(&i.to_string(), Status::Full))
            .collect();
        let e = Election::of(Counts::of(&big));
        assert!(e.too_big && !e.too_few_full);
        assert!(!Election::of(Counts::of(&big[..50])).too_big);
        assert_eq!(majority_of(50), 26);
        assert_eq!(majority_of(5), 3);
    }

    #[test]
    fn probation_ends_after_one_year() {
        let mut p = person("预", Status::Probationary);
        p.joined_on = Some(date("2025-03-02"));
        assert!(!p.probation_overdue(date("2026-03-01")));
        assert!(p.probation_overdue(date("2026-03-02")));
        p.full_on = Some(date("2026-03-02"));
        assert!(!p.probation_overdue(date("2027-01-01")));
        let mut full = person("正", Status::Full);
        full.joined_on = Some(date("2000-01-01"));
        assert!(!full.probation_overdue(date("2026-01-01")));
    }

    #[test]
    fn phones_are_read_in_common_forms() {
        for ok in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "8613800138000",
            "００８６13800138000",
            "１３８００１３８０００",
        ] {
            assert_eq!(normalize_phone(ok).as_deref(), Some("13800138000"), "{ok}");
        }
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "abc",
            "",
            "010-12345678",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
        assert_eq!(mask_phone("13800138000"), "*******8000");
    }

    #[test]
    fn words_parse() {
        assert_eq!(Status::parse(" 正式党员 "), Some(Status::Full));
        assert_eq!(Status::parse("预备"), Some(Status::Probationary));
        assert_eq!(Status::parse("党外人士x"), None);
        assert_eq!(Duty::parse(""), Ok(None));
        assert_eq!(Duty::parse("支部书记"), Ok(Some(Duty::Secretary)));
        assert_eq!(Duty::parse("主任"), Err(UnknownDuty));
        for s in Status::ALL {
            assert_eq!(Status::from_key(s.key()), Some(s));
        }
        for d in Duty::ALL {
            assert_eq!(Duty::from_key(d.key()), Some(d));
        }
    }

    #[test]
    fn diff_by_name() {
        let a = person("甲", Status::Full);
        let b = person("乙", Status::Full);
        let c = person("丙", Status::Full);
        let mut b2 = b.clone();
        b2.status = Status::Probationary;
        let d = diff(&[a.clone(), b, c], &[a, b2, person("丁", Status::Activist)]);
        assert_eq!(d.added, vec!["丁"]);
        assert_eq!(d.changed, vec!["乙"]);
        assert_eq!(d.left, vec!["丙"]);
        assert_eq!(d.unchanged, 1);
    }

    #[test]
    fn seats_count_committee_posts_only() {
        let people = [
            person("书", Status::Full),
            person("委", Status::Full),
            person("工", Status::Full),
            person("员", Status::Full),
        ];
        let mut people = people.to_vec();
        people[0].duty = Some(Duty::Secretary);
        people[1].duty = Some(Duty::Discipline);
        people[2].duty = Some(Duty::Worker);
        assert_eq!(committee_seats(&people), 2);
    }

    #[test]
    fn each_step_shows_what_it_needs() {
        let six = LadderFacts::for_reminder(&TermReminder::Step(LadderStep::SixMonths));
        assert!(six.voters && six.body && !six.quorum);
        let two_weeks = LadderFacts::for_reminder(&TermReminder::Step(LadderStep::TwoWeeks));
        assert!(two_weeks.quorum && two_weeks.candidates);
        for step in LadderStep::ALL {
            assert!(LadderFacts::for_reminder(&TermReminder::Step(step)).any());
        }
    }

    proptest! {
        #[test]
        fn quorum_is_the_least_quorate_number(due in 1usize..5000) {
            let q = quorum(due);
            prop_assert!(is_quorate(q, due));
            prop_assert!(!is_quorate(q - 1, due));
        }

        #[test]
        fn least_candidates_is_the_least_with_a_fifth_more(seats in 1usize..500) {
            let c = least_candidates(seats);
            // 差额 (c - seats) is at least 20% of the seats, and one fewer is not.
            prop_assert!(5 * (c - seats) >= seats);
            prop_assert!(5 * (c - 1 - seats) < seats);
        }

        #[test]
        fn majority_is_more_than_half(due in 0usize..5000) {
            let m = majority_of(due);
            prop_assert!(2 * m > due);
            prop_assert!(m == 0 || 2 * (m - 1) <= due);
        }
    }
}
