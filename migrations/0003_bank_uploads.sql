-- Question-bank uploads: a cancelled upload is kept (nothing users produced is deleted), and the
-- bank remembers where it came from, so a restart does not silently undo an administrator's upload.

ALTER TABLE pending_uploads ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_uploads ADD COLUMN cancelled_at INTEGER;

-- One row: which bank is active. Start-up compares the files in questions/ with the fingerprint
-- of the files it last loaded; unchanged files leave an uploaded bank in place.
CREATE TABLE bank_source (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    files_fingerprint  TEXT    NOT NULL,      -- of the questions/ bank last loaded at start-up
    upload_id          INTEGER REFERENCES pending_uploads(id), -- NULL = the files are active
    updated_at         INTEGER NOT NULL
);
