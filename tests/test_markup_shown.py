"""Data that looks like HTML reaches people exactly as written, once escaped, on every screen.

`&`, `<3` and quotes are what staff and members really write; shown literally they are right,
escaped twice they read `&amp;` — which the suite-wide guard in conftest.py fails on. Here the
data comes from files and factories (not typed in chat), so the guard excuses none of it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl

from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person, add_member
from tgemu import ChatMessage

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
    await ana.press("Quebec")
    assert 'En años completos. R&D <3 "q"' in ana.last_text()  # a hint
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
