//! Question banks as Chinese organisations keep them: an Excel sheet, one question a row.
//!
//! Headers are found by name, so column order, extra columns (难度, 备注, ...) and a title
//! row above the header do not matter. Rows are reported as Excel numbers them, so the
//! person who fixes the sheet finds the row at once.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::error::{BankError, BankFormat, ErrorKind};
use super::model::{option_letter, Question};
use super::toml_file::finish;
use super::validate::{
    report_duplicate_ids, Checker, Field, Located, Placed, RawQuestion, Slot, MAX_OPTIONS,
};
use crate::texts::questions as texts;

/// The header is looked for this far down, past a title row or two.
const HEADER_SEARCH_ROWS: usize = 10;

/// Columns every sheet must have; 选项C–选项F may be left out when no question needs them.
const REQUIRED_COLUMNS: [&str; 9] = [
    "题号", "题型", "分类", "题干", "选项A", "选项B", "答案", "解析", "出处",
];

/// Parses and validates the first sheet of an .xlsx file; `file_name` is only used in errors.
pub fn parse_xlsx(file_name: &str, bytes: &[u8]) -> Result<Vec<Question>, Vec<BankError>> {
    let (placed, mut errors) = read_xlsx(file_name, bytes);
    report_duplicate_ids(&placed, &mut errors);
    finish(placed, errors)
}

/// Where each known column sits, by position in the sheet's used range.
#[derive(Default)]
struct Columns {
    fields: HashMap<&'static str, usize>,
    /// Option columns in letter order: (letter index, position).
    options: Vec<(usize, usize)>,
}

fn read_xlsx(file_name: &str, bytes: &[u8]) -> (Vec<Placed>, Vec<BankError>) {
    let mut errors = Vec::new();
    let mut checker = Checker {
        file: file_name,
        format: BankFormat::Xlsx,
        errors: &mut errors,
    };
    let mut workbook = match Xlsx::new(Cursor::new(bytes)) {
        Ok(workbook) => workbook,
        Err(err) => {
            checker.push(0, ErrorKind::NotXlsx, texts::not_xlsx(&err.to_string()));
            return (Vec::new(), errors);
        }
    };
    let range = match workbook.worksheet_range_at(0) {
        None => {
            checker.push(0, ErrorKind::NotXlsx, texts::no_sheet());
            return (Vec::new(), errors);
        }
        Some(Err(err)) => {
            checker.push(0, ErrorKind::NotXlsx, texts::not_xlsx(&err.to_string()));
            return (Vec::new(), errors);
        }
        Some(Ok(range)) => range,
    };
    let Some((first_row, _)) = range.start() else {
        checker.push(0, ErrorKind::NoQuestions, texts::no_questions_in_sheet());
        return (Vec::new(), errors);
    };
    // Excel numbers rows from 1; calamine from 0 and from the first used row.
    let excel_row = |index: usize| first_row as usize + index + 1;

    let rows: Vec<&[Data]> = range.rows().collect();
    let header_index = rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|row| row.iter().any(|cell| header_name(cell) == "题干"))
        .unwrap_or(0);
    let Some(header) = rows.get(header_index) else {
        checker.push(0, ErrorKind::NoQuestions, texts::no_questions_in_sheet());
        return (Vec::new(), errors);
    };
    let Some(columns) = find_columns(&mut checker, header, excel_row(header_index)) else {
        return (Vec::new(), errors);
    };

    let mut placed = Vec::new();
    let mut seen_question = false;
    for (index, row) in rows.iter().enumerate().skip(header_index + 1) {
        let line = excel_row(index);
        let used = columns
            .fields
            .values()
            .chain(columns.options.iter().map(|(_, position)| position))
            .any(|&position| !is_blank(row.get(position)));
        if !used {
            continue;
        }
        seen_question = true;
        let raw = raw_question(&mut checker, &columns, row, line);
        placed.extend(checker.question(&raw));
    }
    if !seen_question {
        checker.push(0, ErrorKind::NoQuestions, texts::no_questions_in_sheet());
    }
    (placed, errors)
}

/// Maps headers to columns, reporting duplicates and missing required ones.
fn find_columns(checker: &mut Checker<'_>, header: &[Data], line: usize) -> Option<Columns> {
    let mut columns = Columns::default();
    let mut ok = true;
    for (position, cell) in header.iter().enumerate() {
        let name = header_name(cell);
        let known = Field::ALL
            .iter()
            .filter(|field| **field != Field::Options)
            .map(|field| field.column())
            .find(|column| *column == name);
        if let Some(column) = known {
            if columns.fields.insert(column, position).is_some() {
                checker.push(
                    line,
                    ErrorKind::DuplicateColumn,
                    texts::duplicate_column(column),
                );
                ok = false;
            }
            continue;
        }
        let option = (0..MAX_OPTIONS).find(|&i| name == option_header(i));
        if let Some(letter) = option {
            if columns.options.iter().any(|(l, _)| *l == letter) {
                checker.push(
                    line,
                    ErrorKind::DuplicateColumn,
                    texts::duplicate_column(&option_header(letter)),
                );
                ok = false;
            } else {
                columns.options.push((letter, position));
            }
        }
    }
    columns.options.sort_unstable();
    for required in REQUIRED_COLUMNS {
        let present = columns.fields.contains_key(required)
            || columns
                .options
                .iter()
                .any(|(letter, _)| option_header(*letter) == required);
        if !present {
            checker.push(
                line,
                ErrorKind::MissingColumn,
                texts::missing_column(required),
            );
            ok = false;
        }
    }
    ok.then_some(columns)
}

fn option_header(letter_index: usize) -> String {
    let letter = u8::try_from(letter_index).map_or('?', option_letter);
    format!("选项{letter}")
}

fn raw_question(
    checker: &mut Checker<'_>,
    columns: &Columns,
    row: &[Data],
    line: usize,
) -> RawQuestion {
    let mut raw = RawQuestion {
        line,
        ..RawQuestion::default()
    };
    for field in Field::ALL {
        if field == Field::Options {
            continue;
        }
        let Some(&position) = columns.fields.get(field.column()) else {
            continue;
        };
        let label = checker.label(field);
        let slot = match cell_text(row.get(position), &label, field == Field::Answer) {
            Ok(value) => Slot::Present(Located { value, line }),
            Err((kind, message)) => {
                checker.push(line, kind, message);
                Slot::Invalid
            }
        };
        match field {
            Field::Id => raw.id = slot,
            Field::Kind => raw.kind = slot,
            Field::Category => raw.category = slot,
            Field::Text => raw.text = slot,
            Field::Answer => raw.answer = slot,
            Field::Explanation => raw.explanation = slot,
            Field::Source => raw.source = slot,
            Field::Options => {}
        }
    }

    // Options are the cells 选项A… up to the last filled one; a gap stays in as an empty
    // option, which validation reports, instead of silently shifting the letters.
    let mut options = Vec::new();
    let mut valid = true;
    for &(letter, position) in &columns.options {
        let label = texts::column_label(&option_header(letter));
        match cell_text(row.get(position), &label, false) {
            Ok(value) => {
                while options.len() < letter {
                    options.push(Located {
                        value: String::new(),
                        line,
                    });
                }
                options.push(Located { value, line });
            }
            Err((kind, message)) => {
                checker.push(line, kind, message);
                valid = false;
            }
        }
    }
    while options.last().is_some_and(|o| o.value.trim().is_empty()) {
        options.pop();
    }
    raw.options = match (valid, options.is_empty()) {
        (false, _) => Slot::Invalid,
        (true, true) => Slot::Missing,
        (true, false) => Slot::Present(options),
    };
    raw
}

/// A header as written, without spaces (also full-width ones) and with letters in
/// upper-case half-width, so "选项 ａ" matches 选项A.
fn header_name(cell: &Data) -> String {
    let Data::String(text) = cell else {
        return String::new();
    };
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .map(|c| match c {
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
                let base = if c >= 'ａ' { 0xFF41 } else { 0xFF21 };
                char::from_u32(u32::from(c) - base + u32::from('A')).unwrap_or(c)
            }
            _ => c.to_ascii_uppercase(),
        })
        .collect()
}

fn is_blank(cell: Option<&Data>) -> bool {
    match cell {
        None | Some(Data::Empty) => true,
        Some(Data::String(text)) => text.trim().is_empty(),
        Some(_) => false,
    }
}

/// A cell as text. Numbers lose a ".0" Excel adds to whole numbers (题号 1, option 3);
/// TRUE/FALSE in the answer column mean 对/错.
fn cell_text(
    cell: Option<&Data>,
    label: &str,
    is_answer: bool,
) -> Result<String, (ErrorKind, String)> {
    let text = match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(text)) => text.replace("_x000D_", ""),
        Some(Data::Int(number)) => number.to_string(),
        Some(Data::Float(number)) => format_number(*number),
        Some(Data::Bool(value)) if is_answer => (if *value { "对" } else { "错" }).to_owned(),
        Some(Data::Bool(value)) => (if *value { "TRUE" } else { "FALSE" }).to_owned(),
        Some(Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_)) => {
            return Err((ErrorKind::BadCell, texts::cell_is_date(label)));
        }
        Some(Data::Error(error)) => {
            return Err((
                ErrorKind::BadCell,
                texts::cell_is_error(label, &error.to_string()),
            ));
        }
    };
    Ok(text)
}

fn format_number(number: f64) -> String {
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    if number.fract() == 0.0 && number.abs() < EXACT_INTEGER_LIMIT {
        // Exact: whole and within f64's integer range.
        format!("{number:.0}")
    } else {
        number.to_string()
    }
}
