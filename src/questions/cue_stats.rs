//! Cue statistics of a bank (`branchbot questions check --stats`): how far a test-taker
//! gets by the longest option, absolute words and 多选 answer patterns, so a rewrite can be
//! measured before and after with the same definitions as the checks in `lint`.

use std::collections::BTreeMap;

use super::lint::{by_category, longest_hits, true_false_split, wrong_options_last, WORD_GROUPS};
use super::model::{option_letter, Question, QuestionKind};
use super::similarity::similar_pairs;
use crate::texts::lint as texts;

/// A count out of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    pub count: usize,
    pub total: usize,
}

impl Share {
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.count as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordStats {
    pub group: &'static str,
    pub looks_right: bool,
    pub options: Share,
    pub statements: Share,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CueStats {
    /// 单选 whose single longest option is the answer, out of those with one longest option.
    pub longest_overall: Share,
    /// The same per category, in bank order.
    pub longest_by_category: Vec<(String, Share)>,
    /// Per word group (in `WORD_GROUPS` order): choice options carrying its words that are
    /// on the side the words suggest, and 判断 statements whose truth is the one they suggest.
    pub words: Vec<WordStats>,
    /// Every choice option that is wrong, out of all choice options: the base rate.
    pub options_wrong: Share,
    /// Every 判断 whose answer is 对: the base rate for statements.
    pub true_false_true: Share,
    pub multiple_all_correct: Share,
    pub multiple_one_wrong: Share,
    pub multiple_wrong_last: Share,
    pub multiple_one_wrong_last: Share,
    /// 多选 answers as written ("ABCD") with their option count, most frequent first.
    pub multiple_patterns: Vec<(String, usize)>,
    pub near_duplicate_pairs: usize,
}

pub fn cue_stats(questions: &[Question]) -> CueStats {
    let all: Vec<&Question> = questions.iter().collect();
    let share = |(judged, hits): (usize, Vec<&str>)| Share {
        count: hits.len(),
        total: judged,
    };
    let mut stats = CueStats {
        longest_overall: share(longest_hits(&all)),
        longest_by_category: by_category(questions)
            .into_iter()
            .map(|(name, list)| (name.to_owned(), share(longest_hits(&list))))
            .collect(),
        near_duplicate_pairs: similar_pairs(questions).len(),
        ..CueStats::default()
    };
    word_stats(questions, &mut stats);
    multiple(questions, &mut stats);
    stats
}

fn word_stats(questions: &[Question], stats: &mut CueStats) {
    for question in questions {
        if question.kind == QuestionKind::TrueFalse {
            stats.true_false_true.total += 1;
            stats.true_false_true.count += usize::from(question.answer == [0]);
            continue;
        }
        let options = question.options.len();
        stats.options_wrong.total += options;
        stats.options_wrong.count += options - question.answer.len();
    }
    for group in WORD_GROUPS {
        let mut options = Share::default();
        for question in questions
            .iter()
            .filter(|q| q.kind != QuestionKind::TrueFalse)
        {
            for (index, option) in question.options.iter().enumerate() {
                if group.words.iter().any(|w| option.contains(w)) {
                    let correct = question.answer.contains(&(index as u8));
                    options.total += 1;
                    options.count += usize::from(correct == group.looks_right);
                }
            }
        }
        let (right, wrong) = true_false_split(questions, group.words);
        let statements = Share {
            count: if group.looks_right {
                right.len()
            } else {
                wrong.len()
            },
            total: right.len() + wrong.len(),
        };
        stats.words.push(WordStats {
            group: group.name,
            looks_right: group.looks_right,
            options,
            statements,
        });
    }
}

fn multiple(questions: &[Question], stats: &mut CueStats) {
    let mut patterns: BTreeMap<String, usize> = BTreeMap::new();
    for question in questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Multiple)
    {
        let wrong = question.options.len() - question.answer.len();
        let last = wrong_options_last(question);
        for (share, hit) in [
            (&mut stats.multiple_all_correct, wrong == 0),
            (&mut stats.multiple_one_wrong, wrong == 1),
            (&mut stats.multiple_wrong_last, last),
            (&mut stats.multiple_one_wrong_last, wrong == 1 && last),
        ] {
            share.total += 1;
            share.count += usize::from(hit);
        }
        let letters: String = question.answer.iter().map(|&i| option_letter(i)).collect();
        *patterns
            .entry(texts::answer_pattern(&letters, question.options.len()))
            .or_default() += 1;
    }
    let mut patterns: Vec<(String, usize)> = patterns.into_iter().collect();
    patterns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    stats.multiple_patterns = patterns;
}

/// The statistics as lines for a terminal.
pub fn render_stats(stats: &CueStats) -> String {
    let mut lines = vec![
        texts::STATS_TITLE.to_owned(),
        texts::stats_longest(texts::ALL_CATEGORIES, stats.longest_overall),
    ];
    for (name, share) in &stats.longest_by_category {
        lines.push(texts::stats_longest(name, *share));
    }
    for words in &stats.words {
        lines.push(texts::stats_words(
            words.group,
            words.looks_right,
            words.options,
            words.statements,
        ));
    }
    lines.push(texts::stats_base(
        stats.options_wrong,
        stats.true_false_true,
    ));
    lines.push(texts::stats_multiple(
        stats.multiple_all_correct,
        stats.multiple_one_wrong,
        stats.multiple_wrong_last,
        stats.multiple_one_wrong_last,
    ));
    let patterns: Vec<String> = stats
        .multiple_patterns
        .iter()
        .map(|(pattern, count)| format!("{pattern}×{count}"))
        .collect();
    lines.push(texts::stats_patterns(&patterns.join(" ")));
    lines.push(texts::stats_near_duplicates(stats.near_duplicate_pairs));
    lines.join("\n")
}
