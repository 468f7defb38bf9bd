//! How alike two questions are, by character bigrams, and the groups of questions that ask
//! the same fact.
//!
//! Shared by the item-writing checks (which report near-duplicate pairs) and the test draw
//! (which never puts two questions of one group into the same test), so both agree on what
//! "the same fact" means.

use super::model::Question;

/// Stems at least this alike (Jaccard over character bigrams) ask the same thing. Higher
/// than for facts: stems share templates ("下列哪些属于党章第X条规定的…") across facts.
pub const STEM_SIMILARITY: f64 = 0.7;
/// Stem plus correct options at least this alike state the same fact.
pub const FACT_SIMILARITY: f64 = 0.5;

/// The sorted, deduplicated character bigrams of `text`, ignoring punctuation, spaces and
/// the blank (　) of fill-in stems, so layout differences do not count as content.
pub fn bigrams(text: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut grams: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// Jaccard similarity of two sorted, deduplicated bigram lists; 0 when both are empty.
pub fn jaccard(a: &[(char, char)], b: &[(char, char)]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// The stem with the correct options: the fact a question teaches. A 判断 statement is its
/// own fact whichever way it is answered.
pub fn fact_text(question: &Question) -> String {
    let mut text = question.text.clone();
    if question.kind != super::model::QuestionKind::TrueFalse {
        for &index in &question.answer {
            if let Some(option) = question.options.get(usize::from(index)) {
                text.push(' ');
                text.push_str(option);
            }
        }
    }
    text
}

/// Which measure made a pair alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likeness {
    /// The stems are near-identical.
    Stem,
    /// The stems differ but stem and correct options state the same fact.
    Fact,
}

/// Two questions (indices into the bank) that ask the same thing, with the score found.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarPair {
    pub first: usize,
    pub second: usize,
    pub likeness: Likeness,
    pub score: f64,
}

/// Every pair of the bank over either threshold, in bank order. Quadratic, which is a few
/// hundred thousand merges of short lists for a bank of a thousand questions.
pub fn similar_pairs(questions: &[Question]) -> Vec<SimilarPair> {
    let stems: Vec<_> = questions.iter().map(|q| bigrams(&q.text)).collect();
    let facts: Vec<_> = questions.iter().map(|q| bigrams(&fact_text(q))).collect();
    let mut pairs = Vec::new();
    for first in 0..questions.len() {
        for second in first + 1..questions.len() {
            let stem = jaccard(&stems[first], &stems[second]);
            let pair = if stem >= STEM_SIMILARITY {
                Some((Likeness::Stem, stem))
            } else {
                let fact = jaccard(&facts[first], &facts[second]);
                (fact >= FACT_SIMILARITY).then_some((Likeness::Fact, fact))
            };
            if let Some((likeness, score)) = pair {
                pairs.push(SimilarPair {
                    first,
                    second,
                    likeness,
                    score,
                });
            }
        }
    }
    pairs
}

/// For each question of the bank, the number of its same-fact group: questions linked by a
/// chain of similar pairs share a number. Computed once when a bank is loaded.
pub fn fact_groups(questions: &[Question]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..questions.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for pair in similar_pairs(questions) {
        let a = root(&mut parent, pair.first);
        let b = root(&mut parent, pair.second);
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    (0..questions.len()).map(|i| root(&mut parent, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::QuestionKind;

    fn single(id: &str, text: &str, options: &[&str], answer: u8) -> Question {
        Question {
            id: id.into(),
            kind: QuestionKind::Single,
            category: "c".into(),
            text: text.into(),
            options: options.iter().map(|s| s.to_string()).collect(),
            answer: vec![answer],
            explanation: "e".into(),
            source: "党章".into(),
        }
    }

    #[test]
    fn bigrams_ignore_punctuation_and_blanks() {
        assert_eq!(bigrams("党章（　）规定"), bigrams("党章规定"));
        assert_eq!(bigrams("甲乙甲乙"), vec![('乙', '甲'), ('甲', '乙')]);
        assert!(bigrams("甲").is_empty());
    }

    #[test]
    fn jaccard_of_equal_and_disjoint() {
        let a = bigrams("党支部委员会每届任期");
        assert!((jaccard(&a, &a) - 1.0).abs() < 1e-9);
        assert_eq!(jaccard(&a, &bigrams("发展党员工作细则")), 0.0);
        assert_eq!(jaccard(&[], &[]), 0.0);
    }

    #[test]
    fn same_stem_and_same_fact_are_grouped_unrelated_are_not() {
        let bank = vec![
            single("a", "村党支部委员会每届任期几年？", &["3年", "5年"], 1),
            single("b", "村党支部委员会每届任期为几年？", &["5年", "4年"], 0),
            single(
                "c",
                "下列关于任期的说法正确的是？",
                &["村党支部委员会每届任期5年", "入党介绍人为2名"],
                0,
            ),
            single(
                "d",
                "关于任期，以下说法正确的是？",
                &["入党介绍人为1名", "村党支部委员会每届任期5年"],
                1,
            ),
            single("e", "党费由谁收缴？", &["党小组", "财务科"], 0),
        ];
        let pairs = similar_pairs(&bank);
        let found: Vec<(usize, usize, Likeness)> = pairs
            .iter()
            .map(|p| (p.first, p.second, p.likeness))
            .collect();
        assert!(found.contains(&(0, 1, Likeness::Stem)), "{found:?}");
        assert!(found.contains(&(2, 3, Likeness::Fact)), "{found:?}");
        assert!(!found.iter().any(|(a, b, _)| *a == 4 || *b == 4));
        let groups = fact_groups(&bank);
        assert_eq!(groups[0], groups[1]);
        assert_eq!(groups[2], groups[3]);
        assert_ne!(groups[0], groups[4]);
        assert_ne!(groups[2], groups[4]);
    }
}
