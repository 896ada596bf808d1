"""The durable inbox: updates kept from their arrival until they are handled, and just after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from storage.db import Database, to_db_time, utc_now
from storage.models import Model

# Telegram keeps an unconfirmed update for 24 hours; a handled marker kept longer than that
# recognises every redelivery.
KEEP_HANDLED = timedelta(days=2)
PRUNE_EVERY = 1000  # stored updates between two prunes


class PendingUpdate(Model):
    """An update stored but not yet handled, as Telegram sent it, and how far it got."""

    update_id: int
    payload: dict[str, Any]
    applied: bool = False  # the person's step already moved because of it


class InboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._stored_since_prune = 0

    async def store(self, updates: Sequence[tuple[int, str]]) -> set[int]:
        """Keep (update_id, JSON payload) pairs in one statement; return the ids new here.

        An id already stored (pending, or handled within KEEP_HANDLED) is a redelivery: it is
        neither stored again nor returned, so it is handled once.
        """
        if not updates:
            return set()
        now = to_db_time(utc_now())
        values = ", ".join("(?, ?, ?)" for _ in updates)
        parameters: list[Any] = []
        for update_id, payload in updates:
            parameters.extend((update_id, payload, now))
        sql = "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES "
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(sql + values + " RETURNING update_id", parameters)
        self._stored_since_prune += len(updates)
        if self._stored_since_prune >= PRUNE_EVERY:
            self._stored_since_prune = 0
            await self.prune(utc_now() - KEEP_HANDLED)
        return {int(row[0]) for row in rows}

    async def handled(self, update_ids: Sequence[int]) -> None:
        """Mark updates handled and forget what they said (it may hold personal data)."""
        if not update_ids:
            return
        marks = ", ".join("?" for _ in update_ids)
        await self._db.execute(
            f"UPDATE inbox SET payload = NULL, handled_at = ? WHERE update_id IN ({marks})",
            (to_db_time(utc_now()), *update_ids),
        )

    async def pending(self) -> list[PendingUpdate]:
        """Updates stored but never handled (the process stopped first), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT update_id, payload, EXISTS (SELECT 1 FROM members"
            " WHERE last_update_id = inbox.update_id) OR EXISTS (SELECT 1 FROM conversations"
            " WHERE last_update_id = inbox.update_id) AS applied FROM inbox"
            " WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [
            PendingUpdate(
                update_id=int(row["update_id"]),
                payload=json.loads(row["payload"]),
                applied=bool(row["applied"]),
            )
            for row in rows
        ]

    async def is_handled(self, update_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT handled_at FROM inbox WHERE update_id = ?", (update_id,)
        )
        return row is not None and row["handled_at"] is not None

    async def prune(self, before: datetime) -> int:
        """Drop handled markers older than `before`; return how many."""
        return await self._db.execute(
            "DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?",
            (to_db_time(before),),
        )

    async def first_group_notice(self, chat_id: int) -> bool:
        """True the first time a group is told to write privately; False ever after."""
        inserted = await self._db.write_returning(
            "INSERT OR IGNORE INTO group_notices (chat_id, told_at) VALUES (?, ?)"
            " RETURNING chat_id",
            (chat_id, to_db_time(utc_now())),
        )
        return inserted is not None
