"""PostgreSQL through asyncpg: a pool, the same SQL with numbered placeholders, serialised writes.

Every write takes one transaction-level advisory lock, so writes never interleave — across all
workers, as SQLite's BEGIN IMMEDIATE makes them within one process. Repositories keep the
read-then-write steps they were written with (a seat counted, then taken) and stay correct with
several bot processes on one database. Reads take no lock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from storage.db import (
    Clock,
    Database,
    DatabaseTooNewError,
    Row,
    Transaction,
    migrations,
    process_claimant,
    redacted,
    split_statements,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The advisory lock every write holds to its commit (any constant; consultbot owns the database).
WRITE_LOCK = 7_342_001
# Held while migrating, so two workers starting together migrate once.
MIGRATION_LOCK = 7_342_002
# The tables whose rows can hold a person's data: rewritten after an erasure.
ERASURE_TABLES = (
    "members",
    "consent_events",
    "operators",
    "conversations",
    "inbox",
    "outbox",
    "broadcasts",
    "associations",
    "roles",
    "audit_log",
    "rsvps",
    "survey_participants",
    "survey_answers",
    "proposals",
    "record_entries",
)


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (none inside quoted literals)."""
    parts: list[str] = []
    count = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            count += 1
            parts.append(f"${count}")
        else:
            parts.append(char)
    return "".join(parts)


def _changed(status: str) -> int:
    """Rows changed, from a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _same(value: Any) -> Any:
    return value


_CASTS: dict[str, Callable[[Any], Any]] = {
    "bigint": int,
    "integer": int,
    "double precision": float,
    "text": str,
    "bytea": bytes,
}


class _Statements:
    """Translations of our SQL, cached per database (the same few hundred statements recur),
    and the column types of the tables a bulk load writes to (asked once per table)."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self.column_types: dict[str, dict[str, str]] = {}

    def __call__(self, sql: str) -> str:
        found = self._seen.get(sql)
        if found is None:
            found = self._seen[sql] = numbered(sql)
        return found


class _PgTransaction:
    """Statements on one pooled connection (inside a transaction, or a read snapshot)."""

    def __init__(self, connection: asyncpg.Connection, sql: _Statements) -> None:
        self._connection = connection
        self._sql = sql

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return _changed(await self._connection.execute(self._sql(sql), *parameters))

    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._connection.fetchrow(self._sql(sql), *parameters)
        return row

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = await self._connection.fetch(self._sql(sql), *parameters)
        return rows

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        statement = await self._connection.prepare(self._sql(sql))
        changed = 0
        for row in rows:
            await statement.fetch(*row)
            changed += _changed(statement.get_statusmsg())
        return changed

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """COPY the rows in, each value as the column's type (SQLite's typing is looser)."""
        types = self._sql.column_types.get(table)
        if types is None:
            found = await self._connection.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = $1 AND table_schema = current_schema()",
                table,
            )
            types = self._sql.column_types[table] = dict(found)
        casts = [_CASTS.get(types.get(column, "text"), _same) for column in columns]
        records = [
            tuple(
                None if value is None else cast(value)
                for cast, value in zip(casts, row, strict=True)
            )
            for row in rows
        ]
        await self._connection.copy_records_to_table(table, records=records, columns=list(columns))


class PostgresDatabase(Database):
    """A pool of asyncpg connections to one PostgreSQL database."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str, clock: Clock) -> None:
        self._pool = pool
        self._sql = _Statements()
        self.target = url
        self.location = redacted(url)
        self.claimant = process_claimant()
        self.clock = clock

    @classmethod
    async def open(cls, url: str, clock: Clock, pool_size: int = 10) -> PostgresDatabase:
        """Connect and migrate (once, even when several workers start together)."""
        pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        database = cls(pool, url, clock)
        try:
            await database._migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self._pool.close()

    async def checkpoint(self) -> None:
        """Rewrite the tables that held the erased person's data, so no page keeps them.

        A plain VACUUM only marks dead rows' space free: their bytes stay in the page until
        overwritten. VACUUM FULL writes each table and its indexes anew. It locks each table while
        it runs (a fraction of a second for tens of thousands of rows; see the README); erasures
        are rare, and what a person asked to be forgotten must not stay readable in the files.
        """
        async with self._pool.acquire() as connection:
            await connection.execute(f"VACUUM (FULL) {', '.join(ERASURE_TABLES)}")

    async def schema_version(self) -> int:
        found = await self._pool.fetchval("SELECT COALESCE(max(version), 0) FROM consultbot_schema")
        return int(found)

    async def _migrate(self) -> None:
        known = migrations("postgresql")
        newest = known[-1][0] if known else 0
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS consultbot_schema"
                " (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = await connection.fetchval(
                "SELECT COALESCE(max(version), 0) FROM consultbot_schema"
            )
            if current > newest:
                raise DatabaseTooNewError(self.location, current, newest)
            for version, name, sql in known:
                if version <= current:
                    continue
                logger.info("Applying migration %s", name)
                for statement in split_statements(sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO consultbot_schema (version, name, applied_at) VALUES ($1, $2, $3)",
                    version,
                    name,
                    self.clock.now().isoformat(timespec="microseconds"),
                )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Run several statements atomically; no other write (from any worker) meanwhile."""
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            yield _PgTransaction(connection, self._sql)

    async def transact(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        async with self.transaction() as tx:
            return await work(tx)

    async def read(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """Several reads on one connection and one snapshot."""
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await work(_PgTransaction(connection, self._sql))

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, parameters)

    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._pool.fetchrow(self._sql(sql), *parameters)
        return row

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = await self._pool.fetch(self._sql(sql), *parameters)
        return rows
