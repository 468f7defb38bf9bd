-- Issue 15, defect 5: messages whose buttons must go because what they answer is over (an
-- attempt ended by the time limit or by its round closing while a question was showing).
-- Written in the transaction that ends the attempt; a sweeper with a door takes the buttons
-- off and deletes the row, so a crash in between only delays the clean-up.
CREATE TABLE stale_keyboards (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
