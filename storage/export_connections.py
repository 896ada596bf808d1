"""Synchronous, read-only connections for exports (a worker thread or an export process).

An export streams rows in chunks from a connection of its own, so it neither holds the bot's
connection nor loads every row at once. SQLite: a read-only file connection (WAL lets it read
while the bot writes). PostgreSQL: asyncpg on a private event loop in the export's thread, inside
one read-only snapshot, through a server-side cursor.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from storage.db import Dialect, Row, is_postgres_url


class ReadCursor(Protocol):
    """What an export reads through: rows in chunks, and the columns' names."""

    def fetchone(self) -> Row | None: ...

    def fetchmany(self, size: int) -> Sequence[Row]: ...

    def fetchall(self) -> Sequence[Row]: ...

    def names(self) -> list[str]: ...

    def close(self) -> None: ...


class ReadConnection(Protocol):
    dialect: Dialect

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> ReadCursor: ...


class _SqliteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def fetchone(self) -> Row | None:
        row: Row | None = self._cursor.fetchone()
        return row

    def fetchmany(self, size: int) -> Sequence[Row]:
        return self._cursor.fetchmany(size)

    def fetchall(self) -> Sequence[Row]:
        return self._cursor.fetchall()

    def names(self) -> list[str]:
        return [column[0] for column in self._cursor.description]

    def close(self) -> None:
        self._cursor.close()


class _SqliteReadConnection:
    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> ReadCursor:
        return _SqliteCursor(self._connection.execute(sql, parameters))


class _PostgresCursor:
    def __init__(self, loop: asyncio.AbstractEventLoop, statement: Any, cursor: Any) -> None:
        self._loop = loop
        self._statement = statement
        self._cursor = cursor

    def fetchone(self) -> Row | None:
        row: Row | None = self._loop.run_until_complete(self._cursor.fetchrow())
        return row

    def fetchmany(self, size: int) -> Sequence[Row]:
        rows: Sequence[Row] = self._loop.run_until_complete(self._cursor.fetch(size))
        return rows

    def fetchall(self) -> Sequence[Row]:
        rows: list[Row] = []
        while chunk := self.fetchmany(5000):
            rows.extend(chunk)
        return rows

    def names(self) -> list[str]:
        return [attribute.name for attribute in self._statement.get_attributes()]

    def close(self) -> None:
        """Server-side cursors end with the snapshot's transaction."""


class _PostgresReadConnection:
    dialect: Dialect = "postgresql"

    def __init__(self, loop: asyncio.AbstractEventLoop, connection: Any) -> None:
        self._loop = loop
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> ReadCursor:
        from storage.postgres import numbered

        async def open_cursor() -> tuple[Any, Any]:
            statement = await self._connection.prepare(numbered(sql))
            return statement, await statement.cursor(*parameters)

        statement, cursor = self._loop.run_until_complete(open_cursor())
        return _PostgresCursor(self._loop, statement, cursor)


@contextmanager
def open_read_connection(target: str) -> Iterator[ReadConnection]:
    """A read-only connection to `target` (a postgresql:// URL or an SQLite file's path)."""
    if is_postgres_url(target):
        with _postgres(target) as connection:
            yield connection
        return
    uri = f"{Path(target.removeprefix('sqlite:')).resolve().as_uri()}?mode=ro"
    sqlite_connection = sqlite3.connect(uri, uri=True)
    try:
        sqlite_connection.execute("PRAGMA busy_timeout = 5000")
        yield _SqliteReadConnection(sqlite_connection)
    finally:
        sqlite_connection.close()


@contextmanager
def _postgres(url: str) -> Iterator[ReadConnection]:
    import asyncpg

    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(asyncpg.connect(url))
        try:
            # One snapshot for the whole export: its sheets agree with each other.
            loop.run_until_complete(
                connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            )
            yield _PostgresReadConnection(loop, connection)
        finally:
            loop.run_until_complete(connection.close())
    finally:
        loop.close()
