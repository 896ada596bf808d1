"""The durable inbox: updates kept from their arrival until they are handled, and just after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from storage.db import Database, Transaction, to_db_time
from storage.models import Model

# Telegram keeps an unconfirmed update for 24 hours: after that (or once the offset confirmed it)
# an id seen before is a new update, not a redelivery.
REDELIVERY_WINDOW = timedelta(hours=24)
# A handled marker kept longer than the window recognises every redelivery.
KEEP_HANDLED = timedelta(days=2)
PRUNE_EVERY = 1000  # stored updates between two prunes


class PendingUpdate(Model):
    """An update stored but not yet handled, as Telegram sent it, and how far it got."""

    update_id: int
    payload: dict[str, Any]
    applied: bool = False  # the person's step already moved because of it
    ended_flow: str | None = None  # the conversation it ended (then it was applied whole)


class InboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._stored_since_prune = 0

    @property
    def shared(self) -> bool:
        """Whether other bot processes may take updates from this inbox (PostgreSQL)."""
        return self._db.shared

    async def store(
        self, updates: Sequence[tuple[int, str]], confirmed: Sequence[int] = ()
    ) -> set[int]:
        """Keep (update_id, JSON payload) pairs in one transaction; return the ids new here.

        `confirmed` are ids Telegram now knows arrived (the offset of the call that brought
        `updates` passed them). An id already stored is a redelivery, neither stored again nor
        returned, unless it can no longer be one: handled and confirmed, or handled and received
        before Telegram's redelivery window. Then it is a new update that reuses the id.
        The new ones are claimed by this process, which handles them.
        """
        if not updates and not confirmed:
            return set()
        moment = self._db.clock.now()
        now = to_db_time(moment)
        window_start = to_db_time(moment - REDELIVERY_WINDOW)
        values = ", ".join("(?, ?, ?, ?, ?)" for _ in updates)
        parameters: list[Any] = []
        for update_id, payload in updates:
            parameters.extend((update_id, payload, now, self._db.claimant, now))
        parameters.append(window_start)
        sql = (
            "INSERT INTO inbox (update_id, payload, received_at, claimed_by, claimed_at) VALUES "
            + values
            + " ON CONFLICT (update_id) DO UPDATE SET payload = excluded.payload,"
            " received_at = excluded.received_at, handled_at = NULL, confirmed_at = NULL,"
            " claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at,"
            " ended_flow = NULL"
            " WHERE inbox.handled_at IS NOT NULL"
            " AND (inbox.confirmed_at IS NOT NULL OR inbox.received_at < ?)"
            " RETURNING update_id"
        )  # fmt: skip

        async def keep(tx: Transaction) -> list[Any]:
            if confirmed:
                marks = ", ".join("?" for _ in confirmed)
                await tx.execute(
                    "UPDATE inbox SET confirmed_at = ? WHERE confirmed_at IS NULL"
                    f" AND update_id IN ({marks})",
                    (now, *confirmed),
                )
            if not updates:
                return []
            stored = await tx.fetch_all(sql, parameters)
            fresh = [int(row[0]) for row in stored]
            if fresh:
                await self._forget_old_markers(tx, fresh)
            return stored

        # One transaction, and on SQLite one trip to its thread: this runs once per received
        # batch, so each trip saved counts.
        rows = await self._db.transact(keep)
        self._stored_since_prune += len(updates)
        if self._stored_since_prune >= PRUNE_EVERY:
            self._stored_since_prune = 0
            await self.prune(moment - KEEP_HANDLED)
        return {int(row[0]) for row in rows}

    @staticmethod
    async def _forget_old_markers(conn: Transaction, update_ids: Sequence[int]) -> None:
        """An id reused by a new update no longer says that an old answer was taken."""
        marks = ", ".join("?" for _ in update_ids)
        for table in ("members", "conversations"):
            await conn.execute(
                f"UPDATE {table} SET last_update_id = NULL WHERE last_update_id IN ({marks})",
                tuple(update_ids),
            )

    async def highest_update_id(self) -> int:
        """The largest update id kept (0 when none): where a fresh emulator should go on from."""
        row = await self._db.fetch_one("SELECT COALESCE(MAX(update_id), 0) FROM inbox")
        return int(row[0]) if row else 0

    async def handled(self, update_ids: Sequence[int]) -> None:
        """Mark updates handled and forget what they said (it may hold personal data)."""
        if not update_ids:
            return
        marks = ", ".join("?" for _ in update_ids)
        await self._db.execute(
            f"UPDATE inbox SET payload = NULL, handled_at = ? WHERE update_id IN ({marks})",
            (to_db_time(self._db.clock.now()), *update_ids),
        )

    async def pending(self) -> list[PendingUpdate]:
        """Updates stored but never handled whose process stopped first, oldest first; this
        process takes them over (those another live process is handling stay its own)."""
        moment = self._db.clock.now()
        claimant, lease = self._db.claimant, self._db.claim_lease

        async def take(tx: Transaction) -> list[Any]:
            taken = await tx.fetch_all(
                "UPDATE inbox SET claimed_by = ?, claimed_at = ? WHERE handled_at IS NULL"
                " AND (claimed_at IS NULL OR claimed_at <= ?)"
                " AND (claimed_by IS NULL OR claimed_by <> ?) RETURNING update_id",
                (claimant, to_db_time(moment), to_db_time(moment - lease), claimant),
            )
            if not taken:
                return []
            ids = [int(row[0]) for row in taken]
            return await tx.fetch_all(
                "SELECT update_id, payload, ended_flow, EXISTS (SELECT 1 FROM members"
                " WHERE last_update_id = inbox.update_id) OR EXISTS (SELECT 1 FROM conversations"
                " WHERE last_update_id = inbox.update_id) AS applied FROM inbox"
                f" WHERE update_id IN ({', '.join('?' for _ in ids)}) ORDER BY update_id",
                ids,
            )

        rows = await self._db.transact(take)
        return [
            PendingUpdate(
                update_id=int(row["update_id"]),
                payload=json.loads(row["payload"]),
                applied=bool(row["applied"]) or row["ended_flow"] is not None,
                ended_flow=row["ended_flow"],
            )
            for row in rows
        ]

    async def unhandled(self) -> list[int]:
        """The ids of the updates stored and not yet handled, oldest first (claims untouched)."""
        rows = await self._db.fetch_all(
            "SELECT update_id FROM inbox WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [int(row[0]) for row in rows]

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
            "INSERT INTO group_notices (chat_id, told_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
            " RETURNING chat_id",
            (chat_id, to_db_time(self._db.clock.now())),
        )
        return inserted is not None
