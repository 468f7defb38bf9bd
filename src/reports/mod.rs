//! Reports for administrators: the data, and its renderings as text, Excel, CSV and a chart.

pub mod bank_review;
pub mod chart;
pub mod cli;
pub mod csv;
pub mod model;
pub mod render;
pub mod text;
pub mod xlsx;

pub use cli::cli_report;
