-- Surveys loaded from XLSForm, who was invited, the working answers, proposals, and the
-- append-only policy-formulation record with its provenance.
CREATE TABLE surveys (
    id              INTEGER PRIMARY KEY,
    form_id         TEXT NOT NULL,
    version         TEXT NOT NULL,
    titles          TEXT NOT NULL DEFAULT '{}',
    default_language TEXT NOT NULL,
    definition      TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    round           TEXT,
    theme           TEXT,
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    audience        TEXT NOT NULL DEFAULT '{}',
    meeting_id      INTEGER REFERENCES meetings(id),
    meeting_filter  TEXT CHECK (meeting_filter IN ('attended', 'rsvp_yes')),
    closes_at       TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    opened_at       TEXT,
    closed_at       TEXT,
    -- Questions a member answers (notes excluded), for invitations and progress.
    question_count  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (form_id, version)
);

-- Who was invited to a survey (only they may answer), and how far they got.
CREATE TABLE survey_participants (
    survey_id     INTEGER NOT NULL REFERENCES surveys(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    invited_at    TEXT NOT NULL,
    started_at    TEXT,
    submitted_at  TEXT,
    PRIMARY KEY (survey_id, member_id)
);

-- The working answers (one per question; editable until the survey closes).
CREATE TABLE survey_answers (
    survey_id    INTEGER NOT NULL REFERENCES surveys(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    question     TEXT NOT NULL,
    value        TEXT NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (survey_id, member_id, question)
);

-- Free-text proposals members send to a thematic group.
CREATE TABLE proposals (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    theme       TEXT NOT NULL,
    text        TEXT NOT NULL,
    language    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX proposals_theme ON proposals (theme, id);

-- The policy-formulation record: append-only. Every entry carries its provenance as it was at the
-- time (the member's country, province/state, sector and association then, not now). A changed
-- answer is a new entry whose `supersedes` names the entry it replaces.
CREATE TABLE record_entries (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('answer', 'proposal', 'minutes', 'outcome')),
    pseudonym       TEXT,
    survey_id       INTEGER REFERENCES surveys(id),
    form_id         TEXT,
    form_version    TEXT,
    question        TEXT,
    question_label  TEXT,
    value           TEXT NOT NULL,
    value_label     TEXT NOT NULL DEFAULT '',
    language        TEXT,
    at              TEXT NOT NULL,
    round           TEXT,
    meeting_id      INTEGER REFERENCES meetings(id),
    theme           TEXT,
    country         TEXT,
    region          TEXT,
    sector          TEXT,
    association_id  INTEGER REFERENCES associations(id),
    proposal_id     INTEGER REFERENCES proposals(id),
    supersedes      INTEGER REFERENCES record_entries(id)
);
CREATE INDEX record_survey ON record_entries (survey_id, question);
CREATE INDEX record_kind ON record_entries (kind, theme);
CREATE INDEX record_meeting ON record_entries (meeting_id);
-- The current (not superseded) entries of one member in one survey are read at every submit.
CREATE INDEX record_member ON record_entries (survey_id, pseudonym);
CREATE INDEX record_supersedes ON record_entries (supersedes)
