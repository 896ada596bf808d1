from __future__ import annotations

import os

# PTB 22 warns unless RetryAfter.retry_after is a timedelta; opt in, as the CLI does.
os.environ.setdefault("PTB_TIMEDELTA", "1")

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from tests.harness import BotUnderTest, bot_running, make_config
from tests.postgres_server import PostgresServer
from tgemu import Emulator, Limits
from tgemu.html import ALLOWED_TAGS

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
    parser.addoption(
        "--storage",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the backend the bot and the repositories run on; postgresql starts a real server "
        "(the distribution's binaries, a temp directory) and gives each test a fresh database",
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


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer | None]:
    """The session's PostgreSQL server under --storage=postgresql (None on SQLite)."""
    if request.config.getoption("--storage") != "postgresql":
        yield None
        return
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def database(
    tmp_path: Path, postgres_server: PostgresServer | None, request: pytest.FixtureRequest
) -> Path | str:
    """Where the test's bot keeps its data: an SQLite file, or a fresh PostgreSQL database."""
    if postgres_server is None:
        return tmp_path / "consultbot.db"
    if request.node.get_closest_marker("sqlite_only") is not None:
        pytest.skip("reads the SQLite file directly")
    return await postgres_server.database()


@pytest.fixture
async def bot(
    emulator: Emulator, database: Path | str, running_clock: OffsetClock
) -> AsyncIterator[BotUnderTest]:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as running_bot:
        yield running_bot


# ---- the guard: no message shows people a literal tag or entity --------------------------------

_TAG_NAMES = "|".join(sorted(ALLOWED_TAGS, key=len, reverse=True))
# What HTML parse mode turns into formatting or a character: seen as is, the text was escaped
# twice, or HTML went out without parse_mode (Telegram would show it exactly so).
LITERAL_MARKUP = re.compile(
    rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>|&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-f]+);",
    re.IGNORECASE,
)
_made: list[Emulator] = []
Emulator.on_create.append(_made.append)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "literal_markup_ok: the test makes the bot show literal markup from data no person "
        "typed in chat (a factory's name, a loaded file); say why beside it",
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only: the test reads the SQLite file itself (skipped under --storage=postgresql)",
    )


def literal_markup(emulator: Emulator) -> list[str]:
    """Messages, buttons and pop-ups showing a tag or an entity that no person typed themselves.

    What someone typed (a name "<b>Ana", a notice with "&amp;") must be shown as typed, so it
    excuses exactly the sequences it contains, in any chat of that emulator.
    """
    found: list[str] = []
    for token, state in emulator.bots.items():
        names = [(p.first_name, p.last_name, p.username) for p in emulator.people.values()]
        typed = [*state.typed(), *(name for three in names for name in three if name)]
        for shown in state.shown():
            literal = [
                match.group()
                for match in LITERAL_MARKUP.finditer(shown.text)
                if not any(match.group() in text for text in typed)
            ]
            if literal:
                where = f"chat {shown.chat_id} message {shown.message_id} v{shown.version}"
                found.append(f"[{token} {where} {shown.where}] {literal}: {shown.text!r}")
    return found


@pytest.fixture(autouse=True)
def shows_no_literal_markup(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose bot showed someone `<b>` or `&amp;` instead of bold or `&`."""
    yield
    made = list(_made)
    _made.clear()  # also those a session fixture made: checked with the first test using them
    if request.node.get_closest_marker("literal_markup_ok") is not None:
        return
    found = [line for emulator in made for line in literal_markup(emulator)]
    if found:
        pytest.fail("shown literally:\n" + "\n".join(found), pytrace=False)
