-- A clause's number (what its buttons carry) as a column of its own, the same on both backends
-- and kept by `consultbot db copy` (it was the rowid, which PostgreSQL does not have).
ALTER TABLE clauses ADD COLUMN number INTEGER;
UPDATE clauses SET number = rowid;
CREATE UNIQUE INDEX clauses_number ON clauses (number);
