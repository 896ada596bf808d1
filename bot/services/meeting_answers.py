"""Who comes: answers to invitations, check-in at the door, attendance marked by organisers.

`MeetingAnswers` is the half of `MeetingsService` that decides seats; the other half
(`bot.services.meetings`) creates, changes and reminds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.clock import Clock
from bot.config import Config
from bot.services.errors import InputError
from bot.services.meeting_rules import (
    CHECKIN_OPENS,
    RsvpResult,
    meeting_end,
    normalise_code,
    notice_targets,
)
from bot.services.permissions import Permission, allows
from storage import Store
from storage.meeting_answers import CheckIn as CheckIn
from storage.models import Meeting, Member, NoticeTarget, Recipient, RsvpAnswer

# Where a person stands, as the answer list shows it.
Standing = Literal["yes", "waitlist", "maybe", "no", "invited"]


@dataclass(frozen=True)
class Attendee:
    """One line of a meeting's answer list: who, where they stand, whether they came."""

    member_id: int
    name: str | None
    standing: Standing
    checked_in: bool


def fold(text: str) -> str:
    """Lower case without accents, so 'jose' finds 'José' and 'cuscatlan' 'Cuscatlán'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def names_visible(grants: list[tuple[str, str]], meeting: Meeting, actor: str) -> bool:
    """Names of those invited: coordinators, staff_pii and admins, and the meeting's organiser."""
    return allows(grants, Permission.VIEW_ATTENDEE_NAMES) or meeting.created_by == actor


class MeetingAnswers:
    """Seats: answers, the waiting line, check-in and attendance (one transaction each)."""

    _store: Store
    _config: Config
    _clock: Clock

    def _targets(self, recipients: Sequence[Recipient], key: str | None) -> list[NoticeTarget]:
        return notice_targets(recipients, key, self._clock.now())

    async def is_invited(self, meeting: Meeting, member: Member) -> bool:
        """Invited: the member has answered already, or is (still) in the meeting's audience."""
        if await self._store.meetings.rsvp_of(meeting.id, member.id) is not None:
            return True
        return await self._store.meetings.in_audience(meeting.audience, member.id)

    async def _alert_creator(self, meeting: Meeting, level: int | None) -> None:
        """The organiser hears once per level that the meeting is filling up."""
        if level is None:
            return
        creator = await self._store.meetings.recipient_by_actor(meeting.created_by)
        if creator is not None:
            await self._store.notices.enqueue(
                "capacity_alert",
                meeting.id,
                self._targets([creator], f"cap:{meeting.id}:{level}"),
                {"level": level},
            )

    # --- answers -----------------------------------------------------------------------------

    async def rsvp(self, meeting_id: int, member: Member, answer: RsvpAnswer) -> RsvpResult:
        """Record an answer, or refuse it politely (InputError) when it cannot be taken."""
        meeting = await self._store.meetings.get(meeting_id)
        now = self._clock.now()
        if meeting is None or member.status != "active":
            raise InputError("meeting.refuse.unknown")
        if meeting.status == "cancelled":
            raise InputError("meeting.refuse.cancelled")
        if meeting.status == "done" or now >= meeting.start_at:
            raise InputError("meeting.refuse.past")
        existing = await self._store.meetings.rsvp_of(meeting.id, member.id)
        # After the deadline nobody new comes in, but anyone may still give up a seat (and the
        # first in line is promoted).
        giving_up = existing is not None and answer == "no"
        if meeting.rsvp_deadline is not None and now > meeting.rsvp_deadline and not giving_up:
            raise InputError("meeting.refuse.deadline")
        if existing is None and not await self._store.meetings.in_audience(
            meeting.audience, member.id
        ):
            raise InputError("meeting.refuse.not_invited")
        outcome = await self._store.meetings.answer(meeting.id, member.id, answer, now)
        if outcome.promoted_member_id is not None:
            promoted = await self._store.members.by_id(outcome.promoted_member_id)
            if promoted is not None and promoted.telegram_id is not None:
                await self._store.notices.enqueue(
                    "waitlist_promoted",
                    meeting.id,
                    [
                        NoticeTarget(
                            member_id=promoted.id,
                            chat_id=promoted.telegram_id,
                            language=promoted.language,
                            due=now,
                        )
                    ],
                )
        await self._alert_creator(meeting, outcome.alert_crossed)
        was_confirmed = existing is not None and existing.confirmed
        return RsvpResult(meeting=meeting, outcome=outcome, was_confirmed=was_confirmed)

    # --- attendance --------------------------------------------------------------------------

    def checkin_open(self, meeting: Meeting) -> bool:
        now = self._clock.now()
        # Minutes attached during the meeting must not close the door on those still arriving.
        return meeting.status in (
            "scheduled",
            "done",
        ) and meeting.start_at - CHECKIN_OPENS <= now <= meeting_end(meeting)

    async def by_code(self, code: str) -> Meeting | None:
        """The meeting whose check-in code this is (case, spaces and dashes ignored)."""
        return await self._store.meetings.by_code(normalise_code(code))

    async def check_in(
        self, member: Member, code: str | None = None, meeting_id: int | None = None
    ) -> tuple[Meeting, CheckIn]:
        """A member at the door, by code or button, during the window; within the seats."""
        meeting = None
        if code is not None:
            meeting = await self.by_code(code)
        elif meeting_id is not None:
            meeting = await self._store.meetings.get(meeting_id)
        if meeting is None:
            raise InputError("meeting.checkin.bad_code")
        if not self.checkin_open(meeting):
            raise InputError("meeting.checkin.closed")
        if not await self.is_invited(meeting, member):
            raise InputError("meeting.refuse.not_invited")
        result = await self._store.meetings.check_in(
            meeting.id, member.id, member.pseudonym, self._clock.now()
        )
        await self._alert_creator(meeting, result.alert_crossed)
        return meeting, result

    async def mark_attendance(self, meeting_id: int, member_id: int, by: str) -> CheckIn:
        """An organiser records that an invited member came (from the check-in window on)."""
        meeting = await self._store.meetings.get(meeting_id)
        if meeting is None or meeting.status == "cancelled":
            raise InputError("meeting.refuse.unknown")
        if self._clock.now() < meeting.start_at - CHECKIN_OPENS:
            raise InputError("meeting.checkin.closed")
        member = await self._store.members.by_id(member_id)
        if (
            member is None
            or member.status != "active"
            or not await self.is_invited(meeting, member)
        ):
            raise InputError("meeting.refuse.not_invited")
        result = await self._store.meetings.check_in(meeting_id, member_id, by, self._clock.now())
        if result.fresh:
            await self._store.audit.record(
                by, "meeting.attendance", f"meeting:{meeting_id}", {"member": member.pseudonym}
            )
        await self._alert_creator(meeting, result.alert_crossed)
        return result

    async def unmark_attendance(self, meeting_id: int, member_id: int, by: str) -> bool:
        """A mark made by mistake taken back (the seat stays); False if there was none."""
        undone = await self._store.meetings.undo_check_in(meeting_id, member_id)
        if undone:
            await self._store.audit.record(
                by, "meeting.attendance_undone", f"meeting:{meeting_id}", {}
            )
        return undone

    async def attendee_list(self, meeting: Meeting, search: str | None = None) -> list[Attendee]:
        """Those who answered (seats first, then the line, Maybe, No); with a search, also any
        invited member whose name matches, so a walk-in who never answered can be found."""
        people = [
            Attendee(
                rsvp.member_id,
                name,
                "waitlist" if rsvp.waitlist_position is not None else rsvp.answer,
                rsvp.checked_in_at is not None,
            )
            for rsvp, name in await self._store.meetings.answered_people(meeting.id)
        ]
        if not search or not search.strip():
            return people
        wanted = fold(search.strip())
        found = [person for person in people if person.name and wanted in fold(person.name)]
        known = {person.member_id for person in people}
        for member_id, name in await self._store.meetings.audience_names(meeting.audience):
            if member_id not in known and wanted in fold(name):
                found.append(Attendee(member_id, name, "invited", False))
        return found
