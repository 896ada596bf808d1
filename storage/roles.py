"""Role grants and the audit log."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database, from_db_time, to_db_time
from storage.models import AuditEntry, RoleGrant


class RolesRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def of_member(self, member_id: int) -> list[RoleGrant]:
        rows = await self._db.fetch_all(
            "SELECT * FROM roles WHERE member_id = ? ORDER BY role, scope", (member_id,)
        )
        return [
            RoleGrant.model_validate({**dict(row), "granted_at": from_db_time(row["granted_at"])})
            for row in rows
        ]

    async def grant(self, member_id: int, role: str, scope: str, actor: str) -> bool:
        """Grant a role and audit it; False when it was already held."""
        now = to_db_time(self._db.clock.now())
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "INSERT INTO roles (member_id, role, scope, granted_by, granted_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (member_id, role, scope, actor, now),
            )
            if changed == 0:
                return False
            await _audit(
                conn, now, actor, "grant", f"member:{member_id}", {"role": role, "scope": scope}
            )
        return True

    async def revoke(self, member_id: int, role: str, scope: str, actor: str) -> bool:
        """Revoke a role and audit it; False when it was not held."""
        now = to_db_time(self._db.clock.now())
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "DELETE FROM roles WHERE member_id = ? AND role = ? AND scope = ?",
                (member_id, role, scope),
            )
            if changed == 0:
                return False
            await _audit(
                conn, now, actor, "revoke", f"member:{member_id}", {"role": role, "scope": scope}
            )
        return True


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        async with self._db.transaction() as conn:
            await _audit(conn, to_db_time(self._db.clock.now()), actor, action, target, detail)

    async def about(self, target: str) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT * FROM audit_log WHERE target = ? ORDER BY id", (target,)
        )
        return [
            AuditEntry.model_validate({**dict(row), "at": from_db_time(row["at"])}) for row in rows
        ]

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            AuditEntry.model_validate({**dict(row), "at": from_db_time(row["at"])}) for row in rows
        ]


async def _audit(
    conn: Any, at: str, actor: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (at, actor, action, target, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )
