//! Benchmark of the reports and of the scheduler's idle pass, written to BENCHMARKS.md.
//!
//! ```text
//! cargo run --release --example bench_reports            # full size, writes BENCHMARKS.md
//! cargo run --release --example bench_reports -- --quick # small sizes, prints only
//! cargo run --release --example bench_reports -- --keep  # prints only, keeps bench_reports.db
//! ```
//!
//! Report: a database with 50,000 trainees in 1,000 branches, one round with 1,000,000 answers
//! (and seven earlier rounds of attempts for the trend), bulk-inserted in one transaction with
//! prepared multi-row statements. Then the report queries and each rendering are timed
//! separately, median of several runs.
//!
//! Scheduler: 1,000 and 100,000 branches, each with an open term and four meeting plans, none
//! due; the time of `scheduler::next_due` and of one `tick` that finds nothing to do. Both must
//! stay flat as branches grow, because every due time is read from an index.
//!
//! It is an example, not a test: `cargo test` builds it but never runs it.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::Notify;

use branchbot::chat::handlers::reports::DEFAULT_OVERDUE_DAYS;
use branchbot::clock::{ManualClock, SharedClock};
use branchbot::config::Config;
use branchbot::domain::stats::{self, Thresholds};
use branchbot::reports::model::RoundReport;
use branchbot::reports::{chart, csv, text, xlsx};
use branchbot::service::reports::{report_options, APPROACHING_DAYS};
use branchbot::service::AppState;
use branchbot::storage::reports as store;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
const CATEGORIES: [&str; 8] = [
    "党章与基本知识",
    "组织设置",
    "组织生活",
    "换届选举",
    "发展党员",
    "党员教育管理",
    "党费",
    "纪律与监督",
];
/// How the report query got to its time; static text, measured while it was developed.
const REPORT_NOTES: &str = "
How the round report got here (same data, same machine, measured while developing it; the
machine was shared, so these are approximate):

- 3.2 s: per-question counts by `GROUP BY question_id` and the answer matrix as one row per
  answer. The `GROUP BY` sorts a million answers in a temporary B-tree (2.1 s in the sqlite3
  shell alone), and sqlx hands a million rows over from SQLite's thread one by one.
- 2.2 s: the counts taken from the matrix fold, which reads every answer anyway.
- 1.4 s: each attempt's answers packed by SQLite into one string (`group_concat`), so 50,000
  rows cross instead of a million.
- 0.9 s: migration 0004's covering indexes: `attempt_questions(attempt_id, question_id,
  is_correct)` for the matrix (0.44 s → 0.28 s in the shell) and `attempts(round_id, status,
  score)` for the trend over eight rounds (0.22 s → 0.04 s).

What remains is mostly sqlx decoding the 50,000 trainee rows and the item statistics (see the
line above). `EXPLAIN QUERY PLAN` of the matrix query: `SEARCH a USING INDEX
attempts_round_branch (round_id=?)`, `CORRELATED SCALAR SUBQUERY … SEARCH aq USING COVERING
INDEX attempt_questions_answers (attempt_id=?)`, no temporary B-tree.";

/// Rows per multi-row INSERT; every full batch reuses one prepared statement.
const BATCH: usize = 500;

#[derive(Debug, Clone, Copy)]
struct Sizes {
    branches: i64,
    trainees: i64,
    /// Members who did not take part, on top of the trainees.
    absent: i64,
    questions: usize,
    per_test: usize,
    earlier_rounds: i64,
    scheduler_branches: [i64; 2],
    runs: usize,
}

const FULL: Sizes = Sizes {
    branches: 1_000,
    trainees: 50_000,
    absent: 5_000,
    questions: 220,
    per_test: 20,
    earlier_rounds: 7,
    scheduler_branches: [1_000, 100_000],
    runs: 5,
};

const QUICK: Sizes = Sizes {
    branches: 50,
    trainees: 2_000,
    absent: 200,
    questions: 220,
    per_test: 20,
    earlier_rounds: 2,
    scheduler_branches: [100, 2_000],
    runs: 3,
};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let keep = std::env::args().any(|a| a == "--keep");
    let sizes = if quick { QUICK } else { FULL };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let markdown = runtime.block_on(run(sizes));
    if quick || keep {
        println!("{markdown}");
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    // Sections other benchmark programs wrote (load, tree, rosters) stay as they are.
    let others = std::fs::read_to_string(path)
        .map(|old| foreign_sections(&old))
        .unwrap_or_default();
    let markdown = format!("{}{others}", markdown.trim_end());
    std::fs::write(path, format!("{markdown}\n")).expect("write BENCHMARKS.md");
    println!("{markdown}\nwritten to {path}");
}

/// The summarised report is the report: checked part by part, so a difference names its part.
fn same_report(summarised: &RoundReport, live: &RoundReport) {
    assert_eq!(summarised.branches.len(), live.branches.len(), "branches");
    for (a, b) in summarised.branches.iter().zip(&live.branches) {
        assert_eq!(a, b, "branch row");
    }
    assert_eq!(summarised.questions, live.questions, "questions");
    assert_eq!(summarised.reliability, live.reliability, "reliability");
    assert_eq!(summarised.trend, live.trend, "trend");
    assert_eq!(summarised, live, "the rest of the report");
}

/// The sections of BENCHMARKS.md this program does not write, each with its heading.
fn foreign_sections(old: &str) -> String {
    const OURS: [&str; 3] = [
        "## Machine",
        "## Round report",
        "## Scheduler with nothing due",
    ];
    old.split("\n## ")
        .skip(1)
        .map(|section| format!("## {section}"))
        .filter(|section| !OURS.iter().any(|ours| section.starts_with(ours)))
        .map(|section| format!("\n\n{}", section.trim_end()))
        .collect()
}

/// 2026-03-02 10:00 in Shanghai: the report's "now", with round 8 closed the day before.
fn now() -> DateTime<Utc> {
    TZ.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .expect("a valid instant")
        .with_timezone(&Utc)
}

async fn run(sizes: Sizes) -> String {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for meaningful numbers");
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // `--keep` leaves the report database in the current directory for EXPLAIN QUERY PLAN.
    let keep = std::env::args().any(|a| a == "--keep");
    let db_path = if keep {
        std::path::PathBuf::from("bench_reports.db")
    } else {
        dir.path().join("bench.db")
    };
    let _ = std::fs::remove_file(&db_path);
    let url = format!("sqlite://{}", db_path.display());
    let db = branchbot::storage::connect(&url)
        .await
        .expect("open the database");

    eprintln!("seeding the report database ...");
    let started = Instant::now();
    let counts = seed_reports(&db, sizes).await;
    let seed_time = started.elapsed();
    let db_bytes = std::fs::metadata(dir.path().join("bench.db"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.path().join("bench.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .ok();
    sqlx::query("ANALYZE").execute(&db).await.ok();
    let sqlite_version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&db)
        .await
        .unwrap_or_default();

    let config = bench_config(&url);
    let options = report_options(&config);
    let round = store::pick_round(&db, None)
        .await
        .expect("pick")
        .expect("a closed round");
    let branch_id: i64 = 1;

    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned());
    eprintln!("timing the report queries ...");
    reset_peak_rss();
    let (report_query, report) = time_runs(sizes.runs, || {
        let db = db.clone();
        let round = round.clone();
        let options = options.clone();
        async move {
            store::round_report(&db, &round, &options, None)
                .await
                .expect("round report")
        }
    })
    .await;
    let report_peak = peak_rss_kib();
    // What closing the round does once: summarise it. Then the report reads the summary.
    let summary_started = Instant::now();
    branchbot::storage::summaries::write(&db, round.id, &options)
        .await
        .expect("summary");
    let summary_write = summary_started.elapsed();
    let (summarised_query, summarised) = time_runs(sizes.runs, || {
        let db = db.clone();
        let round = round.clone();
        let options = options.clone();
        async move {
            store::round_report(&db, &round, &options, None)
                .await
                .expect("round report")
        }
    })
    .await;
    same_report(&summarised, &report);
    let (branch_query, _) = time_runs(sizes.runs, || {
        let db = db.clone();
        let round = round.clone();
        let options = options.clone();
        async move {
            store::branch_report(&db, &round, branch_id, &options)
                .await
                .expect("branch report")
        }
    })
    .await;
    let as_of = now().with_timezone(&TZ).date_naive();
    let (compliance_query, compliance) = time_runs(sizes.runs, || {
        let db = db.clone();
        async move {
            store::compliance_report(&db, as_of, DEFAULT_OVERDUE_DAYS, APPROACHING_DAYS, TZ, None)
                .await
                .expect("compliance report")
        }
    })
    .await;
    let (pick_query, _) = time_runs(sizes.runs, || {
        let db = db.clone();
        async move { store::pick_round(&db, None).await.expect("pick") }
    })
    .await;

    eprintln!("timing the statistics and the renderings ...");
    let matrix = synthetic_matrix(&report, sizes);
    let (analysis_time, _) = time_sync(sizes.runs, || {
        stats::analyse(&matrix, sizes.questions, &Thresholds::default())
    });
    drop(matrix);
    let (summary_time, summary) = time_sync(sizes.runs, || text::round_summary(&report));
    let (xlsx_time, workbook) = time_sync(sizes.runs, || {
        xlsx::round_workbook(&report).expect("workbook")
    });
    let (csv_time, csv_files) = time_sync(sizes.runs, || csv::round_csv(&report).expect("csv"));
    // The embedded font is always there; the Option stays for the table's "not measured" row.
    let font = Some(chart::ChartFonts::embedded_only());
    let chart_result = font.as_ref().map(|font| {
        time_sync(sizes.runs, || {
            chart::render_chart(&report, font).expect("chart")
        })
    });
    let csv_bytes: usize = csv_files.iter().map(|(_, b)| b.len()).sum();

    eprintln!("seeding and timing the scheduler ...");
    let mut scheduler_rows = Vec::new();
    for branches in sizes.scheduler_branches {
        scheduler_rows.push(bench_scheduler(branches, sizes.runs).await);
    }

    db.close().await;

    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Produced by `cargo run --release --example bench_reports` (examples/bench_reports.rs); \
         it is not part of `cargo test`. Times are the median of {} runs after the data is in \
         place (the first run included, so caches start cold only for it).\n",
        sizes.runs
    );
    let _ = writeln!(md, "## Machine\n");
    let _ = writeln!(md, "- Date: {}", Utc::now().format("%Y-%m-%d %H:%M UTC"));
    let _ = writeln!(
        md,
        "- CPU: {} ({} cores available)",
        cpu_model(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let _ = writeln!(md, "- Memory: {}", mem_total());
    let _ = writeln!(
        md,
        "- Load average when the timings started (1, 5, 15 min; the machine is shared): {load}"
    );
    let _ = writeln!(md, "- OS: {}", os_release());
    let _ = writeln!(
        md,
        "- SQLite {sqlite_version} (bundled by libsqlite3-sys), WAL, synchronous=NORMAL; build: {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let _ = writeln!(md, "\n## Round report\n");
    let _ = writeln!(
        md,
        "Data: {} branches, {} members of whom {} took the test, {} answers in the reported round \
         ({} questions in the bank, {} per test, about 3% of attempts timed out with blanks), \
         {} earlier rounds of attempts for the trend, terms and four meeting plans per branch with \
         three months of occurrences. Inserted in one transaction with prepared {}-row INSERTs in \
         {} ({} on disk).\n",
        sizes.branches,
        sizes.trainees + sizes.absent,
        sizes.trainees,
        counts.answers,
        sizes.questions,
        sizes.per_test,
        sizes.earlier_rounds,
        BATCH,
        secs(seed_time),
        mib(db_bytes as usize)
    );
    let _ = writeln!(md, "| Step | Median |");
    let _ = writeln!(md, "|---|---|");
    let _ = writeln!(md, "| `storage::reports::round_report` of a closed round, read from its summary (issue 14): branch results and the question analysis from the summary, trainees and non-participants from their tables, trend from the rounds' summaries | {} |", ms(summarised_query));
    let _ = writeln!(md, "| &nbsp;&nbsp;once, when the round closes: `storage::summaries::write` — the answer matrix folded, the branches counted, the summary stored | {} |", ms(summary_write));
    let _ = writeln!(md, "| `storage::reports::round_report` without a summary (an open round, or before issue 14): branch results, trainees, non-participants, the answer matrix folded into per-question counts, discrimination and KR-20, trend | {} |", ms(report_query));
    let _ = writeln!(md, "| &nbsp;&nbsp;part of it: `domain::stats::analyse` alone, on a synthetic {}×{} matrix of the same shape | {} |", sizes.trainees, sizes.questions, ms(analysis_time));
    let _ = writeln!(
        md,
        "| `storage::reports::branch_report` — a group's own-branch view | {} |",
        ms(branch_query)
    );
    let _ = writeln!(
        md,
        "| `storage::reports::pick_round` — the default round | {} |",
        ms(pick_query)
    );
    let _ = writeln!(
        md,
        "| `storage::reports::compliance_report` — overdue terms, missed meetings ({} days) | {} |",
        DEFAULT_OVERDUE_DAYS,
        ms(compliance_query)
    );
    let _ = writeln!(
        md,
        "| `reports::text::round_summary` ({} message(s)) | {} |",
        summary.len(),
        ms(summary_time)
    );
    let _ = writeln!(
        md,
        "| `reports::xlsx::round_workbook` ({}) | {} |",
        mib(workbook.len()),
        ms(xlsx_time)
    );
    let _ = writeln!(
        md,
        "| `reports::csv::round_csv` ({} files, {}) | {} |",
        csv_files.len(),
        mib(csv_bytes),
        ms(csv_time)
    );
    match &chart_result {
        Some((time, png)) => {
            let _ = writeln!(
                md,
                "| `reports::chart::render_chart` ({} PNG) | {} |",
                kib(png.len()),
                ms(*time)
            );
        }
        None => {
            let _ = writeln!(
                md,
                "| `reports::chart::render_chart` | not measured: no CJK font installed |"
            );
        }
    }
    if let Some(peak) = report_peak {
        let _ = writeln!(md, "\nPeak resident memory of the process while building the report (peak reset after seeding): {}.", mib(peak * 1024));
    }
    let _ = writeln!(
        md,
        "\nThe report ({} trainees, {} non-participants, {} questions, {} trend points) and the compliance \
         report ({} overdue, {} approaching, {} branch/meeting rows with misses) were checked for size \
         while timing.",
        report.trainees.len(),
        report.non_participants.len(),
        report.questions.len(),
        report.trend.len(),
        compliance.overdue_elections.len(),
        compliance.approaching_elections.len(),
        compliance.missed_meetings.len()
    );
    let _ = writeln!(md, "{}", REPORT_NOTES);
    let _ = writeln!(md, "\n## Scheduler with nothing due\n");
    let _ = writeln!(md, "Each branch has an open term (next check months ahead) and four active meeting plans (next materialisation weeks ahead); a round is open and its reminder is days away; the outbox is empty.\n");
    let _ = writeln!(
        md,
        "| Branches | Plans | `scheduler::next_due` | one `scheduler::tick` |"
    );
    let _ = writeln!(md, "|---|---|---|---|");
    for row in &scheduler_rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            row.branches,
            row.plans,
            ms(row.next_due),
            ms(row.tick)
        );
    }
    let _ = writeln!(md, "\nThe pass costs the same with a hundred times more branches: every due time comes from an index (`terms.next_check_at`, `meeting_plans.next_at`, `meeting_occurrences.period_end`, `outbox.due_at`, `attempts.deadline_at`), and nothing is computed for branches that are not due.");
    md
}

#[derive(Debug, Default)]
struct Counts {
    answers: usize,
}

async fn seed_reports(db: &SqlitePool, sizes: Sizes) -> Counts {
    let mut rng = StdRng::seed_from_u64(20260302);
    let mut tx = db.begin().await.expect("begin");
    let members = sizes.trainees + sizes.absent;

    let branch_rows: Vec<(i64, i64, String, &str, String)> = (1..=sizes.branches)
        .map(|b| {
            (
                b,
                -1_000_000_000 - b,
                format!("第{b:04}党支部"),
                ["农村", "社区", "机关", "学校", "医院", "国企", "两新"][(b % 7) as usize],
                format!("code{b}"),
            )
        })
        .collect();
    insert(
        &mut tx,
        "INSERT INTO branches (id, chat_id, name, kind, join_code, created_at, updated_at) ",
        &branch_rows,
        |q, (id, chat, name, kind, code)| {
            q.push_bind(*id)
                .push_bind(*chat)
                .push_bind(name.clone())
                .push_bind(*kind)
                .push_bind(code.clone())
                .push_bind(0_i64)
                .push_bind(0_i64);
        },
    )
    .await;
    let users: Vec<i64> = (1..=members).collect();
    insert(
        &mut tx,
        "INSERT INTO users (id, full_name, created_at) ",
        &users,
        |q, id| {
            q.push_bind(*id)
                .push_bind(format!("学员{id:05}"))
                .push_bind(0_i64);
        },
    )
    .await;
    insert(
        &mut tx,
        "INSERT INTO members (user_id, branch_id, joined_at) ",
        &users,
        |q, id| {
            q.push_bind(*id)
                .push_bind((id - 1) % sizes.branches + 1)
                .push_bind(0_i64);
        },
    )
    .await;

    // Questions of varying difficulty, so discrimination and flags have something to find.
    let difficulty: Vec<f64> = (0..sizes.questions)
        .map(|_| rng.random_range(-1.5..1.5))
        .collect();
    let questions: Vec<usize> = (0..sizes.questions).collect();
    insert(&mut tx, "INSERT INTO questions (id, kind, category, text, options, answer, explanation, source, updated_at) ", &questions, |q, i| {
        q.push_bind(format!("bench-{i:03}"))
            .push_bind("单选")
            .push_bind(CATEGORIES[i % CATEGORIES.len()])
            .push_bind(format!("第{i}题：关于党支部工作的一道单选题？"))
            .push_bind("[\"甲\",\"乙\",\"丙\",\"丁\"]")
            .push_bind("[0]")
            .push_bind("")
            .push_bind("党章")
            .push_bind(0_i64);
    })
    .await;

    // Rounds 1..=n, half a month apart, all closed; the last is the one reported.
    let rounds = sizes.earlier_rounds + 1;
    let last_opens = TZ
        .with_ymd_and_hms(2026, 2, 16, 9, 0, 0)
        .single()
        .expect("instant")
        .timestamp();
    let round_rows: Vec<(i64, i64)> = (1..=rounds)
        .map(|r| (r, last_opens - (rounds - r) * 15 * 86_400))
        .collect();
    insert(
        &mut tx,
        "INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) ",
        &round_rows,
        |q, (id, opens)| {
            q.push_bind(*id)
                .push_bind(*opens)
                .push_bind(opens + 7 * 86_400)
                .push_bind("closed")
                .push_bind(opens + 7 * 86_400);
        },
    )
    .await;

    // Earlier rounds: attempts only (scores for the trend), 90% of the trainees each.
    let mut attempt_id = 0_i64;
    for round in 1..rounds {
        let opens = round_rows[(round - 1) as usize].1;
        let mut rows: Vec<(i64, i64, i64)> = Vec::new();
        for user in 1..=sizes.trainees {
            if rng.random_bool(0.9) {
                attempt_id += 1;
                rows.push((attempt_id, user, rng.random_range(30..=100)));
            }
        }
        insert(&mut tx, "INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, finished_at, status, question_count, correct_count, score) ", &rows, |q, (id, user, score)| {
            q.push_bind(*id).push_bind(round).push_bind(*user).push_bind((user - 1) % sizes.branches + 1)
                .push_bind(opens + 3600).push_bind(opens + 5400).push_bind(opens + 4200).push_bind("finished")
                .push_bind(sizes.per_test as i64).push_bind(score / 5).push_bind(*score);
        })
        .await;
    }

    // The reported round: every trainee, 20 distinct questions each, right with a probability
    // that grows with ability and falls with difficulty.
    let opens = round_rows[(rounds - 1) as usize].1;
    let mut attempts = Vec::with_capacity(sizes.trainees as usize);
    let mut answers: Vec<(i64, i64, usize, Option<bool>)> =
        Vec::with_capacity(sizes.trainees as usize * sizes.per_test);
    for user in 1..=sizes.trainees {
        attempt_id += 1;
        let ability: f64 = rng.random_range(-2.0..2.0);
        let timed_out = rng.random_bool(0.03);
        let answered = if timed_out {
            rng.random_range(5..sizes.per_test)
        } else {
            sizes.per_test
        };
        let draw = rand::seq::index::sample(&mut rng, sizes.questions, sizes.per_test);
        let mut correct = 0;
        for (position, question) in draw.iter().enumerate() {
            let right = (position < answered).then(|| {
                let p = 1.0 / (1.0 + (-(ability - difficulty[question]) * 1.7).exp());
                rng.random_bool(p.clamp(0.0, 1.0))
            });
            correct += usize::from(right == Some(true));
            answers.push((attempt_id, position as i64, question, right));
        }
        let score = (correct * 100 / sizes.per_test) as i64;
        let started = opens + rng.random_range(0..6 * 86_400);
        attempts.push((
            attempt_id,
            user,
            started,
            if timed_out {
                started + 1800
            } else {
                started + rng.random_range(300..1800)
            },
            timed_out,
            correct as i64,
            score,
        ));
    }
    insert(&mut tx, "INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, finished_at, status, question_count, correct_count, score) ", &attempts, |q, (id, user, started, finished, timed_out, correct, score)| {
        q.push_bind(*id).push_bind(rounds).push_bind(*user).push_bind((user - 1) % sizes.branches + 1)
            .push_bind(*started).push_bind(started + 1800).push_bind(*finished)
            .push_bind(if *timed_out { "timed_out" } else { "finished" })
            .push_bind(sizes.per_test as i64).push_bind(*correct).push_bind(*score);
    })
    .await;
    insert(&mut tx, "INSERT INTO attempt_questions (attempt_id, position, question_id, option_order, chosen, is_correct, answered_at) ", &answers, |q, (attempt, position, question, right)| {
        q.push_bind(*attempt).push_bind(*position).push_bind(format!("bench-{question:03}")).push_bind("0123")
            .push_bind(right.map(|r| if r { "0" } else { "1" })).push_bind(*right).push_bind(right.map(|_| opens + 4000));
    })
    .await;
    let counts = Counts {
        answers: answers.len(),
    };
    drop(answers);

    seed_calendar(&mut tx, 1, sizes.branches, &mut rng, true).await;
    tx.commit().await.expect("commit");
    counts
}

/// Open terms and four meeting plans per branch, none due at [`now`]; with `history`, three
/// months of occurrences (some missed) and a share of overdue and approaching terms.
async fn seed_calendar(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    first: i64,
    last: i64,
    rng: &mut StdRng,
    history: bool,
) {
    let now = now().timestamp();
    let ids: Vec<i64> = (first..=last).collect();
    let terms: Vec<(i64, String, String, i64)> = ids
        .iter()
        .map(|&b| {
            // Mostly mid-term; with history, 5% overdue and 10% ending within half a year.
            let roll: f64 = rng.random();
            let ends = if history && roll < 0.05 {
                "2025-12-01"
            } else if history && roll < 0.15 {
                "2026-06-30"
            } else {
                "2027-09-30"
            };
            (
                b,
                "2023-09-30".to_owned(),
                ends.to_owned(),
                now + rng.random_range(30..180) * 86_400,
            )
        })
        .collect();
    insert(
        tx,
        "INSERT INTO terms (branch_id, elected_on, years, ends_on, next_check_at, created_at) ",
        &terms,
        |q, (b, elected, ends, check)| {
            q.push_bind(*b)
                .push_bind(elected.clone())
                .push_bind(3_i64)
                .push_bind(ends.clone())
                .push_bind(*check)
                .push_bind(0_i64);
        },
    )
    .await;
    const PLANS: [(&str, &str); 4] = [
        ("committee", "支部委员会会议"),
        ("members", "支部党员大会"),
        ("group", "党小组会"),
        ("lecture", "党课"),
    ];
    let plans: Vec<(i64, usize, i64)> = ids
        .iter()
        .flat_map(|&b| (0..PLANS.len()).map(move |p| (b, p, 0)))
        .map(|(b, p, _)| (b, p, now + rng.random_range(3..30) * 86_400))
        .collect();
    insert(
        tx,
        "INSERT INTO meeting_plans (branch_id, kind, title, rule_text, cron, next_at, created_at) ",
        &plans,
        |q, (b, p, next)| {
            q.push_bind(*b)
                .push_bind(PLANS[*p].0)
                .push_bind(PLANS[*p].1)
                .push_bind("每月5日 15:00")
                .push_bind("0 0 15 5 * *")
                .push_bind(*next)
                .push_bind(0_i64);
        },
    )
    .await;
    if !history {
        return;
    }
    // Plan ids follow insertion order: branch b's plans are rows (b - first) * 4 + 1 ..= +4.
    let mut occurrences = Vec::new();
    for (index, (b, _, _)) in plans.iter().enumerate() {
        for month in 0..3 {
            let at = now - (month * 30 + 25) * 86_400;
            let status = if rng.random_bool(0.1) {
                "missed"
            } else {
                "held"
            };
            occurrences.push((index as i64 + 1, *b, at, status));
        }
    }
    insert(
        tx,
        "INSERT INTO meeting_occurrences (plan_id, branch_id, scheduled_at, period_end, status) ",
        &occurrences,
        |q, (plan, b, at, status)| {
            q.push_bind(*plan)
                .push_bind(*b)
                .push_bind(*at)
                .push_bind(at + 20 * 86_400)
                .push_bind(*status);
        },
    )
    .await;
}

/// Multi-row INSERTs of [`BATCH`] rows; every full batch has the same SQL, so sqlx prepares it
/// once per connection and reuses it.
async fn insert<T>(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    head: &str,
    rows: &[T],
    mut bind: impl FnMut(&mut sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>, &T),
) {
    for chunk in rows.chunks(BATCH) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(head);
        query.push_values(chunk, |mut q, row| bind(&mut q, row));
        query
            .build()
            .persistent(true)
            .execute(&mut **tx)
            .await
            .unwrap_or_else(|e| panic!("{head}: {e}"));
    }
}

struct SchedulerRow {
    branches: i64,
    plans: i64,
    next_due: Duration,
    tick: Duration,
}

async fn bench_scheduler(branches: i64, runs: usize) -> SchedulerRow {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("scheduler.db").display());
    let db = branchbot::storage::connect(&url)
        .await
        .expect("open the database");
    let mut rng = StdRng::seed_from_u64(7);
    let mut tx = db.begin().await.expect("begin");
    let rows: Vec<i64> = (1..=branches).collect();
    insert(
        &mut tx,
        "INSERT INTO branches (id, chat_id, name, kind, join_code, created_at, updated_at) ",
        &rows,
        |q, b| {
            q.push_bind(*b)
                .push_bind(-1_000_000_000 - b)
                .push_bind(format!("第{b}党支部"))
                .push_bind("社区")
                .push_bind(format!("c{b}"))
                .push_bind(0_i64)
                .push_bind(0_i64);
        },
    )
    .await;
    seed_calendar(&mut tx, 1, branches, &mut rng, false).await;
    // The round of the current calendar window is open; its closing reminder is days away.
    let opens = TZ
        .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("instant")
        .timestamp();
    sqlx::query("INSERT INTO rounds (opens_at, closes_at, status) VALUES (?, ?, 'open')")
        .bind(opens)
        .bind(opens + 7 * 86_400)
        .execute(&mut *tx)
        .await
        .expect("round");
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE").execute(&db).await.ok();
    let plans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meeting_plans")
        .fetch_one(&db)
        .await
        .unwrap_or(0);

    let config = bench_config(&url);
    let bot = branchbot::app::make_bot(&config).expect("a bot client");
    let outlet =
        branchbot::telegram::delivery::TelegramOutlet::new(branchbot::telegram::Api::new(bot, 30));
    let clock: SharedClock = Arc::new(ManualClock::new(now()));
    let state = AppState {
        db: db.clone(),
        config: Arc::new(config),
        clock,
        rng: Mutex::new(StdRng::seed_from_u64(1)),
        wake: Arc::new(Notify::new()),
        nudges: Default::default(),
        bot_username: "bench_bot".to_owned(),
        bank: Default::default(),
        live_attempts: Default::default(),
        direct_writes: Default::default(),
    };
    let (next_due, _) = time_runs(runs, || async {
        branchbot::scheduler::next_due(&state, now())
            .await
            .expect("next_due")
    })
    .await;
    let (tick, _) = time_runs(runs, || async {
        branchbot::scheduler::tick(&state, &outlet, now())
            .await
            .expect("tick")
    })
    .await;
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&db)
        .await
        .unwrap_or(-1);
    assert_eq!(queued, 0, "the idle tick must not queue anything");
    db.close().await;
    SchedulerRow {
        branches,
        plans,
        next_due,
        tick,
    }
}

fn bench_config(url: &str) -> Config {
    let url = url.to_owned();
    Config::from_lookup(move |key| match key {
        "TELOXIDE_TOKEN" => Some("1:bench".to_owned()),
        "DATABASE_URL" => Some(url.clone()),
        "TELOXIDE_API_URL" => Some("http://127.0.0.1:9".to_owned()),
        "BRANCHBOT_CONFIG" => Some("/dev/null".to_owned()),
        _ => None,
    })
    .expect("a valid configuration")
}

/// A response matrix of the report's shape, for timing the statistics alone.
fn synthetic_matrix(
    report: &branchbot::reports::model::RoundReport,
    sizes: Sizes,
) -> Vec<Vec<Option<bool>>> {
    let mut rng = StdRng::seed_from_u64(3);
    (0..report.trainees.len())
        .map(|_| {
            let mut row = vec![None; sizes.questions];
            for item in rand::seq::index::sample(&mut rng, sizes.questions, sizes.per_test) {
                row[item] = Some(rng.random_bool(0.6));
            }
            row
        })
        .collect()
}

async fn time_runs<T, F, Fut>(runs: usize, mut f: F) -> (Duration, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let value = f().await;
        times.push(started.elapsed());
        last = Some(value);
    }
    (median(times), last.expect("at least one run"))
}

fn time_sync<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let value = f();
        times.push(started.elapsed());
        last = Some(value);
    }
    (median(times), last.expect("at least one run"))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

fn kib(bytes: usize) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<f64>().ok())
                })
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn os_release() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{pretty}, Linux {kernel}")
}

/// Resets the process's peak resident set (Linux ≥ 4.0), so the report's peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_kib() -> Option<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
}
