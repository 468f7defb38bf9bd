//! Reports as CSV files, one per table, for tools that do not read Excel.
//!
//! Each file starts with a UTF-8 byte-order mark: without it Excel on a Chinese Windows reads
//! the file as GBK and shows mojibake. Text that Excel would take for a formula is defused.

use crate::reports::model::{Cell, ComplianceReport, RoundReport, Table};
use crate::reports::text::{percent, points};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The round report as `(file name, bytes)`, e.g. `round-12-branches.csv`.
pub fn round_csv(report: &RoundReport) -> Result<Vec<(String, Vec<u8>)>, csv::Error> {
    tables_csv(&format!("round-{}", report.round_id), &report.tables())
}

/// The compliance report as `(file name, bytes)`, e.g. `compliance-2026-03-15-meetings.csv`.
pub fn compliance_csv(report: &ComplianceReport) -> Result<Vec<(String, Vec<u8>)>, csv::Error> {
    tables_csv(
        &format!("compliance-{}", report.as_of.format("%Y-%m-%d")),
        &report.tables(),
    )
}

/// One file per table, named `<prefix>-<table stem>.csv`.
pub fn tables_csv(prefix: &str, tables: &[Table]) -> Result<Vec<(String, Vec<u8>)>, csv::Error> {
    tables
        .iter()
        .map(|table| {
            Ok((
                format!("{prefix}-{}.csv", table.file_stem),
                table_csv(table)?,
            ))
        })
        .collect()
}

/// One table as CSV bytes: BOM, header row, data rows.
pub fn table_csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    writer.write_record(table.columns.iter().map(|c| c.header))?;
    for row in &table.rows {
        writer.write_record(row.iter().map(cell_text))?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

/// How a cell reads in CSV; numbers are written the way Excel parses them back as numbers.
fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => defuse_formula(text),
        Cell::Int(value) => value.to_string(),
        Cell::Decimal(value) => points(*value),
        Cell::Percent(value) => percent(*value),
        Cell::Coefficient(value) => format!("{value:.3}"),
        Cell::DateTime(value) => value.format("%Y-%m-%d %H:%M").to_string(),
        Cell::Date(value) => value.format("%Y-%m-%d").to_string(),
        Cell::Duration(seconds) => {
            let seconds = (*seconds).max(0);
            format!(
                "{}:{:02}:{:02}",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            )
        }
        Cell::Empty => String::new(),
    }
}

/// A name like `=HYPERLINK(...)` typed into a Telegram profile must not run as a formula when
/// the administrator opens the file (CSV injection); a leading apostrophe makes it plain text.
fn defuse_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::tests::{sample_compliance, sample_report};
    use crate::texts::reports as t;

    fn read(bytes: &[u8]) -> Vec<Vec<String>> {
        assert!(bytes.starts_with(BOM), "starts with a byte-order mark");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[BOM.len()..]);
        reader
            .records()
            .map(|record| {
                record
                    .expect("a valid record")
                    .iter()
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn one_file_per_table_read_back_intact() {
        let files = round_csv(&sample_report()).expect("csv");
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "round-12-overview.csv",
                "round-12-organisations.csv",
                "round-12-branch-kinds.csv",
                "round-12-branches.csv",
                "round-12-trainees.csv",
                "round-12-non-participants.csv",
                "round-12-never-joined.csv",
                "round-12-questions.csv",
                "round-12-categories.csv",
                "round-12-trend.csv",
            ]
        );

        let branches = read(&files[3].1);
        assert_eq!(branches[0][0], t::COL_BRANCH);
        assert_eq!(
            branches[1],
            vec![
                "城东社区党支部",
                "社区",
                "4",
                "3",
                "75.0%",
                "71.7",
                "66.7%",
                "按已加入人数统计"
            ]
        );
        assert_eq!(branches[3][5], "");

        let trainees = read(&files[4].1);
        assert_eq!(trainees[1][1], "张三");
        assert_eq!(trainees[1][7], "2026-03-02 10:00");
        assert_eq!(trainees[1][8], "0:12:34");
        // A name that looks like a formula is defused.
        assert_eq!(trainees[3][1], "'=王五");

        let questions = read(&files[7].1);
        assert_eq!(questions[1][7], "-0.050");
        assert_eq!(questions[2][7], "");
    }

    #[test]
    fn compliance_files() {
        let files = compliance_csv(&sample_compliance()).expect("csv");
        assert_eq!(files[0].0, "compliance-2026-03-15-elections.csv");
        let elections = read(&files[0].1);
        assert_eq!(elections[1][3], "2026-01-10");
        assert_eq!(elections[2][4], "2026-05-01");
        let meetings = read(&files[1].1);
        assert_eq!(meetings.len(), 4);
    }

    #[test]
    fn formulas_are_defused_and_plain_text_is_not() {
        assert_eq!(defuse_formula("+1"), "'+1");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("张三"), "张三");
    }
}
