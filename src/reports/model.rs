//! The data behind a report, filled by storage queries, and the tables every file rendering
//! shares, so the Excel sheets and the CSV files can never disagree.
//!
//! Times here are local times in the configured zone (`NaiveDateTime`): a report is read by
//! people, and the conversion belongs to whoever knows the zone.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::stats::{ItemFlag, Responses, Thresholds};
use crate::questions::model::{Question, QuestionKind};
use crate::texts::reports as t;

/// Everything a round's report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundReport {
    /// The 期次 users see.
    pub round_id: i64,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    /// A report of an open round is provisional; the texts say so.
    pub closed: bool,
    /// Score out of 100 needed to pass, as configured when the report was made.
    pub pass_mark: u32,
    /// One row per active branch, including branches where nobody took part.
    pub branches: Vec<BranchRow>,
    /// Every submitted attempt (finished or timed out).
    pub trainees: Vec<TraineeRow>,
    /// Who was due and did not submit: a roster branch's linked people (by their roster name),
    /// another branch's joined members.
    pub non_participants: Vec<NonParticipantRow>,
    /// 未加入（从未使用机器人）: roster people due for the test who never linked an account.
    pub never_joined: Vec<NonParticipantRow>,
    /// Totals per organisation of the viewer's subtree, depth-first (empty for a branch view).
    pub orgs: Vec<OrgRollup>,
    /// Totals per branch kind (农村、社区、…), so the kinds that lag stand out.
    pub kinds: Vec<KindRollup>,
    pub questions: Vec<QuestionRow>,
    pub categories: Vec<CategoryRow>,
    /// KR-20, when the draws share enough questions (see `domain::stats::kr20`).
    pub reliability: Option<f64>,
    /// Recent rounds, oldest first, ending with this one; feeds the trend chart.
    pub trend: Vec<TrendPoint>,
}

/// One branch's results in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchRow {
    /// `branches.id`; names are not unique, so a secretary's view selects by id.
    pub id: i64,
    pub name: String,
    /// 农村, 社区, 机关, ...: the report compares kinds because some lag behind others.
    pub kind: String,
    /// The organisation the branch belonged to in the round (as the round closed).
    pub org_id: i64,
    /// Names from the viewer's top organisation down to `org_id`.
    pub org_path: Vec<String>,
    /// 应参加: the roster's people due for the test, or without a roster the members who joined
    /// (at report time).
    pub members: u32,
    /// 实参加: those of `members` who submitted an attempt.
    pub participants: u32,
    /// Attempts submitted for the branch, which the average and the pass rate are over (with a
    /// roster it may include people the roster does not ask to take the test).
    pub scored: u32,
    /// Counted against the roster; otherwise "按已加入人数统计".
    pub by_roster: bool,
    /// Mean score of the submitted attempts; `None` when nobody took part.
    pub average: Option<f64>,
    /// Share of the submitted attempts at or above the pass mark; `None` when nobody took part.
    pub pass_rate: Option<f64>,
}

impl BranchRow {
    /// Builds a row from the branch's participants' scores.
    pub fn from_scores(
        id: i64,
        name: impl Into<String>,
        kind: impl Into<String>,
        members: u32,
        scores: &[u32],
        pass_mark: u32,
    ) -> Self {
        Self {
            id,
            name: name.into(),
            kind: kind.into(),
            org_id: crate::domain::org::ROOT,
            org_path: Vec::new(),
            members,
            participants: scores.len() as u32,
            scored: scores.len() as u32,
            by_roster: false,
            average: average(scores),
            pass_rate: pass_rate(scores, pass_mark),
        }
    }

    /// Share of members who took part; `None` for a branch without members.
    pub fn participation(&self) -> Option<f64> {
        ratio(self.participants, self.members)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Finished,
    /// The server-side time limit ended it; unanswered questions count as wrong.
    TimedOut,
}

impl AttemptOutcome {
    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Finished => t::OUTCOME_FINISHED,
            AttemptOutcome::TimedOut => t::OUTCOME_TIMED_OUT,
        }
    }
}

/// One trainee's submitted attempt. Personal data: only administrators see these rows.
#[derive(Debug, Clone, PartialEq)]
pub struct TraineeRow {
    /// Branch name at the time of the attempt; empty when the trainee had none.
    pub branch: String,
    pub name: String,
    pub score: u32,
    pub correct: u32,
    pub total: u32,
    pub outcome: AttemptOutcome,
    pub finished_at: Option<NaiveDateTime>,
    /// From start to submission; shows who rushed through and who ran into the limit.
    pub seconds_taken: Option<i64>,
}

impl TraineeRow {
    pub fn passed(&self, pass_mark: u32) -> bool {
        self.score >= pass_mark
    }
}

/// A member who did not take part, so the secretary can follow up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonParticipantRow {
    pub branch_id: i64,
    pub branch: String,
    pub name: String,
}

/// One question's analysis in a round. Stored as JSON in a closed round's summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuestionRow {
    pub id: String,
    pub category: String,
    pub kind: QuestionKind,
    pub text: String,
    /// Trainees who got the question in their draw.
    pub answered: u32,
    pub correct: u32,
    /// Share right (Moodle's facility index, as a fraction).
    pub facility: Option<f64>,
    /// Correlation with the rest of the test (Moodle's discrimination, as a fraction).
    pub discrimination: Option<f64>,
    pub flags: Vec<ItemFlag>,
}

/// Results per category: where the trainees are weak.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    pub category: String,
    /// Answers given to questions of the category (one trainee answering three counts three).
    pub answered: u32,
    pub correct: u32,
    pub correct_rate: Option<f64>,
}

/// One round in the trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub round_id: i64,
    /// Axis label, e.g. `第12期` or a date; made by the caller, who knows what reads best.
    pub label: String,
    pub participants: u32,
    pub average: Option<f64>,
}

/// The round's totals over all branches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overall {
    pub members: u32,
    pub participants: u32,
    pub average: Option<f64>,
    pub pass_rate: Option<f64>,
}

impl Overall {
    pub fn participation(&self) -> Option<f64> {
        ratio(self.participants, self.members)
    }
}

impl RoundReport {
    /// Totals over every submitted attempt, so trainees without a branch count too.
    pub fn overall(&self) -> Overall {
        let scores: Vec<u32> = self.trainees.iter().map(|row| row.score).collect();
        Overall {
            members: self.branches.iter().map(|b| b.members).sum(),
            participants: scores.len() as u32,
            average: average(&scores),
            pass_rate: pass_rate(&scores, self.pass_mark),
        }
    }

    /// True when nobody submitted an attempt: the texts then say so instead of showing zeros.
    pub fn is_empty(&self) -> bool {
        self.trainees.is_empty()
    }

    /// The `n` branches with the lowest average (branches where nobody took part are left out;
    /// they show in participation instead).
    pub fn lowest_branches(&self, n: usize) -> Vec<&BranchRow> {
        let mut rows: Vec<&BranchRow> = self
            .branches
            .iter()
            .filter(|b| b.average.is_some())
            .collect();
        rows.sort_by(|a, b| {
            a.average
                .total_cmp_opt(&b.average)
                .then(a.name.cmp(&b.name))
        });
        rows.truncate(n);
        rows
    }

    /// The `n` categories with the lowest share right.
    pub fn weakest_categories(&self, n: usize) -> Vec<&CategoryRow> {
        let mut rows: Vec<&CategoryRow> = self
            .categories
            .iter()
            .filter(|c| c.correct_rate.is_some())
            .collect();
        rows.sort_by(|a, b| {
            a.correct_rate
                .total_cmp_opt(&b.correct_rate)
                .then(a.category.cmp(&b.category))
        });
        rows.truncate(n);
        rows
    }

    /// The `n` questions with the lowest facility.
    pub fn weakest_questions(&self, n: usize) -> Vec<&QuestionRow> {
        let mut rows: Vec<&QuestionRow> = self
            .questions
            .iter()
            .filter(|q| q.facility.is_some())
            .collect();
        rows.sort_by(|a, b| a.facility.total_cmp_opt(&b.facility).then(a.id.cmp(&b.id)));
        rows.truncate(n);
        rows
    }

    /// Questions with at least one flag.
    pub fn flagged_questions(&self) -> Vec<&QuestionRow> {
        self.questions
            .iter()
            .filter(|q| !q.flags.is_empty())
            .collect()
    }

    /// The `n` lowest scores, lowest first.
    pub fn lowest_scores(&self, n: usize) -> Vec<&TraineeRow> {
        let mut rows: Vec<&TraineeRow> = self.trainees.iter().collect();
        rows.sort_by(|a, b| {
            a.score
                .cmp(&b.score)
                .then(a.branch.cmp(&b.branch))
                .then(a.name.cmp(&b.name))
        });
        rows.truncate(n);
        rows
    }

    pub fn branch(&self, id: i64) -> Option<&BranchRow> {
        self.branches.iter().find(|b| b.id == id)
    }

    /// The report as tables: 概况, 组织汇总, 类型汇总, 支部, 学员, 未参加, 未加入, 题目, 分类, 趋势.
    pub fn tables(&self) -> Vec<Table> {
        vec![
            self.overview_table(),
            self.org_table(),
            self.kind_table(),
            self.branch_table(),
            self.trainee_table(),
            self.non_participant_table(),
            self.never_joined_table(),
            self.question_table(),
            self.category_table(),
            self.trend_table(),
        ]
    }

    fn overview_table(&self) -> Table {
        let overall = self.overall();
        let rows = vec![
            vec![Cell::text(t::OVERVIEW_ROUND), Cell::Int(self.round_id)],
            vec![Cell::text(t::OVERVIEW_OPENS), Cell::DateTime(self.opens_at)],
            vec![
                Cell::text(t::OVERVIEW_CLOSES),
                Cell::DateTime(self.closes_at),
            ],
            vec![
                Cell::text(t::OVERVIEW_STATUS),
                Cell::text(if self.closed {
                    t::ROUND_CLOSED
                } else {
                    t::ROUND_OPEN
                }),
            ],
            vec![
                Cell::text(t::OVERVIEW_MEMBERS),
                Cell::Int(i64::from(overall.members)),
            ],
            vec![
                Cell::text(t::OVERVIEW_PARTICIPANTS),
                Cell::Int(i64::from(overall.participants)),
            ],
            vec![
                Cell::text(t::OVERVIEW_PARTICIPATION),
                Cell::percent(overall.participation()),
            ],
            vec![
                Cell::text(t::OVERVIEW_AVERAGE),
                Cell::decimal(overall.average),
            ],
            vec![
                Cell::text(t::OVERVIEW_PASS_RATE),
                Cell::percent(overall.pass_rate),
            ],
            vec![
                Cell::text(t::OVERVIEW_PASS_MARK),
                Cell::Int(i64::from(self.pass_mark)),
            ],
            vec![
                Cell::text(t::OVERVIEW_RELIABILITY),
                Cell::coefficient(self.reliability),
            ],
        ];
        Table {
            sheet: t::SHEET_OVERVIEW,
            file_stem: "overview",
            columns: vec![
                Column::new(t::COL_ITEM, 16.0),
                Column::new(t::COL_VALUE, 20.0),
            ],
            rows,
        }
    }

    /// How many path columns the branch table needs: the deepest path, at most the levels named.
    fn path_levels(&self) -> usize {
        self.branches
            .iter()
            .map(|b| b.org_path.len())
            .max()
            .unwrap_or(0)
            .min(t::COL_ORG_LEVELS.len())
    }

    fn branch_table(&self) -> Table {
        let levels = self.path_levels();
        let mut columns: Vec<Column> = t::COL_ORG_LEVELS[..levels]
            .iter()
            .map(|h| Column::new(h, 20.0))
            .collect();
        columns.extend([
            Column::new(t::COL_BRANCH, 28.0),
            Column::new(t::COL_BRANCH_KIND, 8.0),
            Column::new(t::COL_MEMBERS, 8.0),
            Column::new(t::COL_PARTICIPANTS, 10.0),
            Column::new(t::COL_PARTICIPATION, 10.0),
            Column::new(t::COL_AVERAGE, 10.0),
            Column::new(t::COL_PASS_RATE, 10.0),
            Column::new(t::COL_BASIS, 16.0),
        ]);
        Table {
            sheet: t::SHEET_BRANCHES,
            file_stem: "branches",
            columns,
            rows: self
                .branches
                .iter()
                .map(|b| {
                    let mut row = path_cells(&b.org_path, levels);
                    row.extend([
                        Cell::text(&b.name),
                        Cell::text(&b.kind),
                        Cell::Int(i64::from(b.members)),
                        Cell::Int(i64::from(b.participants)),
                        Cell::percent(b.participation()),
                        Cell::decimal(b.average),
                        Cell::percent(b.pass_rate),
                        Cell::text(if b.by_roster {
                            t::BASIS_ROSTER
                        } else {
                            t::BASIS_JOINED
                        }),
                    ]);
                    row
                })
                .collect(),
        }
    }

    fn org_table(&self) -> Table {
        Table {
            sheet: t::SHEET_ORGS,
            file_stem: "organisations",
            columns: vec![
                Column::new(t::COL_DEPTH, 6.0),
                Column::new(t::COL_ORG, 24.0),
                Column::new(t::COL_ORG_PATH, 40.0),
            ]
            .into_iter()
            .chain(totals_columns())
            .collect(),
            rows: self
                .orgs
                .iter()
                .map(|o| {
                    let mut row = vec![
                        Cell::Int(o.depth as i64 + 1),
                        Cell::text(&o.name),
                        Cell::text(o.path.join(" / ")),
                    ];
                    row.extend(totals_cells(&o.totals));
                    row
                })
                .collect(),
        }
    }

    fn kind_table(&self) -> Table {
        Table {
            sheet: t::SHEET_KINDS,
            file_stem: "branch-kinds",
            columns: vec![Column::new(t::COL_BRANCH_KIND, 8.0)]
                .into_iter()
                .chain(totals_columns())
                .collect(),
            rows: self
                .kinds
                .iter()
                .map(|k| {
                    let mut row = vec![Cell::text(&k.kind)];
                    row.extend(totals_cells(&k.totals));
                    row
                })
                .collect(),
        }
    }

    fn trainee_table(&self) -> Table {
        Table {
            sheet: t::SHEET_TRAINEES,
            file_stem: "trainees",
            columns: vec![
                Column::new(t::COL_BRANCH, 28.0),
                Column::new(t::COL_NAME, 16.0),
                Column::new(t::COL_SCORE, 8.0),
                Column::new(t::COL_CORRECT, 8.0),
                Column::new(t::COL_TOTAL, 8.0),
                Column::new(t::COL_PASSED, 10.0),
                Column::new(t::COL_OUTCOME, 10.0),
                Column::new(t::COL_FINISHED_AT, 18.0),
                Column::new(t::COL_TIME_TAKEN, 10.0),
            ],
            rows: self
                .trainees
                .iter()
                .map(|r| {
                    vec![
                        Cell::text(&r.branch),
                        Cell::text(&r.name),
                        Cell::Int(i64::from(r.score)),
                        Cell::Int(i64::from(r.correct)),
                        Cell::Int(i64::from(r.total)),
                        Cell::text(if r.passed(self.pass_mark) {
                            t::YES
                        } else {
                            t::NO
                        }),
                        Cell::text(r.outcome.label()),
                        r.finished_at.map_or(Cell::Empty, Cell::DateTime),
                        r.seconds_taken.map_or(Cell::Empty, Cell::Duration),
                    ]
                })
                .collect(),
        }
    }

    fn non_participant_table(&self) -> Table {
        Table {
            sheet: t::SHEET_NON_PARTICIPANTS,
            file_stem: "non-participants",
            columns: vec![
                Column::new(t::COL_BRANCH, 28.0),
                Column::new(t::COL_NAME, 16.0),
            ],
            rows: self
                .non_participants
                .iter()
                .map(|r| vec![Cell::text(&r.branch), Cell::text(&r.name)])
                .collect(),
        }
    }

    fn never_joined_table(&self) -> Table {
        Table {
            sheet: t::SHEET_NEVER_JOINED,
            file_stem: "never-joined",
            columns: vec![
                Column::new(t::COL_BRANCH, 28.0),
                Column::new(t::COL_NAME, 16.0),
            ],
            rows: self
                .never_joined
                .iter()
                .map(|r| vec![Cell::text(&r.branch), Cell::text(&r.name)])
                .collect(),
        }
    }

    fn question_table(&self) -> Table {
        Table {
            sheet: t::SHEET_QUESTIONS,
            file_stem: "questions",
            columns: vec![
                Column::new(t::COL_QUESTION_ID, 12.0),
                Column::new(t::COL_CATEGORY, 14.0),
                Column::new(t::COL_KIND, 6.0),
                Column::new(t::COL_QUESTION_TEXT, 60.0).wrapped(),
                Column::new(t::COL_ANSWERED, 10.0),
                Column::new(t::COL_CORRECT, 8.0),
                Column::new(t::COL_FACILITY, 10.0),
                Column::new(t::COL_DISCRIMINATION, 10.0),
                Column::new(t::COL_FLAGS, 20.0),
            ],
            rows: self
                .questions
                .iter()
                .map(|q| {
                    vec![
                        Cell::text(&q.id),
                        Cell::text(&q.category),
                        Cell::text(q.kind.label()),
                        Cell::text(&q.text),
                        Cell::Int(i64::from(q.answered)),
                        Cell::Int(i64::from(q.correct)),
                        Cell::percent(q.facility),
                        Cell::coefficient(q.discrimination),
                        Cell::Text(t::flags(&q.flags)),
                    ]
                })
                .collect(),
        }
    }

    fn category_table(&self) -> Table {
        Table {
            sheet: t::SHEET_CATEGORIES,
            file_stem: "categories",
            columns: vec![
                Column::new(t::COL_CATEGORY, 16.0),
                Column::new(t::COL_ANSWERS, 10.0),
                Column::new(t::COL_CORRECT_ANSWERS, 10.0),
                Column::new(t::COL_CORRECT_RATE, 10.0),
            ],
            rows: self
                .categories
                .iter()
                .map(|c| {
                    vec![
                        Cell::text(&c.category),
                        Cell::Int(i64::from(c.answered)),
                        Cell::Int(i64::from(c.correct)),
                        Cell::percent(c.correct_rate),
                    ]
                })
                .collect(),
        }
    }

    fn trend_table(&self) -> Table {
        Table {
            sheet: t::SHEET_TREND,
            file_stem: "trend",
            columns: vec![
                Column::new(t::COL_ROUND, 8.0),
                Column::new(t::COL_ROUND_LABEL, 14.0),
                Column::new(t::COL_PARTICIPANTS, 10.0),
                Column::new(t::COL_AVERAGE, 10.0),
            ],
            rows: self
                .trend
                .iter()
                .map(|p| {
                    vec![
                        Cell::Int(p.round_id),
                        Cell::text(&p.label),
                        Cell::Int(i64::from(p.participants)),
                        Cell::decimal(p.average),
                    ]
                })
                .collect(),
        }
    }
}

/// Mean of the scores; `None` for none.
pub fn average(scores: &[u32]) -> Option<f64> {
    (!scores.is_empty())
        .then(|| scores.iter().map(|&s| f64::from(s)).sum::<f64>() / scores.len() as f64)
}

/// Share of scores at or above the pass mark; `None` for none.
pub fn pass_rate(scores: &[u32], pass_mark: u32) -> Option<f64> {
    let passed = scores.iter().filter(|&&s| s >= pass_mark).count() as u32;
    ratio(passed, scores.len() as u32)
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// Ordering for optional numbers where a missing value sorts last.
trait TotalCmpOpt {
    fn total_cmp_opt(&self, other: &Self) -> std::cmp::Ordering;
}

impl TotalCmpOpt for Option<f64> {
    fn total_cmp_opt(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Some(a), Some(b)) => a.total_cmp(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    }
}

/// The question and category rows of a round and its reliability.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionAnalysis {
    pub questions: Vec<QuestionRow>,
    pub categories: Vec<CategoryRow>,
    pub reliability: Option<f64>,
}

/// Analyses a round from its stored answers.
///
/// `answers` are `(user id, question id, correct)` for every question of every submitted
/// attempt; a question left unanswered when time ran out must come as `false`, as it was
/// scored. `bank` must include retired questions still referred to by answers; an id missing
/// from it is reported under the category [`t::UNKNOWN_CATEGORY`] rather than dropped.
pub fn analyse_round<I>(answers: I, bank: &[Question], thresholds: &Thresholds) -> QuestionAnalysis
where
    I: IntoIterator<Item = (i64, String, bool)>,
{
    let responses = Responses::from_answers(answers);
    let analysis = responses.analyse(thresholds);
    let by_id: HashMap<&str, &Question> = bank.iter().map(|q| (q.id.as_str(), q)).collect();
    let questions: Vec<QuestionRow> = responses
        .item_ids
        .iter()
        .zip(analysis.items)
        .map(|(id, stats)| {
            let question = by_id.get(id.as_str());
            QuestionRow {
                id: id.clone(),
                category: question
                    .map_or_else(|| t::UNKNOWN_CATEGORY.to_owned(), |q| q.category.clone()),
                kind: question.map_or(QuestionKind::Single, |q| q.kind),
                text: question.map_or_else(String::new, |q| q.text.clone()),
                answered: stats.answered as u32,
                correct: stats.correct as u32,
                facility: stats.facility,
                discrimination: stats.discrimination,
                flags: stats.flags,
            }
        })
        .collect();
    QuestionAnalysis {
        categories: category_rows(&questions),
        questions,
        reliability: analysis.reliability,
    }
}

/// Sums question rows per category, sorted by category name.
pub fn category_rows(questions: &[QuestionRow]) -> Vec<CategoryRow> {
    let mut totals: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for q in questions {
        let entry = totals.entry(&q.category).or_default();
        entry.0 += q.answered;
        entry.1 += q.correct;
    }
    totals
        .into_iter()
        .map(|(category, (answered, correct))| CategoryRow {
            category: category.to_owned(),
            answered,
            correct,
            correct_rate: ratio(correct, answered),
        })
        .collect()
}

/// One organisation's totals over every branch below it in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRollup {
    pub org_id: i64,
    /// 0 for the viewer's top organisation, 1 for its children, ...
    pub depth: usize,
    pub name: String,
    /// Names from the viewer's top down to this organisation.
    pub path: Vec<String>,
    pub totals: Totals,
}

/// One branch kind's totals in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct KindRollup {
    pub kind: String,
    pub totals: Totals,
}

/// Totals over a set of branches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub branches: u32,
    pub members: u32,
    pub participants: u32,
    /// Mean score over all participants (not a mean of branch means).
    pub average: Option<f64>,
    pub pass_rate: Option<f64>,
}

impl Totals {
    pub fn participation(&self) -> Option<f64> {
        (self.members > 0).then(|| f64::from(self.participants) / f64::from(self.members))
    }
}

/// The organisation path spread over `levels` columns; a deeper path keeps its last names in
/// the last column.
fn path_cells(path: &[String], levels: usize) -> Vec<Cell> {
    (0..levels)
        .map(|i| {
            if i + 1 == levels && path.len() > levels {
                Cell::text(path[i..].join(" / "))
            } else {
                path.get(i).map_or(Cell::Empty, Cell::text)
            }
        })
        .collect()
}

/// The columns [`totals_cells`] fills.
fn totals_columns() -> [Column; 6] {
    [
        Column::new(t::COL_BRANCH_COUNT, 8.0),
        Column::new(t::COL_MEMBERS, 8.0),
        Column::new(t::COL_PARTICIPANTS, 10.0),
        Column::new(t::COL_PARTICIPATION, 10.0),
        Column::new(t::COL_AVERAGE, 10.0),
        Column::new(t::COL_PASS_RATE, 10.0),
    ]
}

fn totals_cells(totals: &Totals) -> Vec<Cell> {
    vec![
        Cell::Int(i64::from(totals.branches)),
        Cell::Int(i64::from(totals.members)),
        Cell::Int(i64::from(totals.participants)),
        Cell::percent(totals.participation()),
        Cell::decimal(totals.average),
        Cell::percent(totals.pass_rate),
    ]
}

/// Compliance with the election and meeting rules at one date.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceReport {
    pub as_of: NaiveDate,
    /// The period the meeting counts cover.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Terms past their end (or approved delay) with no election recorded.
    pub overdue_elections: Vec<ElectionRow>,
    /// Terms ending soon, so the election steps can start in time.
    pub approaching_elections: Vec<ElectionRow>,
    /// Per branch and meeting type, only where at least one meeting was missed.
    pub missed_meetings: Vec<MeetingRow>,
}

/// A branch's election deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionRow {
    pub branch: String,
    pub kind: String,
    pub org_id: i64,
    /// The organisation's path, as `/overdue` groups by it.
    pub org: String,
    pub term_ends_on: NaiveDate,
    /// An approved delay replaces the term end as the deadline.
    pub delayed_to: Option<NaiveDate>,
    /// Days from the report date to the deadline; negative when overdue.
    pub days_left: i64,
}

impl ElectionRow {
    pub fn new(
        branch: impl Into<String>,
        kind: impl Into<String>,
        term_ends_on: NaiveDate,
        delayed_to: Option<NaiveDate>,
        as_of: NaiveDate,
    ) -> Self {
        let deadline = delayed_to.unwrap_or(term_ends_on);
        Self {
            branch: branch.into(),
            kind: kind.into(),
            org_id: crate::domain::org::ROOT,
            org: String::new(),
            term_ends_on,
            delayed_to,
            days_left: (deadline - as_of).num_days(),
        }
    }

    pub fn deadline(&self) -> NaiveDate {
        self.delayed_to.unwrap_or(self.term_ends_on)
    }
}

/// One branch's record for one kind of meeting over the report period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub branch: String,
    pub org_id: i64,
    pub org: String,
    /// The meeting's title as the plan shows it, e.g. 支部委员会会议.
    pub meeting: String,
    /// Occurrences whose period ended within the report period.
    pub scheduled: u32,
    pub held: u32,
    pub missed: u32,
}

impl ComplianceReport {
    /// Nothing overdue, nothing missed.
    pub fn is_clean(&self) -> bool {
        self.overdue_elections.is_empty() && self.missed_meetings.iter().all(|m| m.missed == 0)
    }

    /// The report as tables: 换届 (overdue and approaching) and 会议.
    pub fn tables(&self) -> Vec<Table> {
        let election_rows = self
            .overdue_elections
            .iter()
            .map(|row| (row, t::ELECTION_OVERDUE))
            .chain(
                self.approaching_elections
                    .iter()
                    .map(|row| (row, t::ELECTION_APPROACHING)),
            )
            .map(|(row, status)| {
                vec![
                    Cell::text(&row.org),
                    Cell::text(&row.branch),
                    Cell::text(&row.kind),
                    Cell::Date(row.term_ends_on),
                    row.delayed_to.map_or(Cell::Empty, Cell::Date),
                    Cell::text(status),
                    Cell::Int(row.days_left),
                ]
            })
            .collect();
        vec![
            Table {
                sheet: t::SHEET_ELECTIONS,
                file_stem: "elections",
                columns: vec![
                    Column::new(t::COL_ORG, 28.0),
                    Column::new(t::COL_BRANCH, 28.0),
                    Column::new(t::COL_BRANCH_KIND, 8.0),
                    Column::new(t::COL_TERM_ENDS, 12.0),
                    Column::new(t::COL_DELAYED_TO, 12.0),
                    Column::new(t::COL_STATUS, 10.0),
                    Column::new(t::COL_DAYS_LEFT, 12.0),
                ],
                rows: election_rows,
            },
            Table {
                sheet: t::SHEET_MEETINGS,
                file_stem: "meetings",
                columns: vec![
                    Column::new(t::COL_ORG, 28.0),
                    Column::new(t::COL_BRANCH, 28.0),
                    Column::new(t::COL_MEETING, 16.0),
                    Column::new(t::COL_SCHEDULED, 8.0),
                    Column::new(t::COL_HELD, 8.0),
                    Column::new(t::COL_MISSED, 8.0),
                ],
                rows: self
                    .missed_meetings
                    .iter()
                    .map(|m| {
                        vec![
                            Cell::text(&m.org),
                            Cell::text(&m.branch),
                            Cell::text(&m.meeting),
                            Cell::Int(i64::from(m.scheduled)),
                            Cell::Int(i64::from(m.held)),
                            Cell::Int(i64::from(m.missed)),
                        ]
                    })
                    .collect(),
            },
        ]
    }
}

/// A table as both Excel and CSV render it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Excel sheet name (Chinese, at most 31 characters).
    pub sheet: &'static str,
    /// ASCII part of the CSV file name, safe on every file system and in every client.
    pub file_stem: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: &'static str,
    /// Excel column width in characters (a Chinese character counts about two).
    pub width: f64,
    /// Long text (question wording) wraps instead of running into the next cell.
    pub wrap: bool,
}

impl Column {
    pub fn new(header: &'static str, width: f64) -> Self {
        Self {
            header,
            width,
            wrap: false,
        }
    }

    pub fn wrapped(mut self) -> Self {
        self.wrap = true;
        self
    }
}

/// A typed value, so each rendering can format it natively (Excel number formats, CSV text).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A score or average, shown with one decimal.
    Decimal(f64),
    /// A fraction shown as a percentage (0.5 → 50.0%).
    Percent(f64),
    /// A correlation or reliability coefficient, shown with three decimals.
    Coefficient(f64),
    DateTime(NaiveDateTime),
    Date(NaiveDate),
    /// A duration in seconds.
    Duration(i64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn decimal(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Decimal)
    }

    pub fn percent(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Percent)
    }

    pub fn coefficient(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Coefficient)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("valid date")
    }

    /// A small round used by every rendering's tests.
    pub(crate) fn sample_report() -> RoundReport {
        let pass_mark = 60;
        RoundReport {
            orgs: Vec::new(),
            kinds: Vec::new(),
            round_id: 12,
            opens_at: at(1, 9),
            closes_at: at(8, 9),
            closed: true,
            pass_mark,
            branches: vec![
                BranchRow::from_scores(1, "城东社区党支部", "社区", 4, &[90, 70, 55], pass_mark),
                BranchRow::from_scores(2, "第一中学党支部", "学校", 3, &[50], pass_mark),
                BranchRow::from_scores(3, "人民医院党支部", "医院", 2, &[], pass_mark),
            ],
            trainees: vec![
                trainee("城东社区党支部", "张三", 90, 18),
                trainee("城东社区党支部", "李四", 70, 14),
                trainee("城东社区党支部", "=王五", 55, 11),
                trainee("第一中学党支部", "赵六", 50, 10),
            ],
            non_participants: vec![
                NonParticipantRow {
                    branch_id: 1,
                    branch: "城东社区党支部".to_owned(),
                    name: "钱七".to_owned(),
                },
                NonParticipantRow {
                    branch_id: 3,
                    branch: "人民医院党支部".to_owned(),
                    name: "孙八".to_owned(),
                },
            ],
            never_joined: Vec::new(),
            questions: vec![
                QuestionRow {
                    id: "hj-001".to_owned(),
                    category: "换届选举".to_owned(),
                    kind: QuestionKind::Single,
                    text: "党的基层委员会每届任期几年？".to_owned(),
                    answered: 40,
                    correct: 6,
                    facility: Some(0.15),
                    discrimination: Some(-0.05),
                    flags: vec![ItemFlag::TooHard, ItemFlag::Misleading],
                },
                QuestionRow {
                    id: "zz-002".to_owned(),
                    category: "组织生活".to_owned(),
                    kind: QuestionKind::TrueFalse,
                    text: "支部委员会会议一般每月召开一次。".to_owned(),
                    answered: 3,
                    correct: 3,
                    facility: Some(1.0),
                    discrimination: None,
                    flags: vec![],
                },
            ],
            categories: vec![
                CategoryRow {
                    category: "换届选举".to_owned(),
                    answered: 40,
                    correct: 6,
                    correct_rate: Some(0.15),
                },
                CategoryRow {
                    category: "组织生活".to_owned(),
                    answered: 3,
                    correct: 3,
                    correct_rate: Some(1.0),
                },
            ],
            reliability: None,
            trend: vec![
                TrendPoint {
                    round_id: 10,
                    label: "第10期".to_owned(),
                    participants: 5,
                    average: Some(61.0),
                },
                TrendPoint {
                    round_id: 11,
                    label: "第11期".to_owned(),
                    participants: 0,
                    average: None,
                },
                TrendPoint {
                    round_id: 12,
                    label: "第12期".to_owned(),
                    participants: 4,
                    average: Some(66.25),
                },
            ],
        }
    }

    fn trainee(branch: &str, name: &str, score: u32, correct: u32) -> TraineeRow {
        TraineeRow {
            branch: branch.to_owned(),
            name: name.to_owned(),
            score,
            correct,
            total: 20,
            outcome: if score < 55 {
                AttemptOutcome::TimedOut
            } else {
                AttemptOutcome::Finished
            },
            finished_at: Some(at(2, 10)),
            seconds_taken: Some(754),
        }
    }

    pub(crate) fn sample_compliance() -> ComplianceReport {
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 15).expect("valid date");
        let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("valid date");
        ComplianceReport {
            as_of,
            period_start: date(1, 1),
            period_end: date(3, 31),
            overdue_elections: vec![ElectionRow::new(
                "第一中学党支部",
                "学校",
                date(1, 10),
                None,
                as_of,
            )],
            approaching_elections: vec![ElectionRow::new(
                "城东社区党支部",
                "社区",
                date(3, 1),
                Some(date(5, 1)),
                as_of,
            )],
            missed_meetings: vec![
                MeetingRow {
                    org_id: 1,
                    org: String::new(),
                    branch: "第一中学党支部".to_owned(),
                    meeting: "支部委员会会议".to_owned(),
                    scheduled: 3,
                    held: 1,
                    missed: 2,
                },
                MeetingRow {
                    org_id: 1,
                    org: String::new(),
                    branch: "第一中学党支部".to_owned(),
                    meeting: "党小组会".to_owned(),
                    scheduled: 3,
                    held: 2,
                    missed: 1,
                },
                MeetingRow {
                    org_id: 1,
                    org: String::new(),
                    branch: "人民医院党支部".to_owned(),
                    meeting: "主题党日".to_owned(),
                    scheduled: 3,
                    held: 2,
                    missed: 1,
                },
            ],
        }
    }

    #[test]
    fn branch_rows_compute_average_and_pass_rate() {
        let row = BranchRow::from_scores(1, "a", "社区", 4, &[90, 70, 55], 60);
        assert_eq!(row.participants, 3);
        assert!((row.average.unwrap_or(0.0) - 215.0 / 3.0).abs() < 1e-9);
        assert_eq!(row.pass_rate, Some(2.0 / 3.0));
        assert_eq!(row.participation(), Some(0.75));
        let empty = BranchRow::from_scores(2, "b", "学校", 0, &[], 60);
        assert_eq!(
            (empty.average, empty.pass_rate, empty.participation()),
            (None, None, None)
        );
    }

    #[test]
    fn overall_and_rankings() {
        let report = sample_report();
        let overall = report.overall();
        assert_eq!((overall.members, overall.participants), (9, 4));
        assert_eq!(overall.average, Some(66.25));
        assert_eq!(overall.pass_rate, Some(0.5));
        let lowest: Vec<i64> = report.lowest_branches(5).iter().map(|b| b.id).collect();
        assert_eq!(lowest, vec![2, 1]);
        assert_eq!(report.weakest_categories(1)[0].category, "换届选举");
        assert_eq!(report.weakest_questions(1)[0].id, "hj-001");
        assert_eq!(report.flagged_questions().len(), 1);
        assert_eq!(report.lowest_scores(2)[0].name, "赵六");
        assert_eq!(report.branch(3).map(|b| b.members), Some(2));
        assert!(!report.is_empty());
    }

    #[test]
    fn round_analysis_from_stored_answers() {
        let question = |id: &str, category: &str| Question {
            id: id.to_owned(),
            kind: QuestionKind::Single,
            category: category.to_owned(),
            text: format!("{id}?"),
            options: vec!["a".to_owned(), "b".to_owned()],
            answer: vec![0],
            explanation: String::new(),
            source: String::new(),
        };
        let bank = vec![
            question("q1", "甲"),
            question("q2", "甲"),
            question("q3", "乙"),
        ];
        let answers = vec![
            (1, "q1".to_owned(), true),
            (1, "q3".to_owned(), false),
            (2, "q1".to_owned(), false),
            (2, "q2".to_owned(), true),
            (2, "gone".to_owned(), true),
        ];
        let analysis = analyse_round(answers, &bank, &Thresholds::default());
        let ids: Vec<&str> = analysis.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, vec!["gone", "q1", "q2", "q3"]);
        assert_eq!(analysis.questions[0].category, t::UNKNOWN_CATEGORY);
        assert_eq!(analysis.questions[1].facility, Some(0.5));
        let categories: Vec<(&str, u32, u32)> = analysis
            .categories
            .iter()
            .map(|c| (c.category.as_str(), c.answered, c.correct))
            .collect();
        assert_eq!(
            categories,
            vec![("乙", 1, 0), ("甲", 3, 2), (t::UNKNOWN_CATEGORY, 1, 1)]
        );
    }

    #[test]
    fn election_rows_count_days_to_the_effective_deadline() {
        let report = sample_compliance();
        assert_eq!(report.overdue_elections[0].days_left, -64);
        assert_eq!(report.approaching_elections[0].days_left, 47);
        assert!(!report.is_clean());
    }

    #[test]
    fn tables_have_a_cell_per_column() {
        for table in sample_report()
            .tables()
            .into_iter()
            .chain(sample_compliance().tables())
        {
            for row in &table.rows {
                assert_eq!(row.len(), table.columns.len(), "{}", table.sheet);
            }
            assert!(table.sheet.chars().count() <= 31);
        }
    }
}
