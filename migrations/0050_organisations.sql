-- Issue 9: the organisation tree above the branches (县委组织部 → 乡镇党委 → 党总支 → 党支部),
-- administrators scoped to a subtree, and an administrators' group per organisation.
--
-- Upgrading in place: every existing branch goes under the root organisation, every existing
-- administrator becomes an administrator of the root (who sees everything, as before), and the
-- administrators' group bound with /adminchat becomes the root's group.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,             -- 组织部 党委 党工委 党总支 (texts::orgs)
    parent_id   INTEGER REFERENCES organisations(id), -- NULL for the root only
    bind_code   TEXT    NOT NULL UNIQUE,      -- the startgroup link that binds a branch here
    retired_at  INTEGER,                      -- retired organisations keep their history
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((parent_id IS NULL) = (id = 1))
);
-- Names are unique among the live children of one parent (imports refer to parents by name).
CREATE UNIQUE INDEX organisations_sibling_names
    ON organisations(COALESCE(parent_id, 0), name) WHERE retired_at IS NULL;
CREATE INDEX organisations_parent ON organisations(parent_id);

INSERT INTO organisations (id, name, kind, parent_id, bind_code, created_at, updated_at)
VALUES (1, '上级党组织', '党委', NULL, lower(hex(randomblob(6))), unixepoch(), unixepoch());

-- Every branch belongs to exactly one organisation; /bind without a link puts it under the root.
-- (SQLite refuses a REFERENCES clause on an added column with a default while foreign keys
-- are on; storage::orgs checks the organisation exists before it sets one.)
ALTER TABLE branches ADD COLUMN org_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX branches_org ON branches(org_id);

-- Who administers which subtree. An administrator may hold several organisations.
CREATE TABLE org_admins (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    granted_by  INTEGER,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX org_admins_org ON org_admins(org_id);
INSERT INTO org_admins (user_id, org_id, granted_by, granted_at)
SELECT id, 1, NULL, created_at FROM users WHERE is_admin = 1;
-- org_admins is the one record of the role now.
ALTER TABLE users DROP COLUMN is_admin;

-- An organisation's administrators' group: escalations about its subtree go to the nearest
-- organisation up the tree that has one.
CREATE TABLE org_admin_chats (
    org_id    INTEGER PRIMARY KEY REFERENCES organisations(id),
    chat_id   INTEGER NOT NULL UNIQUE,
    bound_by  INTEGER,
    bound_at  INTEGER NOT NULL
);
INSERT INTO org_admin_chats (org_id, chat_id, bound_by, bound_at)
SELECT 1, CAST(value AS INTEGER), NULL, updated_at FROM bot_settings WHERE key = 'admin_chat';
DELETE FROM bot_settings WHERE key = 'admin_chat';

-- The organisation each branch belonged to when a round closed: reports of past rounds keep
-- it after a branch moves. An open round uses the branches' organisations of now.
CREATE TABLE round_branch_orgs (
    round_id   INTEGER NOT NULL REFERENCES rounds(id),
    branch_id  INTEGER NOT NULL REFERENCES branches(id),
    org_id     INTEGER NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (round_id, branch_id)
);
INSERT INTO round_branch_orgs (round_id, branch_id, org_id)
SELECT r.id, b.id, 1 FROM rounds r CROSS JOIN branches b WHERE r.status = 'closed';

-- An organisation tree uploaded as an Excel sheet, waiting for confirmation (like a bank).
CREATE TABLE pending_org_imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id      INTEGER NOT NULL,
    file_name     TEXT    NOT NULL,
    plan          TEXT    NOT NULL,           -- JSON of the checked changes
    created_at    INTEGER NOT NULL,
    applied_at    INTEGER,
    cancelled_at  INTEGER
);
