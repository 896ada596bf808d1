-- The draft policy's clauses (texts per language as JSON) and the evidence linked to each.
CREATE TABLE clauses (
    id         TEXT PRIMARY KEY,
    texts      TEXT NOT NULL DEFAULT '{}',
    position   INTEGER NOT NULL,
    loaded_at  TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT ''
);

-- What informed a clause: a record entry (answer, minutes...), a proposal or a meeting.
CREATE TABLE evidence (
    id         INTEGER PRIMARY KEY,
    clause_id  TEXT NOT NULL REFERENCES clauses(id),
    kind       TEXT NOT NULL CHECK (kind IN ('answer', 'proposal', 'meeting', 'record')),
    ref        INTEGER NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    linked_by  TEXT NOT NULL,
    linked_at  TEXT NOT NULL,
    UNIQUE (clause_id, kind, ref)
);
CREATE INDEX evidence_clause ON evidence (clause_id, kind)
