"""``consultbot meetings ...``: create, list, show, reschedule, cancel, attendance; exit 2."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.cli.meetings import register
from storage import Store
from tests.harness import TOKEN, fixed_clock

T = TypeVar("T")


def run(config: Path, *arguments: str) -> int:
    top = argparse.ArgumentParser(prog="consultbot")
    register(top.add_subparsers(dest="command", required=True))
    parsed = top.parse_args([*arguments[:2], "--config", str(config), *arguments[2:]])
    result: int = parsed.handler(parsed)
    return result


# Where each test's data lives (an SQLite file or a PostgreSQL URL), by configuration file.
_TARGETS: dict[Path, str] = {}


async def _seed(target: str) -> None:
    """Migrate, then make members as registration does: consent, then the profile."""
    store = await Store.open(target, fixed_clock())
    try:
        for telegram_id, region, zone in MEMBERS:
            member = await store.members.create_with_consent(
                telegram_id, None, "es", "2026-11", "test", "name"
            )
            profile = {
                "status": "active",
                "step": None,
                "name": "P",
                "country": "US",
                "region": region,
                "city": "X",
                "time_zone": zone,
            }
            await store.members.update(member.id, profile)
    finally:
        await store.close()


MEMBERS = [
    (501, "TX", "America/Chicago"),
    (502, "TX", "America/Denver"),
    (503, "TX", "America/Chicago"),
    (504, "CA", "America/Los_Angeles"),
]


@pytest.fixture
def config(tmp_path: Path, database: Path | str) -> Path:
    path = tmp_path / "cli.toml"
    key = "url" if isinstance(database, str) else "path"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n[storage]\n{key} = "{database}"\n', encoding="utf-8"
    )
    _TARGETS[path] = str(database)
    asyncio.run(_seed(str(database)))
    return path


def through_store(config: Path, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on the test's data through the store (either backend)."""

    async def opened() -> T:
        store = await Store.open(_TARGETS[config], fixed_clock())
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(opened())


def query(config: Path, sql: str) -> list[Any]:
    async def rows(store: Store) -> list[Any]:
        return [tuple(row) for row in await store.database.fetch_all(sql)]

    return through_store(config, rows)


CREATE = (
    "meetings",
    "create",
    "--title",
    "Reunión de Texas",
    "--title-en",
    "Texas meeting",
    "--kind",
    "local",
    "--start",
    "2099-12-05 10:00",
    "--zone",
    "America/Chicago",
    "--duration",
    "90m",
    "--venue",
    "Houston",
    "--capacity",
    "2",
    "--reminders",
    "24h,2m",
    "--region",
    "US-TX",
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--capacity", "0"), "capacity must be a number above zero"),
        (("--zone", "America/Houston"), "don't know the time zone"),
        (("--start", "2099-03-08 02:30"), "does not exist that day"),
        (("--start", "2099-11-01 01:30"), "happens twice that day"),
        (("--start", "2020-01-01 10:00"), "That time has passed"),
        (("--online-url", "javascript:alert(1)"), "doesn't look like a web address"),
        (("--duration", "soon"), "Write the duration like this"),
        (("--reminders", "yesterday"), "Write the reminders like this"),
        (("--title", "x" * 5000), "200"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    config: Path, capsys: Any, change: tuple[str, str], message: str
) -> None:
    arguments = list(CREATE)
    if change[0] in arguments:
        arguments[arguments.index(change[0]) + 1] = change[1]
    else:
        arguments += list(change)
    assert run(config, *arguments) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and error.startswith("meetings: ") and "\n" not in error
    assert query(config, "SELECT count(*) FROM meetings") == [(0,)]


def test_create_show_reschedule_cancel(config: Path, capsys: Any) -> None:
    assert run(config, *CREATE) == 0
    captured = capsys.readouterr()
    meeting_id = int(captured.out.strip())
    assert "invitations queued for 3 members" in captured.err
    invited = query(config, "SELECT member_id FROM outbox WHERE kind = 'meeting_invite'")
    assert len(invited) == 3
    # Three Texans answer Yes on a two-seat meeting: the third waits.
    answered = datetime(2026, 11, 2, tzinfo=UTC)

    async def answer_yes(store: Store) -> list[tuple[str, int | None]]:
        told = []
        for telegram_id in (501, 502, 503):
            member = await store.members.by_telegram_id(telegram_id)
            assert member is not None
            outcome = await store.meetings.answer(meeting_id, member.id, "yes", answered)
            told.append((member.pseudonym, outcome.waitlist_rank))
        return told

    told = through_store(config, answer_yes)
    assert [rank for _, rank in told] == [None, None, 1]
    waiting = told[2][0]
    assert run(config, "meetings", "show", str(meeting_id)) == 0
    shown = capsys.readouterr().out
    assert "yes 2, maybe 0, no 0, waitlist 1" in shown
    assert f"waitlist 1: {waiting}" in shown
    assert "2099-12-05 10:00 America/Chicago (2099-12-05 16:00 UTC)" in shown
    assert run(config, "meetings", "list") == 0
    assert "Reunión de Texas" in capsys.readouterr().out
    assert (
        run(config, "meetings", "reschedule", str(meeting_id), "--start", "2099-12-12 11:00") == 0
    )
    assert "sequence 1" in capsys.readouterr().out
    assert query(config, f"SELECT sequence, local_start FROM meetings WHERE id = {meeting_id}") == [
        (1, "2099-12-12 11:00")
    ]
    updates = query(config, "SELECT count(*) FROM outbox WHERE kind = 'meeting_update'")
    assert updates == [(3,)]
    pending = query(
        config, "SELECT due_at FROM meeting_reminders WHERE state = 'pending' ORDER BY due_at"
    )
    assert pending == [
        ("2099-12-11T17:00:00.000000+00:00",),
        ("2099-12-12T16:58:00.000000+00:00",),
    ]
    assert run(config, "meetings", "cancel", str(meeting_id)) == 0
    assert query(config, f"SELECT status FROM meetings WHERE id = {meeting_id}") == [("cancelled",)]
    assert query(config, "SELECT count(*) FROM outbox WHERE kind = 'meeting_cancel'") == [(3,)]
    assert query(config, "SELECT count(*) FROM meeting_reminders WHERE state = 'pending'") == [(0,)]
    capsys.readouterr()
    assert run(config, "meetings", "cancel", str(meeting_id)) == 2
    assert "canceled" in capsys.readouterr().err
    assert run(config, "meetings", "attendance", str(meeting_id)) == 0
    assert f"meeting #{meeting_id}: 0 attended" in capsys.readouterr().out
