"""What trials tripped on: /start in the middle of a flow, the Yes that promised a calendar file,
command menus for every language, and a coordinator's cancel, empty list, counts and notices."""

from __future__ import annotations

from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, add_coordinator, add_member, wait_until_done
from tests.survey_fixture import FORM_PATH, example_form, wait_for_start
from tests.test_meetings_chat import (  # noqa: F401
    clock,
    documents,
    mbot,
    press_any,
    service_meeting,
    wait_for,
    year,
)

# ---- /start in the middle of a flow -------------------------------------------------------------


async def test_start_mid_survey_names_the_survey_and_asks_its_question_again(
    bot: BotUnderTest,
) -> None:
    await add_member(bot, 700, "en")
    loaded = await bot.services.surveys.load_file(FORM_PATH, "cli", "1")
    assert loaded.survey is not None, loaded.errors
    await bot.services.surveys.open(loaded.survey.id, AudienceFilter())
    john = bot.person(700, "John", "en")
    await john.press_data(await wait_for_start(john, loaded.survey.id), "v1:svy:s:1")
    plain = bot.services.texts.plain
    await john.press(plain("en", "steps.continue"))
    await john.press(plain("en", "steps.agree"))
    asked = john.last()
    replies = await john.send("/start")
    assert replies[0].text == (
        f"You were answering the survey “{example_form().title('en')}”. Here is where you left it:"
    )
    assert replies[-1].text == asked.text and replies[-1].buttons()
    assert "already registered" not in " ".join(m.text or "" for m in replies)
    country = next(c.label("en") for c in example_form().choices("country") if c.name == "US")
    await john.press(country)  # the question asked again takes the answer
    assert john.last().text != asked.text


async def test_start_mid_meeting_creation_and_mid_notice_says_what_waits(
    bot: BotUnderTest,
) -> None:
    marisol = await add_coordinator(bot)
    await marisol.send("/newmeeting")
    await marisol.press("Local")
    asked = marisol.last_text()
    replies = await marisol.send("/start")
    assert replies[0].text == "Estabas creando una reunión. Sigue donde la dejaste:"
    assert replies[-1].text == asked
    await marisol.send("/cancel")

    await marisol.send("/broadcast")
    replies = await marisol.send("/start")
    assert replies[0].text == "Estabas escribiendo un aviso. Sigue donde lo dejaste:"
    assert "Escribe el aviso en español" in (replies[-1].text or "")
    await marisol.send("Reunión el sábado.")
    await marisol.press("Continuar")
    audience = marisol.last_text()  # a screen of buttons: the draft waits, no typed text
    replies = await marisol.send("/start")
    assert replies[0].text == "Estabas escribiendo un aviso. Sigue donde lo dejaste:"
    assert replies[-1].text == audience and "Continuar ▸" in marisol.buttons()


async def test_start_with_nothing_waiting_welcomes_back(bot: BotUnderTest) -> None:
    await add_member(bot, 701, "es")
    luis = bot.person(701, "Luis", "es")
    await luis.send("/start")
    assert luis.last_text().startswith("¡Hola, Member 701! Ya estás registrado/a.")


# ---- the Yes and its calendar file --------------------------------------------------------------


async def test_a_yes_already_recorded_still_brings_the_promised_file(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_member(mbot, 710, "es")
    ana = mbot.person(710, "Ana", "es")
    meeting = await service_meeting(mbot, year)
    await wait_for(mbot, 710, "Invitación")
    # The press was taken before a kill; its reply (and the file) never left.
    member = await mbot.services.registration.member(710)
    assert member is not None
    await mbot.services.meetings.rsvp(meeting.id, member, "yes")
    await press_any(ana, "Sí")
    assert any("Te enviamos el archivo" in (m.text or "") for m in ana.transcript())
    assert len(documents(mbot, 710)) == 1
    await press_any(ana, "Sí")  # pressed again: the text promises the file again, and it comes
    assert len(documents(mbot, 710)) == 2


# ---- command menus ------------------------------------------------------------------------------


async def test_menus_for_any_language_the_admins_and_after_language(bot: BotUnderTest) -> None:
    texts = bot.services.texts
    commands = bot.emulator.bot(TOKEN).commands
    fallback = commands["default::"]  # Telegram in Portuguese, or with no language at all
    assert {"command": "deleteme", "description": texts.plain("es", "cmd.deleteme")} in fallback
    await add_member(bot, 9000, "fr")  # the configured admin is a member who reads French
    await bot.restart()
    admin_menu = bot.emulator.bot(TOKEN).commands["chat:9000:"]
    assert {"command": "grant", "description": texts.plain("fr", "cmd.grant")} in admin_menu

    await add_member(bot, 720, "es")
    luis = bot.person(720, "Luis", "es")
    await luis.send("/language")
    await luis.press("English")
    menu = bot.emulator.bot(TOKEN).commands["chat:720:"]
    assert {"command": "profile", "description": texts.plain("en", "cmd.profile")} in menu
    assert "grant" not in {c["command"] for c in menu}


# ---- a coordinator's words ----------------------------------------------------------------------


async def test_cancel_can_be_taken_back_and_counts_without_capacity(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    meeting = await service_meeting(mbot, year, by=await mbot.store.actors.of(300))
    await service_meeting(mbot, year, by=await mbot.store.actors.of(300), capacity=5)
    await marisol.send("/meetings")
    cards = [m.text or "" for m in marisol.transcript() if "Código de asistencia" in (m.text or "")]
    assert any("Sí 0 ·" in card for card in cards) and any("Sí 0/5 ·" in card for card in cards)
    assert not any("∞" in card for card in cards)
    await press_any(marisol, "Cancelar reunión")
    assert marisol.buttons() == ["🚫 Sí, cancelar y avisar", "◂ No, mantenerla"]
    await marisol.press("No, mantenerla")
    assert marisol.callback_answer() == "La reunión sigue en pie."
    card = marisol.last()
    assert "Código de asistencia" in (card.text or "")
    assert any("Cancelar reunión" in b["text"] for b in card.buttons())
    kept = await mbot.store.meetings.get(meeting.id)
    assert kept is not None and kept.status == "scheduled"


async def test_empty_meetings_points_organisers_to_newmeeting(bot: BotUnderTest) -> None:
    marisol = await add_coordinator(bot)
    await marisol.send("/meetings")
    assert marisol.last_text() == "No tienes reuniones próximas. Crea una con /newmeeting."
    await add_member(bot, 730, "es")
    luis = bot.person(730, "Luis", "es")
    await luis.send("/meetings")
    assert luis.last_text() == "No tienes reuniones próximas."


async def test_notice_header_is_in_each_members_language(bot: BotUnderTest) -> None:
    await add_member(bot, 741, "en")
    await add_member(bot, 742, "fr")
    marisol = await add_coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send("Reunión el sábado.")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    assert "📢 Aviso · Consulta a la diáspora" in marisol.last_text()  # the preview
    await marisol.press("Confirmar envío")
    broadcast = (await bot.store.broadcasts.recent(1))[0]
    await wait_until_done(bot, broadcast.id)
    for telegram_id, header in ((741, "📢 Notice"), (742, "📢 Avis"), (300, "📢 Aviso")):
        chat = bot.emulator.bot(TOKEN).chats[telegram_id]
        texts = [m.text or "" for m in chat.messages.values() if m.direction == "out"]
        assert f"{header} · Consulta a la diáspora\n\nReunión el sábado." in texts, texts
