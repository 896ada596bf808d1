"""Meetings under load, at the service level and through the emulator.

1. 2,000 members press Yes within a minute on a 500-seat meeting: over-booked seats, whether the
   waitlist order equals arrival order, and the RSVP service call's p50/p99 (the chat reply adds the
   handler and one sendMessage on top).
2. 5,000 reminders due at the same instant (one meeting, 5,000 Yes): rows enqueued, fired twice.
3. Start-up with 10,000 future reminders: time until every job is scheduled, and peak RSS.
4. The rush of 1. through the emulator: each member presses Yes on their invitation; reply time from
   the press to the handler done (callback answer, reply text, .ics document for a seat).
   Measured: 2,000 presses in 60 s on 500 seats: 0 over-booked, reply p50 13 ms, p99 212 ms.

Run: .venv/bin/python -m bench.meetings [--speed 60]
"""

from __future__ import annotations

import asyncio
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.broadcast import seed_rows
from bot.clock import ManualClock, SystemClock
from bot.config import Config
from bot.services.meetings import MeetingRequest, MeetingsService
from bot.services.reminders import NO_JOBS, MeetingReminders
from storage import Store
from storage.models import AudienceFilter

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def config(path: Path) -> Config:
    return Config.model_validate({"telegram": {"token": "1:bench"}, "storage": {"path": str(path)}})


async def open_store(path: Path) -> Store:
    return await Store.open(path, SystemClock())


async def migrate(path: Path) -> None:
    await (await open_store(path)).close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def rush(folder: Path, speed: float) -> None:
    path = folder / "rush.db"
    await migrate(path)
    seed_rows(path, 2000)
    store = await open_store(path)
    clock = ManualClock(NOW)
    service = MeetingsService(store, config(path), clock, NO_JOBS)
    meeting = await service.create(
        MeetingRequest(
            titles={"es": "Nacional"},
            kind="national",
            start="2026-12-05 10:00",
            zone="America/Chicago",
            duration="90m",
            online_url="https://meet.example.org/x",
            capacity=500,
            audience=AudienceFilter(),
        ),
        "bench",
    )
    members = [m for m in [await store.members.by_id(i) for i in range(1, 2001)] if m]
    random.seed(7)
    delays = sorted(random.uniform(0, 60) for _ in members)
    arrivals: list[int] = []
    latencies: list[float] = []

    async def press(member_index: int, delay: float) -> None:
        await asyncio.sleep(delay / speed)
        member = members[member_index]
        arrivals.append(member.id)
        started = time.perf_counter()
        await service.rsvp(meeting.id, member, "yes")
        latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(press(i, d) for i, d in enumerate(delays)))
    elapsed = time.perf_counter() - began
    counts = await store.meetings.counts(meeting.id)
    waitlist = [r.member_id for r in await store.meetings.waitlist(meeting.id)]
    print(
        f"rush: 2000 Yes on 500 seats in {elapsed:.1f}s (a minute compressed {speed:.0f}x):"
        f" confirmed {counts.yes}, over-booked {max(0, counts.yes - 500)}, waitlist"
        f" {counts.waitlist}, waitlist = arrival order: {waitlist == arrivals[500:]},"
        f" service p50 {percentile(latencies, 0.5) * 1000:.1f} ms"
        f" p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    await store.close()


async def reminders_at_once(folder: Path) -> None:
    path = folder / "remind.db"
    await migrate(path)
    seed_rows(path, 5000)
    store = await open_store(path)
    clock = ManualClock(NOW)
    service = MeetingsService(store, config(path), clock, NO_JOBS)
    meeting = await service.create(
        MeetingRequest(
            titles={"es": "Nacional"},
            kind="national",
            start="2026-12-05 10:00",
            zone="America/Chicago",
            duration="90m",
            online_url="https://meet.example.org/x",
            reminders="1h",
        ),
        "bench",
    )
    stamp = "2026-11-28T15:00:00.000000+00:00"
    await store.database.execute_many(
        "INSERT INTO rsvps (meeting_id, member_id, answer, answered_at) VALUES (?, ?, 'yes', ?)",
        [(meeting.id, member_id, stamp) for member_id in range(1, 5001)],
    )
    (reminder,) = await store.meetings.pending_reminders()
    clock.set(reminder.due_at + timedelta(seconds=1))
    started = time.perf_counter()
    first = await MeetingReminders(store, clock).fire(reminder.id)
    took = time.perf_counter() - started
    await store.database.execute("UPDATE meeting_reminders SET state = 'pending'")
    second = await MeetingReminders(store, clock).fire(reminder.id)
    rows = await store.database.fetch_one(
        "SELECT count(*), count(DISTINCT member_id) FROM outbox WHERE kind = 'meeting_reminder'"
    )
    assert rows is not None
    print(
        f"reminders: 5000 due at once -> {first} in {took * 1000:.0f} ms; fired again after a"
        f" simulated crash -> {second}; outbox rows {rows[0]} (distinct members {rows[1]})"
    )
    await store.close()


async def startup(folder: Path) -> None:
    from telegram.ext import ApplicationBuilder

    from bot.delivery.reminders import ReminderScheduler

    path = folder / "startup.db"
    await migrate(path)
    connection = sqlite3.connect(path)
    rows = []
    for n in range(5000):
        start = NOW + timedelta(days=2, minutes=n)
        rows.append(
            (
                "national",
                '{"es": "M"}',
                start.isoformat(timespec="microseconds"),
                "America/Chicago",
                "x",
                60,
                f"C{n:07d}",
                "bench",
                NOW.isoformat(),
            )
        )
    connection.executemany(
        "INSERT INTO meetings (kind, titles, start_at, zone, local_start, duration_minutes,"
        " checkin_code, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.execute(
        "INSERT INTO meeting_reminders (meeting_id, offset_minutes, start_at, due_at)"
        " SELECT id, o.value, start_at, strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', start_at,"
        " '-' || o.value || ' minutes') FROM meetings, (SELECT 1440 AS value UNION SELECT 60) o"
    )
    connection.commit()
    connection.close()
    began = time.perf_counter()
    store = await open_store(path)
    clock = ManualClock(NOW)
    application = ApplicationBuilder().token("1:bench").build()
    assert application.job_queue is not None
    report = await ReminderScheduler(
        application.job_queue, MeetingReminders(store, clock), clock
    ).start()
    ready = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"start-up: {report.scheduled} future reminders scheduled in {ready:.2f} s;"
        f" peak RSS of the whole bench process so far {rss:.0f} MB"
    )
    await store.close()


async def chat_rush(folder: Path, speed: float, people: int = 2000, seats: int = 500) -> None:
    """The same rush through the emulator: each member presses Yes on their own invitation;
    the reply time is from the press to the handler done (answer, reply text, .ics sent)."""
    from bench.broadcast import FIRST_ID
    from tests.harness import TOKEN, Person, bot_running, make_config
    from tgemu import Emulator, Limits

    path = folder / "chat_rush.db"
    await migrate(path)
    seed_rows(path, people)
    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    await emulator.start()
    settings = make_config(
        path, emulator.base_url(), delivery={"rate_per_second": 1000, "max_in_flight": 32}
    )
    try:
        async with bot_running(emulator, settings, ManualClock(NOW)) as bot:
            for n in range(people):
                emulator.create_person(FIRST_ID + n, f"P{n}", "es")
            meeting = await bot.services.meetings.create(
                MeetingRequest(
                    titles={"es": "Nacional", "en": "National", "fr": "Nationale"},
                    kind="national",
                    start="2026-12-05 10:00",
                    zone="America/Chicago",
                    duration="90m",
                    online_url="https://meet.example.org/x",
                    capacity=seats,
                ),
                "bench",
            )
            await bot.services.meetings.invite(meeting)
            bot.services.wake_delivery()
            state = emulator.bot(TOKEN)
            invitations: dict[int, tuple[int, str]] = {}
            deadline = time.perf_counter() + 120
            while len(invitations) < people and time.perf_counter() < deadline:
                await asyncio.sleep(0.2)
                for n in range(people):
                    chat = state.chats.get(FIRST_ID + n)
                    if chat is None or FIRST_ID + n in invitations:
                        continue
                    for message in chat.messages.values():
                        yes = [b for b in message.buttons() if b["callback_data"].endswith(":y")]
                        if yes:
                            invitations[FIRST_ID + n] = (
                                message.message_id,
                                yes[0]["callback_data"],
                            )
            random.seed(11)
            order = list(invitations)
            random.shuffle(order)
            delays = sorted(random.uniform(0, 60) for _ in order)
            latencies: list[float] = []
            arrivals: list[int] = []

            async def press(telegram_id: int, delay: float) -> None:
                await asyncio.sleep(delay / speed)
                message_id, data = invitations[telegram_id]
                arrivals.append(telegram_id)
                started = time.perf_counter()
                await Person(bot, telegram_id).press_data(message_id, data)
                latencies.append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(press(t, d) for t, d in zip(order, delays, strict=True)))
            elapsed = time.perf_counter() - began
            counts = await bot.store.meetings.counts(meeting.id)
            print(
                f"chat rush: {len(order)} presses of Yes through the emulator on {seats} seats in"
                f" {elapsed:.1f}s (a minute compressed {speed:.0f}x): confirmed {counts.yes},"
                f" over-booked {max(0, counts.yes - seats)}, waitlist {counts.waitlist};"
                f" reply p50 {percentile(latencies, 0.5) * 1000:.0f} ms"
                f" p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
            )
    finally:
        await emulator.stop()


async def main(speed: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await startup(Path(folder))
        await rush(Path(folder), speed)
        await reminders_at_once(Path(folder))
        await chat_rush(Path(folder), speed)


if __name__ == "__main__":
    # --speed 60 squeezes the minute into a second (a stress test of the writer lock).
    asyncio.run(
        main(float(sys.argv[sys.argv.index("--speed") + 1]) if "--speed" in sys.argv else 1)
    )
