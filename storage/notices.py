"""The durable outbox of every notice kind, drained by the delivery workers (one per process)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, from_db_time, to_db_time
from storage.models import DeliveryCounts, NoticeTarget, OutboxRow, SendResult

_ROW_COLUMNS = (
    "id, kind, ref, broadcast_id, payload, member_id, chat_id, language, state, attempts,"
    " next_attempt_at, last_error"
)
# A broadcast row is due only while its broadcast is queued (a stopped notice stays unsent).
_DELIVERABLE = (
    "o.state = 'pending' AND (o.broadcast_id IS NULL OR EXISTS (SELECT 1 FROM broadcasts b"
    " WHERE b.id = o.broadcast_id AND b.status = 'queued'))"
)


@dataclass(frozen=True)
class _Sql:
    """Statements whose text differs between the backends."""

    # Mark up to `limit` due rows as in flight by a worker (parameters: worker, now, now, limit)
    # and return them.
    claim_due: str
    # Whether the pick (now, limit) comes before the marks (worker, now) in the statement's text.
    pick_first: bool

    def claim_parameters(self, worker: str, moment: str, limit: int) -> tuple[object, ...]:
        if self.pick_first:
            return (moment, limit, worker, moment)
        return (worker, moment, moment, limit)


_DUE_IDS = (
    f"SELECT o.id FROM outbox o WHERE {_DELIVERABLE} AND o.next_attempt_at <= ?"
    " ORDER BY o.next_attempt_at, o.id LIMIT ?"
)
# SQLite has one writer at a time: the statement is atomic as it stands.
_SQLITE = _Sql(
    claim_due="UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?"
    f" WHERE id IN ({_DUE_IDS})"
    f" RETURNING {_ROW_COLUMNS}",
    pick_first=False,
)
# On PostgreSQL several workers may claim at once: each locks the rows it picks and passes over
# those another holds (a row claimed and committed meanwhile is re-read, no longer pending, and
# left out). The pick is a materialized CTE, not `id IN (...)`: PostgreSQL may plan that as a
# semi join that re-runs the subquery for every outer row, and each re-run, passing over the rows
# just updated, picks the next ones: the whole outbox would be claimed despite the LIMIT.
_POSTGRES = _Sql(
    claim_due=f"WITH picked AS MATERIALIZED ({_DUE_IDS} FOR UPDATE OF o SKIP LOCKED)"
    " UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ? FROM picked"
    " WHERE outbox.id = picked.id"
    f" RETURNING {', '.join('outbox.' + c.strip() for c in _ROW_COLUMNS.split(','))}",
    pick_first=True,
)


def outbox_row(row: Row) -> OutboxRow:
    data = dict(row)
    data["next_attempt_at"] = from_db_time(data["next_attempt_at"])
    data["payload"] = json.loads(data["payload"] or "{}")
    return OutboxRow.model_validate(data)


class NoticesRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._sql = _POSTGRES if database.dialect == "postgresql" else _SQLITE

    async def enqueue(
        self,
        kind: str,
        ref: int,
        targets: Sequence[NoticeTarget],
        payload: Mapping[str, object] | None = None,
    ) -> int:
        """Write one outbox row per target; rows whose dedupe key exists are skipped."""
        encoded = json.dumps(dict(payload or {}), ensure_ascii=False)
        async with self._db.transaction() as conn:
            added = await conn.execute_many(
                "INSERT INTO outbox (kind, ref, member_id, chat_id, language, payload,"
                " dedupe_key, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    (
                        kind,
                        ref,
                        target.member_id,
                        target.chat_id,
                        target.language,
                        encoded,
                        target.dedupe_key,
                        to_db_time(target.due),
                    )
                    for target in targets
                ],
            )
            return added

    async def drop_pending(self, kind: str, ref: int) -> int:
        """Unsent notices of this kind and reference become 'skipped' (e.g. a cancelled meeting)."""
        return await self._db.execute(
            "UPDATE outbox SET state = 'skipped', last_error = 'withdrawn'"
            " WHERE kind = ? AND ref = ? AND state = 'pending'",
            (kind, ref),
        )

    async def reset_in_flight(self, now: datetime) -> int:
        """Sends claimed by a process that died before recording them go back to pending.

        With several processes (PostgreSQL) only claims older than the lease are taken back (a
        live one records its batch within seconds), and never this process's own.
        """
        return await self._db.execute(
            "UPDATE outbox SET state = 'pending', claimed_by = NULL WHERE state = 'sending'"
            " AND (claimed_at IS NULL OR claimed_at <= ?)"
            " AND (claimed_by IS NULL OR claimed_by <> ?)",
            (to_db_time(now - self._db.claim_lease), self._db.claimant),
        )

    @property
    def shared(self) -> bool:
        """Whether other bot processes may deliver from this outbox (PostgreSQL)."""
        return self._db.shared

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Mark up to `limit` due rows as in flight by this process; return them, oldest first."""
        moment = to_db_time(now)
        parameters = self._sql.claim_parameters(self._db.claimant, moment, limit)
        rows = await self._db.write_fetch_all(self._sql.claim_due, parameters)
        claimed = [outbox_row(row) for row in rows]
        claimed.sort(key=lambda row: (row.next_attempt_at, row.id))
        return claimed

    async def record(self, results: Sequence[SendResult]) -> None:
        """Store what the worker learnt about each row it sent (or put back)."""
        if results:
            await self._db.execute_many(
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                " sent_at = ?, message_id = ? WHERE id = ?",
                [
                    (
                        result.state,
                        result.attempts,
                        to_db_time(result.next_attempt_at),
                        result.error[:200] if result.error else None,
                        to_db_time(result.next_attempt_at) if result.state == "sent" else None,
                        result.message_id,
                        result.row_id,
                    )
                    for result in results
                ],
            )

    async def next_due(self) -> datetime | None:
        row = await self._db.fetch_one(
            f"SELECT min(o.next_attempt_at) FROM outbox o WHERE {_DELIVERABLE}"
        )
        return from_db_time(row[0]) if row and row[0] else None

    async def counts(self, kind: str, ref: int) -> DeliveryCounts:
        rows = await self._db.fetch_all(
            "SELECT state, count(*) FROM outbox WHERE kind = ? AND ref = ? GROUP BY state",
            (kind, ref),
        )
        return DeliveryCounts(**{str(row[0]): int(row[1]) for row in rows})

    async def sent_to(self, row_kind: str, ref: int, member_id: int) -> bool:
        """Whether a notice of this kind and reference reached the member."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM outbox WHERE kind = ? AND ref = ? AND member_id = ? AND state = 'sent'",
            (row_kind, ref, member_id),
        )
        return row is not None

    async def of_member(self, member_id: int) -> list[dict[str, object]]:
        """The notices a member was sent (for their own copy of their data)."""
        rows = await self._db.fetch_all(
            "SELECT kind, ref, state, sent_at, acked_at FROM outbox WHERE member_id = ?"
            " ORDER BY id",
            (member_id,),
        )
        return [dict(row) for row in rows]
