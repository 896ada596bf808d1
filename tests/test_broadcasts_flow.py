"""/broadcast on the step engine: typed text reaches the draft over a list left open, buttons of
before the engine and of an earlier screen are refused politely, Send to nobody is refused; and
registration, whose place is the member row, answered through the same route as a flow."""

from __future__ import annotations

from bot.clock import ManualClock
from tests.harness import TOKEN, BotUnderTest, Person, add_coordinator, add_member
from tests.test_meetings_chat import (  # noqa: F401
    clock,
    mbot,
    press_any,
    service_meeting,
    year,
)


def _data(person: Person, message_id: int, label: str) -> str:
    """The data of the button with this label on that message."""
    message = next(m for m in person.transcript() if m.message_id == message_id)
    return str(next(b["callback_data"] for b in message.buttons() if label in b["text"]))


async def test_a_notice_typed_while_the_people_search_is_open_is_the_notice(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await add_member(mbot, 400, "es", name="Aviso Importante")
    meeting = await service_meeting(mbot, year, by=await mbot.store.actors.of(300))
    member = await mbot.services.registration.member(400)
    assert member is not None
    await mbot.services.meetings.rsvp(meeting.id, member, "yes")
    await marisol.send("/meetings")
    await press_any(marisol, "Respuestas y asistencia")
    # The list's name search is open: what she types is a name to look for.
    await marisol.send("aviso")
    assert "«aviso»: 1 encontrado." in marisol.last_text()
    # She starts a notice without closing the list: what she types now is the notice.
    await marisol.send("/broadcast")
    assert "Escribe el aviso en español" in marisol.last_text()
    await marisol.send("Aviso importante: la reunión empieza a las 10")
    assert marisol.last_text().startswith("Versiones del aviso")
    assert "encontrado" not in marisol.last_text()
    draft = await mbot.services.broadcasts.draft(await mbot.store.actors.of(300))
    assert draft is not None
    assert draft.texts == {"es": "Aviso importante: la reunión empieza a las 10"}
    # The list's search is over, and the draft waits for no text on its versions screen.
    assert await mbot.store.conversations.get(300) is None


async def test_buttons_of_before_the_engine_and_of_an_earlier_screen_are_no_longer_valid(
    bot: BotUnderTest,
) -> None:
    texts = bot.services.texts
    stale = texts.plain("es", "error.button_unknown")
    marisol = await add_coordinator(bot, 300)
    await marisol.send("/broadcast")
    await marisol.send("Texto del aviso")
    versions = marisol.last().message_id
    draft = await bot.services.broadcasts.draft(await bot.store.actors.of(300))
    assert draft is not None
    # A /broadcast screen kept in a chat from before (the classic ``bc`` buttons): a pop-up.
    for data in (f"v1:bc:lang:{draft.id}:en", f"v1:bc:send:{draft.id}", f"v1:bc:ack:{draft.id}"):
        await marisol.press_data(versions, data, forge=True)
        assert marisol.callback_answer() == stale, data
    assert await bot.store.broadcasts.recent(1) == []
    # A button of the versions screen, pressed once the screen has become the audience.
    add_english = _data(marisol, versions, "Agregar inglés")
    await marisol.press("Continuar")
    assert "Destinatarios ahora" in marisol.last_text()
    await marisol.press_data(versions, add_english, forge=True)
    assert marisol.callback_answer() == stale
    after = await bot.services.broadcasts.draft(await bot.store.actors.of(300))
    assert after is not None and after.texts == {"es": "Texto del aviso"}
    assert after.step == "audience"


async def test_send_to_nobody_is_refused_and_the_preview_stays(bot: BotUnderTest) -> None:
    await add_member(bot, 301, "es")
    marisol = await add_coordinator(bot, 300)
    await marisol.send("/broadcast")
    await marisol.send("Solo para administradores")
    await marisol.press("Continuar")
    await marisol.press("Rol")
    await marisol.press("admin")
    assert "☑️ admin" in marisol.buttons()
    await marisol.press("Volver a la audiencia")
    assert "Destinatarios ahora: 0" in marisol.last_text()
    await marisol.press("Continuar")
    preview = marisol.last_text()
    await marisol.press("Confirmar envío")
    assert marisol.callback_answer() == bot.services.texts.plain("es", "bc.no_recipients")
    assert marisol.last_text() == preview
    assert await bot.store.broadcasts.recent(1) == []
    # Cancel from the preview drops the draft and says so where the preview was.
    await marisol.press("Cancelar")
    assert "Aviso cancelado" in marisol.last_text()
    assert await bot.services.broadcasts.draft(await bot.store.actors.of(300)) is None


async def test_registration_is_answered_through_the_one_route_as_a_flow_is(
    bot: BotUnderTest,
) -> None:
    texts = bot.services.texts
    ana = bot.person(101, "Ana", "es", username="ana_la")
    await ana.send("/start")
    await ana.press("Español")
    await ana.press("Acepto")
    asked = ana.last_text()
    assert "¿Cómo quieres que te llamemos?" in asked
    # Not text (a file): refused in her language, and the same question asked again.
    update = bot.emulator.send_document(TOKEN, 101, "notas.txt", b"hola")
    await bot.processor.wait_done(update)
    assert ana.last_text().startswith("⚠️ " + texts.get("es", "error.text_expected"))
    assert asked in ana.last_text()
    # /cancel pauses, /start asks again, and what she types is the answer.
    await ana.send("/cancel")
    assert ana.last_text() == texts.get("es", "cancel.paused")
    await ana.send("/start")
    assert asked in ana.last_text()
    await ana.send("Ana")
    member = await bot.services.registration.member(101)
    assert member is not None and member.name == "Ana" and member.step != "name"
