//! Importing the organisation tree from the sheet a 组织部 already keeps: one organisation a row,
//! columns 组织名称, 上级组织, 组织类别.
//!
//! Like a question-bank upload, the sheet is checked completely first (every error names its
//! row and column), the changes wait for the administrator's confirmation, and they are planned
//! again against the tree of that moment before they are applied in one transaction. Rows name
//! their parent by name, so names in the sheet must be unique; an organisation already in the
//! tree is matched by its name and moved or re-kinded, never duplicated. The one row without a
//! parent is the root (renamed when the sheet names it differently). Organisations the sheet
//! leaves out stay as they are: importing never retires or deletes anything.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde::{Deserialize, Serialize};

use crate::domain::org::{OrgTree, ROOT};
use crate::error::AppResult;
use crate::service::orgs::{check_name, kind_for, OrgRefusal};
use crate::service::AppState;
use crate::storage::orgs as store;

/// The columns, in the order of the template.
pub const COLUMNS: [&str; 3] = ["组织名称", "上级组织", "组织类别"];
/// More rows than any county or city has; a bigger sheet is a mistake (or a whole province,
/// which should be imported city by city).
pub const MAX_ROWS: usize = 5000;
pub const MAX_IMPORT_BYTES: u32 = 2 * 1024 * 1024;

/// One row as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// As Excel numbers it.
    pub line: usize,
    pub name: String,
    pub parent: String,
    pub kind: String,
}

/// What is wrong, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// Excel row; 0 for the file as a whole.
    pub line: usize,
    pub column: Option<&'static str>,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotXlsx,
    MissingColumn,
    NoRows,
    TooManyRows(usize),
    /// A formula: the sheet must hold values, not calculations.
    Formula,
    BadName,
    BadKind(String),
    /// No kind written, and the name does not end in one.
    NoKind,
    /// The same name on two rows (the first row's number).
    DuplicateName(usize),
    /// More than one row without a parent.
    SecondRoot(usize),
    UnknownParent(String),
    RetiredParent(String),
    /// Several live organisations carry this name; the sheet cannot tell which.
    AmbiguousName(String),
    /// Following the parents from this row comes back to it.
    Cycle,
    /// The root cannot be placed under another organisation.
    RootMoved,
}

/// What confirming the import will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// New organisations, parents before children: (name, kind, parent name).
    pub create: Vec<(String, String, String)>,
    /// Existing organisations placed under another parent: (id, new parent name).
    pub moves: Vec<(i64, String)>,
    /// Existing organisations whose kind changes: (id, kind).
    pub rekind: Vec<(i64, String)>,
    /// The root's new name, when the sheet names it differently.
    pub rename_root: Option<String>,
    pub unchanged: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.moves.is_empty()
            && self.rekind.is_empty()
            && self.rename_root.is_none()
    }
}

/// Reads the first sheet. Headers are found by name in the first ten rows.
pub fn read_sheet(bytes: &[u8]) -> Result<Vec<Row>, Vec<ImportError>> {
    let whole = |problem| {
        vec![ImportError {
            line: 0,
            column: None,
            problem,
        }]
    };
    let Ok(mut workbook) = Xlsx::new(Cursor::new(bytes)) else {
        return Err(whole(Problem::NotXlsx));
    };
    let Some(Ok(range)) = workbook.worksheet_range_at(0) else {
        return Err(whole(Problem::NotXlsx));
    };
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let excel_row = |index: usize| first_row + index + 1;
    let rows: Vec<&[Data]> = range.rows().collect();
    let header_at = rows.iter().take(10).position(|row| {
        row.iter()
            .any(|c| cell_text(c).as_deref() == Some(COLUMNS[0]))
    });
    let Some(header_at) = header_at else {
        return Err(COLUMNS
            .iter()
            .map(|c| ImportError {
                line: 0,
                column: Some(*c),
                problem: Problem::MissingColumn,
            })
            .collect());
    };
    let header = rows[header_at];
    let position = |name: &str| {
        header
            .iter()
            .position(|c| cell_text(c).as_deref() == Some(name))
    };
    let mut errors = Vec::new();
    let mut columns = [0usize; 3];
    for (i, name) in COLUMNS.iter().enumerate() {
        match position(name) {
            Some(p) => columns[i] = p,
            None => errors.push(ImportError {
                line: excel_row(header_at),
                column: Some(*name),
                problem: Problem::MissingColumn,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Formulas are read separately: calamine shows their cached values as plain cells.
    let formulas = workbook
        .worksheet_formula(&workbook.sheet_names()[0].clone())
        .ok();
    let mut out = Vec::new();
    for (index, row) in rows.iter().enumerate().skip(header_at + 1) {
        let line = excel_row(index);
        let cells: Vec<String> = columns
            .iter()
            .map(|&p| row.get(p).and_then(cell_text).unwrap_or_default())
            .collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if let Some(formulas) = &formulas {
            for (i, &p) in columns.iter().enumerate() {
                let at = (
                    line as u32 - 1,
                    p as u32 + range.start().map_or(0, |(_, c)| c),
                );
                if formulas.get_value(at).is_some_and(|f| !f.is_empty()) {
                    errors.push(ImportError {
                        line,
                        column: Some(COLUMNS[i]),
                        problem: Problem::Formula,
                    });
                }
            }
        }
        out.push(Row {
            line,
            name: cells[0].clone(),
            parent: cells[1].clone(),
            kind: cells[2].clone(),
        });
        if out.len() > MAX_ROWS {
            return Err(whole(Problem::TooManyRows(MAX_ROWS)));
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.extend(whole(Problem::NoRows));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn cell_text(cell: &Data) -> Option<String> {
    let text = match cell {
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        _ => return None,
    };
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// Plans the rows against the tree; every problem found, each with its row and column.
pub fn plan(tree: &OrgTree, rows: &[Row]) -> Result<Plan, Vec<ImportError>> {
    let mut errors = Vec::new();
    let mut err = |line, column, problem| {
        errors.push(ImportError {
            line,
            column,
            problem,
        })
    };
    let [name_col, parent_col, kind_col] = COLUMNS.map(Some);
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    let mut kinds: HashMap<&str, &'static str> = HashMap::new();
    let mut root_row: Option<&Row> = None;
    for row in rows {
        if check_name(&row.name).is_err() {
            err(row.line, name_col, Problem::BadName);
            continue;
        }
        if let Some(first) = first_line.insert(&row.name, row.line) {
            err(row.line, name_col, Problem::DuplicateName(first));
            first_line.insert(&row.name, first);
            continue;
        }
        match kind_for(
            &row.name,
            Some(&row.kind)
                .filter(|k| !k.is_empty())
                .map(|k| k.as_str()),
        ) {
            Ok(kind) => {
                kinds.insert(&row.name, kind);
            }
            Err(OrgRefusal::BadKind(written)) => err(row.line, kind_col, Problem::BadKind(written)),
            Err(_) => err(row.line, kind_col, Problem::NoKind),
        }
        if row.parent.is_empty() {
            match root_row {
                Some(first) => err(row.line, parent_col, Problem::SecondRoot(first.line)),
                None => root_row = Some(row),
            }
        }
    }
    // Where every named organisation is now, when it exists: (id, current parent).
    let mut existing: HashMap<&str, i64> = HashMap::new();
    for row in rows {
        if root_row.is_some_and(|r| r.line == row.line) {
            existing.insert(&row.name, ROOT);
            continue;
        }
        match tree.by_name(&row.name).as_slice() {
            [] => {}
            [one] if one.id == ROOT => err(row.line, parent_col, Problem::RootMoved),
            [one] => {
                existing.insert(&row.name, one.id);
            }
            _ => err(row.line, name_col, Problem::AmbiguousName(row.name.clone())),
        }
    }
    let root_name = tree.get(ROOT).map(|o| o.name.clone()).unwrap_or_default();
    // Resolve each row's parent: a row of the sheet, or a live organisation of the tree.
    let mut parent_of: HashMap<&str, Parent> = HashMap::new();
    // A duplicate row was reported already; only a name's first row places it.
    let first_rows = rows
        .iter()
        .filter(|r| first_line.get(r.name.as_str()) == Some(&r.line));
    for row in first_rows.filter(|r| !r.parent.is_empty()) {
        let parent = if first_line.contains_key(row.parent.as_str()) {
            Parent::Row(row.parent.clone())
        } else if row.parent == root_name {
            Parent::Existing(ROOT)
        } else {
            match tree.by_name(&row.parent).as_slice() {
                [one] => Parent::Existing(one.id),
                [] if tree_has_retired(tree, &row.parent) => {
                    err(
                        row.line,
                        parent_col,
                        Problem::RetiredParent(row.parent.clone()),
                    );
                    continue;
                }
                [] => {
                    err(
                        row.line,
                        parent_col,
                        Problem::UnknownParent(row.parent.clone()),
                    );
                    continue;
                }
                _ => {
                    err(
                        row.line,
                        parent_col,
                        Problem::AmbiguousName(row.parent.clone()),
                    );
                    continue;
                }
            }
        };
        parent_of.insert(&row.name, parent);
    }
    // Cycles: follow parents through the sheet and, past it, through the tree as it will be.
    let by_id: HashMap<i64, &str> = existing.iter().map(|(n, id)| (*id, *n)).collect();
    let node_of = |id: i64| by_id.get(&id).map_or(Node::Tree(id), |n| Node::Sheet(n));
    for row in rows
        .iter()
        .filter(|r| parent_of.contains_key(r.name.as_str()))
    {
        let mut seen = HashSet::new();
        let mut at = Some(Node::Sheet(&row.name));
        while let Some(node) = at {
            if !seen.insert(node) {
                err(row.line, parent_col, Problem::Cycle);
                break;
            }
            at = match node {
                Node::Sheet(name) => match parent_of.get(name) {
                    Some(Parent::Row(p)) => Some(Node::Sheet(p)),
                    Some(Parent::Existing(id)) => Some(node_of(*id)),
                    None => None,
                },
                Node::Tree(id) => tree.get(id).and_then(|o| o.parent_id).map(node_of),
            };
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup();
        return Err(errors);
    }
    Ok(build_plan(
        tree, rows, &existing, &parent_of, &kinds, root_row,
    ))
}

/// A step up the tree while looking for cycles: a row of the sheet (which decides its own
/// parent) or an organisation the sheet leaves where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node<'a> {
    Sheet(&'a str),
    Tree(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Parent {
    Row(String),
    Existing(i64),
}

fn tree_has_retired(tree: &OrgTree, name: &str) -> bool {
    tree.walk(ROOT)
        .iter()
        .any(|(_, o)| o.retired && o.name == name)
}

fn build_plan(
    tree: &OrgTree,
    rows: &[Row],
    existing: &HashMap<&str, i64>,
    parent_of: &HashMap<&str, Parent>,
    kinds: &HashMap<&str, &'static str>,
    root_row: Option<&Row>,
) -> Plan {
    let mut plan = Plan::default();
    let parent_name = |p: &Parent| match p {
        Parent::Row(name) => name.clone(),
        Parent::Existing(id) => tree.get(*id).map(|o| o.name.clone()).unwrap_or_default(),
    };
    // Parents first: a row is created once the row it hangs under exists.
    let mut created: HashSet<&str> = HashSet::new();
    let mut pending: Vec<&Row> = rows
        .iter()
        .filter(|r| !existing.contains_key(r.name.as_str()))
        .collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|row| {
            let parent = &parent_of[row.name.as_str()];
            let ready = match parent {
                Parent::Row(p) => existing.contains_key(p.as_str()) || created.contains(p.as_str()),
                Parent::Existing(_) => true,
            };
            if ready {
                plan.create.push((
                    row.name.clone(),
                    kinds[row.name.as_str()].to_owned(),
                    parent_name(parent),
                ));
                created.insert(row.name.as_str());
            }
            !ready
        });
        if pending.len() == before {
            break; // cannot happen after the cycle check; never loop forever
        }
    }
    for row in rows.iter() {
        let Some(&id) = existing.get(row.name.as_str()) else {
            continue;
        };
        let Some(org) = tree.get(id) else { continue };
        let mut changed = false;
        if let Some(parent) = parent_of.get(row.name.as_str()) {
            let target = match parent {
                Parent::Existing(pid) => Some(*pid),
                Parent::Row(name) => existing.get(name.as_str()).copied(),
            };
            if target != org.parent_id {
                plan.moves.push((id, parent_name(parent)));
                changed = true;
            }
        }
        let kind = kinds[row.name.as_str()];
        if kind != org.kind {
            plan.rekind.push((id, kind.to_owned()));
            changed = true;
        }
        if !changed {
            plan.unchanged += 1;
        }
    }
    if let Some(root) = root_row {
        if tree.get(ROOT).is_some_and(|r| r.name != root.name) {
            plan.rename_root = Some(root.name.clone());
        }
    }
    plan
}

/// An Excel file read as an organisation sheet: its rows, or what is wrong with them.
#[derive(Debug)]
pub struct OrgSheet(Result<Vec<Row>, Vec<ImportError>>);

/// Reads `bytes` once and says whether it is an organisation sheet at all (an .xlsx with a
/// 组织名称 header); `None` for any other file, which is then read as what it is.
pub fn org_sheet(bytes: &[u8]) -> Option<OrgSheet> {
    let read = read_sheet(bytes);
    let not_ours = matches!(&read, Err(errors) if errors.iter().any(|e| {
        e.problem == Problem::NotXlsx || (e.problem == Problem::MissingColumn && e.line == 0)
    }));
    (!not_ours).then_some(OrgSheet(read))
}

/// A checked upload: its id for the buttons, and what it will do.
#[derive(Debug, Clone)]
pub struct Checked {
    pub import_id: i64,
    pub plan: Plan,
    pub rows: usize,
}

/// Reads and checks an uploaded sheet; a valid one is stored for confirmation.
pub async fn check(
    state: &AppState,
    admin_id: i64,
    file_name: &str,
    sheet: OrgSheet,
) -> AppResult<Result<Checked, Vec<ImportError>>> {
    let rows = match sheet.0 {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    let tree = store::tree(&state.db).await?;
    let plan = match plan(&tree, &rows) {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(errors)),
    };
    let json =
        serde_json::to_string(&rows).map_err(|e| crate::error::AppError::Report(e.to_string()))?;
    let import_id = store::save_import(
        &state.db,
        admin_id,
        file_name,
        &json,
        state.now().timestamp(),
    )
    .await?;
    Ok(Ok(Checked {
        import_id,
        plan,
        rows: rows.len(),
    }))
}

/// Why a confirmation did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Gone,
    NotYours,
    DoneAlready,
    /// The tree changed since the check and the sheet no longer fits it.
    Stale(Vec<ImportError>),
}

/// Applies (or cancels) a checked import, planning it again against the tree of now.
pub async fn decide(
    state: &AppState,
    admin_id: i64,
    import_id: i64,
    confirm: bool,
) -> AppResult<Result<Option<Plan>, Refusal>> {
    let Some(pending) = store::import(&state.db, import_id).await? else {
        return Ok(Err(Refusal::Gone));
    };
    if pending.admin_id != admin_id {
        return Ok(Err(Refusal::NotYours));
    }
    if pending.done {
        return Ok(Err(Refusal::DoneAlready));
    }
    let now = state.now().timestamp();
    if !confirm {
        let mut tx = crate::storage::write(&state.db).await?;
        let closed = store::close_import(&mut tx, import_id, false, now).await?;
        tx.commit().await?;
        return Ok(if closed {
            Ok(None)
        } else {
            Err(Refusal::DoneAlready)
        });
    }
    let rows: Vec<Row> = serde_json::from_str(&pending.plan).unwrap_or_default();
    let mut tx = crate::storage::write(&state.db).await?;
    // Read the tree inside the write transaction: nothing can change it before the commit.
    let tree = store::tree_in(&mut tx).await?;
    let plan = match plan(&tree, &rows) {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(Refusal::Stale(errors))),
    };
    if !store::close_import(&mut tx, import_id, true, now).await? {
        return Ok(Err(Refusal::DoneAlready));
    }
    let codes: Vec<String> = (0..plan.create.len())
        .map(|_| crate::service::orgs::new_bind_code(state))
        .collect();
    apply(&mut tx, &tree, &plan, &codes, now).await?;
    tx.commit().await?;
    tracing::info!(
        import = import_id,
        created = plan.create.len(),
        moved = plan.moves.len(),
        "organisation tree imported"
    );
    Ok(Ok(Some(plan)))
}

async fn apply(
    conn: &mut sqlx::SqliteConnection,
    tree: &OrgTree,
    plan: &Plan,
    codes: &[String],
    now: i64,
) -> AppResult<()> {
    // Names are unique among the sheet and the live tree (checked), so a name finds its id.
    let mut ids: HashMap<String, i64> = HashMap::new();
    for (_, org) in tree.walk(ROOT) {
        if !org.retired {
            ids.entry(org.name.clone()).or_insert(org.id);
        }
    }
    if let Some(name) = &plan.rename_root {
        sqlx::query!(
            "UPDATE organisations SET name = ?, updated_at = ? WHERE id = 1",
            name,
            now
        )
        .execute(&mut *conn)
        .await?;
        ids.insert(name.clone(), ROOT);
    }
    for ((name, kind, parent), code) in plan.create.iter().zip(codes) {
        let parent_id = ids.get(parent).copied().unwrap_or(ROOT);
        let id = sqlx::query_scalar!(
            r#"INSERT INTO organisations (name, kind, parent_id, bind_code, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
            name,
            kind,
            parent_id,
            code,
            now,
            now
        )
        .fetch_one(&mut *conn)
        .await?;
        ids.insert(name.clone(), id);
    }
    for (id, parent) in &plan.moves {
        let parent_id = ids.get(parent).copied().unwrap_or(ROOT);
        sqlx::query!(
            "UPDATE organisations SET parent_id = ?, updated_at = ? WHERE id = ? AND id != 1",
            parent_id,
            now,
            id
        )
        .execute(&mut *conn)
        .await?;
    }
    for (id, kind) in &plan.rekind {
        sqlx::query!(
            "UPDATE organisations SET kind = ?, updated_at = ? WHERE id = ?",
            kind,
            now,
            id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The template sheet: the three columns and two example rows.
pub fn template() -> AppResult<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let report = |e: rust_xlsxwriter::XlsxError| crate::error::AppError::Report(e.to_string());
    for (i, column) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, *column, &bold)
            .map_err(report)?;
        sheet.set_column_width(i as u16, 24).map_err(report)?;
    }
    for (r, row) in crate::texts::orgs::TEMPLATE_ROWS.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet
                .write_string(r as u32 + 1, c as u16, *value)
                .map_err(report)?;
        }
    }
    book.save_to_buffer().map_err(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::Org;

    fn tree() -> OrgTree {
        let org = |id, name: &str, parent: Option<i64>, kind: &str| Org {
            id,
            name: name.into(),
            kind: kind.into(),
            parent_id: parent,
            retired: false,
        };
        let mut retired = org(4, "旧乡党委", Some(1), "党委");
        retired.retired = true;
        OrgTree::new(vec![
            org(1, "县委组织部", None, "组织部"),
            org(2, "城关镇党委", Some(1), "党委"),
            org(3, "城关镇机关党总支", Some(2), "党总支"),
            retired,
        ])
    }

    fn row(line: usize, name: &str, parent: &str, kind: &str) -> Row {
        Row {
            line,
            name: name.into(),
            parent: parent.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn new_organisations_come_parents_first_and_existing_ones_move() {
        let rows = vec![
            row(2, "河口乡学校党总支", "河口乡党委", ""),
            row(3, "河口乡党委", "县委组织部", "党委"),
            row(4, "城关镇机关党总支", "河口乡党委", "党总支"),
            row(5, "城关镇党委", "县委组织部", "党委"),
        ];
        let plan = plan(&tree(), &rows).unwrap();
        assert_eq!(
            plan.create,
            vec![
                ("河口乡党委".into(), "党委".into(), "县委组织部".into()),
                (
                    "河口乡学校党总支".into(),
                    "党总支".into(),
                    "河口乡党委".into()
                ),
            ]
        );
        assert_eq!(plan.moves, vec![(3, "河口乡党委".into())]);
        assert_eq!(plan.unchanged, 1);
        assert!(plan.rekind.is_empty() && plan.rename_root.is_none());
    }

    #[test]
    fn every_bad_row_is_named_with_its_column() {
        let rows = vec![
            row(2, "甲党委", "乙党委", "党委"),
            row(3, "乙党委", "甲党委", "党委"),
            row(4, "丙党总支", "不存在的党委", ""),
            row(5, "丁党总支", "旧乡党委", ""),
            row(6, "甲党委", "县委组织部", ""),
            row(7, "某支部", "县委组织部", "支部"),
            row(8, "县委组织部", "城关镇党委", ""),
        ];
        let errors = plan(&tree(), &rows).unwrap_err();
        let found: Vec<(usize, Option<&str>, Problem)> = errors
            .into_iter()
            .map(|e| (e.line, e.column, e.problem))
            .collect();
        assert!(
            found.contains(&(2, Some("上级组织"), Problem::Cycle)),
            "{found:?}"
        );
        assert!(found.contains(&(3, Some("上级组织"), Problem::Cycle)));
        assert!(found.contains(&(
            4,
            Some("上级组织"),
            Problem::UnknownParent("不存在的党委".into())
        )));
        assert!(found.contains(&(
            5,
            Some("上级组织"),
            Problem::RetiredParent("旧乡党委".into())
        )));
        assert!(found.contains(&(6, Some("组织名称"), Problem::DuplicateName(2))));
        assert!(found.contains(&(7, Some("组织类别"), Problem::BadKind("支部".into()))));
        assert!(found.contains(&(8, Some("上级组织"), Problem::RootMoved)));
    }

    #[test]
    fn moving_an_organisation_under_its_own_child_is_a_cycle() {
        let rows = vec![row(2, "城关镇党委", "城关镇机关党总支", "党委")];
        let errors = plan(&tree(), &rows).unwrap_err();
        assert_eq!(errors[0].problem, Problem::Cycle);
    }

    #[test]
    fn the_row_without_a_parent_renames_the_root() {
        let rows = vec![
            row(2, "某县委组织部", "", "组织部"),
            row(3, "新乡党委", "某县委组织部", ""),
        ];
        let plan = plan(&tree(), &rows).unwrap();
        assert_eq!(plan.rename_root.as_deref(), Some("某县委组织部"));
        assert_eq!(
            plan.create,
            vec![("新乡党委".into(), "党委".into(), "某县委组织部".into())]
        );
        let two_roots = vec![row(2, "甲", "", "党委"), row(3, "乙", "", "党委")];
        assert!(plan_errors(&two_roots).contains(&Problem::SecondRoot(2)));
    }

    fn plan_errors(rows: &[Row]) -> Vec<Problem> {
        plan(&tree(), rows)
            .unwrap_err()
            .into_iter()
            .map(|e| e.problem)
            .collect()
    }

    #[test]
    fn the_template_reads_back_as_a_valid_import() {
        let bytes = template().unwrap();
        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows.len(), crate::texts::orgs::TEMPLATE_ROWS.len());
        assert_eq!(rows[0].line, 2);
    }
}
