"""One question count everywhere: the CLI, the invitation and /surveys (issue 20 item 3).

The count is the most questions a member can be asked: every row that stores an answer (consent
included), never notes, groups or metadata (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl
import pytest

from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person
from tests.test_surveys import FORM, add_member, cli, survey_bot

__all__ = ["survey_bot"]

NOT_ASKED = {"note", "begin_group", "end_group", "start", "end", "today", "deviceid"}


def askable_rows() -> int:
    """Counted from the sheet itself, not with the code under test."""
    sheet = openpyxl.load_workbook(FORM)["survey"]
    types = [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    return sum(1 for kind in types if kind.split()[0] not in NOT_ASKED)


async def test_cli_invitation_and_surveys_say_the_same_count(
    survey_bot: BotUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = survey_bot
    count = askable_rows()
    assert count > 1  # the example form: consent and the questions (one date is conditional)
    await add_member(bot, 880, "en")
    await add_member(bot, 881, "es")
    assert await cli(bot, tmp_path, "load", str(FORM)) == 0
    out = capsys.readouterr().out
    assert f"up to {count} questions (draft" in out
    survey_id = int(out.split("#")[1].split()[0])
    await bot.services.surveys.open(survey_id, AudienceFilter())

    ann, eva = Person(bot, 880), Person(bot, 881)
    for person, invited in ((ann, f"Up to {count} questions"), (eva, f"Hasta {count} preguntas")):
        for _ in range(50):  # invitations go out through the delivery queue
            if any(invited in (m.text or "") for m in person.transcript()):
                break
            await asyncio.sleep(0.1)
        assert any(invited in (m.text or "") for m in person.transcript()), invited
    await ann.send("/surveys")
    assert f"up to {count} questions" in ann.last_text()
    await eva.send("/surveys")
    assert f"hasta {count} preguntas" in eva.last_text()
    # Progress counts against the same number, however many the answers so far make relevant.
    await ann.press("Start")
    await ann.press("Continue")
    await ann.press("I agree")
    await ann.send("/surveys")
    assert f"1 answered of up to {count}" in ann.last_text()
