//! branchbot: a Telegram bot for the grassroots work of party branches (党支部).
//!
//! # Layout
//!
//! One core, two doors. Dependencies point down this list, never up:
//!
//! - [`telegram`] and [`console`] are the doors. `telegram` turns Telegram updates into the
//!   conversation's messages and presses and implements [`chat::Door`] and the outbox's
//!   [`scheduler::delivery::Outlet`] with Bot API calls; `console` does the same for a terminal
//!   (`branchbot console --demo`). [`app`] starts and stops the Telegram door.
//! - [`chat`] is the conversation both doors share: commands, role checks, and one handler per
//!   area that parses, makes one [`service`] call, renders the outcome with [`texts`] and sends.
//! - [`scheduler`] is the background loop: it asks [`service`] to plan what fell due and hands
//!   the outbox to the door's outlet.
//! - [`service`] owns the use cases (the test, terms and meetings, reminders and the round
//!   calendar, rounds by hand, bank uploads, report requests, the organisation tree and who sees
//!   which part of it) and [`service::AppState`]; no Telegram type crosses into it.
//! - [`reports`] renders report data as text, Excel, CSV and a chart; [`texts`] holds every
//!   sentence a user reads, including the words of domain values; [`buttons`] is the keyboard
//!   and button-data vocabulary.
//! - [`storage`] is SQLite: one module of compile-time checked queries per area.
//! - [`domain`] holds the rules, free of I/O, wording and Telegram: dates and numbers, terms and
//!   the election ladder, meeting schedules, drawing and scoring a test, the statistics.
//! - [`roster`] reads a branch's roster sheet (党员名册) strictly and writes its template; the
//!   rules about people (who is due for the test, who votes, the election arithmetic) are in
//!   [`domain::roster`].
//! - [`questions`] loads and validates the question bank (TOML files, an Excel sheet, or the
//!   bank built into the binary), and checks how it is written (cues, near-duplicates; the
//!   same-fact groups the draw keeps apart).
//! - [`startup`] prepares the database and bank; [`config`] reads the settings; [`clock`] says
//!   what time it is (tests and the console pass their own); [`cli`] is the command line
//!   (check a bank, write a report, back up and restore the database, the console);
//!   [`backup`] makes and restores copies of the database.
//!
//! Messages caused by a change are written to the outbox in the change's transaction and sent
//! afterwards: delivery is at least once, with a window of one request (a crash after Telegram
//! accepted a message and before it was marked sent sends it again after the restart).

pub mod app;
pub mod backup;
pub mod buttons;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod error;
pub mod questions;
pub mod reports;
pub mod roster;
pub mod scheduler;
pub mod service;
pub mod startup;
pub mod storage;
pub mod telegram;
pub mod texts;
