"""What every backend offers the repositories: statements, transactions, rows, instants.

Repositories write SQL once, with `?` placeholders, and run it through a `Database`: SQLite
(`storage.sqlite`, the embedded default) or PostgreSQL (`storage.postgres`). SQL that differs
between the two lives beside the repository that needs it, chosen by `Database.dialect`.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")

Dialect = Literal["sqlite", "postgresql"]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# How long an update being handled or a notice being sent stays the claiming process's: past it,
# that process is taken for dead and another takes the row over.
CLAIM_LEASE = timedelta(seconds=120)


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
    """The database was migrated by a newer consultbot than this one."""

    def __init__(self, location: str, version: int, newest: int) -> None:
        super().__init__(
            f"{location} has schema version {version}, but this consultbot knows only up to "
            f"{newest}: upgrade consultbot (or restore a backup made by this version)"
        )


def process_claimant() -> str:
    """A name for this process on the rows it claims, unique among the processes of a database."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Clock(Protocol):
    """Where storage reads the current instant: the bot's injected clock, never the machine's."""

    def now(self) -> datetime: ...


class Row(Protocol):
    """A result row, by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def __iter__(self) -> Iterator[Any]: ...


def to_db_time(moment: datetime) -> str:
    """Store instants as ISO-8601 UTC text so they sort and compare as strings (both backends)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def migrations(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """The packaged migrations of one backend as (version, name, sql), in order."""
    package = "storage.migrations" if dialect == "sqlite" else "storage.migrations_postgresql"
    found = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise RuntimeError(f"migration {name} is out of sequence (expected {expected:04d})")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements (ours hold no triggers and no ';' inside literals)."""
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.strip().startswith("--")
    )
    return [part.strip() for part in without_comments.split(";") if part.strip()]


class Transaction(Protocol):
    """Statements inside one transaction: nobody else writes meanwhile."""

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        ...

    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]: ...

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row; return how many rows they changed in all."""
        ...

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk-insert rows as they are (ids included), the fastest way the backend has."""
        ...


class Database(ABC):
    """One open database: statements, transactions and the clock storage stamps instants with."""

    dialect: Dialect
    clock: Clock
    # What opens it again (a file's path or a URL with its password), for an export process.
    target: str
    # Where the data lives as logs and messages name it (never a password).
    location: str
    # This process's name on the rows it claims (updates in the inbox, notices in the outbox).
    claimant: str

    @property
    def shared(self) -> bool:
        """Whether other bot processes may use this database at once (PostgreSQL; an SQLite
        file has one bot process): then rows are claimed, and a claim lasts a lease."""
        return self.dialect == "postgresql"

    @property
    def claim_lease(self) -> timedelta:
        """How old another process's claim must be before it is taken over (alone: at once)."""
        return CLAIM_LEASE if self.shared else timedelta(0)

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Run several statements atomically; nobody else writes meanwhile."""

    @abstractmethod
    async def transact(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """Run `work` in one transaction, in as few trips to the database as the backend allows.

        `work` awaits nothing but the transaction's statements (SQLite runs it to its end in
        its database thread, one trip for the whole transaction).
        """

    @abstractmethod
    async def read(self, work: Callable[[Transaction], Coroutine[Any, Any, T]]) -> T:
        """Run several reads in one trip where the backend allows it (no writes in `work`)."""

    @abstractmethod
    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one write statement; return how many rows it changed."""

    @abstractmethod
    async def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None: ...

    @abstractmethod
    async def fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def checkpoint(self) -> None:
        """Make erased content leave the files the database keeps (after an erasure)."""

    async def write_returning(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        """Run one write statement with RETURNING and give back its first row."""
        rows = await self.write_fetch_all(sql, parameters)
        return rows[0] if rows else None

    async def write_fetch_all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        """Run one write statement with RETURNING in its own transaction; give back every row."""

        async def run(tx: Transaction) -> list[Row]:
            return await tx.fetch_all(sql, parameters)

        return await self.transact(run)

    async def insert(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one INSERT ... RETURNING id; give back the new row's id."""
        row = await self.write_returning(sql, parameters)
        if row is None:
            raise RuntimeError("an INSERT ... RETURNING id returned no row")
        return int(row[0])

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        async def run(tx: Transaction) -> int:
            return await tx.execute_many(sql, rows)

        return await self.transact(run)

    async def write_chain(self, writes: Sequence[Write]) -> list[Row | None]:
        """Run writes in order in one transaction (one trip on SQLite).

        Each write's first returned row is given back; the chain stops at the first write that
        returns none (the later ones are not run, their rows are None): a refused answer does not
        move the conversation.
        """

        async def run(tx: Transaction) -> list[Row | None]:
            rows: list[Row | None] = [None] * len(writes)
            for index, write in enumerate(writes):
                found = await tx.fetch_all(write.sql, write.parameters)
                if not found:
                    break
                rows[index] = found[0]
            return rows

        return await self.transact(run)

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


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))
