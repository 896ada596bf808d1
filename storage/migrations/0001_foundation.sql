-- Members, consent, associations, roles and the audit log.
CREATE TABLE associations (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    country      TEXT NOT NULL CHECK (country IN ('CA', 'US')),
    region       TEXT,
    city         TEXT,
    kind         TEXT NOT NULL DEFAULT 'association',
    status       TEXT NOT NULL DEFAULT 'approved' CHECK (status IN ('approved', 'pending', 'merged')),
    merged_into  INTEGER REFERENCES associations(id),
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX associations_unique_name
    ON associations (country, COALESCE(region, ''), lower(name)) WHERE status != 'merged';

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    pseudonym        TEXT NOT NULL UNIQUE,
    telegram_id      INTEGER UNIQUE,
    username         TEXT,
    language         TEXT NOT NULL CHECK (language IN ('es', 'en', 'fr')),
    status           TEXT NOT NULL DEFAULT 'registering'
                     CHECK (status IN ('registering', 'active', 'deleted')),
    step             TEXT,
    editing          INTEGER NOT NULL DEFAULT 0,
    name             TEXT,
    country          TEXT CHECK (country IN ('CA', 'US')),
    region           TEXT,
    city             TEXT,
    time_zone        TEXT,
    association_id   INTEGER REFERENCES associations(id),
    association_none INTEGER NOT NULL DEFAULT 0,
    sector           TEXT,
    themes           TEXT NOT NULL DEFAULT '[]',
    email            TEXT,
    phone            TEXT,
    unreachable      INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    registered_at    TEXT,
    deleted_at       TEXT
);
CREATE INDEX members_region ON members (country, region) WHERE status = 'active';

CREATE TABLE consent_events (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id),
    action          TEXT NOT NULL CHECK (action IN ('accept', 'withdraw')),
    notice_version  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX consent_events_member ON consent_events (member_id);

CREATE TABLE roles (
    member_id   INTEGER NOT NULL REFERENCES members(id),
    role        TEXT NOT NULL CHECK (role IN
                ('focal_point', 'coordinator', 'staff', 'staff_pii', 'admin')),
    scope       TEXT NOT NULL DEFAULT '',
    granted_by  TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (member_id, role, scope)
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'
);
