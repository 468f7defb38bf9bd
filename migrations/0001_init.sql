-- branchbot schema.
-- Instants are INTEGER unix seconds (UTC); calendar dates are TEXT 'YYYY-MM-DD'.
-- Nothing users produced is ever deleted: branches are unbound, questions retired.

-- Everyone who has talked to the bot.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,          -- Telegram user id
    full_name   TEXT    NOT NULL,
    username    TEXT,
    is_admin    INTEGER NOT NULL DEFAULT 0,   -- granted by a super-administrator
    created_at  INTEGER NOT NULL
);

-- A party branch, bound to one group chat.
CREATE TABLE branches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,             -- 农村 社区 机关 学校 医院 国企 两新 其他
    join_code   TEXT    NOT NULL UNIQUE,      -- for /join and the deep link
    active      INTEGER NOT NULL DEFAULT 1,   -- 0 after /unbind; history stays
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Which branch a trainee belongs to (one at a time).
CREATE TABLE members (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    branch_id   INTEGER NOT NULL REFERENCES branches(id),
    joined_at   INTEGER NOT NULL
);
CREATE INDEX members_branch ON members(branch_id);

-- Committee terms. The open term of a branch has closed_on NULL; /elected closes it and opens the next.
CREATE TABLE terms (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id      INTEGER NOT NULL REFERENCES branches(id),
    elected_on     TEXT    NOT NULL,
    years          INTEGER NOT NULL,
    ends_on        TEXT    NOT NULL,          -- elected_on + years
    delayed_to     TEXT,                      -- approved delay (at most one year past ends_on)
    closed_on      TEXT,                      -- date of the election that ended this term
    next_check_at  INTEGER,                   -- when the scheduler next looks at this term
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX terms_open ON terms(branch_id) WHERE closed_on IS NULL;
CREATE INDEX terms_next_check ON terms(next_check_at) WHERE next_check_at IS NOT NULL;

-- A branch's meeting plan: one row per regular meeting.
CREATE TABLE meeting_plans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id   INTEGER NOT NULL REFERENCES branches(id),
    kind        TEXT    NOT NULL,             -- stable key of the meeting kind
    title       TEXT    NOT NULL,             -- shown to users, e.g. 支部委员会会议
    rule_text   TEXT    NOT NULL,             -- what the secretary typed (or the default)
    cron        TEXT    NOT NULL,             -- the schedule, evaluated in the configured zone
    next_at     INTEGER,                      -- when the next occurrence is materialised
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    UNIQUE (branch_id, title)
);
CREATE INDEX meeting_plans_next ON meeting_plans(next_at) WHERE active = 1;

-- One scheduled meeting and what became of it.
CREATE TABLE meeting_occurrences (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id       INTEGER NOT NULL REFERENCES meeting_plans(id),
    branch_id     INTEGER NOT NULL REFERENCES branches(id),
    scheduled_at  INTEGER NOT NULL,           -- the occurrence as the plan gives it
    moved_to      INTEGER,                    -- when the secretary moved this occurrence
    period_end    INTEGER NOT NULL,           -- not held by then = missed
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'held', 'missed')),
    held_on       TEXT,
    recorded_by   INTEGER,
    UNIQUE (plan_id, scheduled_at)
);
CREATE INDEX meeting_occurrences_due ON meeting_occurrences(period_end) WHERE status = 'pending';
CREATE INDEX meeting_occurrences_branch ON meeting_occurrences(branch_id, scheduled_at);

-- Every reminder and announcement, written before it is sent (transactional outbox).
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key     TEXT    NOT NULL UNIQUE,    -- (what, for whom, which occurrence)
    topic         TEXT,                       -- what it is about, e.g. meeting:12; lets a change cancel it
    chat_id       INTEGER NOT NULL,
    text          TEXT    NOT NULL,           -- HTML parse mode
    reply_markup  TEXT,                       -- inline keyboard as JSON
    due_at        INTEGER NOT NULL,
    expires_at    INTEGER,                    -- after this the message no longer matters
    status        TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    late          INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    message_id    INTEGER,
    sent_at       INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(due_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_topic ON outbox(topic) WHERE status = 'pending';

-- The question bank as last loaded or uploaded.
CREATE TABLE questions (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    options      TEXT    NOT NULL,            -- JSON array of strings
    answer       TEXT    NOT NULL,            -- JSON array of option indices
    explanation  TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    retired      INTEGER NOT NULL DEFAULT 0,  -- dropped from the bank but referred to by answers
    updated_at   INTEGER NOT NULL
);

-- Test rounds (期次). The id is the round number users see.
CREATE TABLE rounds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    opens_at    INTEGER NOT NULL UNIQUE,
    closes_at   INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    reminded    INTEGER NOT NULL DEFAULT 0,   -- the day-before-closing reminders are queued
    opened_by   INTEGER,                      -- NULL = the calendar
    closed_at   INTEGER
);

-- One trainee's test in one round.
CREATE TABLE attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id        INTEGER NOT NULL REFERENCES rounds(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    branch_id       INTEGER REFERENCES branches(id),
    started_at      INTEGER NOT NULL,
    deadline_at     INTEGER NOT NULL,         -- the time limit, enforced by the server
    finished_at     INTEGER,
    status          TEXT    NOT NULL DEFAULT 'in_progress'
                    CHECK (status IN ('in_progress', 'finished', 'timed_out')),
    question_count  INTEGER NOT NULL,
    correct_count   INTEGER,
    score           INTEGER,                  -- out of 100
    UNIQUE (round_id, user_id)
);
CREATE INDEX attempts_deadline ON attempts(deadline_at) WHERE status = 'in_progress';
CREATE INDEX attempts_round_branch ON attempts(round_id, branch_id);
CREATE INDEX attempts_user ON attempts(user_id);

-- The questions drawn for an attempt and the answers given, stored as they are given.
CREATE TABLE attempt_questions (
    attempt_id    INTEGER NOT NULL REFERENCES attempts(id),
    position      INTEGER NOT NULL,           -- 0-based order in the test
    question_id   TEXT    NOT NULL REFERENCES questions(id),
    option_order  TEXT    NOT NULL,           -- shown position i holds original option digit i
    selection     TEXT    NOT NULL DEFAULT '',-- 多选 toggles so far, original indices as digits
    chosen        TEXT,                       -- the answer given, original indices as digits
    is_correct    INTEGER,
    answered_at   INTEGER,
    message_id    INTEGER,
    PRIMARY KEY (attempt_id, position)
);
CREATE INDEX attempt_questions_question ON attempt_questions(question_id);

-- Leitner boxes for /practice: wrong answers go back to box 0 and come up more often.
CREATE TABLE practice_boxes (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    question_id  TEXT    NOT NULL REFERENCES questions(id),
    box          INTEGER NOT NULL DEFAULT 0,
    seen_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, question_id)
);

-- The practice question a trainee is looking at now.
CREATE TABLE practice_current (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    question_id   TEXT    NOT NULL REFERENCES questions(id),
    option_order  TEXT    NOT NULL,
    selection     TEXT    NOT NULL DEFAULT '',
    nonce         INTEGER NOT NULL            -- ties buttons to this question, so old presses are stale
);

-- A question bank an administrator uploaded, waiting for confirmation.
CREATE TABLE pending_uploads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id    INTEGER NOT NULL,
    questions   TEXT    NOT NULL,             -- JSON of the validated questions
    created_at  INTEGER NOT NULL,
    applied_at  INTEGER
);
