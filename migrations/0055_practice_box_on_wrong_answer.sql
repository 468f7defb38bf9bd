-- A wrong test answer puts its question into the trainee's practice box 0, so /practice brings
-- it back. Done by the schema inside the answer's own UPDATE: the answer path is then one
-- guarded statement, one write transaction (issue 14), and the two can never part.
CREATE TRIGGER attempt_answer_wrong_to_practice
AFTER UPDATE OF chosen ON attempt_questions
WHEN OLD.chosen IS NULL AND NEW.chosen IS NOT NULL AND NEW.is_correct = 0
BEGIN
    INSERT INTO practice_boxes (user_id, question_id, box, seen_at)
    SELECT a.user_id, NEW.question_id, 0, NEW.answered_at FROM attempts a WHERE a.id = NEW.attempt_id
    ON CONFLICT(user_id, question_id) DO UPDATE SET box = 0;
END;
