from __future__ import annotations

import os

# PTB 22 warns unless RetryAfter.retry_after is a timedelta; opt in, as the CLI does.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import BotUnderTest, bot_running, make_config
from tgemu import Emulator, Limits


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator with flood limits off (tests that need them switch them on)."""
    instance = Emulator(Limits(global_rate=None, per_chat_rate=None))
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "consultbot.db"


@pytest.fixture
async def bot(emulator: Emulator, database: Path) -> AsyncIterator[BotUnderTest]:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config) as running_bot:
        yield running_bot
