-- Issue 15, defect 4: an attempt keeps the exact questions it was drawn with. Each drawn
-- question is copied (as JSON, the fields of `questions`) when the attempt starts; showing,
-- scoring and reviewing that attempt read the copy, whatever happens to the bank afterwards
-- (an upload, or a restart with changed questions/ files). NULL for attempts started before
-- this migration: those read the bank as before.
ALTER TABLE attempt_questions ADD COLUMN question_copy TEXT;
