"""How a flow plugs in (`bot.flows.register`), and what a person meets because of it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from telegram import Message

from bot import flows
from bot.app import build_application
from bot.context import BotContext
from bot.flows.steps import Step, StepFlow, StepList
from bot.updates import PerChatUpdateProcessor
from storage.models import Conversation
from tests.harness import TOKEN, BotUnderTest, add_coordinator, make_config
from tests.test_meetings_chat import press_any, service_meeting


async def _done(message: Message, context: BotContext, conversation: Conversation) -> None:
    """A flow's end that the name tests never reach."""


def _flow(name: str) -> flows.Flow:
    steps = StepList([Step("only", "text", question=lambda view: "?", parse=lambda raw, v: raw)])
    return flows.Flow(StepFlow(name, steps, _done))


def _application(tmp_path: Path) -> object:
    config = make_config(tmp_path / "flows.db", "http://127.0.0.1:9")
    return build_application(config, PerChatUpdateProcessor())


def test_every_flow_of_the_bot_registers_and_a_new_short_name_is_taken(tmp_path: Path) -> None:
    application = _application(tmp_path)
    flows.register(application, _flow("topic"))  # type: ignore[arg-type]
    assert "topic" in application.bot_data.flows  # type: ignore[attr-defined]
    assert {"propose", "export", "svq", "mtgact", "newmtg"} <= set(
        application.bot_data.flows  # type: ignore[attr-defined]
    )


def test_a_flow_name_too_long_for_its_buttons_is_refused_at_start_up(tmp_path: Path) -> None:
    application = _application(tmp_path)
    with pytest.raises(flows.FlowNameError, match="does not fit the button format"):
        flows.register(application, _flow("meeting_topics"))  # type: ignore[arg-type]
    with pytest.raises(flows.FlowNameError, match="does not fit"):
        flows.register(application, _flow("Topic-1"))  # type: ignore[arg-type]
    assert "meeting_topics" not in application.bot_data.flows  # type: ignore[attr-defined]


def test_a_flow_name_another_flow_answers_to_is_refused(tmp_path: Path) -> None:
    application = _application(tmp_path)
    # A step flow's name, registration's (its buttons only) and a classic flow's (/meetings).
    for taken in ("propose", "reg", "mtg"):
        with pytest.raises(flows.FlowNameError, match="already taken"):
            flows.register(application, _flow(taken))  # type: ignore[arg-type]


async def test_after_a_crash_mid_meeting_action_the_organiser_is_asked_again(
    bot: BotUnderTest, database: Path
) -> None:
    year = bot.services.clock.now().year + 1
    marisol = await add_coordinator(bot, 330)
    await service_meeting(bot, year, by=await bot.store.actors.of(330))
    await marisol.send("/meetings")
    await press_any(marisol, "Cambiar hora")
    asked = marisol.last_text()
    assert "Nueva fecha y hora" in asked
    state = bot.emulator.bot(TOKEN)
    pressed = max(state.history)
    conversation = await bot.store.conversations.get(330)
    assert conversation is not None and conversation.flow == "mtgact"
    await bot.stop()
    # The crash came after the press moved her into the action but before the question went
    # out: the update is still in the inbox, unhandled, and her conversation carries it.
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE inbox SET handled_at = NULL, payload = ? WHERE update_id = ?",
            (json.dumps(state.history[pressed]), pressed),
        )
        db.execute(
            "UPDATE conversations SET last_update_id = ? WHERE telegram_id = 330", (pressed,)
        )
    before = len([m for m in marisol.transcript() if m.direction == "out"])
    await bot.start()
    await bot.processor.wait_done(pressed)
    sent = [m for m in marisol.transcript() if m.direction == "out"]
    assert len(sent) == before + 1
    assert sent[-1].text == asked
    # And what she types now is the new time, as if nothing had happened.
    await marisol.send(f"{year}-12-05 11:00")
    await marisol.press("Cambiar y avisar")  # the new time said back, confirmed
    assert "movida" in marisol.last_text()


async def test_typed_text_goes_to_the_draft_waiting_for_it_and_otherwise_to_the_code(
    bot: BotUnderTest,
) -> None:
    year = bot.services.clock.now().year + 1
    marisol = await add_coordinator(bot, 340)
    meeting = await service_meeting(bot, year, by=await bot.store.actors.of(340))
    code = meeting.checkin_code
    # Composing a notice: the code-shaped text is the notice, not a check-in.
    await marisol.send("/broadcast")
    assert "Escribe el aviso" in marisol.last_text()
    await marisol.send(code)
    assert marisol.last_text().startswith("Versiones del aviso")
    draft = await bot.services.broadcasts.draft(await bot.store.actors.of(340))
    assert draft is not None and draft.texts == {"es": code}
    # A filter typed after a press: the draft waits again, and takes it.
    await marisol.press("Continuar")
    await marisol.press("Provincia/estado")
    await marisol.send("TX")
    draft = await bot.services.broadcasts.draft(await bot.store.actors.of(340))
    assert draft is not None and draft.audience.regions == ("US-TX",)
    assert await bot.store.conversations.get(340) is None  # nothing waits for text now
    await marisol.send("/cancel")
    assert await bot.services.broadcasts.draft(await bot.store.actors.of(340)) is None
    # Nothing waits for text: the same code is her check-in code.
    await marisol.send(code)
    assert not marisol.last_text().startswith("Versiones del aviso")
    assert code not in marisol.last_text() or "código" in marisol.last_text()


async def test_a_notice_begun_mid_flow_takes_the_text_typed_next(bot: BotUnderTest) -> None:
    marisol = await add_coordinator(bot, 350)
    await marisol.send("/propose")
    assert (await bot.store.conversations.get(350)).flow == "propose"  # type: ignore[union-attr]
    # She leaves the proposal for a notice: what she types now is the notice, as she was asked.
    await marisol.send("/broadcast")
    await marisol.send("Reunión el sábado")
    assert marisol.last_text().startswith("Versiones del aviso")
    draft = await bot.services.broadcasts.draft(await bot.store.actors.of(350))
    assert draft is not None and draft.texts == {"es": "Reunión el sábado"}
