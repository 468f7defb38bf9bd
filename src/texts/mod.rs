//! Every sentence a user reads, in one place so it can be reviewed and translated.

pub mod bank_review;
pub mod calendar;
pub mod common;
pub mod console;
pub mod lint;
pub mod meetings;
pub mod orgs;
pub mod questions;
pub mod quiz;
pub mod quiz_flow;
pub mod quiz_view;
pub mod reminders;
pub mod report_replies;
pub mod reports;
pub mod roster;
pub mod roster_notices;
pub mod roster_org;
pub mod rounds;
pub mod setup;
pub mod setup_replies;
pub mod split;

/// Escapes text for Telegram's HTML parse mode: the three characters it treats as markup.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}
