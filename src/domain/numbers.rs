//! Numbers as people type them in Chinese chats: full-width digits and Chinese numerals.

/// Maps full-width digits and the punctuation Chinese input methods produce to ASCII.
pub fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => {
            char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
        }
        '－' | '—' | '–' => '-',
        '／' => '/',
        '．' | '。' => '.',
        '：' => ':',
        '，' => ',',
        _ => c,
    }
}

/// A whole number as typed: ASCII or full-width digits, or Chinese numerals below ten thousand.
pub fn parse_count(s: &str) -> Option<i64> {
    let folded: String = s.chars().map(fold_width).collect();
    if !folded.is_empty() && folded.bytes().all(|b| b.is_ascii_digit()) {
        return folded.parse().ok();
    }
    chinese_number(&folded)
}

/// A number written in Chinese numerals below ten thousand (三, 十二, 二十, 一百零五, 两百),
/// since rounds are named 第三期 in speech and in documents.
pub fn chinese_number(s: &str) -> Option<i64> {
    let digit = |c: char| match c {
        '两' => Some(2),
        _ => "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|d| d as i64),
    };
    let mut total = 0;
    let mut pending: Option<i64> = None;
    let mut last_unit = 10_000;
    // 一百五 is 150 in speech but 105 by the rule; refuse rather than guess.
    let mut after_big_unit = false;
    let mut previous_was_big_unit = false;
    for c in s.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            // 零 marks a skipped place after 百 or 千 (一百零五); anywhere else it is a typo.
            '〇' | '零' if !previous_was_big_unit && s.chars().count() > 1 => return None,
            '〇' | '零' => {
                pending = None;
                previous_was_big_unit = false;
                continue;
            }
            _ => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(digit(c)?);
                after_big_unit = previous_was_big_unit;
                previous_was_big_unit = false;
                continue;
            }
        };
        if unit >= last_unit {
            return None;
        }
        // 十二 means 12: a unit without a digit before it counts once.
        total += pending.take().unwrap_or(1) * unit;
        last_unit = unit;
        after_big_unit = false;
        previous_was_big_unit = unit >= 100;
    }
    if pending.is_some() && after_big_unit {
        return None;
    }
    let value = total + pending.unwrap_or(0);
    (!s.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_digits_full_width_and_chinese() {
        for (s, n) in [
            ("3", 3),
            ("１２", 12),
            ("三", 3),
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("二十三", 23),
            ("一百零五", 105),
            ("两百", 200),
            ("一千零一", 1001),
            ("一百一十", 110),
            ("零", 0),
        ] {
            assert_eq!(parse_count(s), Some(n), "{s}");
        }
        for bad in [
            "",
            "abc",
            "-1",
            "3.5",
            "三四",
            "十十",
            "一百五",
            "三两",
            "99999999999999999999",
        ] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }
}
