-- The durable inbox: every update from Telegram is stored here before Telegram is told it
-- arrived, and marked handled (its payload dropped) once the bot has processed it. Handled
-- rows are kept for two days so that an update Telegram delivers again after a crash is
-- recognised and not handled twice; then they are pruned.
-- (Telegram's update ids are always given, never generated: a plain key, not an identity.)
CREATE TABLE inbox (
    update_id BIGINT PRIMARY KEY,
    payload TEXT,
    received_at TEXT NOT NULL,
    handled_at TEXT
);
-- The update that last moved a person's step, written in the same statement as the move: a
-- replay after a crash sees that the answer was taken and does not take it again.
ALTER TABLE members ADD COLUMN last_update_id BIGINT;
ALTER TABLE conversations ADD COLUMN last_update_id BIGINT;
-- Groups the bot has already told to write to it privately (it says so once per group).
-- (Group chat ids are given by Telegram, and negative: a plain key, not an identity.)
CREATE TABLE group_notices (
    chat_id BIGINT PRIMARY KEY,
    told_at TEXT NOT NULL
);
