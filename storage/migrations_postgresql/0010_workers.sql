-- Several bot processes on one database: who claimed a notice or an update and when, so a worker
-- takes back only what a dead one left (a claim older than the lease), never what a live one is
-- sending or handling.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claimed_at TEXT;
-- Telegram's send rate is per bot token, not per process: the one budget every worker draws on
-- (seconds since the epoch, on the database server's clock, of the next free send slot).
CREATE TABLE send_budget (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_slot DOUBLE PRECISION NOT NULL
);
INSERT INTO send_budget (id, next_slot) VALUES (1, 0);
