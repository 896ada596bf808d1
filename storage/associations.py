"""The registry of diaspora associations, including names members proposed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database, Row, from_db_time, to_db_time
from storage.models import Association


def _association(row: Row) -> Association:
    return Association.model_validate({**dict(row), "created_at": from_db_time(row["created_at"])})


@dataclass(frozen=True)
class _Sql:
    """What differs between the backends: finding a substring (instr / strpos)."""

    search: str


def _search(contains: str) -> str:
    return (
        "SELECT * FROM associations WHERE status = 'approved' AND country = ?"
        f" AND (CAST(? AS TEXT) = '' OR {contains}(fold(name), fold(?)) > 0)"
        " ORDER BY (region IS NOT DISTINCT FROM CAST(? AS TEXT)) DESC, name LIMIT ?"
    )


_SQLITE = _Sql(search=_search("instr"))
_POSTGRES = _Sql(search=_search("strpos"))


class AssociationsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._sql = _POSTGRES if database.dialect == "postgresql" else _SQLITE

    async def by_id(self, association_id: int) -> Association | None:
        row = await self._db.fetch_one("SELECT * FROM associations WHERE id = ?", (association_id,))
        return _association(row) if row else None

    async def search(
        self, country: str, region: str | None, text: str = "", limit: int = 8
    ) -> list[Association]:
        """Approved associations of a country whose name contains `text` (accents and case
        ignored), those of the member's region first."""
        rows = await self._db.fetch_all(self._sql.search, (country, text, text, region, limit))
        return [_association(row) for row in rows]

    async def pending(self) -> list[Association]:
        rows = await self._db.fetch_all(
            "SELECT * FROM associations WHERE status = 'pending' ORDER BY id"
        )
        return [_association(row) for row in rows]

    async def add(
        self,
        name: str,
        country: str,
        region: str | None,
        city: str | None,
        kind: str = "association",
        status: str = "approved",
        proposed_by: int | None = None,
    ) -> Association:
        """Insert, or return the existing live association of the same name and place."""
        existing = await self._db.fetch_one(
            "SELECT * FROM associations WHERE country = ? AND COALESCE(region, '') = ?"
            " AND lower(name) = lower(?) AND status != 'merged'",
            (country, region or "", name),
        )
        if existing:
            return _association(existing)
        new_id = await self._db.insert(
            "INSERT INTO associations (name, country, region, city, kind, status, created_at,"
            " proposed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                name,
                country,
                region,
                city,
                kind,
                status,
                to_db_time(self._db.clock.now()),
                proposed_by,
            ),
        )
        added = await self.by_id(new_id)
        assert added is not None
        return added

    async def add_many(
        self, rows: Iterable[tuple[str, str, str | None, str | None, str]]
    ) -> tuple[int, int]:
        """Import approved associations; return (added, already present)."""
        added = present = 0
        for name, country, region, city, kind in rows:
            before = await self._db.fetch_one(
                "SELECT id FROM associations WHERE country = ? AND COALESCE(region, '') = ?"
                " AND lower(name) = lower(?) AND status != 'merged'",
                (country, region or "", name),
            )
            if before:
                present += 1
                continue
            await self.add(name, country, region, city, kind)
            added += 1
        return added, present

    async def approve(self, association_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE associations SET status = 'approved' WHERE id = ? AND status = 'pending'",
            (association_id,),
        )
        return changed > 0

    async def merge(self, association_id: int, into_id: int) -> bool:
        """Fold a pending name into an existing association; its members follow."""
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE associations SET status = 'merged', merged_into = ?"
                " WHERE id = ? AND status = 'pending'"
                " AND EXISTS (SELECT 1 FROM associations WHERE id = ? AND status = 'approved')",
                (into_id, association_id, into_id),
            )
            if changed == 0:
                return False
            await conn.execute(
                "UPDATE members SET association_id = ? WHERE association_id = ?",
                (into_id, association_id),
            )
        return True
