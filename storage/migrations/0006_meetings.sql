-- Consultation meetings, answers (with the waitlist and check-in) and the reminders derived from them.
CREATE TABLE meetings (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('national', 'local', 'thematic')),
    titles            TEXT NOT NULL DEFAULT '{}',
    descriptions      TEXT NOT NULL DEFAULT '{}',
    start_at          TEXT NOT NULL,
    zone              TEXT NOT NULL,
    local_start       TEXT NOT NULL,
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes > 0),
    online_url        TEXT,
    venue             TEXT,
    capacity          INTEGER CHECK (capacity IS NULL OR capacity > 0),
    rsvp_deadline     TEXT,
    reminders         TEXT NOT NULL DEFAULT '[]',
    audience          TEXT NOT NULL DEFAULT '{}',
    round             TEXT,
    theme             TEXT,
    status            TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'cancelled', 'done')),
    sequence          INTEGER NOT NULL DEFAULT 0,
    checkin_code      TEXT NOT NULL UNIQUE,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    minutes           TEXT,
    minutes_file_id   TEXT,
    alert_level       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX meetings_start ON meetings (status, start_at);

-- One answer per member; a Yes with a waitlist position waits for a seat (position = arrival order).
CREATE TABLE rsvps (
    meeting_id         INTEGER NOT NULL REFERENCES meetings(id),
    member_id          INTEGER NOT NULL REFERENCES members(id),
    answer             TEXT NOT NULL CHECK (answer IN ('yes', 'maybe', 'no')),
    waitlist_position  INTEGER,
    answered_at        TEXT NOT NULL,
    checked_in_at      TEXT,
    checked_in_by      TEXT,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX rsvps_answer ON rsvps (meeting_id, answer, waitlist_position);
CREATE UNIQUE INDEX rsvps_waitlist ON rsvps (meeting_id, waitlist_position)
    WHERE waitlist_position IS NOT NULL;
CREATE INDEX rsvps_member ON rsvps (member_id);

-- The source of truth for reminders; scheduler jobs are derived from the pending rows.
CREATE TABLE meeting_reminders (
    id              INTEGER PRIMARY KEY,
    meeting_id      INTEGER NOT NULL REFERENCES meetings(id),
    offset_minutes  INTEGER NOT NULL,
    start_at        TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped')),
    fired_at        TEXT,
    UNIQUE (meeting_id, offset_minutes, start_at)
);
CREATE INDEX meeting_reminders_due ON meeting_reminders (state, due_at)
