//! The rules of branch work, free of I/O: dates, terms, schedules, the test and its statistics.
//! Time and randomness are always passed in, so everything here is tested without waiting or luck.

pub mod dates;
pub mod meetings;
pub mod numbers;
pub mod org;
pub mod quiz;
pub mod roster;
pub mod schedule;
pub mod stats;
pub mod term;
