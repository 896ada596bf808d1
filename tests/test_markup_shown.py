"""Data that looks like HTML reaches people exactly as written, once escaped, on every screen.

`&`, `<3` and quotes are what staff and members really write; shown as written they are right,
escaped twice they read `&amp;`, which the suite-wide guard in conftest.py fails on (MARK holds
no tag or entity, so nothing typed excuses it). The data comes from a form file, the config,
factories and chat; each screen is also checked to show it as written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl

from bot.clock import OffsetClock
from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member, bot_running, make_config
from tgemu import ChatMessage, Emulator

FORM = Path(__file__).resolve().parent.parent / "examples" / "consultation_round1.xlsx"
MARK = ' R&D <3 "q"'
TEXT_COLUMNS = ("label", "hint", "form_title")


def hostile_form(folder: Path) -> Path:
    """The example form with a little HTML-looking text after every title, label and hint."""
    book = openpyxl.load_workbook(FORM)
    for sheet in book:
        header = [str(cell.value or "") for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for column, cell in zip(header, row, strict=False):
                if column.startswith(TEXT_COLUMNS) and isinstance(cell.value, str):
                    cell.value += MARK
    path = folder / "hostile_round1.xlsx"
    book.save(path)
    return path


async def test_a_survey_with_html_looking_labels_reads_as_written(
    bot: BotUnderTest, tmp_path: Path
) -> None:
    await add_member(bot, 610, "es", country="CA", region="QC", time_zone="America/Toronto")
    ana = Person(bot, 610)
    plain = bot.services.texts.plain
    loaded = await bot.services.surveys.load_file(hostile_form(tmp_path), "cli", "1", "protection")
    assert loaded.survey is not None, loaded.errors
    assert await bot.services.surveys.open(loaded.survey.id, AudienceFilter()) == 1
    bot.services.wake_delivery()
    invitation = await _invitation(ana, f"v1:svy:s:{loaded.survey.id}")
    assert 'ronda 1 R&D <3 "q"' in (invitation.text or "")
    await ana.press_data(invitation.message_id, f"v1:svy:s:{loaded.survey.id}")
    await ana.press(plain("es", "steps.continue"))
    await ana.press(plain("es", "steps.agree"))
    assert ana.last_text().startswith('Tu situación R&D <3 "q"\n')  # a group heading
    await ana.press("Canadá")
    # The pressed question is closed with the choice and keeps its bold heading: the redraw
    # is built from the text and entities Telegram sends back with the press.
    closed = ana.transcript()[-2]
    assert (closed.html or "").startswith("<b>Tu situación R&amp;D &lt;3 &quot;q&quot;</b>\n")
    assert (closed.text or "").endswith('\n\n✔ Canadá R&D <3 "q"')
    await ana.press("Siguiente")  # every province, eight to a page
    await ana.press("Quebec")
    assert 'ni tu situación migratoria. R&D <3 "q"' in ana.last_text()  # a hint
    await ana.send("12")
    await ana.press(plain("es", "steps.skip"))
    await ana.press("Remesas")
    await ana.press(plain("es", "steps.done"))
    await ana.press(plain("es", "survey.button.use_default", value="3"))
    await ana.press(plain("es", "steps.skip"))
    await ana.press(plain("es", "steps.continue"))
    review = ana.last_text()
    assert review.startswith('Consulta de la diáspora — ronda 1 R&D <3 "q"\n')
    assert 'Remesas R&D <3 "q"' in review
    await ana.press("✏️ 4")
    await ana.send("13")
    await ana.press(plain("es", "survey.button.submit"))
    await ana.send("/surveys")
    assert 'ronda 1 R&D <3 "q"' in ana.last_text()


async def _invitation(person: Person, data: str) -> ChatMessage:
    """The message carrying this button, once the delivery worker sent it."""
    for _ in range(200):
        for message in person.transcript():
            if any(button.get("callback_data") == data for button in message.buttons()):
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with the button {data}")


CLAUSES = f"## C1 — Health{MARK}\n### es\nAcceso{MARK}\n### en\nAccess{MARK}\n### fr\nAccès{MARK}\n"


async def test_staff_screens_show_html_looking_data_as_written(
    emulator: Emulator, tmp_path: Path, running_clock: OffsetClock
) -> None:
    config = make_config(
        tmp_path / "consultbot.db",
        emulator.base_url(),
        admins={"user_ids": [9000]},
        programme={"name": f"Consulta{MARK}", "min_cell": 1},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as bot:
        await add_member(
            bot, 610, "es", country="CA", region="QC", time_zone="America/Toronto",
            name=f"Ana{MARK}", city=f"Lévis{MARK}",
        )  # fmt: skip
        await add_member(bot, 620, "en", username="sam", name=f"Sam{MARK}")
        ana, sam = Person(bot, 610), Person(bot, 620)
        admin = bot.person(9000, "Admin", "en")
        await admin.send("/grant @sam staff")
        assert admin.last_text() == f"Role staff granted to Sam{MARK}."
        await ana.send("/profile")
        assert f"Ana{MARK}\n" in ana.last_text() and f"Lévis{MARK}, Quebec" in ana.last_text()

        loaded = await bot.services.surveys.load_file(
            hostile_form(tmp_path), "cli", "1", "protection"
        )
        assert loaded.survey is not None, loaded.errors
        await bot.services.surveys.open(loaded.survey.id, AudienceFilter(countries=("CA",)))
        await answer_survey(bot, ana, loaded.survey.id)

        await sam.send("/results")
        await sam.press("Diaspora consultation")
        # Labels in the reader's language: Sam reads English, Ana answered in Spanish.
        assert f"  Remittances{MARK}: 1 (100 %)" in sam.last_text()
        await sam.press("By province/state")
        await sam.press("what we heard")
        await sam.press("Which themes")
        await sam.press("Done")
        await sam.press("Quebec (CA)")
        assert f"📣 What we heard — Diaspora consultation — round 1{MARK}\n" in sam.last_text()
        await sam.press("✅ Send")
        heard = await _message_with(ana, "Lo que escuchamos")
        assert (heard.text or "").startswith(f"📢 Aviso · Consulta{MARK}\n\n")

        await ana.send("/propose")
        await ana.press("Protección")
        await ana.send(f"Más consulados{MARK}")
        await ana.press("Enviar")
        await sam.send("/proposals")
        assert sam.last_text().endswith(f"\nMás consulados{MARK}")

        update = bot.emulator.send_document(TOKEN, 620, "draft.md", CLAUSES.encode())
        await bot.processor.wait_done(update)
        assert sam.last_text().startswith("✅ 1 clause loaded from draft.md.")
        await sam.send("/evidence")
        await sam.press(f"C1 — Access{MARK}")
        assert sam.last_text().startswith(f"C1 — Access{MARK}\n")
        await sam.press("Link evidence")
        await sam.press("Proposals")
        await sam.press("Protection")
        assert f"💡 “Más consulados{MARK}”" in sam.last_text()
        await sam.press("🔗 1")
        await sam.send(f"Note{MARK}")
        assert f"📝 Note{MARK}" in sam.last_text()

        await sam.send("/export")
        await sam.press("a row per submission")
        assert f"#{loaded.survey.id} Diaspora consultation — round 1{MARK}" in sam.buttons()
        await sam.press("Diaspora consultation")
        await sam.press("Everything")
        await sam.press("CSV")
        await sam.press("Labels")
        done = await _message_with(sam, "Done")
        assert "1 row in the file above" in (done.text or "")


async def answer_survey(bot: BotUnderTest, ana: Person, survey_id: int) -> None:
    """Ana (Spanish, in Quebec) answers the hostile example form and submits."""
    plain = bot.services.texts.plain
    bot.services.wake_delivery()
    invitation = await _invitation(ana, f"v1:svy:s:{survey_id}")
    await ana.press_data(invitation.message_id, f"v1:svy:s:{survey_id}")
    steps = (plain("es", "steps.continue"), plain("es", "steps.agree"), "Canadá", "Siguiente")
    for label in (*steps, "Quebec"):
        await ana.press(label)
    await ana.send("12")
    await ana.press(plain("es", "steps.skip"))
    await ana.press("Remesas")
    await ana.press(plain("es", "steps.done"))
    await ana.send("4")
    await ana.press(plain("es", "steps.skip"))
    await ana.press(plain("es", "steps.continue"))
    await ana.press(plain("es", "survey.button.submit"))


async def _message_with(person: Person, marker: str) -> ChatMessage:
    """The newest message holding marker, once it arrived (notices come from the outbox)."""
    for _ in range(200):
        for message in reversed(person.transcript()):
            if message.direction == "out" and marker in (message.text or ""):
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with {marker!r}")
