//! branchbot: a Telegram bot for the grassroots work of party branches (党支部).
//!
//! # Layout
//!
//! - [`app`] starts and stops everything; [`startup`] prepares the database and question bank;
//!   [`config`] reads the settings; [`clock`] says what time it is (tests pass their own).
//! - [`telegram`] is the edge: the handler tree, commands, button data, role checks, sending.
//! - [`domain`] holds the rules, free of I/O: dates, terms and the election ladder, meeting
//!   schedules, drawing and scoring a test, the statistics of question analysis.
//! - [`questions`] loads and validates the question bank (TOML files or an Excel sheet), and
//!   checks how it is written (cues, near-duplicates; the groups the draw keeps apart).
//! - [`storage`] is SQLite: one module of compile-time checked queries per area.
//! - [`scheduler`] turns schedules into reminders and delivers them exactly once.
//! - [`reports`] renders report data as text, Excel, CSV and a chart.
//! - [`texts`] holds every sentence a user reads.
//! - [`cli`] is the administrators' command line (check a bank, write a report).

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod questions;
pub mod reports;
pub mod scheduler;
pub mod startup;
pub mod storage;
pub mod telegram;
pub mod texts;
