"""Reminder jobs on PTB's JobQueue, derived from the reminder rows (the database is the truth)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.ext import CallbackContext, JobQueue

from bot.clock import Clock
from bot.services.reminders import MeetingReminders
from storage.models import MeetingReminder

logger = logging.getLogger(__name__)

# APScheduler's default misfire_grace_time is 1 s: a job starting later (a busy loop, a suspended
# VPS) is dropped with only "was missed by" in the log (PTB #3642). None = run however late; the
# service itself refuses a reminder once the meeting has begun, so lateness cannot do harm.
JOB_KWARGS: dict[str, Any] = {
    "misfire_grace_time": None,
    "coalesce": True,
    "replace_existing": True,
}
# Reminders written by another process (the CLI) are picked up by this sweep.
SWEEP_SECONDS = 30


def job_name(reminder: MeetingReminder) -> str:
    return f"reminder:{reminder.meeting_id}:{reminder.offset_minutes}"


@dataclass
class StartReport:
    scheduled: int = 0
    sent: int = 0
    skipped: int = 0


class ReminderScheduler:
    """Schedules one job per pending reminder; late ones are sent at start unless too late.

    The meetings service's `ReminderJobs`: it calls `sync_meeting` when a meeting changes.
    """

    def __init__(
        self,
        job_queue: JobQueue[Any],
        reminders: MeetingReminders,
        clock: Clock,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._jobs = job_queue
        self._reminders = reminders
        self._clock = clock
        self._on_queued = on_queued
        self._seen = 0

    async def start(self) -> StartReport:
        """Recreate every job from the rows; fire those that came due while the bot was down."""
        report = StartReport()
        now = self._clock.now()
        for reminder in await self._reminders.pending():
            self._seen = max(self._seen, reminder.id)
            if reminder.due_at <= now:
                outcome = await self._reminders.fire(reminder.id)
                report.sent += outcome == "sent"
                report.skipped += outcome == "skipped"
            else:
                self.schedule(reminder)
                report.scheduled += 1
        if report.sent:
            self._on_queued()
        self._jobs.run_repeating(
            self._sweep,
            interval=SWEEP_SECONDS,
            first=SWEEP_SECONDS,
            name="reminders:sweep",
            job_kwargs={**JOB_KWARGS, "id": "reminders:sweep"},
        )
        logger.info(
            "Reminders: %d scheduled, %d sent late at start, %d skipped (meeting begun)",
            report.scheduled,
            report.sent,
            report.skipped,
        )
        return report

    def schedule(self, reminder: MeetingReminder) -> None:
        """One job per meeting and offset; a newer row (rescheduled meeting) replaces the job."""
        name = job_name(reminder)
        self._jobs.run_once(
            self._run,
            when=reminder.due_at,
            data=reminder.id,
            name=name,
            job_kwargs={**JOB_KWARGS, "id": name},
        )

    async def sync_meeting(self, meeting_id: int) -> None:
        """After a reschedule or cancellation: drop this meeting's jobs, add its pending ones."""
        for reminder in await self._reminders.of_meeting(meeting_id):
            for job in self._jobs.get_jobs_by_name(job_name(reminder)):
                job.schedule_removal()
        now = self._clock.now()
        for reminder in await self._reminders.of_meeting(meeting_id):
            self._seen = max(self._seen, reminder.id)
            if reminder.state == "pending" and reminder.due_at > now:
                self.schedule(reminder)

    async def sweep(self) -> int:
        """Send what is due, and schedule rows another process added; returns reminders sent."""
        sent = 0
        for reminder in await self._reminders.due():
            sent += await self._reminders.fire(reminder.id) == "sent"
        now = self._clock.now()
        for reminder in await self._reminders.pending(self._seen):
            self._seen = max(self._seen, reminder.id)
            if reminder.due_at > now + timedelta(seconds=1):
                self.schedule(reminder)
        if sent:
            self._on_queued()
        return sent

    async def _run(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = context.job
        if job is None or not isinstance(job.data, int):
            return
        outcome = await self._reminders.fire(job.data)
        if outcome == "sent":
            self._on_queued()
        elif outcome == "early":
            # The scheduler's clock ran ahead of the services' clock: try again at the due time.
            reminder = await self._reminders.get(job.data)
            if reminder is not None:
                self.schedule(reminder)

    async def _sweep(self, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.sweep()
