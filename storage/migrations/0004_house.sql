-- One notice pipeline, active conversations, and actors that are pseudonyms, not Telegram ids.

-- The outbox carries every kind of notice: a kind, a reference (broadcast, meeting, survey...), a
-- small payload, and an optional key that makes enqueueing the same notice twice a no-op.
CREATE TABLE outbox_v2 (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL DEFAULT 'broadcast',
    ref              INTEGER,
    broadcast_id     INTEGER REFERENCES broadcasts(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    chat_id          INTEGER NOT NULL,
    language         TEXT NOT NULL,
    payload          TEXT NOT NULL DEFAULT '{}',
    dedupe_key       TEXT UNIQUE,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    sent_at          TEXT,
    message_id       INTEGER,
    acked_at         TEXT,
    UNIQUE (broadcast_id, member_id)
);
INSERT INTO outbox_v2 (id, kind, ref, broadcast_id, member_id, chat_id, language, state, attempts,
                       next_attempt_at, last_error, sent_at, message_id, acked_at)
    SELECT id, 'broadcast', broadcast_id, broadcast_id, member_id, chat_id, language, state,
           attempts, next_attempt_at, last_error, sent_at, message_id, acked_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state);
CREATE INDEX outbox_kind_ref ON outbox (kind, ref, state);
CREATE INDEX outbox_member ON outbox (member_id);

-- One active conversation per person: which flow receives their free text, Back and /cancel.
CREATE TABLE conversations (
    telegram_id  INTEGER PRIMARY KEY,
    flow         TEXT NOT NULL,
    step         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT '{}',
    updated_at   TEXT NOT NULL
);

-- Config admins without a member profile still act; they get a pseudonymous operator row.
CREATE TABLE operators (
    id           INTEGER PRIMARY KEY,
    pseudonym    TEXT NOT NULL UNIQUE,
    telegram_id  INTEGER UNIQUE,
    created_at   TEXT NOT NULL
);

-- Who proposed an association, so their erasure can remove the city they typed.
ALTER TABLE associations ADD COLUMN proposed_by INTEGER REFERENCES members(id);

-- Actors used to be "telegram:<id>"; they become pseudonyms (members) or operator pseudonyms.
UPDATE broadcasts SET created_by = COALESCE(
    (SELECT m.pseudonym FROM members m
      WHERE 'telegram:' || m.telegram_id = broadcasts.created_by), created_by);
UPDATE audit_log SET actor = COALESCE(
    (SELECT m.pseudonym FROM members m WHERE 'telegram:' || m.telegram_id = audit_log.actor), actor);
UPDATE roles SET granted_by = COALESCE(
    (SELECT m.pseudonym FROM members m WHERE 'telegram:' || m.telegram_id = roles.granted_by),
    granted_by)
;
-- What is left are config admins with no member row: they become operators.
INSERT OR IGNORE INTO operators (pseudonym, telegram_id, created_at)
    SELECT 'op-' || lower(hex(randomblob(8))), CAST(substr(actor, 10) AS INTEGER), at
    FROM audit_log WHERE actor LIKE 'telegram:%' GROUP BY actor;
INSERT OR IGNORE INTO operators (pseudonym, telegram_id, created_at)
    SELECT 'op-' || lower(hex(randomblob(8))), CAST(substr(created_by, 10) AS INTEGER), created_at
    FROM broadcasts WHERE created_by LIKE 'telegram:%' GROUP BY created_by;
UPDATE audit_log SET actor = (SELECT o.pseudonym FROM operators o
    WHERE 'telegram:' || o.telegram_id = audit_log.actor) WHERE actor LIKE 'telegram:%';
UPDATE broadcasts SET created_by = (SELECT o.pseudonym FROM operators o
    WHERE 'telegram:' || o.telegram_id = broadcasts.created_by) WHERE created_by LIKE 'telegram:%';
UPDATE roles SET granted_by = COALESCE((SELECT o.pseudonym FROM operators o
    WHERE 'telegram:' || o.telegram_id = roles.granted_by), 'unknown')
    WHERE granted_by LIKE 'telegram:%'
