//! The question bank in the database. Files (or an upload) are the source; the database keeps
//! every question ever used, retiring the ones that left the bank so old answers stay readable.

use std::collections::HashSet;

use crate::error::{AppError, AppResult};
use crate::questions::model::{Question, QuestionKind};
use crate::storage::Db;

/// How a bank replacement changed the stored questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub retired: usize,
}

/// Makes `bank` the active question set in one transaction.
pub async fn replace_bank(db: &Db, bank: &[Question], now: i64) -> AppResult<SyncOutcome> {
    let mut tx = crate::storage::write(db).await?;
    let mut outcome = SyncOutcome::default();
    for q in bank {
        let options =
            serde_json::to_string(&q.options).map_err(|e| AppError::Bank(e.to_string()))?;
        let answer = serde_json::to_string(&q.answer).map_err(|e| AppError::Bank(e.to_string()))?;
        let kind = q.kind.label();
        let existing = sqlx::query!(
            r#"SELECT kind, category, text, options, answer, explanation, source, retired AS "retired: bool"
               FROM questions WHERE id = ?"#,
            q.id
        )
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some(row)
                if row.kind == kind
                    && row.category == q.category
                    && row.text == q.text
                    && row.options == options
                    && row.answer == answer
                    && row.explanation == q.explanation
                    && row.source == q.source
                    && !row.retired =>
            {
                outcome.unchanged += 1;
                continue;
            }
            Some(_) => outcome.updated += 1,
            None => outcome.added += 1,
        }
        sqlx::query!(
            "INSERT INTO questions (id, kind, category, text, options, answer, explanation, source, retired, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, category = excluded.category,
                 text = excluded.text, options = excluded.options, answer = excluded.answer,
                 explanation = excluded.explanation, source = excluded.source, retired = 0,
                 updated_at = excluded.updated_at",
            q.id,
            kind,
            q.category,
            q.text,
            options,
            answer,
            q.explanation,
            q.source,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    let keep: HashSet<&str> = bank.iter().map(|q| q.id.as_str()).collect();
    let active = sqlx::query_scalar!("SELECT id FROM questions WHERE retired = 0")
        .fetch_all(&mut *tx)
        .await?;
    for id in active.into_iter().flatten() {
        if !keep.contains(id.as_str()) {
            sqlx::query!(
                "UPDATE questions SET retired = 1, updated_at = ? WHERE id = ?",
                now,
                id
            )
            .execute(&mut *tx)
            .await?;
            outcome.retired += 1;
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Ids in `bank` whose stored question has another kind or number of options while a test in
/// progress has drawn it. A running test keeps each question's shuffled option order, which
/// only fits the options it was drawn with; replacing such a question under it would leave the
/// trainee's buttons pointing at options that no longer exist.
pub async fn reshaped_in_use(db: &Db, bank: &[Question]) -> AppResult<Vec<String>> {
    let in_use = sqlx::query!(
        r#"SELECT DISTINCT q.id AS "id!", q.kind, q.options
           FROM questions q
           JOIN attempt_questions aq ON aq.question_id = q.id
           JOIN attempts a ON a.id = aq.attempt_id
           WHERE a.status = 'in_progress'
           ORDER BY q.id"#
    )
    .fetch_all(db)
    .await?;
    let mut reshaped = Vec::new();
    for row in in_use {
        let Some(new) = bank.iter().find(|q| q.id == row.id) else {
            // Left out of the bank: retired, and kept as it is for whoever drew it.
            continue;
        };
        let old_options = serde_json::from_str::<Vec<String>>(&row.options)
            .map(|o| o.len())
            .ok();
        if row.kind != new.kind.label() || old_options != Some(new.options.len()) {
            reshaped.push(row.id);
        }
    }
    Ok(reshaped)
}

struct Row {
    id: String,
    kind: String,
    category: String,
    text: String,
    options: String,
    answer: String,
    explanation: String,
    source: String,
}

fn to_question(row: Row) -> AppResult<Question> {
    let bad = |what: &str| AppError::Bank(format!("stored question {} has a bad {what}", row.id));
    Ok(Question {
        kind: QuestionKind::from_label(&row.kind).ok_or_else(|| bad("kind"))?,
        options: serde_json::from_str(&row.options).map_err(|_| bad("option list"))?,
        answer: serde_json::from_str(&row.answer).map_err(|_| bad("answer"))?,
        id: row.id,
        category: row.category,
        text: row.text,
        explanation: row.explanation,
        source: row.source,
    })
}

/// The questions a new test or practice may draw from.
pub async fn active(db: &Db) -> AppResult<Vec<Question>> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", kind, category, text, options, answer, explanation, source
           FROM questions WHERE retired = 0 ORDER BY id"#
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_question).collect()
}

/// One question, retired or not (answers keep referring to it).
pub async fn by_id(db: &Db, id: &str) -> AppResult<Option<Question>> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id AS "id!", kind, category, text, options, answer, explanation, source
           FROM questions WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await?;
    row.map(to_question).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::connect_memory;

    fn q(id: &str, text: &str) -> Question {
        Question {
            id: id.into(),
            kind: QuestionKind::Single,
            category: "党费".into(),
            text: text.into(),
            options: vec!["甲".into(), "乙".into()],
            answer: vec![1],
            explanation: "因为".into(),
            source: "党费规定".into(),
        }
    }

    #[tokio::test]
    async fn replacing_the_bank_retires_instead_of_deleting() {
        let db = connect_memory().await.unwrap();
        let first = replace_bank(&db, &[q("a", "一"), q("b", "二")], 1)
            .await
            .unwrap();
        assert_eq!(first.added, 2);
        let second = replace_bank(&db, &[q("a", "一"), q("c", "三")], 2)
            .await
            .unwrap();
        assert_eq!((second.added, second.unchanged, second.retired), (1, 1, 1));
        let ids: Vec<String> = active(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.id)
            .collect();
        assert_eq!(ids, vec!["a", "c"]);
        assert_eq!(by_id(&db, "b").await.unwrap().unwrap().text, "二");
        let third = replace_bank(&db, &[q("a", "改"), q("b", "二"), q("c", "三")], 3)
            .await
            .unwrap();
        assert_eq!((third.updated, third.unchanged), (2, 1));
    }

    #[tokio::test]
    async fn a_question_a_running_test_uses_may_change_words_but_not_shape() {
        let db = connect_memory().await.unwrap();
        replace_bank(&db, &[q("a", "一"), q("b", "二"), q("c", "三")], 1)
            .await
            .unwrap();
        sqlx::raw_sql(
            "INSERT INTO users (id, full_name, created_at) VALUES (7, '王', 0), (8, '李', 0);
             INSERT INTO rounds (id, opens_at, closes_at) VALUES (1, 0, 100);
             INSERT INTO attempts (id, round_id, user_id, started_at, deadline_at, status, question_count)
               VALUES (1, 1, 7, 0, 50, 'in_progress', 2), (2, 1, 8, 0, 50, 'finished', 1);
             INSERT INTO attempt_questions (attempt_id, position, question_id, option_order)
               VALUES (1, 0, 'a', '01'), (1, 1, 'b', '10'), (2, 0, 'c', '01');",
        )
        .execute(&db)
        .await
        .unwrap();
        let mut three = q("b", "二");
        three.options.push("丙".into());
        let mut true_false = q("c", "三");
        true_false.kind = QuestionKind::TrueFalse;
        // `a` reworded (same shape), `b` gains an option (in a running test), `c` changes kind
        // but only a finished test used it.
        let upload = [q("a", "改"), three, true_false];
        assert_eq!(reshaped_in_use(&db, &upload).await.unwrap(), ["b"]);
        // Left out of the upload: retired, not reshaped.
        assert!(reshaped_in_use(&db, &[q("a", "改")])
            .await
            .unwrap()
            .is_empty());
    }
}
