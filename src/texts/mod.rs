//! Every sentence a user reads, in one place so it can be reviewed and translated.

pub mod bank_review;
pub mod calendar;
pub mod common;
pub mod lint;
pub mod meetings;
pub mod questions;
pub mod quiz;
pub mod quiz_flow;
pub mod reminders;
pub mod report_replies;
pub mod reports;
pub mod rounds;
