-- When Telegram was told an update arrived (the next getUpdates' offset passed it). A confirmed
-- update is never delivered again, so a later update with the same id is a new one: Telegram
-- restarts ids at random after a week without updates, and the demo's emulator restarts them at 1.
ALTER TABLE inbox ADD COLUMN confirmed_at TEXT;
