"""What staff type in chat is checked where they type it: /export's typed filters (a region by its
name in any of our languages, a configured sector, theme and round) are re-asked at the filter
step, never after the file is being made; a form's caption records a round whose name holds
spaces, by its number or name, and the load reply says which round and theme were recorded."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest

from tests.harness import TOKEN, BotUnderTest, Person, bot_running, make_config
from tests.survey_fixture import Answered
from tests.test_exports import pseudonyms
from tests.test_exports_chat import documents, rows_of, staff
from tests.test_surveys_admin_chat import FORM, staff_member
from tgemu import Emulator

ROUNDS = ["Round 1: diagnosis", "Round 2: draft policy"]


def before_last(person: Person) -> str:
    """The message before the last: the reason, shown above the question asked again."""
    return person.transcript()[-2].text or ""


async def to_filter(ana: Person, survey_id: int) -> None:
    await ana.send("/export")
    await ana.press("Answers (a row per submission)")
    await ana.press(f"#{survey_id} Diaspora consultation")
    assert "Export everything, or only part of it?" in ana.last_text()


async def test_a_typed_region_by_its_name_is_taken_and_the_file_made(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await to_filter(ana, answered.survey_id)
    # The trial's "region=Texas": taken at the filter step, and the file made without a warning.
    await ana.send("region=Texas")
    assert ana.last_text() == "Which format?"
    await ana.press("CSV")
    await ana.press("Labels (readable)")
    [(_, content), _dictionary] = documents(bot, ana)
    assert rows_of(content) == []
    assert not any("⚠️" in (m.text or "") for m in ana.transcript() if m.direction == "out")


async def test_typed_filters_unknown_are_re_asked_at_the_filter_step(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await to_filter(ana, answered.survey_id)
    await ana.send("region=Narnia")
    assert "⚠️ Unknown province or state “Narnia”" in before_last(ana)
    assert "Export everything, or only part of it?" in ana.last_text()
    assert "By province / state" in ana.buttons()
    await ana.send("sector=plumbing")
    assert "⚠️ Unknown sector “plumbing”. Sectors:" in before_last(ana)
    assert "academia" in before_last(ana)
    await ana.send("round=Round 9")
    refusal = before_last(ana)
    assert "⚠️ Unknown round “Round 9”" in refusal and "1 (Round 1: diagnosis)" in refusal
    await ana.send("theme=nothing")
    assert "⚠️ Unknown theme “nothing”" in before_last(ana)
    await ana.send("country=Narnia")
    assert "⚠️ Unknown country “Narnia”" in before_last(ana)
    # A name in another language (Spanish "Nueva York") names the same state.
    await ana.send("region=Nueva York")
    assert ana.last_text() == "Which format?"
    await ana.press("CSV")
    await ana.press("Labels (readable)")
    [(_, content), _dictionary] = documents(bot, ana)
    by_member = await pseudonyms(answered)
    rows = rows_of(content)
    assert {r["_pseudonym"] for r in rows} == {p for p, w in by_member.items() if w.region == "NY"}


async def test_the_region_step_takes_a_name_as_well_as_the_button(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await to_filter(ana, answered.survey_id)
    await ana.press("By province / state")
    assert "FL — Florida" in ana.buttons()
    await ana.send("Floride")  # the French name, as a button shows it to French staff
    assert ana.last_text() == "Which format?"
    await ana.press("CSV")
    await ana.press("Labels (readable)")
    [(_, content), _dictionary] = documents(bot, ana)
    by_member = await pseudonyms(answered)
    rows = rows_of(content)
    assert {r["_pseudonym"] for r in rows} == {p for p, w in by_member.items() if w.region == "FL"}
    await ana.send("/export")
    await ana.press("Answers (a row per submission)")
    await ana.press(f"#{answered.survey_id} Diaspora consultation")
    await ana.press("By province / state")
    await ana.send("Atlantis")
    assert "⚠️ Unknown province or state “Atlantis”" in before_last(ana)
    assert ana.last_text() == "Which province or state?"


@pytest.fixture
async def rounds_bot(emulator: Emulator, database: Path | str) -> AsyncIterator[BotUnderTest]:
    """The bot with two configured rounds, whose names hold spaces and a colon."""
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        programme={"rounds": ROUNDS},
    )
    async with bot_running(emulator, config) as running:
        yield running


async def upload(bot: BotUnderTest, person: Person, caption: str | None) -> str:
    update = bot.emulator.send_document(
        TOKEN, person.id, "round1.xlsx", FORM.read_bytes(), caption=caption
    )
    await bot.processor.wait_done(update, timeout=60)
    return person.last_text()


async def test_a_caption_records_the_whole_round_name_and_the_reply_says_so(
    rounds_bot: BotUnderTest,
) -> None:
    bot = rounds_bot
    sam = await staff_member(bot)
    refused = await upload(bot, sam, "round=Round 3: final")
    assert "⚠️ Unknown round in the file’s caption: “Round 3: final”" in refused
    assert "1 (Round 1: diagnosis), 2 (Round 2: draft policy)" in refused
    assert "Nothing was loaded" in refused
    assert await bot.services.surveys.listing() == []
    loaded = await upload(bot, sam, "round=Round 2: draft policy theme=protection")
    assert "Survey #1 loaded" in loaded
    assert "Round recorded: Round 2: draft policy." in loaded
    assert "Theme recorded:" in loaded
    [survey] = await bot.services.surveys.listing()
    assert (survey.round, survey.theme) == ("Round 2: draft policy", "protection")


def new_version(version: str) -> bytes:
    """The example form under another version (a form loaded once is a new survey per version)."""
    book = openpyxl.load_workbook(FORM)
    settings = book["settings"]
    header = [cell.value for cell in settings[1]]
    settings.cell(row=2, column=header.index("version") + 1, value=version)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_round_by_its_number_and_no_round_said_plainly(rounds_bot: BotUnderTest) -> None:
    bot = rounds_bot
    sam = await staff_member(bot)
    loaded = await upload(bot, sam, None)
    assert "No round recorded." in loaded and "2 (Round 2: draft policy)" in loaded
    assert "Theme recorded" not in loaded
    # Another version, its round by number (as `consultbot surveys load --round 2`).
    update = bot.emulator.send_document(
        TOKEN, sam.id, "round2.xlsx", new_version("2025-2"), caption="Draft\nround: 2"
    )
    await bot.processor.wait_done(update, timeout=60)
    assert "Round recorded: Round 2: draft policy." in sam.last_text()
    second, first = await bot.services.surveys.listing()
    assert (first.round, second.round) == (None, "Round 2: draft policy")
    # An unknown theme is refused in the reader's words, before anything is read.
    update = bot.emulator.send_document(
        TOKEN, sam.id, "round3.xlsx", new_version("2025-3"), caption="theme=weather"
    )
    await bot.processor.wait_done(update, timeout=60)
    assert "⚠️ Unknown theme in the file’s caption: “weather”" in sam.last_text()
    assert len(await bot.services.surveys.listing()) == 2
