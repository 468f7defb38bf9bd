//! The roster sheet the bot hands out (`/roster template`) and writes back: the same columns the
//! parser expects, a 填写说明 sheet the parser never reads, and text cells for 手机号 so Excel does
//! not turn a number into 1.38E+10.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::sheet::{Layout, BRANCH_HEADER, HEADERS};
use crate::domain::roster::Person;
use crate::texts::roster as texts;

/// An empty roster sheet with the instructions on a second sheet.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    header(sheet, Layout::Branch)?;
    let notes = workbook.add_worksheet();
    notes.set_name(texts::TEMPLATE_NOTES_SHEET)?;
    notes.set_column_width(0, 90)?;
    for (row, line) in texts::template_notes().iter().enumerate() {
        notes.write_string(row as u32, 0, line)?;
    }
    workbook.save_to_buffer()
}

/// A filled sheet: people with their branch (for [`Layout::Organisation`]). Used by the tests
/// and the import benchmark, and by an organisation's export once the tree lands.
pub fn filled(layout: Layout, rows: &[(&str, &Person)]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    header(sheet, layout)?;
    let offset = u16::from(layout == Layout::Organisation);
    for (i, (branch, p)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        if layout == Layout::Organisation {
            sheet.write_string(r, 0, *branch)?;
        }
        let cells = texts::sheet_cells(p);
        for (c, value) in cells.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r, c as u16 + offset, value)?;
            }
        }
    }
    workbook.save_to_buffer()
}

fn header(sheet: &mut Worksheet, layout: Layout) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let mut names: Vec<&str> = Vec::new();
    if layout == Layout::Organisation {
        names.push(BRANCH_HEADER);
    }
    names.extend(HEADERS);
    for (c, name) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        sheet.set_column_width(c as u16, 14)?;
    }
    // 手机号 as text, so a pasted number keeps its digits.
    let phone = names.iter().position(|n| *n == "手机号").unwrap_or(3) as u16;
    sheet.set_column_format(phone, &text)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
