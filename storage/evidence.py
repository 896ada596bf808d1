"""The draft policy's clauses, the evidence linked to each, and the items staff browse to link.

Items are read with their provenance as recorded (country, province/state, sector, when) and
never with the author's pseudonym: staff choose evidence by what was said and where, not by who.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from storage.db import Database, from_db_time, to_db_time
from storage.models import Model
from storage.record import CURRENT_ANSWERS

# A clause's number: stable while the clause exists, short enough for a button's data.
_CLAUSE_COLUMNS = "number, id, texts, position, loaded_at, source"
EVIDENCE_KINDS = ("answer", "proposal", "meeting", "record")


class Clause(Model):
    # The row's number: stable while the clause exists, short enough for a button's data.
    number: int = 0
    id: str
    texts: dict[str, str]
    position: int
    loaded_at: datetime
    source: str


class Evidence(Model):
    id: int
    clause_id: str
    kind: str
    ref: int
    note: str
    linked_by: str
    linked_at: datetime


def clause_of(data: dict[str, Any]) -> Clause:
    """A clause from its row (texts as JSON, the load time as stored)."""
    try:
        texts = json.loads(data["texts"] or "{}")
    except ValueError:
        texts = {}
    return Clause.model_validate(
        {**data, "texts": texts, "loaded_at": from_db_time(str(data["loaded_at"]))}
    )


class Item(Model):
    """An answer, proposal or meeting as staff browse it (no pseudonym)."""

    kind: str
    ref: int
    text: str  # the answer as stored (choice names for a select), a proposal, a meeting's title
    label: str = ""  # an answer's label in the respondent's language (choices)
    survey_id: int | None = None
    question: str = ""
    theme: str | None = None
    titles: dict[str, str] = Field(default_factory=dict)
    zone: str | None = None
    country: str | None = None
    region: str | None = None
    sector: str | None = None
    at: datetime | None = None


class EvidenceRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ---- clauses --------------------------------------------------------------------------
    async def replace_clauses(
        self, clauses: Sequence[tuple[str, dict[str, str]]], source: str, at: datetime
    ) -> int:
        """Store the clauses in order (updating texts of known ids) in one transaction."""
        moment = to_db_time(at)
        async with self._db.transaction() as conn:
            for position, (clause_id, texts) in enumerate(clauses, start=1):
                await conn.execute(
                    "INSERT INTO clauses (id, texts, position, loaded_at, source, number) "
                    "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(max(number), 0) + 1 FROM clauses))"
                    " ON CONFLICT (id) DO UPDATE SET texts = excluded.texts,"
                    " position = excluded.position, loaded_at = excluded.loaded_at,"
                    " source = excluded.source",
                    (clause_id, json.dumps(texts, ensure_ascii=False), position, moment, source),
                )
        return len(clauses)

    async def clauses(self) -> list[Clause]:
        rows = await self._db.fetch_all(
            f"SELECT {_CLAUSE_COLUMNS} FROM clauses ORDER BY position, id"
        )
        return [clause_of(dict(row)) for row in rows]

    async def clause(self, clause_id: str) -> Clause | None:
        row = await self._db.fetch_one(
            f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE id = ?", (clause_id,)
        )
        return clause_of(dict(row)) if row is not None else None

    async def clause_numbered(self, number: int) -> Clause | None:
        """A clause by its row number: stable across reloads, small enough for a button."""
        row = await self._db.fetch_one(
            f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE number = ? ORDER BY id LIMIT 1",
            (number,),
        )
        return clause_of(dict(row)) if row is not None else None

    # ---- links ----------------------------------------------------------------------------
    async def item_exists(self, kind: str, ref: int) -> bool:
        """Whether the item an evidence link would point to exists."""
        sql = {
            "answer": "SELECT 1 FROM record_entries WHERE id = ? AND kind = 'answer'",
            "record": "SELECT 1 FROM record_entries WHERE id = ?",
            "proposal": "SELECT 1 FROM proposals WHERE id = ?",
            "meeting": "SELECT 1 FROM meetings WHERE id = ?",
        }[kind]
        return await self._db.fetch_one(sql, (ref,)) is not None

    async def link(
        self, clause_id: str, kind: str, ref: int, note: str, actor: str, at: datetime
    ) -> bool:
        """Link an item to a clause; False when it was already linked."""
        row = await self._db.write_returning(
            "INSERT INTO evidence (clause_id, kind, ref, note, linked_by, linked_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (clause_id, kind, ref) DO NOTHING RETURNING id",
            (clause_id, kind, ref, note, actor, to_db_time(at)),
        )
        return row is not None

    async def unlink(self, clause_id: str, evidence_id: int) -> Evidence | None:
        """Remove one link of this clause; the link removed, or None if there was none."""
        row = await self._db.write_returning(
            "DELETE FROM evidence WHERE id = ? AND clause_id = ? "
            "RETURNING id, clause_id, kind, ref, note, linked_by, linked_at",
            (evidence_id, clause_id),
        )
        return _evidence(row) if row is not None else None

    async def evidence_of(self, clause_id: str) -> list[Evidence]:
        rows = await self._db.fetch_all(
            "SELECT id, clause_id, kind, ref, note, linked_by, linked_at FROM evidence "
            "WHERE clause_id = ? ORDER BY linked_at, id",
            (clause_id,),
        )
        return [_evidence(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        """How many items each clause has."""
        rows = await self._db.fetch_all(
            "SELECT clause_id, count(*) FROM evidence GROUP BY clause_id"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    # ---- items ----------------------------------------------------------------------------
    async def answers(
        self, survey_id: int, question: str, offset: int, limit: int
    ) -> tuple[int, list[Item]]:
        """A question's current, non-empty answers (oldest first), a page of them, and the total."""
        where = f"{CURRENT_ANSWERS} AND e.survey_id = ? AND e.question = ? AND e.value != ''"
        total = await self._count(
            f"SELECT count(*) FROM record_entries e WHERE {where}",
            [
                survey_id,
                question,
            ],
        )
        rows = await self._db.fetch_all(
            f"SELECT {_ANSWER} FROM record_entries e WHERE {where} ORDER BY e.id LIMIT ? OFFSET ?",
            (survey_id, question, limit, offset),
        )
        return total, [_item("answer", row) for row in rows]

    async def proposals(self, theme: str | None, offset: int, limit: int) -> tuple[int, list[Item]]:
        """Proposals not emptied by an erasure (newest first), a page of them, and the total."""
        where = "p.text != ''" + (" AND p.theme = ?" if theme is not None else "")
        parameters: list[Any] = [theme] if theme is not None else []
        total = await self._count(f"SELECT count(*) FROM proposals p WHERE {where}", parameters)
        rows = await self._db.fetch_all(
            f"SELECT {_PROPOSAL} FROM proposals p {_PROPOSAL_JOIN} WHERE {where} "
            "ORDER BY p.id DESC LIMIT ? OFFSET ?",
            (*parameters, limit, offset),
        )
        return total, [_item("proposal", row) for row in rows]

    async def proposal_themes(self) -> dict[str, int]:
        """Themes that have proposals, with how many."""
        rows = await self._db.fetch_all(
            "SELECT theme, count(*) FROM proposals WHERE text != '' GROUP BY theme"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def meetings(self, offset: int, limit: int) -> tuple[int, list[Item]]:
        """Meetings not cancelled (latest first), a page of them, and the total."""
        total = await self._count("SELECT count(*) FROM meetings WHERE status != 'cancelled'", [])
        rows = await self._db.fetch_all(
            f"SELECT {_MEETING} FROM meetings m WHERE m.status != 'cancelled' "
            "ORDER BY m.start_at DESC, m.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return total, [_item("meeting", row) for row in rows]

    async def item(self, kind: str, ref: int) -> Item | None:
        """One answer, record entry, proposal or meeting; None if there is no such item."""
        sql = {
            "answer": (
                f"SELECT {_ANSWER} FROM record_entries e WHERE e.id = ? AND e.kind = 'answer'"
            ),
            "record": f"SELECT {_ANSWER} FROM record_entries e WHERE e.id = ?",
            "proposal": f"SELECT {_PROPOSAL} FROM proposals p {_PROPOSAL_JOIN} WHERE p.id = ?",
            "meeting": f"SELECT {_MEETING} FROM meetings m WHERE m.id = ?",
        }.get(kind)
        row = await self._db.fetch_one(sql, (ref,)) if sql is not None else None
        return _item(kind, row) if row is not None else None

    async def items(self, links: Sequence[Evidence]) -> dict[tuple[str, int], Item]:
        """The items these links point to, by (kind, ref); a missing item is left out."""
        found: dict[tuple[str, int], Item] = {}
        for link in links:
            item = await self.item(link.kind, link.ref)
            if item is not None:
                found[(link.kind, link.ref)] = item
        return found

    async def _count(self, sql: str, parameters: Sequence[Any]) -> int:
        row = await self._db.fetch_one(sql, parameters)
        return int(row[0]) if row else 0


_ANSWER = (
    "e.id AS ref, e.value AS text, e.value_label AS label, e.survey_id AS survey_id, "
    "COALESCE(e.question, '') AS question, e.theme AS theme, e.country AS country, "
    "e.region AS region, e.sector AS sector, e.at AS at"
)
_PROPOSAL = (
    "p.id AS ref, p.text AS text, p.theme AS theme, e.country AS country, e.region AS region, "
    "e.sector AS sector, p.created_at AS at"
)
_PROPOSAL_JOIN = "LEFT JOIN record_entries e ON e.proposal_id = p.id AND e.kind = 'proposal'"
_MEETING = (
    "m.id AS ref, '' AS text, m.titles AS titles, m.theme AS theme, m.zone AS zone, "
    "m.start_at AS at"
)


def _item(kind: str, row: Any) -> Item:
    data = dict(row)
    if "titles" in data:
        try:
            titles = json.loads(data["titles"] or "{}")
        except ValueError:
            titles = {}
        data["titles"] = titles if isinstance(titles, dict) else {}
    if data.get("at"):
        data["at"] = from_db_time(str(data["at"]))
    return Item.model_validate({**data, "kind": kind, "text": str(data.get("text") or "")})


def _evidence(row: Any) -> Evidence:
    return Evidence.model_validate({**dict(row), "linked_at": from_db_time(row["linked_at"])})
