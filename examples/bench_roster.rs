//! Benchmark of importing an organisation's roster: 20,000 people in 500 branches, one sheet with
//! a 支部 column, read, validated, grouped by branch, compared with each branch's stored roster
//! and applied (one transaction per branch, as a confirmed branch upload is).
//!
//! ```text
//! cargo run --release --example bench_roster            # 20,000 people, 500 branches
//! cargo run --release --example bench_roster -- --quick # 2,000 people, 50 branches
//! ```
//!
//! Two imports are timed: the first into empty rosters, then a second sheet in which 5% of the
//! people changed, 2% were dropped and 2% renamed (a 转出 and a 新增 each). It prints a Markdown section for BENCHMARKS.md.
//! It is an example, not a test: `cargo test` builds it but never runs it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use branchbot::domain::roster::{self, Duty, Person, Status};
use branchbot::roster::sheet::{self, Layout};
use branchbot::roster::template;
use branchbot::service::roster::group_by_branch;
use branchbot::storage::{self, roster as store};

const STATUSES: [Status; 4] = [
    Status::Full,
    Status::Full,
    Status::Probationary,
    Status::Activist,
];

fn people(branches: usize, per_branch: usize, variant: u32) -> Vec<(String, Person)> {
    let mut out = Vec::with_capacity(branches * per_branch);
    for b in 0..branches {
        for i in 0..per_branch {
            let n = b * per_branch + i;
            // The second sheet: 2% left (skipped), 2% new names, 5% changed.
            if variant == 1 && n % 50 == 7 {
                continue;
            }
            let name = if variant == 1 && n % 50 == 13 {
                format!("新人{n}")
            } else {
                format!("党员{n}")
            };
            let duty = (i < 5).then(|| Duty::ALL[i % Duty::ALL.len()]);
            let status = if variant == 1 && n % 20 == 3 {
                Status::Full
            } else {
                STATUSES[n % STATUSES.len()]
            };
            out.push((
                format!("第{b}党支部"),
                Person {
                    name,
                    status,
                    duty,
                    phone: Some(format!("139{n:08}")),
                    takes_test: n.is_multiple_of(9).then_some(n.is_multiple_of(2)),
                    joined_on: NaiveDate::from_ymd_opt(1990 + (n % 35) as i32, 7, 1),
                    full_on: None,
                    on_probation: n.is_multiple_of(97),
                },
            ));
        }
    }
    out
}

struct Timing {
    parse: Duration,
    diff: Duration,
    apply: Duration,
    added: usize,
    changed: usize,
    left: usize,
}

async fn import(db: &storage::Db, bytes: &[u8], ids: &HashMap<String, i64>, now: i64) -> Timing {
    let start = Instant::now();
    let rows = sheet::parse(bytes, Layout::Organisation).expect("the sheet is valid");
    let grouped = group_by_branch(rows);
    let parse = start.elapsed();

    let start = Instant::now();
    let mut diffs = Vec::with_capacity(grouped.len());
    for (branch, people) in &grouped {
        let id = ids[branch];
        let current: Vec<Person> = store::current(db, id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.person)
            .collect();
        diffs.push(roster::diff(&current, people));
    }
    let diff = start.elapsed();

    let start = Instant::now();
    let (mut added, mut changed, mut left) = (0, 0, 0);
    for (branch, people) in &grouped {
        let applied = store::apply(db, ids[branch], people, None, now)
            .await
            .unwrap();
        added += applied.added;
        changed += applied.changed;
        left += applied.left;
    }
    let apply = start.elapsed();
    let from_diff: usize = diffs.iter().map(|d| d.added.len()).sum();
    assert_eq!(from_diff, added, "the diff shown is what was applied");
    Timing {
        parse,
        diff,
        apply,
        added,
        changed,
        left,
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (branches, per_branch) = if quick { (50, 40) } else { (500, 40) };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench_roster.db").display());
    let db = storage::connect(&url).await.unwrap();
    let mut ids = HashMap::new();
    for b in 0..branches {
        let name = format!("第{b}党支部");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO branches (chat_id, name, kind, join_code, created_at, updated_at)
             VALUES (?, ?, '机关', ?, 0, 0) RETURNING id",
        )
        .bind(-1_000_000 - b as i64)
        .bind(&name)
        .bind(format!("CODE{b}"))
        .fetch_one(&db)
        .await
        .unwrap();
        ids.insert(name, id);
    }
    let sheet_of = |variant| {
        let people = people(branches, per_branch, variant);
        let rows: Vec<(&str, &Person)> = people.iter().map(|(b, p)| (b.as_str(), p)).collect();
        template::filled(Layout::Organisation, &rows).unwrap()
    };
    let first_sheet = sheet_of(0);
    let second_sheet = sheet_of(1);
    let first = import(&db, &first_sheet, &ids, 1_000).await;
    let second = import(&db, &second_sheet, &ids, 2_000).await;

    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let total = |t: &Timing| ms(t.parse + t.diff + t.apply);
    println!("## Roster import\n");
    println!(
        "Produced by `cargo run --release --example bench_roster` (examples/bench_roster.rs): one organisation sheet of {} people in {} branches ({} KiB), read and validated by `roster::sheet::parse`, grouped by its 支部 column, compared with each branch's stored roster (`domain::roster::diff`) and applied with `storage::roster::apply`, one transaction per branch. Single run each; the machine is shared.\n",
        branches * per_branch,
        branches,
        first_sheet.len() / 1024
    );
    println!("| Import | parse + validate | diff | apply | total | 新增 / 变动 / 转出 |");
    println!("|---|---|---|---|---|---|");
    for (label, t) in [
        ("first, into empty rosters", &first),
        ("second: 5% changed, 2% dropped, 2% renamed", &second),
    ] {
        println!(
            "| {label} | {} | {} | {} | {} | {} / {} / {} |",
            ms(t.parse),
            ms(t.diff),
            ms(t.apply),
            total(t),
            t.added,
            t.changed,
            t.left
        );
    }
}
