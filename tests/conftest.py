from __future__ import annotations

import os

# PTB 22 warns unless RetryAfter.retry_after is a timedelta; opt in, as the CLI does.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from tests.harness import BotUnderTest, bot_running, make_config
from tgemu import Emulator, Limits

# The answered example survey (tests/survey_fixture.py): one recording per test session.
pytest_plugins = ("tests.survey_fixture",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-years",
        type=int,
        default=0,
        help="run the bot's clock this many years away from the tests' dates (a multiple of 28, "
        "so weekdays and leap years stay; CI runs the chat tests at -28 and 28): a test that "
        "leans on the machine's calendar fails",
    )


@pytest.fixture
def clock_years(request: pytest.FixtureRequest) -> int:
    years = int(request.config.getoption("--clock-years"))
    if years % 28:
        raise pytest.UsageError("--clock-years must be a multiple of 28")
    return years


@pytest.fixture
def running_clock(clock_years: int) -> OffsetClock:
    """A clock that ticks like the machine's, `--clock-years` away from it."""
    today = datetime.now(UTC)
    return OffsetClock(today.replace(year=today.year + clock_years) - today)


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
async def bot(
    emulator: Emulator, database: Path, running_clock: OffsetClock
) -> AsyncIterator[BotUnderTest]:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as running_bot:
        yield running_bot
