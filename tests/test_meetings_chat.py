"""Meetings through the emulator: Marisol creates in chat, members answer, organisers manage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.clock import ManualClock
from bot.delivery.reminders import SWEEP_SECONDS, ReminderScheduler
from bot.services.meetings import MeetingRequest
from storage.models import AudienceFilter, DeliveryCounts, Meeting
from tests.harness import (
    TOKEN,
    BotUnderTest,
    Person,
    add_coordinator,
    add_member,
    bot_running,
    make_config,
    notices,
)
from tgemu import Emulator


@pytest.fixture
def year(clock_years: int) -> int:
    """The year these meetings happen in: 2026, or as far from it as `--clock-years` says."""
    return 2026 + clock_years


@pytest.fixture
def clock(year: int) -> ManualClock:
    return ManualClock(datetime(year, 11, 28, 15, 0, tzinfo=UTC))


@pytest.fixture
async def mbot(
    emulator: Emulator, database: Path, clock: ManualClock
) -> AsyncIterator[BotUnderTest]:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config, clock) as running:
        yield running


def tick(bot: BotUnderTest) -> None:
    """Let a manual clock move on, so notices the worker paced for a little later come due."""
    if isinstance(bot.clock, ManualClock):
        bot.clock.advance(timedelta(milliseconds=100))


async def wait_for(bot: BotUnderTest, telegram_id: int, marker: str, count: int = 1) -> list[str]:
    """The bot's messages to this person containing the marker, once there are `count`."""
    for _ in range(200):
        found = notices(bot, telegram_id, marker)
        if len(found) >= count:
            return found
        tick(bot)
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{telegram_id} never got {count} x {marker!r}: {notices(bot, telegram_id, '')}"
    )


def documents(bot: BotUnderTest, telegram_id: int) -> list[bytes]:
    state = bot.emulator.bot(TOKEN)
    chat = state.chats.get(telegram_id)
    if chat is None:
        return []
    return [
        state.files[m.document["file_id"]][1]
        for m in chat.messages.values()
        if m.direction == "out" and m.document is not None
    ]


async def press_any(person: Person, label: str) -> None:
    """Press the newest button with this label, on whichever of the recent messages shows it."""
    for message in reversed(person.transcript()):
        for button in message.buttons() if message.direction == "out" else []:
            if label.casefold() in button["text"].casefold():
                await person.press_data(message.message_id, button["callback_data"])
                return
    raise AssertionError(f"no button {label!r}")


async def people(bot: BotUnderTest) -> tuple[Person, Person, Person]:
    """Marisol (Houston, coordinator), Ana (Los Angeles, en), Jean (El Paso, Mountain, fr)."""
    marisol = await add_coordinator(bot, 300)
    await add_member(
        bot,
        301,
        "en",
        region="CA",
        city="Los Angeles",
        time_zone="America/Los_Angeles",
        username="ana",
    )
    await add_member(bot, 302, "fr", region="TX", city="El Paso", time_zone="America/Denver")
    return marisol, bot.person(301, "Ana", "en", "ana"), bot.person(302, "Jean", "fr")


async def create_texas_in_chat(marisol: Person, year: int) -> None:
    await marisol.send("/newmeeting")
    await marisol.press("Local")
    await marisol.send("Reunión de Texas")
    await marisol.press("Omitir")
    await marisol.press("Mantener")
    await marisol.send(f"{year}-12-05 10:00")
    await marisol.press("90 min")
    await marisol.press("Omitir")  # no link
    await marisol.send("Centro comunitario, Houston")
    await marisol.send("1")
    await marisol.press("Omitir")  # no deadline
    await marisol.press("24 h y 1 h")
    # Her own state and city are one press away; she types two states instead.
    assert {"📍 US-TX", "📍 Houston"} <= set(marisol.buttons())
    await marisol.send("US-TX, US-CA")


async def only_meeting(bot: BotUnderTest) -> Meeting:
    meetings = await bot.store.meetings.listing()
    assert len(meetings) == 1
    return meetings[0]


async def test_marisol_creates_in_chat_and_members_answer(
    mbot: BotUnderTest, clock: ManualClock, year: int
) -> None:
    marisol, ana, jean = await people(mbot)
    await create_texas_in_chat(marisol, year)
    preview = marisol.last_text()
    assert "Vista previa" in preview and "sábado, 5 de diciembre, 10:00\u202fa.\u202fm." in preview
    # Ana and Jean: Marisol organises, she is not counted among those invited.
    assert "2 miembros" in preview.replace("<b>", "").replace("</b>", "")
    assert "Recordatorios: 24 h y 1 h antes" in preview
    assert await mbot.store.meetings.listing() == []  # nothing before the confirm
    # A typo fixed from the preview: back to the same screen, still nothing written.
    await marisol.press("Fecha y hora")
    await marisol.send(f"{year}-13-05 10:00")
    reason = marisol.transcript()[-2].text or ""  # the reason, then the question
    assert reason.startswith("⚠️ No entendemos esa fecha y hora")
    await marisol.send(f"{year}-12-05 10:00")
    assert "Vista previa" in marisol.last_text()
    await marisol.press("Crear e invitar")
    assert notices(mbot, 300, "creada")
    meeting = await only_meeting(mbot)
    assert meeting.start_at == datetime(year, 12, 5, 16, 0, tzinfo=UTC)
    assert meeting.zone == "America/Chicago" and meeting.capacity == 1

    ana_invite = (await wait_for(mbot, 301, "Invitation"))[0]
    assert "Saturday, December 5, 8:00\u202fAM, Pacific Time" in ana_invite
    assert "Houston" in ana_invite or "Chicago" in ana_invite
    jean_invite = (await wait_for(mbot, 302, "Invitation"))[0]
    assert "samedi 5 décembre à 09 h 00, heure des Rocheuses" in jean_invite

    # Capacity 1: Jean's Yes takes the seat (with the .ics), Ana waits first in line.
    await jean.press("Oui")
    assert "C'est noté" in (await wait_for(mbot, 302, "C'est noté"))[0]
    await wait_for_documents(mbot, 302, 1)
    calendar = Calendar.from_ical(documents(mbot, 302)[0])
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("dtstart").astimezone(UTC) == meeting.start_at
    uid = str(event["uid"])
    await ana.press("Yes")
    assert "waiting list, number 1" in ana.last_text()
    assert documents(mbot, 301) == []
    # Jean says No: Ana is promoted and told.
    await jean.press("Non")
    await wait_for(mbot, 301, "A seat opened up")
    rsvp = await mbot.store.meetings.rsvp_of(meeting.id, 2)
    assert rsvp is not None and rsvp.confirmed

    # Marisol reschedules from /meetings: SEQUENCE grows, Ana gets the new time and a new .ics.
    await marisol.send("/meetings")
    await press_any(marisol, "Cambiar hora")
    await marisol.send(f"{year}-12-05 11:00")
    await marisol.press("Cambiar y avisar")  # the new time said back, confirmed
    assert "movida" in marisol.last_text()
    moved = await only_meeting(mbot)
    assert moved.sequence == meeting.sequence + 1
    assert moved.start_at == datetime(year, 12, 5, 17, 0, tzinfo=UTC)
    assert "9:00\u202fAM" in (await wait_for(mbot, 301, "New date or time"))[0]
    await wait_for_documents(mbot, 301, 2)
    updated = next(iter(Calendar.from_ical(documents(mbot, 301)[-1]).walk("VEVENT")))
    assert str(updated["uid"]) == uid and updated.decoded("sequence") == moved.sequence

    # A notice to those coming, composed like any /broadcast: Ana (Yes) gets it, Jean (No) not.
    await marisol.send("/meetings")
    await press_any(marisol, "Aviso a quienes vienen")
    await marisol.send("Traigan sus documentos consulares.")
    await marisol.press("Continuar")
    assert f"reunión #{meeting.id}: Sí" in marisol.last_text()
    await marisol.press("Continuar")
    assert "Destinatarios: 1" in marisol.last_text()
    await marisol.press("Confirmar envío")
    await wait_for(mbot, 301, "documentos consulares")
    assert notices(mbot, 302, "documentos consulares") == []

    # Check-in by typing the code, during the window.
    clock.set(moved.start_at - timedelta(minutes=10))
    await ana.send(moved.checkin_code.lower())
    assert "Checked in" in ana.last_text()
    assert (await mbot.store.meetings.counts(moved.id)).checked_in == 1

    # Afterwards: minutes attached from chat.
    clock.set(moved.start_at + timedelta(hours=2))
    await marisol.send("/meetings")
    await press_any(marisol, "Agregar actas")
    await marisol.send("Acuerdos: segunda reunión en enero.")
    assert "Actas agregadas" in marisol.last_text()
    done = await only_meeting(mbot)
    assert done.minutes == "Acuerdos: segunda reunión en enero." and done.status == "done"


async def wait_for_documents(bot: BotUnderTest, telegram_id: int, count: int) -> None:
    for _ in range(200):
        if len(documents(bot, telegram_id)) >= count:
            return
        tick(bot)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{telegram_id} has {len(documents(bot, telegram_id))} documents")


async def service_meeting(
    bot: BotUnderTest, year: int, by: str = "m-test", **changes: object
) -> Meeting:
    values: dict[str, object] = {
        "titles": {"es": "Reunión", "en": "Meeting", "fr": "Réunion"},
        "kind": "local",
        "start": f"{year}-12-05 10:00",
        "zone": "America/Chicago",
        "duration": "90m",
        "venue": "Houston",
        "audience": AudienceFilter(regions=("US-TX",)),
    }
    values.update(changes)
    meeting = await bot.services.meetings.create(MeetingRequest(**values), by)  # type: ignore[arg-type]
    await bot.services.meetings.invite(meeting)
    bot.services.wake_delivery()
    return meeting


async def test_refusals_member_newmeeting_and_forged_rsvp(mbot: BotUnderTest, year: int) -> None:
    await add_member(mbot, 310, "es")
    await add_member(mbot, 311, "en", country="CA", region="QC", time_zone="America/Toronto")
    member = mbot.person(310, "Luis", "es")
    await member.send("/newmeeting")
    assert member.last_text() == mbot.services.texts.plain("es", "staff.refused")
    assert await mbot.store.conversations.get(310) is None
    meeting = await service_meeting(mbot, year)
    outsider = mbot.person(311, "Zoe", "en")
    await outsider.send("/meetings")
    message_id = outsider.last().message_id
    await outsider.press_data(message_id, f"v1:rsvp:{meeting.id}:y", forge=True)
    assert "another group" in (outsider.callback_answer() or "")
    assert await mbot.store.meetings.answers(meeting.id) == []
    await outsider.press_data(message_id, "v1:rsvp:99999:y", forge=True)
    assert await mbot.store.meetings.answers(99999) == []


async def test_cancellation_from_chat_tells_those_coming(mbot: BotUnderTest, year: int) -> None:
    marisol, _, jean = await people(mbot)
    meeting = await service_meeting(mbot, year, by=await mbot.store.actors.of(300))
    await wait_for(mbot, 302, "Invitation")
    await jean.press("Oui")
    await marisol.send("/meetings")
    await press_any(marisol, "Cancelar reunión")
    await marisol.press("Sí, cancelar")
    assert "cancelada" in marisol.last_text()
    await wait_for(mbot, 302, "annulée")
    assert (await mbot.store.meetings.get(meeting.id)).status == "cancelled"  # type: ignore[union-attr]
    await jean.press_data(jean.last().message_id, f"v1:rsvp:{meeting.id}:y", forge=True)
    assert "annulée" in (jean.callback_answer() or "")


async def test_reminder_survives_restart_and_is_sent_once(
    mbot: BotUnderTest, clock: ManualClock, year: int
) -> None:
    await add_member(mbot, 320, "en", time_zone="America/Chicago")
    member = mbot.person(320, "Kim", "en")
    meeting = await service_meeting(mbot, year, start=f"{year}-11-28 11:00", reminders="1h")
    await wait_for(mbot, 320, "Invitation")
    await member.press("Yes")
    await mbot.stop()
    clock.set(meeting.start_at - timedelta(minutes=30))  # the reminder came due while down
    await mbot.start()
    await wait_for(mbot, 320, "Reminder")
    await mbot.restart()
    # A duplicate could also come from the sweep, every SWEEP_SECONDS: move the bot's clock past
    # one and run it, then let delivery finish whatever it queued before counting.
    clock.advance(timedelta(seconds=SWEEP_SECONDS + 1))
    assert await run_sweep(mbot) == 0
    counts = await settled(mbot, meeting.id)
    assert (counts.total, counts.sent) == (1, 1)
    assert len(notices(mbot, 320, "Reminder")) == 1
    reminders = await mbot.store.meetings.reminders_of(meeting.id)
    assert [reminder.state for reminder in reminders] == ["sent"]


async def test_a_reminder_sent_late_says_the_time_as_people_would(
    mbot: BotUnderTest, clock: ManualClock, year: int
) -> None:
    await add_member(mbot, 321, "fr", time_zone="America/Toronto")
    member = mbot.person(321, "Lou", "fr")
    meeting = await service_meeting(mbot, year, start=f"{year}-11-30 11:00", reminders="24h")
    await wait_for(mbot, 321, "Invitation")
    await member.press("Oui")
    await mbot.stop()
    # Down for a minute and a half as the 24 h reminder came due: it goes out late.
    clock.set(meeting.start_at - timedelta(hours=24) + timedelta(seconds=90))
    await mbot.start()
    (reminder,) = await wait_for(mbot, 321, "Rappel")
    assert "Commence dans 24\u202fh." in reminder, reminder


async def run_sweep(bot: BotUnderTest) -> int:
    """Run the running bot's reminder sweep now, as its job queue would; the reminders it sent."""
    assert bot.application is not None and bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name("reminders:sweep")
    scheduler = job.callback.__self__  # type: ignore[attr-defined]
    assert isinstance(scheduler, ReminderScheduler)
    return await scheduler.sweep()


async def settled(bot: BotUnderTest, meeting_id: int) -> DeliveryCounts:
    """The meeting's reminder rows once none is waiting to be sent (a duplicate would be sent)."""
    for _ in range(200):
        counts = await bot.store.notices.counts("meeting_reminder", meeting_id)
        if counts.pending == counts.sending == 0:
            return counts
        tick(bot)
        await asyncio.sleep(0.05)
    raise AssertionError(f"reminders of meeting {meeting_id} still being sent: {counts}")


async def test_dst_crossing_meeting_keeps_wall_clock(mbot: BotUnderTest, year: int) -> None:
    await add_member(mbot, 330, "es", time_zone="America/Chicago")
    # Created in November (CST, UTC-6) for April, after the change (CDT, UTC-5).
    meeting = await service_meeting(mbot, year, start=f"{year + 1}-04-20 10:00")
    chicago = datetime(year + 1, 4, 20, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert meeting.start_at == chicago.astimezone(UTC)
    assert chicago.utcoffset() == timedelta(hours=-5)
    invite = (await wait_for(mbot, 330, "Invitación"))[0]
    assert "martes, 20 de abril, 10:00\u202fa.\u202fm." in invite


async def test_broadcast_audiences_of_a_meeting(
    mbot: BotUnderTest, clock: ManualClock, year: int
) -> None:
    ids = [await add_member(mbot, 340 + n, "es") for n in range(3)]
    meeting = await service_meeting(mbot, year, start=f"{year}-11-28 16:00")
    members = [await mbot.store.members.by_id(member_id) for member_id in ids]
    for member, answer in zip(members, ("yes", "yes", "no"), strict=True):
        assert member is not None
        await mbot.services.meetings.rsvp(meeting.id, member, answer)  # type: ignore[arg-type]
    clock.set(meeting.start_at)
    assert members[0] is not None
    await mbot.services.meetings.check_in(members[0], code=meeting.checkin_code)
    count = mbot.store.broadcasts.audience_count
    said_yes = AudienceFilter(meeting_id=meeting.id, meeting_answers=("yes",))
    assert await count(said_yes) == 2
    assert await count(AudienceFilter(meeting_id=meeting.id, meeting_answers=("attended",))) == 1
    assert await count(AudienceFilter(meeting_id=meeting.id, meeting_answers=("no",))) == 1
    # Narrowed further like any other field.
    assert await count(said_yes.model_copy(update={"regions": ("US-CA",)})) == 0
    chunks = [chunk async for chunk in mbot.store.broadcasts.audience(said_yes)]
    assert sorted(r.member_id for chunk in chunks for r in chunk) == ids[:2]


def test_cli_meeting_audience_options() -> None:
    import argparse

    from bot.cli.meetings import add_meeting_audience, meeting_answers

    parser = argparse.ArgumentParser()
    add_meeting_audience(parser)
    assert meeting_answers(parser.parse_args(["--meeting", "3", "--attended"])) == ("attended",)
    both = parser.parse_args(["--meeting", "3", "--rsvp", "yes", "--rsvp", "maybe"])
    assert meeting_answers(both) == ("yes", "maybe")
    with pytest.raises(ValueError):
        meeting_answers(parser.parse_args(["--rsvp", "yes"]))


async def test_focal_point_creates_only_for_their_theme(mbot: BotUnderTest) -> None:
    await add_member(mbot, 350, "en", username="fiona", themes=("protection",))
    fiona = mbot.person(350, "Fiona", "en", username="fiona")
    admin = mbot.person(9000, "Admin", "en")
    await admin.send("/grant @fiona focal_point theme:protection")
    assert "granted" in admin.last_text()
    await fiona.send("/newmeeting")
    kinds = fiona.buttons()
    assert any("Thematic" in label for label in kinds)
    assert not any("National" in label or "Local" in label for label in kinds)
    await fiona.press("Thematic")
    themes = [label for label in fiona.buttons() if label not in ("◂ Back", "✖ Cancel")]
    assert len(themes) == 1
    await fiona.press_data(fiona.last().message_id, fiona.last().buttons()[0]["callback_data"])
    assert "title" in fiona.last_text()


async def test_odd_numbers_are_refused_with_a_reason_not_a_crash(
    mbot: BotUnderTest, year: int
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await marisol.send("/newmeeting")
    await marisol.press("Nacional")
    await marisol.send("Reunión nacional")
    await marisol.press("Omitir")
    await marisol.press("Mantener")
    await marisol.send(f"{year}-12-05 10:00")
    asked = marisol.last_text()
    for odd in ("²", "99999999999999999999", "-5"):
        answers = await marisol.send(odd)
        assert answers[0].text is not None and answers[0].text.startswith("⚠️"), odd
        assert marisol.last_text() == asked  # the same question, asked again
    await marisol.press("90 min")
    await marisol.press("Omitir")  # no link
    await marisol.press("Omitir")  # no venue
    capacity = marisol.last_text()
    for odd in ("²", "0", "99999999999999999999"):
        answers = await marisol.send(odd)
        assert answers[0].text is not None and answers[0].text.startswith("⚠️"), odd
        assert marisol.last_text() == capacity
