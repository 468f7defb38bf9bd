//! An organisation's roster upload: one sheet with a 支部 column covering many branches, sent
//! by an organisation's administrator in private chat.
//!
//! Every branch the sheet names must be in the sender's subtree ([`Viewer`]); a branch they do
//! not manage reads exactly like one that does not exist, so the answer reveals nothing of
//! another subtree. A valid sheet waits until its uploader confirms; the confirmation applies
//! every branch in one transaction, and only when each branch's roster is still what the
//! summary was computed from (otherwise the upload is stale and nothing changes).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::numbers::parse_count;
use crate::domain::roster::{self, Person, RosterDiff};
use crate::error::{AppError, AppResult};
use crate::roster::sheet::{self, column_letter, Layout, Problem, SheetError, SheetRow};
use crate::service::orgs::Viewer;
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::storage::roster as roster_store;
use crate::storage::roster_org as store;

/// One branch of a pending organisation upload, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchPlan {
    pub branch_id: i64,
    pub people: Vec<Person>,
    /// What the summary showed for this branch.
    pub diff: RosterDiff,
}

/// One branch's line of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchSummary {
    pub name: String,
    pub total: usize,
    pub diff: RosterDiff,
}

/// A checked sheet waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub upload_id: i64,
    pub people: usize,
    /// In the order the sheet names them.
    pub branches: Vec<BranchSummary>,
    /// Branches the uploader manages that the sheet does not name: left as they are.
    pub untouched: usize,
}

/// The branches `viewer` manages, and which sheet row names which of them.
fn resolve(
    rows: &[SheetRow],
    visible: &[Branch],
) -> Result<Vec<(i64, Vec<Person>)>, Vec<SheetError>> {
    let mut by_name: HashMap<&str, Vec<i64>> = HashMap::new();
    for b in visible {
        by_name.entry(b.name.trim()).or_default().push(b.id);
    }
    // Each distinct 支部 cell: its first row and how many rows carry it.
    let mut cells: Vec<(String, u32, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let cell = row.branch.clone().unwrap_or_default();
        match index.get(&cell) {
            Some(&i) => cells[i].2 += 1,
            None => {
                index.insert(cell.clone(), cells.len());
                cells.push((cell, row.row, 1));
            }
        }
    }
    let mut errors = Vec::new();
    let mut resolved: HashMap<String, i64> = HashMap::new();
    let mut first_row_of: HashMap<i64, u32> = HashMap::new();
    for (cell, first_row, count) in &cells {
        let error = |problem| SheetError {
            row: *first_row,
            column: Some((column_letter(0), sheet::BRANCH_HEADER)),
            problem,
        };
        let by_id = parse_count(cell).filter(|id| visible.iter().any(|b| b.id == *id));
        let id = match (by_id, by_name.get(cell.trim()).map(Vec::as_slice)) {
            (Some(id), _) | (None, Some(&[id])) => id,
            (None, Some(ids)) if ids.len() > 1 => {
                errors.push(error(Problem::AmbiguousBranch {
                    name: cell.clone(),
                    ids: ids.to_vec(),
                }));
                continue;
            }
            _ => {
                errors.push(error(Problem::UnknownBranch {
                    name: cell.clone(),
                    rows: *count,
                }));
                continue;
            }
        };
        if let Some(&earlier) = first_row_of.get(&id) {
            errors.push(error(Problem::SameBranch { first_row: earlier }));
            continue;
        }
        first_row_of.insert(id, *first_row);
        resolved.insert(cell.clone(), id);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }
    let mut out: Vec<(i64, Vec<Person>)> = Vec::new();
    let mut slot: HashMap<i64, usize> = HashMap::new();
    for row in rows {
        let id = resolved[row.branch.as_deref().unwrap_or_default()];
        let i = *slot.entry(id).or_insert_with(|| {
            out.push((id, Vec::new()));
            out.len() - 1
        });
        out[i].1.push(row.person.clone());
    }
    Ok(out)
}

/// The active branches `viewer` manages.
async fn visible_branches(state: &AppState, viewer: &Viewer) -> AppResult<Vec<Branch>> {
    let mut all = branches::active_branches(&state.db).await?;
    all.retain(|b| viewer.scope.sees(b.org_id));
    Ok(all)
}

async fn current_people(state: &AppState, branch_id: i64) -> AppResult<Vec<Person>> {
    Ok(roster_store::current(&state.db, branch_id)
        .await?
        .into_iter()
        .map(|s| s.person)
        .collect())
}

/// Checks an organisation's sheet for `viewer` and, when valid, keeps it pending.
pub async fn check_upload(
    state: &AppState,
    viewer: &Viewer,
    uploader: i64,
    name: &str,
    bytes: &[u8],
) -> AppResult<Result<Checked, Vec<SheetError>>> {
    let rows = match sheet::parse(bytes, Layout::Organisation) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    let visible = visible_branches(state, viewer).await?;
    let grouped = match resolve(&rows, &visible) {
        Ok(grouped) => grouped,
        Err(errors) => return Ok(Err(errors)),
    };
    let names: HashMap<i64, &str> = visible.iter().map(|b| (b.id, b.name.as_str())).collect();
    let mut plan = Vec::with_capacity(grouped.len());
    let mut summaries = Vec::with_capacity(grouped.len());
    for (branch_id, people) in grouped {
        let diff = roster::diff(&current_people(state, branch_id).await?, &people);
        summaries.push(BranchSummary {
            name: names
                .get(&branch_id)
                .copied()
                .unwrap_or_default()
                .to_owned(),
            total: people.len(),
            diff: diff.clone(),
        });
        plan.push(BranchPlan {
            branch_id,
            people,
            diff,
        });
    }
    let json = serde_json::to_string(&plan).map_err(|e| AppError::Report(e.to_string()))?;
    let now = state.now().timestamp();
    let upload_id = store::create(&state.db, uploader, name, &json, now).await?;
    tracing::info!(
        upload = upload_id,
        uploader,
        branches = plan.len(),
        people = rows.len(),
        "organisation roster uploaded, awaiting confirmation"
    );
    Ok(Ok(Checked {
        upload_id,
        people: rows.len(),
        untouched: visible.len() - plan.len(),
        branches: summaries,
    }))
}

/// Why a confirm or cancel press does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Gone,
    NotYours,
    DoneAlready,
    /// These branches' rosters changed since the check, or the uploader no longer manages
    /// them (or they were unbound): upload the sheet again.
    Stale(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Branches applied, and the totals over them.
    Applied {
        branches: usize,
        totals: roster_store::Applied,
    },
    Cancelled,
}

/// The uploader (`user`, seeing `viewer`) confirms or cancels upload `id`.
pub async fn decide(
    state: &AppState,
    viewer: &Viewer,
    user: i64,
    id: i64,
    confirm: bool,
) -> AppResult<Result<Decision, Refusal>> {
    let Some(upload) = store::get(&state.db, id).await? else {
        return Ok(Err(Refusal::Gone));
    };
    if upload.uploader_id != user {
        return Ok(Err(Refusal::NotYours));
    }
    if upload.applied_at.is_some() || upload.cancelled_at.is_some() {
        return Ok(Err(Refusal::DoneAlready));
    }
    let now = state.now().timestamp();
    if !confirm {
        return Ok(if store::cancel(&state.db, id, now).await? {
            Ok(Decision::Cancelled)
        } else {
            Err(Refusal::DoneAlready)
        });
    }
    let plan: Vec<BranchPlan> = serde_json::from_str(&upload.plan)
        .map_err(|e| AppError::Report(format!("organisation roster upload {id}: {e}")))?;
    let visible = visible_branches(state, viewer).await?;
    let mut stale = Vec::new();
    for branch in &plan {
        let Some(b) = visible.iter().find(|b| b.id == branch.branch_id) else {
            // Not theirs any more: not even its name is shown.
            stale.push(branch.branch_id.to_string());
            continue;
        };
        let now_diff = roster::diff(&current_people(state, b.id).await?, &branch.people);
        if now_diff != branch.diff {
            stale.push(b.name.clone());
        }
    }
    if !stale.is_empty() {
        return Ok(Err(Refusal::Stale(stale)));
    }
    let work: Vec<(i64, Vec<Person>)> = plan.into_iter().map(|b| (b.branch_id, b.people)).collect();
    let Some(applied) = store::apply(&state.db, id, &work, now).await? else {
        return Ok(Err(Refusal::DoneAlready));
    };
    // The scheduler looks for 预备期 reminders the new rosters may call for.
    state.wake.notify_one();
    let totals = applied
        .iter()
        .fold(roster_store::Applied::default(), |t, a| {
            roster_store::Applied {
                added: t.added + a.added,
                changed: t.changed + a.changed,
                left: t.left + a.left,
                total: t.total + a.total,
            }
        });
    tracing::info!(
        upload = id,
        branches = applied.len(),
        added = totals.added,
        changed = totals.changed,
        left = totals.left,
        "organisation roster applied"
    );
    Ok(Ok(Decision::Applied {
        branches: applied.len(),
        totals,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roster::Status;

    fn branch(id: i64, name: &str) -> Branch {
        Branch {
            id,
            chat_id: -id,
            name: name.to_owned(),
            kind: "其他".to_owned(),
            join_code: format!("c{id}"),
            active: true,
            org_id: 1,
        }
    }

    fn row(row: u32, branch: &str, name: &str) -> SheetRow {
        SheetRow {
            row,
            branch: Some(branch.to_owned()),
            person: Person {
                name: name.to_owned(),
                status: Status::Full,
                duty: None,
                phone: None,
                takes_test: None,
                joined_on: None,
                full_on: None,
                on_probation: false,
            },
        }
    }

    #[test]
    fn branches_by_name_or_id_and_errors_at_their_first_row() {
        let visible = [
            branch(1, "一支部"),
            branch(2, "二支部"),
            branch(3, "二支部"),
        ];
        let rows = [row(2, "一支部", "甲"), row(3, "1", "乙")];
        let errors = resolve(&rows, &visible).unwrap_err();
        assert_eq!(errors[0].problem, Problem::SameBranch { first_row: 2 });
        let rows = [
            row(2, "一支部", "甲"),
            row(3, "外支部", "乙"),
            row(4, "外支部", "丙"),
            row(5, "二支部", "丁"),
        ];
        let errors = resolve(&rows, &visible).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].row, 3);
        assert_eq!(errors[0].column, Some(("A".to_owned(), "支部")));
        assert_eq!(
            errors[0].problem,
            Problem::UnknownBranch {
                name: "外支部".into(),
                rows: 2
            }
        );
        assert!(
            matches!(errors[1].problem, Problem::AmbiguousBranch { ref ids, .. } if ids == &[2, 3])
        );
        let rows = [
            row(2, "一支部", "甲"),
            row(3, "3", "乙"),
            row(4, "一支部", "丙"),
        ];
        let grouped = resolve(&rows, &visible).unwrap();
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].0, 1);
        assert_eq!(grouped[0].1.len(), 2);
        assert_eq!(grouped[1].0, 3);
        // An id the uploader does not manage is unknown, however real it is elsewhere.
        let errors = resolve(&[row(2, "9", "甲")], &visible).unwrap_err();
        assert!(matches!(errors[0].problem, Problem::UnknownBranch { .. }));
    }
}
