-- A clause's number (what its buttons carry) as a column of its own, the same on both backends
-- and kept by `consultbot db copy`.
ALTER TABLE clauses ADD COLUMN number BIGINT;
UPDATE clauses SET number = numbered.n FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM clauses) AS numbered WHERE numbered.id = clauses.id;
CREATE UNIQUE INDEX clauses_number ON clauses (number);
