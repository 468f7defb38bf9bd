-- Issue 15: keep when a message fell due apart from when it is next tried.
--
-- `due_at` stays the instant the reminder fell due: lateness (补发) and expiry are judged from it.
-- A retry moves only `next_attempt_at`; NULL means "not retried yet, try at due_at". Rows written
-- by code that does not know the column (it is nullable) are therefore tried at their due time.
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;

-- The scheduler wakes for the earliest row it will take: a pending row, by its next attempt.
-- `sending` rows are not counted: they are in flight (or stranded until the next start, which
-- puts them back to pending), and counting what `due` will not take made the loop spin.
DROP INDEX outbox_due;
CREATE INDEX outbox_next_attempt ON outbox(COALESCE(next_attempt_at, due_at)) WHERE status = 'pending';
