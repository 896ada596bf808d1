"""/mydata holds every row linked to the person: a scan of every table is the reference.

Sofía registers in French in chat, is made staff, answers the example survey, sends a proposal
and a notice, answers two meetings (waiting list on one, checked in on the other) and leaves a
proposal half-written. Her copy, received as a document in chat, must represent each row of any
table that points at her member id, Telegram id or pseudonym; a table the copy does not know
fails the test, so a new table cannot slip past it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.delivery.meeting_notices import rsvp_data
from bot.services.meeting_rules import MeetingRequest
from storage.db import Database
from storage.models import AudienceFilter, Meeting
from tests.harness import TOKEN, BotUnderTest, Person, add_member, bot_running
from tests.survey_fixture import (
    ANSWERS_FROM,
    FORM_PATH,
    Respondent,
    answer_in_chat,
    config_for,
    example_form,
)
from tgemu import Emulator

SOFIA = 612345987
OTHER = 612345988
Doc = dict[str, Any]
Row = dict[str, Any]


async def _register_in_french(bot: BotUnderTest, person: Person) -> None:
    plain = bot.services.texts.plain
    await person.send("/start")
    await person.press("Français")
    await person.press(plain("fr", "button.accept"))
    await person.send("Sofía Ejemplo")
    await person.press(plain("fr", "country.US"))
    await person.send("NY")
    await person.send("Yonkers")
    await person.press(plain("fr", "button.no_association"))
    await person.press(plain("fr", "sector.government"))
    await person.press(plain("fr", "theme.consular-services"))
    await person.press(plain("fr", "button.done"))
    await person.send("sofia@example.org")
    await person.share_contact("+1 7185550177")
    await person.press(plain("fr", "button.confirm"))
    member = await bot.services.registration.member(person.id)
    assert member is not None and member.status == "active"


async def _invitation(bot: BotUnderTest, clock: ManualClock, person: Person, data: str) -> int:
    """The message carrying this answer button, once the delivery worker sent it."""
    for _ in range(400):
        for message in person.transcript():
            if any(b.get("callback_data") == data for b in message.buttons()):
                return message.message_id
        clock.advance(timedelta(milliseconds=100))  # paced notices come due
        bot.services.wake_delivery()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{person.id} never got a button {data!r}")


async def _meeting(bot: BotUnderTest, start: str, **changes: Any) -> Meeting:
    request = MeetingRequest(
        titles={
            "es": "Reunión de Nueva York",
            "en": "New York meeting",
            "fr": "Réunion de New York",
        },
        kind="local",
        start=start,
        zone="America/New_York",
        duration="60m",
        venue="Queens",
        audience=AudienceFilter(),
        **changes,
    )
    meeting = await bot.services.meetings.create(request, "op-test")
    await bot.services.meetings.invite(meeting)
    return meeting


async def _rsvp_yes(bot: BotUnderTest, clock: ManualClock, person: Person, meeting_id: int) -> None:
    data = rsvp_data(meeting_id, "yes")
    await person.press_data(await _invitation(bot, clock, person, data), data)


# The catalog queries of each backend: tables, a table's columns, and its columns that point at
# members. Everything else is the same SQL on both.
_CATALOG = {
    "sqlite": (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        "SELECT name FROM pragma_table_info(?)",
        'SELECT "from" FROM pragma_foreign_key_list(?) WHERE "table" = \'members\'',
        "instr",
    ),
    "postgresql": (
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        "SELECT a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.contype = 'f' AND c.conrelid = CAST(? AS regclass)"
        " AND c.confrelid = CAST('members' AS regclass)",
        "strpos",
    ),
}


async def _linked_rows(
    database: Database, member_id: int, telegram_id: int, pseudonym: str
) -> list[Row]:
    """Every row of every table pointing at the person, each tagged with its table."""
    tables_sql, columns_sql, keys_sql, contains = _CATALOG[database.dialect]
    found: list[Row] = []
    tables = [str(row[0]) for row in await database.fetch_all(tables_sql)]
    for table in tables:
        member_columns = {str(row[0]) for row in await database.fetch_all(keys_sql, (table,))}
        if table == "members":
            member_columns.add("id")
        tests: list[str] = []
        values: list[object] = []
        for column in [str(row[0]) for row in await database.fetch_all(columns_sql, (table,))]:
            # Compared as text: SQLite's column affinity does so, PostgreSQL needs it said.
            text = f"CAST({column} AS TEXT)"
            if column in member_columns:
                tests.append(f"{column} = ?")
                values.append(member_id)
            tests.append(f"{text} = ?")
            values.append(str(telegram_id))
            tests.append(f"{contains}({text}, ?) > 0")
            values.append(pseudonym)
            tests.append(f"{text} = ?")
            values.append(f"member:{member_id}")
        rows = await database.fetch_all(f"SELECT * FROM {table} WHERE {' OR '.join(tests)}", values)
        found.extend({"_table": table, **dict(row)} for row in rows)
    return found


def _items(doc: Doc, section: str) -> list[Row]:
    return list(doc["sections"].get(section, {}).get("items", []))


def _has(doc: Doc, section: str, **wanted: Any) -> bool:
    return any(all(item.get(k) == v for k, v in wanted.items()) for item in _items(doc, section))


def _answer_shown(doc: Doc, row: Row) -> bool:
    return any(
        survey["survey_id"] == row["survey_id"]
        and any(
            a["question"] == row["question"] and a["value"] == row["value"]
            for a in survey["answers"]
        )
        for survey in _items(doc, "surveys")
    )


# Where each table's rows must appear in the copy. Inbox is the transport's copy of updates not
# yet handled (this very /mydata among them), emptied once handled: nothing about the person.
REPRESENTED: dict[str, Callable[[Doc, Row, int], bool]] = {
    "members": lambda d, r, me: _has(d, "profile", id=r["id"], pseudonym=r["pseudonym"]),
    "consent_events": lambda d, r, me: _has(d, "consent_history", id=r["id"]),
    "roles": lambda d, r, me: (
        _has(d, "roles", role=r["role"], scope=r["scope"])
        if r["member_id"] == me
        else _has(d, "acts.roles_granted", role=r["role"], scope=r["scope"])
    ),
    "audit_log": lambda d, r, me: (
        _has(d, "role_changes", id=r["id"]) or _has(d, "acts.audit", id=r["id"])
    ),
    "outbox": lambda d, r, me: _has(
        d, "notices_received", id=r["id"], kind=r["kind"], ref=r["ref"]
    ),
    "survey_participants": lambda d, r, me: _has(d, "surveys", survey_id=r["survey_id"]),
    "survey_answers": lambda d, r, me: _answer_shown(d, r),
    "proposals": lambda d, r, me: _has(d, "proposals", id=r["id"], text=r["text"]),
    "record_entries": lambda d, r, me: _has(d, "record", id=r["id"], value=r["value"]),
    "rsvps": lambda d, r, me: (
        _has(d, "meetings", meeting_id=r["meeting_id"], answer=r["answer"])
        if r["member_id"] == me
        else _has(d, "acts.check_ins_recorded", meeting_id=r["meeting_id"])
    ),
    "conversations": lambda d, r, me: _has(d, "conversation", flow=r["flow"], step=r["step"]),
    "associations": lambda d, r, me: _has(d, "associations_proposed", id=r["id"]),
    "broadcasts": lambda d, r, me: _has(d, "acts.broadcasts", id=r["id"]),
    "meetings": lambda d, r, me: _has(d, "acts.meetings", id=r["id"]),
    "surveys": lambda d, r, me: _has(d, "acts.surveys", id=r["id"]),
    "evidence": lambda d, r, me: _has(d, "acts.evidence_linked", id=r["id"]),
    "operators": lambda d, r, me: _has(d, "operator", pseudonym=r["pseudonym"]),
    "inbox": lambda d, r, me: True,
}


async def test_mydata_represents_every_row_linked_to_the_person(
    emulator: Emulator, database: Path | str
) -> None:
    clock = ManualClock(ANSWERS_FROM)  # 2026-03-10 15:00 UTC, 11:00 in New York
    async with bot_running(emulator, config_for(database, emulator), clock) as bot:
        texts = bot.services.texts
        sofia = bot.person(SOFIA, "Sofía", "fr", username="sofia_fr")
        await _register_in_french(bot, sofia)
        await add_member(bot, OTHER, "en", region="NY", time_zone="America/New_York")
        admin = bot.person(9000, "Admin", "en")
        await admin.send("/grant @sofia_fr staff")
        assert "granted" in admin.last_text()

        # The example survey, loaded as staff load it; she answers it in chat, in French.
        loaded = await bot.services.surveys.load_file(FORM_PATH, "cli", "1", "protection")
        assert loaded.survey is not None, loaded.errors
        survey_id = loaded.survey.id
        await bot.services.surveys.open(survey_id, AudienceFilter())
        bot.services.wake_delivery()
        answers = Respondent(
            SOFIA, "fr", "US", "NY", "America/New_York", "government", "6", None,
            ("consular", "remit"), None, "2", "15",
        )  # fmt: skip
        await answer_in_chat(bot, example_form(), survey_id, answers, clock)

        await sofia.send("/propose")
        await sofia.press(texts.plain("fr", "theme.protection"))
        await sofia.send("Des permanences consulaires le samedi")
        await sofia.press(texts.plain("fr", "prop.button.send"))

        # One seat, taken first by another member: she waits. Another meeting starts soon.
        full = await _meeting(bot, "2026-03-20 18:00", capacity=1)
        await _rsvp_yes(bot, clock, Person(bot, OTHER), full.id)
        await _rsvp_yes(bot, clock, sofia, full.id)
        soon = await _meeting(bot, "2026-03-10 11:20")
        await _rsvp_yes(bot, clock, sofia, soon.id)
        await sofia.send(soon.checkin_code)

        # As staff she sends a notice (everyone gets it, she too).
        await sofia.send("/broadcast")
        await sofia.send("Réunion samedi au consulat.")
        await sofia.press(texts.plain("fr", "bc.continue"))
        await sofia.press(texts.plain("fr", "bc.continue"))
        await sofia.press(texts.plain("fr", "bc.send"))
        # And leaves a second proposal half-written: an open conversation.
        await sofia.send("/propose")
        await sofia.press(texts.plain("fr", "theme.protection"))

        await sofia.send("/mydata")
        document = sofia.last().document
        assert document is not None
        doc: Doc = json.loads(bot.emulator.bot(TOKEN).files[document["file_id"]][1])
        member = await bot.services.registration.member(SOFIA)
        assert member is not None

        linked = await _linked_rows(bot.store.database, member.id, SOFIA, member.pseudonym)
        tables = {row["_table"] for row in linked}
        assert {
            "members", "consent_events", "roles", "audit_log", "outbox", "survey_participants",
            "survey_answers", "record_entries", "proposals", "rsvps", "conversations", "broadcasts",
        } <= tables  # fmt: skip
        unknown = tables - set(REPRESENTED)
        assert unknown == set(), (
            f"tables linked to the person that /mydata does not know: {unknown}"
        )
        missing = [row for row in linked if not REPRESENTED[row["_table"]](doc, row, member.id)]
        assert missing == []

        # In her language: headings from the catalogs, the form's French labels, French titles.
        assert doc["language"] == "fr" and doc["title"] == texts.plain("fr", "mydata.title")
        for key, section in doc["sections"].items():
            assert section["heading"] == texts.plain("fr", f"mydata.section.{key}"), key
        (survey,) = _items(doc, "surveys")
        shown = {a["question"]: a for a in survey["answers"]}
        assert shown["country"]["question_label"] == "Dans quel pays vivez-vous ?"
        assert shown["country"]["value_label"] == "États-Unis"
        assert survey["submitted_at"] is not None
        meetings = {m["meeting_id"]: m for m in _items(doc, "meetings")}
        assert meetings[full.id]["title"] == "Réunion de New York"
        assert (meetings[full.id]["waitlist_place"], meetings[full.id]["attended"]) == (1, False)
        assert (meetings[soon.id]["waitlist_place"], meetings[soon.id]["attended"]) == (None, True)
        (proposal,) = _items(doc, "proposals")
        assert proposal["theme_label"] == texts.plain("fr", "theme.protection")
