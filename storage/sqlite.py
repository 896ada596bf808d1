"""SQLite, the embedded default: one aiosqlite connection, pragmas, serialised writes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.db import (
    Clock,
    Database,
    DatabaseTooNewError,
    Row,
    Transaction,
    fold,
    migrations,
    process_claimant,
    split_statements,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _insert_statement(table: str, columns: Sequence[str]) -> str:
    """The INSERT a bulk load runs once per row (SQLite has no faster way than executemany)."""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


class _AioTransaction:
    """Statements on the aiosqlite connection, each one trip to its thread: an open
    transaction's, and the database's own reads outside one."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        cursor = await self._connection.execute(sql, parameters)
        changed = cursor.rowcount
        await cursor.close()
        return changed

    # execute_fetchall is one trip to aiosqlite's thread; execute + fetch + close would be three
    # (about 70 µs each here), and these reads sit on every update's path.
    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        rows = list(await self._connection.execute_fetchall(sql, parameters))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.execute_fetchall(sql, parameters))

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        cursor = await self._connection.executemany(sql, rows)
        changed = cursor.rowcount
        await cursor.close()
        return changed

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        await self.execute_many(_insert_statement(table, columns), rows)


class _InThreadTransaction:
    """Statements run at once on the plain sqlite3 connection, inside aiosqlite's thread.

    Its methods never suspend, so a whole `work` coroutine runs to its end in one trip.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return self._connection.execute(sql, parameters).rowcount

    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        # fetchall: the statement runs to its end (a RETURNING write included).
        rows: list[Row] = self._connection.execute(sql, parameters).fetchall()
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self._connection.execute(sql, parameters).fetchall()
        return rows

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return self._connection.executemany(sql, rows).rowcount

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        await self.execute_many(_insert_statement(table, columns), rows)


def _run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its awaits are _InThreadTransaction's) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("a transaction's work awaited something besides its own statements")


class SqliteDatabase(Database):
    """One aiosqlite connection; writes are serialised so transactions never interleave."""

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._connection = connection
        self._reads = _AioTransaction(connection)
        self._write_lock = asyncio.Lock()
        self.path = path
        self.target = self.location = str(path)
        self.claimant = process_claimant()
        self.clock = clock

    @classmethod
    async def open(cls, path: Path, clock: Clock) -> SqliteDatabase:
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
            raise DatabaseTooNewError(self.location, current, newest)
        for version, name, sql in known:
            if version <= current:
                continue
            logger.info("Applying migration %s", name)
            async with self.transaction() as conn:
                for statement in split_statements(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Run several statements atomically; nobody else writes meanwhile."""
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield _AioTransaction(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        async with self._write_lock:
            cursor = await self._connection.execute(sql, parameters)
            changed = cursor.rowcount
            await cursor.close()
        return changed

    async def transact(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """Run `work` in one transaction and one trip to the database thread.

        One trip instead of one per statement, because with updates in flight each trip waits
        for the GIL behind the event loop.
        """

        def run(connection: sqlite3.Connection) -> T:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = _run_to_end(work(_InThreadTransaction(connection)))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        async with self._write_lock:
            return await self._in_thread(run)

    async def read(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """Run several reads in one trip to the database thread."""

        def run(connection: sqlite3.Connection) -> T:
            return _run_to_end(work(_InThreadTransaction(connection)))

        return await self._in_thread(run)

    async def _in_thread(self, run: Callable[[sqlite3.Connection], T]) -> T:
        # aiosqlite's own methods queue their function to its thread with _execute.
        aio = self._connection
        result: T = await aio._execute(run, aio._conn)  # type: ignore[no-untyped-call]
        return result

    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        return await self._reads.fetch_one(sql, parameters)

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return await self._reads.fetch_all(sql, parameters)
