-- Indexes for the reports (storage/reports.rs). Both cover their queries, so SQLite reads the
-- index alone and never the table rows (measured in BENCHMARKS.md with 1,000,000 answers).

-- A round's answers, attempt by attempt, for the answer matrix (question analysis, KR-20).
CREATE INDEX attempt_questions_answers ON attempt_questions(attempt_id, question_id, is_correct);

-- Participants and average score of a round, for the trend over recent rounds.
CREATE INDEX attempts_round_results ON attempts(round_id, status, score);
