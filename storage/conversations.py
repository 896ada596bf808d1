"""Active conversations (one per person) and the pseudonymous actors behind every action."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from storage.db import Database, Transaction, Write, current_update, from_db_time, to_db_time
from storage.models import Conversation


class ConversationsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, telegram_id: int) -> Conversation | None:
        row = await self._db.fetch_one(
            "SELECT * FROM conversations WHERE telegram_id = ?", (telegram_id,)
        )
        if row is None:
            return None
        data = dict(row)
        data["state"] = json.loads(data["state"])
        data["updated_at"] = from_db_time(data["updated_at"])
        return Conversation.model_validate(data)

    async def save(
        self, telegram_id: int, flow: str, step: str, state: Mapping[str, Any]
    ) -> Conversation:
        """Start or move a person's conversation (it replaces any other flow's)."""
        write, conversation = self.saving(telegram_id, flow, step, state)
        # With RETURNING the write is one trip to the database thread; a plain execute is two
        # (the statement, then closing its cursor).
        await self._db.write_returning(write.sql, write.parameters)
        return conversation

    def saving(
        self, telegram_id: int, flow: str, step: str, state: Mapping[str, Any]
    ) -> tuple[Write, Conversation]:
        """The write that `save` runs, to chain after another (a survey answer's row) in one
        trip; and the conversation as it will be once written."""
        now = self._db.clock.now()
        encoded = json.dumps(dict(state), ensure_ascii=False, sort_keys=True)
        scope = current_update.get()
        write = Write(
            "INSERT INTO conversations (telegram_id, flow, step, state, updated_at, last_update_id)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
            " flow = excluded.flow, step = excluded.step, state = excluded.state,"
            " updated_at = excluded.updated_at,"
            " last_update_id = COALESCE(excluded.last_update_id, conversations.last_update_id)"
            " RETURNING telegram_id",
            (telegram_id, flow, step, encoded, to_db_time(now), scope.update_id if scope else None),
        )
        conversation = Conversation(
            telegram_id=telegram_id, flow=flow, step=step, state=dict(state), updated_at=now
        )
        return write, conversation

    async def end(self, telegram_id: int, flow: str | None = None) -> bool:
        """End the person's conversation (only if it belongs to `flow`, when given); the update
        being handled is marked with the flow it ended, in the same transaction, so that a replay
        after a crash knows it was done (storage/inbox.py)."""
        scope = current_update.get()
        only_flow = "" if flow is None else " AND flow = ?"
        parameters = (telegram_id,) if flow is None else (telegram_id, flow)

        async def work(tx: Transaction) -> bool:
            ended = await tx.fetch_one(
                f"DELETE FROM conversations WHERE telegram_id = ?{only_flow} RETURNING flow",
                parameters,
            )
            if ended is not None and scope is not None:
                await tx.execute(
                    "UPDATE inbox SET ended_flow = ? WHERE update_id = ?",
                    (ended["flow"], scope.update_id),
                )
            return ended is not None

        return await self._db.transact(work)


class ActorsRepository:
    """Who did something, as a pseudonym: the member's, or an operator's for config admins."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def of(self, telegram_id: int) -> str:
        """The pseudonym that stands for this person in audit entries and 'created by' columns."""
        row = await self._db.fetch_one(
            "SELECT pseudonym FROM members WHERE telegram_id = ?"
            " UNION ALL SELECT pseudonym FROM operators WHERE telegram_id = ? LIMIT 1",
            (telegram_id, telegram_id),
        )
        if row is not None:
            return str(row[0])
        pseudonym = "op-" + secrets.token_hex(8)
        await self._db.execute(
            "INSERT INTO operators (pseudonym, telegram_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (pseudonym, telegram_id, to_db_time(self._db.clock.now())),
        )
        row = await self._db.fetch_one(
            "SELECT pseudonym FROM operators WHERE telegram_id = ?", (telegram_id,)
        )
        assert row is not None
        return str(row[0])

    async def telegram_id_of(self, pseudonym: str) -> int | None:
        """Where to reach an actor (for status messages), while they have not erased themselves."""
        row = await self._db.fetch_one(
            "SELECT telegram_id FROM members WHERE pseudonym = ?"
            " UNION ALL SELECT telegram_id FROM operators WHERE pseudonym = ? LIMIT 1",
            (pseudonym, pseudonym),
        )
        return int(row[0]) if row is not None and row[0] is not None else None
