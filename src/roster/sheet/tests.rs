use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::*;
use crate::roster::template;

/// A workbook whose first sheet is written by `fill`.
fn book(fill: impl FnOnce(&mut Worksheet) -> Result<(), XlsxError>) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    fill(sheet).unwrap();
    workbook.save_to_buffer().unwrap()
}

fn header(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    Ok(())
}

fn row(sheet: &mut Worksheet, r: u32, cells: &[&str]) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        if !v.is_empty() {
            sheet.write_string(r, c as u16, *v)?;
        }
    }
    Ok(())
}

fn errors(bytes: &[u8]) -> Vec<SheetError> {
    parse(bytes, Layout::Branch).expect_err("the sheet should be refused")
}

#[test]
fn a_good_sheet_reads_every_column() {
    let bytes = book(|s| {
        header(s)?;
        row(
            s,
            1,
            &[
                "张三",
                "正式党员",
                "书记",
                "138 0013 8000",
                "",
                "2010-07-01",
                "2011-07-01",
                "",
            ],
        )?;
        row(
            s,
            2,
            &["李四", "预备党员", "", "", "是", "2025年3月2日", "", ""],
        )?;
        // A real Excel date and a phone typed as a number.
        s.write_string(3, 0, "王五")?;
        s.write_string(3, 1, "正式")?;
        s.write_number(3, 3, 13900139000.0)?;
        let date = ExcelDateTime::from_ymd(2001, 7, 1)?;
        s.write_datetime_with_format(3, 5, &date, &Format::new().set_num_format("yyyy-mm-dd"))?;
        s.write_string(3, 7, "是")?;
        Ok(())
    });
    let rows = parse(&bytes, Layout::Branch).unwrap();
    assert_eq!(rows.len(), 3);
    let zhang = &rows[0].person;
    assert_eq!(rows[0].row, 2);
    assert_eq!(zhang.duty, Some(Duty::Secretary));
    assert_eq!(zhang.phone.as_deref(), Some("13800138000"));
    assert_eq!(zhang.full_on, NaiveDate::from_ymd_opt(2011, 7, 1));
    assert_eq!(rows[1].person.takes_test, Some(true));
    assert_eq!(
        rows[1].person.joined_on,
        NaiveDate::from_ymd_opt(2025, 3, 2)
    );
    let wang = &rows[2].person;
    assert_eq!(wang.phone.as_deref(), Some("13900139000"));
    assert_eq!(wang.joined_on, NaiveDate::from_ymd_opt(2001, 7, 1));
    assert!(wang.on_probation);
}

#[test]
fn every_cell_error_names_row_and_column() {
    let bytes = book(|s| {
        header(s)?;
        row(
            s,
            1,
            &["张三", "党外", "主任", "12345", "也许", "昨天", "", ""],
        )?;
        row(s, 2, &["", "正式党员", "", "", "", "", "", ""])?;
        row(
            s,
            3,
            &[
                "李四",
                "正式党员",
                "",
                "",
                "",
                "2020-01-01",
                "2019-01-01",
                "",
            ],
        )
    });
    let errs = errors(&bytes);
    let at: Vec<(u32, String)> = errs
        .iter()
        .map(|e| (e.row, e.column.clone().unwrap().0))
        .collect();
    assert_eq!(
        at,
        [
            (2, "B".to_owned()),
            (2, "C".to_owned()),
            (2, "D".to_owned()),
            (2, "E".to_owned()),
            (2, "F".to_owned()),
            (3, "A".to_owned()),
            (4, "G".to_owned()),
        ]
    );
    assert_eq!(errs[0].problem, Problem::UnknownStatus("党外".into()));
    assert_eq!(errs[6].problem, Problem::DatesContradict);
    let text = crate::texts::roster::error(&errs[2]);
    assert!(text.starts_with("第 2 行 D 列（手机号）"), "{text}");
    assert!(
        !text.contains("12345"),
        "a bad phone is not repeated: {text}"
    );
}

#[test]
fn duplicates_name_the_first_row() {
    let bytes = book(|s| {
        header(s)?;
        row(
            s,
            1,
            &["张三", "正式党员", "", "13800138000", "", "", "", ""],
        )?;
        row(s, 2, &["张三", "预备党员", "", "", "", "", "", ""])?;
        row(
            s,
            3,
            &["李四", "正式党员", "", "+8613800138000", "", "", "", ""],
        )
    });
    let errs = errors(&bytes);
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0].problem, Problem::DuplicateName { first_row: 2 });
    assert_eq!(errs[1].problem, Problem::DuplicatePhone { first_row: 2 });
}

#[test]
fn a_wrong_column_order_is_refused() {
    let bytes = book(|s| {
        for (c, h) in ["身份", "姓名"].iter().chain(&HEADERS[2..]).enumerate() {
            s.write_string(0, c as u16, *h)?;
        }
        row(s, 1, &["正式党员", "张三"])
    });
    let errs = errors(&bytes);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].problem,
        Problem::WrongHeader {
            expected: "姓名",
            found: "身份".into()
        }
    );
    assert_eq!(errs[0].row, 1);
}

#[test]
fn a_title_row_above_the_header_is_refused() {
    let bytes = book(|s| {
        s.write_string(0, 0, "某某支部党员名册")?;
        for (c, h) in HEADERS.iter().enumerate() {
            s.write_string(1, c as u16, *h)?;
        }
        row(s, 2, &["张三", "正式党员"])
    });
    assert!(matches!(
        errors(&bytes)[0].problem,
        Problem::WrongHeader { .. }
    ));
}

#[test]
fn formulas_and_merged_cells_are_refused() {
    let formula = book(|s| {
        header(s)?;
        row(s, 1, &["张三", "正式党员"])?;
        s.write_formula(1, 2, "=\"书\"&\"记\"")?;
        Ok(())
    });
    let errs = errors(&formula);
    assert_eq!(errs[0].problem, Problem::Formula);
    assert_eq!(
        (errs[0].row, errs[0].column.clone().unwrap().0.as_str()),
        (2, "C")
    );
    let merged = book(|s| {
        header(s)?;
        row(s, 1, &["张三", "正式党员"])?;
        s.merge_range(2, 0, 3, 0, "李四", &Format::new())?;
        Ok(())
    });
    let errs = errors(&merged);
    assert_eq!(errs[0].problem, Problem::Merged);
    assert_eq!(errs[0].row, 3);
}

#[test]
fn too_many_rows_and_other_files_are_refused() {
    let bytes = book(|s| {
        header(s)?;
        for r in 1..=(MAX_BRANCH_ROWS as u32 + 1) {
            s.write_string(r, 0, format!("人{r}"))?;
            s.write_string(r, 1, "正式党员")?;
        }
        Ok(())
    });
    assert_eq!(
        errors(&bytes)[0].problem,
        Problem::TooManyRows {
            rows: MAX_BRANCH_ROWS + 1,
            max: MAX_BRANCH_ROWS
        }
    );
    assert_eq!(errors(b"not a workbook")[0].problem, Problem::NotXlsx);
    assert_eq!(errors(&book(header))[0].problem, Problem::NoPeople);
}

#[test]
fn an_organisation_sheet_is_told_apart() {
    let p = Person {
        name: "张三".into(),
        status: Status::Full,
        duty: Some(Duty::Worker),
        phone: Some("13800138000".into()),
        takes_test: Some(false),
        joined_on: NaiveDate::from_ymd_opt(2020, 1, 2),
        full_on: NaiveDate::from_ymd_opt(2021, 1, 2),
        on_probation: true,
    };
    let mut q = p.clone();
    q.phone = None;
    let org = template::filled(Layout::Organisation, &[("一支部", &p), ("二支部", &q)]).unwrap();
    assert_eq!(errors(&org)[0].problem, Problem::OrganisationSheet);
    let rows = parse(&org, Layout::Organisation).unwrap();
    assert_eq!(
        rows.len(),
        2,
        "the same name in two branches is no duplicate"
    );
    assert_eq!(rows[1].branch.as_deref(), Some("二支部"));
    assert_eq!(rows[0].person, p, "a filled sheet reads back as written");
    let branch = template::filled(Layout::Branch, &[("", &p)]).unwrap();
    assert_eq!(
        parse(&branch, Layout::Organisation).unwrap_err()[0].problem,
        Problem::BranchSheet
    );
}

#[test]
fn the_template_is_an_empty_valid_header() {
    let bytes = template::template().unwrap();
    assert_eq!(errors(&bytes)[0].problem, Problem::NoPeople);
}

#[test]
fn column_letters() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(27), "AB");
}
