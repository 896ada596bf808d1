"""Bad input gets a clear answer in the member's language, loses nothing, stores nothing invalid."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Texts
from bot.services import regions
from bot.services.errors import InputError, clean_text
from bot.services.registration import NAME_MAX, clean_email
from storage.models import Member
from tests.harness import TOKEN, BotUnderTest, Person, make_config
from tgemu import Emulator, Limits

T = TypeVar("T")

NASTY = [
    "",
    " ",
    "\t\n  ",
    "<b>Ana",
    "<script>alert(1)</script>",
    "</b>",
    "&",
    "&amp;",
    "a < b > c",
    "**bold** _italic_ `code` [link](http://x)",
    "'; DROP TABLE members; --",
    "Robert'); DROP TABLE members;--",
    '" OR 1=1 --',
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "שלום",
    "👩‍👩‍👧‍👦🇸🇻",
    "\x00\x01\x02",
    "a" * 5000,
    "é" * 4097,
    "TX",
    "tx",
    "Texas",
    "Québec",
    "ana@example.org",
    "not@an@email",
    "+1 213 555 0100",
    "/unknowncommand",
    "null",
    "None",
    "0",
    "-1",
    "%s%s%n",
    "{name}",
    "{0}",
]

# (telegram id, language, step, profile fields that put the member at that step)
STEP_PEOPLE: list[tuple[int, str, str, dict[str, Any]]] = [
    (501, "es", "name", {}),
    (502, "en", "country", {"name": "Ana"}),
    (503, "fr", "region", {"name": "Ana", "country": "US"}),
    (504, "es", "city", {"name": "Ana", "country": "CA", "region": "QC"}),
    (
        505,
        "en",
        "association",
        {
            "name": "Ana",
            "country": "US",
            "region": "TX",
            "city": "Houston",
            "time_zone": "America/Chicago",
        },
    ),
    (
        506,
        "fr",
        "association_new",
        {
            "name": "Ana",
            "country": "US",
            "region": "TX",
            "city": "Houston",
            "time_zone": "America/Chicago",
        },
    ),
    (
        507,
        "es",
        "sector",
        {
            "name": "Ana",
            "country": "US",
            "region": "CA",
            "city": "LA",
            "time_zone": "America/Los_Angeles",
            "association_none": True,
        },
    ),
    (508, "en", "themes", {"name": "Ana", "sector": "academia"}),
    (509, "fr", "email", {"name": "Ana", "sector": "academia", "themes": ("protection",)}),
    (510, "es", "phone", {"name": "Ana", "sector": "academia", "themes": ("protection",)}),
    (
        511,
        "en",
        "summary",
        {
            "name": "Ana",
            "country": "US",
            "region": "CA",
            "city": "LA",
            "time_zone": "America/Los_Angeles",
            "sector": "academia",
            "themes": ("protection",),
        },
    ),
]


# The profile fields a step may change; each example starts from the person's own profile.
BLANK: dict[str, Any] = {
    "name": None,
    "country": None,
    "region": None,
    "city": None,
    "time_zone": None,
    "association_id": None,
    "association_none": False,
    "sector": None,
    "themes": (),
    "email": None,
    "phone": None,
    "editing": False,
    "edit_backup": None,
}


def _distinctive(texts: Texts) -> dict[str, list[str]]:
    """Per language, snippets of its catalog that no other language shares."""
    snippets: dict[str, list[str]] = {}
    for language in ("es", "en", "fr"):
        others = {
            form
            for other in ("es", "en", "fr")
            if other != language
            for key in texts.keys(other)
            for form in texts.forms(other, key)
        }
        snippets[language] = [
            _longest_literal(texts.forms(language, key)[-1])
            for key in texts.keys(language)
            if (key.startswith(("ask.", "error.", "summary.", "help.")))
            and texts.forms(language, key)[-1] not in others
            and len(_longest_literal(texts.forms(language, key)[-1])) >= 8
        ]
    return snippets


def _longest_literal(template: str) -> str:
    """The longest piece of a template that is neither a placeholder nor a tag."""
    pieces = re.split(r"\{[^}]*\}|<[^>]+>|\n", template)
    return max((piece.strip() for piece in pieces), key=len, default="")[:30]


def _valid_or_unset(member: Any) -> None:
    """What is stored is either nothing or something the validators accept."""
    for value in (member.name, member.city):
        if value is not None:
            assert clean_text(value, NAME_MAX) == value
    if member.email is not None:
        assert clean_email(member.email) == member.email
    if member.region is not None:
        assert regions.region(member.country, member.region) is not None


class ErrorRecords(logging.Handler):
    """Every ERROR logged anywhere while the bot runs (its loop lives in another thread)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class BotInAThread:
    """One bot for every generated example: Hypothesis calls the test body many times (and again
    while shrinking), so the bot and its event loop live in a thread the body talks to."""

    def __init__(self, database: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
        self.database = database
        self.people: list[tuple[Person, str, str, int, dict[str, Any]]] = []
        self.errors = ErrorRecords()
        self.bot: BotUnderTest | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def start(self) -> None:
        await self.emulator.start()
        config = make_config(self.database, self.emulator.base_url(), admins={"user_ids": [9000]})
        self.bot = BotUnderTest(self.emulator, config)
        await self.bot.start()
        store = self.bot.store
        await store.associations.add("Casa Salvadoreña", "US", "TX", "Houston")
        for telegram_id, language, step, fields in STEP_PEOPLE:
            person = self.bot.person(telegram_id, "P", language)
            member = await store.members.create_with_consent(
                telegram_id, None, language, "2026-11", "test", step
            )
            self.people.append((person, language, step, member.id, fields))
        logging.getLogger().addHandler(self.errors)

    async def stop(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        if self.bot is not None:
            await self.bot.stop()
        await self.emulator.stop()

    async def answer(self, index: int, text: str) -> tuple[str, Member]:
        """Put the person back at their step with their starting profile, send, read the result."""
        assert self.bot is not None
        person, _, step, member_id, fields = self.people[index]
        await self.bot.store.members.update(
            member_id, {**BLANK, **fields, "step": step, "status": "registering"}
        )
        replies = await person.send(text)
        assert replies, f"no answer to {text[:80]!r} at step {step}"
        member = await self.bot.store.members.by_id(member_id)
        assert member is not None
        return "\n".join(reply.text or "" for reply in replies), member

    def close(self) -> None:
        try:
            self.run(self.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module")
def threaded_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotInAThread]:
    running = BotInAThread(tmp_path_factory.mktemp("bad_input") / "consultbot.db")
    try:
        running.run(running.start())
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def distinctive() -> dict[str, list[str]]:
    return _distinctive(Texts.load())


# Any text a person can type (no lone surrogates: Telegram cannot carry them), the list above,
# and long texts around Telegram's 4,096-character limit.
TYPED = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=120)
LONG = st.builds(lambda piece, times: piece * times, TYPED.filter(bool), st.integers(40, 4100))
TEXTS = st.one_of(TYPED, TYPED, st.sampled_from(NASTY), LONG.map(lambda text: text[:4096]))
# Real commands leave the step under test; unknown ones stay in the mix.
COMMAND = re.compile(
    r"^/(start|help|cancel|profile|language|mydata|deleteme|grant|revoke|pending)\b"
)


def _check_answer(
    running: BotInAThread, distinctive: dict[str, list[str]], index: int, text: str
) -> None:
    language, step = running.people[index][1], running.people[index][2]
    before = len(running.errors.records)
    shown, member = running.run(running.answer(index, text))
    assert any(s in shown for s in distinctive[language]), (
        f"answer to {text[:80]!r} at {step} not in {language}: {shown[:200]!r}"
    )
    for other, snippets in distinctive.items():
        if other != language:
            assert not any(s in shown for s in snippets if len(s) >= 12), (other, shown[:200])
    _valid_or_unset(member)
    assert running.errors.records[before:] == [], running.errors.records[before].getMessage()
    assert running.emulator.bot(TOKEN).errors == []


@settings(max_examples=300, deadline=None)
@given(text=TEXTS.filter(lambda text: not COMMAND.match(text)), index=st.integers(0, 10))
def test_any_typed_text_at_any_step_gets_an_answer_and_stores_nothing_invalid(
    threaded_bot: BotInAThread, distinctive: dict[str, list[str]], text: str, index: int
) -> None:
    _check_answer(threaded_bot, distinctive, index, text)


def test_every_nasty_text_at_every_step(
    threaded_bot: BotInAThread, distinctive: dict[str, list[str]]
) -> None:
    for index in range(len(STEP_PEOPLE)):
        for text in NASTY:
            _check_answer(threaded_bot, distinctive, index, text)


def test_validators_refuse_what_they_should() -> None:
    for bad in ["", "   ", "a" * 81, "\u202eevil", "\x00x", "12345", "!!!"]:
        with pytest.raises(InputError):
            clean_text(bad, NAME_MAX)
    assert clean_text("  Ana   María ", NAME_MAX) == "Ana María"
    for bad in ["x", "a@b", "a b@c.org", "ana@@x.org", "a" * 250 + "@x.org"]:
        with pytest.raises(InputError):
            clean_email(bad)
