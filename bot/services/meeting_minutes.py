"""Minutes and outcomes of a meeting: kept with it, added to the record, told to those who came."""

from __future__ import annotations

from typing import Any, Protocol

from bot.services.errors import InputError
from bot.services.meeting_answers import MeetingAnswers
from bot.services.meeting_rules import MINUTES_TOLD, clean_description, meeting_end
from storage import Store
from storage.db import to_db_time
from storage.models import Meeting


class MeetingRecord(Protocol):
    """Where meeting outcomes join the policy-formulation record (issue: record/exports)."""

    async def meeting_outcome(self, meeting: Meeting, actor: str) -> None: ...


class MinutesRecord:
    """Minutes and outcome files join the policy-formulation record with their meeting."""

    def __init__(self, store: Store) -> None:
        self._record = store.record

    async def meeting_outcome(self, meeting: Meeting, actor: str) -> None:
        """Append the meeting's minutes (text) and outcome file (its id) as record entries."""
        if meeting.minutes:
            await self._record.append_meeting_entry(
                meeting.id, "minutes", meeting.minutes, meeting.theme, meeting.round, actor
            )
        if meeting.minutes_file_id:
            await self._record.append_meeting_entry(
                meeting.id,
                "outcome",
                f"file:{meeting.minutes_file_id}",
                meeting.theme,
                meeting.round,
                actor,
            )


class MeetingMinutes(MeetingAnswers):
    """Attaching minutes (text and/or a file), once the meeting has begun."""

    _record: MeetingRecord | None

    async def attach_minutes(
        self, meeting_id: int, text: str | None, file_id: str | None, by: str
    ) -> Meeting:
        """Minutes/outcomes (text and/or a file) after the meeting, kept with it in the record."""
        meeting = await self._store.meetings.get(meeting_id)
        if meeting is None or meeting.status == "cancelled":
            raise InputError("meeting.refuse.unknown")
        now = self._clock.now()
        if now < meeting.start_at:
            raise InputError("meeting.minutes.too_early")
        fields: dict[str, Any] = {}
        if text:
            fields["minutes"] = clean_description(text)
        if file_id:
            fields["minutes_file_id"] = file_id
        if not fields:
            raise InputError("error.empty")
        if now >= meeting_end(meeting):
            fields["status"] = "done"
        updated = await self._store.meetings.update(meeting_id, fields)
        await self._store.audit.record(by, "meeting.minutes", f"meeting:{meeting_id}", {})
        # Each addition (text, then a file) is news to those who came or held a seat.
        told = await self._store.meetings.recipients(meeting_id, MINUTES_TOLD)
        key = f"min:{meeting_id}:{to_db_time(now)}"
        await self._store.notices.enqueue("meeting_minutes", meeting_id, self._targets(told, key))
        if self._record is not None:
            await self._record.meeting_outcome(updated, by)
        return updated
