"""One person's own rows across the tables, for their copy of their data (/mydata).

Each flow's repository reads what its flow needs; this one reads, for one person, every row that
points at them — by member id, Telegram id or pseudonym — so their copy can hold all of it.
Rows come back as plain dicts with JSON-ready values (instants as ISO text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from storage.db import Database

Row = dict[str, Any]


def _rows(found: Sequence[Any]) -> list[Row]:
    return [dict(row) for row in found]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


class PersonalDataRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def survey_ids(self, member_id: int, pseudonym: str) -> list[int]:
        """Surveys the member was invited to or holds answers or record entries in."""
        rows = await self._db.fetch_all(
            "SELECT survey_id FROM survey_participants WHERE member_id = ?"
            " UNION SELECT survey_id FROM survey_answers WHERE member_id = ?"
            " UNION SELECT survey_id FROM record_entries WHERE kind = 'answer' AND pseudonym = ?"
            " AND survey_id IS NOT NULL ORDER BY 1",
            (member_id, member_id, pseudonym),
        )
        return [int(row[0]) for row in rows]

    async def record_entries(self, pseudonyms: Sequence[str]) -> list[Row]:
        """Every record entry under these pseudonyms (superseded ones too), oldest first."""
        if not pseudonyms:
            return []
        return _rows(
            await self._db.fetch_all(
                f"SELECT * FROM record_entries WHERE pseudonym IN ({_marks(pseudonyms)})"
                " ORDER BY id",
                list(pseudonyms),
            )
        )

    async def proposals(self, member_id: int) -> list[Row]:
        return _rows(
            await self._db.fetch_all(
                "SELECT id, theme, text, language, created_at FROM proposals WHERE member_id = ?"
                " ORDER BY id",
                (member_id,),
            )
        )

    async def notices(self, member_id: int) -> list[Row]:
        """Every notice addressed to the member, with what it was about."""
        return _rows(
            await self._db.fetch_all(
                "SELECT id, kind, ref, state, sent_at, acked_at FROM outbox WHERE member_id = ?"
                " ORDER BY id",
                (member_id,),
            )
        )

    async def associations_proposed(self, member_id: int) -> list[Row]:
        return _rows(
            await self._db.fetch_all(
                "SELECT id, name, country, region, city, status, created_at FROM associations"
                " WHERE proposed_by = ? ORDER BY id",
                (member_id,),
            )
        )

    async def operator_pseudonyms(self, telegram_id: int | None) -> list[Row]:
        """The actor a config admin had before registering (their acts are kept under it)."""
        if telegram_id is None:
            return []
        return _rows(
            await self._db.fetch_all(
                "SELECT pseudonym, created_at FROM operators WHERE telegram_id = ?",
                (telegram_id,),
            )
        )

    async def acts(
        self, member_id: int, telegram_id: int | None, pseudonyms: Sequence[str]
    ) -> dict[str, list[Row]]:
        """What the person did under their pseudonyms, by kind of act.

        Other members appear only as the internal number the audit log already names; check-ins
        they recorded name the meeting only, so the copy never pairs a pseudonym with a person.
        """
        if not pseudonyms:
            return {}
        marks, names = _marks(pseudonyms), list(pseudonyms)

        async def read(sql: str, *extra: object) -> list[Row]:
            return _rows(await self._db.fetch_all(sql, [*names, *extra]))

        found = {
            "audit": await read(
                f"SELECT id, at, action, target, detail FROM audit_log WHERE actor IN ({marks})"
                " ORDER BY id"
            ),
            "broadcasts": await read(
                "SELECT id, created_at, status, texts, audience, total FROM broadcasts"
                f" WHERE created_by IN ({marks}) OR status_chat_id = ? ORDER BY id",
                telegram_id if telegram_id is not None else 0,
            ),
            "meetings": await read(
                f"SELECT id, titles, start_at, status FROM meetings WHERE created_by IN ({marks})"
                " ORDER BY id"
            ),
            "surveys": await read(
                "SELECT id, form_id, version, titles, status, created_at FROM surveys"
                f" WHERE created_by IN ({marks}) ORDER BY id"
            ),
            "roles_granted": await read(
                f"SELECT role, scope, granted_at FROM roles WHERE granted_by IN ({marks})"
                " ORDER BY granted_at, role, scope"
            ),
            "check_ins_recorded": await read(
                "SELECT meeting_id, checked_in_at FROM rsvps"
                f" WHERE checked_in_by IN ({marks}) AND member_id != ?"
                " ORDER BY checked_in_at, meeting_id",
                member_id,
            ),
            "evidence_linked": await read(
                "SELECT id, clause_id, kind, ref, note, linked_at FROM evidence"
                f" WHERE linked_by IN ({marks}) ORDER BY id"
            ),
        }
        for rows in found.values():
            for row in rows:
                for key in ("texts", "audience", "titles", "detail"):
                    if isinstance(row.get(key), str):
                        row[key] = json.loads(row[key])
        return found
