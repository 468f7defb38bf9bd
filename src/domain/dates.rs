//! Calendar dates as users type them and as the bot shows them.
//!
//! Secretaries copy dates from documents, phones and spreadsheets, so the parser accepts the
//! common Chinese and numeric forms, full-width digits included, and tells a misread form apart
//! from a date that does not exist (2月30日) so the reply can say which one it was.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

pub(crate) use crate::domain::numbers::fold_width;
use crate::domain::numbers::parse_count;

/// Why a typed date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not one of the accepted forms; the reply lists them.
    Unreadable,
    /// The form was right but the calendar has no such day, e.g. 2026年2月30日.
    Impossible { year: i32, month: u32, day: u32 },
}

impl std::error::Error for DateError {}

/// Parses `2026年12月1日`, `2026-12-01`, `2026/12/1` and `2026.12.1`.
///
/// Full-width digits and punctuation are folded to ASCII and all whitespace is ignored, because
/// Chinese input methods produce them freely. `号` is accepted for `日`, and the final `日` may be
/// left out. The year must have four digits so that no century has to be guessed.
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    let normalized: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(fold_width)
        .collect();
    let (year, month, day) = split_date(&normalized).ok_or(DateError::Unreadable)?;
    let year = parse_number(year, 4, 4).ok_or(DateError::Unreadable)?;
    let month = parse_number(month, 1, 2).ok_or(DateError::Unreadable)?;
    let day = parse_number(day, 1, 2).ok_or(DateError::Unreadable)?;
    let year = i32::try_from(year).map_err(|_| DateError::Unreadable)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Impossible { year, month, day })
}

/// Reads a small count as users write it: ASCII digits (after [`fold_width`]) or Chinese
/// numerals up to 九十九 (`五`, `十二`, `二十五`, `两`), since `每月五日` and `五年` are as common as
/// digits. Returns `None` for anything else, including values above 99.
pub(crate) fn parse_small_number(s: &str) -> Option<u32> {
    if s.bytes().all(|b| b.is_ascii_digit()) && s.len() > 2 {
        return None;
    }
    parse_count(s)
        .filter(|n| (0..=99).contains(n))
        .and_then(|n| u32::try_from(n).ok())
}

/// Splits a whitespace-free, width-folded date into its three numeric parts.
fn split_date(s: &str) -> Option<(&str, &str, &str)> {
    if let Some((year, rest)) = s.split_once('年') {
        let (month, rest) = rest.split_once('月')?;
        let day = rest
            .strip_suffix('日')
            .or_else(|| rest.strip_suffix('号'))
            .unwrap_or(rest);
        return Some((year, month, day));
    }
    let sep = s.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut parts = s.split(sep);
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((year, month, day))
}

/// Reads an ASCII number of `min..=max` digits; anything else is unreadable.
fn parse_number(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The instant of a local date and time in `tz`. In a daylight-saving gap the time moves
/// forward to the first instant that exists; in an overlap the earlier instant counts.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    let mut probe = naive;
    for _ in 0..=4 {
        if let Some(instant) = tz.from_local_datetime(&probe).earliest() {
            return instant.with_timezone(&Utc);
        }
        probe += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&naive)
}

/// Today's date in the configured zone.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn accepts_every_documented_form() {
        for s in [
            "2026年12月1日",
            "2026-12-01",
            "2026/12/1",
            "2026.12.1",
            "2026-12-1",
            "2026年12月1号",
            "2026年12月01",
            "  2026年12月1日 ",
            "\u{3000}2026 年 12 月 1 日\u{3000}",
            "２０２６年１２月１日",
            "２０２６－１２－０１",
            "2026／12／1",
            "2026．12．1",
        ] {
            assert_eq!(parse_date(s), Ok(d(2026, 12, 1)), "{s}");
        }
    }

    #[test]
    fn impossible_dates_are_told_apart_from_unreadable_ones() {
        assert_eq!(
            parse_date("2026年2月30日"),
            Err(DateError::Impossible {
                year: 2026,
                month: 2,
                day: 30
            })
        );
        assert_eq!(
            parse_date("2026-13-01"),
            Err(DateError::Impossible {
                year: 2026,
                month: 13,
                day: 1
            })
        );
        assert_eq!(parse_date("2024-02-29"), Ok(d(2024, 2, 29)));
        assert!(matches!(
            parse_date("2025-02-29"),
            Err(DateError::Impossible { .. })
        ));
        assert!(matches!(
            parse_date("2026-00-10"),
            Err(DateError::Impossible { .. })
        ));
    }

    #[test]
    fn unreadable_forms() {
        for s in [
            "",
            "明天",
            "26-12-01",
            "2026-12",
            "2026-12-01-02",
            "2026-12/01",
            "2026年12月",
            "2026年十二月一日",
            "12/01/2026",
            "2026-012-01",
            "2026-12-001",
            "2026-+1-01",
            "20261201",
        ] {
            assert_eq!(parse_date(s), Err(DateError::Unreadable), "{s:?}");
        }
    }

    #[test]
    fn small_numbers_in_digits_and_chinese() {
        for (s, v) in [
            ("5", 5),
            ("05", 5),
            ("31", 31),
            ("五", 5),
            ("两", 2),
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("二十五", 25),
            ("三十一", 31),
            ("九十九", 99),
            ("零", 0),
        ] {
            assert_eq!(parse_small_number(s), Some(v), "{s}");
        }
        for s in ["", "100", "十十", "二十零五", "五六", "x", "一百", "〇十"] {
            assert_eq!(parse_small_number(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn formatted_dates_parse_back(days in 0i64..200_000) {
            let date = d(1900, 1, 1) + chrono::Days::new(days as u64);
            prop_assert_eq!(parse_date(&date.format("%Y年%-m月%-d日").to_string()), Ok(date));
            prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Ok(date));
            prop_assert_eq!(parse_date(&date.format("%Y/%-m/%-d").to_string()), Ok(date));
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_date(&s);
        }
    }

    #[test]
    fn local_instants_respect_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let winter = local_instant(berlin, NaiveDate::from_ymd_opt(2026, 3, 28).unwrap(), nine);
        let summer = local_instant(berlin, NaiveDate::from_ymd_opt(2026, 3, 30).unwrap(), nine);
        assert_eq!(winter.format("%H:%M").to_string(), "08:00");
        assert_eq!(summer.format("%H:%M").to_string(), "07:00");
        // 02:30 does not exist on 29 March 2026 in Berlin: it becomes 03:00 local.
        let gap = local_instant(
            berlin,
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        );
        assert_eq!(
            gap.with_timezone(&berlin).format("%H:%M").to_string(),
            "03:00"
        );
    }
}
