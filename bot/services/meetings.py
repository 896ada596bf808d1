"""Meetings: creation rules, invitations, answers, changes, check-in, minutes, reminders."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.services import timefmt, typed_dates
from bot.services.errors import InputError, clean_text
from bot.services.meeting_minutes import MeetingMinutes, MeetingRecord, MinutesRecord
from bot.services.meeting_rules import (
    CODE_ALPHABET as CODE_ALPHABET,
)
from bot.services.meeting_rules import (
    CODE_LENGTH as CODE_LENGTH,
)
from bot.services.meeting_rules import (
    CONCERNED,
    DEFAULT_REMINDERS,
    DURATION_MAX_MINUTES,
    KINDS,
    TITLE_MAX,
    VENUE_MAX,
    MeetingRequest,
    clean_description,
    clean_url,
    has_ended,
    new_checkin_code,
)
from bot.services.meeting_rules import (
    RsvpResult as RsvpResult,
)
from bot.services.reminders import ReminderJobs
from bot.services.stepkit import fold
from storage import Store
from storage.db import to_db_time
from storage.models import (
    AudienceFilter,
    Meeting,
    Member,
    Recipient,
    Rsvp,
    RsvpCounts,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "TITLE_MAX",
    "MeetingRequest",
    "MeetingsService",
    "RsvpResult",
    "clean_description",
    "clean_url",
    "end_from_text",
]

logger = logging.getLogger(__name__)


def end_from_text(start: datetime, text: str, zone: str) -> int:
    """An end typed as a wall time ('2026-12-05 11:30') -> the duration in minutes."""
    end = timefmt.parse_local(text, zone)
    if end <= start:
        raise InputError("meeting.error.end_before_start")
    return int((end - start).total_seconds() // 60)


class MeetingsService(MeetingMinutes):
    """Meetings: created, read, changed, reminded; seats and attendance in `MeetingAnswers`,
    minutes in `MeetingMinutes`."""

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock,
        jobs: ReminderJobs,
        record: MeetingRecord | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        # Told whenever a meeting's reminder rows change, so the running bot redoes its jobs.
        self._jobs = jobs
        self._record = record if record is not None else MinutesRecord(store)

    # --- creating ----------------------------------------------------------------------------

    def validate(self, request: MeetingRequest) -> tuple[dict[str, Any], tuple[int, ...]]:
        """Every rule of a new meeting checked before anything is written: fields and offsets."""
        now = self._clock.now()
        titles = {
            language: clean_text(text, TITLE_MAX, need_letter=False)
            for language, text in request.titles.items()
            if text is not None and text.strip()
        }
        if not titles:
            raise InputError("meeting.error.title")
        for language in titles:
            if language not in ("es", "en", "fr"):
                raise InputError("meeting.error.title")
        descriptions = {
            language: clean_description(text)
            for language, text in request.descriptions.items()
            if text is not None and text.strip()
        }
        if request.kind not in KINDS:
            raise InputError("meeting.error.kind")
        theme = request.theme or None
        if theme is not None and theme not in self._config.programme.thematic_groups:
            raise InputError("meeting.error.theme", theme=theme)
        if request.kind == "thematic" and theme is None:
            raise InputError("meeting.error.theme_needed")
        zone = timefmt.zone_info(request.zone).key
        language = self._config.programme.default_language
        start = typed_dates.parse_when(request.start, zone, now, language)
        if start <= now:
            raise InputError("meeting.error.past")
        duration = (
            request.duration
            if isinstance(request.duration, int)
            else timefmt.parse_duration(request.duration)
        )
        if duration <= 0:
            raise InputError("meeting.error.end_before_start")
        if duration > DURATION_MAX_MINUTES:
            raise InputError("meeting.error.duration_long")
        online_url = clean_url(request.online_url)
        venue = clean_text(request.venue, VENUE_MAX) if request.venue else None
        if online_url is None and venue is None:
            raise InputError("meeting.error.where")
        if request.capacity is not None and request.capacity <= 0:
            raise InputError("meeting.error.capacity")
        deadline = None
        if request.rsvp_deadline:
            deadline = typed_dates.parse_when(request.rsvp_deadline, zone, now, language)
            if deadline <= now or deadline > start:
                raise InputError("meeting.error.deadline")
        if request.reminders is None:
            offsets = DEFAULT_REMINDERS
        elif isinstance(request.reminders, str):
            offsets = timefmt.parse_offsets(request.reminders)
        else:
            offsets = tuple(sorted({int(value) for value in request.reminders}, reverse=True))
            if any(value <= 0 or value > timefmt.OFFSET_MAX_MINUTES for value in offsets):
                raise InputError("meeting.error.reminders_format")
        round_name = clean_text(request.round, 100, need_letter=False) if request.round else None
        audience = request.audience
        if request.kind == "thematic" and theme and audience.is_everyone():
            # A thematic meeting is for its group unless the organiser says otherwise.
            audience = audience.model_copy(update={"themes": (theme,)})
        fields: dict[str, Any] = {
            "kind": request.kind,
            "titles": titles,
            "descriptions": descriptions,
            "start_at": start,
            "zone": zone,
            "local_start": timefmt.wall_clock(start, zone),
            "duration_minutes": duration,
            "online_url": online_url,
            "venue": venue,
            "capacity": request.capacity,
            "rsvp_deadline": deadline,
            "reminders": offsets,
            "audience": audience,
            "round": round_name,
            "theme": theme,
        }
        return fields, offsets

    async def create(self, request: MeetingRequest, created_by: str) -> Meeting:
        """Validate everything, then write the meeting and its reminders at once."""
        fields, offsets = self.validate(request)
        code = new_checkin_code()
        while await self._store.meetings.code_exists(code):
            code = new_checkin_code()
        meeting = await self._store.meetings.create(
            fields, created_by, self._clock.now(), code, offsets
        )
        await self._store.audit.record(created_by, "meeting.create", f"meeting:{meeting.id}", {})
        await self._jobs.sync_meeting(meeting.id)
        return meeting

    # --- reading ----------------------------------------------------------------------------

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self._store.meetings.get(meeting_id)

    async def listing(self, since: datetime | None, limit: int) -> list[Meeting]:
        """Meetings ending after `since` (all of them if None), in any status, soonest first."""
        return await self._store.meetings.listing(since, limit)

    async def upcoming(self, limit: int = 100) -> list[Meeting]:
        """Scheduled meetings not yet over, soonest first."""
        meetings = await self._store.meetings.listing(self._clock.now(), limit)
        return [meeting for meeting in meetings if meeting.status == "scheduled"]

    async def audience_size(self, audience: AudienceFilter, organiser: str | None = None) -> int:
        """How many members an invitation would reach: the audience less its organiser."""
        count = await self._store.broadcasts.audience_count(audience)
        member_id = await self._organiser_id(organiser)
        if member_id is not None and await self._store.meetings.in_audience(audience, member_id):
            count -= 1
        return count

    async def known_places(
        self, places: Mapping[str, Sequence[str]]
    ) -> tuple[dict[str, list[str]], list[str]]:
        """A typed audience with its cities in the members' own spelling (case and accents
        ignored: "montreal" finds "Montréal"), and what is neither a known state/province
        (`places["unknown"]`) nor a city any active member lives in."""
        known = {fold(city): city for city in await self._store.meetings.member_cities()}
        cities = places.get("cities", ())
        unknown = [*places.get("unknown", ()), *(c for c in cities if fold(c) not in known)]
        found = list(dict.fromkeys(known[fold(c)] for c in cities if fold(c) in known))
        return {"regions": list(places.get("regions", ())), "cities": found}, unknown

    async def _organiser_id(self, actor: str | None) -> int | None:
        recipient = await self._store.meetings.recipient_by_actor(actor) if actor else None
        return recipient.member_id if recipient is not None else None

    async def past_of(self, member: Member, limit: int = 5) -> list[Meeting]:
        """Meetings the member answered that are over, latest first (with their minutes)."""
        return await self._store.meetings.past_of_member(member.id, self._clock.now(), limit)

    async def invitation(self, meeting: Meeting, member: Member) -> tuple[bool, Rsvp | None]:
        """Whether the member is invited (as `is_invited`), and their answer if they gave one."""
        rsvp = await self._store.meetings.rsvp_of(meeting.id, member.id)
        if rsvp is not None:
            return True, rsvp
        return await self._store.meetings.in_audience(meeting.audience, member.id), None

    async def rsvp_of(self, meeting_id: int, member_id: int) -> Rsvp | None:
        """The member's answer to the meeting, if any."""
        return await self._store.meetings.rsvp_of(meeting_id, member_id)

    async def counts(self, meeting_id: int) -> RsvpCounts:
        """How many said yes, maybe, no, wait for a seat, and checked in."""
        return await self._store.meetings.counts(meeting_id)

    async def answers(self, meeting_id: int) -> list[Rsvp]:
        """Every answer to the meeting, in the order they were given."""
        return await self._store.meetings.answers(meeting_id)

    async def waitlist(self, meeting_id: int) -> list[Rsvp]:
        """Those waiting for a seat, first in line first."""
        return await self._store.meetings.waitlist(meeting_id)

    async def waitlist_rank(self, meeting_id: int, member_id: int) -> int | None:
        """The member's place in the queue for a seat (1: next in), None when not waiting."""
        return await self._store.meetings.waitlist_rank(meeting_id, member_id)

    async def attendees(self, meeting_id: int) -> list[Rsvp]:
        """Those who checked in (or were marked present), in order of arrival."""
        return await self._store.meetings.attendees(meeting_id)

    async def recipient_by_actor(self, actor: str) -> Recipient | None:
        """The reachable member behind an actor pseudonym (operators have no chat of their own)."""
        return await self._store.meetings.recipient_by_actor(actor)

    async def find_person(self, who: str) -> Member | None:
        """The member an organiser named: '@username', or else an active member's pseudonym."""
        if who.startswith("@"):
            return await self._store.members.by_username(who[1:])
        member_id = await self._store.meetings.member_id_by_pseudonym(who)
        return await self._store.members.by_id(member_id) if member_id is not None else None

    # --- notices -----------------------------------------------------------------------------

    async def invite(self, meeting: Meeting) -> int:
        """Queue one invitation per audience member but the organiser (again: newcomers only)."""
        organiser = await self._organiser_id(meeting.created_by)
        count = 0
        async for chunk in self._store.broadcasts.audience(meeting.audience):
            invited = [person for person in chunk if person.member_id != organiser]
            count += await self._store.notices.enqueue(
                "meeting_invite", meeting.id, self._targets(invited, f"inv:{meeting.id}")
            )
        return count

    async def _notify(
        self, kind: str, meeting: Meeting, answers: Sequence[str], key: str | None
    ) -> int:
        recipients = await self._store.meetings.recipients(meeting.id, answers)
        return await self._store.notices.enqueue(kind, meeting.id, self._targets(recipients, key))

    # --- changes -----------------------------------------------------------------------------

    async def reschedule(
        self, meeting_id: int, start: str, zone: str | None, by: str, duration: str | None = None
    ) -> Meeting:
        """A new start (organiser's wall clock): SEQUENCE+1, new reminders, those concerned told."""
        meeting = await self._store.meetings.get(meeting_id)
        if meeting is None:
            raise InputError("meeting.refuse.unknown")
        if meeting.status != "scheduled":
            raise InputError("meeting.refuse.cancelled")
        now = self._clock.now()
        if has_ended(meeting, now):
            raise InputError("meeting.refuse.past")
        new_zone = timefmt.zone_info(zone or meeting.zone).key
        language = self._config.programme.default_language
        new_start = typed_dates.parse_when(start, new_zone, now, language)
        if new_start <= now:
            raise InputError("meeting.error.past")
        fields: dict[str, Any] = {
            "start_at": new_start,
            "zone": new_zone,
            "local_start": timefmt.wall_clock(new_start, new_zone),
        }
        if duration:
            minutes = timefmt.parse_duration(duration)
            if minutes > DURATION_MAX_MINUTES:
                raise InputError("meeting.error.duration_long")
            fields["duration_minutes"] = minutes
        if meeting.rsvp_deadline is not None and meeting.rsvp_deadline > new_start:
            fields["rsvp_deadline"] = new_start
        updated = await self._store.meetings.reschedule(meeting.id, fields, meeting.reminders, now)
        # Reminders already queued for the old time would give the wrong hour.
        await self._store.notices.drop_pending("meeting_reminder", meeting.id)
        await self._notify(
            "meeting_update", updated, CONCERNED, f"upd:{updated.id}:{updated.sequence}"
        )
        await self._store.audit.record(
            by, "meeting.reschedule", f"meeting:{meeting.id}", {"start": to_db_time(new_start)}
        )
        await self._jobs.sync_meeting(meeting.id)
        return updated

    async def cancel(self, meeting_id: int, by: str) -> Meeting:
        """Cancelled for good: reminders gone, unsent notices withdrawn, those concerned told."""
        meeting = await self._store.meetings.get(meeting_id)
        if meeting is not None and has_ended(meeting, self._clock.now()):
            raise InputError("meeting.refuse.past")
        cancelled = await self._store.meetings.cancel(meeting_id)
        if cancelled is None:
            raise InputError("meeting.refuse.cancelled")
        for kind in ("meeting_invite", "meeting_reminder", "meeting_update", "waitlist_promoted"):
            await self._store.notices.drop_pending(kind, meeting_id)
        await self._notify("meeting_cancel", cancelled, CONCERNED, f"cancel:{meeting_id}")
        await self._store.audit.record(by, "meeting.cancel", f"meeting:{meeting_id}", {})
        await self._jobs.sync_meeting(meeting_id)
        return cancelled
