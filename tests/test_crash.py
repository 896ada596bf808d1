"""kill -9 during a broadcast: after restarts every member has the notice; few duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.app import open_services
from bot.config import Config
from storage.models import AudienceFilter
from tgemu import Emulator

TOKEN = "6060:crash-test"
PEOPLE = range(50_000, 50_600)
RATE = 100  # notices per second, so the broadcast lasts long enough to be killed thrice


def _config(emulator: Emulator, database: Path) -> Config:
    return Config.model_validate(
        {
            "telegram": {"token": TOKEN, "base_url": emulator.base_url(), "poll_timeout": 1},
            "storage": {"path": str(database)},
            "delivery": {"rate_per_second": RATE},
        }
    )


async def _prepare(emulator: Emulator, config: Config) -> int:
    services = await open_services(config)
    try:
        for telegram_id in PEOPLE:
            emulator.create_person(telegram_id, "P", "es")
            member = await services.store.members.create_with_consent(
                telegram_id, None, "es", "2026-11", "test", "name"
            )
            await services.store.members.update(
                member.id, {"status": "active", "step": None, "name": "P", "time_zone": "UTC"}
            )
        created, count = await services.broadcasts.create_queued(
            "test", {"es": "Aviso durable"}, "es", AudienceFilter()
        )
        assert count == len(PEOPLE)
        return created.id
    finally:
        await services.store.close()


async def _start(config_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config_path),
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _wait_sends(emulator: Emulator, target: int, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while emulator.bot(TOKEN).sends < target:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {emulator.bot(TOKEN).sends} sends")
        await asyncio.sleep(0.01)


async def test_kill_9_three_times_loses_nothing(emulator: Emulator, tmp_path: Path) -> None:
    database = tmp_path / "crash.db"
    config = _config(emulator, database)
    broadcast_id = await _prepare(emulator, config)
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{emulator.base_url()}"\npoll_timeout = 1\n'
        f'[storage]\npath = "{database}"\n[delivery]\nrate_per_second = {RATE}\n',
        encoding="utf-8",
    )
    for kill_after in (60, 220, 400):
        process = await _start(config_path)
        await _wait_sends(emulator, kill_after)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    process = await _start(config_path)
    try:
        await _wait_sends(emulator, len(PEOPLE))
        services = await open_services(config)
        try:
            for _ in range(300):
                broadcast = await services.store.broadcasts.get(broadcast_id)
                if broadcast is not None and broadcast.status == "done":
                    break
                await asyncio.sleep(0.1)
            counts = await services.store.broadcasts.counts(broadcast_id)
        finally:
            await services.store.close()
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    chats = emulator.bot(TOKEN).chats
    received = {
        telegram_id: sum(1 for m in chats[telegram_id].messages.values() if m.direction == "out")
        for telegram_id in PEOPLE
    }
    assert min(received.values()) >= 1, "a member never got the notice"
    duplicates = sum(count - 1 for count in received.values())
    claim_size = max(4, min(64, RATE // 4))  # the worker's claim batch at this rate
    assert duplicates <= 3 * claim_size, duplicates
    assert counts.sent == len(PEOPLE) and counts.pending == counts.sending == 0
    print(f"duplicates after 3 kills: {duplicates} (bound {3 * claim_size})")
