"""``consultbot db``: the database itself — moving a consultation to another backend."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.cli.common import columns, say
from storage.db import is_postgres_url, redacted

# A table every consultbot database has from its first migration: a source without it is not one.
CONSULTBOT_TABLE = "members"

COPY_HELP = """\
Copy a whole consultation into a new, empty database, e.g. from the embedded SQLite file to
PostgreSQL when it outgrows one machine:

  consultbot db copy --from sqlite:consultbot.db --to postgresql://consultbot@db.example/consult

The source must exist and hold a consultbot database: nothing is created from a mistyped path.
The destination is created at the same schema version (its migrations run first) and must be
empty; it is written in one transaction, so a failed copy leaves it empty. Stop the bot first:
what it writes during the copy would be missed. Each table's rows are counted on both sides;
any difference is an error (exit status 1)."""


def sqlite_source_problem(source: str) -> str | None:
    """Why an SQLite --from cannot be copied (missing, not a database, no consultbot tables);
    read only: a mistyped path must not become a new, empty database."""
    path = Path(source.removeprefix("sqlite:"))
    if not path.is_file():
        return f"--from {source}: no such file (nothing was created)"
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (CONSULTBOT_TABLE,),
            ).fetchone()[0]
    except sqlite3.DatabaseError as error:
        return f"--from {source}: not an SQLite database ({error})"
    if not found:
        return f"--from {source}: not a consultbot database (no consultbot tables)"
    return None


async def postgres_source_problem(source: str) -> str | None:
    """Why a PostgreSQL --from cannot be copied: no consultbot tables (read, never migrated)."""
    import asyncpg  # here: an SQLite deployment never loads it

    try:
        connection = await asyncpg.connect(source)
        try:
            found = await connection.fetchval(
                "SELECT to_regclass('consultbot_schema') IS NOT NULL"
                " AND to_regclass($1) IS NOT NULL",
                CONSULTBOT_TABLE,
            )
        finally:
            await connection.close()
    except asyncpg.PostgresError as error:
        return f"cannot connect: {error}"
    if not found:
        return f"--from {redacted(source)}: not a consultbot database (no consultbot tables)"
    return None


def copy(arguments: argparse.Namespace) -> int:
    """Copy --from into --to and compare each table's row count."""
    from bot.services.moving import CopyRefusedError, copy_consultation

    async def go() -> int:
        if is_postgres_url(arguments.source):
            problem = await postgres_source_problem(arguments.source)
        else:
            problem = sqlite_source_problem(arguments.source)
        if problem is not None:
            say(f"db copy: {problem}", error=True)
            return 2
        copied = await copy_consultation(arguments.source, arguments.destination, arguments.clock)
        rows = [(c.table, c.source_rows, c.destination_rows) for c in copied]
        for line in columns(("table", "from", "to"), rows):
            say(line)
        differing = [c.table for c in copied if c.source_rows != c.destination_rows]
        if differing:
            say(f"db copy: counts differ in {', '.join(differing)}", error=True)
            return 1
        total = sum(c.source_rows for c in copied)
        say(f"copied {total} rows in {len(copied)} tables; every count matches")
        return 0

    try:
        return asyncio.run(go())
    except CopyRefusedError as error:
        say(f"db copy: {error}", error=True)
        return 2
    except OSError as error:
        say(f"db copy: cannot connect: {error}", error=True)
        return 2


def register(commands: Any) -> None:
    """Add `db copy`."""
    group: argparse.ArgumentParser = commands.add_parser(
        "db", help="the database: copy a consultation to another backend", description=COPY_HELP
    )
    actions = group.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    sub: argparse.ArgumentParser = actions.add_parser(
        "copy",
        help="copy a consultation into a new, empty database",
        description=COPY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DATABASE",
        help="sqlite:FILE (or a file's path) or postgresql://user@host/db",
    )
    sub.add_argument(
        "--to",
        dest="destination",
        required=True,
        metavar="DATABASE",
        help="postgresql://user@host/db (or sqlite:FILE), new and empty",
    )
    sub.set_defaults(handler=copy)
