//! Meeting schedules as secretaries type them, in plain words or as cron, turned into one cron
//! form (the `cron` crate's: `sec min hour day-of-month month day-of-week [year]`) and evaluated
//! in the configured time zone.
//!
//! Two properties of the `cron` crate (0.17) shape this module:
//! - day-of-week numbers run 1 = Sunday .. 7 = Saturday, unlike classic 5-field cron (0/7 =
//!   Sunday), so everything generated here uses names (`MON`) and classic input is translated;
//! - a restricted day-of-month and day-of-week must *both* match (classic cron ORs them). That
//!   makes `1-7 * FRI` mean "the first Friday", which `每月第一个周五` relies on.
//!
//! It has no `L` (last day of month), so `每月最后一天` is refused with a hint.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::dates::{fold_width, parse_small_number};

/// A schedule the bot understood. What it understood is put back into words by
/// `Schedule::description` (in `texts::reminders`) and echoed, so a misreading is caught at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Six or seven fields for the `cron` crate; stored in `meeting_plans.cron`.
    pub cron: String,
}

/// Why a schedule was refused; the Display is the reply and always gives examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleError {
    /// Neither a form we know nor a cron expression.
    Unrecognized,
    /// An hour above 23 or a minute above 59.
    BadTime,
    /// A day that no month (or not the named month) has.
    BadDay,
    /// The `cron` crate refused the expression.
    BadCron,
    /// A valid expression that never fires.
    Never,
    /// More than once a day: a meeting plan that would flood the group.
    TooFrequent,
    /// `每月最后一天` and the like; the cron crate cannot express it.
    LastDayUnsupported,
}

impl std::error::Error for ScheduleError {}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_schedule(s)
    }
}

/// Parses plain words (`每月5日 15:00`, `每月5号15点`, `每周三 9:30`, `每周一、周四 9:00`,
/// `每月第一个周五 15:00`, `每季度首月10日 14:00`, `每年12月20日`, `每天 8:30`) or a cron
/// expression (classic 5 fields, or the crate's 6/7). Without a time, 9:00 is meant.
pub fn parse_schedule(input: &str) -> Result<Schedule, ScheduleError> {
    let folded: String = input.trim().chars().map(fold_width).collect();
    let folded = folded.trim();
    if folded.is_empty() {
        return Err(ScheduleError::Unrecognized);
    }
    let cron = if looks_like_cron(folded) {
        normalize_cron(folded)?
    } else {
        let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
        if ["最后一天", "月末", "月底", "最后1天"]
            .iter()
            .any(|w| compact.contains(w))
        {
            return Err(ScheduleError::LastDayUnsupported);
        }
        Words::new(&compact).parse()?.to_cron()
    };
    validate_cron(&cron)?;
    Ok(Schedule { cron })
}

/// The next `n` occurrences strictly after `after`, with the cron read as wall-clock time in
/// `tz`. An invalid expression yields nothing.
///
/// The `cron` crate evaluated directly in a zone skips a time that falls in a spring-forward gap
/// and fires twice in a fall-back overlap. A meeting must do neither, so the expression is
/// evaluated on naive wall-clock time and each result placed in the zone here: a time in a gap
/// moves forward by the gap (02:30 becomes 03:30), a repeated time takes its first instance.
pub fn next_occurrences(cron: &str, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let Ok(schedule) = cron::Schedule::from_str(cron) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    // Start a few hours early: around a fall-back change the wall clock of `after` has already
    // been seen once, and a gap can move an earlier wall time past `after`.
    let local_after = after.with_timezone(&tz).naive_local();
    let start = local_after
        .checked_sub_signed(TimeDelta::hours(3))
        .unwrap_or(local_after);
    let mut found: Vec<DateTime<Utc>> = Vec::with_capacity(n + 2);
    // Placing gap times can reorder results by up to the gap (about an hour), so look a little
    // beyond `n` and sort.
    let mut beyond = 0;
    for naive in schedule
        .after(&Utc.from_utc_datetime(&start))
        .map(|d| d.naive_utc())
    {
        let instant = place_in_zone(tz, naive);
        if instant <= after {
            continue;
        }
        found.push(instant);
        if found.len() >= n {
            beyond += 1;
            if beyond > 2 {
                break;
            }
        }
    }
    found.sort();
    found.dedup();
    found.truncate(n);
    found
}

/// The first occurrence strictly after `after`, see [`next_occurrences`].
pub fn next_occurrence(cron: &str, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    next_occurrences(cron, tz, after, 1).into_iter().next()
}

/// Places a wall-clock time in `tz`, see [`next_occurrences`].
fn place_in_zone(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(d) => d.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: read the wall time with the offset in force before the change.
            let before = naive
                .checked_sub_signed(TimeDelta::days(1))
                .unwrap_or(naive);
            let offset = match tz.from_local_datetime(&before) {
                LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => {
                    d.offset().fix().local_minus_utc()
                }
                LocalResult::None => 0,
            };
            let utc = naive
                .checked_sub_signed(TimeDelta::seconds(i64::from(offset)))
                .unwrap_or(naive);
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// Cron input is ASCII fields; plain words start with 每 or another Chinese character.
fn looks_like_cron(s: &str) -> bool {
    s.is_ascii()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '*' | '?' | '@'))
}

/// Brings cron input to the crate's form: shorthands expanded, classic 5-field expressions
/// given a seconds field and their day-of-week numbers (0/7 = Sunday) turned into names.
fn normalize_cron(s: &str) -> Result<String, ScheduleError> {
    let lower = s.to_ascii_lowercase();
    let expanded = match lower.as_str() {
        "@yearly" | "@annually" => return Ok("0 0 0 1 1 *".to_owned()),
        "@monthly" => return Ok("0 0 0 1 * *".to_owned()),
        "@weekly" => return Ok("0 0 0 * * SUN".to_owned()),
        "@daily" | "@midnight" => return Ok("0 0 0 * * *".to_owned()),
        "@hourly" => return Err(ScheduleError::TooFrequent),
        _ if lower.starts_with('@') => return Err(ScheduleError::BadCron),
        _ => s,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    match fields.as_slice() {
        [min, hour, dom, month, dow] => {
            let dow = classic_day_of_week(dow).ok_or(ScheduleError::BadCron)?;
            Ok(format!("0 {min} {hour} {dom} {month} {dow}"))
        }
        [_, _, _, _, _, _] | [_, _, _, _, _, _, _] => Ok(fields.join(" ")),
        _ => Err(ScheduleError::BadCron),
    }
}

/// Translates a classic day-of-week field (0–7, 0 and 7 = Sunday, ranges, steps, names) into
/// an explicit list of names, so the crate's 1 = Sunday numbering never applies to it.
fn classic_day_of_week(field: &str) -> Option<String> {
    if field == "*" || field == "?" {
        return Some(field.to_owned());
    }
    let mut days: BTreeSet<u32> = BTreeSet::new(); // 1 = Monday .. 7 = Sunday
    for token in field.split(',') {
        if token.chars().any(|c| c.is_ascii_alphabetic()) {
            for day in named_day_of_week_token(token)? {
                days.insert(day);
            }
            continue;
        }
        let (base, step) = match token.split_once('/') {
            Some((base, step)) => (base, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (token, 1),
        };
        let (start, end) = match base {
            "*" => (0, 6),
            _ => match base.split_once('-') {
                Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
                None => {
                    let a = base.parse::<u32>().ok()?;
                    (a, if token.contains('/') { 6 } else { a })
                }
            },
        };
        if start > end || end > 7 {
            return None;
        }
        for n in (start..=end).step_by(usize::try_from(step).ok()?) {
            days.insert(if n == 0 { 7 } else { n });
        }
    }
    Some(
        days.into_iter()
            .filter_map(weekday_name)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// A named day or named range (`MON`, `mon-fri`) as 1 = Monday .. 7 = Sunday.
fn named_day_of_week_token(token: &str) -> Option<Vec<u32>> {
    let name = |s: &str| -> Option<u32> {
        let s = s.to_ascii_lowercase();
        Some(match s.as_str() {
            "mon" | "monday" => 1,
            "tue" | "tues" | "tuesday" => 2,
            "wed" | "wednesday" => 3,
            "thu" | "thurs" | "thursday" => 4,
            "fri" | "friday" => 5,
            "sat" | "saturday" => 6,
            "sun" | "sunday" => 7,
            _ => return None,
        })
    };
    match token.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (name(a)?, name(b)?);
            (a <= b).then(|| (a..=b).collect())
        }
        None => Some(vec![name(token)?]),
    }
}

/// 1 = Monday .. 7 = Sunday to the crate's names.
fn weekday_name(day: u32) -> Option<&'static str> {
    ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .get(usize::try_from(day.checked_sub(1)?).ok()?)
        .copied()
}

/// Refuses expressions the crate rejects, that never fire, or that fire more than once a day.
fn validate_cron(cron: &str) -> Result<(), ScheduleError> {
    let schedule = cron::Schedule::from_str(cron).map_err(|_| ScheduleError::BadCron)?;
    let reference = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).single();
    let Some(reference) = reference else {
        return Ok(());
    };
    let first: Vec<DateTime<Utc>> = schedule.after(&reference).take(20).collect();
    if first.is_empty() {
        return Err(ScheduleError::Never);
    }
    if first.windows(2).any(|w| w[1] - w[0] < TimeDelta::hours(24)) {
        return Err(ScheduleError::TooFrequent);
    }
    Ok(())
}

/// Whether some day of month above 28 is named, which short months do not have.
pub fn has_day_beyond_28(cron: &str) -> bool {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let (Some(dom), Some(month)) = (fields.get(3), fields.get(4)) else {
        return false;
    };
    // A single named month was checked when parsed.
    let several_months = month.parse::<u32>().is_err();
    several_months
        && dom
            .split(',')
            .any(|d| d.parse::<u32>().is_ok_and(|d| d > 28))
}

/// The shapes this module generates and can put into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Daily,
    /// Days of the month in the given months (`None` = every month).
    MonthDays {
        months: Option<Vec<u32>>,
        days: Vec<u32>,
    },
    /// The n-th (1–4) given weekday of every month.
    NthWeekday {
        nth: u32,
        weekday: u32,
    },
    /// Weekdays, 1 = Monday .. 7 = Sunday.
    Weekly {
        weekdays: Vec<u32>,
    },
}

/// A rule at a time of day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    pub rule: Rule,
    pub hour: u32,
    pub minute: u32,
}

pub const QUARTER_FIRST: [u32; 4] = [1, 4, 7, 10];
pub const QUARTER_SECOND: [u32; 4] = [2, 5, 8, 11];
pub const QUARTER_LAST: [u32; 4] = [3, 6, 9, 12];

impl Timed {
    fn to_cron(&self) -> String {
        let (dom, month, dow) = match &self.rule {
            Rule::Daily => ("*".to_owned(), "*".to_owned(), "*".to_owned()),
            Rule::MonthDays { months, days } => (
                join_numbers(days),
                months.as_deref().map_or("*".to_owned(), join_numbers),
                "*".to_owned(),
            ),
            Rule::NthWeekday { nth, weekday } => {
                let first = (nth - 1) * 7 + 1;
                (
                    format!("{first}-{}", first + 6),
                    "*".to_owned(),
                    weekday_name(*weekday).unwrap_or("MON").to_owned(),
                )
            }
            Rule::Weekly { weekdays } => (
                "*".to_owned(),
                "*".to_owned(),
                weekdays
                    .iter()
                    .filter_map(|d| weekday_name(*d))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        };
        format!("0 {} {} {dom} {month} {dow}", self.minute, self.hour)
    }
}

fn join_numbers(ns: &[u32]) -> String {
    ns.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Reads a cron expression back into one of the shapes [`Timed`] covers, so it can be put
/// into words; `None` for other shapes.
pub fn read_cron(cron: &str) -> Option<Timed> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [sec, min, hour, dom, month, dow] = fields.as_slice() else {
        return None;
    };
    if *sec != "0" {
        return None;
    }
    let minute = min.parse::<u32>().ok().filter(|m| *m < 60)?;
    let hour = hour.parse::<u32>().ok().filter(|h| *h < 24)?;
    let all = |f: &str| f == "*" || f == "?";
    let numbers = |f: &str, max: u32| -> Option<Vec<u32>> {
        let set: BTreeSet<u32> = f
            .split(',')
            .map(|n| n.parse::<u32>().ok().filter(|n| (1..=max).contains(n)))
            .collect::<Option<_>>()?;
        Some(set.into_iter().collect())
    };
    let rule = if all(dom) && all(month) && all(dow) {
        Rule::Daily
    } else if all(dom) && all(month) {
        Rule::Weekly {
            weekdays: crate_day_of_week(dow)?,
        }
    } else if all(dow) {
        let days = numbers(dom, 31)?;
        let months = if all(month) {
            None
        } else {
            Some(numbers(month, 12)?)
        };
        let known = match months.as_deref() {
            None => true,
            Some([m]) => days
                .iter()
                .all(|d| NaiveDate::from_ymd_opt(2000, *m, *d).is_some()),
            Some(m) => m == QUARTER_FIRST || m == QUARTER_SECOND || m == QUARTER_LAST,
        };
        if !known {
            return None;
        }
        Rule::MonthDays { months, days }
    } else if all(month) {
        let (a, b) = dom.split_once('-')?;
        let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
        let weekdays = crate_day_of_week(dow)?;
        match (weekdays.as_slice(), a) {
            ([weekday], 1 | 8 | 15 | 22) if b == a + 6 => Rule::NthWeekday {
                nth: a / 7 + 1,
                weekday: *weekday,
            },
            _ => return None,
        }
    } else {
        return None;
    };
    Some(Timed { rule, hour, minute })
}

/// Reads the crate's day-of-week field (names, or numbers 1 = Sunday .. 7 = Saturday, single
/// or ranged) as a sorted list 1 = Monday .. 7 = Sunday.
fn crate_day_of_week(field: &str) -> Option<Vec<u32>> {
    let mut days = BTreeSet::new();
    for token in field.split(',') {
        if token.chars().any(|c| c.is_ascii_alphabetic()) {
            days.extend(named_day_of_week_token(token)?);
            continue;
        }
        let from_crate = |n: &str| -> Option<u32> {
            let n = n.parse::<u32>().ok().filter(|n| (1..=7).contains(n))?;
            Some(if n == 1 { 7 } else { n - 1 })
        };
        match token.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                if !(1..=7).contains(&a) || !(a..=7).contains(&b) {
                    return None;
                }
                for n in a..=b {
                    days.insert(from_crate(&n.to_string())?);
                }
            }
            None => {
                days.insert(from_crate(token)?);
            }
        }
    }
    Some(days.into_iter().collect())
}

/// A cursor over whitespace-free, width-folded plain words.
struct Words {
    chars: Vec<char>,
    pos: usize,
}

const NUMERAL_CHARS: &str = "0123456789零〇一二两三四五六七八九十";
const LIST_SEPARATORS: &str = "、,和及与跟/";

impl Words {
    fn new(s: &str) -> Words {
        Words {
            chars: s.chars().collect(),
            pos: 0,
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        let n = word.chars().count();
        let matches = self
            .chars
            .get(self.pos..self.pos + n)
            .is_some_and(|s| s.iter().copied().eq(word.chars()));
        if matches {
            self.pos += n;
        }
        matches
    }

    fn eat_any(&mut self, words: &[&str]) -> bool {
        words.iter().any(|w| self.eat(w))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn eat_separator(&mut self) -> bool {
        match self.peek() {
            Some(c) if LIST_SEPARATORS.contains(c) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// A run of digits or Chinese numerals, read as one small number.
    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| NUMERAL_CHARS.contains(c)) {
            self.pos += 1;
        }
        let run: String = self.chars[start..self.pos].iter().collect();
        let n = parse_small_number(&run);
        if n.is_none() {
            self.pos = start;
        }
        n
    }

    fn parse(mut self) -> Result<Timed, ScheduleError> {
        if !self.eat("每") {
            return Err(ScheduleError::Unrecognized);
        }
        let rule = if self.eat_any(&["天", "日"]) {
            Rule::Daily
        } else if self.eat_any(&["个月", "月"]) {
            if self.eat("第") {
                let nth = self
                    .number()
                    .filter(|n| (1..=4).contains(n))
                    .ok_or(ScheduleError::Unrecognized)?;
                self.eat("个");
                self.eat("的");
                let weekday = self.weekday_with_prefix()?;
                Rule::NthWeekday { nth, weekday }
            } else {
                Rule::MonthDays {
                    months: None,
                    days: self.days(31)?,
                }
            }
        } else if self.eat_any(&["季度", "季"]) {
            self.eat("的");
            let months = if self.eat_any(&["首月", "第一个月", "第1个月", "第一月", "第1月", "初"])
            {
                QUARTER_FIRST
            } else if self.eat_any(&["第二个月", "第2个月", "第二月", "第2月", "中间月"])
            {
                QUARTER_SECOND
            } else if self.eat_any(&[
                "末月",
                "最后一个月",
                "最后1个月",
                "第三个月",
                "第3个月",
                "第三月",
                "第3月",
            ]) {
                QUARTER_LAST
            } else {
                return Err(ScheduleError::Unrecognized);
            };
            self.eat("的");
            Rule::MonthDays {
                months: Some(months.to_vec()),
                days: self.days(31)?,
            }
        } else if self.eat("年") {
            let month = self.number().ok_or(ScheduleError::Unrecognized)?;
            if !self.eat("月") {
                return Err(ScheduleError::Unrecognized);
            }
            if !(1..=12).contains(&month) {
                return Err(ScheduleError::BadDay);
            }
            let days = self.days(31)?;
            if days
                .iter()
                .any(|d| NaiveDate::from_ymd_opt(2000, month, *d).is_none())
            {
                return Err(ScheduleError::BadDay);
            }
            Rule::MonthDays {
                months: Some(vec![month]),
                days,
            }
        } else if self.at_weekday_prefix() {
            Rule::Weekly {
                weekdays: self.weekdays()?,
            }
        } else {
            return Err(ScheduleError::Unrecognized);
        };
        while self.eat_any(&[",", "的"]) {}
        let (hour, minute) = if self.at_end() { (9, 0) } else { self.time()? };
        self.eat_any(&["召开", "举行", "开会", "开展"]);
        if !self.at_end() {
            return Err(ScheduleError::Unrecognized);
        }
        Ok(Timed { rule, hour, minute })
    }

    /// `5日`, `5号`, `1日、16日`, `1、16日`: at least one number, the last followed by 日/号.
    fn days(&mut self, max: u32) -> Result<Vec<u32>, ScheduleError> {
        let mut days = BTreeSet::new();
        loop {
            let day = self.number().ok_or(ScheduleError::Unrecognized)?;
            if !(1..=max).contains(&day) {
                return Err(ScheduleError::BadDay);
            }
            days.insert(day);
            let marked = self.eat_any(&["日", "号"]);
            // Another day follows only if a number after the separator is itself followed by
            // 日/号 or another separator; `5日,15:00` is a day and then a time.
            let save = self.pos;
            if self.eat_separator() {
                let before_number = self.pos;
                let another_day = self.number().is_some()
                    && self
                        .peek()
                        .is_some_and(|c| c == '日' || c == '号' || LIST_SEPARATORS.contains(c));
                if another_day {
                    self.pos = before_number;
                    continue;
                }
            }
            self.pos = save;
            if !marked {
                return Err(ScheduleError::Unrecognized);
            }
            return Ok(days.into_iter().collect());
        }
    }

    fn at_weekday_prefix(&self) -> bool {
        ["周", "星期", "礼拜"].iter().any(|w| {
            let n = w.chars().count();
            self.chars
                .get(self.pos..self.pos + n)
                .is_some_and(|s| s.iter().copied().eq(w.chars()))
        })
    }

    /// `一`..`日`; 1 = Monday .. 7 = Sunday. Digits (`周3`) only right after 周/星期/礼拜, so
    /// that in `每周三,9:30` the 9 is not read as a day.
    fn weekday(&mut self, digits: bool) -> Result<u32, ScheduleError> {
        let day = match self.peek() {
            Some('一') => 1,
            Some('二') => 2,
            Some('三') => 3,
            Some('四') => 4,
            Some('五') => 5,
            Some('六') => 6,
            Some('日' | '天' | '七') => 7,
            Some(c @ '1'..='7') if digits => c.to_digit(10).unwrap_or(7),
            _ => return Err(ScheduleError::Unrecognized),
        };
        self.pos += 1;
        Ok(day)
    }

    fn eat_weekday_prefix(&mut self) -> bool {
        self.eat_any(&["周", "星期", "礼拜"])
    }

    fn weekday_with_prefix(&mut self) -> Result<u32, ScheduleError> {
        if !self.eat_weekday_prefix() {
            return Err(ScheduleError::Unrecognized);
        }
        self.weekday(true)
    }

    /// `周三`, `周一、周四`, `星期一和三`, `周一至周五`.
    fn weekdays(&mut self) -> Result<Vec<u32>, ScheduleError> {
        let mut days = BTreeSet::new();
        let mut first = self.weekday_with_prefix()?;
        loop {
            if self.eat_any(&["至", "到", "-", "~"]) {
                let prefixed = self.eat_weekday_prefix();
                let last = self.weekday(prefixed)?;
                if last < first {
                    return Err(ScheduleError::Unrecognized);
                }
                days.extend(first..=last);
            } else {
                days.insert(first);
            }
            let save = self.pos;
            if self.eat_separator() {
                let prefixed = self.eat_weekday_prefix();
                if let Ok(next) = self.weekday(prefixed) {
                    first = next;
                    continue;
                }
            }
            self.pos = save;
            return Ok(days.into_iter().collect());
        }
    }

    /// `15:00`, `9:30`, `15点`, `15点30分`, `15时`, `3点半`, `下午3点`, `晚上7:30`.
    fn time(&mut self) -> Result<(u32, u32), ScheduleError> {
        let afternoon = if self.eat_any(&["下午", "晚上", "傍晚", "晚"]) {
            Some(true)
        } else if self.eat("中午") {
            None
        } else {
            self.eat_any(&["上午", "早上", "早晨", "早", "凌晨"]);
            Some(false)
        };
        let mut hour = self.number().ok_or(ScheduleError::Unrecognized)?;
        let minute = if self.eat(":") {
            let start = self.pos;
            let m = self.number().ok_or(ScheduleError::Unrecognized)?;
            if self.pos - start != 2 {
                return Err(ScheduleError::Unrecognized);
            }
            m
        } else if self.eat_any(&["点", "时"]) {
            if self.eat("半") {
                30
            } else if self.eat("整") {
                0
            } else if let Some(m) = self.number() {
                self.eat("分");
                m
            } else {
                0
            }
        } else {
            return Err(ScheduleError::Unrecognized);
        };
        match afternoon {
            Some(true) if hour < 12 => hour += 12,
            None if (1..=2).contains(&hour) => hour += 12,
            _ => {}
        }
        if hour > 23 || minute > 59 {
            return Err(ScheduleError::BadTime);
        }
        Ok((hour, minute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cron_of(s: &str) -> String {
        match parse_schedule(s) {
            Ok(sch) => sch.cron,
            Err(e) => panic!("{s:?}: {e:?}"),
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn plain_words() {
        for (input, cron, description) in [
            ("每月5日 15:00", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月5号15点", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月五日下午三点", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月5日 15：00", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月５日　１５:００", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月1日、16日 9:00", "0 0 9 1,16 * *", "每月1日、16日 9:00"),
            ("每月1、16日", "0 0 9 1,16 * *", "每月1日、16日 9:00"),
            ("每周三 9:30", "0 30 9 * * WED", "每周三 9:30"),
            ("每周三9点半", "0 30 9 * * WED", "每周三 9:30"),
            ("每星期三上午9点30分", "0 30 9 * * WED", "每周三 9:30"),
            (
                "每周一、周四 9:00",
                "0 0 9 * * MON,THU",
                "每周一、周四 9:00",
            ),
            ("每周一和四 9:00", "0 0 9 * * MON,THU", "每周一、周四 9:00"),
            (
                "每周一至周五 8:30",
                "0 30 8 * * MON,TUE,WED,THU,FRI",
                "每周一至周五 8:30",
            ),
            (
                "每周一、周三至周五、周日",
                "0 0 9 * * MON,WED,THU,FRI,SUN",
                "每周一、周三至周五、周日 9:00",
            ),
            ("每周日 20:00", "0 0 20 * * SUN", "每周日 20:00"),
            ("每礼拜天晚上8点", "0 0 20 * * SUN", "每周日 20:00"),
            (
                "每季度首月10日 14:00",
                "0 0 14 10 1,4,7,10 *",
                "每季度首月10日 14:00",
            ),
            (
                "每季度第一个月10号14点",
                "0 0 14 10 1,4,7,10 *",
                "每季度首月10日 14:00",
            ),
            (
                "每季度末月20日",
                "0 0 9 20 3,6,9,12 *",
                "每季度末月20日 9:00",
            ),
            ("每年12月20日", "0 0 9 20 12 *", "每年12月20日 9:00"),
            (
                "每年十二月二十日 下午3点",
                "0 0 15 20 12 *",
                "每年12月20日 15:00",
            ),
            (
                "每月第一个周五 15:00",
                "0 0 15 1-7 * FRI",
                "每月第一个周五 15:00",
            ),
            (
                "每月第3个星期二",
                "0 0 9 15-21 * TUE",
                "每月第三个周二 9:00",
            ),
            ("每天 8:30", "0 30 8 * * *", "每天 8:30"),
            ("每月5日中午12点", "0 0 12 5 * *", "每月5日 12:00"),
            ("每月5日中午1点", "0 0 13 5 * *", "每月5日 13:00"),
            ("每月5日 15:00召开", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月5日，15:00", "0 0 15 5 * *", "每月5日 15:00"),
            ("每月5日,下午3点", "0 0 15 5 * *", "每月5日 15:00"),
            ("每周三，5:30", "0 30 5 * * WED", "每周三 5:30"),
            ("每周3 9:30", "0 30 9 * * WED", "每周三 9:30"),
        ] {
            let s = parse_schedule(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!(s.cron, cron, "{input}");
            assert_eq!(s.description(), description, "{input}");
        }
    }

    #[test]
    fn cron_input() {
        assert_eq!(cron_of("0 15 5 * *"), "0 0 15 5 * *");
        assert_eq!(cron_of("  0 15 5 * *  "), "0 0 15 5 * *");
        assert_eq!(cron_of("30 9 * * 3"), "0 30 9 * * WED");
        assert_eq!(cron_of("30 9 * * 0"), "0 30 9 * * SUN");
        assert_eq!(cron_of("30 9 * * 7"), "0 30 9 * * SUN");
        assert_eq!(cron_of("0 9 * * 1-5"), "0 0 9 * * MON,TUE,WED,THU,FRI");
        assert_eq!(cron_of("0 9 * * 5-7"), "0 0 9 * * FRI,SAT,SUN");
        assert_eq!(cron_of("0 9 * * */2"), "0 0 9 * * TUE,THU,SAT,SUN");
        assert_eq!(cron_of("0 9 * * mon,thu"), "0 0 9 * * MON,THU");
        assert_eq!(cron_of("0 0 9 1,16 * *"), "0 0 9 1,16 * *");
        assert_eq!(cron_of("0 0 9 1,16 * * 2030"), "0 0 9 1,16 * * 2030");
        assert_eq!(cron_of("@monthly"), "0 0 0 1 * *");
        // Six-field input keeps the crate's numbering: 4 = Wednesday.
        let s = parse_schedule("0 30 9 * * 4").unwrap();
        assert_eq!(s.description(), "每周三 9:30");
        assert_eq!(
            parse_schedule("0 15 5 * *").unwrap().description(),
            "每月5日 15:00"
        );
        // Shapes without words fall back to showing the expression.
        let s = parse_schedule("0 0 9 1 1,7 *").unwrap();
        assert!(
            s.description().contains("0 0 9 1 1,7 *"),
            "{}",
            s.description()
        );
    }

    #[test]
    fn refusals() {
        use ScheduleError::*;
        for (input, err) in [
            ("", Unrecognized),
            ("明天开会", Unrecognized),
            ("每月", Unrecognized),
            ("每月5", Unrecognized),
            ("每月5日 15", Unrecognized),
            ("每月5日 15:0", Unrecognized),
            ("每月5日 随便", Unrecognized),
            ("每季度10日", Unrecognized),
            ("每年12月", Unrecognized),
            ("每周八", Unrecognized),
            ("每月32日", BadDay),
            ("每月0日", BadDay),
            ("每年2月30日", BadDay),
            ("每年13月1日", BadDay),
            ("每月5日 25:00", BadTime),
            ("每月5日 15:60", BadTime),
            ("每月最后一天", LastDayUnsupported),
            ("每月月底 15:00", LastDayUnsupported),
            ("0 15 5 *", BadCron),
            ("0 15 32 * *", BadCron),
            ("0 15 5 * * * * *", BadCron),
            ("0 9 * * 8", BadCron),
            ("@reboot", BadCron),
            ("@hourly", TooFrequent),
            ("* * * * *", TooFrequent),
            ("0 9,15 * * *", TooFrequent),
            ("0 0 9 30 2 *", Never),
            ("0 0 9 31 4 *", Never),
        ] {
            assert_eq!(parse_schedule(input), Err(err), "{input:?}");
        }
    }

    #[test]
    fn error_texts_give_examples_and_are_html_safe() {
        use ScheduleError::*;
        for e in [
            Unrecognized,
            BadTime,
            BadDay,
            BadCron,
            Never,
            TooFrequent,
            LastDayUnsupported,
        ] {
            let m = e.to_string();
            assert!(m.contains("每月5日 15:00"), "{m}");
            assert!(!m.contains(['<', '>', '&']), "{m}");
        }
    }

    #[test]
    fn shanghai_evaluation() {
        let tz = chrono_tz::Asia::Shanghai;
        let cron = cron_of("每月5日 15:00");
        let next = next_occurrences(&cron, tz, utc(2026, 1, 1, 0, 0), 3);
        assert_eq!(
            next,
            [
                utc(2026, 1, 5, 7, 0),
                utc(2026, 2, 5, 7, 0),
                utc(2026, 3, 5, 7, 0)
            ]
        );
        // Strictly after.
        let next = next_occurrences(&cron, tz, utc(2026, 1, 5, 7, 0), 1);
        assert_eq!(next, [utc(2026, 2, 5, 7, 0)]);
        // Local midnight differs from UTC midnight: 5 January 01:00 local is 4 January UTC.
        let cron = cron_of("每月5日 1:00");
        let next = next_occurrence(&cron, tz, utc(2026, 1, 4, 12, 0));
        assert_eq!(next, Some(utc(2026, 1, 4, 17, 0)));
        assert!(next_occurrences("nonsense", tz, utc(2026, 1, 1, 0, 0), 3).is_empty());
        assert!(next_occurrences(&cron, tz, utc(2026, 1, 1, 0, 0), 0).is_empty());
    }

    #[test]
    fn berlin_spring_forward_moves_a_gap_time_by_the_gap() {
        // 2026-03-29 is a Sunday; clocks go from 02:00 CET to 03:00 CEST.
        let tz = chrono_tz::Europe::Berlin;
        let cron = cron_of("每周日 2:30");
        let next = next_occurrences(&cron, tz, utc(2026, 3, 20, 0, 0), 3);
        assert_eq!(
            next,
            [
                utc(2026, 3, 22, 1, 30), // 02:30 CET
                utc(2026, 3, 29, 1, 30), // 03:30 CEST: 02:30 does not exist
                utc(2026, 4, 5, 0, 30),  // 02:30 CEST
            ]
        );
        // The crate alone would have skipped 29 March.
        let raw: Vec<DateTime<Utc>> = cron::Schedule::from_str(&cron)
            .unwrap()
            .after(&utc(2026, 3, 20, 0, 0).with_timezone(&tz))
            .take(2)
            .map(|d| d.with_timezone(&Utc))
            .collect();
        assert_eq!(raw[1], utc(2026, 4, 5, 0, 30));
    }

    #[test]
    fn berlin_fall_back_fires_once() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
        let tz = chrono_tz::Europe::Berlin;
        let cron = cron_of("每周日 2:30");
        let next = next_occurrences(&cron, tz, utc(2026, 10, 20, 0, 0), 2);
        assert_eq!(next, [utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]);
        // Asking from between the two 02:30s does not yield the second one.
        let next = next_occurrence(&cron, tz, utc(2026, 10, 25, 0, 45));
        assert_eq!(next, Some(utc(2026, 11, 1, 1, 30)));
    }

    #[test]
    fn berlin_nine_oclock_stays_nine_oclock_across_changes() {
        let tz = chrono_tz::Europe::Berlin;
        let cron = cron_of("每周三 9:00");
        let next = next_occurrences(&cron, tz, utc(2026, 3, 20, 0, 0), 2);
        assert_eq!(next, [utc(2026, 3, 25, 8, 0), utc(2026, 4, 1, 7, 0)]);
        let next = next_occurrences(&cron, tz, utc(2026, 10, 20, 0, 0), 2);
        assert_eq!(next, [utc(2026, 10, 21, 7, 0), utc(2026, 10, 28, 8, 0)]);
        for d in next_occurrences(&cron, tz, utc(2026, 1, 1, 0, 0), 60) {
            let local = d.with_timezone(&tz);
            assert_eq!(local.format("%H:%M %a").to_string(), "09:00 Wed");
        }
    }

    #[test]
    fn nth_weekday_means_that_weekday_of_the_first_week() {
        let tz = chrono_tz::Asia::Shanghai;
        let cron = cron_of("每月第一个周五 15:00");
        let next = next_occurrences(&cron, tz, utc(2026, 1, 1, 0, 0), 3);
        // Fridays 2 January, 6 February, 6 March 2026.
        assert_eq!(
            next,
            [
                utc(2026, 1, 2, 7, 0),
                utc(2026, 2, 6, 7, 0),
                utc(2026, 3, 6, 7, 0)
            ]
        );
    }

    fn arb_timed() -> impl Strategy<Value = Timed> {
        let days = proptest::collection::btree_set(1u32..=28, 1..4)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        let weekdays = proptest::collection::btree_set(1u32..=7, 1..8)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        let rule = prop_oneof![
            Just(Rule::Daily),
            days.clone()
                .prop_map(|days| Rule::MonthDays { months: None, days }),
            (days.clone(), 0usize..3).prop_map(|(days, q)| Rule::MonthDays {
                months: Some([QUARTER_FIRST, QUARTER_SECOND, QUARTER_LAST][q].to_vec()),
                days
            }),
            (1u32..=12, days).prop_map(|(m, days)| Rule::MonthDays {
                months: Some(vec![m]),
                days
            }),
            (1u32..=4, 1u32..=7).prop_map(|(nth, weekday)| Rule::NthWeekday { nth, weekday }),
            weekdays.prop_map(|weekdays| Rule::Weekly { weekdays }),
        ];
        (rule, 0u32..24, 0u32..60).prop_map(|(rule, hour, minute)| Timed { rule, hour, minute })
    }

    proptest! {
        #[test]
        fn descriptions_parse_back_to_the_same_cron(t in arb_timed()) {
            let cron = t.to_cron();
            let description = t.describe();
            prop_assert_eq!(read_cron(&cron).map(|t| t.describe()), Some(description.clone()));
            let parsed = parse_schedule(&description);
            prop_assert_eq!(parsed.map(|s| s.cron), Ok(cron));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = parse_schedule(&s);
        }

        #[test]
        fn parsing_cron_like_input_never_panics(s in "[0-9*?/,\\- A-Za-z@]{0,24}") {
            if let Ok(sch) = parse_schedule(&s) {
                prop_assert!(cron::Schedule::from_str(&sch.cron).is_ok());
                prop_assert!(!sch.description().contains(['<', '>', '&']));
            }
        }

        #[test]
        fn occurrences_are_increasing_and_after(t in arb_timed(), start in 0i64..2_000_000_000) {
            let after = DateTime::from_timestamp(start, 0).unwrap();
            for tz in [chrono_tz::Asia::Shanghai, chrono_tz::Europe::Berlin, chrono_tz::America::New_York] {
                let next = next_occurrences(&t.to_cron(), tz, after, 4);
                prop_assert!(!next.is_empty());
                prop_assert!(next[0] > after);
                prop_assert!(next.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
