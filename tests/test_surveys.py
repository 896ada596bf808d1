"""Surveys from XLSForm, answered in chat through the emulator, written to the record."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.clock import OffsetClock
from bot.services.surveys import SurveysService
from storage.surveys import SurveysRepository
from tests.harness import TOKEN, BotUnderTest, Person, bot_running, make_config, storage_toml
from tgemu import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FORM = EXAMPLES / "consultation_round1.xlsx"
KOBO = EXAMPLES / "kobo_unsupported.xlsx"
ADMIN = 9000


@pytest.fixture
async def survey_bot(
    emulator: Emulator, database: Path | str, running_clock: OffsetClock
) -> AsyncIterator[BotUnderTest]:
    """The bot with an admin who may load surveys."""
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as running:
        yield running


async def add_member(bot: BotUnderTest, telegram_id: int, language: str, **fields: Any) -> int:
    """A registered member straight in the database (registration is tested elsewhere)."""
    bot.emulator.create_person(telegram_id, f"Member {telegram_id}", language)
    member = await bot.store.members.create_with_consent(
        telegram_id, None, language, "2026-11", "test", "name"
    )
    profile = {
        "status": "active",
        "step": None,
        "name": f"Member {telegram_id}",
        "country": "CA",
        "region": "QC",
        "city": "Montréal",
        "time_zone": "America/Toronto",
        "sector": "civil-society",
        "themes": ("protection",),
        **fields,
    }
    await bot.store.members.update(member.id, profile)
    return member.id


async def cli(bot: BotUnderTest, tmp: Path, *arguments: str) -> int:
    """Run `consultbot surveys ...` on the bot's database, in a thread as a shell would."""
    from bot.cli import surveys as cli_surveys

    config = tmp / "cli.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(bot.config.storage.target),
        encoding="utf-8",
    )
    top = argparse.ArgumentParser(prog="consultbot")
    cli_surveys.register(top.add_subparsers(dest="command", required=True))
    parsed = top.parse_args(["surveys", *arguments, "--config", str(config)])
    parsed.clock = bot.clock  # the clock the running bot reads
    result: int = await asyncio.to_thread(parsed.handler, parsed)
    return result


def repository(bot: BotUnderTest) -> SurveysRepository:
    return bot.store.surveys


async def wait_for(person: Person, marker: str, timeout: float = 10) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for message in reversed(person.transcript()):
            if message.direction == "out" and marker in (message.text or ""):
                return message.text or ""
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with {marker!r}")


async def test_a_member_answers_in_french_resumes_edits_and_submits(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = survey_bot
    marie_id = await add_member(bot, 500, "fr", association_id=None)
    await add_member(bot, 501, "es", country="US", region="TX", time_zone="America/Chicago")
    assert await cli(bot, tmp_path, "load", str(FORM), "--round", "1", "--theme", "protection") == 0
    survey_id = int(capsys.readouterr().out.split("#")[1].split()[0])
    # The same form_id + version again is refused; nothing new is stored.
    assert await cli(bot, tmp_path, "load", str(FORM)) == 1
    assert f"already loaded as survey #{survey_id}" in capsys.readouterr().err
    opened = await cli(
        bot, tmp_path, "open", str(survey_id), "--country", "CA",
        "--closes", "2099-12-20 18:00", "--zone", "America/Toronto",
    )  # fmt: skip
    assert opened == 0 and "1 member invited" in capsys.readouterr().out

    marie = Person(bot, 500)
    invite = await wait_for(marie, "Nouveau questionnaire")
    assert "Consultation de la diaspora — ronde 1" in invite and "9 questions" in invite
    assert "20 déc. 2099 à 18 h 00" in invite
    assert [m for m in Person(bot, 501).transcript() if m.direction == "out"] == []

    await marie.press("Commencer")
    assert "Merci de participer" in marie.last_text()
    await marie.press("Continuer")
    assert "un code plutôt que votre nom" in marie.last_text()
    await marie.press("D’accord")  # an acknowledgement is agreed to, not merely continued
    assert marie.last_text().startswith("<b>Votre situation</b>") or "Votre situation" in (
        marie.last_text()
    )
    await marie.press("Canada")
    # choice_filter: only Canadian provinces (every one, eight to a page).
    assert "Colombie-Britannique" in marie.buttons()
    assert "État de New York" not in marie.buttons() and "Floride" not in marie.buttons()
    await marie.press("Suivant")
    assert {"Ontario", "Québec"} <= set(marie.buttons())
    assert "État de New York" not in marie.buttons() and "Floride" not in marie.buttons()
    await marie.press("Québec")
    await marie.send("95")
    texts = [m.text or "" for m in marie.transcript() if m.direction == "out"]
    assert any("Tapez un nombre entre 0 et 80." in text for text in texts[-2:])
    await marie.send("douze")
    assert any("nombre entier" in (m.text or "") for m in marie.transcript()[-3:])
    await marie.send("12")
    # A date in the past by the bot's clock (the form says `. <= today()`), whatever year it is.
    await marie.send(f"{bot.services.clock.now().year - 16}-05-01")
    await marie.press("Services consulaires")
    await marie.press("Transferts d'argent")
    await marie.press("Terminé")
    # vote_problem is skipped (relevant: selected(${themes}, 'vote')): the rating comes next.
    assert "Notez les services consulaires" in marie.last_text()
    assert "Utiliser : 3" in marie.buttons()

    # A restart mid-survey, then /surveys resumes at the first unanswered question.
    await bot.restart()
    await marie.send("/surveys")
    assert "3 sur" not in marie.last_text() and "répondues" in marie.last_text()
    await marie.press("Continuer")
    assert "Notez les services consulaires" in marie.last_text()
    await marie.send("7")
    assert "de 1 à 5" in (marie.transcript()[-2].text or "") + marie.last_text()
    await marie.press("Utiliser : 3")
    await marie.send("12,5")
    assert "Merci !" in marie.last_text()
    await marie.press("Continuer")
    review = marie.last_text()
    assert "Vos réponses" in review and "Québec" in review and "Transferts d'argent" in review

    # Edit in review: adding 'vote' makes vote_problem relevant, so it is asked, then review.
    await marie.press("✏️ 6")
    await marie.press("Vote à l'étranger")
    await marie.press("Terminé")
    assert "empêche de voter" in marie.last_text()
    await marie.send("Le consulat est trop loin.")
    assert "Vos réponses" in marie.last_text()
    submit = next(b for b in marie.last().buttons() if "Envoyer" in b["text"])
    submit_message = marie.last().message_id
    await marie.press("Envoyer")
    assert "Vos réponses sont enregistrées" in marie.last_text()

    record = await bot.store.record.of_survey(survey_id)
    by_question = {entry.question: entry for entry in record}
    years = by_question["years_abroad"]
    assert years.value == "12" and years.language == "fr"
    assert years.question_label == "Depuis combien d'années vivez-vous à l'étranger ?"
    assert (
        years.pseudonym is not None
        and years.pseudonym.startswith(("m-", "p-", ""))
        and (
            years.pseudonym == (await bot.store.members.by_id(marie_id)).pseudonym  # type: ignore[union-attr]
        )
    )
    assert (years.survey_id, years.form_id, years.form_version) == (
        survey_id, "consultation_round1", "2025-1",
    )  # fmt: skip
    assert (years.round, years.theme, years.meeting_id) == ("1", "protection", None)
    assert (years.country, years.region, years.sector) == ("CA", "QC", "civil-society")
    assert by_question["themes"].value == "vote consular remit"
    assert by_question["themes"].value_label == (
        "Vote à l'étranger; Services consulaires; Transferts d'argent"
    )
    assert by_question["region"].value_label == "Québec"
    assert by_question["services_rating"].value == "3"
    assert by_question["remittance_share"].value == "12.5"
    assert by_question["start"].value and by_question["end"].value and by_question["today"].value
    assert "deviceid" not in by_question and "welcome" not in by_question
    first_count = len(record)

    # A second tap on the old Submit button records nothing.
    await marie.press_data(submit_message, submit["callback_data"], forge=True)
    assert len(await bot.store.record.of_survey(survey_id)) == first_count

    # The member moves; an edit after submit appends a superseding entry with today's region.
    await bot.store.members.update(marie_id, {"region": "ON"})
    await marie.send("/surveys")
    await marie.press("Revoir")
    await marie.press("✏️ 4")
    await marie.send("20")
    await marie.press("Envoyer les modifications")
    record = await bot.store.record.of_survey(survey_id)
    added = record[first_count:]
    # The changed answer, and (when the clock moved on to another second) the form's `end`.
    assert {entry.question for entry in added} <= {"years_abroad", "end"}
    (newest,) = [entry for entry in added if entry.question == "years_abroad"]
    assert (newest.value, newest.supersedes) == ("20", years.id)
    assert newest.region == "ON"
    assert years in record  # the old entry is untouched

    # A version 2 of the form is a new survey; version 1's record is untouched.
    book = openpyxl.load_workbook(FORM)
    book["settings"]["B2"] = "2025-2"
    second = tmp_path / "consultation_round1_v2.xlsx"
    book.save(second)
    assert await cli(bot, tmp_path, "load", str(second)) == 0
    assert "version 2025-2" in capsys.readouterr().out
    assert await bot.store.record.of_survey(survey_id) == record

    # After close: read-only, politely.
    assert await cli(bot, tmp_path, "close", str(survey_id)) == 0
    await marie.send("/surveys")
    assert "aucun questionnaire ouvert" in marie.last_text()
    invite_message = next(
        m for m in marie.transcript() if "Nouveau questionnaire" in (m.text or "")
    )
    await marie.press_data(invite_message.message_id, f"v1:svy:s:{survey_id}")
    assert "clos" in (marie.callback_answer() or "")
    assert await bot.store.record.of_survey(survey_id) == record  # nothing added once closed


async def test_an_attendee_only_survey_reaches_only_those_checked_in(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = survey_bot
    came = await add_member(bot, 610, "en")
    said_yes = await add_member(bot, 611, "es")
    await add_member(bot, 612, "fr")
    now = datetime.now(UTC)
    meeting = await bot.store.meetings.create(
        {
            "kind": "national",
            "start_at": now - timedelta(hours=2),
            "zone": "America/Toronto",
            "local_start": "2026-01-01 10:00",
            "duration_minutes": 60,
        },
        "test",
        now,
        "CHECK610",
        [],
    )
    await bot.store.meetings.answer(meeting.id, said_yes, "yes", now)
    await bot.store.meetings.check_in(meeting.id, came, "test", now)
    assert await cli(bot, tmp_path, "load", str(FORM)) == 0
    survey_id = int(capsys.readouterr().out.split("#")[1].split()[0])
    code = await cli(bot, tmp_path, "open", str(survey_id), "--meeting", str(meeting.id),
                     "--attended")  # fmt: skip
    assert code == 0 and "1 member invited" in capsys.readouterr().out
    await wait_for(Person(bot, 610), "New survey")
    rows = await bot.store.database.fetch_all(
        "SELECT member_id FROM survey_participants WHERE survey_id = ?", (survey_id,)
    )
    assert [row[0] for row in rows] == [came]
    assert not [m for m in Person(bot, 611).transcript() if "survey" in (m.text or "").lower()]


async def test_a_kobo_form_with_unsupported_types_is_refused_naming_them(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(survey_bot, tmp_path, "load", str(KOBO)) == 1
    errors = capsys.readouterr().err
    for name in ("geopoint", "image", "begin_repeat", "calculate", "or_other"):
        assert name in errors, name
    assert "kobo_unsupported.xlsx, sheet survey, row 5, column type" in errors
    assert await repository(survey_bot).listing() == []


async def test_staff_send_the_form_in_chat_and_members_cannot(survey_bot: BotUnderTest) -> None:
    bot = survey_bot
    await add_member(bot, 700, "en")
    admin = bot.person(ADMIN, "Admin", "en")
    member = Person(bot, 700)
    before = len(member.transcript())
    update = bot.emulator.send_document(TOKEN, 700, "form.xlsx", FORM.read_bytes())
    await bot.processor.wait_done(update)
    assert await repository(bot).listing() == [] and len(member.transcript()) > before
    update = bot.emulator.send_document(TOKEN, ADMIN, "kobo.xlsx", KOBO.read_bytes(), "round=1")
    await bot.processor.wait_done(update)
    assert "nothing was stored" in admin.last_text() and "kobo.xlsx, sheet survey" in (
        admin.last_text()
    )
    update = bot.emulator.send_document(TOKEN, ADMIN, "r1.xlsx", FORM.read_bytes(), "round=1")
    await bot.processor.wait_done(update)
    assert "Survey #1 loaded: consultation_round1 version 2025-1" in admin.last_text()
    survey = (await repository(bot).listing())[0]
    assert (survey.round, survey.created_by.startswith("op-"), survey.status) == (
        "Round 1: diagnosis",  # round 1 of programme.rounds, stored by its name
        True,
        "draft",
    )


async def test_forged_buttons_for_another_survey_are_refused(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = survey_bot
    await add_member(bot, 800, "en")
    await add_member(bot, 801, "en", country="US", region="NY")
    assert await cli(bot, tmp_path, "load", str(FORM)) == 0
    first = int(capsys.readouterr().out.split("#")[1].split()[0])
    book = openpyxl.load_workbook(FORM)
    book["settings"]["B2"] = "other"
    other_file = tmp_path / "other.xlsx"
    book.save(other_file)
    assert await cli(bot, tmp_path, "load", str(other_file)) == 0
    second = int(capsys.readouterr().out.split("#")[1].split()[0])
    assert await cli(bot, tmp_path, "open", str(first), "--country", "CA") == 0
    assert await cli(bot, tmp_path, "open", str(second), "--country", "US") == 0
    person = Person(bot, 800)
    await wait_for(person, "New survey")
    await person.press("Start")
    await person.press("Continue")
    asked = person.last()
    # Survey B's start button, forged: refused (not invited); nothing starts.
    await person.press_data(asked.message_id, f"v1:svy:s:{second}", forge=True)
    assert "not open to you" in (person.callback_answer() or "")
    # An engine button of another (older) question, and an index past the choices.
    await person.press_data(asked.message_id, "v1:svq:1:c:0", forge=True)
    assert "no longer" in (person.callback_answer() or "").lower() or person.callback_answer()
    conversation = await bot.store.conversations.get(800)
    assert conversation is not None and conversation.step == "consent"
    seq = conversation.state["seq"]
    await person.press_data(asked.message_id, f"v1:svq:{seq}:c:99", forge=True)
    await person.press_data(asked.message_id, "v1:svy:s:99999999999", forge=True)
    await person.press_data(asked.message_id, "v1:svy:s:１", forge=True)
    rows = await bot.store.database.fetch_all(
        "SELECT survey_id, question FROM survey_answers WHERE member_id = (SELECT id FROM members"
        " WHERE telegram_id = 800)"
    )
    assert [tuple(row) for row in rows] == [(first, "welcome")]


async def test_an_edit_asks_again_the_answers_it_made_invalid(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = survey_bot
    member_id = await add_member(bot, 510, "en")
    assert await cli(bot, tmp_path, "load", str(FORM)) == 0
    survey_id = int(capsys.readouterr().out.split("#")[1].split()[0])
    assert await cli(bot, tmp_path, "open", str(survey_id), "--country", "CA") == 0
    ann = Person(bot, 510)
    await wait_for(ann, "New survey")
    await ann.press("Start")
    await ann.press("Continue")
    await ann.press("I agree")
    await ann.press("Canada")
    await ann.send("Quebec")  # the whole name typed answers a long list
    await ann.send("12")
    await ann.send(f"{bot.services.clock.now().year - 16}-05-01")
    await ann.press("Consular services")
    await ann.press("Done")
    await ann.press("Use: 3")
    await ann.send("10")
    await ann.press("Continue")
    review = ann.last_text()
    assert "Your answers" in review and "Quebec" in review
    # The acknowledgement reads as the button did, not as a stored "OK".
    assert "I agree" in review and "OK" not in review.split()
    # Canada → United States: Quebec is no longer among the choices, so it is asked again.
    await ann.press("✏️ 2")
    await ann.press("United States")
    assert "Province or state?" in ann.last_text()
    assert "Quebec" not in ann.buttons() and "Alabama" in ann.buttons()
    # Pausing here and submitting anyway records no stale region.
    await ann.send("/cancel")
    member = await bot.store.members.by_id(member_id)
    assert member is not None
    service = SurveysService(bot.store, bot.config, bot.services.clock)
    await service.submit(member, survey_id)
    by_question = {e.question: e for e in await bot.store.record.of_survey(survey_id)}
    assert by_question["country"].value == "US"
    assert "region" not in by_question or by_question["region"].value == ""
    # Back in chat, the region is asked before the review comes again.
    await ann.send("/surveys")
    await ann.press("Review")
    assert "Province or state?" in ann.last_text()
    await ann.send("New York")
    review = ann.last_text()
    assert "United States" in review and "New York" in review and "Quebec" not in review
    await ann.press("Submit changes")
    latest = {e.question: e for e in await bot.store.record.of_survey(survey_id)}
    assert (latest["country"].value, latest["region"].value) == ("US", "NY")
    assert latest["consent"].value_label == "I agree"
