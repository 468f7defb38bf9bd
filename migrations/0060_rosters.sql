-- Rosters (党员名册, issue 10): who belongs to a branch, who is due to take the test, and which
-- Telegram account is which person. People who leave are marked 转出, never deleted, so old
-- reports stay right. The organisation-level upload (a 支部 column) comes with the tree.

-- One person on a branch's roster.
CREATE TABLE roster_people (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id        INTEGER NOT NULL REFERENCES branches(id),
    name             TEXT    NOT NULL,           -- 姓名, unique among the branch's current people
    status           TEXT    NOT NULL,           -- 身份: 正式党员 预备党员 发展对象 入党积极分子 其他
    duty             TEXT,                       -- 职务: 书记 副书记 组织委员 宣传委员 纪检委员 党务工作者
    phone            TEXT,                       -- 手机号, digits only (11-digit mainland number)
    takes_test       INTEGER,                    -- 参加业务测试: 1 是, 0 否, NULL = the deployment's default
    joined_on        TEXT,                       -- 入党日期
    full_on          TEXT,                       -- 转正日期
    on_probation     INTEGER NOT NULL DEFAULT 0, -- 留党察看
    left_at          INTEGER,                    -- 转出: when the upload that dropped them was applied
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX roster_people_current_name ON roster_people(branch_id, name) WHERE left_at IS NULL;
CREATE INDEX roster_people_branch ON roster_people(branch_id);
CREATE INDEX roster_people_phone ON roster_people(phone) WHERE phone IS NOT NULL;
-- The scheduler's pass looks for 预备党员 without 转正 on every tick.
CREATE INDEX roster_people_probation ON roster_people(branch_id)
    WHERE status = 'probationary' AND full_on IS NULL AND left_at IS NULL;

-- Which Telegram account is which roster person: one each way.
CREATE TABLE roster_links (
    person_id   INTEGER PRIMARY KEY REFERENCES roster_people(id),
    user_id     INTEGER NOT NULL UNIQUE REFERENCES users(id),
    via         TEXT    NOT NULL CHECK (via IN ('phone', 'secretary')),
    confirmed_by INTEGER,                        -- the secretary who confirmed a claim by name
    linked_at   INTEGER NOT NULL
);

-- A roster sheet a secretary uploaded, waiting for confirmation (like pending_uploads).
CREATE TABLE roster_uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id     INTEGER NOT NULL REFERENCES branches(id),
    uploader_id   INTEGER NOT NULL,
    file_name     TEXT    NOT NULL,
    people        TEXT    NOT NULL,              -- JSON of the validated rows
    created_at    INTEGER NOT NULL,
    applied_at    INTEGER,
    cancelled_at  INTEGER
);
CREATE INDEX roster_uploads_branch ON roster_uploads(branch_id, id);

-- "/roster upload" was sent: the next sheet from that person in that group is a roster.
CREATE TABLE roster_upload_requests (
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- Someone chose a roster name; the branch secretary confirms or refuses it in the group.
CREATE TABLE roster_claims (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id    INTEGER NOT NULL REFERENCES roster_people(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    decided_by   INTEGER,
    outcome      TEXT    CHECK (outcome IN ('confirmed', 'refused', 'superseded'))
);
CREATE INDEX roster_claims_open ON roster_claims(person_id) WHERE decided_at IS NULL;

-- Reminders about a roster person already queued (e.g. 'probation:2025-01-10': the 预备期 that
-- began that day has ended), so each goes to the branch group once.
CREATE TABLE roster_reminders (
    person_id    INTEGER NOT NULL REFERENCES roster_people(id),
    what         TEXT    NOT NULL,
    queued_at    INTEGER NOT NULL,
    PRIMARY KEY (person_id, what)
);
