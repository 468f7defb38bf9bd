//! Item-writing checks: cues that let a test-taker pass without knowing the rule.
//!
//! A bank can be valid (every question well-formed) and still measure test-taking skill:
//! the longest option is the answer, absolute words mark wrong options, every 多选 answer is
//! "all but the last", two questions ask one fact. These checks find such cues and report
//! them as warnings naming the question ids; they never stop a bank from loading (errors do
//! that), but `branchbot questions check --strict` fails on them so CI keeps the bank clean.
//! Every rule and threshold is explained for bank editors in `questions/FORMAT.md`.

use std::fmt;

use super::model::{option_letter, Question, QuestionKind};
use super::similarity::{similar_pairs, Likeness};
use crate::texts::lint as texts;

/// A category needs this many 单选 with one longest option before its rate is judged.
pub const LONGEST_MIN_SAMPLE: usize = 6;
/// Above this share of "the single longest option is the answer" a category warns; chance
/// is 25% with four options.
pub const LONGEST_MAX_RATE: f64 = 0.35;
/// Below this share the opposite cue appears ("never pick the longest"), judged once a
/// category has `LONGEST_MIN_SAMPLE_LOW` such questions.
pub const LONGEST_MIN_RATE: f64 = 0.1;
pub const LONGEST_MIN_SAMPLE_LOW: usize = 10;
/// The answer is "much longer" when it has at least this many times the characters of the
/// longest other option…
pub const LENGTH_RATIO: f64 = 1.5;
/// …and at least this many characters more (so "3年" vs "五年制" does not count).
pub const LENGTH_MIN_EXTRA: usize = 4;
/// A family of words test-wise readers take as a sign of right or wrong, whatever the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordGroup {
    /// The Chinese name used in warnings and statistics.
    pub name: &'static str,
    pub words: &'static [&'static str],
    /// Whether the words make an option or statement look right (else wrong).
    pub looks_right: bool,
}

/// Lax words (no approval needed, do as you like) look wrong…
pub const LAX_WORDS: WordGroup = WordGroup {
    name: texts::LAX_GROUP,
    words: &[
        "即可",
        "无需",
        "无须",
        "不必",
        "不需要",
        "随意",
        "自行",
        "任意",
        "直接",
        "只需",
    ],
    looks_right: false,
};
/// …so do sweeping words (always, only, all)…
pub const ABSOLUTE_WORDS: WordGroup = WordGroup {
    name: texts::ABSOLUTE_GROUP,
    words: &[
        "一律", "只能", "仅", "都", "全部", "所有", "一切", "完全", "绝对", "一概",
    ],
    looks_right: false,
};
/// …while words of obligation look right.
pub const STRICT_WORDS: WordGroup = WordGroup {
    name: texts::STRICT_GROUP,
    words: &["必须", "不得", "严禁", "禁止"],
    looks_right: true,
};
pub const WORD_GROUPS: [WordGroup; 3] = [LAX_WORDS, ABSOLUTE_WORDS, STRICT_WORDS];
/// 判断 statements with words of one group need at least this many before their truth
/// values are judged…
pub const TRUE_FALSE_MIN_SAMPLE: usize = 4;
/// …and warn when more than this share has the value the words suggest.
pub const TRUE_FALSE_MAX_CUE_RATE: f64 = 0.7;
/// 多选 are judged as a whole once there are this many.
pub const MULTIPLE_MIN_SAMPLE: usize = 6;
/// Above this share of 多选 whose wrong options are all at the end, the bank warns; by
/// chance it is about 20% with 4–5 options and 2–4 correct.
pub const MULTIPLE_MAX_WRONG_LAST_RATE: f64 = 0.35;
/// Above this share of 多选 with exactly one wrong option, the bank warns.
pub const MULTIPLE_MAX_ONE_WRONG_RATE: f64 = 0.5;
/// Phrases in a stem that only make sense after another question.
pub const STEM_REFERENCES: &[&str] = &[
    "还包括",
    "还有哪些",
    "上题",
    "上一题",
    "前题",
    "前一题",
    "同上",
    "接上题",
    "以上各题",
    "上述各题",
];
/// Phrases in an option that refer to the other options ("以上都对").
pub const OPTION_REFERENCES: &[&str] = &[
    "以上都",
    "以上均",
    "以上全",
    "以上各项",
    "以上选项",
    "以上说法",
    "以上皆",
    "都不对",
    "都正确",
    "皆是",
    "皆非",
];

/// What a warning is about, for tests and for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningKind {
    LongestIsAnswer,
    LongestNeverAnswer,
    LongAnswer,
    WordCue,
    TrueFalseWordCue,
    MultipleAllCorrect,
    MultipleWrongLast,
    MultipleOneWrong,
    NearDuplicate,
    DependentStem,
    OptionRefersToOthers,
}

/// One item-writing problem: the questions concerned and a Chinese sentence saying what
/// the cue is and how to remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintWarning {
    pub kind: WarningKind,
    pub ids: Vec<String>,
    pub message: String,
}

impl fmt::Display for LintWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}：{}",
            self.ids.join(texts::ID_SEPARATOR),
            self.message
        )
    }
}

/// Every warning for the bank: per question first (in bank order), then the bank-wide
/// patterns, then near-duplicate pairs.
pub fn lint(questions: &[Question]) -> Vec<LintWarning> {
    let mut warnings = Vec::new();
    for question in questions {
        question_warnings(question, &mut warnings);
    }
    longest_by_category(questions, &mut warnings);
    true_false_cues(questions, &mut warnings);
    multiple_patterns(questions, &mut warnings);
    near_duplicates(questions, &mut warnings);
    warnings
}

fn warn(warnings: &mut Vec<LintWarning>, kind: WarningKind, ids: Vec<String>, message: String) {
    warnings.push(LintWarning { kind, ids, message });
}

fn question_warnings(question: &Question, warnings: &mut Vec<LintWarning>) {
    let id = || vec![question.id.clone()];
    if let Some(reference) = find_word(&question.text, STEM_REFERENCES) {
        warn(
            warnings,
            WarningKind::DependentStem,
            id(),
            texts::dependent_stem(reference),
        );
    }
    if question.kind == QuestionKind::TrueFalse {
        return;
    }
    for (index, option) in question.options.iter().enumerate() {
        if let Some(reference) = find_word(option, OPTION_REFERENCES) {
            let letter = option_letter(index as u8);
            let message = texts::option_refers_to_others(letter, reference);
            warn(warnings, WarningKind::OptionRefersToOthers, id(), message);
        }
    }
    if let Some(message) = long_answer(question) {
        warn(warnings, WarningKind::LongAnswer, id(), message);
    }
    for group in WORD_GROUPS {
        if let Some(letters) = words_on_one_side(question, group.words, group.looks_right) {
            let message = texts::words_on_one_side(group.name, &letters, group.looks_right);
            warn(warnings, WarningKind::WordCue, id(), message);
        }
    }
    if question.kind == QuestionKind::Multiple && question.answer.len() == question.options.len() {
        warn(
            warnings,
            WarningKind::MultipleAllCorrect,
            id(),
            texts::multiple_all_correct(),
        );
    }
}

/// The first of `words` that `text` contains.
fn find_word<'a>(text: &str, words: &[&'a str]) -> Option<&'a str> {
    words.iter().copied().find(|word| text.contains(word))
}

fn is_correct(question: &Question, index: usize) -> bool {
    question.answer.contains(&(index as u8))
}

fn chars(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// The answer (for 多选 its shortest correct option) dwarfs every wrong option.
fn long_answer(question: &Question) -> Option<String> {
    let (mut shortest_correct, mut longest_wrong) = (usize::MAX, 0);
    for (index, option) in question.options.iter().enumerate() {
        let len = chars(option);
        if is_correct(question, index) {
            shortest_correct = shortest_correct.min(len);
        } else {
            longest_wrong = longest_wrong.max(len);
        }
    }
    if longest_wrong == 0 || shortest_correct == usize::MAX {
        return None;
    }
    let much_longer = shortest_correct as f64 >= LENGTH_RATIO * longest_wrong as f64
        && shortest_correct >= longest_wrong + LENGTH_MIN_EXTRA;
    much_longer.then(|| texts::long_answer(question.kind.label(), shortest_correct, longest_wrong))
}

/// The letters of the options carrying one of `words`, when they are all on one side:
/// all correct (`on_correct`) or all wrong. None when no option carries the words or both
/// sides do.
fn words_on_one_side(question: &Question, words: &[&str], on_correct: bool) -> Option<String> {
    let carriers: Vec<usize> = (0..question.options.len())
        .filter(|&i| find_word(&question.options[i], words).is_some())
        .collect();
    let all_on_side = carriers
        .iter()
        .all(|&i| is_correct(question, i) == on_correct);
    // A side that holds every option (all correct) cannot be told apart by the words.
    let other_side_exists =
        (0..question.options.len()).any(|i| is_correct(question, i) != on_correct);
    (!carriers.is_empty() && all_on_side && other_side_exists).then(|| letters(&carriers))
}

fn letters(indices: &[usize]) -> String {
    indices.iter().map(|&i| option_letter(i as u8)).collect()
}

/// The index of the single longest option of a 单选, if one option is strictly longest.
pub(crate) fn unique_longest(question: &Question) -> Option<usize> {
    let lens: Vec<usize> = question.options.iter().map(|o| chars(o)).collect();
    let max = *lens.iter().max()?;
    let mut at = lens.iter().enumerate().filter(|(_, &l)| l == max);
    let (index, _) = at.next()?;
    at.next().is_none().then_some(index)
}

/// Categories in bank order with their questions.
pub(crate) fn by_category(questions: &[Question]) -> Vec<(&str, Vec<&Question>)> {
    let mut out: Vec<(&str, Vec<&Question>)> = Vec::new();
    for question in questions {
        match out.iter_mut().find(|(name, _)| *name == question.category) {
            Some((_, list)) => list.push(question),
            None => out.push((&question.category, vec![question])),
        }
    }
    out
}

/// Of the 单选 with one longest option: how many, and the ids where it is the answer.
pub(crate) fn longest_hits<'a>(questions: &[&'a Question]) -> (usize, Vec<&'a str>) {
    let (judged, hits) = longest_split(questions);
    (judged.len(), hits)
}

/// The 单选 with one longest option, and those of them where it is the answer.
fn longest_split<'a>(questions: &[&'a Question]) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut judged = Vec::new();
    let mut hits = Vec::new();
    for question in questions.iter().filter(|q| q.kind == QuestionKind::Single) {
        if let Some(longest) = unique_longest(question) {
            judged.push(question.id.as_str());
            if is_correct(question, longest) {
                hits.push(question.id.as_str());
            }
        }
    }
    (judged, hits)
}

fn longest_by_category(questions: &[Question], warnings: &mut Vec<LintWarning>) {
    for (category, list) in by_category(questions) {
        let (judged, hits) = longest_split(&list);
        let total = judged.len();
        let rate = hits.len() as f64 / total.max(1) as f64;
        if total >= LONGEST_MIN_SAMPLE && rate > LONGEST_MAX_RATE {
            let message = texts::longest_is_answer(category, hits.len(), total, LONGEST_MAX_RATE);
            let ids = hits.into_iter().map(str::to_owned).collect();
            warn(warnings, WarningKind::LongestIsAnswer, ids, message);
        } else if total >= LONGEST_MIN_SAMPLE_LOW && rate < LONGEST_MIN_RATE {
            let message =
                texts::longest_never_answer(category, hits.len(), total, LONGEST_MIN_RATE);
            let ids = judged
                .into_iter()
                .filter(|id| !hits.contains(id))
                .map(str::to_owned)
                .collect();
            warn(warnings, WarningKind::LongestNeverAnswer, ids, message);
        }
    }
}

/// 判断 statements carrying `words`, split by truth: (对 ids, 错 ids).
pub(crate) fn true_false_split<'a>(
    questions: &'a [Question],
    words: &[&str],
) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut right = Vec::new();
    let mut wrong = Vec::new();
    for question in questions
        .iter()
        .filter(|q| q.kind == QuestionKind::TrueFalse)
    {
        if find_word(&question.text, words).is_some() {
            if question.answer == [0] {
                right.push(question.id.as_str());
            } else {
                wrong.push(question.id.as_str());
            }
        }
    }
    (right, wrong)
}

fn true_false_cues(questions: &[Question], warnings: &mut Vec<LintWarning>) {
    for group in WORD_GROUPS {
        let (right, wrong) = true_false_split(questions, group.words);
        let total = right.len() + wrong.len();
        let following = if group.looks_right { right } else { wrong };
        if total >= TRUE_FALSE_MIN_SAMPLE
            && following.len() as f64 > TRUE_FALSE_MAX_CUE_RATE * total as f64
        {
            let message =
                texts::true_false_word_cue(group.name, following.len(), total, group.looks_right);
            let ids = following.into_iter().map(str::to_owned).collect();
            warn(warnings, WarningKind::TrueFalseWordCue, ids, message);
        }
    }
}

/// Whether the wrong options of a 多选 are all after the correct ones (answer "AB" of 4).
pub(crate) fn wrong_options_last(question: &Question) -> bool {
    let count = question.answer.len();
    count < question.options.len()
        && question
            .answer
            .iter()
            .enumerate()
            .all(|(i, &a)| usize::from(a) == i)
}

fn multiple_patterns(questions: &[Question], warnings: &mut Vec<LintWarning>) {
    let multiple: Vec<&Question> = questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Multiple)
        .collect();
    let total = multiple.len();
    if total < MULTIPLE_MIN_SAMPLE {
        return;
    }
    let ids_where = |pred: &dyn Fn(&Question) -> bool| -> Vec<String> {
        multiple
            .iter()
            .filter(|q| pred(q))
            .map(|q| q.id.clone())
            .collect()
    };
    let last = ids_where(&wrong_options_last);
    if last.len() as f64 > MULTIPLE_MAX_WRONG_LAST_RATE * total as f64 {
        let message = texts::multiple_wrong_last(last.len(), total, MULTIPLE_MAX_WRONG_LAST_RATE);
        warn(warnings, WarningKind::MultipleWrongLast, last, message);
    }
    let one_wrong = ids_where(&|q| q.options.len() == q.answer.len() + 1);
    if one_wrong.len() as f64 > MULTIPLE_MAX_ONE_WRONG_RATE * total as f64 {
        let message =
            texts::multiple_one_wrong(one_wrong.len(), total, MULTIPLE_MAX_ONE_WRONG_RATE);
        warn(warnings, WarningKind::MultipleOneWrong, one_wrong, message);
    }
}

fn near_duplicates(questions: &[Question], warnings: &mut Vec<LintWarning>) {
    for pair in similar_pairs(questions) {
        let ids = vec![
            questions[pair.first].id.clone(),
            questions[pair.second].id.clone(),
        ];
        let percent = (pair.score * 100.0).round() as u32;
        let message = match pair.likeness {
            Likeness::Stem => texts::similar_stems(percent),
            Likeness::Fact => texts::similar_facts(percent),
        };
        warn(warnings, WarningKind::NearDuplicate, ids, message);
    }
}
