"""What storage hands back: pydantic models, never rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Language = Literal["es", "en", "fr"]
Country = Literal["CA", "US"]
MemberStatus = Literal["registering", "active", "deleted"]
Role = Literal["focal_point", "coordinator", "staff", "staff_pii", "admin"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Member(Model):
    id: int
    pseudonym: str
    telegram_id: int | None
    username: str | None
    language: Language
    status: MemberStatus
    step: str | None
    editing: bool
    name: str | None
    country: Country | None
    region: str | None
    city: str | None
    time_zone: str | None
    association_id: int | None
    association_none: bool
    sector: str | None
    themes: tuple[str, ...]
    email: str | None
    phone: str | None
    unreachable: bool
    edit_backup: str | None = None
    created_at: datetime
    updated_at: datetime
    registered_at: datetime | None
    deleted_at: datetime | None

    @property
    def settled_zone(self) -> str | None:
        """The time zone outside an edit under way: a member halfway through changing their
        place is written to on their old clock until they confirm the new one."""
        if self.editing and self.edit_backup:
            before = json.loads(self.edit_backup).get("time_zone")
            if isinstance(before, str) and before:
                return before
        return self.time_zone


class ConsentEvent(Model):
    id: int
    member_id: int
    action: Literal["accept", "withdraw"]
    notice_version: str
    channel: str
    at: datetime


class Association(Model):
    id: int
    name: str
    country: Country
    region: str | None
    city: str | None
    kind: str
    status: Literal["approved", "pending", "merged"]
    merged_into: int | None
    created_at: datetime
    proposed_by: int | None = None


class RoleGrant(Model):
    member_id: int
    role: Role
    scope: str
    granted_by: str
    granted_at: datetime


class AuditEntry(Model):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


class AudienceFilter(Model):
    """Who receives a notice: every field narrows (AND); values within a field widen (OR)."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # "US-TX", "CA-QC"
    cities: tuple[str, ...] = ()
    association_ids: tuple[int, ...] = ()
    themes: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    # Members who answered meeting `meeting_id` with one of these ('yes', 'maybe', 'no',
    # 'waitlist', 'attended'; empty means 'yes').
    meeting_id: int | None = None
    meeting_answers: tuple[str, ...] = ()

    def is_everyone(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class Recipient(Model):
    member_id: int
    telegram_id: int
    language: Language
    time_zone: str | None


class Broadcast(Model):
    id: int
    created_by: str
    created_at: datetime
    status: Literal["draft", "queued", "done", "cancelled"]
    step: str | None
    texts: dict[str, str]
    fallback_language: Language
    audience: AudienceFilter
    ask_ack: bool
    quiet_start: str | None
    quiet_end: str | None
    send_at: datetime | None
    organiser_zone: str
    paid: bool
    status_chat_id: int | None
    status_message_id: int | None
    total: int
    queued_at: datetime | None
    finished_at: datetime | None


NoticeState = Literal["pending", "sending", "sent", "blocked", "failed", "skipped"]


class OutboxRow(Model):
    """One notice to one member: a broadcast, an invitation, a reminder... (see `kind`)."""

    id: int
    kind: str = "broadcast"
    ref: int | None = None
    broadcast_id: int | None = None
    payload: dict[str, Any] = {}
    member_id: int
    chat_id: int
    language: Language
    state: NoticeState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class NoticeTarget(Model):
    """Who a notice goes to and when; a dedupe key makes enqueueing it twice a no-op."""

    member_id: int
    chat_id: int
    language: Language
    due: datetime
    dedupe_key: str | None = None


class SendResult(Model):
    """What the delivery worker learnt about one outbox row."""

    row_id: int
    state: NoticeState
    attempts: int
    next_attempt_at: datetime
    error: str | None = None
    message_id: int | None = None


class Conversation(Model):
    """The flow that currently owns a person's free text, Back and /cancel."""

    telegram_id: int
    flow: str
    step: str
    state: dict[str, Any]
    updated_at: datetime


class DeliveryCounts(Model):
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    acknowledged: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending + self.sent + self.blocked + self.failed + self.skipped


MeetingKind = Literal["national", "local", "thematic"]
MeetingStatus = Literal["scheduled", "cancelled", "done"]
RsvpAnswer = Literal["yes", "maybe", "no"]


class Meeting(Model):
    """A consultation meeting; times are UTC instants plus the organiser's zone and wall clock."""

    id: int
    kind: MeetingKind
    titles: dict[str, str]
    descriptions: dict[str, str]
    start_at: datetime
    zone: str
    local_start: str
    duration_minutes: int
    online_url: str | None
    venue: str | None
    capacity: int | None
    rsvp_deadline: datetime | None
    reminders: tuple[int, ...]
    audience: AudienceFilter
    round: str | None
    theme: str | None
    status: MeetingStatus
    sequence: int
    checkin_code: str
    created_by: str
    created_at: datetime
    minutes: str | None
    minutes_file_id: str | None
    alert_level: int


class Rsvp(Model):
    """One member's answer; a Yes with a waitlist position is waiting for a seat."""

    meeting_id: int
    member_id: int
    answer: RsvpAnswer
    waitlist_position: int | None
    answered_at: datetime
    checked_in_at: datetime | None
    checked_in_by: str | None

    @property
    def confirmed(self) -> bool:
        return self.answer == "yes" and self.waitlist_position is None


class RsvpOutcome(Model):
    """What one RSVP changed, decided in one transaction."""

    rsvp: Rsvp
    previous: RsvpAnswer | None
    waitlist_rank: int | None  # 1 = next in line
    promoted_member_id: int | None
    confirmed: int
    capacity: int | None
    alert_crossed: int | None  # 50, 80 or 100 when this answer crossed it first


class RsvpCounts(Model):
    yes: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0
    checked_in: int = 0


class MeetingReminder(Model):
    """One reminder of one meeting at one offset, for one start instant."""

    id: int
    meeting_id: int
    offset_minutes: int
    start_at: datetime
    due_at: datetime
    state: Literal["pending", "sent", "skipped"]
    fired_at: datetime | None
