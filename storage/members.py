"""Members and their consent ledger."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Row, current_update, from_db_time, to_db_time
from storage.erasure import erase_typed_text
from storage.models import ConsentEvent, Member

_UPDATABLE = frozenset(
    {
        "username",
        "language",
        "status",
        "step",
        "editing",
        "name",
        "country",
        "region",
        "city",
        "time_zone",
        "association_id",
        "association_none",
        "sector",
        "themes",
        "email",
        "phone",
        "unreachable",
        "registered_at",
        "edit_backup",
    }
)
# What /deleteme erases: everything that could tie the pseudonym back to a person.
_ERASED = (
    "telegram_id",
    "username",
    "name",
    "city",
    "email",
    "phone",
    "step",
    "edit_backup",
)


@dataclass(frozen=True)
class _Sql:
    """What differs between the backends: finding a substring (instr / strpos)."""

    # The inbox payloads that name the member being erased, emptied and marked handled.
    erase_inbox: str


def _erase_inbox(contains: str) -> str:
    return (
        "UPDATE inbox SET payload = NULL, handled_at = COALESCE(handled_at, ?)"
        " WHERE payload IS NOT NULL AND EXISTS (SELECT 1 FROM members m WHERE m.id = ?"
        f" AND ({contains}(payload, '\"id\": ' || m.telegram_id || ',') > 0"
        f" OR {contains}(payload, '\"id\": ' || m.telegram_id || '}}') > 0))"
    )


_SQLITE = _Sql(erase_inbox=_erase_inbox("instr"))
_POSTGRES = _Sql(erase_inbox=_erase_inbox("strpos"))


def _member(row: Row) -> Member:
    data = dict(row)
    data["themes"] = tuple(json.loads(data["themes"]))
    for key in ("created_at", "updated_at", "registered_at", "deleted_at"):
        if data[key] is not None:
            data[key] = from_db_time(data[key])
    return Member.model_validate(data)


def _column_value(key: str, value: Any) -> Any:
    if key == "themes":
        return json.dumps(list(value))
    if key == "registered_at" and value is not None:
        return to_db_time(value)
    if isinstance(value, bool):
        return int(value)
    return value


class MembersRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._sql = _POSTGRES if database.dialect == "postgresql" else _SQLITE

    async def by_telegram_id(self, telegram_id: int) -> Member | None:
        row = await self._db.fetch_one(
            "SELECT * FROM members WHERE telegram_id = ?", (telegram_id,)
        )
        return _member(row) if row else None

    async def by_id(self, member_id: int) -> Member | None:
        row = await self._db.fetch_one("SELECT * FROM members WHERE id = ?", (member_id,))
        return _member(row) if row else None

    async def by_username(self, username: str) -> Member | None:
        row = await self._db.fetch_one(
            "SELECT * FROM members WHERE lower(username) = lower(?) AND telegram_id IS NOT NULL",
            (username.lstrip("@"),),
        )
        return _member(row) if row else None

    async def create_with_consent(
        self,
        telegram_id: int,
        username: str | None,
        language: str,
        notice_version: str,
        channel: str,
        first_step: str,
    ) -> Member:
        """Create the member at the moment they consent, with the consent recorded atomically."""
        now = to_db_time(self._db.clock.now())
        async with self._db.transaction() as conn:
            inserted = await conn.fetch_one(
                "INSERT INTO members (pseudonym, telegram_id, username, language, step,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    "m-" + secrets.token_hex(8),
                    telegram_id,
                    username,
                    language,
                    first_step,
                    now,
                    now,
                ),
            )
            assert inserted is not None
            member_id = int(inserted[0])
            await conn.execute(
                "INSERT INTO consent_events (member_id, action, notice_version, channel, at)"
                " VALUES (?, 'accept', ?, ?, ?)",
                (member_id, notice_version, channel, now),
            )
        member = await self.by_id(member_id)
        assert member is not None
        return member

    async def update(self, member_id: int, fields: Mapping[str, Any]) -> Member:
        """Change the given profile fields and return the member as stored."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        assignments = "".join(f"{key} = ?, " for key in fields)
        values = [_column_value(key, value) for key, value in fields.items()]
        # The update that moved the step is noted in the same statement: after a crash, its
        # replay knows the answer was taken and only asks the next question again.
        scope = current_update.get()
        if scope is not None:
            assignments += "last_update_id = ?, "
            values.append(scope.update_id)
        row = await self._db.write_returning(
            f"UPDATE members SET {assignments}updated_at = ? WHERE id = ? RETURNING *",
            (*values, to_db_time(self._db.clock.now()), member_id),
        )
        if row is None:
            raise LookupError(f"no member {member_id}")
        return _member(row)

    async def erase(
        self,
        member_id: int,
        notice_version: str,
        channel: str,
        free_text: Mapping[int, Collection[str]] | None = None,
    ) -> None:
        """Withdraw consent and cut every link to the person; the pseudonym stays for the record.

        What they typed goes too: `free_text` names each survey's free-text questions (see
        storage.erasure; a survey left out has every answer emptied), and their proposals.
        """
        now = to_db_time(self._db.clock.now())
        nulls = ", ".join(f"{key} = NULL" for key in _ERASED)
        async with self._db.transaction() as conn:
            await erase_typed_text(conn, member_id, free_text or {})
            # What the person left elsewhere: their conversation, the chat of their notices'
            # status messages, the city of an association they proposed.
            await conn.execute(
                "DELETE FROM conversations WHERE telegram_id ="
                " (SELECT telegram_id FROM members WHERE id = ?)",
                (member_id,),
            )
            await conn.execute(
                "UPDATE broadcasts SET status_chat_id = NULL, status_message_id = NULL"
                " WHERE created_by = (SELECT pseudonym FROM members WHERE id = ?)",
                (member_id,),
            )
            await conn.execute(
                "UPDATE associations SET city = NULL WHERE proposed_by = ?", (member_id,)
            )
            # The durable inbox still holds the updates being handled (this very /deleteme
            # among them) with the person's id, name and username: drop those payloads now, so
            # the checkpoint below writes pages without them. They count as handled: the erasure
            # they asked for is done, and a replay after a crash has nothing left to act on.
            await conn.execute(self._sql.erase_inbox, (now, member_id))
            # A config admin who acted before registering also has an operator actor: it keeps
            # its pseudonym (the audit names it) but no longer says whose it was.
            await conn.execute(
                "UPDATE operators SET telegram_id = NULL WHERE telegram_id ="
                " (SELECT telegram_id FROM members WHERE id = ?)",
                (member_id,),
            )
            await conn.execute(
                f"UPDATE members SET {nulls}, status = 'deleted', editing = 0,"
                " deleted_at = ?, updated_at = ? WHERE id = ?",
                (now, now, member_id),
            )
            await conn.execute(
                "INSERT INTO consent_events (member_id, action, notice_version, channel, at)"
                " VALUES (?, 'withdraw', ?, ?, ?)",
                (member_id, notice_version, channel, now),
            )
            await conn.execute("DELETE FROM roles WHERE member_id = ?", (member_id,))
            # The outbox held their Telegram id as the chat to send to; unsent notices are dropped.
            await conn.execute(
                "UPDATE outbox SET chat_id = 0, state = CASE WHEN state IN ('pending', 'sending')"
                " THEN 'failed' ELSE state END, last_error = CASE WHEN state IN ('pending',"
                " 'sending') THEN 'member deleted' ELSE last_error END WHERE member_id = ?",
                (member_id,),
            )
        # Erased values must not linger in the file's free pages or in the write-ahead log.
        await self._db.checkpoint()

    async def consent_history(self, member_id: int) -> list[ConsentEvent]:
        rows = await self._db.fetch_all(
            "SELECT * FROM consent_events WHERE member_id = ? ORDER BY id", (member_id,)
        )
        return [
            ConsentEvent.model_validate({**dict(row), "at": from_db_time(row["at"])})
            for row in rows
        ]

    async def count_active(self) -> int:
        row = await self._db.fetch_one("SELECT count(*) FROM members WHERE status = 'active'")
        return int(row[0]) if row else 0

    async def unreachable_ids(self) -> set[int]:
        rows = await self._db.fetch_all(
            "SELECT telegram_id FROM members WHERE unreachable = 1 AND telegram_id IS NOT NULL"
        )
        return {int(row[0]) for row in rows}

    async def set_unreachable(self, telegram_id: int, unreachable: bool) -> None:
        await self._db.execute(
            "UPDATE members SET unreachable = ? WHERE telegram_id = ? AND unreachable != ?",
            (int(unreachable), telegram_id, int(unreachable)),
        )
