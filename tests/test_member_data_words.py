"""What members read wrong in the trial, as they see it in chat: /mydata came as JSON of database
keys and codes only (now a summary in words comes with it), long answers were refused without the
limit said beforehand or by how much, and reminder hours were written two ways."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import ManualClock
from bot.services.timefmt import offsets_in_words
from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member, bot_running
from tests.survey_fixture import (
    ANSWERS_FROM,
    FORM_PATH,
    Respondent,
    answer_in_chat,
    config_for,
    example_form,
    wait_for_start,
)
from tests.test_mydata import _meeting, _rsvp_yes
from tgemu import Emulator

ANA, LUIS = 612340101, 612340102


async def test_mydata_comes_with_a_summary_in_the_members_words(
    emulator: Emulator, database: Path | str
) -> None:
    clock = ManualClock(ANSWERS_FROM)
    async with bot_running(emulator, config_for(database, emulator), clock) as bot:
        texts = bot.services.texts
        await add_member(
            bot, ANA, "es", name="Ana", country="CA", region="ON", city="Toronto",
            time_zone="America/Toronto", sector="government", themes=("protection",),
            association_none=True,
        )  # fmt: skip
        ana = Person(bot, ANA)
        loaded = await bot.services.surveys.load_file(FORM_PATH, "cli", "1", "protection")
        assert loaded.survey is not None, loaded.errors
        await bot.services.surveys.open(loaded.survey.id, AudienceFilter())
        bot.services.wake_delivery()
        answers = Respondent(
            ANA, "es", "CA", "ON", "America/Toronto", "government", "6", None,
            ("consular",), None, "2", None,
        )  # fmt: skip
        await answer_in_chat(bot, example_form(), loaded.survey.id, answers, clock)
        meeting = await _meeting(bot, "2026-03-20 18:00")
        await _rsvp_yes(bot, clock, ana, meeting.id)
        await ana.send("/propose")
        await ana.press(texts.plain("es", "theme.protection"))
        await ana.send("Un consulado móvil en Toronto")
        await ana.press(texts.plain("es", "prop.button.send"))

        await ana.send("/mydata")
        document = ana.last().document
        assert document is not None
        outgoing = [m for m in ana.transcript() if m.direction == "out"]
        summary = "\n".join(m.text or "" for m in outgoing[-3:-1] if m.text)
        summary = summary[summary.index("Lo que guardamos sobre ti") :]
        lines = summary.splitlines()
        assert "Nombre: Ana" in lines
        assert "Lugar: Toronto, Ontario (Canadá)" in lines
        assert "Zona horaria: hora oriental (Toronto)" in lines
        assert f"Asociación: {texts.plain('es', 'value.no_association')}" in lines
        assert f"Sector: {texts.plain('es', 'sector.government')}" in lines
        assert f"Temas: {texts.plain('es', 'theme.protection')}" in summary
        assert "• Lo aceptaste (versión 2026-11) el " in summary
        assert "• Reunión de Nueva York — viernes, 20 de marzo de 2026" in summary
        assert ": Sí" in summary
        assert "Consulta de la diáspora" in summary and "enviada el 10 de marzo de 2026" in summary
        assert f"• {texts.plain('es', 'theme.protection')}, el 10 de marzo de 2026" in summary
        # No code or field name of the database reaches the summary.
        for code in ("ON", "America/Toronto", "government", "protection", "edit_backup", "yes"):
            assert code not in summary.replace("Toronto, Ontario", ""), code
        # The JSON is still the full portable copy, field names and all.
        doc = json.loads(bot.emulator.bot(TOKEN).files[document["file_id"]][1])
        (profile,) = doc["sections"]["profile"]["items"]
        assert profile["region"] == "ON" and "edit_backup" in profile


async def test_a_survey_text_question_states_its_limit_and_by_how_much_an_answer_is_over(
    emulator: Emulator, database: Path | str
) -> None:
    clock = ManualClock(ANSWERS_FROM)
    async with bot_running(emulator, config_for(database, emulator), clock) as bot:
        plain = bot.services.texts.plain
        await add_member(bot, LUIS, "es", name="Luis", country="CA", region="ON")
        luis = Person(bot, LUIS)
        loaded = await bot.services.surveys.load_file(FORM_PATH, "cli", "1", "protection")
        assert loaded.survey is not None, loaded.errors
        survey_id = loaded.survey.id
        await bot.services.surveys.open(survey_id, AudienceFilter())
        bot.services.wake_delivery()
        form = example_form()

        def choice(list_name: str, name: str) -> str:
            return next(c.label("es") for c in form.choices(list_name) if c.name == name)

        await luis.press_data(await wait_for_start(luis, survey_id), f"v1:svy:s:{survey_id}")
        await luis.press(plain("es", "steps.continue"))
        await luis.press(plain("es", "steps.agree"))
        await luis.press(choice("country", "CA"))
        await luis.send(choice("region", "ON"))
        await luis.send("6")
        await luis.press(plain("es", "steps.skip"))
        await luis.press(choice("themes", "vote"))
        await luis.press(plain("es", "steps.done"))
        assert "Escribe tu respuesta (hasta 1000 caracteres)." in luis.last_text()
        await luis.send("x" * 1500)
        outgoing = [m.text or "" for m in luis.transcript() if m.direction == "out"]
        assert any(
            "Tu respuesta tiene 1500 caracteres; el máximo es 1000." in text
            for text in outgoing[-2:]
        ), outgoing[-2:]


async def test_a_long_proposal_is_told_its_length_and_the_limit(bot: BotUnderTest) -> None:
    texts = bot.services.texts
    await add_member(bot, ANA, "es", name="Ana")
    ana = Person(bot, ANA)
    await ana.send("/propose")
    await ana.press(texts.plain("es", "theme.protection"))
    assert "(de 3 a 2000 caracteres)" in ana.last_text()
    await ana.send("palabra " * 625)  # 5,000 characters on one line
    told = "\n".join(m.text or "" for m in ana.transcript()[-3:] if m.direction == "out")
    assert "Una propuesta tiene de 3 a 2000 caracteres; la tuya tiene 4999." in told, told
    assert "máximo 2000" not in told
    await ana.send("Un consulado móvil en Toronto")
    assert "Un consulado móvil en Toronto" in ana.last_text()


def test_reminder_hours_are_written_as_the_buttons_write_them() -> None:
    assert offsets_in_words((1440, 60), "en") == "24 h and 1 h"
    assert offsets_in_words((1440, 60), "es") == "24 h y 1 h"
    assert offsets_in_words((1440, 60), "fr") == "24 h et 1 h"
    assert offsets_in_words((90,), "en") == "1 h 30 min"
