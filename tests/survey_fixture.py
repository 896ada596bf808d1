"""The one way export tests get answers: the example form loaded as staff load it, answered in chat.

`examples/consultation_round1.xlsx` is loaded with the surveys service (what `consultbot surveys
load` and a chat upload call), opened to everyone, and twelve members — four each in Spanish,
English and French, seven in Canada and five in the United States — answer it through the
emulator, pressing the buttons and typing what a person would. That happens once per test
session; each test then runs the bot on its own copy of that database, with a clock standing a
few days after the answers. Under `--storage=postgresql` the recording is a database on the
session's server and each copy is made from it as a template.

Use the `answered` fixture (import it in a test module: `from tests.survey_fixture import
answered`) and `answer_in_chat` for any further answers a test needs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.services.xlsform import Form, load_xlsform
from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person, add_member, bot_running, make_config
from tests.postgres_server import PostgresServer
from tgemu import Emulator, Limits

FORM_PATH = Path(__file__).resolve().parent.parent / "examples" / "consultation_round1.xlsx"
ADMIN = 9000
# Members start answering at ANSWERS_FROM, one every six hours; tests run at EXPORTED_AT.
ANSWERS_FROM = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
EXPORTED_AT = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Respondent:
    """A member and the answers they give; None means they press Skip (or Use: 3)."""

    telegram_id: int
    language: str
    country: str
    region: str
    zone: str
    sector: str
    years: str
    consular_visit: str | None
    themes: tuple[str, ...]
    vote_problem: str | None
    rating: str | None
    share: str | None


PAYLOAD = '=HYPERLINK("http://x","y") el consulado está muy lejos'
RESPONDENTS = (
    Respondent(801, "es", "CA", "QC", "America/Toronto", "academia", "12", "2010-05-01",
               ("vote", "consular"), "El consulado está muy lejos", None, "10"),
    Respondent(802, "es", "CA", "QC", "America/Toronto", "academia", "5", None,
               ("consular", "remit"), None, "4", "20"),
    Respondent(803, "es", "CA", "QC", "America/Toronto", "private", "8", "2015-09-01",
               ("vote", "consular"), PAYLOAD, "5", None),
    Respondent(804, "es", "US", "NY", "America/New_York", "private", "20", "2001-01-15",
               ("vote", "remit"), "No hay consulado cerca", None, "15,5"),
    Respondent(805, "en", "CA", "ON", "America/Toronto", "government", "3", "2022-06-30",
               ("consular",), None, "2", "5"),
    Respondent(806, "en", "CA", "QC", "America/Toronto", "academia", "15", None,
               ("vote", "consular", "remit"), "The consulate is very far away", "4", "10"),
    Respondent(807, "en", "US", "NY", "America/New_York", "civil-society", "25", "1999-12-31",
               ("vote", "return"), "Voting by mail is not possible", None, None),
    Respondent(808, "en", "US", "FL", "America/New_York", "civil-society", "10", "2016-02-29",
               ("consular", "remit"), None, None, "7.5"),
    Respondent(809, "fr", "CA", "QC", "America/Toronto", "academia", "7", "2018-08-15",
               ("vote", "consular"), "Le consulat est très loin", "4", "12,5"),
    Respondent(810, "fr", "CA", "BC", "America/Vancouver", "government", "30", "1995-03-01",
               ("consular", "remit"), None, "5", "30"),
    Respondent(811, "fr", "US", "NY", "America/New_York", "private", "2", None,
               ("vote", "consular"), "Le consulat est très loin de chez moi", None, None),
    Respondent(812, "fr", "US", "FL", "America/New_York", "civil-society", "18", "2005-07-07",
               ("consular", "remit"), None, "1", "25"),
)  # fmt: skip


@dataclass(frozen=True)
class Recorded:
    """The answered database of the session and the survey's id in it.

    `database` is an SQLite file, or a PostgreSQL URL (then `spare` is another database on that
    server, left empty: where copies are made from, as no one may be connected to a template).
    """

    database: Path | str
    survey_id: int
    spare: str | None = None


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def copy_recorded(recorded: Recorded, database: Path | str) -> None:
    """Make `database` (the `database` fixture's value: a file not there yet, or a fresh empty
    PostgreSQL database on the session's server) a copy of the answered database."""
    if isinstance(recorded.database, Path):
        assert isinstance(database, Path), "the recording and the copy use one backend"
        source, target = sqlite3.connect(recorded.database), sqlite3.connect(database)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return
    assert isinstance(database, str) and recorded.spare is not None
    template, name = _name(recorded.database), _name(database)
    connection = await asyncpg.connect(recorded.spare)
    try:
        await connection.execute(f"DROP DATABASE {name}")
        for attempt in range(100):
            try:
                await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
                return
            except asyncpg.ObjectInUseError:
                # The recording bot's connections may still be closing on the server's side.
                if attempt == 99:
                    raise
                await asyncio.sleep(0.05)
    finally:
        await connection.close()


@dataclass
class Answered:
    """A test's running bot over a copy of the answered database."""

    bot: BotUnderTest
    clock: ManualClock
    survey_id: int
    form: Form

    def person(self, respondent: Respondent) -> Person:
        return Person(self.bot, respondent.telegram_id)


def example_form() -> Form:
    """The example form as the parser reads it (labels and choices to press)."""
    form = load_xlsform(FORM_PATH).form
    assert form is not None
    return form


async def wait_for_start(person: Person, survey_id: int) -> int:
    """The message holding this survey's Start button, once the invitation arrived."""
    data = f"v1:svy:s:{survey_id}"
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        for message in person.transcript():
            if any(b.get("callback_data") == data for b in message.buttons()):
                return message.message_id
        await asyncio.sleep(0.02)
    raise AssertionError(f"{person.id} got no invitation to survey {survey_id}")


async def answer_in_chat(
    bot: BotUnderTest,
    form: Form,
    survey_id: int,
    who: Respondent,
    clock: ManualClock,
    submit: bool = True,
) -> None:
    """The member answers every question shown to them, in their language, and submits (or,
    with `submit` False, stops at the review)."""
    person, language = Person(bot, who.telegram_id), who.language
    plain = bot.services.texts.plain
    minute = timedelta(minutes=1)

    def choice(list_name: str, name: str) -> str:
        return next(c.label(language) for c in form.choices(list_name) if c.name == name)

    await person.press_data(await wait_for_start(person, survey_id), f"v1:svy:s:{survey_id}")
    await person.press(plain(language, "steps.continue"))  # the welcome note
    await person.press(plain(language, "steps.agree"))  # consent
    await person.press(choice("country", who.country))
    # The region list is long (every province or state): the member types its whole name.
    await person.send(choice("region", who.region))
    clock.advance(minute)
    await person.send(who.years)
    if who.consular_visit is None:
        await person.press(plain(language, "steps.skip"))
    else:
        await person.send(who.consular_visit)
    for theme in who.themes:
        await person.press(choice("themes", theme))
    clock.advance(minute)
    await person.press(plain(language, "steps.done"))
    if who.vote_problem is not None:
        await person.send(who.vote_problem)
    if who.rating is None:
        await person.press(plain(language, "survey.button.use_default", value="3"))
    else:
        await person.send(who.rating)
    if who.share is None:
        await person.press(plain(language, "steps.skip"))
    else:
        await person.send(who.share)
    clock.advance(minute)
    await person.press(plain(language, "steps.continue"))  # the closing note
    clock.advance(timedelta(minutes=4))
    if not submit:
        return
    await person.press(plain(language, "survey.button.submit"))
    member = await bot.services.registration.member(who.telegram_id)
    assert member is not None
    mine = await bot.services.surveys.mine(member)
    assert [item.submitted for item in mine if item.survey.id == survey_id] == [True], (
        person.transcript()[-3:]
    )


def config_for(database: Path | str, emulator: Emulator) -> Config:
    return make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )


async def _record(database: Path | str) -> int:
    """Load the example form, open it, and let the twelve members answer it in chat."""
    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    await emulator.start()
    clock = ManualClock(ANSWERS_FROM)
    try:
        async with bot_running(emulator, config_for(database, emulator), clock) as bot:
            for who in RESPONDENTS:
                await add_member(
                    bot, who.telegram_id, who.language, country=who.country, region=who.region,
                    time_zone=who.zone, sector=who.sector, city="Ciudad",
                )  # fmt: skip
            surveys = bot.services.surveys
            loaded = await surveys.load_file(FORM_PATH, "cli", "1", "protection")
            assert loaded.survey is not None, loaded.errors
            survey_id = loaded.survey.id
            assert await surveys.open(survey_id, AudienceFilter()) == len(RESPONDENTS)
            bot.services.wake_delivery()
            form = example_form()
            for who in RESPONDENTS:
                await answer_in_chat(bot, form, survey_id, who, clock)
                clock.advance(timedelta(hours=6))
    finally:
        await emulator.stop()
    return survey_id


@pytest.fixture(scope="session")
def recorded(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer | None
) -> Recorded:
    """Answer the survey once per session (in a thread of its own: it runs its own loop)."""
    database: Path | str
    spare: str | None = None
    with ThreadPoolExecutor(1) as pool:
        if postgres_server is None:
            database = tmp_path_factory.mktemp("answered") / "consultbot.db"
        else:
            database = pool.submit(asyncio.run, postgres_server.database()).result()
            spare = pool.submit(asyncio.run, postgres_server.database()).result()
        survey_id = pool.submit(asyncio.run, _record(database)).result()
    return Recorded(database, survey_id, spare)


@pytest.fixture
async def answered(
    emulator: Emulator, database: Path | str, recorded: Recorded
) -> AsyncIterator[Answered]:
    """The bot on this test's own copy of the answered database; its clock after the answers."""
    await copy_recorded(recorded, database)
    clock = ManualClock(EXPORTED_AT)
    async with bot_running(emulator, config_for(database, emulator), clock) as bot:
        for who in RESPONDENTS:
            # This test's emulator is new: the members' Telegram accounts come back with them.
            bot.person(who.telegram_id, f"Member {who.telegram_id}", who.language)
        yield Answered(bot, clock, recorded.survey_id, example_form())
