//! The knowledge test without I/O: drawing a test, checking and scoring answers, the compact
//! encodings stored in `attempt_questions` and the Leitner boxes behind `/practice`. What a
//! trainee reads is rendered by `texts::quiz_view`.
//!
//! Indices are always *original* option indices (positions in `Question::options`); the
//! shuffled order a trainee sees is kept beside them as `option_order`, so a stored answer
//! never depends on how the options happened to be shown.

use std::collections::BTreeSet;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use thiserror::Error;

use crate::questions::model::{Question, QuestionKind};

/// Option indices are stored as single decimal digits, so a question has at most ten options.
/// The bank loader must reject questions with more.
pub const MAX_OPTIONS: usize = 10;

/// The highest Leitner box; a question answered right often enough stays there.
pub const TOP_BOX: u8 = 4;

/// One question of a trainee's own draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// Index into the bank slice the draw was made from.
    pub question_index: usize,
    /// `option_order[i]` is the original option index shown at position `i` (letter A + i).
    pub option_order: Vec<u8>,
}

/// What a draw avoids besides repeating a question, as slices parallel to the bank.
#[derive(Debug, Clone, Copy)]
pub struct DrawLimits<'a> {
    /// `groups[i]` is the same-fact group of question `i` (see `questions::similarity`): a test
    /// holds at most one question of a group. Shorter than the bank: the rest are alone.
    pub groups: &'a [usize],
    /// `rounds_ago[i]` is how many of the trainee's rounds ago question `i` was last drawn for
    /// them (1 = their previous round), `None` when not recently. Shorter: the rest unseen.
    pub rounds_ago: &'a [Option<u32>],
}

impl DrawLimits<'_> {
    /// No groups, no history: every question stands alone and is unseen.
    pub const NONE: DrawLimits<'static> = DrawLimits {
        groups: &[],
        rounds_ago: &[],
    };

    fn group(&self, index: usize) -> Option<usize> {
        self.groups.get(index).copied()
    }

    /// Lower is drawn first: unseen questions, then those seen longest ago.
    fn freshness(&self, index: usize) -> u32 {
        match self.rounds_ago.get(index).copied().flatten() {
            None => 0,
            Some(ago) => u32::MAX - ago.min(u32::MAX - 1),
        }
    }
}

/// Draws `n` distinct questions (fewer if the bank is smaller), spread as evenly as possible over
/// the categories, in random order, each with its own option order.
///
/// Categories are visited round-robin in a shuffled order, so with 20 questions over 6
/// categories every category gets 3 or 4 and which ones get the extra question is random.
/// No two questions of one same-fact group are drawn, and a question the trainee saw recently
/// is drawn only once every fresher one has been: the round-robin first runs over the unseen
/// questions, then over those seen longest ago, and so on (`limits`).
pub fn draw(
    bank: &[Question],
    n: usize,
    limits: &DrawLimits<'_>,
    rng: &mut impl Rng,
) -> Vec<Drawn> {
    let mut by_category: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, question) in bank.iter().enumerate() {
        match by_category
            .iter_mut()
            .find(|(category, _)| *category == question.category)
        {
            Some((_, indices)) => indices.push(index),
            None => by_category.push((&question.category, vec![index])),
        }
    }
    for (_, indices) in &mut by_category {
        indices.shuffle(rng);
    }
    by_category.shuffle(rng);
    let mut tiers: Vec<u32> = (0..bank.len()).map(|i| limits.freshness(i)).collect();
    tiers.sort_unstable();
    tiers.dedup();

    let n = n.min(bank.len());
    let mut picked = Vec::with_capacity(n);
    let mut groups_taken = BTreeSet::new();
    for tier in tiers {
        // Within a tier the shuffled order stands; later tiers wait for this one to run out.
        let mut queues: Vec<std::collections::VecDeque<usize>> = by_category
            .iter()
            .map(|(_, indices)| {
                let in_tier = indices.iter().filter(|&&i| limits.freshness(i) == tier);
                in_tier.copied().collect()
            })
            .collect();
        while picked.len() < n && queues.iter().any(|q| !q.is_empty()) {
            for queue in &mut queues {
                if picked.len() == n {
                    break;
                }
                while let Some(index) = queue.pop_front() {
                    let fresh_group = limits.group(index).is_none_or(|g| groups_taken.insert(g));
                    if fresh_group {
                        picked.push(index);
                        break;
                    }
                }
            }
        }
    }
    picked.shuffle(rng);
    picked
        .into_iter()
        .map(|question_index| Drawn {
            question_index,
            option_order: shuffle_options(&bank[question_index], rng),
        })
        .collect()
}

/// The order to show a question's options in. 判断 keeps 对 before 错: shuffling two fixed
/// words only confuses.
pub fn shuffle_options(question: &Question, rng: &mut impl Rng) -> Vec<u8> {
    let count = question.options.len().min(MAX_OPTIONS) as u8;
    let mut order: Vec<u8> = (0..count).collect();
    if question.kind != QuestionKind::TrueFalse {
        order.shuffle(rng);
    }
    order
}

/// Whether `chosen` (original indices) is the right answer: exactly the set of correct options,
/// so a 多选 answer with one option missing or one too many is wrong.
pub fn is_correct(question: &Question, chosen: &[u8]) -> bool {
    let chosen: BTreeSet<u8> = chosen.iter().copied().collect();
    let answer: BTreeSet<u8> = question.answer.iter().copied().collect();
    !chosen.is_empty() && chosen == answer
}

/// The score out of 100, rounded half up (17 of 20 → 85, 1 of 8 → 13).
pub fn score(correct: u32, total: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    let correct = u64::from(correct.min(total));
    let total = u64::from(total);
    ((correct * 200 + total) / (2 * total)) as u32
}

/// The pass mark is reached, not exceeded: 60 passes with a pass mark of 60.
pub fn passed(score: u32, pass_mark: u32) -> bool {
    score >= pass_mark
}

/// Sets one option of a 多选 selection on or off, keeping it sorted. Setting (rather than
/// toggling) makes a press idempotent: Telegram redelivers an update whose offset was not
/// confirmed before a crash, and the same press applied twice must leave the same selection.
pub fn set_option(selection: &[u8], index: u8, on: bool) -> Vec<u8> {
    let mut set: BTreeSet<u8> = selection.iter().copied().collect();
    if on {
        set.insert(index);
    } else {
        set.remove(&index);
    }
    set.into_iter().collect()
}

/// Why a stored or submitted index string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexCodeError {
    #[error("option index {0} does not fit in one digit")]
    TooLarge(u8),
    #[error("{0:?} is not a digit")]
    NotADigit(char),
    #[error("option {0} appears twice")]
    Duplicate(u8),
    #[error("option {index} does not exist (the question has {count})")]
    OutOfRange { index: u8, count: usize },
    #[error("the option order does not list every option exactly once")]
    NotAPermutation,
}

/// Encodes option indices as the digit string stored in the database: `[2, 0, 3, 1]` → `"2031"`.
pub fn encode_indices(indices: &[u8]) -> Result<String, IndexCodeError> {
    indices
        .iter()
        .map(|&index| char::from_digit(u32::from(index), 10).ok_or(IndexCodeError::TooLarge(index)))
        .collect()
}

/// Decodes a selection (a set of original indices) for a question with `option_count` options.
/// Refuses anything but distinct in-range digits; the result is sorted. `""` is the empty set.
pub fn decode_indices(code: &str, option_count: usize) -> Result<Vec<u8>, IndexCodeError> {
    let mut seen = BTreeSet::new();
    for c in code.chars() {
        let index = c.to_digit(10).ok_or(IndexCodeError::NotADigit(c))? as u8;
        if usize::from(index) >= option_count {
            return Err(IndexCodeError::OutOfRange {
                index,
                count: option_count,
            });
        }
        if !seen.insert(index) {
            return Err(IndexCodeError::Duplicate(index));
        }
    }
    Ok(seen.into_iter().collect())
}

/// Decodes a stored option order, which must list every option of the question exactly once.
pub fn decode_option_order(code: &str, option_count: usize) -> Result<Vec<u8>, IndexCodeError> {
    let mut order = Vec::with_capacity(code.len());
    for c in code.chars() {
        let index = c.to_digit(10).ok_or(IndexCodeError::NotADigit(c))? as u8;
        if usize::from(index) >= option_count {
            return Err(IndexCodeError::OutOfRange {
                index,
                count: option_count,
            });
        }
        if order.contains(&index) {
            return Err(IndexCodeError::Duplicate(index));
        }
        order.push(index);
    }
    if order.len() != option_count {
        return Err(IndexCodeError::NotAPermutation);
    }
    Ok(order)
}

/// The Leitner step after a practice answer: a wrong answer sends the question back to box 0,
/// a right one moves it up a box.
pub fn next_box(box_: u8, correct: bool) -> u8 {
    if correct {
        box_.saturating_add(1).min(TOP_BOX)
    } else {
        0
    }
}

/// A question a trainee could practise, with what the trainee's Leitner record says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeCandidate {
    /// Index into the bank; returned by [`pick_practice`].
    pub question_index: usize,
    /// The Leitner box, `None` when the trainee has never practised this question.
    pub box_: Option<u8>,
    /// When the trainee last practised it (unix seconds); the latest one is "just shown".
    pub seen_at: Option<i64>,
}

/// How long a question rests in each box before it is due again (0, 1, 3, 7, 14 days).
const BOX_INTERVAL_SECONDS: [i64; 5] = [0, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400];

/// Picks the next practice question and returns its `question_index`.
///
/// A weighted draw rather than a strict queue, so practice never feels mechanical: box 0 (got it
/// wrong) and never-seen questions weigh 64, and each box up halves the weight; a question
/// whose rest interval has not passed yet weighs a quarter of that. The most recently seen
/// question is left out whenever anything else is available, so the same question is not asked
/// twice in a row.
pub fn pick_practice(
    candidates: &[PracticeCandidate],
    now: i64,
    rng: &mut impl Rng,
) -> Option<usize> {
    let latest = candidates.iter().filter_map(|c| c.seen_at).max();
    let fresh: Vec<&PracticeCandidate> = candidates
        .iter()
        .filter(|c| latest.is_none() || c.seen_at != latest)
        .collect();
    let pool: Vec<&PracticeCandidate> = if fresh.is_empty() {
        candidates.iter().collect()
    } else {
        fresh
    };
    pool.choose_weighted(rng, |c| practice_weight(c, now))
        .ok()
        .map(|c| c.question_index)
}

fn practice_weight(candidate: &PracticeCandidate, now: i64) -> u32 {
    let (Some(box_), Some(seen_at)) = (candidate.box_, candidate.seen_at) else {
        return 64;
    };
    let box_ = box_.min(TOP_BOX);
    let base = 16u32 >> box_;
    let due = now.saturating_sub(seen_at) >= BOX_INTERVAL_SECONDS[usize::from(box_)];
    if due {
        base * 4
    } else {
        base
    }
}

/// What a press asks for, in the terms of the shown options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PressKind {
    /// 单选/判断: answer with the option shown at this position.
    Choose(u8),
    /// 多选: tick (`on`) or untick the option shown at position `shown`.
    Set { shown: u8, on: bool },
    /// 多选: submit the selection.
    Submit,
}

/// Why a press changes nothing; each becomes a short alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Data that names nothing real: no such attempt, question or option, or a button kind
    /// the question does not have.
    Forged,
    NotYours,
    AttemptOver,
    RoundClosed,
    /// The deadline passed: the attempt is ended now.
    TimeUp,
    AlreadyAnswered,
    NotCurrent,
    EmptySubmit,
}

/// What an accepted press does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Store this answer (original indices, sorted).
    Answer(Vec<u8>),
    /// Store this 多选 selection (original indices, sorted).
    Select(Vec<u8>),
}

/// Turns a press into what to store, refusing presses the question's kind does not have and
/// options it does not show.
pub fn resolve_press(
    question: &Question,
    order: &[u8],
    selection: &[u8],
    press: PressKind,
) -> Result<Action, Refusal> {
    let original = |shown: u8| {
        order
            .get(usize::from(shown))
            .copied()
            .ok_or(Refusal::Forged)
    };
    let multiple = question.kind == QuestionKind::Multiple;
    match press {
        PressKind::Choose(shown) if !multiple => Ok(Action::Answer(vec![original(shown)?])),
        PressKind::Set { shown, on } if multiple => {
            Ok(Action::Select(set_option(selection, original(shown)?, on)))
        }
        PressKind::Submit if multiple && selection.is_empty() => Err(Refusal::EmptySubmit),
        PressKind::Submit if multiple => {
            let mut chosen = selection.to_vec();
            chosen.sort_unstable();
            chosen.dedup();
            Ok(Action::Answer(chosen))
        }
        _ => Err(Refusal::Forged),
    }
}

/// When a test started at `started_at` must end: after the time limit, or when its round closes
/// if that comes sooner (the trainee is told so up front).
pub fn test_deadline(started_at: i64, limit_minutes: u32, round_closes_at: i64) -> i64 {
    (started_at + i64::from(limit_minutes) * 60).min(round_closes_at)
}

/// The result of a finished test, as the trainee sees it on the last screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestResult {
    pub correct: u32,
    pub total: u32,
    pub pass_mark: u32,
    /// The time limit ended the test; unanswered questions count as wrong.
    pub timed_out: bool,
}

impl TestResult {
    pub fn score(&self) -> u32 {
        score(self.correct, self.total)
    }

    pub fn passed(&self) -> bool {
        passed(self.score(), self.pass_mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::fixtures::sample as question;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    fn bank(per_category: &[(&str, usize)]) -> Vec<Question> {
        let kinds = [
            QuestionKind::Single,
            QuestionKind::Multiple,
            QuestionKind::TrueFalse,
        ];
        let mut out = Vec::new();
        for (category, count) in per_category {
            for i in 0..*count {
                out.push(question(&format!("{category}-{i}"), kinds[i % 3], category));
            }
        }
        out
    }

    #[test]
    fn draw_spreads_over_categories_without_duplicates() {
        let bank = bank(&[
            ("换届", 30),
            ("组织生活", 30),
            ("发展党员", 30),
            ("党费", 2),
        ]);
        for seed in 0..50 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let drawn = draw(&bank, 20, &DrawLimits::NONE, &mut rng);
            assert_eq!(drawn.len(), 20);
            let unique: BTreeSet<usize> = drawn.iter().map(|d| d.question_index).collect();
            assert_eq!(unique.len(), 20);
            let mut per_category: HashMap<&str, usize> = HashMap::new();
            for d in &drawn {
                *per_category
                    .entry(&bank[d.question_index].category)
                    .or_default() += 1;
            }
            // 党费 has only 2; the other 18 go 6/6/6.
            assert_eq!(per_category["党费"], 2);
            for category in ["换届", "组织生活", "发展党员"] {
                assert_eq!(per_category[category], 6, "seed {seed}");
            }
        }
    }

    #[test]
    fn draw_uneven_split_differs_by_at_most_one() {
        let bank = bank(&[("a", 10), ("b", 10), ("c", 10)]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let drawn = draw(&bank, 8, &DrawLimits::NONE, &mut rng);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in &drawn {
            *counts.entry(&bank[d.question_index].category).or_default() += 1;
        }
        let mut values: Vec<usize> = counts.values().copied().collect();
        values.sort_unstable();
        assert_eq!(values, vec![2, 3, 3]);
    }

    #[test]
    fn draw_is_capped_by_bank_size_and_handles_empty_bank() {
        let bank = bank(&[("a", 3), ("b", 2)]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(draw(&bank, 20, &DrawLimits::NONE, &mut rng).len(), 5);
        assert!(draw(&[], 20, &DrawLimits::NONE, &mut rng).is_empty());
        assert!(draw(&bank, 0, &DrawLimits::NONE, &mut rng).is_empty());
    }

    #[test]
    fn option_orders_are_permutations_and_true_false_is_not_shuffled() {
        let bank = bank(&[("a", 30)]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut shuffled_somewhere = false;
        for d in draw(&bank, 30, &DrawLimits::NONE, &mut rng) {
            let q = &bank[d.question_index];
            let mut sorted = d.option_order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..q.options.len() as u8).collect::<Vec<_>>());
            if q.kind == QuestionKind::TrueFalse {
                assert_eq!(d.option_order, vec![0, 1]);
            } else if d.option_order != sorted {
                shuffled_somewhere = true;
            }
        }
        assert!(shuffled_somewhere);
    }

    #[test]
    fn draws_differ_between_trainees() {
        let bank = bank(&[("a", 20), ("b", 20)]);
        let first = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        let second = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(2),
        );
        assert_ne!(first, second);
    }

    #[test]
    fn correctness_needs_exactly_the_answer_set() {
        let single = question("s", QuestionKind::Single, "a");
        assert!(is_correct(&single, &[1]));
        assert!(!is_correct(&single, &[0]));
        assert!(!is_correct(&single, &[]));
        assert!(!is_correct(&single, &[0, 1]));
        let multiple = question("m", QuestionKind::Multiple, "a");
        assert!(is_correct(&multiple, &[2, 0]));
        assert!(!is_correct(&multiple, &[0]));
        assert!(!is_correct(&multiple, &[0, 1, 2]));
        let tf = question("t", QuestionKind::TrueFalse, "a");
        assert!(is_correct(&tf, &[1]));
        assert!(!is_correct(&tf, &[0]));
    }

    #[test]
    fn score_rounds_half_up() {
        assert_eq!(score(17, 20), 85);
        assert_eq!(score(1, 8), 13); // 12.5
        assert_eq!(score(2, 3), 67); // 66.67
        assert_eq!(score(1, 3), 33); // 33.33
        assert_eq!(score(0, 20), 0);
        assert_eq!(score(20, 20), 100);
        assert_eq!(score(25, 20), 100);
        assert_eq!(score(0, 0), 0);
        assert!(passed(60, 60));
        assert!(!passed(59, 60));
    }

    #[test]
    fn indices_round_trip_and_junk_is_refused() {
        assert_eq!(encode_indices(&[2, 0, 3, 1]).as_deref(), Ok("2031"));
        assert_eq!(encode_indices(&[]).as_deref(), Ok(""));
        assert_eq!(encode_indices(&[10]), Err(IndexCodeError::TooLarge(10)));
        assert_eq!(decode_option_order("2031", 4), Ok(vec![2, 0, 3, 1]));
        assert_eq!(decode_indices("20", 4), Ok(vec![0, 2]));
        assert_eq!(decode_indices("", 4), Ok(vec![]));
        assert_eq!(decode_indices("2x", 4), Err(IndexCodeError::NotADigit('x')));
        assert_eq!(decode_indices("22", 4), Err(IndexCodeError::Duplicate(2)));
        assert_eq!(
            decode_indices("4", 4),
            Err(IndexCodeError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(decode_indices("-1", 4), Err(IndexCodeError::NotADigit('-')));
        assert_eq!(
            decode_indices("１", 4),
            Err(IndexCodeError::NotADigit('１'))
        );
        assert_eq!(
            decode_option_order("203", 4),
            Err(IndexCodeError::NotAPermutation)
        );
        assert_eq!(
            decode_option_order("2001", 4),
            Err(IndexCodeError::Duplicate(0))
        );
    }

    #[test]
    fn setting_an_option_adds_and_removes_idempotently() {
        assert_eq!(set_option(&[], 2, true), vec![2]);
        assert_eq!(set_option(&[2], 0, true), vec![0, 2]);
        assert_eq!(set_option(&[0, 2], 2, false), vec![0]);
        // Applied twice, the same press leaves the same selection.
        assert_eq!(set_option(&[0, 2], 2, true), vec![0, 2]);
        assert_eq!(set_option(&[0], 2, false), vec![0]);
    }

    #[test]
    fn leitner_boxes() {
        assert_eq!(next_box(0, true), 1);
        assert_eq!(next_box(3, true), 4);
        assert_eq!(next_box(4, true), 4);
        assert_eq!(next_box(200, true), 4);
        assert_eq!(next_box(3, false), 0);
    }

    #[test]
    fn practice_favours_wrong_and_new_questions_and_avoids_repeats() {
        let now = 1_000_000_000;
        let candidates = vec![
            // Just answered right: must never come up while others exist.
            PracticeCandidate {
                question_index: 0,
                box_: Some(1),
                seen_at: Some(now - 10),
            },
            // Got it wrong yesterday.
            PracticeCandidate {
                question_index: 1,
                box_: Some(0),
                seen_at: Some(now - 86_400),
            },
            // Mastered and recently seen.
            PracticeCandidate {
                question_index: 2,
                box_: Some(4),
                seen_at: Some(now - 3_600),
            },
            // Never seen.
            PracticeCandidate {
                question_index: 3,
                box_: None,
                seen_at: None,
            },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut counts = [0u32; 4];
        for _ in 0..3000 {
            let picked = pick_practice(&candidates, now, &mut rng).expect("a candidate");
            counts[picked] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 10 * counts[2], "{counts:?}");
        assert!(counts[3] > 10 * counts[2], "{counts:?}");
        assert!(counts[2] > 0, "{counts:?}");
    }

    #[test]
    fn practice_with_one_or_no_candidates() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(pick_practice(&[], 0, &mut rng), None);
        let only = [PracticeCandidate {
            question_index: 7,
            box_: Some(2),
            seen_at: Some(5),
        }];
        assert_eq!(pick_practice(&only, 10, &mut rng), Some(7));
    }

    #[test]
    fn presses_map_shown_options_to_original_ones() {
        let single = question("s", QuestionKind::Single, "c");
        let multiple = question("m", QuestionKind::Multiple, "c");
        let truth = question("t", QuestionKind::TrueFalse, "c");
        let order = [3, 2, 1, 0];
        assert_eq!(
            resolve_press(&single, &order, &[], PressKind::Choose(2)),
            Ok(Action::Answer(vec![1]))
        );
        assert_eq!(
            resolve_press(&truth, &[0, 1], &[], PressKind::Choose(1)),
            Ok(Action::Answer(vec![1]))
        );
        assert_eq!(
            resolve_press(
                &multiple,
                &order,
                &[],
                PressKind::Set { shown: 0, on: true }
            ),
            Ok(Action::Select(vec![3]))
        );
        assert_eq!(
            resolve_press(
                &multiple,
                &order,
                &[0, 3],
                PressKind::Set {
                    shown: 0,
                    on: false
                }
            ),
            Ok(Action::Select(vec![0]))
        );
        // The same press applied twice (a redelivered update) sets the same selection.
        assert_eq!(
            resolve_press(
                &multiple,
                &order,
                &[3],
                PressKind::Set { shown: 0, on: true }
            ),
            Ok(Action::Select(vec![3]))
        );
        assert_eq!(
            resolve_press(
                &multiple,
                &order,
                &[0],
                PressKind::Set {
                    shown: 0,
                    on: false
                }
            ),
            Ok(Action::Select(vec![0]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[2, 0], PressKind::Submit),
            Ok(Action::Answer(vec![0, 2]))
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], PressKind::Submit),
            Err(Refusal::EmptySubmit)
        );
        // Forged: options that are not shown, and button kinds the question does not have.
        assert_eq!(
            resolve_press(&single, &order, &[], PressKind::Choose(4)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&truth, &[0, 1], &[], PressKind::Choose(2)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&single, &order, &[], PressKind::Set { shown: 0, on: true }),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&single, &order, &[], PressKind::Submit),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(&multiple, &order, &[], PressKind::Choose(0)),
            Err(Refusal::Forged)
        );
        assert_eq!(
            resolve_press(
                &multiple,
                &order,
                &[],
                PressKind::Set {
                    shown: 15,
                    on: true
                }
            ),
            Err(Refusal::Forged)
        );
    }

    #[test]
    fn a_test_ends_at_its_limit_or_when_the_round_closes() {
        assert_eq!(test_deadline(1_000, 30, 100_000), 1_000 + 1_800);
        assert_eq!(test_deadline(1_000, 30, 2_000), 2_000);
    }

    #[test]
    fn a_draw_never_holds_two_questions_of_one_fact_group() {
        // Ten questions in five pairs of the same fact: a test of ten can only hold five.
        let bank = bank(&[("a", 5), ("b", 5)]);
        let groups: Vec<usize> = (0..10).map(|i| i % 5).collect();
        let limits = DrawLimits {
            groups: &groups,
            rounds_ago: &[],
        };
        for seed in 0..20 {
            let drawn = draw(&bank, 10, &limits, &mut ChaCha8Rng::seed_from_u64(seed));
            let taken: BTreeSet<usize> = drawn.iter().map(|d| groups[d.question_index]).collect();
            assert_eq!(taken.len(), drawn.len());
            assert_eq!(drawn.len(), 5);
        }
    }

    #[test]
    fn questions_of_the_previous_round_come_back_only_when_nothing_fresher_is_left() {
        let bank = bank(&[("a", 10), ("b", 10)]);
        // The previous round drew a-0..a-4 and b-0..b-4; two rounds ago a-5, b-5.
        let mut rounds_ago = vec![None; 20];
        for i in (0..5).chain(10..15) {
            rounds_ago[i] = Some(1);
        }
        rounds_ago[5] = Some(2);
        rounds_ago[15] = Some(2);
        let limits = DrawLimits {
            groups: &[],
            rounds_ago: &rounds_ago,
        };
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Eight unseen questions remain: a draw of eight takes exactly them.
            let drawn: BTreeSet<usize> = draw(&bank, 8, &limits, &mut rng)
                .iter()
                .map(|d| d.question_index)
                .collect();
            assert!(drawn.iter().all(|&i| rounds_ago[i].is_none()), "{drawn:?}");
            // A draw of ten adds the two seen longest ago, none of the previous round.
            let drawn: Vec<usize> = draw(&bank, 10, &limits, &mut rng)
                .iter()
                .map(|d| d.question_index)
                .collect();
            assert!(drawn.contains(&5) && drawn.contains(&15), "{drawn:?}");
            assert!(drawn.iter().all(|&i| rounds_ago[i] != Some(1)));
        }
    }

    #[test]
    fn without_limits_the_draw_is_the_same_as_with_empty_ones() {
        let bank = bank(&[("a", 7), ("b", 9)]);
        let groups: Vec<usize> = (0..bank.len()).collect();
        let unseen = vec![None; bank.len()];
        let limits = DrawLimits {
            groups: &groups,
            rounds_ago: &unseen,
        };
        let plain = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        let limited = draw(&bank, 10, &limits, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(plain, limited);
    }

    proptest! {
        /// Whatever the groups and history: distinct questions, one per group, as many as the
        /// groups allow, and a seen question only once no fresher question of a new group is left.
        #[test]
        fn draws_respect_groups_and_freshness(
            sizes in proptest::collection::vec(0usize..8, 1..5),
            group_count in 1usize..30,
            ago in proptest::collection::vec(proptest::option::of(1u32..4), 0..40),
            n in 0usize..25,
            seed in 0u64..1000,
        ) {
            let names = ["a", "b", "c", "d"];
            let spec: Vec<(&str, usize)> = sizes.iter().enumerate().map(|(i, &c)| (names[i], c)).collect();
            let bank = bank(&spec);
            let groups: Vec<usize> = (0..bank.len()).map(|i| (i * 7) % group_count).collect();
            let limits = DrawLimits { groups: &groups, rounds_ago: &ago };
            let drawn = draw(&bank, n, &limits, &mut ChaCha8Rng::seed_from_u64(seed));
            let indices: Vec<usize> = drawn.iter().map(|d| d.question_index).collect();
            let unique: BTreeSet<usize> = indices.iter().copied().collect();
            prop_assert_eq!(unique.len(), indices.len());
            let taken: BTreeSet<usize> = indices.iter().map(|&i| groups[i]).collect();
            prop_assert_eq!(taken.len(), indices.len());
            let all_groups: BTreeSet<usize> = groups.iter().copied().collect();
            prop_assert_eq!(indices.len(), n.min(all_groups.len()));
            // Freshness: any question left out whose group is not taken is no fresher than
            // the stalest question drawn.
            let stalest = indices.iter().map(|&i| limits.freshness(i)).max();
            for i in (0..bank.len()).filter(|i| !unique.contains(i) && !taken.contains(&groups[*i])) {
                if let Some(stalest) = stalest {
                    prop_assert!(limits.freshness(i) >= stalest, "left out {} fresher", i);
                }
            }
        }
    }
}
