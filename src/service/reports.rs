//! Report requests: which round, the round report for administrators (their subtree only, rolled
//! up the organisation tree and by branch kind), one branch's figures for its group, and the
//! compliance report. Rendering is `reports`' job.

use std::collections::HashMap;

use crate::config::Config;
use crate::domain::dates::local_date;
use crate::domain::stats::Thresholds;
use crate::domain::term::BranchKind;
use crate::error::AppResult;
use crate::reports::model::{
    BranchRow, ComplianceReport, KindRollup, OrgRollup, RoundReport, Totals,
};
use crate::service::orgs::Viewer;
use crate::service::AppState;
use crate::storage::orgs as org_store;
use crate::storage::reports::{self as store, ReportOptions, RoundInfo};
use crate::storage::Db;

/// Rounds in the trend chart and table, this one included.
pub const TREND_ROUNDS: u32 = 8;
/// Terms ending within this many days are listed as approaching: half a year leaves time for
/// the election steps (request, nomination, approval).
pub const APPROACHING_DAYS: u32 = 180;

/// How reports are made with this configuration; the command line uses the same.
pub fn report_options(config: &Config) -> ReportOptions {
    ReportOptions {
        pass_mark: config.pass_mark,
        timezone: config.timezone,
        trend_rounds: TREND_ROUNDS,
        thresholds: Thresholds::default(),
        round_label: crate::texts::report_replies::round_label,
        roster_scope: config.roster_test_scope,
    }
}

/// Which round a report request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Round(RoundInfo),
    NoSuchRound(i64),
    NoRoundsYet,
}

/// Round `requested`, or by default the latest closed round (or the open one).
pub async fn pick_round(state: &AppState, requested: Option<i64>) -> AppResult<Picked> {
    Ok(match store::pick_round(&state.db, requested).await? {
        Some(round) => Picked::Round(round),
        None => match requested {
            Some(n) => Picked::NoSuchRound(n),
            None => Picked::NoRoundsYet,
        },
    })
}

/// The round report as `viewer` may see it, or `None` when nobody has submitted an attempt yet.
pub async fn round_report(
    state: &AppState,
    round: &RoundInfo,
    viewer: &Viewer,
) -> AppResult<Option<RoundReport>> {
    if !store::has_submissions(&state.db, round.id).await? {
        return Ok(None);
    }
    let options = report_options(&state.config);
    Ok(Some(
        scoped_round_report(&state.db, round, &options, viewer).await?,
    ))
}

/// The round report limited to the branches the viewer sees, as they were placed in the tree
/// when the round closed, with the roll-ups per organisation and per branch kind. The command
/// line (`branchbot report --org`) uses it too.
pub async fn scoped_round_report(
    db: &Db,
    round: &RoundInfo,
    options: &ReportOptions,
    viewer: &Viewer,
) -> AppResult<RoundReport> {
    if round.closed {
        crate::storage::summaries::ensure(db, round.id, options).await?;
    }
    let placed = org_store::round_orgs(db, round.id).await?;
    let only = viewer.branch_filter(&placed);
    let mut report = store::round_report(db, round, options, only.as_deref()).await?;
    for row in &mut report.branches {
        row.org_id = placed.get(&row.id).copied().unwrap_or(row.org_id);
        row.org_path = path_from_top(viewer, row.org_id);
    }
    report.orgs = org_rollups(viewer, &report.branches);
    report.kinds = kind_rollups(&report.branches);
    Ok(report)
}

/// Names from the viewer's top organisation down to `org` (the whole path for the root's
/// administrators).
pub fn path_from_top(viewer: &Viewer, org: i64) -> Vec<String> {
    let path = viewer.tree.path(org);
    let start = path
        .iter()
        .position(|o| viewer.tops.contains(&o.id))
        .unwrap_or(0);
    path[start..].iter().map(|o| o.name.clone()).collect()
}

/// Raw sums, added up the tree before they become [`Totals`].
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    branches: u32,
    members: u32,
    participants: u32,
    scored: u32,
    score_sum: f64,
    passed: f64,
}

impl Sums {
    fn add_row(&mut self, row: &BranchRow) {
        let n = f64::from(row.scored);
        self.branches += 1;
        self.members += row.members;
        self.participants += row.participants;
        self.scored += row.scored;
        self.score_sum += row.average.unwrap_or(0.0) * n;
        self.passed += row.pass_rate.unwrap_or(0.0) * n;
    }

    fn add(&mut self, other: &Sums) {
        self.branches += other.branches;
        self.members += other.members;
        self.participants += other.participants;
        self.scored += other.scored;
        self.score_sum += other.score_sum;
        self.passed += other.passed;
    }

    fn totals(&self) -> Totals {
        let n = f64::from(self.scored);
        Totals {
            branches: self.branches,
            members: self.members,
            participants: self.participants,
            average: (self.scored > 0).then(|| self.score_sum / n),
            pass_rate: (self.scored > 0).then(|| self.passed / n),
        }
    }
}

/// Every organisation of the viewer's subtree that has branches below it, depth-first, with its
/// totals. Sums go up the tree once (children before parents), so the cost is the size of the
/// tree plus the number of branches.
fn org_rollups(viewer: &Viewer, branches: &[BranchRow]) -> Vec<OrgRollup> {
    let mut own: HashMap<i64, Sums> = HashMap::new();
    for row in branches {
        own.entry(row.org_id).or_default().add_row(row);
    }
    let mut out = Vec::new();
    for top in &viewer.tops {
        let walk = viewer.tree.walk(*top);
        let mut total: HashMap<i64, Sums> = HashMap::new();
        for (_, org) in walk.iter().rev() {
            let mut sums = own.get(&org.id).copied().unwrap_or_default();
            for child in viewer.tree.children(org.id) {
                if let Some(child_sums) = total.get(&child.id) {
                    sums.add(child_sums);
                }
            }
            total.insert(org.id, sums);
        }
        for (depth, org) in walk {
            let sums = total[&org.id];
            if sums.branches == 0 {
                continue;
            }
            out.push(OrgRollup {
                org_id: org.id,
                depth,
                name: org.name.clone(),
                path: path_from_top(viewer, org.id),
                totals: sums.totals(),
            });
        }
    }
    out
}

/// Totals per branch kind in the order of `BranchKind::ALL`, then any other stored kind.
fn kind_rollups(branches: &[BranchRow]) -> Vec<KindRollup> {
    let mut by_kind: HashMap<&str, Sums> = HashMap::new();
    for row in branches {
        by_kind.entry(row.kind.as_str()).or_default().add_row(row);
    }
    let mut kinds: Vec<&str> = by_kind.keys().copied().collect();
    let order = |k: &str| {
        BranchKind::ALL
            .iter()
            .position(|b| b.label() == k)
            .unwrap_or(usize::MAX)
    };
    kinds.sort_by_key(|k| (order(k), k.to_string()));
    kinds
        .into_iter()
        .map(|kind| KindRollup {
            kind: kind.to_owned(),
            totals: by_kind[kind].totals(),
        })
        .collect()
}

/// One branch's participation and average, for its group.
pub async fn branch_report(
    state: &AppState,
    round: &RoundInfo,
    branch_id: i64,
) -> AppResult<RoundReport> {
    let options = report_options(&state.config);
    store::branch_report(&state.db, round, branch_id, &options).await
}

/// Elections overdue or approaching and meetings missed over the last `days` days, in the
/// viewer's subtree, each row with its organisation's path.
pub async fn compliance(
    state: &AppState,
    days: u32,
    viewer: &Viewer,
) -> AppResult<ComplianceReport> {
    let tz = state.config.timezone;
    let as_of = local_date(tz, state.now());
    let placed = org_store::branch_orgs(&state.db).await?;
    let only = viewer.branch_filter(&placed);
    let mut report = store::compliance_report(
        &state.db,
        as_of,
        days,
        APPROACHING_DAYS,
        tz,
        only.as_deref(),
    )
    .await?;
    let path = |org: i64| path_from_top(viewer, org).join(" / ");
    for row in report
        .overdue_elections
        .iter_mut()
        .chain(report.approaching_elections.iter_mut())
    {
        row.org = path(row.org_id);
    }
    for row in &mut report.missed_meetings {
        row.org = path(row.org_id);
    }
    // `/overdue` lists by organisation; within one, the earliest deadline first (a stable sort).
    report.overdue_elections.sort_by(|a, b| a.org.cmp(&b.org));
    report
        .approaching_elections
        .sort_by(|a, b| a.org.cmp(&b.org));
    Ok(report)
}

/// Unit tests of the roll-ups live with the end-to-end report tests; here the arithmetic.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::{Org, OrgTree};
    use crate::service::orgs::viewer_in;

    fn org(id: i64, name: &str, parent: Option<i64>) -> Org {
        Org {
            id,
            name: name.into(),
            kind: "党委".into(),
            parent_id: parent,
            retired: false,
        }
    }

    fn branch(id: i64, org: i64, kind: &str, members: u32, scores: &[u32]) -> BranchRow {
        let mut row = BranchRow::from_scores(id, format!("支部{id}"), kind, members, scores, 60);
        row.org_id = org;
        row
    }

    #[test]
    fn totals_roll_up_the_tree_weighted_by_participants() {
        let tree = OrgTree::new(vec![
            org(1, "县", None),
            org(2, "甲镇", Some(1)),
            org(3, "甲镇总支", Some(2)),
            org(4, "乙镇", Some(1)),
        ]);
        let rows = vec![
            branch(10, 3, "农村", 4, &[100, 80]),
            branch(11, 2, "学校", 2, &[40]),
            branch(12, 4, "农村", 5, &[]),
        ];
        let all = viewer_in(tree.clone(), &[1], false);
        let orgs = org_rollups(&all, &rows);
        let find = |v: &[OrgRollup], id| v.iter().find(|o| o.org_id == id).unwrap().totals;
        let county = find(&orgs, 1);
        assert_eq!(
            (county.branches, county.members, county.participants),
            (3, 11, 3)
        );
        assert_eq!(county.average, Some(220.0 / 3.0));
        let town = find(&orgs, 2);
        assert_eq!((town.branches, town.participants), (2, 3));
        assert_eq!(find(&orgs, 4).average, None);
        // Children in name order (乙 sorts before 甲), each followed by its own children.
        let order: Vec<(usize, i64)> = orgs.iter().map(|o| (o.depth, o.org_id)).collect();
        assert_eq!(order, [(0, 1), (1, 4), (1, 2), (2, 3)]);

        // A township's administrator starts at the township; the county is not shown.
        let scoped = viewer_in(tree, &[2], false);
        let orgs = org_rollups(&scoped, &rows);
        assert_eq!(orgs.iter().map(|o| o.org_id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(orgs[1].path, ["甲镇", "甲镇总支"]);

        let kinds = kind_rollups(&rows);
        assert_eq!(kinds[0].kind, "农村");
        assert_eq!(kinds[0].totals.members, 9);
        assert_eq!(kinds[1].kind, "学校");
    }
}
