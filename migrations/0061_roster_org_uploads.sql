-- An organisation's roster sheet (a 支部 column, many branches), uploaded by an organisation's
-- administrator in private chat and waiting for their confirmation (issue 10). The plan holds,
-- per branch, the validated people and the difference that was shown, so confirming applies
-- exactly what the administrator read, or nothing when a branch's roster changed meanwhile.
CREATE TABLE roster_org_uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uploader_id   INTEGER NOT NULL,
    file_name     TEXT    NOT NULL,
    plan          TEXT    NOT NULL,              -- JSON: [{branch_id, people, diff}]
    created_at    INTEGER NOT NULL,
    applied_at    INTEGER,
    cancelled_at  INTEGER
);
