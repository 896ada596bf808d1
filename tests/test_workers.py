"""Two bot processes on one PostgreSQL database: one receives, one only delivers.

Needs a PostgreSQL server: runs under `--storage=postgresql` (as CI does), skipped otherwise.
Both deliver notices with the same token against an emulator that enforces Telegram's 30 msg/s:
drawing windows from the one send budget in the database, together they stay under it (no 429),
each member gets the notice exactly once, and both did part of the sending.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotDelivery
from bot.clock import OffsetClock
from tests.harness import (
    TOKEN,
    BotUnderTest,
    add_member,
    bot_running,
    make_config,
    notices,
    storage_toml,
    wait_until_done,
)
from tgemu import Emulator, Limits

MEMBERS = 90


@pytest.fixture
async def limited() -> AsyncIterator[Emulator]:
    """Telegram's global limit (30 msg/s) on, the per-chat one off (one notice per chat here)."""
    instance = Emulator(Limits(global_rate=30, per_chat_rate=None))
    await instance.start()
    yield instance
    await instance.stop()


async def test_two_workers_share_one_send_budget_and_deliver_each_notice_once(
    limited: Emulator, database: Path | str, running_clock: OffsetClock, tmp_path: Path
) -> None:
    if not str(database).startswith("postgresql"):
        pytest.skip("several bot processes need PostgreSQL (--storage=postgresql)")
    config = make_config(
        database, limited.base_url(), admins={"user_ids": [9000]}, delivery={"rate_per_second": 30}
    )
    async with (
        bot_running(limited, config, running_clock) as receiving,
        bot_running(limited, config, running_clock, receive=False) as delivering,
    ):
        for n in range(MEMBERS):
            await add_member(receiving, 700_000 + n, ("es", "en", "fr")[n % 3])
        broadcast_id = await _queue_from_the_command_line(receiving, tmp_path)
        for worker in (receiving, delivering):
            worker.services.wake_delivery()
        await wait_until_done(receiving, broadcast_id, timeout=60)
        sent = [_tally(worker) for worker in (receiving, delivering)]

    assert limited.bot(TOKEN).floods == 0
    assert [len(notices(receiving, 700_000 + n, "Aviso general")) for n in range(MEMBERS)] == [
        1
    ] * MEMBERS
    assert sum(sent) == MEMBERS and all(part > 0 for part in sent), sent


async def _queue_from_the_command_line(bot: BotUnderTest, folder: Path) -> int:
    from bot.cli import main

    config = folder / "cli.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(bot.config.storage.target),
        encoding="utf-8",
    )
    arguments = ["broadcast", "--config", str(config), "--text", "Aviso general", "--fallback"]
    assert await asyncio.to_thread(main, [*arguments, "es"], bot.clock) == 0
    return (await bot.store.broadcasts.recent(1))[0].id


def _tally(bot: BotUnderTest) -> int:
    delivery = bot.services.delivery
    assert isinstance(delivery, BotDelivery)
    return delivery.tally.sent
