//! The one end-to-end test binary. Each module was once a binary of its own; together they
//! compile `tests/support` once. Run one area with e.g. `cargo test --test e2e reminders::`.
//!
//! - `fake_api`: the fake Telegram Bot API checked against teloxide itself;
//! - `handlers`: the real handler tree and scheduler in this process, the pass called directly;
//! - the rest run the compiled `branchbot` binary against the fake, with the clock moved by
//!   the test: `foundation`, `quiz`, `reminders`, `reports`, `review_admin`, `review_users`,
//!   `rounds`;
//! - `chaos`: the compiled bot under random faults, 429s and an outage, and killed while it
//!   delivers: everything arrives once, every answer is stored once;
//! - `first_hour`: start-up through proxies, a wrong token, an outage, the claim code, backups
//!   and restore;
//! - `bank_quality`: `questions check --strict/--stats`, upload warnings, /bank's flagged questions;
//! - `console`: a scripted `branchbot console` session, transcript checked;
//! - `roster`: roster upload and confirmation, linking by phone and by name, the refusals;
//! - `roster_admin`: an organisation's roster upload, scoped views, rosters in reminders;
//! - `quiet`: the positive "nothing else was sent" checks must fail when something was sent.

#[path = "../support/mod.rs"]
mod support;

mod bank_quality;
mod chaos;
mod console;
mod crash;
mod fake_api;
mod first_hour;
mod foundation;
mod fuzz;
mod handlers;
mod orgs;
mod quiet;
mod quiz;
mod reliability;
mod reminders;
mod reports;
mod review_admin;
mod review_users;
mod roster;
mod roster_admin;
mod roster_report;
mod rounds;
