"""Meeting reminders: firing a due one, and the port told of a meeting whose reminders changed.

The rows are the truth (storage/meeting_reminders.py). The running bot keeps one job per pending
row (bot/delivery/reminders.py); whatever changes a meeting's rows tells it through `ReminderJobs`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from bot.clock import Clock
from bot.services.meeting_rules import REMINDED, notice_targets
from storage import Store
from storage.db import to_db_time
from storage.models import MeetingReminder

Outcome = Literal["sent", "skipped", "closed", "early"]


class ReminderJobs(Protocol):
    """Whoever keeps the reminder jobs; the composition root gives the scheduler or `NO_JOBS`."""

    async def sync_meeting(self, meeting_id: int) -> None:
        """The meeting's reminder rows changed (created, rescheduled, cancelled): redo its jobs."""
        ...


class _NoJobs:
    """A process without a job queue (the CLI): the running bot's sweep picks the rows up."""

    async def sync_meeting(self, meeting_id: int) -> None:
        return None


NO_JOBS: ReminderJobs = _NoJobs()


class MeetingReminders:
    """Queues a due reminder to those coming (Yes and Maybe): once, and never after the start."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def pending(self, after_id: int = 0) -> list[MeetingReminder]:
        """Reminders not yet sent; with `after_id`, only the rows added since."""
        return await self._store.meetings.pending_reminders(after_id)

    async def of_meeting(self, meeting_id: int) -> list[MeetingReminder]:
        return await self._store.meetings.reminders_of(meeting_id)

    async def get(self, reminder_id: int) -> MeetingReminder | None:
        return await self._store.meetings.get_reminder(reminder_id)

    async def due(self, now: datetime | None = None) -> list[MeetingReminder]:
        return await self._store.meetings.due_reminders(now or self._clock.now())

    async def fire(self, reminder_id: int) -> Outcome:
        """Queue a due reminder to Yes and Maybe once; never after the start, never twice."""
        reminder = await self._store.meetings.get_reminder(reminder_id)
        now = self._clock.now()
        if reminder is None or reminder.state != "pending":
            return "closed"
        if now < reminder.due_at:
            return "early"
        meeting = await self._store.meetings.get(reminder.meeting_id)
        if (
            meeting is None
            or meeting.status != "scheduled"
            or meeting.start_at != reminder.start_at
            or now >= meeting.start_at
        ):
            await self._store.meetings.close_reminder(reminder.id, "skipped", now)
            return "skipped"
        start_iso = to_db_time(reminder.start_at)
        recipients = await self._store.meetings.recipients(meeting.id, REMINDED)
        key = f"rem:{meeting.id}:{reminder.offset_minutes}:{start_iso}"
        await self._store.notices.enqueue(
            "meeting_reminder",
            meeting.id,
            notice_targets(recipients, key, now),
            {"offset": reminder.offset_minutes, "start": start_iso},
        )
        await self._store.meetings.close_reminder(reminder.id, "sent", now)
        return "sent"
