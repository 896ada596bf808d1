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
