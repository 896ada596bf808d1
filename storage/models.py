"""What storage hands back: pydantic models, never rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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


class OutboxRow(Model):
    id: int
    broadcast_id: int
    member_id: int
    chat_id: int
    language: Language
    state: Literal["pending", "sending", "sent", "blocked", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class DeliveryCounts(Model):
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    acknowledged: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending + self.sent + self.blocked + self.failed
