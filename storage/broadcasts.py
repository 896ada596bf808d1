"""Broadcasts and the durable outbox the delivery worker drains."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from storage.audience import audience_sql
from storage.db import Database, Row, from_db_time, to_db_time
from storage.models import AudienceFilter, Broadcast, DeliveryCounts, Recipient

_DRAFT_FIELDS = frozenset(
    {
        "step",
        "texts",
        "fallback_language",
        "audience",
        "ask_ack",
        "quiet_start",
        "quiet_end",
        "send_at",
        "paid",
        "status",
        "status_chat_id",
        "status_message_id",
    }
)


def _broadcast(row: Row) -> Broadcast:
    data = dict(row)
    data["texts"] = json.loads(data["texts"])
    data["audience"] = AudienceFilter.model_validate(json.loads(data["audience"]))
    for key in ("created_at", "send_at", "queued_at", "finished_at"):
        if data[key] is not None:
            data[key] = from_db_time(data[key])
    return Broadcast.model_validate(data)


def _value(key: str, value: Any) -> Any:
    if key == "texts":
        return json.dumps(dict(value), ensure_ascii=False)
    if key == "audience":
        return value.model_dump_json() if isinstance(value, AudienceFilter) else json.dumps(value)
    if key == "send_at" and value is not None:
        return to_db_time(value)
    if isinstance(value, bool):
        return int(value)
    return value


class BroadcastsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create_draft(
        self, created_by: str, fallback_language: str, organiser_zone: str, chat_id: int | None
    ) -> Broadcast:
        broadcast_id = await self._db.insert(
            "INSERT INTO broadcasts (created_by, created_at, step, fallback_language,"
            " organiser_zone, status_chat_id) VALUES (?, ?, 'text', ?, ?, ?) RETURNING id",
            (
                created_by,
                to_db_time(self._db.clock.now()),
                fallback_language,
                organiser_zone,
                chat_id,
            ),
        )
        created = await self.get(broadcast_id)
        assert created is not None
        return created

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetch_one("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return _broadcast(row) if row else None

    async def draft_of(self, created_by: str) -> Broadcast | None:
        row = await self._db.fetch_one(
            "SELECT * FROM broadcasts WHERE created_by = ? AND status = 'draft'"
            " ORDER BY id DESC LIMIT 1",
            (created_by,),
        )
        return _broadcast(row) if row else None

    async def update(self, broadcast_id: int, fields: Mapping[str, Any]) -> Broadcast:
        await self._db.update_columns("broadcasts", broadcast_id, fields, _DRAFT_FIELDS, _value)
        updated = await self.get(broadcast_id)
        assert updated is not None
        return updated

    async def recent(self, limit: int = 20) -> list[Broadcast]:
        """Notices that were queued (being sent, done or stopped), newest first. A draft, or one
        dropped before it was sent, never was a notice: it is not listed."""
        rows = await self._db.fetch_all(
            "SELECT * FROM broadcasts WHERE queued_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [_broadcast(row) for row in rows]

    async def unfinished(self) -> list[Broadcast]:
        rows = await self._db.fetch_all("SELECT * FROM broadcasts WHERE status = 'queued'")
        return [_broadcast(row) for row in rows]

    async def enqueue(
        self,
        broadcast_id: int,
        chunks: AsyncIterable[list[tuple[int, int, str, datetime]]],
        payload: Mapping[str, object] | None = None,
    ) -> int:
        """Write one outbox row per recipient, then mark the broadcast queued.

        Rows are written chunk by chunk (replies are not held up by one long transaction); the
        broadcast only becomes 'queued' — visible to the delivery worker — once all are written.
        """
        now = to_db_time(self._db.clock.now())
        count = 0
        # What every row carries besides the broadcast (e.g. a card's file id per language).
        extra = json.dumps(dict(payload or {}), ensure_ascii=False)
        async for chunk in chunks:
            batch = [
                (broadcast_id, broadcast_id, member_id, chat_id, language, extra, to_db_time(due))
                for member_id, chat_id, language, due in chunk
            ]
            await self._db.execute_many(_INSERT_OUTBOX, batch)
            count += len(batch)
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE broadcasts SET status = 'queued', step = NULL, total = ?, queued_at = ?"
                " WHERE id = ?",
                (count, now, broadcast_id),
            )
        return count

    async def counts(self, broadcast_id: int) -> DeliveryCounts:
        rows = await self._db.fetch_all(
            "SELECT state, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        )
        acked = await self._db.fetch_one(
            "SELECT count(*) FROM outbox WHERE broadcast_id = ? AND acked_at IS NOT NULL",
            (broadcast_id,),
        )
        values: dict[str, int] = {str(row[0]): int(row[1]) for row in rows}
        return DeliveryCounts(**values, acknowledged=int(acked[0]) if acked else 0)

    async def finish_if_complete(self, broadcast_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
            " AND status = 'queued' AND NOT EXISTS (SELECT 1 FROM outbox WHERE broadcast_id = ?"
            " AND state IN ('pending', 'sending'))",
            (to_db_time(self._db.clock.now()), broadcast_id, broadcast_id),
        )
        return changed > 0

    async def stop(self, broadcast_id: int) -> bool:
        """Stop a queued notice: rows not yet claimed stay unsent."""
        changed = await self._db.execute(
            "UPDATE broadcasts SET status = 'cancelled', finished_at = ? WHERE id = ?"
            " AND status = 'queued'",
            (to_db_time(self._db.clock.now()), broadcast_id),
        )
        return changed > 0

    async def acknowledge(self, broadcast_id: int, member_id: int) -> bool | None:
        """Record "I have read this"; None when no such notice reached the member asking for it."""
        row = await self._db.write_returning(
            "UPDATE outbox SET acked_at = COALESCE(acked_at, ?) WHERE broadcast_id = ?"
            " AND member_id = ? AND state = 'sent' AND EXISTS (SELECT 1 FROM broadcasts b"
            " WHERE b.id = outbox.broadcast_id AND b.ask_ack = 1) RETURNING acked_at",
            (to_db_time(self._db.clock.now()), broadcast_id, member_id),
        )
        return None if row is None else True

    async def audience(
        self, audience: AudienceFilter, chunk: int = 2000
    ) -> AsyncIterator[list[Recipient]]:
        """Active, reachable members matching the filter, a chunk at a time (memory stays flat)."""
        sql, parameters = audience_sql(audience, self._db.dialect)
        after = 0
        while True:
            rows = await self._db.fetch_all(
                "SELECT m.id AS member_id, m.telegram_id, m.language, m.time_zone "
                + sql
                + " AND m.id > ? ORDER BY m.id LIMIT ?",
                (*parameters, after, chunk),
            )
            if not rows:
                return
            yield [Recipient.model_validate(dict(row)) for row in rows]
            after = int(rows[-1]["member_id"])

    async def audience_count(self, audience: AudienceFilter) -> int:
        sql, parameters = audience_sql(audience, self._db.dialect)
        row = await self._db.fetch_one("SELECT count(*) " + sql, parameters)
        return int(row[0]) if row else 0


# A recipient already written (a retried chunk) is skipped: (broadcast_id, member_id) is unique.
_INSERT_OUTBOX = (
    "INSERT INTO outbox (kind, ref, broadcast_id, member_id, chat_id, language,"
    " payload, next_attempt_at) VALUES ('broadcast', ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
