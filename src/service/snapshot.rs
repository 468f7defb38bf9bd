//! The active question bank, held in memory as one immutable snapshot.
//!
//! Starting a test draws from the whole bank and keeps same-fact questions apart; reading the
//! bank from SQLite and grouping it at every `/test` cost more than everything else a test
//! start does. The bank only changes when an upload is applied or the bot starts with other
//! files, so it is read once into an `Arc<Bank>` and replaced whole at those moments: a test
//! starting meanwhile keeps the snapshot it took, and nothing is ever half-updated.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::quiz as domain;
use crate::error::AppResult;
use crate::questions::model::Question;
use crate::questions::similarity::fact_groups;
use crate::storage::{questions, Db};

/// The usable active questions (the encodings hold at most ten options), their same-fact
/// groups and an index by id.
#[derive(Debug, Default)]
pub struct Bank {
    pub questions: Vec<Question>,
    /// `groups[i]` is the same-fact group of `questions[i]` (see `questions::similarity`).
    pub groups: Vec<usize>,
    by_id: HashMap<String, usize>,
}

impl Bank {
    pub fn new(mut questions: Vec<Question>) -> Bank {
        questions.retain(|q| !q.options.is_empty() && q.options.len() <= domain::MAX_OPTIONS);
        let groups = fact_groups(&questions);
        let by_id = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id.clone(), i))
            .collect();
        Bank {
            questions,
            groups,
            by_id,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Question> {
        self.by_id.get(id).and_then(|&i| self.questions.get(i))
    }
}

/// Where the snapshot lives in [`super::AppState`]. Empty until first asked for, so every way
/// of building a state (the bot, the console, tests) gets the bank stored in its database.
#[derive(Debug, Default)]
pub struct BankCache {
    current: RwLock<Option<Arc<Bank>>>,
}

impl BankCache {
    /// The snapshot, read from the database the first time.
    pub async fn get(&self, db: &Db) -> AppResult<Arc<Bank>> {
        if let Some(bank) = self.read() {
            return Ok(bank);
        }
        self.reload(db).await
    }

    /// Reads the active bank again and swaps it in: called at start-up and whenever an upload
    /// was applied.
    pub async fn reload(&self, db: &Db) -> AppResult<Arc<Bank>> {
        let bank = Arc::new(Bank::new(questions::active(db).await?));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&bank));
        Ok(bank)
    }

    fn read(&self) -> Option<Arc<Bank>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::model::QuestionKind;
    use crate::storage::quiz::tests::{fixture, question};

    #[tokio::test]
    async fn the_snapshot_is_read_once_and_swapped_on_reload() {
        let db = fixture().await;
        let cache = BankCache::default();
        let first = cache.get(&db).await.unwrap();
        assert_eq!(first.questions.len(), 3);
        assert_eq!(first.get("q2").map(|q| q.id.as_str()), Some("q2"));
        questions::replace_bank(&db, &[question("q9", QuestionKind::Single)], 10)
            .await
            .unwrap();
        // Not read again until reloaded: the same snapshot.
        assert!(Arc::ptr_eq(&first, &cache.get(&db).await.unwrap()));
        let second = cache.reload(&db).await.unwrap();
        assert_eq!(second.questions.len(), 1);
        assert!(second.get("q1").is_none());
        // A holder of the old snapshot still sees it whole.
        assert_eq!(first.questions.len(), 3);
    }
}
