"""What a members' trial read wrong, as the member sees it in chat: French colons and articles, no
double period after a time, the province question's example from the member's own country, page
buttons told apart from Back, a typed city at the time-zone step, numbers and dates in the review
in the member's language, the review's hint naming its button, an online meeting's check-in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from tests.harness import BotUnderTest, Person, add_member
from tests.test_meetings_chat import clock, mbot, service_meeting, wait_for, year  # noqa: F401
from tests.test_meetings_people import answer
from tests.test_registration import _begin
from tests.test_surveys import FORM, cli, survey_bot  # noqa: F401
from tests.test_surveys import add_member as add_canadian
from tests.test_surveys import wait_for as survey_wait


async def test_a_french_profile_puts_a_space_before_each_colon(bot: BotUnderTest) -> None:
    await add_member(bot, 801, "fr", name="Carlos", country="CA", region="QC", city="Montréal")
    carlos = bot.person(801, "Carlos", "fr")
    await carlos.send("/profile")
    lines = carlos.last_text().splitlines()
    assert "Nom : Carlos" in lines and "Lieu : Montréal, Québec (Canada)" in lines
    assert not [line for line in lines if line.split(":")[0][-1:].isalpha()]
    await add_member(bot, 802, "es", name="Ana")
    ana = bot.person(802, "Ana", "es")
    await ana.send("/profile")
    assert "Nombre: Ana" in ana.last_text().splitlines()


async def test_the_province_question_gives_an_example_from_the_members_country(
    bot: BotUnderTest,
) -> None:
    rosa = bot.person(811, "Rosa", "es")
    await _begin(rosa, "Español", "Acepto")
    await rosa.send("Rosa")
    await rosa.press("Canadá")
    assert "(por ejemplo, ON)" in rosa.last_text() and "TX" not in rosa.last_text()
    await rosa.send("Narnia")
    assert "(por ejemplo, ON o QC)" in rosa.last_text() and "TX" not in rosa.last_text()
    sam = bot.person(812, "Sam", "en")
    await _begin(sam, "English", "I agree")
    await sam.send("Sam")
    await sam.press("United States")
    assert "(for example, TX)" in sam.last_text()
    # The page buttons say "page"; Back is a step back, and reads differently.
    assert "Next page ▸" in sam.buttons() and "◂ Back" in sam.buttons()
    await sam.press("Next page ▸")
    assert "◂ Previous page" in sam.buttons() and "◂ Back" in sam.buttons()


async def test_a_typed_city_of_a_zone_button_chooses_that_zone(bot: BotUnderTest) -> None:
    luis = bot.person(821, "Luis", "es")
    await _begin(luis, "Español", "Acepto")
    await luis.send("Luis")
    await luis.press("Estados Unidos")
    await luis.send("Texas")
    await luis.send("El Paso")
    assert "En Texas hay más de una zona horaria" in luis.last_text()
    await luis.send("el paso")  # the city of one button, case and accents aside
    member = await bot.services.registration.member(821)
    assert member is not None and member.time_zone == "America/Denver"
    assert "asociación" in luis.last_text().lower()
    marie = bot.person(822, "Marie", "fr")
    await _begin(marie, "Français", "J'accepte")
    await marie.send("Marie")
    await marie.press("États-Unis")
    await marie.send("Texas")
    await marie.send("Houston")
    await marie.send("Ciudad Juárez")  # no button's city: the buttons are asked for
    assert marie.last_text().startswith("⚠️")
    await marie.send("HOUSTON")
    member = await bot.services.registration.member(822)
    assert member is not None and member.time_zone == "America/Chicago"


async def test_french_meeting_texts_name_the_meeting_with_its_article(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_member(mbot, 831, "fr")
    await add_member(mbot, 832, "fr")
    await add_member(mbot, 833, "es")
    first, second = mbot.person(831, "Marie", "fr"), mbot.person(832, "Paul", "fr")
    titles = {"es": "Taller de Texas", "en": "Texas workshop", "fr": "Atelier du Texas"}
    await service_meeting(mbot, year, titles=titles, capacity=1)
    for person in (first, second):
        await wait_for(mbot, person.id, "Invitation")
        await person.press("Oui")
    assert "La réunion « Atelier du Texas » est complète" in second.last_text()
    await first.press("Non")
    await wait_for(mbot, 831, "vous ne participerez pas à la réunion « Atelier du Texas »")
    luis = mbot.person(833, "Luis", "es")
    await answer(mbot, luis, "No")
    await wait_for(mbot, 833, "no asistirás a la reunión Taller de Texas")


async def test_an_online_meetings_last_reminder_does_not_speak_of_arriving(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_member(mbot, 841, "es")
    ana = mbot.person(841, "Ana", "es")
    meeting = await service_meeting(
        mbot,
        year,
        venue=None,
        online_url="https://meet.example.org/tx",
        start=f"{year}-11-28 11:00",
        reminders="1h",
    )
    await answer(mbot, ana, "Sí")
    reminder = (await mbot.store.meetings.reminders_of(meeting.id))[0]
    clock.set(meeting.start_at - timedelta(minutes=50))
    await mbot.services.reminders.fire(reminder.id)
    mbot.services.wake_delivery()
    (text,) = await wait_for(mbot, 841, "Recordatorio")
    assert "Al llegar" not in text
    assert (
        f"Cuando te conectes, toca «✋ Estoy aquí» o escribe el código {meeting.checkin_code}"
        in (text)
    )
    assert "✋ Estoy aquí" in ana.buttons()


async def _to_review(person: Person, language: str, bot: BotUnderTest) -> str:
    """Answer the example form up to its review: a date typed d/m/y and a decimal with a comma."""
    plain = bot.services.texts.plain
    await person.press({"es": "Empezar", "fr": "Commencer", "en": "Start"}[language])
    await person.press(plain(language, "steps.continue"))
    await person.press(plain(language, "steps.agree"))
    await person.press("Canad")
    await person.send("Québec" if language == "fr" else "Quebec")
    await person.send("12")
    await person.send("15/03/2019")
    await person.press(
        {"es": "Servicios consulares", "fr": "Services consulaires", "en": "Consular"}[language]
    )
    await person.press(plain(language, "steps.done"))
    await person.press(plain(language, "survey.button.use_default", value="3"))
    await person.send("12,5")
    await person.press(plain(language, "steps.continue"))
    return person.last_text()


async def test_the_review_shows_numbers_and_dates_as_the_member_writes_them(
    survey_bot: BotUnderTest,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot = survey_bot
    await add_canadian(bot, 851, "es")
    await add_canadian(bot, 852, "fr")
    assert await cli(bot, tmp_path, "load", str(FORM), "--round", "1") == 0
    survey_id = int(capsys.readouterr().out.split("#")[1].split()[0])
    opened = await cli(
        bot, tmp_path, "open", str(survey_id), "--country", "CA",
        "--closes", "2099-12-20 18:00", "--zone", "America/Toronto",
    )  # fmt: skip
    assert opened == 0
    ana, marie = Person(bot, 851), Person(bot, 852)
    invite = await survey_wait(ana, "Nueva encuesta")
    # The time ends in "p. m.": no second period after it.
    assert "Puedes responder hasta el 20 dic 2099, 6:00\u202fp.\u202fm." in invite
    assert "m.." not in invite
    await survey_wait(marie, "Nouveau questionnaire")

    review = await _to_review(ana, "es", bot)
    # El Salvador writes a decimal point (es_SV); the date is in words, never ISO.
    assert "15 de marzo de 2019" in review and "2019-03-15" not in review
    assert "\n    12.5\n" in review or review.rstrip().count("12.5") == 1
    assert "luego «Enviar»." in review
    review = await _to_review(marie, "fr", bot)
    assert "15 mars 2019" in review and "12,5" in review and "12.5" not in review

    await ana.press("✅ Enviar")
    record = await bot.store.record.of_survey(survey_id)
    stored = {entry.question: entry.value for entry in record}
    assert stored["remittance_share"] == "12.5" and "2019-03-15" in stored.values()
    # Back to the review after a first submission: the button and the hint say "send changes".
    await ana.send("/surveys")
    await ana.press(ana.buttons()[0])
    if "Enviar cambios" not in " ".join(ana.buttons()):
        await ana.press(bot.services.texts.plain("es", "survey.button.review"))
    assert "✅ Enviar cambios" in ana.buttons()
    assert "luego «Enviar cambios»." in ana.last_text()


async def test_meetings_before_registering_points_to_start(bot: BotUnderTest) -> None:
    stranger = bot.person(7801, "Nadie", "es")
    await stranger.send("/meetings")
    assert "/start" in stranger.last_text()
    assert "No tienes reuniones" not in stranger.last_text()
