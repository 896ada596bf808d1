-- Broadcasts (notices) and the durable outbox: one row per (broadcast, recipient).
CREATE TABLE broadcasts (
    id                 INTEGER PRIMARY KEY,
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'queued', 'done', 'cancelled')),
    step               TEXT,
    texts              TEXT NOT NULL DEFAULT '{}',
    fallback_language  TEXT NOT NULL DEFAULT 'es',
    audience           TEXT NOT NULL DEFAULT '{}',
    ask_ack            INTEGER NOT NULL DEFAULT 0,
    quiet_start        TEXT,
    quiet_end          TEXT,
    send_at            TEXT,
    organiser_zone     TEXT NOT NULL DEFAULT 'UTC',
    paid               INTEGER NOT NULL DEFAULT 0,
    status_chat_id     INTEGER,
    status_message_id  INTEGER,
    total              INTEGER NOT NULL DEFAULT 0,
    queued_at          TEXT,
    finished_at        TEXT
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    broadcast_id     INTEGER NOT NULL REFERENCES broadcasts(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    chat_id          INTEGER NOT NULL,
    language         TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    sent_at          TEXT,
    message_id       INTEGER,
    acked_at         TEXT,
    UNIQUE (broadcast_id, member_id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state);
