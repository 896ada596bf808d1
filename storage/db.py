"""The SQLite connection: pragmas, versioned migrations, and serialised writes."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

logger = logging.getLogger(__name__)

T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class UpdateScope:
    """The Telegram update being handled in this task (set by the update processor)."""

    update_id: int


# Which update the current task is handling: a step change records it in the same statement.
current_update: ContextVar[UpdateScope | None] = ContextVar("current_update", default=None)


def fold(text: object) -> str | None:
    """Lower case without accents, for searching names as people type them ('cuscatlan')."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Write:
    """One write statement with RETURNING, built by a repository to run in a chain of writes."""

    sql: str
    parameters: Sequence[Any] = ()


class DatabaseTooNewError(RuntimeError):
    """The file was migrated by a newer consultbot than this one."""


class Clock(Protocol):
    """Where storage reads the current instant: the bot's injected clock, never the machine's."""

    def now(self) -> datetime: ...


def to_db_time(moment: datetime) -> str:
    """Store instants as ISO-8601 UTC text so they sort and compare as strings."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (version, name, sql), in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise RuntimeError(f"migration {name} is out of sequence (expected {expected:04d})")
    return found


class Database:
    """One aiosqlite connection; writes are serialised so transactions never interleave."""

    def __init__(self, connection: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._connection = connection
        self._write_lock = asyncio.Lock()
        self.path = path
        self.clock = clock

    @classmethod
    async def open(cls, path: Path, clock: Clock) -> Database:
        """Open (creating if needed) and migrate the database file."""
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA busy_timeout = 5000")
            await connection.execute("PRAGMA synchronous = NORMAL")
            # Deleted and overwritten content is zeroed, so erased personal data leaves the file.
            await connection.execute("PRAGMA secure_delete = ON")
            # SQLite's lower() knows ASCII only: searches by name go through fold() instead.
            await connection.create_function("fold", 1, fold, deterministic=True)
            database = cls(connection, path, clock)
            await database._migrate()
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        async with self._write_lock:
            await self._connection.close()

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it (after an erasure)."""
        async with self._write_lock:
            await self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        known = migrations()
        current = await self.schema_version()
        newest = known[-1][0] if known else 0
        if current > newest:
            raise DatabaseTooNewError(
                f"{self.path} has schema version {current}, but this consultbot knows only up to "
                f"{newest}: upgrade consultbot (or restore a backup made by this version)"
            )
        for version, name, sql in known:
            if version <= current:
                continue
            logger.info("Applying migration %s", name)
            async with self.transaction() as conn:
                for statement in _split_statements(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run several statements atomically; nobody else writes meanwhile."""
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one write statement; return the last row id (for INSERT) or the row count."""
        async with self._write_lock:
            cursor = await self._connection.execute(sql, parameters)
            result = cursor.lastrowid if sql.lstrip().upper().startswith("INSERT") else None
            rowcount = cursor.rowcount
            await cursor.close()
        return int(result) if result else rowcount

    async def update_columns(
        self,
        table: str,
        row_id: int,
        fields: Mapping[str, Any],
        allowed: frozenset[str],
        encode: Callable[[str, Any], Any],
    ) -> None:
        """Set some columns of one row by id; refuse any column not in `allowed`."""
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if fields:
            assignments = ", ".join(f"{key} = ?" for key in fields)
            values = [encode(key, value) for key, value in fields.items()]
            await self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*values, row_id))

    async def write_returning(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run one write statement with RETURNING and give back its first row."""
        async with self._write_lock:
            rows = list(await self._connection.execute_fetchall(sql, parameters))
        return rows[0] if rows else None

    async def write_fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one write statement with RETURNING in its own transaction; give back every row."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, parameters)
            rows = list(await cursor.fetchall())
            await cursor.close()
        return rows

    async def write_chain(self, writes: Sequence[Write]) -> list[sqlite3.Row | None]:
        """Run writes in order in one transaction and one trip to the database thread.

        Each write's first returned row is given back; the chain stops at the first write that
        returns none (the later ones are not run, their rows are None): a refused answer does not
        move the conversation.
        """

        def run(connection: sqlite3.Connection) -> list[sqlite3.Row | None]:
            rows: list[sqlite3.Row | None] = [None] * len(writes)
            for index, write in enumerate(writes):
                # fetchall: the statement runs to its end before the next one starts.
                found = connection.execute(write.sql, write.parameters).fetchall()
                if not found:
                    break
                rows[index] = found[0]
            return rows

        return await self.transact(run)

    async def transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one transaction and one trip to the database thread.

        `work` runs in aiosqlite's thread on the plain sqlite3 connection (only that thread may
        touch it): synchronous calls only. One trip instead of one per statement, because with
        updates in flight each trip waits for the GIL behind the event loop.
        """

        def run(connection: sqlite3.Connection) -> T:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        async with self._write_lock:
            # aiosqlite's own methods queue their function to its thread with _execute.
            aio = self._connection
            result: T = await aio._execute(run, aio._conn)  # type: ignore[no-untyped-call]
        return result

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads in one trip to the database thread (`work` runs in that thread on the
        plain sqlite3 connection: synchronous calls only, no writes, no transaction of its own)."""
        aio = self._connection
        result: T = await aio._execute(work, aio._conn)  # type: ignore[no-untyped-call]
        return result

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    # execute_fetchall is one trip to aiosqlite's thread; execute + fetch + close would be three
    # (about 70 µs each here), and these two sit on every update's path.
    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = list(await self._connection.execute_fetchall(sql, parameters))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._connection.execute_fetchall(sql, parameters))


def _split_statements(sql: str) -> list[str]:
    """Split a migration into statements (ours hold no triggers and no ';' inside literals)."""
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.strip().startswith("--")
    )
    return [part.strip() for part in without_comments.split(";") if part.strip()]
