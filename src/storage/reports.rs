//! The data behind the reports, aggregated in SQL.
//!
//! A round's report is read inside one read transaction, so the branch table, the trainee list
//! and the question analysis agree even while trainees are still submitting. Branch results,
//! the trend and compliance are aggregated by SQLite (`GROUP BY`, correlated counts on covering
//! indexes, migration 0004). The question analysis needs the per-trainee answer matrix anyway
//! (discrimination, KR-20), so it comes from one ordered query folded in one pass, and the
//! per-question and per-category counts fall out of that same pass. With 50,000 trainees and a
//! million answers the whole report is read in under a second (BENCHMARKS.md).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use futures::TryStreamExt;

use crate::domain::roster::TestScope;
use crate::domain::stats::{self, Thresholds};
use crate::error::AppResult;
use crate::questions::model::QuestionKind;
use crate::reports::model::{
    category_rows, AttemptOutcome, BranchRow, ComplianceReport, ElectionRow, MeetingRow,
    NonParticipantRow, QuestionRow, RoundReport, TraineeRow, TrendPoint,
};
use crate::storage::roster::{self, Participation};
use crate::storage::{summaries, Db};

/// How a report is made; the same for the chat and the command line.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Score out of 100 needed to pass (configuration).
    pub pass_mark: u32,
    /// Times in the report are local times of this zone.
    pub timezone: Tz,
    /// How many rounds the trend shows, this one included.
    pub trend_rounds: u32,
    /// When a question is flagged.
    pub thresholds: Thresholds,
    /// The trend's axis label for a round; wording belongs to the texts, not to storage.
    pub round_label: fn(i64) -> String,
    /// Who on a roster is due for the test when their 参加业务测试 is empty (configuration).
    pub roster_scope: TestScope,
}

/// A round as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundInfo {
    pub id: i64,
    pub opens_at: i64,
    /// When it closed (a round closed by hand closes early), or is to close.
    pub closes_at: i64,
    pub closed: bool,
}

/// The round a report is about: the one asked for, or by default the latest closed round, or
/// when none has closed yet the open one. `None` when there is no such round.
pub async fn pick_round(db: &Db, requested: Option<i64>) -> AppResult<Option<RoundInfo>> {
    let row = match requested {
        Some(id) => sqlx::query_as!(
            RoundInfo,
            r#"SELECT id AS "id!", opens_at, COALESCE(closed_at, closes_at) AS "closes_at!: i64",
                      status = 'closed' AS "closed!: bool"
               FROM rounds WHERE id = ?"#,
            id
        )
        .fetch_optional(db)
        .await?,
        None => sqlx::query_as!(
            RoundInfo,
            r#"SELECT id AS "id!", opens_at, COALESCE(closed_at, closes_at) AS "closes_at!: i64",
                      status = 'closed' AS "closed!: bool"
               FROM rounds
               ORDER BY status = 'closed' DESC, opens_at DESC LIMIT 1"#
        )
        .fetch_optional(db)
        .await?,
    };
    Ok(row)
}

/// The full report of a round: every branch, every trainee, the question analysis, the trend.
///
/// `only` limits everything to those branches (an administrator's subtree); `None` reads all.
/// The branch list travels as one JSON array, which SQLite reads with `json_each`: the round's
/// attempts are then looked up by (round, branch) on the index, so a small subtree never reads
/// the rest of the round.
pub async fn round_report(
    db: &Db,
    round: &RoundInfo,
    options: &ReportOptions,
    only: Option<&[i64]>,
) -> AppResult<RoundReport> {
    let only = only.map(branch_list);
    let only = only.as_deref();
    let mut tx = db.begin().await?;
    // A closed round's summary stands in for its answers (see `storage::summaries`).
    let summary = match round.closed {
        true => summaries::fresh(&mut tx, round.id, options.pass_mark).await?,
        false => None,
    };
    let branches = match &summary {
        Some(_) => summaries::branch_counts(&mut tx, round.id, only)
            .await?
            .into_iter()
            .map(BranchCounts::into_row)
            .collect(),
        None => branch_rows(&mut tx, round.id, only, options).await?,
    };
    let trainees = trainee_rows(&mut tx, round.id, only, options.timezone).await?;
    let (non_participants, never_joined) =
        who_did_not_take_part(&mut tx, round.id, only, &branches, options).await?;
    // The summary's analysis is of the whole round; a subtree's is its own answers (few).
    let (questions, reliability) = match (summary, only) {
        (Some(summary), None) => (summary.questions, summary.reliability),
        _ => question_rows(&mut tx, round.id, only, &options.thresholds).await?,
    };
    let trend = trend_points(&mut tx, round.id, only, options).await?;
    tx.commit().await?;
    Ok(RoundReport {
        round_id: round.id,
        opens_at: local(round.opens_at, options.timezone),
        closes_at: local(round.closes_at, options.timezone),
        closed: round.closed,
        pass_mark: options.pass_mark,
        branches,
        trainees,
        non_participants,
        never_joined,
        orgs: Vec::new(),
        kinds: Vec::new(),
        categories: category_rows(&questions),
        questions,
        reliability,
        trend,
    })
}

/// A branch's view of a round: only that branch's row, so no personal data is even read.
/// Cheap enough for anyone in a group to ask as often as they like.
pub async fn branch_report(
    db: &Db,
    round: &RoundInfo,
    branch_id: i64,
    options: &ReportOptions,
) -> AppResult<RoundReport> {
    let mut conn = db.acquire().await?;
    let only = branch_list(&[branch_id]);
    let branches = branch_rows(&mut conn, round.id, Some(&only), options).await?;
    Ok(RoundReport {
        round_id: round.id,
        opens_at: local(round.opens_at, options.timezone),
        closes_at: local(round.closes_at, options.timezone),
        closed: round.closed,
        pass_mark: options.pass_mark,
        branches,
        trainees: Vec::new(),
        non_participants: Vec::new(),
        never_joined: Vec::new(),
        orgs: Vec::new(),
        kinds: Vec::new(),
        questions: Vec::new(),
        categories: Vec::new(),
        reliability: None,
        trend: Vec::new(),
    })
}

/// Whether anyone submitted an attempt in the round, without reading the report.
pub async fn has_submissions(db: &Db, round_id: i64) -> AppResult<bool> {
    let found = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM attempts
             WHERE round_id = ? AND status IN ('finished', 'timed_out')) AS "found!: bool""#,
        round_id
    )
    .fetch_one(db)
    .await?;
    Ok(found)
}

/// A branch's counts in a round, live or from the round's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchCounts {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub org_id: i64,
    pub members: i64,
    pub participants: i64,
    pub scored: i64,
    pub score_sum: i64,
    pub passed: i64,
    pub by_roster: bool,
}

impl BranchCounts {
    pub(crate) fn into_row(self) -> BranchRow {
        let scored = count(self.scored);
        let n = f64::from(scored);
        BranchRow {
            id: self.id,
            name: self.name,
            kind: self.kind,
            org_id: self.org_id,
            org_path: Vec::new(),
            members: count(self.members),
            participants: count(self.participants),
            scored,
            by_roster: self.by_roster,
            average: (scored > 0).then(|| self.score_sum as f64 / n),
            pass_rate: (scored > 0).then(|| f64::from(count(self.passed)) / n),
        }
    }

    /// Counts a roster branch against its roster: 应参加 its people due for the test, 实参加
    /// those of them who submitted.
    pub(crate) fn count_by_roster(&mut self, part: &Participation) {
        if part.has_roster {
            self.members = part.due as i64;
            self.participants = part.took as i64;
            self.by_roster = true;
        }
    }
}

/// Live branch counts with their rosters applied; what the report and the summary show.
pub(crate) async fn counted_branches(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    options: &ReportOptions,
) -> AppResult<Vec<BranchCounts>> {
    let mut counts = branch_counts(conn, round_id, only, options.pass_mark).await?;
    let ids: Vec<i64> = counts.iter().map(|c| c.id).collect();
    let parts = roster::participation_in(conn, round_id, &ids, options.roster_scope).await?;
    for (count, part) in counts.iter_mut().zip(&parts) {
        count.count_by_roster(part);
    }
    Ok(counts)
}

async fn branch_rows(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    options: &ReportOptions,
) -> AppResult<Vec<BranchRow>> {
    Ok(counted_branches(conn, round_id, only, options)
        .await?
        .into_iter()
        .map(BranchCounts::into_row)
        .collect())
}

/// One row per active branch (or only `only`) with the results of the round. Members are those
/// of now, plus whoever finished the round for the branch and has moved since, minus whoever
/// moved in after finishing it for another branch: everyone counts once, where they took part,
/// so a branch never shows more participants than members (the round results in the groups
/// count the same way).
pub(crate) async fn branch_counts(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    pass_mark: u32,
) -> AppResult<Vec<BranchCounts>> {
    let pass_mark = i64::from(pass_mark);
    Ok(sqlx::query_as!(
        BranchCounts,
        r#"SELECT b.id AS "id!", b.name, b.kind, b.org_id,
                  (SELECT COUNT(*) FROM (
                       SELECT m.user_id FROM members m
                       WHERE m.branch_id = b.id
                         AND NOT EXISTS (SELECT 1 FROM attempts x
                                         WHERE x.round_id = ?2 AND x.user_id = m.user_id
                                           AND x.status IN ('finished', 'timed_out')
                                           AND x.branch_id IS NOT b.id)
                       UNION
                       SELECT x.user_id FROM attempts x
                       WHERE x.round_id = ?2 AND x.branch_id = b.id
                         AND x.status IN ('finished', 'timed_out')
                  )) AS "members!: i64",
                  COUNT(a.id) AS "participants!: i64",
                  COUNT(a.id) AS "scored!: i64",
                  COALESCE(SUM(a.score), 0) AS "score_sum!: i64",
                  COALESCE(SUM(a.score >= ?1), 0) AS "passed!: i64",
                  FALSE AS "by_roster!: bool"
           FROM branches b
           LEFT JOIN attempts a
             ON a.branch_id = b.id AND a.round_id = ?2 AND a.status IN ('finished', 'timed_out')
           WHERE b.active = 1 AND (?3 IS NULL OR b.id IN (SELECT value FROM json_each(?3)))
           GROUP BY b.id
           ORDER BY b.name, b.id"#,
        pass_mark,
        round_id,
        only
    )
    .fetch_all(&mut *conn)
    .await?)
}

async fn trainee_rows(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    tz: Tz,
) -> AppResult<Vec<TraineeRow>> {
    let rows = sqlx::query!(
        r#"SELECT COALESCE(b.name, '') AS "branch!: String", u.full_name AS name,
                  COALESCE(a.score, 0) AS "score!: i64",
                  COALESCE(a.correct_count, 0) AS "correct!: i64",
                  a.question_count AS total, a.status, a.started_at, a.finished_at
           FROM attempts a
           JOIN users u ON u.id = a.user_id
           LEFT JOIN branches b ON b.id = a.branch_id
           WHERE a.round_id = ? AND a.status IN ('finished', 'timed_out')
             AND (?2 IS NULL OR a.branch_id IN (SELECT value FROM json_each(?2)))
           ORDER BY b.name, u.full_name, a.id"#,
        round_id,
        only
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TraineeRow {
            branch: r.branch,
            name: r.name,
            score: count(r.score),
            correct: count(r.correct),
            total: count(r.total),
            outcome: if r.status == "timed_out" {
                AttemptOutcome::TimedOut
            } else {
                AttemptOutcome::Finished
            },
            finished_at: r.finished_at.map(|at| local(at, tz)),
            seconds_taken: r.finished_at.map(|at| (at - r.started_at).max(0)),
        })
        .collect())
}

/// Who was due and did not take part, and (roster branches only) who never joined: a roster
/// branch lists its roster's names, another branch its joined members without an attempt.
async fn who_did_not_take_part(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    branches: &[BranchRow],
    options: &ReportOptions,
) -> AppResult<(Vec<NonParticipantRow>, Vec<NonParticipantRow>)> {
    let ids: Vec<i64> = branches.iter().map(|b| b.id).collect();
    let parts = roster::participation_in(conn, round_id, &ids, options.roster_scope).await?;
    let by_roster: HashMap<i64, (&str, &Participation)> = branches
        .iter()
        .zip(&parts)
        .filter(|(_, p)| p.has_roster)
        .map(|(b, p)| (b.id, (b.name.as_str(), p)))
        .collect();
    let mut absent: Vec<NonParticipantRow> = non_participant_rows(conn, round_id, only)
        .await?
        .into_iter()
        .filter(|row| !by_roster.contains_key(&row.branch_id))
        .collect();
    let mut never = Vec::new();
    for (name, part) in by_roster.values() {
        let row = |person: &String| NonParticipantRow {
            branch_id: part.branch_id,
            branch: (*name).to_owned(),
            name: person.clone(),
        };
        absent.extend(part.not_taken.iter().map(row));
        never.extend(part.never_joined.iter().map(row));
    }
    absent
        .sort_by(|a, b| (&a.branch, a.branch_id, &a.name).cmp(&(&b.branch, b.branch_id, &b.name)));
    never.sort_by(|a, b| (&a.branch, a.branch_id, &a.name).cmp(&(&b.branch, b.branch_id, &b.name)));
    Ok((absent, never))
}

/// Members of active branches who did not submit an attempt in the round.
async fn non_participant_rows(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
) -> AppResult<Vec<NonParticipantRow>> {
    let rows = sqlx::query_as!(
        NonParticipantRow,
        r#"SELECT b.id AS "branch_id!", b.name AS branch, u.full_name AS name
           FROM members m
           JOIN branches b ON b.id = m.branch_id AND b.active = 1
           JOIN users u ON u.id = m.user_id
           WHERE NOT EXISTS (SELECT 1 FROM attempts a
                             WHERE a.round_id = ? AND a.user_id = m.user_id
                               AND a.status IN ('finished', 'timed_out'))
             AND (?2 IS NULL OR m.branch_id IN (SELECT value FROM json_each(?2)))
           ORDER BY b.name, u.full_name, m.user_id"#,
        round_id,
        only
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// The question analysis of one round, as the report shows it; for `/bank`'s list of
/// questions to rewrite.
pub async fn question_analysis(
    db: &Db,
    round_id: i64,
    thresholds: &Thresholds,
) -> AppResult<Vec<QuestionRow>> {
    let mut conn = db.acquire().await?;
    let (rows, _) = question_rows(&mut conn, round_id, None, thresholds).await?;
    Ok(rows)
}

/// The whole round's question analysis and KR-20, for its summary.
pub(crate) async fn question_analysis_in(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    thresholds: &Thresholds,
) -> AppResult<(Vec<QuestionRow>, Option<f64>)> {
    question_rows(conn, round_id, None, thresholds).await
}

/// Per question: counts, facility, discrimination and flags; and the round's KR-20.
///
/// All of it comes from one ordered scan of the round's answers, folded into the per-trainee
/// matrix that discrimination and KR-20 need; the counts fall out of the same pass. (A separate
/// `GROUP BY question_id` costs SQLite a temporary B-tree over every answer: two seconds for a
/// million answers, against nothing extra here.) Question wording and category come from the
/// bank, retired questions included; an id missing from it is reported, not dropped.
async fn question_rows(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    thresholds: &Thresholds,
) -> AppResult<(Vec<QuestionRow>, Option<f64>)> {
    let answers = fold_answers(conn, round_id, only).await?;
    let analysis = stats::analyse(&answers.matrix, answers.ids.len(), thresholds);
    let bank = sqlx::query!(r#"SELECT id AS "id!", category, kind, text FROM questions"#)
        .fetch_all(&mut *conn)
        .await?;
    let mut wording: HashMap<String, (String, Option<QuestionKind>, String)> = bank
        .into_iter()
        .map(|q| {
            let kind = QuestionKind::from_label(&q.kind);
            (q.id, (q.category, kind, q.text))
        })
        .collect();
    // The round's attempts kept a copy of each question as drawn: the report shows that.
    // Rounds from before copies were kept have none, and then none is looked for.
    if round_has_copies(&mut *conn, round_id).await? {
        for id in &answers.ids {
            if let Some(copy) = round_copy(&mut *conn, round_id, id).await? {
                wording.insert(id.clone(), (copy.category, Some(copy.kind), copy.text));
            }
        }
    }
    let mut rows: Vec<QuestionRow> = answers
        .ids
        .iter()
        .zip(answers.counts)
        .zip(analysis.items)
        .map(|((id, (answered, correct)), item)| {
            let question = wording.get(id.as_str());
            QuestionRow {
                id: id.clone(),
                category: question.map_or_else(
                    || crate::texts::reports::UNKNOWN_CATEGORY.to_owned(),
                    |q| q.0.clone(),
                ),
                kind: question.and_then(|q| q.1).unwrap_or(QuestionKind::Single),
                text: question.map(|q| q.2.clone()).unwrap_or_default(),
                answered,
                correct,
                facility: (answered > 0).then(|| f64::from(correct) / f64::from(answered)),
                discrimination: item.discrimination,
                flags: item.flags,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((rows, analysis.reliability))
}

/// Whether the round's newest attempt kept copies of its questions (every attempt since
/// migration 0040 does), so a round from before is not searched for copies it cannot have.
async fn round_has_copies(conn: &mut sqlx::SqliteConnection, round_id: i64) -> AppResult<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM attempt_questions aq
             WHERE aq.attempt_id = (SELECT MAX(id) FROM attempts WHERE round_id = ?)
               AND aq.question_copy IS NOT NULL) AS "found!: bool""#,
        round_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The copy of question `id` an attempt of the round drew. Walks the round's attempts (the
/// `CROSS JOIN` keeps that order: SQLite would otherwise walk every round's answers to the
/// question) and looks each up on (attempt, question), so it stops after about as many
/// attempts as it takes for one to have drawn the question.
async fn round_copy(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    id: &str,
) -> AppResult<Option<crate::questions::model::Question>> {
    let copy = sqlx::query_scalar!(
        r#"SELECT aq.question_copy AS "copy!" FROM attempts a
           CROSS JOIN attempt_questions aq ON aq.attempt_id = a.id AND aq.question_id = ?2
           WHERE a.round_id = ?1 AND aq.question_copy IS NOT NULL
           LIMIT 1"#,
        round_id,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(copy.and_then(|c| serde_json::from_str(&c).ok()))
}

/// A round's answers as a response matrix, with the question of each column and its counts.
struct FoldedAnswers {
    /// Question id of each column, in the order first seen.
    ids: Vec<String>,
    /// (answered, correct) per column.
    counts: Vec<(u32, u32)>,
    /// One row per submitted attempt. Rows are as wide as the columns known when they ended;
    /// `stats::analyse` reads missing cells as questions not drawn.
    matrix: Vec<Vec<Option<bool>>>,
}

/// Reads the answers of every submitted attempt in one ordered query and folds them in one
/// pass. SQLite packs each attempt's answers into one string (`group_concat`), so a million
/// answers cross from SQLite's thread in 50,000 rows rather than a million: sqlx hands rows
/// over one at a time, and that hand-over, not the query, was the cost (BENCHMARKS.md). Each
/// item is the right/wrong digit followed by the question id; items are separated by the
/// ASCII record separator, which a question id (letters, digits, `-`, `_`, `.`) never holds.
/// An answer left blank when time ran out counts as wrong, as it was scored.
async fn fold_answers(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
) -> AppResult<FoldedAnswers> {
    let mut folded = FoldedAnswers {
        ids: Vec::new(),
        counts: Vec::new(),
        matrix: Vec::new(),
    };
    let mut column: HashMap<String, usize> = HashMap::new();
    // The order matches the index on (round_id, branch_id), so SQLite streams without sorting.
    let mut rows = sqlx::query_scalar!(
        r#"SELECT (SELECT group_concat((COALESCE(aq.is_correct, 0) != 0) || aq.question_id, char(30))
                   FROM attempt_questions aq WHERE aq.attempt_id = a.id) AS "answers?: String"
           FROM attempts a
           WHERE a.round_id = ? AND a.status IN ('finished', 'timed_out')
             AND (?2 IS NULL OR a.branch_id IN (SELECT value FROM json_each(?2)))
           ORDER BY a.branch_id, a.id"#,
        round_id,
        only
    )
    .fetch(&mut *conn);
    while let Some(answers) = rows.try_next().await? {
        let mut cells = vec![None; folded.ids.len()];
        for item in answers.as_deref().unwrap_or_default().split('\u{1e}') {
            let (right, id) = match item.split_at_checked(1) {
                Some(("1", id)) => (true, id),
                Some(("0", id)) => (false, id),
                _ => continue,
            };
            let index = match column.get(id) {
                Some(&index) => index,
                None => {
                    let index = folded.ids.len();
                    column.insert(id.to_owned(), index);
                    folded.ids.push(id.to_owned());
                    folded.counts.push((0, 0));
                    index
                }
            };
            let counts = &mut folded.counts[index];
            counts.0 += 1;
            counts.1 += u32::from(right);
            if cells.len() <= index {
                cells.resize(index + 1, None);
            }
            cells[index] = Some(right);
        }
        folded.matrix.push(cells);
    }
    Ok(folded)
}

/// The last `trend_rounds` rounds up to this one, oldest first.
async fn trend_points(
    conn: &mut sqlx::SqliteConnection,
    round_id: i64,
    only: Option<&str>,
    options: &ReportOptions,
) -> AppResult<Vec<TrendPoint>> {
    let limit = i64::from(options.trend_rounds.max(1));
    let mut ids = sqlx::query_scalar!(
        r#"SELECT id AS "id!" FROM rounds WHERE id <= ? ORDER BY id DESC LIMIT ?"#,
        round_id,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    ids.reverse();
    // Summarised rounds come from their summaries; the others (the open one, old ones) live.
    let mut totals: HashMap<i64, (i64, Option<f64>)> = HashMap::new();
    for (id, participants, score_sum) in
        crate::storage::summaries::trend_totals(conn, &branch_list(&ids), only).await?
    {
        let average = (participants > 0).then(|| score_sum as f64 / participants as f64);
        totals.insert(id, (participants, average));
    }
    let live: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !totals.contains_key(id))
        .collect();
    if !live.is_empty() {
        let live = branch_list(&live);
        let rows = sqlx::query!(
            r#"SELECT r.id AS "id!",
                      (SELECT COUNT(*) FROM attempts a
                        WHERE a.round_id = r.id AND a.status IN ('finished', 'timed_out')
                          AND (?2 IS NULL OR a.branch_id IN (SELECT value FROM json_each(?2)))) AS "participants!: i64",
                      (SELECT AVG(a.score) FROM attempts a
                        WHERE a.round_id = r.id AND a.status IN ('finished', 'timed_out')
                          AND (?2 IS NULL OR a.branch_id IN (SELECT value FROM json_each(?2)))) AS "average?: f64"
               FROM rounds r
               WHERE r.id IN (SELECT value FROM json_each(?1))"#,
            live,
            only
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            totals.insert(r.id, (r.participants, r.average));
        }
    }
    Ok(ids
        .into_iter()
        .map(|id| {
            let (participants, average) = totals.get(&id).copied().unwrap_or((0, None));
            TrendPoint {
                round_id: id,
                label: (options.round_label)(id),
                participants: count(participants),
                average,
            }
        })
        .collect())
}

/// Elections overdue and approaching at `as_of`, and meetings missed in the `period_days`
/// before it, by branch and meeting type. Only active branches count.
pub async fn compliance_report(
    db: &Db,
    as_of: NaiveDate,
    period_days: u32,
    approaching_days: u32,
    tz: Tz,
    only: Option<&[i64]>,
) -> AppResult<ComplianceReport> {
    let only = only.map(branch_list);
    let period_start = as_of - Duration::days(i64::from(period_days));
    let horizon = as_of + Duration::days(i64::from(approaching_days));
    let mut tx = db.begin().await?;

    let today = as_of.format("%Y-%m-%d").to_string();
    let until = horizon.format("%Y-%m-%d").to_string();
    let terms = sqlx::query!(
        r#"SELECT b.name, b.kind, b.org_id, t.ends_on, t.delayed_to
           FROM terms t
           JOIN branches b ON b.id = t.branch_id AND b.active = 1
           WHERE t.closed_on IS NULL AND COALESCE(t.delayed_to, t.ends_on) <= ?
             AND (?2 IS NULL OR b.id IN (SELECT value FROM json_each(?2)))
           ORDER BY COALESCE(t.delayed_to, t.ends_on), b.name, b.id"#,
        until,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut overdue = Vec::new();
    let mut approaching = Vec::new();
    for term in terms {
        // Dates were validated when stored; a row that does not parse is left out, not fatal.
        let Ok(ends_on) = NaiveDate::parse_from_str(&term.ends_on, "%Y-%m-%d") else {
            continue;
        };
        let delayed_to = term
            .delayed_to
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let mut row = ElectionRow::new(term.name, term.kind, ends_on, delayed_to, as_of);
        row.org_id = term.org_id;
        if row.deadline().format("%Y-%m-%d").to_string() < today {
            overdue.push(row);
        } else {
            approaching.push(row);
        }
    }

    // The period covers whole local days: from the start day's midnight to the end of as_of.
    let from = local_midnight(tz, period_start);
    let to = local_midnight(tz, as_of + Duration::days(1));
    let meetings = sqlx::query!(
        r#"SELECT b.name AS branch, b.org_id, p.title AS meeting,
                  COUNT(*) AS "scheduled!: i64",
                  COALESCE(SUM(o.status = 'held'), 0) AS "held!: i64",
                  COALESCE(SUM(o.status = 'missed'), 0) AS "missed!: i64"
           FROM meeting_occurrences o
           JOIN meeting_plans p ON p.id = o.plan_id
           JOIN branches b ON b.id = o.branch_id AND b.active = 1
           WHERE o.scheduled_at >= ? AND o.scheduled_at < ?
             AND (?3 IS NULL OR b.id IN (SELECT value FROM json_each(?3)))
           GROUP BY o.branch_id, p.title
           HAVING SUM(o.status = 'missed') > 0
           ORDER BY b.name, o.branch_id, p.title"#,
        from,
        to,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ComplianceReport {
        as_of,
        period_start,
        period_end: as_of,
        overdue_elections: overdue,
        approaching_elections: approaching,
        missed_meetings: meetings
            .into_iter()
            .map(|m| MeetingRow {
                branch: m.branch,
                org_id: m.org_id,
                org: String::new(),
                meeting: m.meeting,
                scheduled: count(m.scheduled),
                held: count(m.held),
                missed: count(m.missed),
            })
            .collect(),
    })
}

/// Branch ids as the JSON array the queries read with `json_each`.
fn branch_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// A unix instant as local time in `tz`.
fn local(at: i64, tz: Tz) -> NaiveDateTime {
    DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .naive_local()
}

fn local_midnight(tz: Tz, date: NaiveDate) -> i64 {
    crate::domain::dates::local_instant(tz, date, NaiveTime::MIN).timestamp()
}

/// Counts never exceed `u32`; a negative or absurd value from a damaged row reads as 0.
fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;
    use chrono::TimeZone;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn options() -> ReportOptions {
        ReportOptions {
            pass_mark: 60,
            timezone: TZ,
            trend_rounds: 2,
            thresholds: Thresholds::default(),
            round_label: |id| format!("R{id}"),
            roster_scope: TestScope::Cadres,
        }
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
        TZ.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp()
    }

    async fn exec(db: &Db, sql: &str) {
        sqlx::raw_sql(sql).execute(db).await.unwrap();
    }

    /// (attempt, round, user, branch, status, questions, correct, score)
    type AttemptSeed = (
        i64,
        i64,
        i64,
        Option<i64>,
        &'static str,
        i64,
        Option<i64>,
        Option<i64>,
    );

    /// Branches A and B (active) with members 1, 2, 3 and 4, 5; C inactive with member 6;
    /// user 7 belongs to no branch but took the test. Round 2 is the one under test:
    ///
    /// ```text
    ///   user  branch  status       answers                 score
    ///   1     A       finished     q1 ✓  q2 ✓              100
    ///   2     A       finished     q1 ✓  q3 ✗               50
    ///   3     A       in_progress  q1 ✗                      —  (not submitted)
    ///   4     B       timed_out    q2 ✗  q3 (blank)          0
    ///   7     —       finished     q1 ✗  q3 ✓               50
    /// ```
    async fn fixture() -> Db {
        let db = connect_memory().await.unwrap();
        exec(
            &db,
            "INSERT INTO users (id, full_name, created_at) VALUES
               (1, '张一', 0), (2, '张二', 0), (3, '张三', 0), (4, '李四', 0), (5, '王五', 0),
               (6, '赵六', 0), (7, '孙七', 0);
             INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at) VALUES
               (1, -1, 'A支部', '社区', 'a', 1, 0, 0), (2, -2, 'B支部', '学校', 'b', 1, 0, 0),
               (3, -3, 'C支部', '机关', 'c', 0, 0, 0), (4, -4, 'D支部', '国企', 'd', 1, 0, 0);
             INSERT INTO members (user_id, branch_id, joined_at) VALUES
               (1, 1, 0), (2, 1, 0), (3, 1, 0), (4, 2, 0), (5, 2, 0), (6, 3, 0);
             INSERT INTO questions (id, kind, category, text, options, answer, explanation, source, updated_at) VALUES
               ('q1', '单选', '党章', '第一题', '[]', '[0]', '', '', 0),
               ('q2', '判断', '党章', '第二题', '[]', '[0]', '', '', 0),
               ('q3', '多选', '党费', '第三题', '[]', '[0]', '', '', 0);",
        )
        .await;
        let rounds = [
            (1, at(2026, 2, 1, 9), at(2026, 2, 8, 9), "closed"),
            (2, at(2026, 3, 1, 9), at(2026, 3, 8, 9), "closed"),
            (3, at(2026, 3, 16, 9), at(2026, 3, 23, 9), "open"),
        ];
        for (id, opens, closes, status) in rounds {
            sqlx::query("INSERT INTO rounds (id, opens_at, closes_at, status) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(opens)
                .bind(closes)
                .bind(status)
                .execute(&db)
                .await
                .unwrap();
        }
        let start = at(2026, 3, 2, 10);
        let attempts: [AttemptSeed; 7] = [
            (1, 1, 1, Some(1), "finished", 2, Some(2), Some(80)),
            (2, 1, 2, Some(1), "finished", 2, Some(1), Some(40)),
            (10, 2, 1, Some(1), "finished", 2, Some(2), Some(100)),
            (11, 2, 2, Some(1), "finished", 2, Some(1), Some(50)),
            (12, 2, 3, Some(1), "in_progress", 2, None, None),
            (13, 2, 4, Some(2), "timed_out", 2, Some(0), Some(0)),
            (14, 2, 7, None, "finished", 2, Some(1), Some(50)),
        ];
        for (id, round, user, branch, status, total, correct, score) in attempts {
            let finished = (status != "in_progress").then_some(start + 600);
            sqlx::query(
                "INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at,
                   finished_at, status, question_count, correct_count, score)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(round)
            .bind(user)
            .bind(branch)
            .bind(start)
            .bind(start + 1800)
            .bind(finished)
            .bind(status)
            .bind(total)
            .bind(correct)
            .bind(score)
            .execute(&db)
            .await
            .unwrap();
        }
        let answers: [(i64, i64, &str, Option<bool>); 11] = [
            (1, 0, "q1", Some(true)),
            (2, 0, "q1", Some(false)),
            (10, 0, "q1", Some(true)),
            (10, 1, "q2", Some(true)),
            (11, 0, "q1", Some(true)),
            (11, 1, "q3", Some(false)),
            (12, 0, "q1", Some(false)),
            (13, 0, "q2", Some(false)),
            (13, 1, "q3", None),
            (14, 0, "q1", Some(false)),
            (14, 1, "q3", Some(true)),
        ];
        for (attempt, position, question, correct) in answers {
            sqlx::query(
                "INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, is_correct)
                 VALUES (?, ?, ?, '0123', ?)",
            )
            .bind(attempt)
            .bind(position)
            .bind(question)
            .bind(correct)
            .execute(&db)
            .await
            .unwrap();
        }
        db
    }

    /// Issue 15, defect 4: the bank changed after the round; its report shows the questions
    /// as the attempts drew them (their copies), not as the bank has them now.
    #[tokio::test]
    async fn a_rounds_report_shows_the_questions_as_drawn() {
        let db = fixture().await;
        exec(
            &db,
            r#"UPDATE attempt_questions SET question_copy = '{"id":"q1","kind":"单选","category":"党章",
                 "text":"第一题（当时）","options":["甲","乙"],"answer":[0],"explanation":"","source":""}'
               WHERE question_id = 'q1' AND attempt_id IN (10, 14);
               UPDATE questions SET text = '第一题（改过）', category = '新分类' WHERE id = 'q1';"#,
        )
        .await;
        let round = pick_round(&db, Some(2)).await.unwrap().unwrap();
        let report = round_report(&db, &round, &options(), None).await.unwrap();
        let q1 = report.questions.iter().find(|q| q.id == "q1").unwrap();
        assert_eq!(
            (q1.text.as_str(), q1.category.as_str()),
            ("第一题（当时）", "党章")
        );
        // A question without a copy (drawn before copies were kept) reads the bank.
        let q2 = report.questions.iter().find(|q| q.id == "q2").unwrap();
        assert_eq!(q2.text, "第二题");
        // A round whose newest attempt kept no copies is from before copies: the bank's
        // wording, without a search.
        exec(
            &db,
            "UPDATE attempt_questions SET question_copy = NULL WHERE attempt_id = 14",
        )
        .await;
        let report = round_report(&db, &round, &options(), None).await.unwrap();
        let q1 = report.questions.iter().find(|q| q.id == "q1").unwrap();
        assert_eq!(q1.text, "第一题（改过）");
    }

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() < 1e-9)
    }

    /// A closed round's summary gives the very report the answers give; it is what the report
    /// reads (the answers can go and the report stays); and an attempt submitted after the
    /// summary makes the report count again instead of showing a stale figure.
    #[tokio::test]
    async fn a_closed_rounds_summary_stands_in_for_its_answers_until_they_change() {
        let db = fixture().await;
        let round = pick_round(&db, Some(2)).await.unwrap().unwrap();
        let live = round_report(&db, &round, &options(), None).await.unwrap();
        assert!(summaries::write(&db, 1, &options()).await.unwrap());
        assert!(summaries::write(&db, 2, &options()).await.unwrap());
        assert_eq!(
            round_report(&db, &round, &options(), None).await.unwrap(),
            live
        );

        exec(&db, "DELETE FROM attempt_questions WHERE attempt_id >= 10").await;
        let from_summary = round_report(&db, &round, &options(), None).await.unwrap();
        assert_eq!(
            from_summary.questions, live.questions,
            "read from the summary"
        );

        exec(
            &db,
            "INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, finished_at,
                                   status, question_count, correct_count, score)
             VALUES (2, 5, 2, 0, 1800, 600, 'finished', 2, 2, 90)",
        )
        .await;
        let after = round_report(&db, &round, &options(), None).await.unwrap();
        let b = after.branches.iter().find(|b| b.name == "B支部").unwrap();
        assert_eq!((b.participants, b.average), (2, Some(45.0)));
        assert_eq!(after.trend.last().unwrap().participants, 5);
        assert!(summaries::write(&db, 2, &options()).await.unwrap());
        assert_eq!(
            round_report(&db, &round, &options(), None).await.unwrap(),
            after
        );
    }

    /// A branch with a roster counts 应参加 as its people due for the test and 实参加 as those of
    /// them who submitted; it lists 未参加 by roster name and 未加入 separately. A branch without
    /// one keeps counting its joined members. The summary carries the same figures.
    #[tokio::test]
    async fn a_roster_branch_counts_against_its_roster() {
        let db = fixture().await;
        // Branch A's roster (all 书记/委员, so due): 张一 and 张二 linked and finished, 小三
        // linked to user 3 (still in progress), 老王 never joined; 普通党员 has no 职务 (not due).
        exec(
            &db,
            "INSERT INTO roster_people (id, branch_id, name, status, duty, created_at, updated_at) VALUES
               (1, 1, '张一', 'full', 'secretary', 0, 0), (2, 1, '张二', 'full', 'organisation', 0, 0),
               (3, 1, '小三', 'full', 'propaganda', 0, 0), (4, 1, '老王', 'full', 'discipline', 0, 0),
               (5, 1, '普通党员', 'full', NULL, 0, 0);
             INSERT INTO roster_links (person_id, user_id, via, linked_at) VALUES
               (1, 1, 'phone', 0), (2, 2, 'phone', 0), (3, 3, 'secretary', 0);",
        )
        .await;
        let round = pick_round(&db, Some(2)).await.unwrap().unwrap();
        let report = round_report(&db, &round, &options(), None).await.unwrap();
        let a = report.branches.iter().find(|b| b.name == "A支部").unwrap();
        assert_eq!(
            (a.members, a.participants, a.scored, a.by_roster),
            (4, 2, 2, true)
        );
        let b = report.branches.iter().find(|b| b.name == "B支部").unwrap();
        assert_eq!((b.members, b.participants, b.by_roster), (2, 1, false));
        let names = |rows: &[NonParticipantRow]| -> Vec<(String, String)> {
            rows.iter()
                .map(|r| (r.branch.clone(), r.name.clone()))
                .collect()
        };
        assert_eq!(
            names(&report.non_participants),
            [
                ("A支部".to_owned(), "小三".to_owned()),
                ("B支部".to_owned(), "王五".to_owned())
            ]
        );
        assert_eq!(
            names(&report.never_joined),
            [("A支部".to_owned(), "老王".to_owned())]
        );

        assert!(summaries::write(&db, 2, &options()).await.unwrap());
        let summarised = round_report(&db, &round, &options(), None).await.unwrap();
        assert_eq!(summarised.branches, report.branches);
    }

    #[tokio::test]
    async fn the_default_round_is_the_latest_closed_one() {
        let db = fixture().await;
        assert_eq!(pick_round(&db, None).await.unwrap().map(|r| r.id), Some(2));
        let open = pick_round(&db, Some(3)).await.unwrap().unwrap();
        assert!(!open.closed);
        assert_eq!(pick_round(&db, Some(99)).await.unwrap(), None);
        // With no closed round the open one is the default.
        exec(&db, "UPDATE rounds SET status = 'open' WHERE id < 3").await;
        assert_eq!(pick_round(&db, None).await.unwrap().map(|r| r.id), Some(3));
        let empty = connect_memory().await.unwrap();
        assert_eq!(pick_round(&empty, None).await.unwrap(), None);
    }

    #[tokio::test]
    async fn round_report_matches_hand_computation() {
        let db = fixture().await;
        let round = pick_round(&db, Some(2)).await.unwrap().unwrap();
        let report = round_report(&db, &round, &options(), None).await.unwrap();
        assert!(report.closed);
        assert_eq!(
            report.opens_at.format("%Y-%m-%d %H:%M").to_string(),
            "2026-03-01 09:00"
        );

        // Active branches only (C is unbound), in name order. D has no members.
        let branches: Vec<(&str, u32, u32)> = report
            .branches
            .iter()
            .map(|b| (b.name.as_str(), b.members, b.participants))
            .collect();
        assert_eq!(
            branches,
            vec![("A支部", 3, 2), ("B支部", 2, 1), ("D支部", 0, 0)]
        );
        // A: scores 100 and 50 → average 75, one of two at or above 60; 2 of 3 members took part.
        let a = &report.branches[0];
        assert!(close(a.average, 75.0));
        assert!(close(a.pass_rate, 0.5));
        assert!(close(a.participation(), 2.0 / 3.0));
        // B: the timed-out attempt counts, scored 0.
        let b = &report.branches[1];
        assert!(close(b.average, 0.0));
        assert!(close(b.pass_rate, 0.0));
        let d = &report.branches[2];
        assert_eq!((d.average, d.pass_rate), (None, None));

        // Every submitted attempt, including the one without a branch; not the one in progress.
        let trainees: Vec<(&str, &str, u32)> = report
            .trainees
            .iter()
            .map(|t| (t.branch.as_str(), t.name.as_str(), t.score))
            .collect();
        assert_eq!(
            trainees,
            vec![
                ("", "孙七", 50),
                ("A支部", "张一", 100),
                ("A支部", "张二", 50),
                ("B支部", "李四", 0)
            ]
        );
        assert_eq!(report.trainees[3].outcome, AttemptOutcome::TimedOut);
        assert_eq!(report.trainees[1].seconds_taken, Some(600));
        // Overall: (100 + 50 + 0 + 50) / 4 = 50; one pass in four; 4 of 5 active members' slots.
        let overall = report.overall();
        assert_eq!((overall.participants, overall.members), (4, 5));
        assert!(close(overall.average, 50.0));
        assert!(close(overall.pass_rate, 0.25));

        // Members without a submitted attempt: 张三 (in progress) and 王五; not 赵六 (C unbound).
        let absent: Vec<(&str, &str)> = report
            .non_participants
            .iter()
            .map(|n| (n.branch.as_str(), n.name.as_str()))
            .collect();
        assert_eq!(absent, vec![("A支部", "张三"), ("B支部", "王五")]);

        // q1: 张一 ✓ 张二 ✓ 孙七 ✗ → 2/3; q2: 张一 ✓ 李四 ✗ → 1/2;
        // q3: 张二 ✗, 李四 blank (wrong), 孙七 ✓ → 1/3.
        let questions: Vec<(&str, &str, u32, u32)> = report
            .questions
            .iter()
            .map(|q| (q.id.as_str(), q.category.as_str(), q.answered, q.correct))
            .collect();
        assert_eq!(
            questions,
            vec![
                ("q1", "党章", 3, 2),
                ("q2", "党章", 2, 1),
                ("q3", "党费", 3, 1)
            ]
        );
        assert!(close(report.questions[0].facility, 2.0 / 3.0));
        assert_eq!(report.questions[1].kind, QuestionKind::TrueFalse);
        // Categories: 党章 5 answers, 3 right → 60%; 党费 3 answers, 1 right.
        let categories: Vec<(&str, u32, u32)> = report
            .categories
            .iter()
            .map(|c| (c.category.as_str(), c.answered, c.correct))
            .collect();
        assert_eq!(categories, vec![("党章", 5, 3), ("党费", 3, 1)]);
        assert!(close(report.categories[0].correct_rate, 0.6));
        assert_eq!(report.weakest_categories(1)[0].category, "党费");

        // Discrimination of q1 over the three who had it, rest = share right on the others:
        // 张一 x=1 rest 1 (q2 ✓); 张二 x=1 rest 0 (q3 ✗); 孙七 x=0 rest 1 (q3 ✓).
        // x mean 2/3, y mean 2/3: Sxy = (1/3)(1/3) + (1/3)(−2/3) + (−2/3)(1/3) = −1/3;
        // Sxx = 2/9 + 4/9 = 2/3; Syy = 2/3 → r = −1/3 / (2/3) = −0.5.
        assert!(close(report.questions[0].discrimination, -0.5));

        // Trend: the last two rounds, oldest first. Round 1: 80 and 40 → 60.
        let trend: Vec<(i64, &str, u32)> = report
            .trend
            .iter()
            .map(|p| (p.round_id, p.label.as_str(), p.participants))
            .collect();
        assert_eq!(trend, vec![(1, "R1", 2), (2, "R2", 4)]);
        assert!(close(report.trend[0].average, 60.0));
        assert!(close(report.trend[1].average, 50.0));
    }

    #[tokio::test]
    async fn an_empty_round_has_no_trainees_but_lists_everyone_as_absent() {
        let db = fixture().await;
        let round = pick_round(&db, Some(3)).await.unwrap().unwrap();
        assert!(!has_submissions(&db, 3).await.unwrap());
        assert!(has_submissions(&db, 2).await.unwrap());
        let report = round_report(&db, &round, &options(), None).await.unwrap();
        assert!(report.is_empty());
        assert!(report.questions.is_empty() && report.categories.is_empty());
        assert_eq!(report.non_participants.len(), 5);
        assert_eq!(report.reliability, None);
        assert_eq!(
            report
                .trend
                .last()
                .map(|p| (p.round_id, p.participants, p.average)),
            Some((3, 0, None))
        );
    }

    #[tokio::test]
    async fn the_branch_view_reads_only_that_branch() {
        let db = fixture().await;
        let round = pick_round(&db, Some(2)).await.unwrap().unwrap();
        let report = branch_report(&db, &round, 1, &options()).await.unwrap();
        assert_eq!(report.branches.len(), 1);
        assert_eq!(
            (report.branches[0].participants, report.branches[0].members),
            (2, 3)
        );
        assert!(close(report.branches[0].average, 75.0));
        assert!(report.trainees.is_empty() && report.non_participants.is_empty());
        // An unbound branch has no row.
        let gone = branch_report(&db, &round, 3, &options()).await.unwrap();
        assert!(gone.branches.is_empty());
    }

    #[tokio::test]
    async fn compliance_finds_overdue_terms_and_missed_meetings() {
        let db = fixture().await;
        exec(
            &db,
            "INSERT INTO terms (branch_id, elected_on, years, ends_on, delayed_to, closed_on, created_at) VALUES
               (1, '2023-01-10', 3, '2026-01-10', NULL, NULL, 0),
               (2, '2023-02-01', 3, '2026-02-01', '2026-05-01', NULL, 0),
               (3, '2017-01-01', 3, '2020-01-01', NULL, NULL, 0),
               (4, '2017-01-01', 3, '2020-01-01', NULL, '2024-12-01', 0),
               (4, '2024-12-01', 3, '2027-12-01', NULL, NULL, 0);
             INSERT INTO meeting_plans (id, branch_id, kind, title, rule_text, cron, created_at) VALUES
               (1, 1, 'committee', '支部委员会会议', '', '', 0),
               (2, 1, 'group', '党小组会', '', '', 0),
               (3, 2, 'day', '主题党日', '', '', 0),
               (4, 3, 'day', '主题党日', '', '', 0);",
        )
        .await;
        let occurrences = [
            (1, 1, at(2025, 11, 1, 15), "missed"), // before the period
            (1, 1, at(2025, 12, 15, 0), "held"),   // first instant of the period
            (1, 1, at(2026, 1, 5, 15), "missed"),
            (1, 1, at(2026, 2, 5, 15), "missed"),
            (2, 1, at(2026, 2, 10, 15), "held"),
            (3, 2, at(2026, 2, 20, 15), "missed"),
            (3, 2, at(2026, 3, 15, 23), "pending"), // last hour of the period
            (3, 2, at(2026, 3, 16, 0), "missed"),   // after it
            (4, 3, at(2026, 2, 20, 15), "missed"),  // unbound branch
        ];
        for (plan, branch, scheduled, status) in occurrences {
            sqlx::query(
                "INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end, status)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(plan)
            .bind(branch)
            .bind(scheduled)
            .bind(scheduled + 86_400)
            .bind(status)
            .execute(&db)
            .await
            .unwrap();
        }
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let report = compliance_report(&db, as_of, 90, 180, TZ, None)
            .await
            .unwrap();
        assert_eq!(
            report.period_start,
            NaiveDate::from_ymd_opt(2025, 12, 15).unwrap()
        );
        // A ended 2026-01-10: 64 days overdue. C is unbound; D's old term is closed.
        let overdue: Vec<(&str, i64)> = report
            .overdue_elections
            .iter()
            .map(|r| (r.branch.as_str(), r.days_left))
            .collect();
        assert_eq!(overdue, vec![("A支部", -64)]);
        // B's approved delay to 2026-05-01 is 47 days away; D's 2027 end is beyond 180 days.
        let approaching: Vec<(&str, i64)> = report
            .approaching_elections
            .iter()
            .map(|r| (r.branch.as_str(), r.days_left))
            .collect();
        assert_eq!(approaching, vec![("B支部", 47)]);
        let meetings: Vec<(&str, &str, u32, u32, u32)> = report
            .missed_meetings
            .iter()
            .map(|m| {
                (
                    m.branch.as_str(),
                    m.meeting.as_str(),
                    m.scheduled,
                    m.held,
                    m.missed,
                )
            })
            .collect();
        assert_eq!(
            meetings,
            vec![
                ("A支部", "支部委员会会议", 3, 1, 2),
                ("B支部", "主题党日", 2, 0, 1)
            ]
        );
        // A term whose deadline is today is not overdue yet.
        let on_the_day = compliance_report(
            &db,
            NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
            90,
            180,
            TZ,
            None,
        )
        .await
        .unwrap();
        assert!(on_the_day.overdue_elections.is_empty());
        assert_eq!(on_the_day.approaching_elections[0].days_left, 0);
    }
}
