"""A member's data: /mydata holds all of it; after /deleteme nothing ties the record to them,
not even for people who acted (sent notices, granted roles, proposed associations)."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.clock import ManualClock
from bot.services.export import ExportRequest
from storage.db import Database
from storage.models import AudienceFilter
from tests.harness import (
    TOKEN,
    BotUnderTest,
    Person,
    add_member,
    bot_running,
    make_config,
    wait_until_done,
)
from tests.survey_fixture import (
    ANSWERS_FROM,
    FORM_PATH,
    Respondent,
    answer_in_chat,
    config_for,
    example_form,
)
from tgemu import Emulator

TELEGRAM_ID = 987654321
PHONE_DIGITS = "2135550199"


# Each backend's catalog (tables, then a table's columns) and a LIKE as loose as SQLite's, which
# ignores ASCII case.
_CATALOG = {
    "sqlite": (
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        "SELECT name FROM pragma_table_info(?)",
        "LIKE",
    ),
    "postgresql": (
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        "ILIKE",
    ),
}


async def _places_holding(database: Database, needle: str) -> list[str]:
    """Every table.column of the database whose text contains the needle."""
    tables_sql, columns_sql, like = _CATALOG[database.dialect]
    found = []
    for table in [str(row[0]) for row in await database.fetch_all(tables_sql)]:
        for column in [str(row[0]) for row in await database.fetch_all(columns_sql, (table,))]:
            row = await database.fetch_one(
                f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) {like} ?",
                (f"%{needle}%",),
            )
            if row is not None and row[0]:
                found.append(f"{table}.{column}")
    return found


async def test_mydata_is_complete_and_deleteme_leaves_no_link(bot: BotUnderTest) -> None:
    person = bot.person(TELEGRAM_ID, "Test", "en", username="private_person")
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send("Ana Privada")
    await person.press("United States")
    await person.send("tx")
    await person.send("Houston")
    await person.press("Houston")
    await person.press("None")
    await person.press("Private sector")
    await person.press("remittances")
    await person.press("Done")
    await person.send("ana.privada@example.org")
    await person.share_contact(f"+1 {PHONE_DIGITS}")
    await person.press("Confirm")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @private_person staff")
    services = bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None and services.delivery is not None
    created, _ = await services.broadcasts.create_queued(
        "test", {"en": "Hello"}, "en", AudienceFilter()
    )
    services.delivery.wake()
    await wait_until_done(bot, created.id)

    await person.send("/mydata")
    document = person.last().document
    assert document is not None
    sections = json.loads(bot.emulator.bot(TOKEN).files[document["file_id"]][1])["sections"]
    (profile,) = sections["profile"]["items"]
    assert profile["phone"] == f"+1{PHONE_DIGITS}"
    assert profile["email"] == "ana.privada@example.org"
    assert [grant["role"] for grant in sections["roles"]["items"]] == ["staff"]
    assert [entry["action"] for entry in sections["role_changes"]["items"]] == ["grant"]
    assert sections["notices_received"]["items"][0]["state"] == "sent"

    database = bot.store.database
    assert await _places_holding(database, str(TELEGRAM_ID))  # before: the link exists
    await person.send("/deleteme")
    await person.press("Yes, erase")
    for needle in (
        str(TELEGRAM_ID),
        PHONE_DIGITS,
        "ana.privada",
        "Ana Privada",
        "private_person",
        "Houston",
    ):
        assert await _places_holding(database, needle) == [], needle
    member = await bot.store.members.by_id(profile["id"])
    assert member is not None and member.pseudonym == profile["pseudonym"]
    assert (member.region, member.sector) == ("TX", "private")  # what the record keeps


# ---- erasure of people who acted ------------------------------------------------------------

ADMIN_ID = 876543219  # a config admin who also registered
COORDINATOR_ID = 765432198  # broadcast a notice, with its status message in their chat
PROPOSER_ID = 654321987  # proposed an association while registering


@dataclass(frozen=True)
class Someone:
    telegram_id: int
    name: str
    username: str
    city: str
    email: str
    phone_digits: str

    def needles(self) -> list[str]:
        return [
            str(self.telegram_id),
            self.name,
            self.username,
            self.city,
            self.email,
            self.phone_digits,
        ]


ADMIN = Someone(
    ADMIN_ID, "Adelina Qwertz", "adelina_admin", "Poughkeepsie", "adelina@ex.org", "7185550111"
)
COORDINATOR = Someone(
    COORDINATOR_ID,
    "Cornelio Zyxw",
    "cornelio_coord",
    "Schenectady",
    "cornelio@ex.org",
    "7185550122",
)
PROPOSER = Someone(
    PROPOSER_ID, "Prudencia Vbnm", "prudencia_prop", "Tonawanda", "prudencia@ex.org", "7185550133"
)


async def _register(person: Person, someone: Someone, proposed: str | None = None) -> None:
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send(someone.name)
    await person.press("United States")
    await person.send("NY")
    await person.send(someone.city)
    if proposed is None:
        await person.press("None")
    else:
        await person.press("Not in the list")
        await person.send(proposed)
    await person.press("Government")
    await person.press("Consular")
    await person.press("Done")
    await person.send(someone.email)
    await person.share_contact(f"+1 {someone.phone_digits}")
    await person.press("Confirm")
    assert "Your registration is complete" in person.last_text()


async def _erase(person: Person) -> None:
    await person.send("/deleteme")
    await person.press("Yes, erase")


def _bytes_holding(path: Path, someone: Someone) -> list[str]:
    """Which of the person's values appear anywhere in a file's raw bytes."""
    if not path.exists():
        return []
    content = path.read_bytes()
    found = [needle for needle in someone.needles() if needle.encode("utf-8") in content]
    # SQLite stores the integer big-endian in 4 bytes (it is under 2**31).
    if struct.pack(">i", someone.telegram_id) in content:
        found.append(f"{someone.telegram_id} as an integer")
    return found


async def _pages_holding(database: Database, someone: Someone) -> list[str]:
    """PostgreSQL: which of the person's values some page of a table, its TOAST or an index still
    holds (a dead row version not yet vacuumed, an index entry), read raw with pageinspect."""
    await database.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    relations = await database.fetch_all(
        "SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::int"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
        " UNION ALL SELECT t.oid::regclass::text,"
        " pg_relation_size(t.oid) / current_setting('block_size')::int"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = current_schema()"
    )
    needles = {needle: needle.encode("utf-8") for needle in someone.needles()}
    # A BIGINT as the server stores it (this machine's byte order).
    needles[f"{someone.telegram_id} as an integer"] = struct.pack("=q", someone.telegram_id)
    found = []
    for name, blocks in relations:
        for block in range(int(blocks)):
            row = await database.fetch_one(
                "SELECT get_raw_page(CAST(? AS TEXT), CAST(? AS BIGINT))", (name, block)
            )
            assert row is not None
            page = bytes(row[0])
            found += [f"{name}: {label}" for label, raw in needles.items() if raw in page]
    return found


async def test_erasing_people_who_acted_leaves_nothing_in_any_column_or_byte(
    emulator: Emulator, database: Path | str
) -> None:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN_ID]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config) as bot:
        for telegram_id in range(700, 705):
            await add_member(bot, telegram_id, "en", country="US", region="NY", city="Albany")
        coordinator = bot.person(COORDINATOR_ID, "Cornelio", "en", username=COORDINATOR.username)
        await _register(coordinator, COORDINATOR)
        proposer = bot.person(PROPOSER_ID, "Prudencia", "en", username=PROPOSER.username)
        await _register(proposer, PROPOSER, proposed="Club Unidos del Norte")
        # The admin acts before registering (an operator actor) and after (a member actor).
        admin = bot.person(ADMIN_ID, "Adelina", "en", username=ADMIN.username)
        await admin.send(f"/grant @{COORDINATOR.username} coordinator")
        assert "granted" in admin.last_text()
        await _register(admin, ADMIN)
        await admin.send(f"/grant @{PROPOSER.username} staff")
        assert "granted" in admin.last_text()

        await coordinator.send("/broadcast")
        await coordinator.send("Meeting on Saturday in Albany.")
        await coordinator.press("Continue")
        await coordinator.press("Continue")
        await coordinator.press("Confirm sending")
        broadcast = (await bot.store.broadcasts.recent(1))[0]
        await wait_until_done(bot, broadcast.id)
        assert broadcast.status_chat_id == COORDINATOR_ID

        everyone = (ADMIN, COORDINATOR, PROPOSER)
        for someone in everyone:  # before: each of them is in the database
            assert await _places_holding(bot.store.database, str(someone.telegram_id)), someone.name
            assert await _places_holding(bot.store.database, someone.city), someone.name
        for person in (coordinator, proposer, admin):
            await _erase(person)

        for someone in everyone:
            for needle in someone.needles():
                assert await _places_holding(bot.store.database, needle) == [], (
                    someone.name,
                    needle,
                )
        if isinstance(database, Path):  # SQLite: not in the file's bytes either
            leaks = {
                (suffix, someone.name): _bytes_holding(Path(f"{database}{suffix}"), someone)
                for suffix in ("", "-wal")
                for someone in everyone
            }
            assert {place: found for place, found in leaks.items() if found} == {}
        else:  # PostgreSQL: not in any page of a table, its TOAST or an index
            pages = {
                someone.name: await _pages_holding(bot.store.database, someone)
                for someone in everyone
            }
            assert {name: found for name, found in pages.items() if found} == {}
        # What the record keeps: the notice, the grants' audit, the proposed association.
        assert (await bot.store.broadcasts.get(broadcast.id)) is not None
        proposals = await bot.store.database.fetch_all(
            "SELECT status, region, city FROM associations WHERE name = ?",
            ("Club Unidos del Norte",),
        )
        assert [tuple(row) for row in proposals] == [("pending", "NY", None)]


# ---- erasure of what people typed -----------------------------------------------------------

TYPIST = Someone(
    543219876,
    "Valeria Typedname",
    "valeria_types",
    "Kalamazoo",
    "valeria@typed.example",
    "7185550144",
)
# What she writes in her own words: a survey's free-text answer and a proposal.
TYPED = (
    f"Soy {TYPIST.name}, escribidme a {TYPIST.email} o a @{TYPIST.username}; vivo en {TYPIST.city}."
)


async def _exports(bot: BotUnderTest, survey_id: int, folder: Path) -> dict[str, bytes]:
    """Each export a plain staff member can take, as the bytes of every file it writes."""
    written: dict[str, bytes] = {}
    for dataset in ("answers", "answers-long", "proposals", "record"):
        out = folder / f"{dataset}.{'zip' if dataset == 'record' else 'csv'}"
        request = ExportRequest(dataset, survey_id=None if dataset == "proposals" else survey_id)
        result = await bot.services.exports.export(request, "op", [("staff", "")], out)
        for path in (result.path, *result.also):
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    for name in archive.namelist():
                        written[f"{path.name}/{name}"] = archive.read(name)
            else:
                written[path.name] = path.read_bytes()
    return written


def _typed_needles(someone: Someone) -> list[str]:
    return [*someone.needles(), f"@{someone.username}"]


async def test_deleteme_empties_typed_answers_and_proposals_and_keeps_choices(
    emulator: Emulator, database: Path | str, tmp_path: Path
) -> None:
    clock = ManualClock(ANSWERS_FROM)
    async with bot_running(emulator, config_for(database, emulator), clock) as bot:
        valeria = bot.person(TYPIST.telegram_id, "Valeria", "en", username=TYPIST.username)
        await _register(valeria, TYPIST)
        # The example form, loaded as staff load it, opened to everyone; she answers in chat.
        loaded = await bot.services.surveys.load_file(FORM_PATH, "cli", "1", "protection")
        assert loaded.survey is not None, loaded.errors
        survey_id = loaded.survey.id
        assert await bot.services.surveys.open(survey_id, AudienceFilter()) == 1
        bot.services.wake_delivery()
        answers = Respondent(
            TYPIST.telegram_id, "en", "US", "NY", "America/New_York", "government", "12",
            "2010-05-01", ("vote", "consular"), TYPED, "4", "10",
        )  # fmt: skip
        await answer_in_chat(bot, example_form(), survey_id, answers, clock)
        plain = bot.services.texts.plain
        await valeria.send("/propose")
        await valeria.press(plain("en", "theme.protection"))
        await valeria.send(TYPED)
        await valeria.press(plain("en", "prop.button.send"))
        assert "Your proposal (#1)" in valeria.last_text()
        member = await bot.services.registration.member(TYPIST.telegram_id)
        assert member is not None
        before = await _exports(bot, survey_id, tmp_path)
        assert any(TYPIST.email.encode() in content for content in before.values())
        typed_places = {"survey_answers.value", "record_entries.value", "proposals.text"}
        for needle in (TYPIST.name, TYPIST.email, f"@{TYPIST.username}", TYPIST.city):
            # Before: what she wrote is in the record (and her profile, for most of it).
            assert typed_places <= set(await _places_holding(bot.store.database, needle)), needle

        await valeria.send("/deleteme")
        assert "everything you wrote in your own words" in valeria.last_text()
        await valeria.press("Yes, erase")
        assert "everything you wrote in your own words" in valeria.last_text()

        for needle in _typed_needles(TYPIST):
            assert await _places_holding(bot.store.database, needle) == [], needle
        if isinstance(database, Path):  # SQLite: not in the file's bytes either
            leaks = {
                suffix: _bytes_holding(Path(f"{database}{suffix}"), TYPIST)
                for suffix in ("", "-wal")
            }
            assert {suffix: found for suffix, found in leaks.items() if found} == {}
        else:  # PostgreSQL: not in any page of a table, its TOAST or an index
            assert await _pages_holding(bot.store.database, TYPIST) == []
        after = await _exports(bot, survey_id, tmp_path)
        assert set(after) == set(before)
        for name, content in after.items():
            found = [n for n in _typed_needles(TYPIST) if n.encode("utf-8") in content]
            assert found == [], name

        # Choices and numbers stay under her pseudonym, in the record and in the export.
        record = await bot.store.record.of_survey(survey_id)
        hers = {e.question: e for e in record if e.pseudonym == member.pseudonym}
        assert (hers["country"].value, hers["region"].value) == ("US", "NY")
        assert (hers["themes"].value, hers["years_abroad"].value) == ("vote consular", "12")
        assert (hers["services_rating"].value, hers["remittance_share"].value) == ("4", "10")
        assert (hers["vote_problem"].value, hers["vote_problem"].value_label) == ("", "")
        long_rows = list(csv.DictReader(io.StringIO(after["answers-long.csv"].decode("utf-8-sig"))))
        kept = {row["question"] for row in long_rows if member.pseudonym in row.values()}
        assert {"country", "region", "themes", "years_abroad", "services_rating"} <= kept
        proposals = await bot.store.database.fetch_all("SELECT theme, text FROM proposals")
        assert [tuple(row) for row in proposals] == [
            ("protection", "")
        ]  # the theme is counted; the words are gone
