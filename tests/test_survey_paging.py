"""Forms a member can answer (issue 22 item 4): long choice lists paged and searched in chat, and
a question Telegram refuses never becomes the member's place.

Forms are built as staff build them (openpyxl) and sent to the bot in chat; members answer
through the emulator, which refuses what Telegram refuses (over 100 buttons, ~10 kB of keyboard,
4,096 characters of text).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member, bot_running, make_config
from tests.hostile_files import Rows, form_xlsx
from tgemu import ChatMessage, Emulator

ADMIN = 9000
PLACES = 4900
TOPICS = 300


@pytest.fixture
async def staffed(
    emulator: Emulator, database: Path | str, running_clock: OffsetClock
) -> AsyncIterator[BotUnderTest]:
    """The bot with an admin who loads forms and whose chat gets the error alerts."""
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN], "chat_id": ADMIN},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as running:
        running.person(ADMIN, "Admin", "es")
        yield running


async def load_and_open(bot: BotUnderTest, name: str, sheets: dict[str, Rows]) -> int:
    """Staff send the form in chat; it is opened to every member (added before); its survey id."""
    admin = Person(bot, ADMIN)
    update = bot.emulator.send_document(TOKEN, ADMIN, name, form_xlsx(sheets))
    await bot.processor.wait_done(update, timeout=60)
    answer = admin.last_text()
    assert "#" in answer and "rechazado" not in answer, answer
    survey_id = int(answer.split("#")[1].split()[0].strip(".,:"))
    await bot.services.surveys.open(survey_id, AudienceFilter())
    return survey_id


async def start(member: Person, timeout: float = 30) -> None:
    """Wait for the survey's invitation (the delivery worker sends it), then press its Start.

    Pressing before it arrives would let it land in the middle of the questions, as the newest
    keyboard, and the member would then be reading it instead of the question.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(
        "Empezar" in button["text"]
        for message in member.transcript()
        for button in message.buttons()
    ):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no invitation in {timeout} s")
        await asyncio.sleep(0.05)
    await member.press("Empezar")


def refused(bot: BotUnderTest) -> list[tuple[str, int, str]]:
    """The calls the emulator refused with 400, as Telegram would have."""
    return [error for error in bot.emulator.bot(TOKEN).errors if error[1] == 400]


def choice_labels(message: ChatMessage) -> list[str]:
    """A question's choice buttons (those the engine numbers ``c``, ``t`` or ``f``)."""
    return [
        button["text"]
        for button in message.buttons()
        if str(button.get("callback_data", "")).split(":")[3:4] in (["c"], ["t"], ["f"])
    ]


def places_form() -> dict[str, Rows]:
    """4,900 places in Spanish and English (a sheet holds 5,000 rows, so the topics are apart)."""
    places: list[dict[str, object]] = [
        {
            "list_name": "places",
            "name": f"m{n:04d}",
            "label::Español (es)": f"Municipio {n:04d}",
            "label::English (en)": f"Town {n:04d}",
        }
        for n in range(PLACES)
    ]
    for n, name, label in (
        (100, "cuscatancingo", "Cuscatancingo"),
        (2345, "cuscatlan", "Cuscatlán"),
    ):
        places[n].update({"name": name, "label::Español (es)": label, "label::English (en)": label})
    survey = [
        {
            "type": "select_one places",
            "name": "place",
            "label::Español (es)": "¿Dónde vives?",
            "label::English (en)": "Where do you live?",
        },
        {
            "type": "text",
            "name": "why",
            "label::Español (es)": "¿Por qué?",
            "label::English (en)": "Why?",
        },
    ]
    settings = [{"form_id": "lugares", "version": "1", "default_language": "es"}]
    return {"survey": survey, "choices": places, "settings": settings}


def topics_form() -> dict[str, Rows]:
    """300 topics, several to choose."""
    topics: list[dict[str, object]] = [
        {"list_name": "topics", "name": f"t{n:03d}", "label": f"Tema {n:03d}"}
        for n in range(TOPICS)
    ]
    topics[150].update({"name": "educacion", "label": "Educación"})
    survey = [
        {"type": "select_multiple topics", "name": "topics", "label": "¿Qué temas te importan?"}
    ]
    return {"survey": survey, "choices": topics, "settings": [{"form_id": "temas", "version": "1"}]}


async def test_a_member_pages_and_searches_4900_places_and_the_right_name_is_stored(
    staffed: BotUnderTest,
) -> None:
    bot = staffed
    member_id = await add_member(bot, 601, "es")
    survey_id = await load_and_open(bot, "lugares.xlsx", places_form())
    ana = Person(bot, 601)
    await start(ana)

    # 4,900 choices: a page of 8 with arrows, and how to search, in Spanish.
    question = ana.last()
    assert "¿Dónde vives?" in ana.last_text() and "escribe parte del nombre" in ana.last_text()
    assert choice_labels(question) == [f"Municipio {n:04d}" for n in range(8)]
    assert "Página siguiente ▸" in ana.buttons() and "◂ Página anterior" not in ana.buttons()
    await ana.press("Página siguiente ▸")
    assert choice_labels(question) == [f"Municipio {n:04d}" for n in range(8, 16)]
    await ana.press("Página siguiente ▸")
    await ana.press("◂ Página anterior")
    assert choice_labels(ana.last()) == [f"Municipio {n:04d}" for n in range(8, 16)]

    # Typed text searches the labels of the member's language, accents and case ignored.
    await ana.send("town")
    assert "Ninguna opción contiene «town»" in ana.last_text()
    await ana.send("cusca")
    assert "«cusca»: 2 opciones encontradas" in ana.last_text()
    assert choice_labels(ana.last()) == ["Cuscatancingo", "Cuscatlán"]
    await ana.send("MUNICIPIO 01")
    assert "aquí tienes las primeras 8" in ana.last_text()
    assert len(choice_labels(ana.last())) == 8
    # Choosing from the search for "cusca" (a message further up) answers the question.
    found = [m for m in ana.transcript() if "«cusca»" in (m.text or "")][-1]
    data = next(b["callback_data"] for b in found.buttons() if b["text"] == "Cuscatlán")
    await ana.press_data(found.message_id, data)
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["place"].value == "cuscatlan" and stored["place"].label == "Cuscatlán"
    assert "¿Por qué?" in ana.last_text()
    # Back, and the whole label typed (any case) answers without a search.
    await ana.press("Atrás")
    await ana.send("cuscatancingo")
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["place"].value == "cuscatancingo"
    # Every keyboard the bot drew was one Telegram draws.
    assert refused(bot) == []


async def test_ticks_of_300_topics_stay_across_pages_and_searches(staffed: BotUnderTest) -> None:
    bot = staffed
    member_id = await add_member(bot, 604, "es")
    survey_id = await load_and_open(bot, "temas.xlsx", topics_form())
    dani = Person(bot, 604)
    await start(dani)
    topics = dani.last()
    assert "¿Qué temas te importan?" in (topics.text or "")
    assert choice_labels(topics)[:2] == ["⬜ Tema 000", "⬜ Tema 001"]
    await dani.press("Tema 001")
    assert choice_labels(topics)[:2] == ["⬜ Tema 000", "☑️ Tema 001"]
    await dani.press("Siguiente ▸")
    await dani.press("Siguiente ▸")
    await dani.press("Tema 020")
    # The page pressed is redrawn as it was, with the tick.
    assert choice_labels(topics) == [
        ("☑️ " if n == 20 else "⬜ ") + f"Tema {n:03d}" for n in range(16, 24)
    ]
    await dani.send("educa")
    assert choice_labels(dani.last()) == ["⬜ Educación"]
    await dani.press("Educación")
    assert choice_labels(dani.last()) == ["☑️ Educación"]
    await dani.press("Listo")
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["topics"].value == "t001 t020 educacion"
    assert stored["topics"].label == "Tema 001; Tema 020; Educación"
    assert refused(bot) == []


def long_question_form(first: bool) -> dict[str, Rows]:
    """A question whose text passes the load checks (3,500 characters of label) but, with its
    suggested answer (`default`, computed from the answer before), is over Telegram's 4,096."""
    long_one = {
        "type": "text",
        "name": "story",
        "label": "L" * 3500,
        "default": "concat(${name}, ' ', ${name})" if not first else "concat('" + "D" * 900 + "')",
    }
    name = {"type": "text", "name": "name", "label": "Tu nombre"}
    rest = {"type": "text", "name": "more", "label": "¿Algo más?"}
    survey = [long_one, rest] if first else [name, long_one, rest]
    return {"survey": survey, "settings": [{"form_id": "larga", "version": "1"}]}


async def test_a_question_telegram_refuses_leaves_the_member_on_the_one_they_saw(
    staffed: BotUnderTest,
) -> None:
    bot = staffed
    member_id = await add_member(bot, 602, "es")
    survey_id = await load_and_open(bot, "larga.xlsx", long_question_form(first=False))
    bea = Person(bot, 602)
    await start(bea)
    assert bea.last_text().startswith("Tu nombre")

    # 400 characters make the next question's suggestion 801: the question no longer fits.
    await bea.send("N" * 400)
    assert ("sendmessage", 400, "Bad Request: message is too long") in refused(bot)
    shown = bea.last_text()
    assert "Telegram no pudo mostrar la pregunta siguiente" in shown and "Tu nombre" in shown
    assert "L" * 100 not in shown
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert set(stored) == {"name"}
    alert = Person(bot, ADMIN).last_text()
    assert "Error en consultbot" in alert and f"survey #{survey_id}" in alert
    assert "question story" in alert and "Message is too long" in alert

    # What she types next answers the question she sees, not the one she never saw.
    await bea.send("Bea")
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["name"].value == "Bea" and "story" not in stored
    assert bea.last_text().startswith("L" * 100) and "Bea Bea" in bea.last_text()
    await bea.send("Una historia")
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["story"].value == "Una historia"
    assert "¿Algo más?" in bea.last_text()


async def test_a_first_question_telegram_refuses_pauses_the_survey(staffed: BotUnderTest) -> None:
    bot = staffed
    member_id = await add_member(bot, 603, "es")
    survey_id = await load_and_open(bot, "larga.xlsx", long_question_form(first=True))
    caro = Person(bot, 603)
    await start(caro)
    assert "Telegram no pudo mostrar esta pregunta" in caro.last_text()
    assert "question story" in Person(bot, ADMIN).last_text()
    # Paused: her next message is nobody's answer.
    await caro.send("hola")
    assert await bot.services.surveys.answers(survey_id, member_id) == {}
    assert await bot.services.conversations.get(603) is None
