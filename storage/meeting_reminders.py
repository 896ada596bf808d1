"""The reminder rows of meetings: the source of truth the JobQueue's jobs are derived from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from storage.db import Database, Row, Transaction, from_db_time, to_db_time
from storage.models import MeetingReminder


def _reminder(row: Row) -> MeetingReminder:
    data = dict(row)
    for key in ("start_at", "due_at", "fired_at"):
        if data[key] is not None:
            data[key] = from_db_time(data[key])
    return MeetingReminder.model_validate(data)


class ReminderRows:
    """Reading and closing reminder rows (written with their meeting, see insert_reminders)."""

    _db: Database

    async def pending_reminders(self, after_id: int = 0) -> list[MeetingReminder]:
        """Reminders not yet sent or skipped (with an id above `after_id`), soonest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM meeting_reminders WHERE state = 'pending' AND id > ?"
            " ORDER BY due_at, id",
            (after_id,),
        )
        return [_reminder(row) for row in rows]

    async def reminders_of(self, meeting_id: int) -> list[MeetingReminder]:
        rows = await self._db.fetch_all(
            "SELECT * FROM meeting_reminders WHERE meeting_id = ? ORDER BY start_at, due_at, id",
            (meeting_id,),
        )
        return [_reminder(row) for row in rows]

    async def due_reminders(self, now: datetime) -> list[MeetingReminder]:
        rows = await self._db.fetch_all(
            "SELECT * FROM meeting_reminders WHERE state = 'pending' AND due_at <= ?"
            " ORDER BY due_at, id",
            (to_db_time(now),),
        )
        return [_reminder(row) for row in rows]

    async def get_reminder(self, reminder_id: int) -> MeetingReminder | None:
        row = await self._db.fetch_one(
            "SELECT * FROM meeting_reminders WHERE id = ?", (reminder_id,)
        )
        return _reminder(row) if row else None

    async def close_reminder(self, reminder_id: int, state: str, now: datetime) -> bool:
        """pending -> sent/skipped; False if someone else already closed it."""
        changed = await self._db.execute(
            "UPDATE meeting_reminders SET state = ?, fired_at = ? WHERE id = ?"
            " AND state = 'pending'",
            (state, to_db_time(now), reminder_id),
        )
        return changed > 0


async def insert_reminders(
    conn: Transaction,
    meeting_id: int,
    start_at: datetime,
    offsets: Iterable[int],
    now: datetime,
) -> None:
    rows = []
    for offset in offsets:
        due = start_at - timedelta(minutes=offset)
        # A reminder already due when the meeting is created or moved would only repeat the
        # invitation or update the person just received: it is recorded as skipped.
        state = "pending" if due > now else "skipped"
        rows.append((meeting_id, offset, to_db_time(start_at), to_db_time(due), state))
    # A meeting moved back to a start it had before gets that start's skipped reminders back.
    await conn.execute_many(
        "INSERT INTO meeting_reminders (meeting_id, offset_minutes, start_at, due_at, state)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting_id, offset_minutes, start_at)"
        " DO UPDATE SET state = excluded.state, fired_at = NULL"
        " WHERE meeting_reminders.state = 'skipped'",
        rows,
    )
