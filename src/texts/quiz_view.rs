//! The test and practice messages a trainee reads (HTML parse mode): a question with its
//! options in the drawn order, the option buttons' labels, the review of missed questions and
//! the result.

use crate::domain::quiz::TestResult;
use crate::domain::quiz::MAX_OPTIONS;
use crate::questions::model::{option_letter, Question, QuestionKind};
use crate::storage::quiz::{AttemptStatus, HistoryRow};
use crate::texts::esc as escape;
use crate::texts::quiz as t;
use crate::texts::quiz_flow as flow;
use crate::texts::split::{split_message, TELEGRAM_TEXT_LIMIT};

/// One inline button under a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionButton {
    /// The option this button answers with; what the callback data should carry.
    pub original_index: u8,
    /// Where the option is shown (0 → A).
    pub shown_position: u8,
    /// The button text: a letter, ✅ + letter for a selected 多选 option, 对/错 for 判断.
    pub label: String,
}

/// The option buttons of a question in the order shown; a 多选 question also needs a
/// [`t::SUBMIT`] button, which the keyboard builder adds.
pub fn option_buttons(
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> Vec<OptionButton> {
    shown_options(question, option_order)
        .map(|(shown_position, original_index, text)| {
            let letter = option_letter(shown_position).to_string();
            let label = match question.kind {
                QuestionKind::TrueFalse => text.to_owned(),
                QuestionKind::Single => letter,
                QuestionKind::Multiple if selection.contains(&original_index) => {
                    format!("{} {letter}", t::SELECTED_MARK)
                }
                QuestionKind::Multiple => letter,
            };
            OptionButton {
                original_index,
                shown_position,
                label,
            }
        })
        .collect()
}

/// The message for question `position` (0-based) of `total` in a test.
pub fn render_question(
    question: &Question,
    option_order: &[u8],
    position: usize,
    total: usize,
    selection: &[u8],
) -> String {
    let header = t::question_header(
        position + 1,
        total,
        question.kind.label(),
        &question.category,
    );
    render_with_header(&header, question, option_order, selection)
}

/// The message for a `/practice` question.
/// The next test question, under a line that says what the previous one was answered with:
/// the test is one message edited from question to question.
pub fn render_question_after_answer(
    answered_index: usize,
    answer: &str,
    question: &Question,
    option_order: &[u8],
    position: usize,
    total: usize,
) -> String {
    format!(
        "{}\n\n{}",
        flow::previous_answered(answered_index + 1, answer),
        render_question(question, option_order, position, total, &[])
    )
}

pub fn render_practice_question(
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> String {
    let header = t::practice_header(question.kind.label(), &question.category);
    render_with_header(&header, question, option_order, selection)
}

fn render_with_header(
    header: &str,
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> String {
    let mut out = format!("<b>{}</b>\n\n{}\n", escape(header), escape(&question.text));
    if question.kind != QuestionKind::TrueFalse {
        out.push('\n');
        for (shown, original, text) in shown_options(question, option_order) {
            let mark = if question.kind == QuestionKind::Multiple && selection.contains(&original) {
                t::SELECTED_MARK
            } else {
                ""
            };
            out.push_str(&format!(
                "{mark}<b>{}.</b> {}\n",
                option_letter(shown),
                escape(text)
            ));
        }
    }
    out.push('\n');
    match question.kind {
        QuestionKind::Single => out.push_str(&format!("<i>{}</i>", t::HINT_SINGLE)),
        QuestionKind::TrueFalse => out.push_str(&format!("<i>{}</i>", t::HINT_TRUE_FALSE)),
        QuestionKind::Multiple => {
            out.push_str(&format!("<i>{}</i>\n", t::HINT_MULTIPLE));
            let letters: Vec<String> = shown_options(question, option_order)
                .filter(|(_, original, _)| selection.contains(original))
                .map(|(shown, _, _)| option_letter(shown).to_string())
                .collect();
            if letters.is_empty() {
                out.push_str(t::NOTHING_SELECTED);
            } else {
                out.push_str(&t::selected(&letters.join(t::LIST_SEPARATOR)));
            }
        }
    }
    out
}

/// `(shown position, original index, option text)` for each valid entry of `option_order`;
/// entries that do not name an option of this question are skipped rather than trusted.
fn shown_options<'q>(
    question: &'q Question,
    option_order: &'q [u8],
) -> impl Iterator<Item = (u8, u8, &'q str)> + 'q {
    option_order
        .iter()
        .take(MAX_OPTIONS)
        .enumerate()
        .filter_map(|(shown, &original)| {
            question
                .options
                .get(usize::from(original))
                .map(|text| (shown as u8, original, text.as_str()))
        })
}

/// The options named by `indices`, as text: letters would mislead, because the trainee saw the
/// options in their own shuffled order.
fn answer_text(question: &Question, indices: &[u8]) -> String {
    let texts: Vec<String> = indices
        .iter()
        .filter_map(|&i| question.options.get(usize::from(i)))
        .map(|text| escape(text))
        .collect();
    if texts.is_empty() {
        t::NOT_ANSWERED.to_owned()
    } else {
        texts.join("；")
    }
}

/// The review of missed questions (`chosen` = original indices, empty when unanswered), split
/// into messages Telegram accepts.
pub fn render_review(missed: &[(&Question, &[u8])]) -> Vec<String> {
    split_message(&review_text(missed), TELEGRAM_TEXT_LIMIT)
}

fn review_text(missed: &[(&Question, &[u8])]) -> String {
    if missed.is_empty() {
        return t::NOTHING_MISSED.to_owned();
    }
    let mut out = format!("<b>{}</b>", escape(&t::review_heading(missed.len())));
    for (number, (question, chosen)) in missed.iter().enumerate() {
        out.push_str(&format!(
            "\n\n<b>{}</b>\n{}\n{}{}\n{}<b>{}</b>",
            escape(&t::review_item_header(
                number + 1,
                question.kind.label(),
                &question.category
            )),
            escape(&question.text),
            t::YOUR_ANSWER,
            answer_text(question, chosen),
            t::CORRECT_ANSWER,
            answer_text(question, &question.answer),
        ));
        if !question.explanation.trim().is_empty() {
            out.push_str(&format!(
                "\n{}{}",
                t::EXPLANATION,
                escape(&question.explanation)
            ));
        }
        if !question.source.trim().is_empty() {
            out.push_str(&format!("\n{}{}", t::SOURCE, escape(&question.source)));
        }
    }
    out
}

/// The score summary: score, questions right, pass mark, passed or not.
pub fn render_summary(result: &TestResult) -> String {
    let mut out = format!("<b>{}</b>\n", t::RESULT_TITLE);
    if result.timed_out {
        out.push_str(t::TIMED_OUT);
        out.push('\n');
    }
    out.push_str(&format!(
        "<b>{}</b>（{}）\n{}\n{}",
        t::score_line(result.score()),
        t::correct_line(result.correct, result.total),
        t::pass_mark_line(result.pass_mark),
        if result.passed() {
            t::PASSED
        } else {
            t::FAILED
        },
    ));
    out
}

/// The whole end-of-test output: the summary followed by the review, split into messages.
pub fn render_result(result: &TestResult, missed: &[(&Question, &[u8])]) -> Vec<String> {
    let text = format!("{}\n\n{}", render_summary(result), review_text(missed));
    split_message(&text, TELEGRAM_TEXT_LIMIT)
}

/// The options named by original `indices`, with the letters this trainee saw them under.
pub fn shown_answer(question: &Question, order: &[u8], indices: &[u8]) -> String {
    let mut parts = Vec::new();
    for (position, original) in order.iter().enumerate() {
        if !indices.contains(original) {
            continue;
        }
        let Some(text) = question.options.get(usize::from(*original)) else {
            continue;
        };
        if question.kind == QuestionKind::TrueFalse {
            parts.push(escape(text));
        } else {
            parts.push(format!(
                "{}. {}",
                option_letter(position as u8),
                escape(text)
            ));
        }
    }
    parts.join(flow::ANSWER_SEPARATOR)
}

/// An answered test question: what was asked and what was chosen, with no right or wrong
/// (that comes at the end, all at once).
pub fn answered_view(
    q: &Question,
    order: &[u8],
    position: usize,
    total: usize,
    chosen: &[u8],
) -> String {
    let header = t::question_header(position + 1, total, q.kind.label(), &q.category);
    format!(
        "<b>{}</b>\n\n{}\n\n{}",
        escape(&header),
        escape(&q.text),
        flow::answered(&shown_answer(q, order, chosen))
    )
}

/// Right or wrong at once, with the right answer, the explanation and the source.
pub fn practice_feedback(q: &Question, order: &[u8], chosen: &[u8], correct: bool) -> String {
    let header = t::practice_header(q.kind.label(), &q.category);
    let mut out = format!(
        "<b>{}</b>\n\n{}\n\n<b>{}</b>\n{}{}\n{}<b>{}</b>",
        escape(&header),
        escape(&q.text),
        if correct {
            flow::PRACTICE_RIGHT
        } else {
            flow::PRACTICE_WRONG
        },
        t::YOUR_ANSWER,
        shown_answer(q, order, chosen),
        t::CORRECT_ANSWER,
        shown_answer(q, order, &q.answer),
    );
    if !q.explanation.trim().is_empty() {
        out.push_str(&format!("\n{}{}", t::EXPLANATION, escape(&q.explanation)));
    }
    if !q.source.trim().is_empty() {
        out.push_str(&format!("\n{}{}", t::SOURCE, escape(&q.source)));
    }
    out
}

/// The trainee's rounds oldest first, each scored one with pass/fail and the change from the
/// previous scored round, then a one-line summary.
pub fn render_myscores(
    rows: &[HistoryRow],
    pass_mark: u32,
    date: impl Fn(i64) -> String,
) -> String {
    if rows.is_empty() {
        return flow::MYSCORES_EMPTY.to_owned();
    }
    let mut lines = vec![format!("<b>{}</b>", flow::MYSCORES_TITLE)];
    let mut previous: Option<i64> = None;
    let mut scores = Vec::new();
    let mut passed_count = 0;
    for row in rows {
        let result = match (row.status, row.score) {
            (AttemptStatus::InProgress, _) | (_, None) => flow::IN_PROGRESS.to_owned(),
            (status, Some(score)) => {
                let passed =
                    crate::domain::quiz::passed(u32::try_from(score).unwrap_or(0), pass_mark);
                passed_count += usize::from(passed);
                let verdict = if passed {
                    flow::PASSED_MARK
                } else {
                    flow::FAILED_MARK
                };
                let mut line = flow::score_result(
                    score,
                    row.correct_count.unwrap_or(0),
                    row.question_count,
                    verdict,
                );
                if status == AttemptStatus::TimedOut {
                    line.push_str(flow::TIMED_OUT_MARK);
                }
                if let Some(before) = previous {
                    line.push_str(&flow::trend(score - before));
                }
                previous = Some(score);
                scores.push(score);
                line
            }
        };
        lines.push(flow::myscores_line(
            row.round_id,
            &date(row.round_opens_at),
            &result,
        ));
    }
    if !scores.is_empty() {
        let count = scores.len() as i64;
        let average = (scores.iter().sum::<i64>() * 2 + count) / (2 * count);
        lines.push(String::new());
        lines.push(flow::myscores_summary(
            scores.len(),
            average,
            passed_count,
            pass_mark,
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::fixtures::sample as question;
    use crate::texts::split::tests::{tags_balanced, visible_units};

    #[test]
    fn question_message_escapes_and_shows_options_in_drawn_order() {
        let mut q = question("s", QuestionKind::Single, "换届<选举>");
        q.text = "<script>alert(1)</script> & 更多".to_owned();
        q.options[2] = "a<b".to_owned();
        let text = render_question(&q, &[2, 0, 3, 1], 2, 20, &[]);
        assert!(text.contains("第 3/20 题"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 更多"));
        assert!(text.contains("换届&lt;选举&gt;"));
        assert!(!text.contains("<script>"));
        assert!(text.contains("<b>A.</b> a&lt;b\n<b>B.</b> 甲\n<b>C.</b> 丁\n<b>D.</b> 乙"));
        assert!(text.contains(t::HINT_SINGLE));
    }

    #[test]
    fn multiple_choice_shows_selection_in_text_and_buttons() {
        let q = question("m", QuestionKind::Multiple, "a");
        let order = [3, 2, 1, 0];
        let text = render_question(&q, &order, 0, 1, &[0, 2]);
        assert!(text.contains(&t::selected("B、D")));
        let buttons = option_buttons(&q, &order, &[0, 2]);
        let labels: Vec<&str> = buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, vec!["A", "✅ B", "C", "✅ D"]);
        assert_eq!(buttons[1].original_index, 2);
        assert_eq!(buttons[1].shown_position, 1);
        let none = render_question(&q, &order, 0, 1, &[]);
        assert!(none.contains(t::NOTHING_SELECTED));
    }

    #[test]
    fn true_false_buttons_say_right_and_wrong() {
        let q = question("t", QuestionKind::TrueFalse, "a");
        let labels: Vec<String> = option_buttons(&q, &[0, 1], &[])
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(labels, vec!["对", "错"]);
        let text = render_practice_question(&q, &[0, 1], &[]);
        assert!(text.contains(t::HINT_TRUE_FALSE));
    }

    #[test]
    fn corrupt_option_order_is_skipped_not_trusted() {
        let q = question("s", QuestionKind::Single, "a");
        let buttons = option_buttons(&q, &[0, 9, 1], &[]);
        assert_eq!(buttons.len(), 2);
    }

    #[test]
    fn review_shows_answers_explanation_and_source() {
        let q = question("s", QuestionKind::Single, "a");
        let tf = question("t", QuestionKind::TrueFalse, "b");
        let messages = render_review(&[(&q, &[0]), (&tf, &[])]);
        assert_eq!(messages.len(), 1);
        let text = &messages[0];
        assert!(text.contains(&format!("{}甲", t::YOUR_ANSWER)));
        assert!(text.contains(&format!("{}<b>乙</b>", t::CORRECT_ANSWER)));
        assert!(text.contains(&format!("{}{}", t::YOUR_ANSWER, t::NOT_ANSWERED)));
        assert!(text.contains(&format!("{}<b>错</b>", t::CORRECT_ANSWER)));
        assert!(text.contains("支部条例 第十一条"));
        assert!(text.contains("因为条例这样规定。"));
        assert_eq!(render_review(&[]), vec![t::NOTHING_MISSED.to_owned()]);
    }

    #[test]
    fn long_review_is_split_into_valid_messages() {
        let mut q = question("s", QuestionKind::Single, "a");
        q.explanation = "解析很长，<需要转义>。".repeat(60);
        let chosen: &[u8] = &[0];
        let missed: Vec<(&Question, &[u8])> = (0..20).map(|_| (&q, chosen)).collect();
        let messages = render_review(&missed);
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(visible_units(message) <= TELEGRAM_TEXT_LIMIT);
            assert!(tags_balanced(message), "{message}");
        }
    }

    #[test]
    fn summary_states_score_pass_mark_and_outcome() {
        let result = TestResult {
            correct: 11,
            total: 20,
            pass_mark: 60,
            timed_out: true,
        };
        let text = render_summary(&result);
        assert!(text.contains(&t::score_line(55)));
        assert!(text.contains(&t::pass_mark_line(60)));
        assert!(text.contains(t::FAILED));
        assert!(text.contains(t::TIMED_OUT));
        let passed = TestResult {
            correct: 12,
            ..result
        };
        assert!(render_summary(&passed).contains(t::PASSED));
        let all = render_result(&passed, &[]);
        assert_eq!(all.len(), 1);
        assert!(all[0].contains(t::NOTHING_MISSED));
    }

    #[test]
    fn answered_view_names_the_letter_the_trainee_saw() {
        let single = question("s", QuestionKind::Single, "组织生活");
        let text = answered_view(&single, &[3, 2, 1, 0], 0, 3, &[1]);
        assert!(text.contains(&flow::answered("C. 乙")), "{text}");
        let truth = question("t", QuestionKind::TrueFalse, "组织生活");
        assert!(answered_view(&truth, &[0, 1], 2, 3, &[1]).contains(&flow::answered("错")));
        let feedback = practice_feedback(&single, &[3, 2, 1, 0], &[0], false);
        assert!(
            feedback.contains(flow::PRACTICE_WRONG)
                && feedback.contains("C. 乙")
                && feedback.contains("D. 甲"),
            "{feedback}"
        );
    }

    fn history(round_id: i64, status: AttemptStatus, score: Option<i64>) -> HistoryRow {
        HistoryRow {
            round_id,
            round_opens_at: round_id * 1000,
            status,
            score,
            correct_count: score.map(|s| s / 5),
            question_count: 20,
            finished_at: None,
        }
    }

    #[test]
    fn myscores_shows_pass_fail_and_the_trend() {
        assert_eq!(
            render_myscores(&[], 60, |_| String::new()),
            flow::MYSCORES_EMPTY
        );
        let rows = [
            history(1, AttemptStatus::Finished, Some(55)),
            history(2, AttemptStatus::TimedOut, Some(70)),
            history(3, AttemptStatus::Finished, Some(70)),
            history(4, AttemptStatus::Finished, Some(60)),
            history(5, AttemptStatus::InProgress, None),
        ];
        let text = render_myscores(&rows, 60, |ts| format!("D{ts}"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains("D1000")
                && lines[1].contains(flow::FAILED_MARK)
                && !lines[1].contains('↑'),
            "{text}"
        );
        assert!(
            lines[2].contains(flow::PASSED_MARK)
                && lines[2].contains(flow::TIMED_OUT_MARK)
                && lines[2].ends_with(&flow::trend(15))
        );
        assert!(lines[3].ends_with(&flow::trend(0)));
        assert!(lines[4].ends_with(&flow::trend(-10)) && lines[4].contains(flow::PASSED_MARK));
        assert!(lines[5].contains(flow::IN_PROGRESS));
        assert!(
            text.ends_with(&flow::myscores_summary(4, 64, 3, 60)),
            "{text}"
        );
    }
}
