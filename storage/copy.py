"""Move a whole consultation from one database to another (`consultbot db copy`).

Tables are copied in an order that satisfies their foreign keys, in chunks read by primary key,
into a destination that must be empty and at the same schema version; the destination is
written in one transaction, so a failed copy leaves it empty. Every table's rows are counted on
both sides afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Row, Transaction

CHUNK = 5000


@dataclass(frozen=True)
class Table:
    """A table to copy: its primary key (to read it in chunks) and columns set afterwards."""

    name: str
    key: tuple[str, ...] = ("id",)
    # Columns pointing at a table copied later (a foreign-key cycle): copied as NULL, then set.
    later: tuple[str, ...] = ()


# Parents before children. associations and members point at each other: an association's
# proposer is set once the members are in.
TABLES: tuple[Table, ...] = (
    Table("associations", later=("proposed_by",)),
    Table("members"),
    Table("consent_events"),
    Table("roles", key=("member_id", "role", "scope")),
    Table("audit_log"),
    Table("operators"),
    Table("broadcasts"),
    Table("outbox"),
    Table("conversations", key=("telegram_id",)),
    Table("inbox", key=("update_id",)),
    Table("group_notices", key=("chat_id",)),
    Table("meetings"),
    Table("rsvps", key=("meeting_id", "member_id")),
    Table("meeting_reminders"),
    Table("surveys"),
    Table("survey_participants", key=("survey_id", "member_id")),
    Table("survey_answers", key=("survey_id", "member_id", "question")),
    Table("proposals"),
    Table("record_entries"),
    Table("clauses"),
    Table("evidence"),
)


# Runtime state, not the consultation's: each database keeps its own.
NOT_COPIED = frozenset({"send_budget"})


@dataclass(frozen=True)
class Copied:
    table: str
    source_rows: int
    destination_rows: int


class CopyRefusedError(RuntimeError):
    """The destination is not an empty consultbot database of the same schema version."""


async def copy_database(source: Database, destination: Database) -> list[Copied]:
    """Copy every table; return each table's row count on both sides."""
    source_version = await source.schema_version()
    destination_version = await destination.schema_version()
    if source_version != destination_version:
        raise CopyRefusedError(
            f"schema versions differ: {source.location} is at {source_version}, "
            f"{destination.location} at {destination_version} (run the same consultbot on both)"
        )
    for table in TABLES:
        if await _count(destination, table.name):
            raise CopyRefusedError(
                f"{destination.location} is not empty ({table.name} has rows): copy into a new, "
                "empty database"
            )
    async with destination.transaction() as tx:
        for table in TABLES:
            await _copy_table(source, tx, table)
        if destination.dialect == "postgresql":
            await _advance_identities(tx)
    return [
        Copied(table.name, await _count(source, table.name), await _count(destination, table.name))
        for table in TABLES
    ]


async def _count(database: Database, table: str) -> int:
    row = await database.fetch_one(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0


async def _copy_table(source: Database, tx: Transaction, table: Table) -> None:
    columns = await _columns(source, table.name)
    key = ", ".join(table.key)
    after: tuple[Any, ...] | None = None
    while True:
        where = ""
        if after is not None:
            marks = ", ".join("?" for _ in table.key)
            where = f" WHERE ({key}) > ({marks})" if len(table.key) > 1 else f" WHERE {key} > ?"
        rows = await source.fetch_all(
            f"SELECT {', '.join(columns)} FROM {table.name}{where} ORDER BY {key} LIMIT {CHUNK}",
            after or (),
        )
        if not rows:
            return
        values = [_values(row, columns, table.later) for row in rows]
        await tx.insert_rows(table.name, columns, values)
        for column in table.later:
            await tx.execute_many(
                f"UPDATE {table.name} SET {column} = ? WHERE {key} = ?",
                [
                    (row[column], *(row[name] for name in table.key))
                    for row in rows
                    if row[column] is not None
                ],
            )
        last = rows[-1]
        after = tuple(last[name] for name in table.key)


def _values(row: Row, columns: Sequence[str], later: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(None if name in later else row[name] for name in columns)


async def _columns(database: Database, table: str) -> list[str]:
    """The table's columns, in their order."""
    row = await database.fetch_one(f"SELECT * FROM {table} LIMIT 1")
    if row is not None:
        return list(row.keys())
    if database.dialect == "sqlite":
        info = await database.fetch_all(f"PRAGMA table_info({table})")
        return [str(column["name"]) for column in info]
    found = await database.fetch_all(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " AND table_schema = current_schema() ORDER BY ordinal_position",
        (table,),
    )
    return [str(column[0]) for column in found]


async def _advance_identities(tx: Transaction) -> None:
    """New rows continue after the copied ids (explicit ids do not move a sequence)."""
    for table in TABLES:
        if table.key != ("id",):
            continue
        sequence = await tx.fetch_one(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")
        if sequence is None or sequence[0] is None:
            continue  # a key the code supplies (clauses are named by staff)
        await tx.fetch_one(
            f"SELECT setval('{sequence[0]}', GREATEST((SELECT max(id) FROM {table.name}), 1),"
            f" (SELECT max(id) FROM {table.name}) IS NOT NULL)"
        )
