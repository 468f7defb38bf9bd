//! The question model shared by the loader, the test and the reports.

use serde::{Deserialize, Serialize};

/// The three kinds of question used in Chinese party-affairs tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuestionKind {
    /// 单选题: exactly one option is correct.
    #[serde(rename = "单选")]
    Single,
    /// 多选题: two or more options are correct and all must be chosen.
    #[serde(rename = "多选")]
    Multiple,
    /// 判断题: a statement that is right (对) or wrong (错); it has no options.
    #[serde(rename = "判断")]
    TrueFalse,
}

impl QuestionKind {
    /// The Chinese name used in files, messages and reports.
    pub fn label(self) -> &'static str {
        match self {
            QuestionKind::Single => "单选",
            QuestionKind::Multiple => "多选",
            QuestionKind::TrueFalse => "判断",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        match label.trim().trim_end_matches('题') {
            "单选" => Some(QuestionKind::Single),
            "多选" => Some(QuestionKind::Multiple),
            "判断" => Some(QuestionKind::TrueFalse),
            _ => None,
        }
    }
}

/// One validated question of the bank.
///
/// Options are indexed from 0 (shown as A, B, C, ...). A 判断 question has the two
/// fixed options 对 (index 0) and 错 (index 1), so every kind is answered the same way:
/// by a set of option indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id, unique across the bank; stored answers refer to it forever.
    pub id: String,
    pub kind: QuestionKind,
    /// Category used to spread a draw and to report weak areas (e.g. 换届选举).
    pub category: String,
    pub text: String,
    /// The options as written; for 判断 always `["对", "错"]`.
    pub options: Vec<String>,
    /// Indices into `options` of the correct answers, sorted ascending.
    pub answer: Vec<u8>,
    /// Teaches the rule behind the answer; shown in the review after a test.
    pub explanation: String,
    /// The article the question rests on, in DOMAIN.md's short names (e.g. 党章 第三十一条).
    pub source: String,
}

/// The letter shown for an option index: 0 → 'A'.
pub fn option_letter(index: u8) -> char {
    (b'A' + index) as char
}

/// Questions for unit tests across the crate.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Question, QuestionKind};

    /// A well-formed question of `kind`: four options (B right; A and C for 多选), or 对/错
    /// with 错 right.
    pub(crate) fn sample(id: &str, kind: QuestionKind, category: &str) -> Question {
        let (options, answer) = match kind {
            QuestionKind::Single => (vec!["甲", "乙", "丙", "丁"], vec![1]),
            QuestionKind::Multiple => (vec!["甲", "乙", "丙", "丁"], vec![0, 2]),
            QuestionKind::TrueFalse => (vec!["对", "错"], vec![1]),
        };
        Question {
            id: id.to_owned(),
            kind,
            category: category.to_owned(),
            text: format!("题目 {id}"),
            options: options.into_iter().map(str::to_owned).collect(),
            answer,
            explanation: "因为条例这样规定。".to_owned(),
            source: "支部条例 第十一条".to_owned(),
        }
    }

    /// A 判断 question with the given statement, 对 right.
    pub(crate) fn statement(id: &str, text: &str) -> Question {
        Question {
            id: id.into(),
            kind: QuestionKind::TrueFalse,
            category: "党费".into(),
            text: text.into(),
            options: vec!["对".into(), "错".into()],
            answer: vec![0],
            explanation: "因为".into(),
            source: "党章".into(),
        }
    }
}
