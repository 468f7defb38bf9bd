-- Issue 14: a closed round's report reads summaries written once when it closes, not the
-- answer table. A summary remembers how many attempts it counted; a report that finds a
-- different number (an answer accepted late) computes the round again and rewrites it.

-- Per branch: who was due (its roster's people, or its joined members), who of them took part,
-- the attempts scored and how they did, next to the organisation the branch had.
ALTER TABLE round_branch_orgs ADD COLUMN members INTEGER;
ALTER TABLE round_branch_orgs ADD COLUMN participants INTEGER;
ALTER TABLE round_branch_orgs ADD COLUMN scored INTEGER;
ALTER TABLE round_branch_orgs ADD COLUMN score_sum INTEGER;
ALTER TABLE round_branch_orgs ADD COLUMN passed INTEGER;
ALTER TABLE round_branch_orgs ADD COLUMN by_roster INTEGER;

-- Per round: the totals for the trend and the question analysis of the whole round.
CREATE TABLE round_summaries (
    round_id      INTEGER PRIMARY KEY REFERENCES rounds(id),
    attempts      INTEGER NOT NULL,           -- submitted attempts counted
    participants  INTEGER NOT NULL,
    score_sum     INTEGER NOT NULL,
    passed        INTEGER NOT NULL,
    pass_mark     INTEGER NOT NULL,           -- branch pass counts depend on it
    reliability   REAL,                       -- KR-20
    questions     TEXT    NOT NULL,           -- JSON of the question analysis rows
    written_at    INTEGER NOT NULL
);
