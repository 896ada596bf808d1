"""Who may do what: roles from the configuration (admins) and from grants made in chat."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from storage import Store
from storage.models import AuditEntry, Member

ROLES: tuple[str, ...] = ("focal_point", "coordinator", "staff", "staff_pii", "admin")
_COORDINATOR_COMMANDS = ("broadcast", "broadcasts", "newmeeting", "proposals", "results")
_STAFF_COMMANDS = (*_COORDINATOR_COMMANDS, "phrases", "export", "evidence")
# What each role may use beyond a member's commands (admins may use everything).
PRIVILEGED_COMMANDS: dict[str, tuple[str, ...]] = {
    "focal_point": ("newmeeting", "proposals", "results", "phrases"),
    "coordinator": _COORDINATOR_COMMANDS,
    "staff": _STAFF_COMMANDS,
    "staff_pii": _STAFF_COMMANDS,
    "admin": (*_STAFF_COMMANDS, "grant", "revoke", "pending", "audit"),
}


MEMBER_COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "meetings",
    "surveys",
    "propose",
    "profile",
    "language",
    "mydata",
    "deleteme",
    "cancel",
)


def commands_for(roles: set[str]) -> list[str]:
    """Every command a person with these roles may use, members' first."""
    commands = list(MEMBER_COMMANDS)
    for role in sorted(roles):
        for command in PRIVILEGED_COMMANDS.get(role, ()):
            if command not in commands:
                commands.append(command)
    return commands


class RolesService:
    def __init__(self, store: Store, config: Config) -> None:
        self._store = store
        self._config = config

    async def roles_of(self, member: Member | None, telegram_id: int) -> set[str]:
        roles = {"admin"} if telegram_id in self._config.admins.user_ids else set()
        if member is not None and member.status == "active":
            roles.update(grant.role for grant in await self._store.roles.of_member(member.id))
        return roles

    async def is_admin(self, member: Member | None, telegram_id: int) -> bool:
        return "admin" in await self.roles_of(member, telegram_id)

    async def find_member(self, reference: str) -> Member | None:
        """An active member by @username or numeric Telegram id."""
        reference = reference.strip()
        if reference.lstrip("-").isdigit():
            member = await self._store.members.by_telegram_id(int(reference))
        else:
            member = await self._store.members.by_username(reference)
        return member if member and member.status == "active" else None

    async def recent_audit(self, limit: int) -> list[AuditEntry]:
        """The latest audit entries (grants, revocations, exports ...), newest first."""
        return await self._store.audit.recent(limit)

    async def record_audit(
        self, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        """One entry in the audit log (a refusal, a notice sent ...) for what a handler did."""
        await self._store.audit.record(actor, action, target, detail)

    async def grant(self, target: Member, role: str, scope: str, actor: str) -> bool:
        return await self._store.roles.grant(target.id, role, scope, actor)

    async def revoke(self, target: Member, role: str, scope: str, actor: str) -> bool:
        return await self._store.roles.revoke(target.id, role, scope, actor)
