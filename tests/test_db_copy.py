"""`consultbot db copy`: a consultation answered in chat moves between SQLite and PostgreSQL.

Needs a PostgreSQL server: runs under `--storage=postgresql` (as CI does), skipped otherwise.
The source is the example survey answered in chat by twelve members (tests/survey_fixture.py);
it goes to PostgreSQL, back to a new SQLite file, and to PostgreSQL again; every table's count
matches, and the analyst's CSV export of each copy is the same bytes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage import Store
from storage.copy import NOT_COPIED, TABLES
from tests.harness import TOKEN, fixed_clock, storage_toml
from tests.postgres_server import PostgresServer
from tests.survey_fixture import Answered, answered

__all__ = ["answered"]


@pytest.fixture
def server(postgres_server: PostgresServer | None) -> PostgresServer:
    if postgres_server is None:
        pytest.skip("needs a PostgreSQL server (--storage=postgresql)")
    return postgres_server


def _source(answered: Answered) -> str:
    return answered.bot.config.storage.target


def _export(target: str, folder: Path, survey_id: int) -> bytes:
    """The answers CSV as staff export it with the CLI, from the database at `target`."""
    config = folder / f"export-{abs(hash(target))}.toml"
    config.write_text(f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(target))
    out = folder / f"out-{abs(hash(target))}.csv"
    arguments = ["export", "answers-long", "--survey", str(survey_id), "--format", "csv"]
    assert main([*arguments, "--out", str(out), "--config", str(config)]) == 0
    return out.read_bytes()


async def test_a_consultation_moves_to_postgresql_and_back_with_every_row(
    answered: Answered,
    server: PostgresServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await answered.bot.stop()
    source = _source(answered)
    first, back = await server.database(), f"sqlite:{tmp_path / 'back.db'}"
    again = await server.database()
    for origin, destination in ((source, first), (first, back), (back, again)):
        code = await asyncio.to_thread(main, ["db", "copy", "--from", origin, "--to", destination])
        printed = capsys.readouterr().out
        assert code == 0, printed
        assert "every count matches" in printed
        counted = {line.split()[0]: line.split()[1:] for line in printed.splitlines()[1:-1]}
        assert set(counted) == {table.name for table in TABLES}
        assert all(counts[0] == counts[1] for counts in counted.values())
        assert int(counted["record_entries"][0]) >= 12 * 8  # twelve members' answers came along

    exports = [
        await asyncio.to_thread(_export, target, tmp_path, answered.survey_id)
        for target in (source, first, back, again)
    ]
    assert exports[0].count(b"\r\n") > 12 * 8  # a header and every member's answers
    assert all(export == exports[0] for export in exports[1:])

    # New rows continue after the copied ones (the copied ids moved PostgreSQL's counters).
    store = await Store.open(again, fixed_clock())
    try:
        before = await store.database.fetch_one("SELECT max(id) FROM members")
        assert before is not None
        created = await store.members.create_with_consent(55_501, None, "es", "v1", "chat", "name")
        assert created.id > int(before[0])
    finally:
        await store.close()


async def test_a_destination_with_data_is_refused_and_left_as_it_was(
    answered: Answered, server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await answered.bot.stop()
    destination = await server.database()
    source = _source(answered)
    assert await asyncio.to_thread(main, ["db", "copy", "--from", source, "--to", destination]) == 0
    capsys.readouterr()
    again = await asyncio.to_thread(main, ["db", "copy", "--from", source, "--to", destination])
    assert again == 2
    refusal = capsys.readouterr().err
    assert "is not empty" in refusal
    counts = []
    for target in (source, destination):
        store = await Store.open(target, fixed_clock())
        try:
            counts.append(await store.database.fetch_one("SELECT count(*) FROM record_entries"))
        finally:
            await store.close()
    assert counts[0] is not None and counts[1] is not None
    assert int(counts[1][0]) == int(counts[0][0])  # copied once, not twice


def test_every_table_of_the_schema_is_copied() -> None:
    """A table added by a later migration must be added to storage.copy.TABLES too."""
    import sqlite3

    from storage.db import migrations

    connection = sqlite3.connect(":memory:")
    for _, _, sql in migrations("sqlite"):
        connection.executescript(sql)
    tables = {
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    assert tables == {table.name for table in TABLES} | NOT_COPIED
