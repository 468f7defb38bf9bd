//! The test calendar: opening rounds (announcement in every branch group), reminding those who
//! have not finished a day before closing, closing rounds (results to each group).

use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::telegram::AppState;

pub async fn plan_due(_state: &AppState, _now: DateTime<Utc>) -> AppResult<()> {
    Ok(())
}

pub async fn next_due(_state: &AppState, _now: DateTime<Utc>) -> AppResult<Option<i64>> {
    Ok(None)
}
