"""A member's rights over their own data: a full copy, and erasure."""

from __future__ import annotations

from typing import Any

from storage import Store
from storage.models import Member


async def personal_data(store: Store, member: Member) -> dict[str, Any]:
    """Everything stored about the member, as one JSON-ready document."""
    association = (
        await store.associations.by_id(member.association_id) if member.association_id else None
    )
    consent = await store.members.consent_history(member.id)
    roles = await store.roles.of_member(member.id)
    audit = await store.audit.about(f"member:{member.id}")
    return {
        "member": member.model_dump(mode="json"),
        "association": association.model_dump(mode="json") if association else None,
        "consent_history": [event.model_dump(mode="json") for event in consent],
        "roles": [grant.model_dump(mode="json") for grant in roles],
        "role_changes": [entry.model_dump(mode="json") for entry in audit],
        "notices_received": await store.notices.of_member(member.id),
    }


async def erase(store: Store, member: Member, notice_version: str) -> None:
    """Withdraw consent and cut every link to the person (answers stay under the pseudonym)."""
    await store.members.erase(member.id, notice_version, "telegram")
