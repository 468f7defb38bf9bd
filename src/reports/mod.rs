//! Reports for administrators: the data, and its renderings as text, Excel, CSV and a chart.

pub mod chart;
pub mod csv;
pub mod model;
pub mod text;
pub mod xlsx;

/// `branchbot report`: the same reports on the server.
pub async fn cli_report(
    _round: Option<i64>,
    _format: crate::cli::ReportFormat,
    _out: Option<std::path::PathBuf>,
) -> Result<(), crate::error::AppError> {
    Err(crate::error::AppError::Report("not available yet".to_owned()))
}
