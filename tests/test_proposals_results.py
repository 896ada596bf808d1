"""Proposals and survey results: the record, suppression of small cells, who may see what."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.i18n import Texts
from bot.services.broadcasts import BroadcastService
from bot.services.results import ResultsService, outline
from storage import Store
from storage.record import RecordRepository, SurveyHead
from tests.harness import fixed_clock

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DEFINITION = {
    "form_id": "consulta",
    "version": "1",
    "questions": [
        {
            "name": "priority",
            "type": "select_one",
            "list_name": "prio",
            "labels": {"es": "¿Prioridad?", "en": "Priority?", "fr": "Priorité ?"},
        },
        {
            "name": "channels",
            "type": "select_multiple",
            "list_name": "chan",
            "labels": {"es": "¿Canales?", "en": "Channels?", "fr": "Canaux ?"},
        },
        {"name": "comment", "type": "text", "labels": {"es": "Comentario"}},
    ],
    "choice_lists": {
        "prio": [
            {"name": "remit", "labels": {"es": "Remesas", "en": "Remittances", "fr": "Transferts"}},
            {"name": "vote", "labels": {"es": "Voto", "en": "Voting", "fr": "Vote"}},
            {"name": "health", "labels": {"es": "Salud", "en": "Health", "fr": "Santé"}},
        ],
        "chan": [
            {"name": "tg", "labels": {"es": "Telegram", "en": "Telegram", "fr": "Telegram"}},
            {"name": "mail", "labels": {"es": "Correo", "en": "Mail", "fr": "Courriel"}},
        ],
    },
}


def config(tmp_path: Path, **programme: Any) -> Config:
    return Config.model_validate(
        {
            "telegram": {"token": "1:x"},
            "storage": {"path": str(tmp_path / "db.sqlite")},
            "programme": programme,
        }
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "db.sqlite", fixed_clock())
    yield opened
    await opened.close()


async def member(store: Store, telegram_id: int, **fields: Any) -> int:
    created = await store.members.create_with_consent(
        telegram_id, None, fields.pop("language", "es"), "2026-11", "test", "name"
    )
    profile = {
        "status": "active",
        "step": None,
        "name": f"M{telegram_id}",
        "country": "US",
        "region": "TX",
        "city": "Houston",
        "time_zone": "America/Chicago",
        "sector": "academia",
        "themes": ("protection",),
        **fields,
    }
    await store.members.update(created.id, profile)
    return created.id


async def add_survey(store: Store, theme: str | None = None, definition: Any = DEFINITION) -> int:
    return await store.database.execute(
        "INSERT INTO surveys (form_id, version, titles, default_language, definition, "
        "source_name, theme, status, created_by, created_at) "
        "VALUES ('consulta', ?, ?, 'es', ?, 'f.xlsx', ?, 'open', 'test', ?)",
        (
            f"v{theme}{definition is DEFINITION}",
            json.dumps({"es": "Consulta", "en": "Consultation", "fr": "Consultation"}),
            json.dumps(definition),
            theme,
            AT.isoformat(),
        ),
    )


async def answer(
    store: Store,
    survey_id: int,
    question: str,
    value: str,
    label: str = "",
    country: str = "US",
    region: str = "TX",
    sector: str = "academia",
    supersedes: int | None = None,
) -> int:
    """An answer entry as the survey flow writes it (that flow is built and tested elsewhere)."""
    return await store.database.execute(
        "INSERT INTO record_entries (kind, pseudonym, survey_id, form_id, form_version, question, "
        "question_label, value, value_label, language, at, country, region, sector, supersedes) "
        "VALUES ('answer', 'm-x', ?, 'consulta', '1', ?, ?, ?, ?, 'es', ?, ?, ?, ?, ?)",
        (
            survey_id,
            question,
            question.title(),
            value,
            label,
            AT.isoformat(),
            country,
            region,
            sector,
            supersedes,
        ),
    )


def service(store: Store, tmp_path: Path, **programme: Any) -> ResultsService:
    cfg = config(tmp_path, **programme)
    return ResultsService(store, cfg, Texts.load(), BroadcastService(store, cfg, fixed_clock()))


async def head(store: Store, survey_id: int) -> SurveyHead:
    found = await RecordRepository(store.database).survey(survey_id)
    assert found is not None
    return found


# ---- the record -------------------------------------------------------------------------------
async def test_proposal_is_stored_with_the_provenance_of_that_moment(store: Store) -> None:
    member_id = await member(store, 11, region="QC", country="CA", sector="government")
    record = RecordRepository(store.database)
    person = await store.members.by_id(member_id)
    assert person is not None
    proposal = await record.add_proposal(
        person, "protection", "Más <b>consulados</b>", "es", AT, "R1"
    )
    await store.members.update(member_id, {"region": "ON"})

    entries = await record.entries("proposal")
    assert [(e.proposal_id, e.region, e.sector, e.country) for e in entries] == [
        (proposal.id, "QC", "government", "CA")
    ]
    assert entries[0].pseudonym == person.pseudonym and entries[0].round == "R1"
    assert entries[0].value == "Más <b>consulados</b>" and entries[0].theme == "protection"
    assert [p.text for p in await record.proposals({"protection"})] == ["Más <b>consulados</b>"]
    assert await record.proposals({"consular-services"}) == []


async def test_meeting_minutes_and_outcome_are_appended(store: Store) -> None:
    await store.database.execute(
        "INSERT INTO meetings (id, kind, start_at, zone, local_start, duration_minutes, "
        "checkin_code, created_by, created_at) "
        "VALUES (1, 'thematic', ?, 'UTC', '2026-11-20 15:00', 60, 'code', 'test', ?)",
        (AT.isoformat(), AT.isoformat()),
    )
    record = RecordRepository(store.database)
    first = await record.append_meeting_entry(
        1, "minutes", "We talked", "protection", "R1", "m-1", AT
    )
    second = await record.append_meeting_entry(1, "outcome", "We agreed", None, None, "m-1", AT)
    found = await record.entries("minutes", meeting_id=1)
    assert [e.id for e in found] == [first] and found[0].value == "We talked"
    assert (await record.entries("outcome"))[0].id == second
    with pytest.raises(ValueError):
        await record.append_meeting_entry(1, "answer", "x", None, None, "m-1", AT)  # type: ignore[arg-type]


async def test_current_answers_leave_out_superseded_ones_and_come_in_chunks(store: Store) -> None:
    survey_id = await add_survey(store)
    old = await answer(store, survey_id, "priority", "vote", "Voto")
    await answer(store, survey_id, "priority", "remit", "Remesas", supersedes=old)
    for _ in range(4):
        await answer(store, survey_id, "priority", "health", "Salud")
    record = RecordRepository(store.database)
    chunks = [chunk async for chunk in record.current_answers(survey_id, chunk=2)]
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    values = [entry.value for chunk in chunks for entry in chunk]
    assert sorted(values) == ["health"] * 4 + ["remit"]


# ---- results ----------------------------------------------------------------------------------
async def _texas_and_quebec(store: Store) -> int:
    """Texas: remit 12, vote 6, health 3 (21 people); Quebec: remit 7, vote 0, health 0."""
    survey_id = await add_survey(store)
    for value, count in (("remit", 12), ("vote", 6), ("health", 3)):
        for _ in range(count):
            await answer(store, survey_id, "priority", value, value.title())
    for _ in range(7):
        await answer(store, survey_id, "priority", "remit", "Remesas", "CA", "QC")
    return survey_id


async def test_a_cell_of_three_is_hidden_and_so_is_what_would_reveal_it(
    store: Store, tmp_path: Path
) -> None:
    survey_id = await _texas_and_quebec(store)
    results = await service(store, tmp_path).results(await head(store, survey_id), "en")
    (priority,) = [q for q in results.questions if q.name == "priority"]
    (everyone,) = priority.groups
    cells = {o.name: (o.count, o.suppressed) for o in everyone.options}
    # 3 < 5 is hidden; alone it could be recovered from the total, so the next smallest goes too.
    assert cells == {"remit": (19, False), "vote": (None, True), "health": (None, True)}
    assert everyone.respondents == 28
    assert [o.label for o in everyone.options] == ["Remittances", "Voting", "Health"]
    assert everyone.options[0].share == pytest.approx(19 / 28)


async def test_split_by_region_suppresses_rows_and_columns(store: Store, tmp_path: Path) -> None:
    survey_id = await _texas_and_quebec(store)
    results = await service(store, tmp_path).results(await head(store, survey_id), "es", "region")
    (priority,) = [q for q in results.questions if q.name == "priority"]
    groups = {g.key: g for g in priority.groups}
    assert set(groups) == {"US-TX", "CA-QC"}
    texas = {o.name: o.count for o in groups["US-TX"].options}
    assert texas["health"] is None  # the cell of 3
    # Secondary: no row (region) and no column (option) holds exactly one hidden cell, so no
    # hidden count can be recovered by subtracting the shown ones from a total.
    rows = [[o.suppressed for o in g.options] for g in priority.groups]
    columns = [list(column) for column in zip(*rows, strict=True)]
    assert all(line.count(True) != 1 for line in rows + columns)
    assert sum(o.count is None for g in priority.groups for o in g.options) >= 4
    assert groups["US-TX"].respondents == 21 and groups["CA-QC"].respondents == 7
    assert "Texas" in groups["US-TX"].label


async def test_a_region_with_fewer_than_k_people_shows_nothing(
    store: Store, tmp_path: Path
) -> None:
    survey_id = await _texas_and_quebec(store)
    for _ in range(2):
        await answer(store, survey_id, "priority", "remit", "Remesas", "CA", "ON")
    results = await service(store, tmp_path).results(await head(store, survey_id), "es", "region")
    (priority,) = [q for q in results.questions if q.name == "priority"]
    ontario = next(g for g in priority.groups if g.key == "CA-ON")
    assert ontario.respondents is None
    assert all(o.suppressed and o.count is None for o in ontario.options)
    # Hiding Ontario's 2 alone would leave it as (all − the others): another total goes too.
    assert sum(g.respondents is None for g in priority.groups) >= 2


async def test_k_comes_from_the_config_and_multi_select_counts_each_choice(
    store: Store, tmp_path: Path
) -> None:
    survey_id = await add_survey(store)
    for value in ("tg mail", "tg mail", "tg", "tg", "mail"):
        await answer(store, survey_id, "channels", value, "")
    results = await service(store, tmp_path, min_cell=2).results(
        await head(store, survey_id), "fr", "sector"
    )
    assert results.k == 2
    (channels,) = [q for q in results.questions if q.name == "channels"]
    assert channels.multiple and channels.label == "Canaux ?"
    (academia,) = channels.groups
    assert academia.label == "Universidad" or academia.key == "academia"
    counts = {o.label: (o.count, o.share) for o in academia.options}
    assert counts == {"Telegram": (4, 0.8), "Courriel": (3, 0.6)}


async def test_what_we_heard_lists_top_options_per_region_in_each_language(
    store: Store, tmp_path: Path
) -> None:
    survey_id = await _texas_and_quebec(store)
    for value in ("vote", "health") * 5:
        await answer(store, survey_id, "priority", value, value.title(), "CA", "QC")
    heard = await service(store, tmp_path).what_we_heard(await head(store, survey_id))
    by_region = {h.region: h for h in heard}
    assert set(by_region) == {"US-TX", "CA-QC"}
    texas = by_region["US-TX"].texts
    assert set(texas) == {"es", "en", "fr"}
    assert "Remittances (57 %)" in texas["en"]  # 12 of 21
    assert "Health" not in texas["en"] and "Voting" not in texas["en"]  # suppressed
    assert "Transferts" in texas["fr"] and "Remesas" in texas["es"]
    assert "Remittances (41 %)" in by_region["CA-QC"].texts["en"]  # 7 of 17


def test_outline_reads_the_select_questions_only() -> None:
    found = outline(json.dumps(DEFINITION))
    assert found is not None
    assert [(q.name, q.multiple, len(q.options)) for q in found] == [
        ("priority", False, 3),
        ("channels", True, 2),
    ]
    assert outline("not json") is None


async def test_without_a_readable_definition_labels_come_from_the_record(
    store: Store, tmp_path: Path
) -> None:
    survey_id = await add_survey(store, definition={"unknown": True})
    for _ in range(5):
        await answer(store, survey_id, "priority", "remit", "Remesas")
        await answer(store, survey_id, "comment", "hola", "")
    results = await service(store, tmp_path).results(await head(store, survey_id), "es")
    assert [q.name for q in results.questions] == ["priority"]
    assert results.questions[0].groups[0].options[0].label == "Remesas"


# ---- through the bot --------------------------------------------------------------------------
@pytest.fixture
async def live(emulator: Any, database: Path) -> AsyncIterator[Any]:
    from tests.harness import bot_running, make_config

    cfg = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, cfg) as running_bot:
        yield running_bot


async def _grant(bot: Any, username: str, role: str) -> None:
    admin = bot.person(9000, "Admin", "en")
    await admin.send(f"/grant @{username} {role}")
    assert "granted" in admin.last_text(), admin.last_text()


async def test_a_member_proposes_by_theme_and_focal_points_see_only_theirs(live: Any) -> None:
    from tests.test_broadcasts import add_member

    bot = live
    await add_member(bot, 401, "fr")
    await add_member(bot, 402, "es", username="focal")
    await add_member(bot, 403, "en", username="staffer")
    member = bot.person(401, "Amélie", "fr")
    await member.send("/propose")
    assert "groupe thématique" in member.last_text()
    await member.press("Protection")
    await member.send("ok")  # too short
    replies = [m.text or "" for m in member.transcript() if m.direction == "out"]
    assert "de 3 à 2000 caractères ; la vôtre en a 2" in replies[-2]
    await member.send("Ouvrir un <b>consulat</b> & à Montréal")
    assert "&lt;b&gt;consulat&lt;/b&gt; &amp; à Montréal" in (member.last().html or "")
    assert "Ouvrir un <b>consulat</b> & à Montréal" in member.last_text()
    await member.press("Envoyer")
    assert "Merci" in member.last_text()
    await member.send("/propose")
    await member.press("Services consulaires")
    await member.send("Des horaires du soir")
    await member.press("Envoyer")

    proposals = await RecordRepository(bot.store.database).proposals(None)
    assert [(p.theme, p.text) for p in proposals] == [
        ("consular-services", "Des horaires du soir"),
        ("protection", "Ouvrir un <b>consulat</b> & à Montréal"),
    ]
    entries = await RecordRepository(bot.store.database).entries("proposal")
    assert {(e.region, e.country, e.language) for e in entries} == {("TX", "US", "fr")}

    await _grant(bot, "focal", "focal_point theme:protection")
    focal = bot.person(402, "Focal", "es")
    await focal.send("/proposals")
    assert "consulat" in focal.last_text() and "horaires" not in focal.last_text()
    await focal.send("/proposals consular-services")
    assert "horaires" not in focal.last_text()

    await _grant(bot, "staffer", "staff")
    staffer = bot.person(403, "Staff", "en")
    await staffer.send("/proposals")
    assert "consulat" in staffer.last_text() and "horaires" in staffer.last_text()
    await staffer.send("/proposals consular-services")
    assert "consulat" not in staffer.last_text() and "horaires" in staffer.last_text()


async def test_members_cannot_read_results_or_proposals_and_forgeries_are_refused(
    live: Any,
) -> None:
    from tests.test_broadcasts import add_member

    bot = live
    await add_member(bot, 411, "fr")
    member = bot.person(411, "Membre", "fr")
    await member.send("/results")
    refused = member.last_text()
    await member.send("/proposals")
    assert member.last_text() == refused
    texts = Texts.load()
    assert refused == texts.get("fr", "error.not_allowed")

    survey_id = await add_survey(bot.store)
    for data in (f"v1:res:s:{survey_id}", "v1:res:s:99999999999999999", "v1:res:z:1", "v1:res:"):
        await member.press_data(member.last().message_id, data, forge=True)
        assert member.callback_answer() == texts.plain("fr", "error.button_unknown")
    assert member.last_text() == refused


async def test_a_coordinator_reads_results_by_region_and_sends_what_we_heard(live: Any) -> None:
    from tests.test_broadcasts import add_member, notices, wait_until_done

    bot = live
    await add_member(bot, 421, "es", username="coord")
    await add_member(bot, 422, "en")  # Texas
    await add_member(bot, 423, "fr", country="CA", region="QC", time_zone="America/Toronto")
    await _grant(bot, "coord", "coordinator")
    survey_id = await _texas_and_quebec(bot.store)
    for value in ("vote", "health") * 5:
        await answer(bot.store, survey_id, "priority", value, value.title(), "CA", "QC")
    coordinator = bot.person(421, "Coord", "es")
    await coordinator.send("/results")
    await coordinator.press("Consulta")
    shown = coordinator.last_text()
    assert "Remesas: 19 (50 %)" in shown and "Salud: 8 (21 %)" in shown
    await coordinator.press("Por provincia/estado")
    shown = coordinator.last_text()
    assert "Texas (US)" in shown and "Remesas: 12" in shown and "Salud: —" in shown
    await coordinator.press("Enviar «lo que escuchamos»")
    assert "2 provincias o estados" in coordinator.last_text()
    answered = await coordinator.press("✅ Enviar")
    # Texas: the coordinator and 422; Quebec: 423. (The notice to the coordinator herself may
    # arrive first, so the confirmation is looked for among the answers to the press.)
    assert any("2 avisos para 3 miembros" in (m.text or "") for m in answered)
    broadcasts = await bot.store.database.fetch_all("SELECT id, texts, audience FROM broadcasts")
    assert len(broadcasts) == 2
    for row in broadcasts:
        await wait_until_done(bot, int(row["id"]))
    (english,) = notices(bot, 422, "What we heard in Texas (US)")
    assert "Remittances (57 %)" in english and "Health" not in english
    (french,) = notices(bot, 423, "Ce que nous avons entendu en Quebec")
    assert "Transferts (41 %)" in french
    assert notices(bot, 423, "Texas") == []
    # The confirmation cannot be pressed twice.
    message_id = [m for m in coordinator.transcript() if m.direction == "out"][-2].message_id
    await coordinator.press_data(message_id, f"v1:res:y:{survey_id}", forge=True)
    rows = await bot.store.database.fetch_all("SELECT id FROM broadcasts")
    assert len(rows) == 2


# ---- command line -----------------------------------------------------------------------------
def test_cli_prints_a_suppressed_table_split_by_region(tmp_path: Path, capsys: Any) -> None:
    import argparse
    import asyncio
    import sqlite3

    from bot.cli_results import register_results

    database = tmp_path / "cli.db"
    path = tmp_path / "cli.toml"
    path.write_text(f'[telegram]\ntoken = "1:x"\n[storage]\npath = "{database}"\n')

    async def seed() -> int:
        store = await Store.open(database, fixed_clock())
        try:
            survey_id = await _texas_and_quebec(store)
        finally:
            await store.close()
        return survey_id

    survey_id = asyncio.run(seed())

    def run(*arguments: str) -> int:
        top = argparse.ArgumentParser(prog="consultbot")
        surveys = top.add_subparsers(dest="command").add_parser("surveys")
        register_results(surveys.add_subparsers(dest="action", required=True))
        parsed = top.parse_args(["surveys", "results", *arguments, "--config", str(path)])
        result: int = parsed.handler(parsed)
        return result

    assert run(str(survey_id), "--by", "region") == 0
    out = capsys.readouterr().out
    assert "Texas (US)" in out and "(21 respondents)" in out
    health = [line for line in out.splitlines() if line.strip().startswith("Health")]
    assert health and all(line.split()[1] == "—" for line in health)
    assert run(str(survey_id), "--min-cell", "2") == 0
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines() if "Health" in line] == [["Health", "3"]]
    assert run("999") == 1
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM record_entries").fetchone()[0] == 28
