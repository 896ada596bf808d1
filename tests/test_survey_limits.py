"""A multiple choice over the form's limit is refused before it is shown taken (issue 20)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member, bot_running, make_config
from tests.hostile_files import Rows, form_xlsx
from tgemu import Emulator

ADMIN = 9000


@pytest.fixture
async def staffed(
    emulator: Emulator, database: Path, running_clock: OffsetClock
) -> AsyncIterator[BotUnderTest]:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, running_clock) as running:
        running.person(ADMIN, "Admin", "es")
        yield running


def priorities_form() -> dict[str, Rows]:
    """Choose at most two priorities, then a note."""
    choices: list[dict[str, object]] = [
        {"list_name": "prio", "name": name, "label": label}
        for name, label in (("vote", "Voto"), ("consul", "Consulados"), ("remit", "Remesas"))
    ]
    survey: list[dict[str, object]] = [
        {
            "type": "select_multiple prio",
            "name": "prio",
            "label": "¿Tus prioridades?",
            "constraint": "count-selected(.) <= 2",
            "constraint_message": "Elige como máximo 2",
        },
        {"type": "note", "name": "bye", "label": "Gracias por responder"},
    ]
    return {"survey": survey, "choices": choices, "settings": [{"form_id": "prio", "version": "1"}]}


async def test_three_ticks_where_two_are_allowed_are_refused_before_any_tick_is_shown(
    staffed: BotUnderTest,
) -> None:
    bot = staffed
    member_id = await add_member(bot, 611, "es")
    admin = Person(bot, ADMIN)
    update = bot.emulator.send_document(TOKEN, ADMIN, "prio.xlsx", form_xlsx(priorities_form()))
    await bot.processor.wait_done(update, timeout=60)
    survey_id = int(admin.last_text().split("#")[1].split()[0].strip(".,:"))
    await bot.services.surveys.open(survey_id, AudienceFilter())

    eva = Person(bot, 611)
    await eva.send("/surveys")
    await eva.press("Empezar")
    question = eva.last()
    for label in ("Voto", "Consulados", "Remesas"):
        await eva.press(label)
    await eva.press("Listo")
    # The reason comes with the press; the question stays open with its ticks, never "✔".
    assert eva.callback_answer() == "⚠️ Elige como máximo 2"
    now = next(m for m in eva.transcript() if m.message_id == question.message_id)
    assert "✔" not in (now.text or "") and all("✔" not in (t or "") for t, _ in now.earlier)
    assert "☑️ Remesas" in [b["text"] for b in now.buttons()]
    assert "prio" not in await bot.services.surveys.answers(survey_id, member_id)

    await eva.press("Remesas")  # untick one: now within the limit
    await eva.press("Listo")
    now = next(m for m in eva.transcript() if m.message_id == question.message_id)
    assert "✔ Voto, Consulados" in (now.text or "") and now.buttons() == []
    assert "Gracias por responder" in eva.last_text()
    stored = await bot.services.surveys.answers(survey_id, member_id)
    assert stored["prio"].value == "vote consul"
