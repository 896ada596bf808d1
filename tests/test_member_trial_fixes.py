"""What a members' trial in es/fr/en tripped on, as the member sees it in chat: the answers'
deadline in the member's own zone, a reminder after that deadline offering only what is still
accepted, and a survey whose leave button says that the answers are kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person, add_coordinator, add_member
from tests.test_meetings_chat import clock, mbot, service_meeting, wait_for, year  # noqa: F401
from tests.test_meetings_people import answer
from tests.test_surveys import FORM, cli, survey_bot  # noqa: F401
from tests.test_surveys import wait_for as survey_wait


async def test_the_deadline_is_in_the_members_zone_and_after_it_only_giving_up_is_offered(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    # El Paso keeps Mountain time, the meeting is on Houston's (Central) clock.
    await add_member(mbot, 410, "es", city="El Paso", time_zone="America/Denver")
    await add_member(mbot, 411, "fr", city="El Paso", time_zone="America/Denver")
    ana = mbot.person(410, "Ana", "es")
    meeting = await service_meeting(
        mbot,
        year,
        by=await mbot.store.actors.of(300),
        rsvp_deadline=f"{year}-12-04 18:00",
        reminders="12h",
    )
    invitation = (await wait_for(mbot, 410, "Invitación"))[0]
    # 18:00 in Houston is 17:00 in El Paso: one zone in one message.
    assert "5:00\u202fp.\u202fm., hora de las Montañas Rocosas" in invitation
    assert "hora central" not in invitation.split("Responde antes de")[-1]
    french = (await wait_for(mbot, 411, "Invitation"))[0]
    assert "17:00, heure des Rocheuses" in french or "17 h 00, heure des Rocheuses" in french
    await answer(mbot, ana, "Sí")
    reminder = (await mbot.store.meetings.reminders_of(meeting.id))[0]
    clock.set(meeting.start_at - timedelta(hours=12))  # past the deadline
    await mbot.services.reminders.fire(reminder.id)
    mbot.services.wake_delivery()
    await wait_for(mbot, 410, "Recordatorio")
    assert ana.buttons() == ["❌ Liberar mi lugar"]
    assert "El plazo para responder ya cerró" in ana.last_text()
    assert "¿Vas a asistir?" not in ana.last_text()
    await ana.press("Liberar mi lugar")
    counts = await mbot.store.meetings.counts(meeting.id)
    assert counts.yes == 0


async def test_leaving_a_survey_says_the_answers_are_kept_and_consent_names_its_button(
    survey_bot: BotUnderTest,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await add_member(survey_bot, 500, "es")
    assert await cli(survey_bot, tmp_path, "load", str(FORM)) == 0
    survey_id = int(capsys.readouterr().out.split("#")[1].split()[0])
    assert await cli(survey_bot, tmp_path, "open", str(survey_id)) == 0
    ana = Person(survey_bot, 500)
    await survey_wait(ana, "Nueva encuesta")
    await ana.press("Empezar")
    await ana.press("Continuar")
    # Typed text at the consent: the answer names the button that is there.
    await ana.send("ok")
    told = [m.text or "" for m in ana.transcript() if m.direction == "out"]
    assert "Toca «De acuerdo» para seguir." in told
    # Leaving keeps the answers, and the button says so rather than "Cancel".
    assert "⏸ Seguir más tarde" in ana.buttons()
    assert not [label for label in ana.buttons() if "Cancelar" in label]
    await ana.press("Seguir más tarde")
    assert "Tus respuestas están guardadas" in ana.last_text()


async def test_a_place_edit_left_halfway_keeps_the_member_where_they_live(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    await add_member(
        mbot, 420, "es", region="CA", city="Los Angeles", time_zone="America/Los_Angeles"
    )
    ana = mbot.person(420, "Ana", "es")
    await ana.send("/profile")
    await ana.press("Editar lugar")
    await ana.press("Canadá")  # and then she is called away
    halfway = await mbot.store.members.by_telegram_id(420)
    assert halfway is not None and halfway.country == "CA" and halfway.editing
    # Invited while halfway: still a Californian, on Pacific time.
    await service_meeting(
        mbot,
        year,
        by=await mbot.store.actors.of(300),
        audience=AudienceFilter(regions=("US-CA",)),
        venue="Los Angeles",
    )
    invitation = (await wait_for(mbot, 420, "Invitación"))[0]
    assert "8:00\u202fa.\u202fm., hora del Pacífico" in invitation
