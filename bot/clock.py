"""The clock every service and the delivery worker read, so tests can choose the instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current instant from the operating system."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told (tests, benchmarks)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The instant last set."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to an instant."""
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by a duration."""
        self._now += delta


class OffsetClock:
    """The real time moved by an offset that can be changed while it runs.

    It keeps ticking, so delivery pacing and retries work as with the system clock; the sandbox's
    clock control and tests set far from today move it.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset

    def now(self) -> datetime:
        """The operating system's instant plus the offset."""
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        """Jump to an instant; time goes on from there."""
        self._offset = moment.astimezone(UTC) - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by a duration."""
        self._offset += delta
