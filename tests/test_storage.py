"""The database: migrations applied once, refusal of a newer schema, integrity; SQLite's pragmas.

Each test runs on the session's backend (the `database` fixture: an SQLite file, or a fresh
PostgreSQL database under --storage=postgresql), except the pragmas, which only SQLite has.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from storage import DatabaseTooNewError, Store
from storage.db import migrations
from tests.harness import fixed_clock

# How each backend records its schema version, set here past every migration this code knows.
_NEWER = {
    "sqlite": "PRAGMA user_version = 999",
    "postgresql": "INSERT INTO consultbot_schema (version, name, applied_at)"
    " VALUES (999, '0999_future.sql', '2030-01-01T00:00:00.000000+00:00')",
}
# What each backend raises for a row pointing at a missing parent.
_FOREIGN_KEY_ERROR: dict[str, type[Exception]] = {
    "sqlite": sqlite3.IntegrityError,
    "postgresql": asyncpg.ForeignKeyViolationError,
}


@pytest.fixture
def sqlite_file(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """An SQLite file's path; the test is skipped under --storage=postgresql."""
    # (The sqlite_only marker is not registered under --strict-markers yet, hence a fixture.)
    if request.config.getoption("--storage") != "sqlite":
        pytest.skip("checks SQLite's own settings")
    return tmp_path / "c.db"


async def test_migrations_apply_once_and_reopening_applies_nothing(database: Path | str) -> None:
    store = await Store.open(database, fixed_clock())
    known = migrations(store.database.dialect)
    newest = known[-1][0]
    assert await store.database.schema_version() == newest
    await store.close()
    again = await Store.open(
        database, fixed_clock()
    )  # idempotent: nothing re-applied, nothing fails
    assert await again.database.schema_version() == newest
    if again.database.dialect == "postgresql":
        # Each migration is recorded once, under its own name, in order.
        rows = await again.database.fetch_all(
            "SELECT version, name FROM consultbot_schema ORDER BY version"
        )
        assert [(row[0], row[1]) for row in rows] == [(version, name) for version, name, _ in known]
    await again.close()


async def test_sqlite_pragmas_are_set_on_every_open(sqlite_file: Path) -> None:
    for _ in range(2):
        store = await Store.open(sqlite_file, fixed_clock())
        journal = await store.database.fetch_one("PRAGMA journal_mode")
        keys = await store.database.fetch_one("PRAGMA foreign_keys")
        assert journal is not None and journal[0] == "wal"
        assert keys is not None and keys[0] == 1
        await store.close()


async def test_foreign_keys_are_enforced(database: Path | str) -> None:
    store = await Store.open(database, fixed_clock())
    with pytest.raises(_FOREIGN_KEY_ERROR[store.database.dialect]):
        await store.database.execute(
            "INSERT INTO consent_events (member_id, action, notice_version, channel, at)"
            " VALUES (999, 'accept', 'v', 'test', '2026-01-01')"
        )
    await store.close()


async def test_a_newer_database_is_refused_with_a_clear_message(database: Path | str) -> None:
    store = await Store.open(database, fixed_clock())
    await store.database.execute(_NEWER[store.database.dialect])
    await store.close()
    with pytest.raises(DatabaseTooNewError, match=r"schema version 999.*upgrade consultbot"):
        await Store.open(database, fixed_clock())


async def test_members_repository_round_trip(database: Path | str) -> None:
    store = await Store.open(database, fixed_clock())
    member = await store.members.create_with_consent(42, "ana", "es", "2026-11", "telegram", "name")
    assert member.step == "name" and member.pseudonym.startswith("m-")
    updated = await store.members.update(member.id, {"name": "Ana", "themes": ("a", "b")})
    assert updated.themes == ("a", "b") and updated.updated_at >= member.updated_at
    with pytest.raises(ValueError, match="not updatable"):
        await store.members.update(member.id, {"pseudonym": "x"})
    await store.close()
