//! Reports as Telegram messages (HTML parse mode): the administrator's round summary, a
//! secretary's view of their own branch, the compliance summary.
//!
//! Every function returns the messages to send, already split to Telegram's length limit; the
//! full tables go out as files (`reports::xlsx`, `reports::csv`).

use crate::texts::esc as escape;

use crate::reports::model::{ComplianceReport, RoundReport};
use crate::texts::reports as t;
pub use crate::texts::split::{split_message, TELEGRAM_TEXT_LIMIT};

/// How many entries each "lowest/weakest" list shows; the files have the rest.
const TOP_N: usize = 5;

/// `0.4444` → `44.4%`, rounded half up.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", round1(fraction * 100.0))
}

/// `66.25` → `66.3`, rounded half up.
pub fn points(value: f64) -> String {
    format!("{:.1}", round1(value))
}

/// `0.8512` → `0.85`.
pub fn coefficient(value: f64) -> String {
    format!("{:.2}", (value * 100.0).round() / 100.0)
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

const DASH: &str = "—";

fn or_dash(value: Option<f64>, format: fn(f64) -> String) -> String {
    value.map_or_else(|| DASH.to_owned(), format)
}

fn heading(text: &str) -> String {
    format!("\n<b>{}</b>", escape(text))
}

/// The administrator's summary of a round: participation, average and pass rate overall and by
/// branch, the lowest branches and scores, the weakest categories and questions.
pub fn round_summary(report: &RoundReport) -> Vec<String> {
    let mut lines = header_lines(report);
    if report.is_empty() {
        lines.push(escape(&t::empty_round(report.round_id)));
        if !report.non_participants.is_empty() {
            lines.push(escape(&t::non_participants_line(
                report.non_participants.len(),
            )));
        }
        return split_message(&lines.join("\n"), TELEGRAM_TEXT_LIMIT);
    }
    lines.extend(overall_lines(report));
    if !report.branches.iter().any(|b| b.by_roster) {
        lines.push(escape(t::ALL_BY_JOINED));
    }
    lines.extend(rollup_lines(report));
    lines.extend(branch_lines(report));
    lines.extend(weakest_lines(report));
    lines.extend(lowest_score_lines(report));
    lines.push(String::new());
    if !report.non_participants.is_empty() {
        lines.push(escape(&t::non_participants_line(
            report.non_participants.len(),
        )));
    }
    if !report.never_joined.is_empty() {
        lines.push(escape(&t::never_joined_line(report.never_joined.len())));
    }
    lines.push(escape(t::FILES_HINT));
    split_message(&lines.join("\n"), TELEGRAM_TEXT_LIMIT)
}

/// Participation, average, pass rate and (when computable) reliability of the whole round.
fn overall_lines(report: &RoundReport) -> Vec<String> {
    let overall = report.overall();
    let mut lines = vec![
        escape(&t::participation_line(
            overall.participants,
            overall.members,
            overall.participation().map(percent).as_deref(),
        )),
        escape(&t::average_line(&or_dash(overall.average, points))),
        escape(&t::pass_rate_line(
            &or_dash(overall.pass_rate, percent),
            report.pass_mark,
        )),
    ];
    if let Some(reliability) = report.reliability {
        lines.push(escape(&t::reliability_line(&coefficient(reliability))));
    }
    lines
}

/// Organisations shown in the chat summary: the viewer's top levels; the workbook has them all.
const ORG_LINES: usize = 30;
const ORG_DEPTH: usize = 2;

/// Totals per organisation (the top levels of the viewer's subtree) and per branch kind. Only
/// worth showing when there is more than one of either.
fn rollup_lines(report: &RoundReport) -> Vec<String> {
    let mut lines = Vec::new();
    if report.orgs.len() > 1 {
        lines.push(heading(t::BY_ORG));
        let shown: Vec<_> = report
            .orgs
            .iter()
            .filter(|o| o.depth <= ORG_DEPTH)
            .collect();
        for org in shown.iter().take(ORG_LINES) {
            let totals = &org.totals;
            lines.push(format!(
                "{}• {}",
                "　".repeat(org.depth),
                escape(&t::org_line(
                    &org.name,
                    totals.branches,
                    totals.participants,
                    totals.members,
                    &or_dash(totals.participation(), percent),
                    &or_dash(totals.average, points),
                ))
            ));
        }
        let hidden = report.orgs.len() - shown.len().min(ORG_LINES);
        if hidden > 0 {
            lines.push(escape(&t::more_orgs(hidden)));
        }
    }
    if report.kinds.len() > 1 {
        lines.push(heading(t::BY_KIND));
        for kind in &report.kinds {
            let totals = &kind.totals;
            lines.push(format!(
                "• {}",
                escape(&t::kind_line(
                    &kind.kind,
                    totals.branches,
                    totals.participants,
                    totals.members,
                    &or_dash(totals.participation(), percent),
                    &or_dash(totals.average, points),
                ))
            ));
        }
    }
    lines
}

/// Every branch's participation and average, then the lowest branches.
fn branch_lines(report: &RoundReport) -> Vec<String> {
    let mut lines = vec![heading(t::BY_BRANCH)];
    // Marked only where some branches count by roster and others cannot yet.
    let mixed = report.branches.iter().any(|b| b.by_roster);
    for branch in &report.branches {
        let mark = if mixed && !branch.by_roster {
            t::BY_JOINED_MARK
        } else {
            ""
        };
        let line = match branch.average {
            Some(average) => t::branch_line(
                &branch.name,
                &branch.kind,
                branch.participants,
                branch.members,
                &points(average),
                &or_dash(branch.pass_rate, percent),
            ),
            None => t::branch_line_nobody(&branch.name, &branch.kind, branch.members),
        };
        lines.push(format!("• {}{mark}", escape(&line)));
    }
    let lowest = report.lowest_branches(TOP_N);
    if lowest.len() > 1 {
        lines.push(heading(t::LOWEST_BRANCHES));
        for (rank, branch) in lowest.iter().enumerate() {
            lines.push(escape(&t::ranked_branch(
                rank + 1,
                &branch.name,
                &or_dash(branch.average, points),
            )));
        }
    }
    lines
}

/// The weakest categories and questions, and the questions the analysis flags.
fn weakest_lines(report: &RoundReport) -> Vec<String> {
    let mut lines = Vec::new();
    let categories = report.weakest_categories(TOP_N);
    if !categories.is_empty() {
        lines.push(heading(t::WEAKEST_CATEGORIES));
        for (rank, category) in categories.iter().enumerate() {
            lines.push(escape(&t::ranked_category(
                rank + 1,
                &category.category,
                &or_dash(category.correct_rate, percent),
                category.answered,
            )));
        }
    }
    let questions = report.weakest_questions(TOP_N);
    if !questions.is_empty() {
        lines.push(heading(t::WEAKEST_QUESTIONS));
        for (rank, question) in questions.iter().enumerate() {
            lines.push(escape(&t::ranked_question(
                rank + 1,
                &question.id,
                &question.category,
                &or_dash(question.facility, percent),
            )));
        }
    }
    let flagged = report.flagged_questions();
    if !flagged.is_empty() {
        lines.push(heading(t::FLAGGED_QUESTIONS));
        for question in flagged {
            let flags = t::flags(&question.flags);
            let line = t::flagged_question(&question.id, &question.category, &flags);
            lines.push(format!("• {}", escape(&line)));
        }
    }
    lines
}

fn lowest_score_lines(report: &RoundReport) -> Vec<String> {
    let mut lines = vec![heading(t::LOWEST_SCORES)];
    for (rank, trainee) in report.lowest_scores(TOP_N).iter().enumerate() {
        lines.push(escape(&t::ranked_trainee(
            rank + 1,
            &trainee.branch,
            &trainee.name,
            trainee.score,
        )));
    }
    lines
}

fn header_lines(report: &RoundReport) -> Vec<String> {
    let mut lines = vec![format!(
        "<b>{}</b>",
        escape(&t::round_title(report.round_id))
    )];
    if !report.closed {
        lines.push(escape(t::ROUND_STILL_OPEN));
    }
    lines.push(escape(&t::round_period(
        &t::date_time(report.opens_at),
        &t::date_time(report.closes_at),
    )));
    lines
}

/// A secretary's view of their own branch: participation and average only, no names or
/// individual scores, since a secretary may not see people's scores (SPEC.md, roles).
pub fn branch_summary(report: &RoundReport, branch_id: i64) -> Vec<String> {
    let Some(branch) = report.branch(branch_id) else {
        return vec![escape(t::BRANCH_NOT_IN_REPORT)];
    };
    let mut lines = vec![format!(
        "<b>{}</b>",
        escape(&t::branch_title(report.round_id, &branch.name))
    )];
    lines.push(escape(&t::participation_line(
        branch.participants,
        branch.members,
        branch.participation().map(percent).as_deref(),
    )));
    lines.push(escape(if branch.by_roster {
        t::BRANCH_BY_ROSTER
    } else {
        t::BRANCH_BY_JOINED
    }));
    match branch.average {
        Some(average) => lines.push(escape(&t::branch_average_line(&points(average)))),
        None => lines.push(escape(t::BRANCH_NOBODY)),
    }
    if !report.closed {
        lines.push(escape(&t::branch_closes_line(&t::date_time(
            report.closes_at,
        ))));
    }
    split_message(&lines.join("\n"), TELEGRAM_TEXT_LIMIT)
}

/// The text for a round nobody has taken part in yet.
pub fn empty_round(round_id: i64) -> String {
    escape(&t::empty_round(round_id))
}

/// Overdue and approaching elections, and missed meetings by branch and type.
pub fn compliance_summary(report: &ComplianceReport) -> Vec<String> {
    let mut lines = vec![format!(
        "<b>{}</b>",
        escape(&t::compliance_title(&t::date(report.as_of)))
    )];
    if report.is_clean() && report.approaching_elections.is_empty() {
        lines.push(escape(t::ALL_CLEAR));
        return split_message(&lines.join("\n"), TELEGRAM_TEXT_LIMIT);
    }

    lines.push(heading(t::OVERDUE_ELECTIONS));
    if report.overdue_elections.is_empty() {
        lines.push(escape(t::NO_OVERDUE_ELECTIONS));
    }
    let mut group = OrgGroups::default();
    for row in &report.overdue_elections {
        group.enter(&mut lines, &row.org);
        lines.push(format!(
            "• {}",
            escape(&t::overdue_line(
                &row.branch,
                &row.kind,
                &t::date(row.deadline()),
                -row.days_left,
                row.delayed_to.is_some(),
            ))
        ));
    }

    if !report.approaching_elections.is_empty() {
        lines.push(heading(t::APPROACHING_ELECTIONS));
        let mut group = OrgGroups::default();
        for row in &report.approaching_elections {
            group.enter(&mut lines, &row.org);
            lines.push(format!(
                "• {}",
                escape(&t::approaching_line(
                    &row.branch,
                    &row.kind,
                    &t::date(row.deadline()),
                    row.days_left,
                    row.delayed_to.is_some(),
                ))
            ));
        }
    }

    lines.push(heading(&t::missed_meetings_heading(
        &t::date(report.period_start),
        &t::date(report.period_end),
    )));
    // Group by organisation, then branch, keeping the order in which branches first appear.
    let mut branches: Vec<(&str, &str, Vec<String>)> = Vec::new();
    let mut rows: Vec<_> = report
        .missed_meetings
        .iter()
        .filter(|m| m.missed > 0)
        .collect();
    rows.sort_by(|a, b| a.org.cmp(&b.org));
    for row in rows {
        let item = t::missed_meeting(&row.meeting, row.missed, row.scheduled);
        match branches
            .iter_mut()
            .find(|(org, name, _)| *name == row.branch && *org == row.org)
        {
            Some((_, _, items)) => items.push(item),
            None => branches.push((&row.org, &row.branch, vec![item])),
        }
    }
    if branches.is_empty() {
        lines.push(escape(t::NO_MISSED_MEETINGS));
    }
    let mut group = OrgGroups::default();
    for (org, branch, items) in branches {
        group.enter(&mut lines, org);
        lines.push(format!(
            "• {}",
            escape(&t::branch_meetings_line(
                branch,
                &items.join(t::ITEM_SEPARATOR)
            ))
        ));
    }
    split_message(&lines.join("\n"), TELEGRAM_TEXT_LIMIT)
}

/// Writes an organisation's heading when the rows move on to another organisation.
#[derive(Default)]
struct OrgGroups {
    current: Option<String>,
}

impl OrgGroups {
    fn enter(&mut self, lines: &mut Vec<String>, org: &str) {
        if org.is_empty() || self.current.as_deref() == Some(org) {
            return;
        }
        self.current = Some(org.to_owned());
        lines.push(escape(&t::org_group(org)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::tests::{sample_compliance, sample_report};
    use crate::reports::model::BranchRow;

    #[test]
    fn numbers_round_half_up() {
        assert_eq!(points(66.25), "66.3");
        assert_eq!(points(71.666), "71.7");
        assert_eq!(percent(0.4444), "44.4%");
        assert_eq!(percent(2.0 / 3.0), "66.7%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(coefficient(0.8512), "0.85");
    }

    #[test]
    fn round_summary_states_the_facts() {
        let report = sample_report();
        let messages = round_summary(&report);
        assert_eq!(messages.len(), 1);
        let text = &messages[0];
        assert!(text.contains(&t::round_title(12)));
        assert!(text.contains(&t::participation_line(4, 9, Some("44.4%"))));
        assert!(text.contains(&t::average_line("66.3")));
        assert!(text.contains(&t::pass_rate_line("50.0%", 60)));
        assert!(text.contains(&t::branch_line(
            "城东社区党支部",
            "社区",
            3,
            4,
            "71.7",
            "66.7%"
        )));
        assert!(text.contains(&t::branch_line_nobody("人民医院党支部", "医院", 2)));
        assert!(text.contains(&t::ranked_branch(1, "第一中学党支部", "50.0")));
        assert!(text.contains(&t::ranked_category(1, "换届选举", "15.0%", 40)));
        assert!(text.contains(&t::flags(&report.questions[0].flags)));
        assert!(text.contains(&t::ranked_trainee(1, "第一中学党支部", "赵六", 50)));
        assert!(text.contains(&t::non_participants_line(2)));
        assert!(!text.contains(t::ROUND_STILL_OPEN));
    }

    #[test]
    fn user_text_is_escaped() {
        let mut report = sample_report();
        report.trainees[0].name = "<b>坏人</b>".to_owned();
        report.trainees[0].score = 0;
        let text = round_summary(&report).join("\n");
        assert!(text.contains("&lt;b&gt;坏人&lt;/b&gt;"));
    }

    #[test]
    fn many_branches_are_split_into_several_messages() {
        let mut report = sample_report();
        report.branches = (0..300)
            .map(|i| {
                BranchRow::from_scores(
                    i,
                    format!("第{i}号很长很长的社区党支部"),
                    "社区",
                    10,
                    &[60, 70],
                    60,
                )
            })
            .collect();
        let messages = round_summary(&report);
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(message.encode_utf16().count() <= TELEGRAM_TEXT_LIMIT);
        }
    }

    #[test]
    fn empty_round_says_so() {
        let mut report = sample_report();
        report.trainees.clear();
        let text = round_summary(&report).join("\n");
        assert!(text.contains(&t::empty_round(12)));
        assert!(!text.contains(t::BY_BRANCH));
        assert_eq!(empty_round(3), t::empty_round(3));
    }

    #[test]
    fn branch_summary_has_no_personal_data() {
        let mut report = sample_report();
        report.closed = false;
        let text = branch_summary(&report, 1).join("\n");
        assert!(text.contains(&t::branch_title(12, "城东社区党支部")));
        assert!(text.contains(&t::participation_line(3, 4, Some("75.0%"))));
        assert!(text.contains(&t::branch_average_line("71.7")));
        assert!(text.contains(&t::branch_closes_line("2026年3月8日 09:00")));
        for trainee in &report.trainees {
            assert!(!text.contains(&trainee.name));
        }
        for person in &report.non_participants {
            assert!(!text.contains(&person.name));
        }
        assert!(branch_summary(&report, 3)
            .join("\n")
            .contains(t::BRANCH_NOBODY));
        assert_eq!(
            branch_summary(&report, 99),
            vec![t::BRANCH_NOT_IN_REPORT.to_owned()]
        );
    }

    #[test]
    fn compliance_summary_lists_overdue_and_missed() {
        let report = sample_compliance();
        let text = compliance_summary(&report).join("\n");
        assert!(text.contains(&t::overdue_line(
            "第一中学党支部",
            "学校",
            "2026年1月10日",
            64,
            false
        )));
        assert!(text.contains(&t::approaching_line(
            "城东社区党支部",
            "社区",
            "2026年5月1日",
            47,
            true
        )));
        let school = t::branch_meetings_line(
            "第一中学党支部",
            &[
                t::missed_meeting("支部委员会会议", 2, 3),
                t::missed_meeting("党小组会", 1, 3),
            ]
            .join(t::ITEM_SEPARATOR),
        );
        assert!(text.contains(&school));
        assert!(text.contains(&t::missed_meeting("主题党日", 1, 3)));
    }

    #[test]
    fn clean_compliance_is_short() {
        let mut report = sample_compliance();
        report.overdue_elections.clear();
        report.approaching_elections.clear();
        report.missed_meetings.clear();
        let text = compliance_summary(&report).join("\n");
        assert!(text.contains(t::ALL_CLEAR));
    }
}
