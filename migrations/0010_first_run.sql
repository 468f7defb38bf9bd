-- First run without ids in the configuration: the super-administrator who claimed the bot with
-- the one-time code printed at start-up, and settings made from a chat (the administrators'
-- group, bound with /adminchat). BRANCHBOT_SUPER_ADMINS and BRANCHBOT_ADMIN_CHAT keep working.
CREATE TABLE super_admins (
    user_id INTEGER PRIMARY KEY,
    claimed_at INTEGER NOT NULL
);

-- One row per setting; the claim code lives here until it is used (then it is deleted).
CREATE TABLE bot_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
