"""Proposals and survey results: the record, suppression of small cells, who may see what.

Survey results start from the example form loaded as staff load it and answered in chat
(tests/survey_fixture.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.i18n import Texts
from bot.services import results_heard
from bot.services.broadcasts import BroadcastService
from bot.services.meetings import MeetingRequest, MeetingsService
from bot.services.reminders import NO_JOBS
from bot.services.results import QuestionBlock, Results, ResultsService
from storage import Store
from storage.models import AudienceFilter
from tests.harness import fixed_clock, make_config, storage_toml
from tests.survey_fixture import RESPONDENTS, Answered, Recorded, copy_recorded

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def config(tmp_path: Path, **programme: Any) -> Config:
    return Config.model_validate(
        {
            "telegram": {"token": "1:x"},
            "storage": {"path": str(tmp_path / "db.sqlite")},
            "programme": programme,
        }
    )


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(database, fixed_clock())
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


# ---- the record -------------------------------------------------------------------------------
async def test_proposal_is_stored_with_the_provenance_of_that_moment(store: Store) -> None:
    member_id = await member(store, 11, region="QC", country="CA", sector="government")
    record = store.record
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


async def test_meeting_minutes_and_outcome_are_appended(store: Store, database: Path | str) -> None:
    # The meeting as a coordinator creates it (the service), not a row written by hand.
    config = make_config(database, "http://127.0.0.1:1/bot")
    meetings = MeetingsService(store, config, fixed_clock(), NO_JOBS)
    meeting = await meetings.create(
        MeetingRequest(
            titles={"en": "Protection"},
            kind="thematic",
            theme=next(iter(config.programme.thematic_groups)),
            start="2026-12-05 15:00",
            zone="UTC",
            duration="60m",
            venue="Online",
            audience=AudienceFilter(),
        ),
        "m-1",
    )
    assert meeting.id == 1
    record = store.record
    first = await record.append_meeting_entry(
        1, "minutes", "We talked", "protection", "R1", "m-1", AT
    )
    second = await record.append_meeting_entry(1, "outcome", "We agreed", None, None, "m-1", AT)
    found = await record.entries("minutes", meeting_id=1)
    assert [e.id for e in found] == [first] and found[0].value == "We talked"
    assert (await record.entries("outcome"))[0].id == second
    with pytest.raises(ValueError):
        await record.append_meeting_entry(1, "answer", "x", None, None, "m-1", AT)  # type: ignore[arg-type]


# ---- results, from the example form answered in chat ------------------------------------------
def _survey_head(answered: Answered) -> Any:
    return answered.bot.services.results.survey_by_id(answered.survey_id)


async def _results(
    answered: Answered, language: str, by: Any = None, k: int | None = None
) -> Results:
    survey = await _survey_head(answered)
    assert survey is not None
    return await answered.bot.services.results.results(survey, language, by, k)


def _question(results: Results, name: str) -> QuestionBlock:
    return next(q for q in results.questions if q.name == name)


async def test_current_answers_leave_out_superseded_ones_and_come_in_chunks(
    answered: Answered,
) -> None:
    bot = answered.bot
    record = bot.store.record
    before = [
        e for chunk in [c async for c in record.current_answers(answered.survey_id)] for e in chunk
    ]
    years = next(e for e in before if e.question == "years_abroad" and e.value == "12")
    # Member 801 changes an answer after submitting: the record appends, supersedes, keeps.
    person = answered.person(RESPONDENTS[0])
    await person.send("/surveys")
    await person.press("Revisar")
    await person.press("✏️ 4")
    await person.send("20")
    await person.press("Enviar cambios")
    chunks = [chunk async for chunk in record.current_answers(answered.survey_id, chunk=40)]
    assert [len(c) for c in chunks[:-1]] == [40] * (len(chunks) - 1) and len(chunks) >= 3
    current = [entry for chunk in chunks for entry in chunk]
    assert years.id not in {e.id for e in current}
    (newest,) = [e for e in current if e.supersedes == years.id]
    assert (newest.question, newest.value) == ("years_abroad", "20")
    # The results count the current answer only: twelve answers, the mean moved by 8/12.
    figures = dict(_question(await _results(answered, "en"), "years_abroad").statistics)
    assert figures["mean"] == pytest.approx((155 + 8) / 12)


async def test_a_cell_under_five_is_hidden_and_so_is_what_would_reveal_it(
    answered: Answered,
) -> None:
    themes = _question(await _results(answered, "en"), "themes")
    assert themes.multiple and themes.label == "Which themes matter to you? (up to 3)"
    assert themes.overall is not None
    cells = {o.name: (o.count, o.suppressed) for o in themes.overall.options}
    # Return (1) is under 5; alone it could be worked out from the respondents, so the next
    # smallest, Remittances (6), goes too. Investment (0) identifies no one.
    assert cells == {
        "vote": (7, False), "consular": (10, False), "remit": (None, True),
        "return": (None, True), "invest": (0, False),
    }  # fmt: skip
    assert themes.overall.respondents == 12
    assert [o.label for o in themes.overall.options][:2] == ["Voting abroad", "Consular services"]
    assert themes.overall.options[1].share == pytest.approx(10 / 12)


async def test_split_by_province_hides_with_the_countries_as_margins(answered: Answered) -> None:
    results = await _results(answered, "es", "region")
    for question in results.questions:
        if question.kind != "select":
            continue
        countries = {g.key: g for g in question.countries}
        assert set(countries) == {"CA", "US"}
        for country, group in countries.items():
            regions = [g for g in question.groups if g.country == country]
            assert all(g.key.startswith(f"{country}-") for g in regions)
            # A line — the provinces of a country and the country — never holds exactly one
            # hidden cell, so no hidden count follows from the shown ones by subtraction.
            for index, option in enumerate(group.options):
                line = [g.options[index].suppressed for g in regions] + [option.suppressed]
                assert line.count(True) != 1, (question.name, country, option.name)
        for group in question.groups:
            column = [o.suppressed for o in group.options] + [group.respondents is None]
            assert column.count(True) != 1, (question.name, group.key)
    themes = _question(results, "themes")
    quebec = next(g for g in themes.groups if g.key == "CA-QC")
    assert quebec.respondents == 5 and "Quebec" in quebec.label
    assert {o.name: o.count for o in quebec.options}["consular"] == 5
    # The country lines are the summary sheet's: Canada 7, the United States 5.
    assert [(g.label, g.respondents) for g in themes.countries] == [
        ("Canadá", 7), ("Estados Unidos", 5),
    ]  # fmt: skip


async def test_a_province_with_fewer_than_five_people_shows_nothing(answered: Answered) -> None:
    results = await _results(answered, "fr", "region")
    for question in results.questions:
        if question.kind != "select":
            continue
        ontario = next(g for g in question.groups if g.key == "CA-ON")
        assert ontario.respondents is None, question.name
        # Not even its zeros: with one person, a zero says what they did not choose.
        assert all(o.count is None for o in ontario.options), question.name


async def test_k_comes_from_the_config_and_a_multiple_choice_counts_each_choice(
    answered: Answered, tmp_path: Path
) -> None:
    bot = answered.bot
    cfg = config(tmp_path, min_cell=2)
    service = ResultsService(
        bot.store, cfg, Texts.load(), BroadcastService(bot.store, cfg, fixed_clock())
    )
    survey = await _survey_head(answered)
    assert survey is not None
    results = await service.results(survey, "fr", "sector")
    assert results.k == 2
    themes = _question(results, "themes")
    assert themes.label == "Quels thèmes comptent pour vous ? (jusqu'à 3)"
    academia = next(g for g in themes.groups if g.key == "academia")
    # 801, 802 (es), 806 (en), 809 (fr): consular services for all four.
    counts = {o.label: (o.count, o.share) for o in academia.options}
    assert counts["Services consulaires"] == (4, 1.0)
    # A count of 2 shows with k = 2 (government: 805 and 810 chose consular services).
    government = next(g for g in themes.groups if g.key == "government")
    assert {o.name: o.count for o in government.options}["consular"] == 2
    assert academia.respondents == 4


async def test_what_we_heard_drafts_each_language_from_the_shown_cells(
    answered: Answered,
) -> None:
    service = answered.bot.services.results
    survey = await _survey_head(answered)
    assert survey is not None
    answers = await service.answers(survey)
    offered = [q.name for q in results_heard.questions(service.compute(survey, answers, "en"))]
    assert offered == ["years_abroad", "themes", "services_rating", "remittance_share"]
    places = results_heard.places(answers, 5)
    assert [(p.key, p.people) for p in places] == [("", 12), ("CA-QC", 5)]
    draft = results_heard.draft(service, survey, answers, ["themes", "services_rating"], places[1])
    english = draft.texts["en"]
    assert english.startswith("📣 What we heard — Diaspora consultation — round 1\n")
    assert "Quebec (CA): 5 people answered." in english
    assert "◦ Consular services: 100 %" in english
    assert "Return" not in english and "Remittances" not in english  # hidden cells
    assert "◦ Services consulaires : 100 %" in draft.texts["fr"]
    assert "◦ Servicios consulares: 100 %" in draft.texts["es"]
    # A number: the median of Quebec's own five ratings (4, 5, 4, 3, 4).
    assert "• Rate the consular services (1 = poor, 5 = very good): median 4" in english
    assert draft.cards["es"].place == "Quebec (CA)"


async def test_a_form_that_no_longer_parses_still_counts_what_was_answered(
    answered: Answered,
) -> None:
    bot = answered.bot
    # Fault injection: the stored form made unreadable (a later parser refusing an old form).
    await bot.store.database.execute(
        "UPDATE surveys SET definition = 'not json' WHERE id = ?", (answered.survey_id,)
    )
    survey = await _survey_head(answered)
    assert survey is not None
    service = ResultsService(bot.store, bot.config, Texts.load(), bot.services.broadcasts)
    results = await service.results(survey, "en")
    themes = _question(results, "themes")
    assert themes.kind == "text" and themes.answered == 12
    assert "Which themes" in themes.label or "themes" in themes.label


# ---- through the bot --------------------------------------------------------------------------
@pytest.fixture
async def live(emulator: Any, database: Path | str) -> AsyncIterator[Any]:
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

    proposals = await bot.store.record.proposals(None)
    assert [(p.theme, p.text) for p in proposals] == [
        ("consular-services", "Des horaires du soir"),
        ("protection", "Ouvrir un <b>consulat</b> & à Montréal"),
    ]
    entries = await bot.store.record.entries("proposal")
    assert {(e.region, e.country, e.language) for e in entries} == {("TX", "US", "fr")}

    await _grant(bot, "focal", "focal_point theme:protection")
    focal = bot.person(402, "Focal", "es")
    await focal.send("/proposals")
    assert "consulat" in focal.last_text() and "horaires" not in focal.last_text()
    # No pseudonym beside a proposal: it could be matched with a name seen elsewhere.
    assert entries and all(e.pseudonym for e in entries)
    assert not any(str(e.pseudonym) in focal.last_text() for e in entries)
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
    assert refused == texts.get("fr", "staff.refused")

    for data in (
        "v1:res:s:1",
        "v1:res:g:1",
        "v1:res:w:1",
        "v1:res:s:99999999999999999",
        "v1:res:z:1",
        "v1:res:",
    ):
        await member.press_data(member.last().message_id, data, forge=True)
        assert member.callback_answer() == texts.plain("fr", "error.button_unknown")
    assert member.last_text() == refused


# ---- command line -----------------------------------------------------------------------------
async def test_cli_prints_the_sheets_numbers_by_province_in_the_language_asked(
    recorded: Recorded, database: Path | str, tmp_path: Path, capsys: Any
) -> None:
    import argparse

    from bot.cli.results import register_results

    await copy_recorded(recorded, database)
    path = tmp_path / "cli.toml"
    path.write_text('[telegram]\ntoken = "1:x"\n' + storage_toml(database))

    async def run(*arguments: str) -> int:
        top = argparse.ArgumentParser(prog="consultbot")
        surveys = top.add_subparsers(dest="command").add_parser("surveys")
        register_results(surveys.add_subparsers(dest="action", required=True))
        parsed = top.parse_args(["surveys", "results", *arguments, "--config", str(path)])
        # In a thread, as a shell would run it: the command runs its own event loop.
        result: int = await asyncio.to_thread(parsed.handler, parsed)
        return result

    survey = str(recorded.survey_id)
    assert await run(survey, "--by", "region", "--language", "en") == 0
    out = capsys.readouterr().out
    assert "12 answered · cells need 5" in out
    themes = out.split("Which themes matter to you? (up to 3) [themes]")[1].split("\n\n")[0]
    lines = [" ".join(line.split()) for line in themes.splitlines()]
    canada = lines.index("Canada (7 respondents)")
    quebec = lines.index("Quebec (CA) (5 respondents)")
    united_states = lines.index("United States (5 respondents)")
    assert canada < quebec < united_states
    assert lines[quebec + 2].split() == ["Consular", "services", "5", "100%"]
    assert "mean 3.33333" in out  # the rating, as the summary sheet computes it
    assert await run(survey, "--language", "es") == 0
    out = capsys.readouterr().out
    assert "Servicios consulares" in out and "Consular services" not in out
    assert await run(survey, "--min-cell", "1", "--language", "fr") == 0
    out = capsys.readouterr().out
    assert [line.split()[-2:] for line in out.splitlines() if "Retour" in line] == [["1", "8%"]]
    assert await run("999") == 1
    # The command read the copy and left it as it was.
    store = await Store.open(database, fixed_clock())
    try:
        row = await store.database.fetch_one("SELECT COUNT(*) FROM record_entries")
        assert row is not None and row[0] > 100
    finally:
        await store.close()
