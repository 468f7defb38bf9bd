//! The questions the latest round's analysis flags, for `/bank`: the bank's owner sees which to
//! rewrite without reading the whole report.

use std::collections::HashSet;

use crate::reports::model::QuestionRow;
use crate::reports::text::{coefficient, percent};
use crate::texts::bank_review as t;

/// Flagged questions listed in `/bank`; the report's files have every question.
pub const MAX_LISTED: usize = 15;

/// The flagged questions of a round that are still in the active bank (a retired one needs no
/// rewrite), most flags first, then by id.
pub fn flagged_active<'a>(rows: &'a [QuestionRow], active: &HashSet<&str>) -> Vec<&'a QuestionRow> {
    let mut flagged: Vec<&QuestionRow> = rows
        .iter()
        .filter(|row| !row.flags.is_empty() && active.contains(row.id.as_str()))
        .collect();
    flagged.sort_by(|a, b| {
        b.flags
            .len()
            .cmp(&a.flags.len())
            .then_with(|| a.id.cmp(&b.id))
    });
    flagged
}

/// The section for `/bank` (plain text; the caller escapes it): a title naming the round, one
/// line per flagged question with its figures, and what was left out.
pub fn render(round_id: i64, flagged: &[&QuestionRow], min_answers: usize) -> String {
    if flagged.is_empty() {
        return t::none_flagged(round_id, min_answers);
    }
    let mut lines = vec![t::title(round_id, flagged.len())];
    for row in flagged.iter().take(MAX_LISTED) {
        let facility = row
            .facility
            .map_or_else(|| t::NO_FIGURE.to_owned(), percent);
        let discrimination = row
            .discrimination
            .map_or_else(|| t::NO_FIGURE.to_owned(), coefficient);
        lines.push(t::line(
            &row.id,
            &row.category,
            &facility,
            row.correct,
            row.answered,
            &discrimination,
            &crate::texts::reports::flags(&row.flags),
        ));
    }
    if flagged.len() > MAX_LISTED {
        lines.push(t::more(flagged.len() - MAX_LISTED, round_id));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stats::ItemFlag;
    use crate::questions::model::QuestionKind;

    fn row(id: &str, flags: Vec<ItemFlag>) -> QuestionRow {
        QuestionRow {
            id: id.into(),
            category: "党费".into(),
            kind: QuestionKind::Single,
            text: "题干".into(),
            answered: 40,
            correct: 38,
            facility: Some(0.95),
            discrimination: Some(0.04),
            flags,
        }
    }

    #[test]
    fn only_flagged_active_questions_are_listed_with_their_figures() {
        let rows = vec![
            row("df-001", vec![ItemFlag::TooEasy]),
            row("df-002", vec![]),
            row(
                "df-003",
                vec![ItemFlag::TooEasy, ItemFlag::NotDiscriminating],
            ),
            row("old-001", vec![ItemFlag::TooHard]),
        ];
        let active: HashSet<&str> = ["df-001", "df-002", "df-003"].into_iter().collect();
        let flagged = flagged_active(&rows, &active);
        let ids: Vec<&str> = flagged.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["df-003", "df-001"]);
        let text = render(4, &flagged, 30);
        assert!(text.contains("第4期"), "{text}");
        assert!(
            text.contains("df-003（党费）") && text.contains("95.0%（38/40）"),
            "{text}"
        );
        assert!(text.contains("0.04") && text.contains("区分度低"), "{text}");
        assert!(!text.contains("old-001") && !text.contains("df-002"));
    }

    #[test]
    fn a_long_list_is_cut_and_an_empty_one_says_so() {
        let rows: Vec<QuestionRow> = (0..20)
            .map(|i| row(&format!("q{i:02}"), vec![ItemFlag::TooEasy]))
            .collect();
        let active: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let text = render(2, &flagged_active(&rows, &active), 30);
        assert_eq!(text.lines().count(), 1 + MAX_LISTED + 1, "{text}");
        assert!(text.contains("/report 2"), "{text}");
        let none = render(2, &[], 30);
        assert!(none.contains("30"), "{none}");
    }
}
