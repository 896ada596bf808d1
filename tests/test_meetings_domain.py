"""Meetings without Telegram: times in each member's zone, seats and waitlist, .ics, reminders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from bot.clock import ManualClock
from bot.config import Config
from bot.services import timefmt
from bot.services.errors import InputError
from bot.services.ics import meeting_ics, meeting_uid
from bot.services.meetings import CODE_ALPHABET, MeetingRequest, MeetingsService
from bot.services.reminders import NO_JOBS, MeetingReminders
from storage import Store
from storage.models import AudienceFilter, Member
from tests.harness import fixed_clock, make_config

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
ZONES = {
    "ana": ("America/Los_Angeles", "CA"),
    "elpaso": ("America/Denver", "TX"),
    "marisol": ("America/Chicago", "TX"),
}


@pytest.fixture
def config(database: Path | str) -> Config:
    return make_config(database, "http://127.0.0.1:1/bot")


@pytest.fixture
async def store(config: Config) -> AsyncIterator[Store]:
    opened = await Store.open(config.storage.target, fixed_clock())
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def service(store: Store, config: Config, clock: ManualClock) -> MeetingsService:
    return MeetingsService(store, config, clock, NO_JOBS)


@pytest.fixture
def reminders(store: Store, clock: ManualClock) -> MeetingReminders:
    return MeetingReminders(store, clock)


async def add_member(
    store: Store, name: str, zone: str = "America/Chicago", region: str = "TX", language: str = "es"
) -> Member:
    """A registered member, made as registration makes one: consent, then the profile."""
    telegram_id = 10_000 + abs(hash(name)) % 10_000_000
    created = await store.members.create_with_consent(
        telegram_id, None, language, "2026-11", "test", "name"
    )
    profile = {
        "status": "active",
        "step": None,
        "name": name,
        "country": "US",
        "region": region,
        "city": "X",
        "time_zone": zone,
    }
    return await store.members.update(created.id, profile)


async def add_many(store: Store, count: int) -> list[Member]:
    return [await add_member(store, f"p{n}") for n in range(count)]


def texas(**changes: object) -> MeetingRequest:
    values: dict[str, object] = {
        "titles": {"es": "Reunión de Texas", "en": "Texas meeting"},
        "kind": "local",
        "start": "2026-12-05 10:00",
        "zone": "America/Chicago",
        "duration": "90m",
        "venue": "Centro comunitario, Houston",
        "audience": AudienceFilter(regions=("US-TX",)),
    }
    values.update(changes)
    return MeetingRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "pacific", "mountain"),
    [
        (
            "es",
            "sábado, 5 de diciembre, 8:00\u202fa.\u202fm., hora del Pacífico",
            "9:00\u202fa.\u202fm., hora de las Montañas",
        ),
        ("en", "Saturday, December 5, 8:00\u202fAM, Pacific Time", "9:00\u202fAM, Mountain Time"),
        ("fr", "samedi 5 décembre à 08 h 00, heure du Pacifique", "09 h 00, heure des Rocheuses"),
    ],
)
def test_texas_meeting_in_each_members_zone(language: str, pacific: str, mountain: str) -> None:
    start = timefmt.parse_local("2026-12-05 10:00", "America/Chicago")
    assert start == datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    assert timefmt.format_meeting_moment(start, "America/Los_Angeles", language) == pacific
    assert mountain in timefmt.format_meeting_moment(start, "America/Denver", language)
    assert timefmt.zone_city("America/Chicago", language) == "Chicago"


def test_wall_clock_refusals() -> None:
    with pytest.raises(InputError) as gap:
        timefmt.parse_local("2026-03-08 02:30", "America/Chicago")
    assert gap.value.key == "meeting.error.dst_gap"
    with pytest.raises(InputError) as fold:
        timefmt.parse_local("2026-11-01 01:30", "America/Chicago")
    assert fold.value.key == "meeting.error.dst_fold"
    with pytest.raises(InputError) as zone:
        timefmt.parse_local("2026-12-05 10:00", "America/Houston")
    assert zone.value.key == "meeting.error.zone"
    with pytest.raises(InputError):
        timefmt.parse_local("5/12/2026 10am", "America/Chicago")
    assert timefmt.parse_duration("1h30m") == 90
    assert timefmt.parse_duration("2h") == 120
    assert timefmt.parse_offsets("24h,1h,2m,1d") == (1440, 60, 2)
    for bad in ("0m", "h", "90", "-5m"):
        with pytest.raises(InputError):
            timefmt.parse_duration(bad)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"start": "2026-11-01 10:00"}, "meeting.error.past"),
        ({"zone": "Mars/Olympus"}, "meeting.error.zone"),
        ({"start": "2027-03-14 02:30"}, "meeting.error.dst_gap"),
        ({"start": "2027-11-07 01:30"}, "meeting.error.dst_fold"),
        ({"capacity": 0}, "meeting.error.capacity"),
        ({"capacity": -3}, "meeting.error.capacity"),
        ({"titles": {"es": "x" * 5000}}, "error.too_long"),
        ({"online_url": "javascript:alert(1)"}, "meeting.error.link"),
        ({"online_url": "ftp://example.org/x"}, "meeting.error.link"),
        ({"venue": None}, "meeting.error.where"),
        ({"kind": "party"}, "meeting.error.kind"),
        ({"kind": "thematic"}, "meeting.error.theme_needed"),
        ({"rsvp_deadline": "2026-12-06 10:00"}, "meeting.error.deadline"),
        ({"duration": "25h"}, "meeting.error.duration_long"),
    ],
)
async def test_bad_input_creates_nothing(
    service: MeetingsService, store: Store, changes: dict[str, object], key: str
) -> None:
    with pytest.raises(InputError) as refused:
        await service.create(texas(**changes), "m-marisol")
    assert refused.value.key == key
    row = await store.database.fetch_one("SELECT count(*) FROM meetings")
    reminders = await store.database.fetch_one("SELECT count(*) FROM meeting_reminders")
    assert row is not None and row[0] == 0
    assert reminders is not None and reminders[0] == 0


async def test_end_before_start(service: MeetingsService) -> None:
    from bot.services.meetings import end_from_text

    start = timefmt.parse_local("2026-12-05 10:00", "America/Chicago")
    with pytest.raises(InputError) as refused:
        end_from_text(start, "2026-12-05 09:00", "America/Chicago")
    assert refused.value.key == "meeting.error.end_before_start"
    assert end_from_text(start, "2026-12-05 11:30", "America/Chicago") == 90


async def test_create_stores_times_code_and_reminders(
    service: MeetingsService, store: Store
) -> None:
    meeting = await service.create(texas(reminders="24h,1h,2m"), "m-marisol")
    assert meeting.start_at == datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    assert meeting.local_start == "2026-12-05 10:00"
    assert meeting.sequence == 0
    assert len(meeting.checkin_code) == 8
    assert set(meeting.checkin_code) <= set(CODE_ALPHABET)
    assert not set("01OI") & set(CODE_ALPHABET)
    reminders = await store.meetings.reminders_of(meeting.id)
    assert [(r.offset_minutes, r.state) for r in reminders] == [
        (1440, "pending"),
        (60, "pending"),
        (2, "pending"),
    ]
    assert reminders[0].due_at == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


async def test_capacity_waitlist_and_promotion(service: MeetingsService, store: Store) -> None:
    meeting = await service.create(texas(capacity=2), "m-marisol")
    a, b, c, d = await add_many(store, 4)
    assert (await service.rsvp(meeting.id, a, "yes")).outcome.waitlist_rank is None
    assert (await service.rsvp(meeting.id, b, "yes")).outcome.waitlist_rank is None
    third = await service.rsvp(meeting.id, c, "yes")
    fourth = await service.rsvp(meeting.id, d, "yes")
    assert (third.outcome.waitlist_rank, fourth.outcome.waitlist_rank) == (1, 2)
    assert third.waitlisted
    counts = await store.meetings.counts(meeting.id)
    assert (counts.yes, counts.waitlist) == (2, 2)
    # A confirmed person says No: the first in line gets the seat in the same transaction.
    freed = await service.rsvp(meeting.id, a, "no")
    assert freed.outcome.promoted_member_id == c.id
    assert await store.meetings.waitlist_rank(meeting.id, d.id) == 1
    notice = await store.database.fetch_one(
        "SELECT member_id FROM outbox WHERE kind = 'waitlist_promoted' AND ref = ?", (meeting.id,)
    )
    assert notice is not None and notice[0] == c.id
    counts = await store.meetings.counts(meeting.id)
    assert (counts.yes, counts.no, counts.waitlist) == (2, 1, 1)


async def test_capacity_alerts_once_per_level(service: MeetingsService, store: Store) -> None:
    creator = await add_member(store, "marisol")
    meeting = await service.create(texas(capacity=4), creator.pseudonym)
    people = await add_many(store, 5)
    crossed = [(await service.rsvp(meeting.id, p, "yes")).outcome.alert_crossed for p in people]
    assert crossed == [None, 50, None, 100, None]
    await service.rsvp(meeting.id, people[0], "no")
    await service.rsvp(meeting.id, people[0], "yes")
    rows = await store.database.fetch_all(
        "SELECT payload FROM outbox WHERE kind = 'capacity_alert' AND member_id = ?", (creator.id,)
    )
    assert len(rows) == 2


async def test_concurrent_yes_never_overbooks(service: MeetingsService, store: Store) -> None:
    meeting = await service.create(texas(capacity=10), "m-marisol")
    people = await add_many(store, 50)
    results = await asyncio.gather(*(service.rsvp(meeting.id, p, "yes") for p in people))
    counts = await store.meetings.counts(meeting.id)
    assert (counts.yes, counts.waitlist) == (10, 40)
    waitlist = await store.meetings.waitlist(meeting.id)
    assert sorted(r.outcome.waitlist_rank or 0 for r in results) == [0] * 10 + list(range(1, 41))
    # Each answer was told the place in line it got, and the line is exactly those places.
    told = sorted(
        (r.outcome.waitlist_rank, r.outcome.rsvp.member_id)
        for r in results
        if r.outcome.waitlist_rank is not None
    )
    assert [member_id for _, member_id in told] == [r.member_id for r in waitlist]
    if store.database.dialect == "sqlite":
        # SQLite's one writer thread serialises in call order: the waitlist is arrival order.
        # (PostgreSQL serialises on a lock reached through a pool: order of arrival at the lock.)
        assert [r.member_id for r in waitlist] == [p.id for p in people[10:]]


async def test_refusals(service: MeetingsService, store: Store, clock: ManualClock) -> None:
    meeting = await service.create(texas(rsvp_deadline="2026-12-04 18:00"), "m-marisol")
    texan = await add_member(store, "texan")
    ana = await add_member(store, "ana", "America/Los_Angeles", "CA")
    with pytest.raises(InputError) as forged:
        await service.rsvp(meeting.id, ana, "yes")
    assert forged.value.key == "meeting.refuse.not_invited"
    clock.set(datetime(2026, 12, 5, 1, 0, tzinfo=UTC))
    with pytest.raises(InputError) as late:
        await service.rsvp(meeting.id, texan, "yes")
    assert late.value.key == "meeting.refuse.deadline"
    other = await service.create(texas(start="2026-12-06 10:00"), "m-marisol")
    await service.cancel(other.id, "m-marisol")
    with pytest.raises(InputError) as cancelled:
        await service.rsvp(other.id, texan, "yes")
    assert cancelled.value.key == "meeting.refuse.cancelled"
    clock.set(datetime(2026, 12, 5, 16, 1, tzinfo=UTC))
    with pytest.raises(InputError) as past:
        await service.rsvp(meeting.id, texan, "maybe")
    assert past.value.key in ("meeting.refuse.past", "meeting.refuse.deadline")


def parse(data: bytes) -> tuple[datetime, str, int, str, str]:
    calendar = Calendar.from_ical(data)
    assert calendar.get("method") == "PUBLISH"
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert list(calendar.walk("VTIMEZONE"))
    event = events[0]
    start = event.decoded("dtstart")
    return (
        start,
        str(event["uid"]),
        int(str(event["sequence"])),
        str(event["status"]),
        str(event["summary"]),
    )


async def test_ics_round_trip_and_sequence(service: MeetingsService, store: Store) -> None:
    meeting = await service.create(texas(), "m-marisol")
    data = meeting_ics(meeting, "en", "Consulta a la diáspora", NOW)
    assert b"DTSTART;TZID=America/Chicago:20261205T100000" in data
    start, uid, sequence, status, summary = parse(data)
    assert start == meeting.start_at and start.tzinfo is not None
    assert (
        uid
        == meeting_uid(meeting.id, "Consulta a la diáspora")
        == f"meeting-{meeting.id}@consulta-a-la-di-spora"
    )
    assert (sequence, status, summary) == (0, "CONFIRMED", "Texas meeting")
    moved = await service.reschedule(meeting.id, "2026-12-12 10:00", None, "m-marisol")
    start2, uid2, sequence2, _, _ = parse(meeting_ics(moved, "es", "Consulta a la diáspora", NOW))
    assert (uid2, sequence2) == (uid, 1)
    assert start2 == datetime(2026, 12, 12, 16, 0, tzinfo=UTC)
    cancelled = await service.cancel(meeting.id, "m-marisol")
    _, uid3, sequence3, status3, _ = parse(
        meeting_ics(cancelled, "es", "Consulta a la diáspora", NOW)
    )
    assert (uid3, sequence3, status3) == (uid, 2, "CANCELLED")


async def test_dst_crossing_reschedule_keeps_wall_time(
    service: MeetingsService, store: Store
) -> None:
    # 10:00 in Chicago is 15:00 UTC on 2027-03-13 (CST) and 14:00 UTC a week later (CDT).
    meeting = await service.create(texas(start="2027-03-13 10:00"), "m-marisol")
    assert meeting.start_at == datetime(2027, 3, 13, 16, 0, tzinfo=UTC)
    moved = await service.reschedule(meeting.id, "2027-03-20 10:00", None, "m-marisol")
    assert moved.start_at == datetime(2027, 3, 20, 15, 0, tzinfo=UTC)
    assert moved.local_start == "2027-03-20 10:00"
    assert timefmt.wall_clock(moved.start_at, moved.zone) == "2027-03-20 10:00"
    reminders = await store.meetings.reminders_of(meeting.id)
    pending = [r for r in reminders if r.state == "pending"]
    assert {r.start_at for r in pending} == {moved.start_at}
    assert {r.due_at for r in pending} == {
        moved.start_at - timedelta(hours=24),
        moved.start_at - timedelta(hours=1),
    }
    assert all(r.state == "skipped" for r in reminders if r.start_at == meeting.start_at)


async def test_reminder_fires_once(
    service: MeetingsService, reminders: MeetingReminders, store: Store, clock: ManualClock
) -> None:
    meeting = await service.create(texas(reminders="1h"), "m-marisol")
    yes, maybe, no = await add_many(store, 3)
    await service.rsvp(meeting.id, yes, "yes")
    await service.rsvp(meeting.id, maybe, "maybe")
    await service.rsvp(meeting.id, no, "no")
    (reminder,) = await store.meetings.pending_reminders()
    assert await reminders.fire(reminder.id) == "early"
    clock.set(reminder.due_at + timedelta(seconds=1))
    assert [r.id for r in await reminders.due()] == [reminder.id]
    assert await reminders.fire(reminder.id) == "sent"
    assert await reminders.fire(reminder.id) == "closed"
    rows = await store.database.fetch_all(
        "SELECT member_id, dedupe_key FROM outbox WHERE kind = 'meeting_reminder'"
        " ORDER BY member_id"
    )
    assert [row[0] for row in rows] == [yes.id, maybe.id]
    assert rows[0][1] == f"rem:{meeting.id}:60:2026-12-05T16:00:00.000000+00:00:{yes.id}"
    # Even if the reminder row were reopened (a crash before it was marked), no second copy.
    await store.database.execute("UPDATE meeting_reminders SET state = 'pending'")
    assert await reminders.fire(reminder.id) == "sent"
    again = await store.database.fetch_one(
        "SELECT count(*) FROM outbox WHERE kind = 'meeting_reminder'"
    )
    assert again is not None and again[0] == 2


async def test_reminder_after_start_is_skipped(
    service: MeetingsService, reminders: MeetingReminders, store: Store, clock: ManualClock
) -> None:
    meeting = await service.create(texas(reminders="1h"), "m-marisol")
    person = (await add_many(store, 1))[0]
    await service.rsvp(meeting.id, person, "yes")
    (reminder,) = await store.meetings.pending_reminders()
    clock.set(meeting.start_at + timedelta(minutes=5))
    assert await reminders.fire(reminder.id) == "skipped"
    row = await store.database.fetch_one(
        "SELECT count(*) FROM outbox WHERE kind = 'meeting_reminder'"
    )
    assert row is not None and row[0] == 0


async def test_cancel_withdraws_and_notifies(service: MeetingsService, store: Store) -> None:
    meeting = await service.create(texas(capacity=1), "m-marisol")
    a, b, c = await add_many(store, 3)
    assert await service.invite(meeting) == 3
    assert await service.invite(meeting) == 0
    await service.rsvp(meeting.id, a, "yes")
    await service.rsvp(meeting.id, b, "yes")
    await service.rsvp(meeting.id, c, "no")
    await service.cancel(meeting.id, "m-marisol")
    rows = await store.database.fetch_all(
        "SELECT member_id FROM outbox WHERE kind = 'meeting_cancel' ORDER BY member_id"
    )
    assert [row[0] for row in rows] == [a.id, b.id]
    invites = await store.database.fetch_one(
        "SELECT count(*) FROM outbox WHERE kind = 'meeting_invite' AND state = 'pending'"
    )
    assert invites is not None and invites[0] == 0
    assert not await store.meetings.pending_reminders()


async def test_check_in_by_code_within_window(
    service: MeetingsService, store: Store, clock: ManualClock
) -> None:
    meeting = await service.create(texas(), "m-marisol")
    person = (await add_many(store, 1))[0]
    with pytest.raises(InputError) as early:
        await service.check_in(person, code=meeting.checkin_code)
    assert early.value.key == "meeting.checkin.closed"
    clock.set(meeting.start_at - timedelta(minutes=10))
    with pytest.raises(InputError) as wrong:
        await service.check_in(person, code="ZZZZZZZZ")
    assert wrong.value.key == "meeting.checkin.bad_code"
    found, result = await service.check_in(person, code=meeting.checkin_code.lower())
    assert (found.id, result.fresh, result.checked_in) == (meeting.id, True, True)
    assert (await service.check_in(person, meeting_id=meeting.id))[1].fresh is False
    counts = await store.meetings.counts(meeting.id)
    assert counts.checked_in == 1
    attended = await store.meetings.recipients(meeting.id, ("attended",))
    assert [r.member_id for r in attended] == [person.id]


async def test_minutes_attached(service: MeetingsService, store: Store, clock: ManualClock) -> None:
    meeting = await service.create(texas(), "m-marisol")
    with pytest.raises(InputError):
        await service.attach_minutes(meeting.id, "Acuerdos", None, "m-marisol")
    clock.set(meeting.start_at + timedelta(hours=2))
    done = await service.attach_minutes(meeting.id, "Acuerdos:\n1. Remesas", "FILE123", "m-marisol")
    assert (done.status, done.minutes, done.minutes_file_id) == (
        "done",
        "Acuerdos:\n1. Remesas",
        "FILE123",
    )


async def rendered(
    service: MeetingsService, store: Store, clock: ManualClock, kind: str, member: Member
) -> Any:
    from bot.delivery.meeting_notices import renderers
    from bot.i18n import Texts
    from bot.services.people import PeopleService
    from storage.notices import outbox_row

    row = await store.database.fetch_one(
        "SELECT * FROM outbox WHERE kind = ? AND member_id = ? ORDER BY id DESC", (kind, member.id)
    )
    assert row is not None
    people = PeopleService(store)
    table = renderers(service, people, Texts.load(), "Consulta a la diáspora", clock)
    return await table[kind].render(outbox_row(row))


async def test_invitation_in_each_members_zone_and_language(
    service: MeetingsService, store: Store, clock: ManualClock
) -> None:
    from bot.delivery.meeting_notices import parse_rsvp_data

    ana = await add_member(store, "ana", "America/Los_Angeles", "TX", "es")
    elpaso = await add_member(store, "elpaso", "America/Denver", "TX", "en")
    houston = await add_member(store, "houston", "America/Chicago", "TX", "fr")
    meeting = await service.create(texas(capacity=30), "m-marisol")
    assert await service.invite(meeting) == 3
    to_ana = await rendered(service, store, clock, "meeting_invite", ana)
    am = "\u202fa.\u202fm."  # Salvadoran Spanish: the 12-hour clock, as Babel's es_SV writes it
    assert f"sábado, 5 de diciembre, 8:00{am}, hora del Pacífico (10:00{am} en Chicago)" in (
        to_ana.text
    )
    assert "Reunión de Texas" in to_ana.text and "Lugares disponibles: 30 de 30" in to_ana.text
    buttons = to_ana.markup.inline_keyboard[0]
    assert [b.text for b in buttons] == ["✅ Sí", "🤔 Tal vez", "❌ No"]
    assert parse_rsvp_data(buttons[0].callback_data) == (meeting.id, "yes")
    assert parse_rsvp_data("v1:rsvp:99999999999999999999:y") is None
    to_elpaso = await rendered(service, store, clock, "meeting_invite", elpaso)
    assert (
        "Saturday, December 5, 9:00\u202fAM, Mountain Time (10:00\u202fAM in Chicago)"
        in to_elpaso.text
    )
    to_houston = await rendered(service, store, clock, "meeting_invite", houston)
    assert "samedi 5 décembre à 10 h 00, heure du centre" in to_houston.text
    assert "Chicago)" not in to_houston.text
    # Rendered at send time: once cancelled, an unsent invitation is obsolete.
    await store.meetings.update(meeting.id, {"status": "cancelled"})
    assert await rendered(service, store, clock, "meeting_invite", ana) is None


async def test_cancel_notice_carries_a_cancelled_ics(
    service: MeetingsService, store: Store, clock: ManualClock
) -> None:
    person = await add_member(store, "texan")
    meeting = await service.create(texas(), "m-marisol")
    await service.rsvp(meeting.id, person, "yes")
    await service.cancel(meeting.id, "m-marisol")
    notice = await rendered(service, store, clock, "meeting_cancel", person)
    assert "Reunión cancelada: Reunión de Texas" in notice.text
    name, data = notice.document
    assert name.endswith(".ics")
    assert parse(data)[3] == "CANCELLED"


async def test_scheduler_recreates_jobs_and_sends_missed_once(
    service: MeetingsService, reminders: MeetingReminders, store: Store, clock: ManualClock
) -> None:
    from telegram.ext import ApplicationBuilder

    from bot.delivery.reminders import ReminderScheduler

    person = await add_member(store, "texan")
    soon = await service.create(texas(reminders="24h,1h"), "m-marisol")
    begun = await service.create(texas(start="2026-11-29 10:00", reminders="1h"), "m-marisol")
    later = await service.create(texas(start="2026-12-20 10:00", reminders="1d"), "m-marisol")
    for meeting in (soon, begun, later):
        await service.rsvp(meeting.id, person, "yes")
    # The bot was down from before the first reminder until after `begun` started.
    clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    application = ApplicationBuilder().token("1:test").build()
    assert application.job_queue is not None
    woken: list[int] = []
    scheduler = ReminderScheduler(application.job_queue, reminders, clock, lambda: woken.append(1))
    report = await scheduler.start()
    assert (report.sent, report.skipped, report.scheduled) == (1, 1, 2)
    assert woken == [1]
    names = {job.name for job in application.job_queue.jobs()}
    assert {f"reminder:{soon.id}:60", f"reminder:{later.id}:1440"} <= names
    # A second start (another restart) sends nothing again.
    again = await ReminderScheduler(application.job_queue, reminders, clock).start()
    assert again.sent == 0
    rows = await store.database.fetch_all(
        "SELECT ref FROM outbox WHERE kind = 'meeting_reminder' AND member_id = ?", (person.id,)
    )
    assert [row[0] for row in rows] == [soon.id]


async def test_the_meetings_service_tells_the_scheduler_of_each_change(
    store: Store, config: Config, clock: ManualClock, reminders: MeetingReminders
) -> None:
    """Created, rescheduled, cancelled: the service (not its caller) redoes the meeting's jobs."""
    from telegram.ext import ApplicationBuilder

    from bot.delivery.reminders import ReminderScheduler

    application = ApplicationBuilder().token("1:test").build()
    assert application.job_queue is not None
    jobs = application.job_queue
    service = MeetingsService(store, config, clock, ReminderScheduler(jobs, reminders, clock))

    async def jobs_and_rows(meeting_id: int) -> tuple[list[int], list[int]]:
        """The reminder ids the job queue will fire, and the meeting's pending reminder rows."""
        prefix = f"reminder:{meeting_id}:"
        named = [job for job in jobs.jobs() if job.name and job.name.startswith(prefix)]
        queued = [job.data for job in named if isinstance(job.data, int)]
        rows = await store.meetings.reminders_of(meeting_id)
        return sorted(queued), sorted(row.id for row in rows if row.state == "pending")

    meeting = await service.create(texas(reminders="24h,1h"), "m-marisol")
    queued, pending = await jobs_and_rows(meeting.id)
    assert len(queued) == 2 and queued == pending
    await service.reschedule(meeting.id, "2026-12-06 10:00", None, "m-marisol")
    moved, pending = await jobs_and_rows(meeting.id)
    assert len(moved) == 2 and moved == pending and not set(moved) & set(queued)
    await service.cancel(meeting.id, "m-marisol")
    assert await jobs_and_rows(meeting.id) == ([], [])


async def test_minutes_go_into_the_record_and_early_minutes_keep_check_in_open(
    service: MeetingsService, store: Store, clock: ManualClock
) -> None:
    meeting = await service.create(texas(), "m-marisol")
    late = (await add_many(store, 1))[0]
    clock.set(meeting.start_at + timedelta(minutes=20))  # during the meeting
    during = await service.attach_minutes(meeting.id, "Primeros acuerdos", None, "m-marisol")
    assert during.status == "scheduled"  # still running: someone may still walk in
    found, result = await service.check_in(late, code=meeting.checkin_code)
    assert (found.id, result.fresh) == (meeting.id, True)
    clock.set(meeting.start_at + timedelta(hours=2))
    done = await service.attach_minutes(meeting.id, "Acuerdos finales", "FILE9", "m-marisol")
    assert done.status == "done"
    rows = await store.database.fetch_all(
        "SELECT kind, value, pseudonym, meeting_id FROM record_entries ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        ("minutes", "Primeros acuerdos", "m-marisol", meeting.id),
        ("minutes", "Acuerdos finales", "m-marisol", meeting.id),
        ("outcome", "file:FILE9", "m-marisol", meeting.id),
    ]


async def test_after_the_deadline_a_seat_can_be_given_up_but_not_taken(
    service: MeetingsService, store: Store, clock: ManualClock
) -> None:
    meeting = await service.create(texas(capacity=1, rsvp_deadline="2026-12-04 18:00"), "m-marisol")
    seated, waiting, newcomer = await add_many(store, 3)
    await service.rsvp(meeting.id, seated, "yes")
    await service.rsvp(meeting.id, waiting, "yes")
    assert meeting.rsvp_deadline is not None
    clock.set(meeting.rsvp_deadline + timedelta(hours=1))
    with pytest.raises(InputError) as refused:
        await service.rsvp(meeting.id, newcomer, "yes")
    assert refused.value.key == "meeting.refuse.deadline"
    freed = await service.rsvp(meeting.id, seated, "no")
    assert freed.outcome.promoted_member_id == waiting.id


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("zoom.us/j/123456", "https://zoom.us/j/123456"),
        ("  meet.google.com/abc-defg-hij ", "https://meet.google.com/abc-defg-hij"),
        ("http://example.org/x", "http://example.org/x"),
        ("zoom.us:443/j/1", "https://zoom.us:443/j/1"),
    ],
)
def test_a_link_without_a_scheme_gets_https(typed: str, kept: str) -> None:
    from bot.services.meeting_rules import clean_url

    assert clean_url(typed) == kept


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "mailto:a@b.org", "zoom", "ftp://x.org/y"])
def test_links_that_are_not_web_addresses_are_refused(bad: str) -> None:
    from bot.services.meeting_rules import clean_url

    with pytest.raises(InputError) as refused:
        clean_url(bad)
    assert refused.value.key == "meeting.error.link"


def test_codes_as_typed_and_shares_rounded_half_up() -> None:
    from bot.delivery.meeting_notices import percent
    from bot.services.meeting_rules import looks_like_code, normalise_code

    assert normalise_code(" abcd - efgh ") == normalise_code("AB CD–EF GH") == "ABCDEFGH"
    assert looks_like_code("abcd-efgh") and not looks_like_code("password")  # O is not in codes
    assert (percent(2, 3), percent(1, 2), percent(1, 3), percent(5, 5)) == (67, 50, 33, 100)
