"""The one answer to "may this person do X": roles from the config (admins) and from grants."""

from __future__ import annotations

from enum import StrEnum

from bot.config import Config
from storage import Store
from storage.models import Member, RoleGrant


class Permission(StrEnum):
    SEND_NOTICES = "send_notices"
    STOP_NOTICE = "stop_notice"
    MANAGE_MEETINGS = "manage_meetings"
    MANAGE_THEME_MEETINGS = "manage_theme_meetings"
    LOAD_SURVEYS = "load_surveys"
    VIEW_RESULTS = "view_results"
    VIEW_PROPOSALS = "view_proposals"
    EXPORT = "export"
    EXPORT_PII = "export_pii"
    MANAGE_ROLES = "manage_roles"
    VIEW_AUDIT = "view_audit"
    REVIEW_ASSOCIATIONS = "review_associations"
    # Names of those invited to a meeting, to mark attendance by tapping them (meetings).
    VIEW_ATTENDEE_NAMES = "view_attendee_names"


_STAFF = frozenset(
    {
        Permission.SEND_NOTICES,
        Permission.STOP_NOTICE,
        Permission.MANAGE_MEETINGS,
        Permission.MANAGE_THEME_MEETINGS,
        Permission.LOAD_SURVEYS,
        Permission.VIEW_RESULTS,
        Permission.VIEW_PROPOSALS,
        Permission.EXPORT,
    }
)
# What each role allows; a focal point's rights hold only within the theme of its grant's scope.
GRANTS: dict[str, frozenset[Permission]] = {
    "focal_point": frozenset(
        {Permission.MANAGE_THEME_MEETINGS, Permission.VIEW_RESULTS, Permission.VIEW_PROPOSALS}
    ),
    "coordinator": frozenset(
        {
            Permission.SEND_NOTICES,
            Permission.STOP_NOTICE,
            Permission.MANAGE_MEETINGS,
            Permission.MANAGE_THEME_MEETINGS,
            Permission.VIEW_RESULTS,
            Permission.VIEW_PROPOSALS,
            Permission.VIEW_ATTENDEE_NAMES,
        }
    ),
    "staff": _STAFF,
    "staff_pii": _STAFF | {Permission.EXPORT_PII, Permission.VIEW_ATTENDEE_NAMES},
    "admin": frozenset(Permission),
}
SCOPED_ROLES = frozenset({"focal_point"})


def allows(grants: list[tuple[str, str]], permission: Permission, theme: str | None = None) -> bool:
    """Whether any (role, scope) grant allows the permission (for `theme`, when scoped)."""
    for role, scope in grants:
        if permission not in GRANTS.get(role, frozenset()):
            continue
        if role in SCOPED_ROLES and (not scope or scope.removeprefix("theme:") != theme):
            continue  # a focal point's rights hold for their own theme only (none without one)
        return True
    return False


def themes_of(grants: list[tuple[str, str]]) -> set[str]:
    """The themes a person acts for as a focal point."""
    return {
        scope.removeprefix("theme:") for role, scope in grants if role in SCOPED_ROLES and scope
    }


class PermissionsService:
    def __init__(self, store: Store, config: Config) -> None:
        self._store = store
        self._config = config

    async def grants(self, member: Member | None, telegram_id: int) -> list[tuple[str, str]]:
        """(role, scope) pairs: config admins are admins; grants count for active members only."""
        found: list[tuple[str, str]] = []
        if telegram_id in self._config.admins.user_ids:
            found.append(("admin", ""))
        if member is not None and member.status == "active":
            grants: list[RoleGrant] = await self._store.roles.of_member(member.id)
            found.extend((grant.role, grant.scope) for grant in grants)
        return found

    async def allows(
        self,
        member: Member | None,
        telegram_id: int,
        permission: Permission,
        theme: str | None = None,
    ) -> bool:
        """May this person do this (for this theme)?"""
        return allows(await self.grants(member, telegram_id), permission, theme)
