//! The rules every question obeys, whichever file format it came from.
//!
//! The TOML and Excel readers only turn their input into a [`RawQuestion`] of located
//! strings; everything about what a valid question is lives here, so both formats accept
//! and refuse exactly the same things.

use std::collections::HashMap;

use super::error::{place, BankError, BankFormat, ErrorKind};
use super::model::{option_letter, Question, QuestionKind};
use crate::texts::questions as texts;

/// Ids end up in stored answers, logs and error messages; plain ASCII keeps them easy to
/// quote and type.
pub const MAX_ID_CHARS: usize = 32;
/// Categories label report rows and chart bars.
pub const MAX_CATEGORY_CHARS: usize = 30;
pub const MAX_TEXT_CHARS: usize = 1000;
/// Options may be shown on buttons; longer ones do not read on a phone.
pub const MAX_OPTION_CHARS: usize = 300;
pub const MAX_EXPLANATION_CHARS: usize = 1500;
pub const MAX_SOURCE_CHARS: usize = 100;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 6;
/// Telegram's limit for one message, counted in UTF-16 code units.
pub const TELEGRAM_MESSAGE_LIMIT: usize = 4096;
/// Room left for whatever the quiz puts around a question (number, kind, category, hint).
pub const MESSAGE_HEADER_RESERVE: usize = 200;
/// Room left in the review for the labels and the correct letters around the explanation.
pub const REVIEW_EXTRA_RESERVE: usize = 100;

/// DOMAIN.md's short names with the full titles people actually type, so a sheet that says
/// 《中国共产党章程》第三十一条 is stored as 党章 第三十一条. The last two are not in
/// DOMAIN.md; the bank in `questions/` introduced them (see its README).
pub const SOURCE_DOCUMENTS: &[(&str, &[&str])] = &[
    ("党章", &["中国共产党章程"]),
    (
        "支部条例",
        &[
            "中国共产党支部工作条例（试行）",
            "中国共产党支部工作条例(试行)",
            "中国共产党支部工作条例",
        ],
    ),
    ("选举条例", &["中国共产党基层组织选举工作条例"]),
    ("任期意见", &["关于党的基层组织任期的意见"]),
    ("发展细则", &["中国共产党发展党员工作细则"]),
    ("党费规定", &["关于中国共产党党费收缴、使用和管理的规定"]),
    ("机关条例", &["中国共产党党和国家机关基层组织工作条例"]),
    ("纪律处分条例", &["中国共产党纪律处分条例"]),
    ("教育管理条例", &["中国共产党党员教育管理工作条例"]),
    ("党内监督条例", &["中国共产党党内监督条例"]),
    ("问责条例", &["中国共产党问责条例"]),
    ("权利保障条例", &["中国共产党党员权利保障条例"]),
    ("农村条例", &["中国共产党农村基层组织工作条例"]),
    (
        "国企条例",
        &[
            "中国共产党国有企业基层组织工作条例（试行）",
            "中国共产党国有企业基层组织工作条例(试行)",
            "中国共产党国有企业基层组织工作条例",
        ],
    ),
    ("高校条例", &["中国共产党普通高等学校基层组织工作条例"]),
    ("组织工作条例", &["中国共产党组织工作条例"]),
    ("党组条例", &["中国共产党党组工作条例"]),
    (
        "学习规则",
        &["中国共产党党委（党组）理论学习中心组学习规则"],
    ),
];

/// The fields of a question, named as the TOML keys and as the Excel headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    Kind,
    Category,
    Text,
    Options,
    Answer,
    Explanation,
    Source,
}

impl Field {
    pub(crate) const ALL: [Field; 8] = [
        Field::Id,
        Field::Kind,
        Field::Category,
        Field::Text,
        Field::Options,
        Field::Answer,
        Field::Explanation,
        Field::Source,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Kind => "kind",
            Field::Category => "category",
            Field::Text => "text",
            Field::Options => "options",
            Field::Answer => "answer",
            Field::Explanation => "explanation",
            Field::Source => "source",
        }
    }

    /// The Excel header; for options the common prefix of 选项A…选项F.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Field::Id => "题号",
            Field::Kind => "题型",
            Field::Category => "分类",
            Field::Text => "题干",
            Field::Options => "选项",
            Field::Answer => "答案",
            Field::Explanation => "解析",
            Field::Source => "出处",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// A string as read, with the line (or Excel row) it came from.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub value: String,
    pub line: usize,
}

/// A field as the reader found it. `Invalid` means the reader already reported it (wrong
/// type, bad cell), so the checks below stay quiet instead of adding a second error.
#[derive(Debug, Clone, Default)]
pub(crate) enum Slot<T> {
    #[default]
    Missing,
    Invalid,
    Present(T),
}

/// One question before validation. `line` is where the question starts (the
/// `[[question]]` header or the Excel row) and is used for missing fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawQuestion {
    pub line: usize,
    pub id: Slot<Located>,
    pub kind: Slot<Located>,
    pub category: Slot<Located>,
    pub text: Slot<Located>,
    /// For TOML `Missing` when the key is absent; for Excel the cells up to the last
    /// filled one, so a gap shows up as an empty option.
    pub options: Slot<Vec<Located>>,
    pub answer: Slot<Located>,
    pub explanation: Slot<Located>,
    pub source: Slot<Located>,
}

/// A valid question and where its id was written, for duplicate reports across files.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub question: Question,
    pub file: String,
    pub line: usize,
    pub format: BankFormat,
}

/// Collects the errors of one file, labelling fields the way that format names them.
pub(crate) struct Checker<'a> {
    pub file: &'a str,
    pub format: BankFormat,
    pub errors: &'a mut Vec<BankError>,
}

impl Checker<'_> {
    pub(crate) fn push(&mut self, line: usize, kind: ErrorKind, message: String) {
        self.errors
            .push(BankError::new(self.file, line, self.format, kind, message));
    }

    pub(crate) fn label(&self, field: Field) -> String {
        match self.format {
            BankFormat::Toml => texts::toml_field_label(field.key(), field.column()),
            BankFormat::Xlsx => texts::column_label(field.column()),
        }
    }

    fn option_label(&self, index: usize) -> String {
        let letter = letter_for(index);
        match self.format {
            BankFormat::Toml => texts::toml_option_label(index + 1, letter),
            BankFormat::Xlsx => texts::column_label(&format!("选项{letter}")),
        }
    }

    /// A required, non-empty text no longer than `max` characters.
    fn text(
        &mut self,
        field: Field,
        slot: &Slot<Located>,
        max: usize,
        line: usize,
    ) -> Option<Located> {
        let located = match slot {
            Slot::Missing => {
                let message = texts::missing_field(&self.label(field));
                self.push(line, ErrorKind::MissingField, message);
                return None;
            }
            Slot::Invalid => return None,
            Slot::Present(located) => located,
        };
        let value = clean(&located.value);
        if value.is_empty() {
            let message = texts::empty_field(&self.label(field));
            self.push(located.line, ErrorKind::EmptyField, message);
            return None;
        }
        let chars = value.chars().count();
        if chars > max {
            let message = texts::too_long(&self.label(field), max, chars);
            self.push(located.line, ErrorKind::TooLong, message);
            return None;
        }
        Some(Located {
            value,
            line: located.line,
        })
    }

    /// Checks one question and returns it only when it broke no rule.
    pub(crate) fn question(&mut self, raw: &RawQuestion) -> Option<Placed> {
        let before = self.errors.len();
        let line = raw.line;

        let id = self.text(Field::Id, &raw.id, usize::MAX, line);
        if let Some(id) = &id {
            if !is_valid_id(&id.value) {
                self.push(
                    id.line,
                    ErrorKind::BadId,
                    texts::bad_id(&id.value, MAX_ID_CHARS),
                );
            }
        }

        let kind = self
            .text(Field::Kind, &raw.kind, usize::MAX, line)
            .and_then(|located| match kind_from_label(&located.value) {
                Some(kind) => Some(kind),
                None => {
                    self.push(
                        located.line,
                        ErrorKind::UnknownKind,
                        texts::unknown_kind(&located.value),
                    );
                    None
                }
            });

        let category = self.text(Field::Category, &raw.category, MAX_CATEGORY_CHARS, line);
        let text = self.text(Field::Text, &raw.text, MAX_TEXT_CHARS, line);
        let explanation = self.text(
            Field::Explanation,
            &raw.explanation,
            MAX_EXPLANATION_CHARS,
            line,
        );
        let source = self
            .text(Field::Source, &raw.source, MAX_SOURCE_CHARS, line)
            .and_then(|located| match normalize_source(&located.value) {
                Some(value) => Some(value),
                None => {
                    let message = texts::unknown_source(&located.value, &short_names());
                    self.push(located.line, ErrorKind::UnknownSource, message);
                    None
                }
            });

        let options = self.options(kind, &raw.options, line);
        let answer = self.answer(
            kind,
            options.as_ref().map(|(texts, _)| texts.as_slice()),
            &raw.answer,
            line,
        );
        let options = options.and_then(|(texts, ok)| ok.then_some(texts));

        if self.errors.len() > before {
            return None;
        }
        let (id, kind, category, text, explanation, source, options, answer) = match (
            id,
            kind,
            category,
            text,
            explanation,
            source,
            options,
            answer,
        ) {
            (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f), Some(g), Some(h)) => {
                (a, b, c, d, e, f, g, h)
            }
            // Every `None` above came with an error, so this is unreachable in practice;
            // returning None keeps it panic-free all the same.
            _ => return None,
        };
        let question = Question {
            id: id.value,
            kind,
            category: category.value,
            text: text.value,
            options,
            answer,
            explanation: explanation.value,
            source,
        };
        let question_len = question_message_len(&question);
        if question_len > TELEGRAM_MESSAGE_LIMIT {
            let message = texts::question_message_too_long(question_len, TELEGRAM_MESSAGE_LIMIT);
            self.push(text.line, ErrorKind::MessageTooLong, message);
            return None;
        }
        let review_len = review_message_len(&question);
        if review_len > TELEGRAM_MESSAGE_LIMIT {
            let message = texts::review_message_too_long(review_len, TELEGRAM_MESSAGE_LIMIT);
            self.push(explanation.line, ErrorKind::MessageTooLong, message);
            return None;
        }
        Some(Placed {
            question,
            file: self.file.to_owned(),
            line: id.line,
            format: self.format,
        })
    }

    /// The option texts of the question (for 判断 the fixed 对/错) and whether they obey
    /// every rule; the texts are returned either way so the answer can still be checked.
    fn options(
        &mut self,
        kind: Option<QuestionKind>,
        slot: &Slot<Vec<Located>>,
        line: usize,
    ) -> Option<(Vec<String>, bool)> {
        let given = match slot {
            Slot::Invalid => return None,
            Slot::Missing => None,
            Slot::Present(list) => Some(list),
        };
        if kind == Some(QuestionKind::TrueFalse) {
            return match given {
                Some(list) if !list.is_empty() => {
                    self.push(
                        list[0].line,
                        ErrorKind::OptionsForTrueFalse,
                        texts::options_for_true_false(),
                    );
                    Some((true_false_options(), false))
                }
                _ => Some((true_false_options(), true)),
            };
        }
        let Some(list) = given else {
            if kind.is_some() {
                let message = texts::missing_field(&self.label(Field::Options));
                self.push(line, ErrorKind::MissingField, message);
            }
            return None;
        };
        let before = self.errors.len();
        let first_line = list.first().map_or(line, |o| o.line);
        if let Some(kind) = kind {
            if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&list.len()) {
                let message =
                    texts::option_count(kind.label(), list.len(), MIN_OPTIONS, MAX_OPTIONS);
                self.push(first_line, ErrorKind::OptionCount, message);
            }
        }
        let mut texts_seen: HashMap<String, usize> = HashMap::new();
        let mut options = Vec::with_capacity(list.len());
        for (index, option) in list.iter().enumerate() {
            let value = strip_own_letter(&clean(&option.value), index);
            let chars = value.chars().count();
            if value.is_empty() {
                let message = texts::empty_field(&self.option_label(index));
                self.push(option.line, ErrorKind::EmptyField, message);
            } else if chars > MAX_OPTION_CHARS {
                let message = texts::too_long(&self.option_label(index), MAX_OPTION_CHARS, chars);
                self.push(option.line, ErrorKind::TooLong, message);
            } else if let Some(&earlier) = texts_seen.get(&value) {
                let message = texts::duplicate_option(letter_for(index), letter_for(earlier));
                self.push(option.line, ErrorKind::DuplicateOption, message);
            } else {
                texts_seen.insert(value.clone(), index);
            }
            options.push(value);
        }
        let ok = self.errors.len() == before && kind.is_some();
        Some((options, ok))
    }

    /// The sorted answer indices. Letters are checked against the options even when the
    /// options themselves broke a rule, so an editor sees every problem in one pass.
    fn answer(
        &mut self,
        kind: Option<QuestionKind>,
        options: Option<&[String]>,
        slot: &Slot<Located>,
        line: usize,
    ) -> Option<Vec<u8>> {
        let located = self.text(Field::Answer, slot, usize::MAX, line)?;
        let kind = kind?;
        let at = located.line;
        if kind == QuestionKind::TrueFalse {
            return match true_false_index(&located.value) {
                Some(index) => Some(vec![index]),
                None => {
                    self.push(
                        at,
                        ErrorKind::BadAnswer,
                        texts::answer_not_true_false(&located.value),
                    );
                    None
                }
            };
        }
        let letters = match answer_letters(&located.value) {
            Ok(letters) => letters,
            Err(()) => {
                self.push(
                    at,
                    ErrorKind::BadAnswer,
                    texts::answer_not_letters(&located.value),
                );
                return None;
            }
        };
        let before = self.errors.len();
        let mut indices: Vec<u8> = Vec::with_capacity(letters.len());
        for &index in &letters {
            if indices.contains(&index) {
                // Report "AAA" once, not twice.
                if indices.iter().filter(|&&i| i == index).count() == 1 {
                    self.push(
                        at,
                        ErrorKind::DuplicateAnswerLetter,
                        texts::duplicate_answer_letter(letter_for(index.into())),
                    );
                }
            } else if let Some(options) = options {
                if usize::from(index) >= options.len() {
                    let message =
                        texts::answer_no_such_option(letter_for(index.into()), options.len());
                    self.push(at, ErrorKind::AnswerNoSuchOption, message);
                }
            }
            indices.push(index);
        }
        indices.sort_unstable();
        indices.dedup();
        match kind {
            QuestionKind::Single if indices.len() != 1 => {
                self.push(
                    at,
                    ErrorKind::AnswerCount,
                    texts::single_needs_one(indices.len()),
                );
            }
            QuestionKind::Multiple if indices.len() < 2 => {
                self.push(
                    at,
                    ErrorKind::AnswerCount,
                    texts::multiple_needs_two(indices.len()),
                );
            }
            _ => {}
        }
        (self.errors.len() == before && options.is_some()).then_some(indices)
    }
}

/// Reports every id used more than once (ignoring case, since `HJ-001` and `hj-001` would
/// confuse any reader), each time pointing back at the first use.
pub(crate) fn report_duplicate_ids(placed: &[Placed], errors: &mut Vec<BankError>) {
    let mut first: HashMap<String, &Placed> = HashMap::new();
    for entry in placed {
        let key = entry.question.id.to_lowercase();
        match first.get(&key) {
            Some(earlier) => errors.push(BankError::new(
                &entry.file,
                entry.line,
                entry.format,
                ErrorKind::DuplicateId,
                texts::duplicate_id(
                    &entry.question.id,
                    &place(&earlier.file, earlier.line, earlier.format),
                ),
            )),
            None => {
                first.insert(key, entry);
            }
        }
    }
}

/// How long the question message is at most, counted as Telegram counts (UTF-16 units).
pub fn question_message_len(question: &Question) -> usize {
    let options: usize = question
        .options
        .iter()
        .map(|option| "A. ".len() + utf16_len(option) + 1)
        .sum();
    MESSAGE_HEADER_RESERVE + utf16_len(&question.text) + 2 + options
}

/// How long the review of one question is at most: the question again with the correct
/// answer, the explanation and the source.
pub fn review_message_len(question: &Question) -> usize {
    question_message_len(question)
        + REVIEW_EXTRA_RESERVE
        + utf16_len(&question.explanation)
        + utf16_len(&question.source)
}

fn true_false_options() -> Vec<String> {
    vec!["对".to_owned(), "错".to_owned()]
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn letter_for(index: usize) -> char {
    u8::try_from(index).map_or('?', |i| if i < 26 { option_letter(i) } else { '?' })
}

/// Trims and unifies line breaks, so an Excel cell and a TOML string read the same.
pub(crate) fn clean(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}

fn is_valid_id(id: &str) -> bool {
    id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Sheets copied from printed tests often keep the letter in the option ("A．3年");
/// the bot adds letters itself, so an option's own letter and separator are dropped.
fn strip_own_letter(option: &str, index: usize) -> String {
    let letter = letter_for(index);
    if !letter.is_ascii_uppercase() {
        return option.to_owned();
    }
    let full_width = char::from_u32(u32::from(letter) - u32::from('A') + 0xFF21);
    let mut chars = option.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    if first != letter && Some(first) != full_width {
        return option.to_owned();
    }
    let rest = chars.as_str();
    let mut rest_chars = rest.chars();
    match rest_chars.next() {
        Some('.' | '．' | '、' | ':' | '：' | ')' | '）') => {
            rest_chars.as_str().trim().to_owned()
        }
        _ => option.to_owned(),
    }
}

/// Option letters as indices in the order written. Lower-case and full-width letters count,
/// and the separators people put between letters (A,C,D / A、C、D) are skipped.
fn answer_letters(answer: &str) -> Result<Vec<u8>, ()> {
    let mut letters = Vec::new();
    for c in answer.chars() {
        if c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；' | '/') {
            continue;
        }
        let c = match c {
            'Ａ'..='Ｚ' => char::from_u32(u32::from(c) - 0xFF21 + u32::from('A')).ok_or(())?,
            'ａ'..='ｚ' => char::from_u32(u32::from(c) - 0xFF41 + u32::from('A')).ok_or(())?,
            _ => c.to_ascii_uppercase(),
        };
        if !c.is_ascii_uppercase() {
            return Err(());
        }
        letters.push(c as u8 - b'A');
    }
    if letters.is_empty() {
        return Err(());
    }
    Ok(letters)
}

/// The kind, also from the long names printed tests use (单项选择题, 是非题).
fn kind_from_label(label: &str) -> Option<QuestionKind> {
    match label.trim() {
        "单项选择" | "单项选择题" => Some(QuestionKind::Single),
        "多项选择" | "多项选择题" => Some(QuestionKind::Multiple),
        "是非" | "是非题" => Some(QuestionKind::TrueFalse),
        other => QuestionKind::from_label(other),
    }
}

/// 对 is option 0 and 错 option 1; the spellings found in Chinese question sheets count too.
fn true_false_index(answer: &str) -> Option<u8> {
    match answer.trim() {
        "对" | "正确" | "√" | "✓" | "✔" => Some(0),
        "错" | "错误" | "×" | "✗" | "✘" => Some(1),
        _ => None,
    }
}

/// The source with a full document title replaced by its short name, or None when it
/// names no known document.
pub(crate) fn normalize_source(source: &str) -> Option<String> {
    let source = source.trim();
    // "2007 党章 第三十条": an older edition is still the same document.
    let without_year = strip_year(source);
    for (short, titles) in SOURCE_DOCUMENTS {
        if without_year.starts_with(short) {
            return Some(source.to_owned());
        }
        for title in *titles {
            let quoted = format!("《{title}》");
            for spelled in [quoted.as_str(), title] {
                if let Some(rest) = without_year.strip_prefix(spelled) {
                    let year = &source[..source.len() - without_year.len()];
                    let rest = rest.trim();
                    let joined = if rest.is_empty() {
                        format!("{year}{short}")
                    } else {
                        format!("{year}{short} {rest}")
                    };
                    return Some(joined);
                }
            }
        }
    }
    None
}

fn strip_year(source: &str) -> &str {
    let digits = source.chars().take_while(char::is_ascii_digit).count();
    if digits != 4 {
        return source;
    }
    let rest = &source[4..];
    let rest = rest.strip_prefix('年').unwrap_or(rest);
    let rest = rest.strip_prefix('版').unwrap_or(rest);
    rest.trim_start()
}

fn short_names() -> String {
    SOURCE_DOCUMENTS
        .iter()
        .map(|(short, _)| *short)
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_accept_case_width_and_separators() {
        assert_eq!(answer_letters("acd"), Ok(vec![0, 2, 3]));
        assert_eq!(answer_letters("ＡＣ"), Ok(vec![0, 2]));
        assert_eq!(answer_letters("ｂ"), Ok(vec![1]));
        assert_eq!(answer_letters("A、C, D"), Ok(vec![0, 2, 3]));
        assert_eq!(answer_letters("对"), Err(()));
        assert_eq!(answer_letters("1"), Err(()));
        assert_eq!(answer_letters(" , "), Err(()));
    }

    #[test]
    fn own_letter_prefix_is_dropped_only_with_a_separator() {
        assert_eq!(strip_own_letter("A．3年", 0), "3年");
        assert_eq!(strip_own_letter("B、党员大会", 1), "党员大会");
        assert_eq!(strip_own_letter("Ｃ. 五年", 2), "五年");
        assert_eq!(strip_own_letter("A型", 0), "A型");
        assert_eq!(strip_own_letter("B. 错位", 0), "B. 错位");
    }

    #[test]
    fn full_titles_become_short_names() {
        assert_eq!(
            normalize_source("党章 第三十一条").as_deref(),
            Some("党章 第三十一条")
        );
        assert_eq!(
            normalize_source("《中国共产党支部工作条例（试行）》第二十一条").as_deref(),
            Some("支部条例 第二十一条")
        );
        assert_eq!(normalize_source("中国共产党章程").as_deref(), Some("党章"));
        assert_eq!(
            normalize_source("2007 党章 第三十条").as_deref(),
            Some("2007 党章 第三十条")
        );
        assert_eq!(normalize_source("百度百科"), None);
        assert_eq!(normalize_source("第三十一条"), None);
    }

    #[test]
    fn kind_spellings() {
        assert_eq!(kind_from_label("单项选择题"), Some(QuestionKind::Single));
        assert_eq!(kind_from_label(" 多选题 "), Some(QuestionKind::Multiple));
        assert_eq!(kind_from_label("是非题"), Some(QuestionKind::TrueFalse));
        assert_eq!(kind_from_label("不定项选择"), None);
    }

    #[test]
    fn true_false_spellings() {
        assert_eq!(true_false_index("对"), Some(0));
        assert_eq!(true_false_index("错误"), Some(1));
        assert_eq!(true_false_index("A"), None);
    }
}
