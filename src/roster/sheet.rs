//! Reading a roster sheet (.xlsx) strictly.
//!
//! Unlike the question bank (headers found by name anywhere), a roster is personal data that
//! decides who is counted: the header must be the first row with the columns in the template's
//! order, formulas and merged cells are refused (what the sheet shows may not be what it holds),
//! and every error names its Excel row and column. Nothing is half-read: a sheet with any error
//! yields errors only.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;

use crate::domain::dates::parse_date;
use crate::domain::roster::{normalize_phone, Duty, Person, Status};

/// The columns of a branch's roster sheet, in order (the template writes exactly these).
pub const HEADERS: [&str; 8] = [
    "姓名",
    "身份",
    "职务",
    "手机号",
    "参加业务测试",
    "入党日期",
    "转正日期",
    "留党察看",
];
/// The first column of an organisation's sheet, which covers many branches.
pub const BRANCH_HEADER: &str = "支部";
/// A branch's sheet: a branch generally has at most 50 members, so this is far past any real one.
pub const MAX_BRANCH_ROWS: usize = 5_000;
/// An organisation's sheet (a 县委组织部 with some hundreds of branches).
pub const MAX_ORG_ROWS: usize = 50_000;
/// Longest 姓名 accepted (names with a distinguishing note such as 张伟（机关） fit).
pub const MAX_NAME_CHARS: usize = 30;

/// Which sheet is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One branch: [`HEADERS`].
    Branch,
    /// Many branches: [`BRANCH_HEADER`] then [`HEADERS`].
    Organisation,
}

impl Layout {
    fn max_rows(self) -> usize {
        match self {
            Layout::Branch => MAX_BRANCH_ROWS,
            Layout::Organisation => MAX_ORG_ROWS,
        }
    }

    fn offset(self) -> usize {
        match self {
            Layout::Branch => 0,
            Layout::Organisation => 1,
        }
    }
}

/// One person read from the sheet, with the Excel row it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub row: u32,
    /// The 支部 cell of an organisation's sheet.
    pub branch: Option<String>,
    pub person: Person,
}

/// What is wrong, for the message that names where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotXlsx,
    NoSheet,
    /// The first row is not the header; `found` is what stands in column `column`.
    WrongHeader {
        expected: &'static str,
        found: String,
    },
    /// An organisation's sheet (支部 column) where a branch's was expected.
    OrganisationSheet,
    /// A branch's sheet where an organisation's was expected.
    BranchSheet,
    TooManyRows {
        rows: usize,
        max: usize,
    },
    NoPeople,
    Formula,
    Merged,
    Missing,
    NameTooLong,
    UnknownStatus(String),
    UnknownDuty(String),
    BadPhone(String),
    BadDate(String),
    BadYesNo(String),
    /// 转正日期 before 入党日期.
    DatesContradict,
    /// A cell holds an Excel error value (#REF!, #N/A ...).
    ErrorValue,
    DuplicateName {
        first_row: u32,
    },
    DuplicatePhone {
        first_row: u32,
    },
    /// An organisation's sheet names a branch the uploader does not manage (or none has that
    /// name or id); `rows` rows carry it. Unknown and foreign read the same, so the answer does
    /// not tell what another subtree holds.
    UnknownBranch {
        name: String,
        rows: usize,
    },
    /// Several branches the uploader manages have this name: the ids tell them apart.
    AmbiguousBranch {
        name: String,
        ids: Vec<i64>,
    },
    /// Written differently (a name and an id) but the same branch as the cell of `first_row`.
    SameBranch {
        first_row: u32,
    },
}

/// One error: Excel's row number (0 for the whole file) and column letter, when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetError {
    pub row: u32,
    /// Excel column letter and header, e.g. ("D", "手机号").
    pub column: Option<(String, &'static str)>,
    pub problem: Problem,
}

impl SheetError {
    fn file(problem: Problem) -> SheetError {
        SheetError {
            row: 0,
            column: None,
            problem,
        }
    }
}

/// Excel's letters for a 0-based column index: 0 → A, 26 → AA.
pub fn column_letter(mut index: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// Which roster layout a sheet has, from its first two header cells alone (for routing a file
/// sent in private chat); `None` when it is not a roster at all.
pub fn layout_of(bytes: &[u8]) -> Option<Layout> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).ok()?;
    let sheet = workbook.sheet_names().first().cloned()?;
    let range = workbook.worksheet_range(&sheet).ok()?;
    let header = |col: u32| -> String {
        range
            .get_value((0, col))
            .map(text_of)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*')
            .collect()
    };
    if range.start() != Some((0, 0)) {
        return None;
    }
    match (header(0).as_str(), header(1).as_str()) {
        (BRANCH_HEADER, "姓名") => Some(Layout::Organisation),
        ("姓名", "身份") => Some(Layout::Branch),
        _ => None,
    }
}

/// Reads and validates the first sheet of an .xlsx roster.
pub fn parse(bytes: &[u8], layout: Layout) -> Result<Vec<SheetRow>, Vec<SheetError>> {
    let mut workbook =
        Xlsx::new(Cursor::new(bytes)).map_err(|_| vec![SheetError::file(Problem::NotXlsx)])?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err(vec![SheetError::file(Problem::NoSheet)]);
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|_| vec![SheetError::file(Problem::NotXlsx)])?;
    let mut errors = structure_errors(&mut workbook, &sheet);
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some((first_row, first_col)) = range.start() else {
        return Err(vec![SheetError::file(Problem::NoPeople)]);
    };
    let rows: Vec<&[Data]> = range.rows().collect();
    // Cells are addressed as Excel shows them, wherever the used range starts.
    let cell = |row: &[Data], col: usize| -> Option<Data> {
        let index = col.checked_sub(first_col as usize)?;
        row.get(index).cloned()
    };
    let header_row = first_row + 1;
    if first_row != 0 {
        return Err(vec![header_error(header_row, 0, layout, "")]);
    }
    let header = rows.first().copied().unwrap_or_default();
    check_header(header, &cell, layout)?;
    let people_rows = rows.len().saturating_sub(1);
    if people_rows > layout.max_rows() {
        return Err(vec![SheetError::file(Problem::TooManyRows {
            rows: people_rows,
            max: layout.max_rows(),
        })]);
    }
    let mut out = Vec::new();
    for (index, row) in rows.iter().enumerate().skip(1) {
        let excel_row = first_row + index as u32 + 1;
        let cells: Vec<Option<Data>> = (0..HEADERS.len() + layout.offset())
            .map(|c| cell(row, c))
            .collect();
        if cells.iter().all(|c| is_blank(c.as_ref())) {
            continue;
        }
        match read_row(&cells, excel_row, layout) {
            Ok(row) => out.push(row),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    report_duplicates(&out, &mut errors);
    if out.is_empty() && errors.is_empty() {
        errors.push(SheetError::file(Problem::NoPeople));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

/// Formulas and merged cells, anywhere in the first sheet.
fn structure_errors(workbook: &mut Xlsx<Cursor<&[u8]>>, sheet: &str) -> Vec<SheetError> {
    let mut errors = Vec::new();
    if let Ok(formulas) = workbook.worksheet_formula(sheet) {
        let (r0, c0) = formulas.start().unwrap_or((0, 0));
        if let Some((r, c, _)) = formulas.used_cells().find(|(_, _, f)| !f.is_empty()) {
            errors.push(at(r0 + r as u32 + 1, c0 + c as u32, Problem::Formula));
        }
    }
    if let Some(Ok(merged)) = workbook.worksheet_merge_cells(sheet) {
        if let Some(region) = merged.first() {
            errors.push(at(region.start.0 + 1, region.start.1, Problem::Merged));
        }
    }
    errors
}

fn at(row: u32, col: u32, problem: Problem) -> SheetError {
    let header = HEADERS.get(col as usize).copied().unwrap_or_default();
    SheetError {
        row,
        column: Some((column_letter(col), header)),
        problem,
    }
}

fn header_error(row: u32, col: usize, layout: Layout, found: &str) -> SheetError {
    let expected = expected_header(layout, col);
    SheetError {
        row,
        column: Some((column_letter(col as u32), expected)),
        problem: Problem::WrongHeader {
            expected,
            found: found.to_owned(),
        },
    }
}

fn expected_header(layout: Layout, col: usize) -> &'static str {
    match (layout, col) {
        (Layout::Organisation, 0) => BRANCH_HEADER,
        _ => HEADERS
            .get(col - layout.offset())
            .copied()
            .unwrap_or_default(),
    }
}

fn check_header(
    header: &[Data],
    cell: &dyn Fn(&[Data], usize) -> Option<Data>,
    layout: Layout,
) -> Result<(), Vec<SheetError>> {
    let name = |col: usize| -> String {
        cell(header, col)
            .map(|d| text_of(&d))
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*')
            .collect()
    };
    let first = name(0);
    if layout == Layout::Branch && first == BRANCH_HEADER {
        return Err(vec![SheetError::file(Problem::OrganisationSheet)]);
    }
    if layout == Layout::Organisation && first == HEADERS[0] {
        return Err(vec![SheetError::file(Problem::BranchSheet)]);
    }
    for col in 0..HEADERS.len() + layout.offset() {
        let found = name(col);
        if found != expected_header(layout, col) {
            return Err(vec![header_error(1, col, layout, &found)]);
        }
    }
    Ok(())
}

fn is_blank(cell: Option<&Data>) -> bool {
    match cell {
        None | Some(Data::Empty) => true,
        Some(Data::String(text)) => text.trim().is_empty(),
        Some(_) => false,
    }
}

/// A cell as text; whole numbers lose Excel's ".0" (a phone number typed as a number).
fn text_of(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.replace("_x000D_", "").trim().to_owned(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(true) => "是".to_owned(),
        Data::Bool(false) => "否".to_owned(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// Column indexes of a branch sheet (an organisation's sheet adds one in front).
mod col {
    pub const NAME: usize = 0;
    pub const STATUS: usize = 1;
    pub const DUTY: usize = 2;
    pub const PHONE: usize = 3;
    pub const TEST: usize = 4;
    pub const JOINED: usize = 5;
    pub const FULL: usize = 6;
    pub const PROBATION: usize = 7;
}

fn read_row(cells: &[Option<Data>], row: u32, layout: Layout) -> Result<SheetRow, Vec<SheetError>> {
    let offset = layout.offset();
    let mut errors = Vec::new();
    let branch = (layout == Layout::Organisation).then(|| {
        cells
            .first()
            .cloned()
            .flatten()
            .map(|d| text_of(&d))
            .unwrap_or_default()
    });
    if branch.as_deref() == Some("") {
        errors.push(SheetError {
            row,
            column: Some((column_letter(0), BRANCH_HEADER)),
            problem: Problem::Missing,
        });
    }
    let mut err = |c: usize, problem: Problem| {
        let index = (c + offset) as u32;
        errors.push(SheetError {
            row,
            column: Some((column_letter(index), HEADERS[c])),
            problem,
        });
    };
    let get = |c: usize| cells.get(c + offset).cloned().flatten();
    for c in 0..HEADERS.len() {
        if matches!(get(c), Some(Data::Error(_))) {
            err(c, Problem::ErrorValue);
        }
    }
    let text = |c: usize| get(c).map(|d| text_of(&d)).unwrap_or_default();
    let name: String = text(col::NAME)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if name.is_empty() {
        err(col::NAME, Problem::Missing);
    } else if name.chars().count() > MAX_NAME_CHARS {
        err(col::NAME, Problem::NameTooLong);
    }
    let status_text = text(col::STATUS);
    let status = if status_text.is_empty() {
        err(col::STATUS, Problem::Missing);
        None
    } else {
        let status = Status::parse(&status_text);
        if status.is_none() {
            err(col::STATUS, Problem::UnknownStatus(status_text));
        }
        status
    };
    let duty_text = text(col::DUTY);
    let duty = Duty::parse(&duty_text).unwrap_or_else(|_| {
        err(col::DUTY, Problem::UnknownDuty(duty_text.clone()));
        None
    });
    let phone_text = text(col::PHONE);
    let phone = if phone_text.is_empty() {
        None
    } else {
        let phone = normalize_phone(&phone_text);
        if phone.is_none() {
            err(col::PHONE, Problem::BadPhone(phone_text));
        }
        phone
    };
    let mut yes_no = |c: usize| -> Option<bool> {
        let t = text(c);
        parse_yes_no(&t).unwrap_or_else(|()| {
            err(c, Problem::BadYesNo(t));
            None
        })
    };
    let takes_test = yes_no(col::TEST);
    let on_probation = yes_no(col::PROBATION).unwrap_or(false);
    let mut date = |c: usize| -> Option<NaiveDate> {
        let cell = get(c)?;
        read_date(&cell).unwrap_or_else(|()| {
            err(c, Problem::BadDate(text_of(&cell)));
            None
        })
    };
    let joined_on = date(col::JOINED);
    let full_on = date(col::FULL);
    if let (Some(joined), Some(full)) = (joined_on, full_on) {
        if full < joined {
            err(col::FULL, Problem::DatesContradict);
        }
    }
    match status {
        Some(status) if errors.is_empty() => Ok(SheetRow {
            row,
            branch,
            person: Person {
                name,
                status,
                duty,
                phone,
                takes_test,
                joined_on,
                full_on,
                on_probation,
            },
        }),
        _ => Err(errors),
    }
}

/// 是/否 as people write it; `Ok(None)` for an empty cell.
fn parse_yes_no(s: &str) -> Result<Option<bool>, ()> {
    match s.trim() {
        "" => Ok(None),
        "是" | "参加" | "Y" | "y" | "1" | "√" | "✓" | "TRUE" | "true" => Ok(Some(true)),
        "否" | "不参加" | "N" | "n" | "0" | "×" | "✗" | "FALSE" | "false" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// A date cell: a real Excel date, or text in one of the forms `parse_date` reads. A bare number
/// (20230101) is refused: it is not a date Excel knows.
fn read_date(cell: &Data) -> Result<Option<NaiveDate>, ()> {
    match cell {
        Data::Empty => Ok(None),
        Data::DateTime(d) if !d.is_duration() => {
            let days = d.as_f64().floor() as i64;
            let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or(())?;
            epoch
                .checked_add_signed(chrono::Duration::days(days))
                .map(Some)
                .ok_or(())
        }
        Data::DateTimeIso(s) => s.get(..10).and_then(|d| d.parse().ok()).map(Some).ok_or(()),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) => parse_date(s).map(Some).map_err(|_| ()),
        _ => Err(()),
    }
}

fn report_duplicates(rows: &[SheetRow], errors: &mut Vec<SheetError>) {
    let offset = u32::from(rows.first().is_some_and(|r| r.branch.is_some()));
    let mut names: HashMap<(Option<&str>, &str), u32> = HashMap::new();
    let mut phones: HashMap<&str, u32> = HashMap::new();
    for r in rows {
        let key = (r.branch.as_deref(), r.person.name.as_str());
        if let Some(&first_row) = names.get(&key) {
            errors.push(SheetError {
                row: r.row,
                column: Some((column_letter(offset), HEADERS[col::NAME])),
                problem: Problem::DuplicateName { first_row },
            });
        } else {
            names.insert(key, r.row);
        }
        if let Some(phone) = r.person.phone.as_deref() {
            if let Some(&first_row) = phones.get(phone) {
                errors.push(SheetError {
                    row: r.row,
                    column: Some((column_letter(offset + 3), HEADERS[col::PHONE])),
                    problem: Problem::DuplicatePhone { first_row },
                });
            } else {
                phones.insert(phone, r.row);
            }
        }
    }
}

#[cfg(test)]
mod tests;
