//! Question analysis the way Moodle's quiz statistics report it: facility, discrimination and
//! test reliability, adapted to tests where every trainee gets their own draw.
//!
//! The input is a matrix of item scores, one row per trainee and one column per question:
//! `Some(true)` right, `Some(false)` wrong, `None` when the question was not drawn for that
//! trainee. Because draws differ, every statistic is computed only over the trainees who
//! actually got the question.

use std::collections::BTreeMap;

/// When a question is worth a second look. Flags are only raised once `min_answers` trainees
/// have answered, because a facility of 1.0 from three answers says nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub min_answers: usize,
    /// Facility above this: nearly everyone gets it right, so it measures little.
    pub too_easy: f64,
    /// Facility below this: nearly everyone gets it wrong; often a wrong key or a trick question.
    pub too_hard: f64,
    /// Discrimination below this: the question does not separate strong from weak trainees.
    pub min_discrimination: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_answers: 30,
            too_easy: 0.9,
            too_hard: 0.2,
            min_discrimination: 0.1,
        }
    }
}

/// Why a question was flagged.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ItemFlag {
    TooEasy,
    TooHard,
    /// Discrimination between 0 and the threshold.
    NotDiscriminating,
    /// Negative discrimination: the trainees who do well elsewhere get this one wrong more
    /// often than the others, the mark of a misleading question or a wrong answer key.
    Misleading,
}

/// The statistics of one question in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemStats {
    /// Trainees who got the question in their draw and submitted the test.
    pub answered: usize,
    pub correct: usize,
    /// Share of `answered` who got it right; `None` when nobody answered.
    pub facility: Option<f64>,
    /// Pearson correlation of the item score with the rest-of-test score; `None` when it is
    /// undefined (fewer than two usable trainees, or everyone scored the same on either side).
    pub discrimination: Option<f64>,
    pub flags: Vec<ItemFlag>,
}

/// The analysis of a whole round.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// In the column order of the input matrix.
    pub items: Vec<ItemStats>,
    /// KR-20 over the questions every participant answered; see [`kr20`].
    pub reliability: Option<f64>,
}

/// A response matrix built from stored answers, with the ids that name its rows and columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Responses {
    /// Row keys (user ids), sorted.
    pub trainee_ids: Vec<i64>,
    /// Column keys (question ids), sorted.
    pub item_ids: Vec<String>,
    /// `scores[row][column]`.
    pub scores: Vec<Vec<Option<bool>>>,
}

impl Responses {
    /// Builds the matrix from `(user id, question id, correct)` rows as storage returns them.
    /// Should a pair appear twice, the later row wins.
    pub fn from_answers<I>(answers: I) -> Self
    where
        I: IntoIterator<Item = (i64, String, bool)>,
    {
        let answers: Vec<(i64, String, bool)> = answers.into_iter().collect();
        let rows: BTreeMap<i64, usize> = answers
            .iter()
            .map(|(trainee, _, _)| *trainee)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(index, trainee)| (trainee, index))
            .collect();
        let columns: BTreeMap<&str, usize> = answers
            .iter()
            .map(|(_, item, _)| item.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(index, item)| (item, index))
            .collect();
        let mut scores = vec![vec![None; columns.len()]; rows.len()];
        for (trainee, item, correct) in &answers {
            scores[rows[trainee]][columns[item.as_str()]] = Some(*correct);
        }
        Self {
            trainee_ids: rows.into_keys().collect(),
            item_ids: columns.into_keys().map(str::to_owned).collect(),
            scores,
        }
    }

    pub fn analyse(&self, thresholds: &Thresholds) -> Analysis {
        analyse(&self.scores, self.item_ids.len(), thresholds)
    }
}

/// Analyses every one of `items` columns and the test as a whole. Rows shorter than `items`
/// are read as not having the missing questions.
pub fn analyse(scores: &[Vec<Option<bool>>], items: usize, thresholds: &Thresholds) -> Analysis {
    let totals = row_totals(scores);
    Analysis {
        items: (0..items)
            .map(|item| item_stats_with(scores, &totals, item, thresholds))
            .collect(),
        reliability: kr20(scores),
    }
}

/// Each trainee's (answered, correct) over all questions, computed once so that every item's
/// rest-of-test score is a subtraction instead of another pass over the row.
fn row_totals(scores: &[Vec<Option<bool>>]) -> Vec<(usize, usize)> {
    scores
        .iter()
        .map(|row| {
            row.iter()
                .flatten()
                .fold((0, 0), |(n, c), &right| (n + 1, c + usize::from(right)))
        })
        .collect()
}

fn cell(row: &[Option<bool>], item: usize) -> Option<bool> {
    row.get(item).copied().flatten()
}

/// Facility, discrimination and flags of column `item`.
///
/// The rest-of-test score is the trainee's share right on the *other* questions they answered,
/// not a raw count: with per-trainee draws the counts are not comparable when a draw was cut
/// short by a small bank. Trainees who answered nothing else have no rest score and are left
/// out of the correlation (but still count for the facility).
pub fn item_stats(scores: &[Vec<Option<bool>>], item: usize, thresholds: &Thresholds) -> ItemStats {
    item_stats_with(scores, &row_totals(scores), item, thresholds)
}

fn item_stats_with(
    scores: &[Vec<Option<bool>>],
    totals: &[(usize, usize)],
    item: usize,
    thresholds: &Thresholds,
) -> ItemStats {
    let mut answered = 0;
    let mut correct = 0;
    let mut item_scores = Vec::new();
    let mut rest_scores = Vec::new();
    for (row, &(row_answered, row_correct)) in scores.iter().zip(totals) {
        let Some(right) = cell(row, item) else {
            continue;
        };
        answered += 1;
        correct += usize::from(right);
        let rest_answered = row_answered - 1;
        let rest_correct = row_correct - usize::from(right);
        if rest_answered > 0 {
            item_scores.push(if right { 1.0 } else { 0.0 });
            rest_scores.push(rest_correct as f64 / rest_answered as f64);
        }
    }
    let facility = (answered > 0).then(|| correct as f64 / answered as f64);
    let discrimination = pearson(&item_scores, &rest_scores);
    let mut flags = Vec::new();
    if answered >= thresholds.min_answers.max(1) {
        if let Some(facility) = facility {
            if facility > thresholds.too_easy {
                flags.push(ItemFlag::TooEasy);
            }
            if facility < thresholds.too_hard {
                flags.push(ItemFlag::TooHard);
            }
        }
        match discrimination {
            Some(d) if d < 0.0 => flags.push(ItemFlag::Misleading),
            Some(d) if d < thresholds.min_discrimination => flags.push(ItemFlag::NotDiscriminating),
            _ => {}
        }
    }
    ItemStats {
        answered,
        correct,
        facility,
        discrimination,
        flags,
    }
}

/// Pearson's correlation coefficient; `None` for fewer than two pairs or a constant side.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let mean_x = xs.iter().sum::<f64>() / n as f64;
    let mean_y = ys.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    const EPSILON: f64 = 1e-12;
    if sxx < EPSILON || syy < EPSILON {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Test reliability as KR-20 (Cronbach's alpha for right/wrong items):
/// `k/(k-1) · (1 − Σ pᵢqᵢ / σ²)` with population variances.
///
/// KR-20 needs complete answer vectors, which per-trainee draws do not give. It is computed
/// over the participants (rows with at least one answer) and the questions *every* one of them
/// answered. That is exact when everyone gets the same questions (a bank no larger than the
/// test, or a fixed test) and is `None` otherwise unless at least two questions are shared.
/// `None` also when fewer than two participants remain or their totals do not vary. With a
/// large bank and random draws, expect `None`: reliability of such tests is not reported.
pub fn kr20(scores: &[Vec<Option<bool>>]) -> Option<f64> {
    let rows: Vec<&Vec<Option<bool>>> = scores
        .iter()
        .filter(|row| row.iter().any(Option::is_some))
        .collect();
    if rows.len() < 2 {
        return None;
    }
    let width = rows.iter().map(|row| row.len()).max().unwrap_or(0);
    let shared: Vec<usize> = (0..width)
        .filter(|&item| rows.iter().all(|row| cell(row, item).is_some()))
        .collect();
    let k = shared.len();
    if k < 2 {
        return None;
    }
    let n = rows.len() as f64;
    let totals: Vec<f64> = rows
        .iter()
        .map(|row| {
            shared
                .iter()
                .filter(|&&item| cell(row, item) == Some(true))
                .count() as f64
        })
        .collect();
    let mean = totals.iter().sum::<f64>() / n;
    let variance = totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
    if variance < 1e-12 {
        return None;
    }
    let sum_pq: f64 = shared
        .iter()
        .map(|&item| {
            let p = rows
                .iter()
                .filter(|row| cell(row, item) == Some(true))
                .count() as f64
                / n;
            p * (1.0 - p)
        })
        .sum();
    let k = k as f64;
    Some(k / (k - 1.0) * (1.0 - sum_pq / variance))
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Option<bool> = Some(true);
    const W: Option<bool> = Some(false);
    const N: Option<bool> = None;

    /// Six trainees, four questions; trainee 4 did not get question 3.
    ///
    /// ```text
    ///        Q0 Q1 Q2 Q3
    ///   T1    1  1  1  1
    ///   T2    1  1  1  0
    ///   T3    1  1  0  0
    ///   T4    1  0  0  -
    ///   T5    0  1  0  0
    ///   T6    1  0  1  1
    /// ```
    fn fixture() -> Vec<Vec<Option<bool>>> {
        vec![
            vec![R, R, R, R],
            vec![R, R, R, W],
            vec![R, R, W, W],
            vec![R, W, W, N],
            vec![W, R, W, W],
            vec![R, W, R, R],
        ]
    }

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() < 1e-9)
    }

    #[test]
    fn facility_and_discrimination_match_hand_computation() {
        let th = Thresholds {
            min_answers: 5,
            ..Thresholds::default()
        };
        let scores = fixture();

        // Q0: 6 answered, 5 right → facility 5/6.
        // Rest score = share right on the other questions each trainee answered:
        //   T1 3/3=1, T2 2/3, T3 1/3, T4 0/2=0 (Q3 not drawn), T5 1/3, T6 2/3.
        // x = [1,1,1,1,0,1], mean 5/6;  y mean = (3+2+1+0+1+2)/3/6 = 1/2.
        // dx = [1/6,1/6,1/6,1/6,-5/6,1/6];  dy = [1/2,1/6,-1/6,-1/2,-1/6,1/6].
        // Sxy = 1/6·(1/2+1/6−1/6−1/2+1/6) + (−5/6)(−1/6) = 1/36 + 5/36 = 1/6.
        // Sxx = 5/36 + 25/36 = 5/6;  Syy = 1/4+1/36+1/36+1/4+1/36+1/36 = 11/18.
        // r = (1/6) / sqrt(5/6 · 11/18) = 0.1667 / 0.7136 = 0.23355.
        let q0 = item_stats(&scores, 0, &th);
        assert_eq!((q0.answered, q0.correct), (6, 5));
        assert!(close(q0.facility, 5.0 / 6.0));
        let r0 = (1.0 / 6.0) / ((5.0 / 6.0) * (11.0 / 18.0_f64)).sqrt();
        assert!(close(q0.discrimination, r0));
        assert!((r0 - 0.23355).abs() < 1e-5);
        assert!(q0.flags.is_empty());

        // Q1: facility 4/6. x = [1,1,1,0,1,0], mean 2/3.
        // Rest: T1 1, T2 2/3, T3 1/3, T4 1/2 (Q0 right, Q2 wrong), T5 0, T6 1; mean 7/12.
        // dx = [1/3,1/3,1/3,−2/3,1/3,−2/3];  dy = [5/12,1/12,−1/4,−1/12,−7/12,5/12].
        // Sxy = 1/3·(5/12+1/12−3/12−7/12) − 2/3·(−1/12+5/12) = −1/9 − 2/9 = −1/3.
        // Sxx = 4·1/9 + 2·4/9 = 4/3;  Syy = (25+1+9+1+49+25)/144 = 110/144 = 55/72.
        // r = (−1/3) / sqrt(4/3 · 55/72) = −0.33029 → negative: misleading.
        let q1 = item_stats(&scores, 1, &th);
        assert!(close(q1.facility, 4.0 / 6.0));
        let r1 = (-1.0 / 3.0) / ((4.0 / 3.0) * (55.0 / 72.0_f64)).sqrt();
        assert!(close(q1.discrimination, r1));
        assert!((r1 + 0.33029).abs() < 1e-5);
        assert_eq!(q1.flags, vec![ItemFlag::Misleading]);

        // Q3: only 5 answered (T4 did not get it), 2 right → facility 0.4; r ≈ 0.32733.
        let q3 = item_stats(&scores, 3, &th);
        assert_eq!((q3.answered, q3.correct), (5, 2));
        assert!(close(q3.facility, 0.4));
        assert!((q3.discrimination.unwrap_or(0.0) - 0.32733).abs() < 1e-5);

        // With the default threshold of 30 answers nothing is flagged yet.
        let default = item_stats(&scores, 1, &Thresholds::default());
        assert!(default.flags.is_empty());
        assert!(close(default.discrimination, r1));
    }

    #[test]
    fn kr20_uses_the_questions_everyone_answered() {
        // Q3 is missing for T4, so KR-20 runs on Q0–Q2 (k = 3).
        // Totals: T1 3, T2 3, T3 2, T4 1, T5 1, T6 2; mean 12/6 = 2.
        // σ² = (1+1+0+1+1+0)/6 = 2/3.
        // p = 5/6, 4/6, 3/6 → Σpq = (5·1 + 4·2 + 3·3)/36 = 22/36 = 11/18.
        // KR-20 = 3/2 · (1 − (11/18)/(2/3)) = 3/2 · (1 − 11/12) = 3/2 · 1/12 = 0.125.
        assert!(close(kr20(&fixture()), 0.125));
        let analysis = analyse(&fixture(), 4, &Thresholds::default());
        assert_eq!(analysis.items.len(), 4);
        assert!(close(analysis.reliability, 0.125));
    }

    #[test]
    fn kr20_is_none_when_not_computable() {
        // Disjoint draws share no question.
        assert_eq!(kr20(&[vec![R, R, N, N], vec![N, N, W, R]]), None);
        // One participant.
        assert_eq!(kr20(&[vec![R, W, R]]), None);
        // Totals do not vary.
        assert_eq!(kr20(&[vec![R, W], vec![W, R]]), None);
        // Rows without any answer are not participants and do not block the shared items.
        assert!(kr20(&[vec![R, R], vec![W, W], vec![R, W], vec![], vec![N, N]]).is_some());
        assert_eq!(kr20(&[]), None);
    }

    #[test]
    fn flags_for_easy_hard_and_flat_items() {
        let th = Thresholds {
            min_answers: 4,
            ..Thresholds::default()
        };
        // Q0 everyone right; Q1 everyone wrong; Q2 and Q3 spread the trainees.
        let scores = vec![
            vec![R, W, R, R],
            vec![R, W, R, W],
            vec![R, W, W, R],
            vec![R, W, W, W],
        ];
        let q0 = item_stats(&scores, 0, &th);
        assert_eq!(q0.flags, vec![ItemFlag::TooEasy]);
        assert_eq!(q0.discrimination, None);
        let q1 = item_stats(&scores, 1, &th);
        assert_eq!(q1.flags, vec![ItemFlag::TooHard]);
        // Q2 against rest (Q0, Q1, Q3): T1 2/3, T2 1/3, T3 2/3, T4 1/3; x = 1,1,0,0 → r = 0.
        let q2 = item_stats(&scores, 2, &th);
        assert!(close(q2.discrimination, 0.0));
        assert_eq!(q2.flags, vec![ItemFlag::NotDiscriminating]);
    }

    #[test]
    fn empty_and_unanswered_items() {
        let th = Thresholds::default();
        let stats = item_stats(&[vec![N, R], vec![N, W]], 0, &th);
        assert_eq!(stats.answered, 0);
        assert_eq!(stats.facility, None);
        assert_eq!(stats.discrimination, None);
        // A trainee who answered only this question has no rest score.
        let alone = item_stats(&[vec![R], vec![W]], 0, &th);
        assert_eq!(alone.answered, 2);
        assert_eq!(alone.discrimination, None);
    }

    #[test]
    fn responses_from_stored_rows() {
        let responses = Responses::from_answers(vec![
            (20, "q2".to_owned(), true),
            (10, "q1".to_owned(), false),
            (20, "q1".to_owned(), true),
        ]);
        assert_eq!(responses.trainee_ids, vec![10, 20]);
        assert_eq!(responses.item_ids, vec!["q1".to_owned(), "q2".to_owned()]);
        assert_eq!(responses.scores, vec![vec![W, N], vec![R, R]]);
        let analysis = responses.analyse(&Thresholds::default());
        assert_eq!(analysis.items[0].answered, 2);
        assert_eq!(analysis.items[1].answered, 1);
    }
}
