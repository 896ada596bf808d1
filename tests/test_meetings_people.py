"""Who comes, through chat: attendance by tapping names, check-in within the seats, the 1 h
reminder at the door, the link for confirmed seats only, Yes taken back, minutes, past meetings."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from bot.app import notice_renderers
from bot.clock import ManualClock
from storage.models import Meeting
from storage.notices import outbox_row
from tests.harness import BotUnderTest, Person, add_coordinator, add_member, notices
from tests.test_meetings_chat import (  # noqa: F401
    clock,
    documents,
    mbot,
    press_any,
    service_meeting,
    wait_for,
    wait_for_documents,
    year,
)

LINK = "https://meet.example.org/texas"


async def invited(bot: BotUnderTest, first: int, count: int, language: str = "es") -> list[Person]:
    """Members in Texas, each with their invitation in hand."""
    people = []
    for n in range(count):
        await add_member(bot, first + n, language)
        people.append(bot.person(first + n, f"Member {first + n}", language))
    return people


async def answer(bot: BotUnderTest, person: Person, label: str) -> None:
    await wait_for(bot, person.id, "Invitación")
    await press_any(person, label)


async def marisols_meeting(bot: BotUnderTest, year: int, **changes: object) -> Meeting:  # noqa: F811
    return await service_meeting(bot, year, by=await bot.store.actors.of(300), **changes)


def ics_event(data: bytes) -> tuple[str, dict[str, str]]:
    calendar = Calendar.from_ical(data)
    event = next(iter(calendar.walk("VEVENT")))
    return str(calendar["method"]), {key: str(value) for key, value in event.items()}


async def test_attendance_by_tapping_names_paged_and_searched(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    members = await invited(mbot, 400, 10)
    meeting = await marisols_meeting(mbot, year)
    for person in members:
        await answer(mbot, person, "Sí")
    walk_in = (await invited(mbot, 420, 1))[0]  # invited, never answered
    await add_member(mbot, 430, "es", region="CA", name="Fuera Delgrupo")  # not invited
    await marisol.send("/meetings")
    await press_any(marisol, "Respuestas y asistencia")
    screen = marisol.last()
    assert "página 1 de 2" in (screen.text or "")
    labels = [button["text"] for button in screen.buttons()]
    assert "⬜ Member 400 · Sí" in labels
    pseudonyms = [
        member.pseudonym
        for person in members
        if (member := await mbot.store.members.by_telegram_id(person.id)) is not None
    ]
    assert len(pseudonyms) == 10 and not any(
        p in " ".join(labels) + (screen.text or "") for p in pseudonyms
    )
    # Before the door opens a tap is refused with the reason.
    await marisol.press("Member 400")
    assert "30 minutos antes" in (marisol.callback_answer() or "")
    clock.set(meeting.start_at + timedelta(minutes=5))
    await marisol.press("Member 400")
    assert marisol.callback_answer() == "✋ Asistencia de Member 400 registrada."
    assert "✅ Member 400 · Sí" in marisol.buttons()
    # The next page, then a search by name that also finds the invited walk-in.
    await marisol.press("Siguiente")
    assert "página 2 de 2" in marisol.last_text()
    await marisol.send("member 42")
    assert "«member 42»: 1 encontrado." in marisol.last_text()
    await marisol.press("Member 420")
    assert "Member 420" in (marisol.callback_answer() or "")
    counts = await mbot.store.meetings.counts(meeting.id)
    assert counts.checked_in == 2 and counts.yes == 11
    walk_in_member = await mbot.store.members.by_telegram_id(walk_in.id)
    assert walk_in_member is not None
    rsvp = await mbot.store.meetings.rsvp_of(meeting.id, walk_in_member.id)
    assert rsvp is not None and rsvp.checked_in_by == await mbot.store.actors.of(300)
    # A tap again takes a mistaken mark back.
    await marisol.press("Member 420")
    assert "Se quitó la asistencia de Member 420" in (marisol.callback_answer() or "")
    assert (await mbot.store.meetings.counts(meeting.id)).checked_in == 1
    # A forged tap on someone not invited is refused, and nothing is written.
    outsider = await mbot.store.members.by_telegram_id(430)
    assert outsider is not None
    await marisol.press_data(
        marisol.last().message_id, f"v1:mtp:{meeting.id}:t:{outsider.id}:0", forge=True
    )
    assert "otro grupo" in (marisol.callback_answer() or "")
    assert await mbot.store.meetings.rsvp_of(meeting.id, outsider.id) is None
    await marisol.send("/cancel")
    assert "Lista cerrada" in marisol.last_text()


async def test_names_only_for_those_who_may_see_them(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    members = await invited(mbot, 400, 2)
    meeting = await marisols_meeting(mbot, year)
    await answer(mbot, members[0], "Sí")
    await add_member(mbot, 310, "es", username="sam")
    sam = mbot.person(310, "Sam", "es", username="sam")
    admin = mbot.person(9000, "Admin", "en")
    await admin.send("/grant @sam staff")
    await sam.send("/meetings")
    await press_any(sam, "Respuestas y asistencia")
    text = sam.last_text()
    assert f"Reunión #{meeting.id}: Sí 1" in text and "Los nombres solo los ven" in text
    assert "Member 400" not in text and not sam.last().buttons()
    # A forged tap from plain staff marks nobody.
    await sam.press_data(sam.last().message_id, f"v1:mtp:{meeting.id}:t:2:0", forge=True)
    assert (await mbot.store.meetings.counts(meeting.id)).checked_in == 0


async def test_check_in_never_goes_over_capacity(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    members = await invited(mbot, 400, 8)
    meeting = await marisols_meeting(mbot, year, capacity=5)
    for person in members[:7]:
        await answer(mbot, person, "Sí")  # five seats, two in line
    sixth = members[7]  # invited, never answered
    clock.set(meeting.start_at - timedelta(minutes=10))
    await sixth.send(meeting.checkin_code.lower()[:4] + " - " + meeting.checkin_code[4:])
    assert "está llena" in sixth.last_text() and "puesto 3" in sixth.last_text()
    second_in_line = members[6]
    await second_in_line.send("/meetings")
    await press_any(second_in_line, "Estoy aquí")
    assert "está llena" in second_in_line.last_text() and "puesto 2" in second_in_line.last_text()
    counts = await mbot.store.meetings.counts(meeting.id)
    assert (counts.yes, counts.checked_in, counts.waitlist) == (5, 0, 3)
    # A seat holder checks in; nobody over five, ever.
    await members[0].send(meeting.checkin_code)
    assert "Asistencia registrada" in members[0].last_text()
    counts = await mbot.store.meetings.counts(meeting.id)
    assert (counts.yes, counts.checked_in) == (5, 1)


async def test_a_walk_in_takes_a_free_seat(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    members = await invited(mbot, 400, 3)
    meeting = await marisols_meeting(mbot, year, capacity=2)
    await answer(mbot, members[0], "Sí")
    await answer(mbot, members[1], "Tal vez")
    clock.set(meeting.start_at)
    await members[1].send(meeting.checkin_code)  # Maybe, and a seat is free
    assert "Asistencia registrada" in members[1].last_text()
    await members[2].send(meeting.checkin_code)  # now full
    assert "está llena" in members[2].last_text()
    counts = await mbot.store.meetings.counts(meeting.id)
    assert (counts.yes, counts.maybe, counts.checked_in, counts.waitlist) == (2, 0, 1, 1)


async def test_the_one_hour_reminder_carries_the_code_and_im_here(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    kim, lea = await invited(mbot, 400, 2)
    meeting = await marisols_meeting(mbot, year, reminders="24h,1h")
    await answer(mbot, kim, "Sí")
    await answer(mbot, lea, "Sí")
    reminders = {r.offset_minutes: r for r in await mbot.store.meetings.reminders_of(meeting.id)}
    clock.set(meeting.start_at - timedelta(hours=24))
    await mbot.services.reminders.fire(reminders[1440].id)
    mbot.services.wake_delivery()
    day_before = (await wait_for(mbot, kim.id, "Recordatorio"))[0]
    assert meeting.checkin_code not in day_before
    clock.set(meeting.start_at - timedelta(hours=1))
    await mbot.services.reminders.fire(reminders[60].id)
    mbot.services.wake_delivery()
    hour_before = (await wait_for(mbot, kim.id, "Recordatorio", 2))[-1]
    assert f"el código {meeting.checkin_code}" in hour_before.replace("<code>", "").replace(
        "</code>", ""
    )
    clock.set(meeting.start_at - timedelta(minutes=5))
    await kim.press("Estoy aquí")
    assert "Asistencia registrada" in kim.last_text()
    # The code typed by hand: lower case, with spaces and a dash.
    code = meeting.checkin_code.lower()
    await wait_for(mbot, lea.id, "Recordatorio", 2)
    await lea.send(f" {code[:2]} {code[2:4]}-{code[4:]} ")
    assert "Asistencia registrada" in lea.last_text()
    assert (await mbot.store.meetings.counts(meeting.id)).checked_in == 2


async def test_with_a_capacity_the_link_goes_to_confirmed_seats_only(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    seat, line, maybe = await invited(mbot, 400, 3)
    meeting = await marisols_meeting(
        mbot, year, capacity=1, online_url=LINK, venue=None, reminders="1h"
    )
    invitation = (await wait_for(mbot, seat.id, "Invitación"))[0]
    assert LINK not in invitation and "lugar confirmado" in invitation
    await answer(mbot, seat, "Sí")
    assert LINK in notices(mbot, seat.id, "Te esperamos")[0]  # the Yes reply
    await wait_for_documents(mbot, seat.id, 1)
    assert ics_event(documents(mbot, seat.id)[0])[1].get("URL") == LINK
    await answer(mbot, line, "Sí")
    assert "lista de espera" in line.last_text() and LINK not in line.last_text()
    await answer(mbot, maybe, "Tal vez")
    # The calendar file asked for again from /meetings: no link without a seat.
    await line.send("/meetings")
    assert LINK not in line.last_text()
    await press_any(line, "Calendario")
    await wait_for_documents(mbot, line.id, 1)
    assert "URL" not in ics_event(documents(mbot, line.id)[0])[1]
    assert LINK not in ics_event(documents(mbot, line.id)[0])[1].get("DESCRIPTION", "")
    # Reminders: the seat gets the link, Maybe does not.
    reminder = (await mbot.store.meetings.reminders_of(meeting.id))[0]
    clock.set(meeting.start_at - timedelta(hours=1))
    await mbot.services.reminders.fire(reminder.id)
    mbot.services.wake_delivery()
    assert LINK in (await wait_for(mbot, seat.id, "Recordatorio"))[0]
    assert LINK not in (await wait_for(mbot, maybe.id, "Recordatorio"))[0]
    assert notices(mbot, line.id, "Recordatorio") == []


async def test_yes_then_no_from_meetings_cancels_the_calendar_entry(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    (ana,) = await invited(mbot, 400, 1)
    meeting = await marisols_meeting(mbot, year)
    await answer(mbot, ana, "Sí")
    await wait_for_documents(mbot, ana.id, 1)
    await ana.send("/meetings")
    card = ana.last()
    assert "Tu respuesta: Sí" in (card.text or "")
    await ana.press("No")
    redrawn = next(m for m in ana.transcript() if m.message_id == card.message_id)
    assert "Tu respuesta: No" in (redrawn.text or "")
    await wait_for_documents(mbot, ana.id, 2)
    method, event = ics_event(documents(mbot, ana.id)[-1])
    assert method == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["UID"] == ics_event(documents(mbot, ana.id)[0])[1]["UID"]
    assert (await mbot.store.meetings.get(meeting.id)).status == "scheduled"  # type: ignore[union-attr]


async def test_after_the_end_held_minutes_told_and_past_meetings_listed(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    came, said_no = await invited(mbot, 400, 2)
    meeting = await marisols_meeting(mbot, year)
    await answer(mbot, came, "Sí")
    await answer(mbot, said_no, "No")
    clock.set(meeting.start_at + timedelta(minutes=10))
    await came.send(meeting.checkin_code)
    clock.set(meeting.start_at + timedelta(hours=3))
    await marisol.send("/meetings")
    card = marisol.last()
    assert "Estado: realizada (sin actas todavía)" in (card.text or "")
    labels = [button["text"] for button in card.buttons()]
    assert not any("Cambiar hora" in label or "Cancelar" in label for label in labels)
    await press_any(marisol, "Agregar actas")
    await marisol.send("Acuerdos: segunda reunión en enero (2 < 3 & más).")
    told = (await wait_for(mbot, came.id, "Actas de"))[0]
    assert "Acuerdos: segunda reunión en enero (2 < 3 & más)." in told
    assert notices(mbot, said_no.id, "Actas de") == []
    await came.send("/meetings")
    assert notices(mbot, came.id, "Reuniones pasadas")
    past = came.last_text()
    assert "Estado: realizada" in past and "segunda" in past


async def test_the_capacity_alert_counts_the_share_right(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_coordinator(mbot, 300)
    first, second = await invited(mbot, 400, 2)
    await marisols_meeting(mbot, year, capacity=3)
    await answer(mbot, first, "Sí")
    await answer(mbot, second, "Sí")
    alert = (await wait_for(mbot, 300, "lugares confirmados"))[0]
    assert "2 de 3 lugares confirmados (67 %)" in alert


async def test_a_capacity_alert_overtaken_by_a_higher_one_is_not_sent(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    # Sent late (a busy outbox), the 50 % alert would show today's "3 of 3 (100 %)" beside the
    # 100 % one: the organiser would read the same alert twice.
    await add_coordinator(mbot, 300)
    people = await invited(mbot, 400, 3)
    meeting = await marisols_meeting(mbot, year, capacity=3)
    for person in people:
        await answer(mbot, person, "Sí")
    await wait_for(mbot, 300, "3 de 3 lugares confirmados (100 %)")
    rows = await mbot.store.database.fetch_all(
        "SELECT * FROM outbox WHERE kind = 'capacity_alert' AND ref = ? ORDER BY id", (meeting.id,)
    )
    assert [outbox_row(row).payload["level"] for row in rows] == [50, 100]
    renderer = notice_renderers(mbot.services)["capacity_alert"]
    overtaken, latest = [await renderer.render(outbox_row(row)) for row in rows]
    assert overtaken is None
    assert latest is not None and "3 de 3 lugares confirmados (100 %)" in latest.text
