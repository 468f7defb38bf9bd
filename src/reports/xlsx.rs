//! Reports as an Excel workbook: one sheet per table, Chinese headers, native numbers, dates and
//! percentages (so administrators can sort, filter and chart them), header row frozen.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{
    Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::reports::model::{Cell, ComplianceReport, RoundReport, Table};

/// Sheets longer than this are written in rust_xlsxwriter's low-memory mode.
const LOW_MEMORY_ROWS: usize = 1000;

/// Excel refuses longer strings; question texts never come close, but names are user input.
const MAX_CELL_CHARS: usize = 32_767;

/// The round report as `.xlsx` bytes: sheets 概况, 支部, 学员, 未参加, 题目, 分类, 趋势.
pub fn round_workbook(report: &RoundReport) -> Result<Vec<u8>, XlsxError> {
    tables_workbook(&report.tables())
}

/// The compliance report as `.xlsx` bytes: sheets 换届 and 会议.
pub fn compliance_workbook(report: &ComplianceReport) -> Result<Vec<u8>, XlsxError> {
    tables_workbook(&report.tables())
}

/// Any set of tables as one workbook, a sheet per table in order.
pub fn tables_workbook(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    for table in tables {
        // A big sheet is written row by row to a temporary file instead of being held whole.
        let sheet = if table.rows.len() > LOW_MEMORY_ROWS {
            workbook.add_worksheet_with_low_memory()
        } else {
            workbook.add_worksheet()
        };
        write_table(sheet, table, &formats)?;
    }
    workbook.save_to_buffer()
}

struct Formats {
    header: Format,
    text: Format,
    wrapped: Format,
    int: Format,
    decimal: Format,
    percent: Format,
    coefficient: Format,
    datetime: Format,
    date: Format,
    duration: Format,
}

impl Formats {
    fn new() -> Self {
        let top = |f: Format| f.set_align(FormatAlign::Top);
        Self {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xF2DCDB))
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            text: top(Format::new()),
            wrapped: top(Format::new().set_text_wrap()),
            int: top(Format::new().set_num_format("0")),
            decimal: top(Format::new().set_num_format("0.0")),
            percent: top(Format::new().set_num_format("0.0%")),
            coefficient: top(Format::new().set_num_format("0.000")),
            datetime: top(Format::new().set_num_format("yyyy-mm-dd hh:mm")),
            date: top(Format::new().set_num_format("yyyy-mm-dd")),
            duration: top(Format::new().set_num_format("[h]:mm:ss")),
        }
    }
}

fn write_table(sheet: &mut Worksheet, table: &Table, formats: &Formats) -> Result<(), XlsxError> {
    sheet.set_name(table.sheet)?;
    // Each column's usual format is set once on the column, and cells of that format are
    // written without one: rust_xlsxwriter hashes a cell's format on every write, which was
    // most of the time of a 50,000-row sheet (BENCHMARKS.md).
    let mut column_formats: Vec<Option<&Format>> = Vec::with_capacity(table.columns.len());
    for (col, column) in table.columns.iter().enumerate() {
        let usual = table.rows.iter().find_map(|cells| {
            cells
                .get(col)
                .and_then(|c| cell_format(c, column.wrap, formats))
        });
        let col = col as u16;
        sheet.set_column_width(col, column.width)?;
        if let Some(format) = usual {
            sheet.set_column_format(col, format)?;
        }
        sheet.write_string_with_format(0, col, column.header, &formats.header)?;
        column_formats.push(usual);
    }
    for (index, cells) in table.rows.iter().enumerate() {
        let row = index as u32 + 1;
        for (col, cell) in cells.iter().enumerate() {
            let wrap = table.columns.get(col).is_some_and(|c| c.wrap);
            let usual = column_formats.get(col).copied().flatten();
            write_cell(sheet, row, col as u16, cell, wrap, usual, formats)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() && !table.columns.is_empty() {
        sheet.autofilter(
            0,
            0,
            table.rows.len() as u32,
            table.columns.len() as u16 - 1,
        )?;
    }
    Ok(())
}

/// The format a cell is shown with (`None` for an empty cell).
fn cell_format<'f>(cell: &Cell, wrap: bool, formats: &'f Formats) -> Option<&'f Format> {
    Some(match cell {
        Cell::Text(_) if wrap => &formats.wrapped,
        Cell::Text(_) => &formats.text,
        Cell::Int(_) => &formats.int,
        Cell::Decimal(_) => &formats.decimal,
        Cell::Percent(_) => &formats.percent,
        Cell::Coefficient(_) => &formats.coefficient,
        Cell::DateTime(v) if excel_datetime(*v).is_some() => &formats.datetime,
        Cell::Date(v) if excel_date(*v).is_some() => &formats.date,
        // Outside Excel's calendar: written as text.
        Cell::DateTime(_) | Cell::Date(_) => &formats.text,
        Cell::Duration(_) => &formats.duration,
        Cell::Empty => return None,
    })
}

/// Writes one cell, without a format when it is the column's (`usual`).
fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    wrap: bool,
    usual: Option<&Format>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let Some(format) = cell_format(cell, wrap, formats) else {
        return Ok(());
    };
    let own = (!usual.is_some_and(|u| std::ptr::eq(u, format))).then_some(format);
    let number = |sheet: &mut Worksheet, value: f64| match own {
        Some(format) => sheet
            .write_number_with_format(row, col, value, format)
            .map(drop),
        None => sheet.write_number(row, col, value).map(drop),
    };
    match cell {
        Cell::Text(text) => {
            // Excel refuses longer strings; a byte count under the limit is a char count too.
            let text = if text.len() <= MAX_CELL_CHARS {
                text.clone()
            } else {
                text.chars().take(MAX_CELL_CHARS).collect()
            };
            match own {
                Some(format) => sheet.write_string_with_format(row, col, text, format)?,
                None => sheet.write_string(row, col, text)?,
            };
        }
        Cell::Int(value) => number(sheet, *value as f64)?,
        Cell::Decimal(value) | Cell::Percent(value) | Cell::Coefficient(value) => {
            number(sheet, *value)?
        }
        Cell::Duration(seconds) => number(sheet, *seconds as f64 / 86_400.0)?,
        Cell::DateTime(value) => match excel_datetime(*value) {
            Some(dt) => match own {
                Some(format) => sheet
                    .write_datetime_with_format(row, col, dt, format)
                    .map(drop)?,
                None => sheet.write_datetime(row, col, dt).map(drop)?,
            },
            None => {
                sheet.write_string_with_format(row, col, value.to_string(), &formats.text)?;
            }
        },
        Cell::Date(value) => match excel_date(*value) {
            Some(d) => match own {
                Some(format) => sheet
                    .write_datetime_with_format(row, col, d, format)
                    .map(drop)?,
                None => sheet.write_datetime(row, col, d).map(drop)?,
            },
            None => {
                sheet.write_string_with_format(row, col, value.to_string(), &formats.text)?;
            }
        },
        Cell::Empty => {}
    }
    Ok(())
}

/// `None` outside Excel's calendar (years 1900–9999); such a value is written as text.
fn excel_date(date: NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(date.year()).ok()?;
    ExcelDateTime::from_ymd(year, date.month() as u8, date.day() as u8).ok()
}

fn excel_datetime(dt: NaiveDateTime) -> Option<ExcelDateTime> {
    excel_date(dt.date())?
        .and_hms(dt.hour() as u16, dt.minute() as u8, dt.second())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::tests::{sample_compliance, sample_report};
    use crate::texts::reports as t;
    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
    use std::io::Cursor;

    fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs(Cursor::new(bytes)).expect("a readable workbook")
    }

    fn text(s: &str) -> Data {
        Data::String(s.to_owned())
    }

    #[test]
    fn round_workbook_reads_back() {
        let bytes = round_workbook(&sample_report()).expect("workbook");
        let mut book = open(bytes);
        assert_eq!(
            book.sheet_names(),
            vec![
                "概况",
                "组织汇总",
                "类型汇总",
                "支部",
                "学员",
                "未参加",
                "未加入",
                "题目",
                "分类",
                "趋势"
            ]
        );

        let branches = book.worksheet_range(t::SHEET_BRANCHES).expect("sheet");
        assert_eq!(branches.get((0, 0)), Some(&text(t::COL_BRANCH)));
        assert_eq!(branches.get((0, 5)), Some(&text(t::COL_AVERAGE)));
        assert_eq!(branches.get((1, 0)), Some(&text("城东社区党支部")));
        assert_eq!(branches.get((1, 2)), Some(&Data::Float(4.0)));
        assert_eq!(branches.get((1, 4)), Some(&Data::Float(0.75)));
        let Some(Data::Float(average)) = branches.get((1, 5)) else {
            panic!("average is a number");
        };
        assert!((average - 215.0 / 3.0).abs() < 1e-9);
        // Nobody took part in the hospital branch: average left blank, not zero.
        assert_eq!(branches.get((3, 5)), Some(&Data::Empty));

        let trainees = book.worksheet_range(t::SHEET_TRAINEES).expect("sheet");
        assert_eq!(trainees.get((1, 1)), Some(&text("张三")));
        assert_eq!(trainees.get((1, 2)), Some(&Data::Float(90.0)));
        assert_eq!(trainees.get((3, 1)), Some(&text("=王五")));
        assert_eq!(trainees.get((4, 5)), Some(&text(t::NO)));
        assert!(matches!(trainees.get((1, 7)), Some(Data::DateTime(_))));

        let missing = book
            .worksheet_range(t::SHEET_NON_PARTICIPANTS)
            .expect("sheet");
        assert_eq!(missing.get((2, 1)), Some(&text("孙八")));

        let questions = book.worksheet_range(t::SHEET_QUESTIONS).expect("sheet");
        assert_eq!(questions.get((1, 0)), Some(&text("hj-001")));
        assert_eq!(questions.get((1, 2)), Some(&text("单选")));
        assert_eq!(questions.get((1, 6)), Some(&Data::Float(0.15)));
        assert_eq!(questions.get((1, 7)), Some(&Data::Float(-0.05)));
        assert_eq!(
            questions.get((1, 8)),
            Some(&text(&t::flags(&sample_report().questions[0].flags)))
        );

        // Cells written without a format take their column's: a time still reads as a time.
        let trainees = book.worksheet_range(t::SHEET_TRAINEES).expect("sheet");
        assert!(
            matches!(trainees.get((1, 7)), Some(Data::DateTime(_))),
            "{:?}",
            trainees.get((1, 7))
        );
        let categories = book.worksheet_range(t::SHEET_CATEGORIES).expect("sheet");
        assert_eq!(categories.get((2, 0)), Some(&text("组织生活")));
        assert_eq!(categories.get((2, 3)), Some(&Data::Float(1.0)));
    }

    /// A sheet long enough for the low-memory mode reads back whole, formats included.
    #[test]
    fn a_long_sheet_reads_back() {
        let mut report = sample_report();
        let first = report.trainees[0].clone();
        report.trainees = (0..LOW_MEMORY_ROWS + 5)
            .map(|i| {
                let mut t = first.clone();
                t.name = format!("学员{i}");
                t
            })
            .collect();
        let mut book = open(round_workbook(&report).expect("workbook"));
        let trainees = book.worksheet_range(t::SHEET_TRAINEES).expect("sheet");
        assert_eq!(trainees.height(), LOW_MEMORY_ROWS + 6);
        let last = LOW_MEMORY_ROWS as u32 + 5;
        assert_eq!(
            trainees.get((last as usize, 1)),
            Some(&text(&format!("学员{}", LOW_MEMORY_ROWS + 4)))
        );
        assert!(matches!(
            trainees.get((last as usize, 7)),
            Some(Data::DateTime(_))
        ));
    }

    #[test]
    fn compliance_workbook_reads_back() {
        let bytes = compliance_workbook(&sample_compliance()).expect("workbook");
        let mut book = open(bytes);
        assert_eq!(book.sheet_names(), vec!["换届", "会议"]);
        let elections = book.worksheet_range(t::SHEET_ELECTIONS).expect("sheet");
        assert_eq!(elections.get((1, 5)), Some(&text(t::ELECTION_OVERDUE)));
        assert_eq!(elections.get((1, 6)), Some(&Data::Float(-64.0)));
        let meetings = book.worksheet_range(t::SHEET_MEETINGS).expect("sheet");
        assert_eq!(meetings.get((1, 2)), Some(&text("支部委员会会议")));
        assert_eq!(meetings.get((1, 5)), Some(&Data::Float(2.0)));
    }

    #[test]
    fn empty_report_still_has_every_sheet_with_headers() {
        let mut report = sample_report();
        report.trainees.clear();
        report.non_participants.clear();
        report.questions.clear();
        report.categories.clear();
        let mut book = open(round_workbook(&report).expect("workbook"));
        let sheet = book.worksheet_range(t::SHEET_TRAINEES).expect("sheet");
        assert_eq!(sheet.get((0, 1)), Some(&text(t::COL_NAME)));
        assert_eq!(sheet.height(), 1);
    }
}
