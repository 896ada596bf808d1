"""The SQLite file: pragmas, idempotent migrations, refusal of a newer schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import DatabaseTooNewError, Store
from storage.db import migrations
from tests.harness import fixed_clock


async def test_migrations_apply_once_and_set_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = await Store.open(path, fixed_clock())
    newest = migrations()[-1][0]
    assert await store.database.schema_version() == newest
    journal = await store.database.fetch_one("PRAGMA journal_mode")
    keys = await store.database.fetch_one("PRAGMA foreign_keys")
    assert journal is not None and journal[0] == "wal"
    assert keys is not None and keys[0] == 1
    await store.close()
    again = await Store.open(path, fixed_clock())  # idempotent: nothing re-applied, nothing fails
    assert await again.database.schema_version() == newest
    await again.close()


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "c.db", fixed_clock())
    with pytest.raises(sqlite3.IntegrityError):
        await store.database.execute(
            "INSERT INTO consent_events (member_id, action, notice_version, channel, at)"
            " VALUES (999, 'accept', 'v', 'test', '2026-01-01')"
        )
    await store.close()


async def test_a_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    await (await Store.open(path, fixed_clock())).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseTooNewError, match=r"schema version 999.*upgrade consultbot"):
        await Store.open(path, fixed_clock())


async def test_members_repository_round_trip(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "c.db", fixed_clock())
    member = await store.members.create_with_consent(42, "ana", "es", "2026-11", "telegram", "name")
    assert member.step == "name" and member.pseudonym.startswith("m-")
    updated = await store.members.update(member.id, {"name": "Ana", "themes": ("a", "b")})
    assert updated.themes == ("a", "b") and updated.updated_at >= member.updated_at
    with pytest.raises(ValueError, match="not updatable"):
        await store.members.update(member.id, {"pseudonym": "x"})
    await store.close()
