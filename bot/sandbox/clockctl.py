"""The sandbox's clock control: the bot's injected clock moved on, never the machine's."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.clock import OffsetClock, SystemClock
from bot.context import Services

Jump = Literal["meeting", "hour", "day", "now"]
JUMPS: tuple[Jump, ...] = ("meeting", "hour", "day", "now")
BEFORE_MEETING = timedelta(hours=1)


class ClockRefused(Exception):
    """A jump that cannot be made (no meeting ahead); the message says why."""


class ClockControl:
    """An OffsetClock the bot reads, and the history of its offsets.

    The emulator stamps messages with the machine's time, as Telegram does; the page shows
    them in the bot's time, so it needs the offset that was in force when each one arrived.
    """

    def __init__(self) -> None:
        self.clock = OffsetClock()
        self._real = SystemClock()
        self._changes: list[float] = [0.0]  # machine instants (unix seconds) of offset changes
        self._offsets: list[timedelta] = [timedelta(0)]

    @property
    def offset(self) -> timedelta:
        return self._offsets[-1]

    def now(self) -> datetime:
        return self.clock.now()

    def move_by(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self._changes.append(self._real.now().timestamp())
        self._offsets.append(self.offset + delta)

    def bot_time(self, machine_unix: float) -> datetime:
        """The bot's time at a machine instant (a message's date)."""
        index = bisect.bisect_right(self._changes, machine_unix) - 1
        return datetime.fromtimestamp(machine_unix, UTC) + self._offsets[max(index, 0)]

    async def jump(self, services: Services, to: Jump) -> datetime:
        """Move the clock, then let what came due run now rather than at the machine's time."""
        if to == "hour":
            self.move_by(timedelta(hours=1))
        elif to == "day":
            self.move_by(timedelta(days=1))
        elif to == "now":
            self.move_by(-self.offset)
        else:
            self.move_by(await self._to_meeting(services) - self.now())
        await wake(services)
        return self.now()

    async def _to_meeting(self, services: Services) -> datetime:
        now = self.now()
        for meeting in await services.meetings.upcoming(20):
            target = meeting.start_at - BEFORE_MEETING
            if target > now:
                return target
        raise ClockRefused("no scheduled meeting starts more than an hour from now")


async def wake(services: Services) -> None:
    """Send the reminders due by the bot's clock and let the delivery worker look now.

    Reminder jobs sit on the JobQueue at the machine's instant of their due time, so after a
    jump they would fire late; the reminders due by the bot's clock are sent here instead, and
    the jobs find those rows closed.
    """
    for reminder in await services.reminders.due():
        await services.reminders.fire(reminder.id)
    services.wake_delivery()
