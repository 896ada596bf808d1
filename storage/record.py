"""The policy-formulation record: proposals, minutes and outcomes appended, answers read back.

The record is append-only: nothing here updates or deletes an entry. A changed answer is a new
entry whose ``supersedes`` names the old one, so the current answers are the entries that no other
entry supersedes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Collection
from datetime import datetime
from typing import Any, Literal

from storage.db import Database, Row, from_db_time, to_db_time
from storage.models import Member, Model

EntryKind = Literal["answer", "proposal", "minutes", "outcome"]
GroupBy = Literal["country", "region", "sector"]
CHUNK = 2000
_ENTRY_COLUMNS = (
    "id, kind, pseudonym, survey_id, form_id, form_version, question, question_label, value, "
    "value_label, language, at, round, meeting_id, theme, country, region, sector, "
    "association_id, proposal_id, supersedes"
)
# "Not superseded" as a set membership: SQLite builds the subquery's set once, so reading a
# survey stays linear instead of a correlated scan per entry.
_CURRENT = (
    "kind = 'answer' AND survey_id = ? AND id NOT IN "
    "(SELECT supersedes FROM record_entries WHERE survey_id = ? AND supersedes IS NOT NULL)"
)
# The same over every survey, for record entries aliased `e` (exports, evidence).
CURRENT_ANSWERS = (
    "e.kind = 'answer' AND e.id NOT IN "
    "(SELECT supersedes FROM record_entries WHERE supersedes IS NOT NULL)"
)


class Proposal(Model):
    id: int
    member_id: int
    pseudonym: str
    theme: str
    text: str
    language: str
    created_at: datetime


class RecordEntry(Model):
    id: int
    kind: EntryKind
    pseudonym: str | None
    survey_id: int | None
    form_id: str | None
    form_version: str | None
    question: str | None
    question_label: str | None
    value: str
    value_label: str
    language: str | None
    at: datetime
    round: str | None
    meeting_id: int | None
    theme: str | None
    country: str | None
    region: str | None
    sector: str | None
    association_id: int | None
    proposal_id: int | None
    supersedes: int | None


class SurveyHead(Model):
    """What results need of a survey row (the survey flow owns the rest)."""

    id: int
    form_id: str
    version: str
    titles: dict[str, str]
    default_language: str
    definition: str
    round: str | None
    theme: str | None
    status: str


class AnswerCounts(Model):
    """Current answers counted: (question, group, option) -> n and (question, group) -> people."""

    options: dict[tuple[str, str, str], int]
    respondents: dict[tuple[str, str], int]
    # (question, option) -> (language -> the label most often recorded), for forms without labels.
    option_labels: dict[tuple[str, str], dict[str, str]]
    question_labels: dict[str, dict[str, str]]


def _entry(row: Row) -> RecordEntry:
    data = dict(row)
    data["at"] = from_db_time(data["at"])
    return RecordEntry.model_validate(data)


def _group(row: Row, by: GroupBy | None) -> str:
    """The group an answer counts in; regions are qualified by country ('US-TX')."""
    if by is None:
        return ""
    if by == "region":
        return f"{row['country']}-{row['region']}" if row["country"] and row["region"] else ""
    return str(row[by] or "")


class RecordRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ---- proposals ------------------------------------------------------------------------
    async def add_proposal(
        self, member: Member, theme: str, text: str, language: str, at: datetime, round: str | None
    ) -> Proposal:
        """Store a proposal and its record entry (the member's profile as it is now) together."""
        moment = to_db_time(at)
        async with self._db.transaction() as conn:
            inserted = await conn.fetch_one(
                "INSERT INTO proposals (member_id, theme, text, language, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (member.id, theme, text, language, moment),
            )
            assert inserted is not None
            proposal_id = int(inserted[0])
            await conn.execute(
                "INSERT INTO record_entries (kind, pseudonym, value, language, at, round, theme, "
                "country, region, sector, association_id, proposal_id) "
                "VALUES ('proposal', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    member.pseudonym,
                    text,
                    language,
                    moment,
                    round,
                    theme,
                    member.country,
                    member.region,
                    member.sector,
                    member.association_id,
                    proposal_id,
                ),
            )
        return Proposal(
            id=proposal_id,
            member_id=member.id,
            pseudonym=member.pseudonym,
            theme=theme,
            text=text,
            language=language,
            created_at=from_db_time(moment),
        )

    async def proposals(self, themes: Collection[str] | None, limit: int = 20) -> list[Proposal]:
        """The latest proposals, newest first; `themes` None means every theme.

        A proposal whose author erased themselves has no text left to read: it is not listed.
        """
        where, parameters = "WHERE p.text != ''", []
        if themes is not None:
            if not themes:
                return []
            where += f" AND p.theme IN ({', '.join('?' for _ in themes)})"
            parameters = list(themes)
        rows = await self._db.fetch_all(
            "SELECT p.id, p.member_id, m.pseudonym, p.theme, p.text, p.language, p.created_at "
            f"FROM proposals p JOIN members m ON m.id = p.member_id {where} "
            "ORDER BY p.id DESC LIMIT ?",
            [*parameters, limit],
        )
        return [
            Proposal.model_validate({**dict(row), "created_at": from_db_time(row["created_at"])})
            for row in rows
        ]

    # ---- meetings -------------------------------------------------------------------------
    async def append_meeting_entry(
        self,
        meeting_id: int,
        kind: Literal["minutes", "outcome"],
        text: str,
        theme: str | None,
        round: str | None,
        actor_pseudonym: str,
        at: datetime | None = None,
    ) -> int:
        """Append a meeting's minutes or outcome to the record; return the entry id."""
        if kind not in ("minutes", "outcome"):
            raise ValueError(f"not a meeting entry kind: {kind}")
        return await self._db.insert(
            "INSERT INTO record_entries (kind, pseudonym, value, at, round, meeting_id, theme) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                kind,
                actor_pseudonym,
                text,
                to_db_time(at or self._db.clock.now()),
                round,
                meeting_id,
                theme,
            ),
        )

    async def entries(
        self, kind: EntryKind, meeting_id: int | None = None, limit: int = 100
    ) -> list[RecordEntry]:
        """The latest entries of a kind (optionally of one meeting), newest first."""
        where, parameters = "kind = ?", list[object]([kind])
        if meeting_id is not None:
            where += " AND meeting_id = ?"
            parameters.append(meeting_id)
        rows = await self._db.fetch_all(
            f"SELECT {_ENTRY_COLUMNS} FROM record_entries WHERE {where} ORDER BY id DESC LIMIT ?",
            [*parameters, limit],
        )
        return [_entry(row) for row in rows]

    # ---- surveys --------------------------------------------------------------------------
    async def of_survey(self, survey_id: int) -> list[RecordEntry]:
        """Every record entry of a survey, in the order written."""
        rows = await self._db.fetch_all(
            "SELECT * FROM record_entries WHERE survey_id = ? ORDER BY id", (survey_id,)
        )
        return [_entry(row) for row in rows]

    async def surveys(self, themes: Collection[str] | None = None) -> list[SurveyHead]:
        """Open and closed surveys, newest first; `themes` None means every survey."""
        where, parameters = "status IN ('open', 'closed')", []
        if themes is not None:
            if not themes:
                return []
            where += f" AND theme IN ({', '.join('?' for _ in themes)})"
            parameters = list(themes)
        rows = await self._db.fetch_all(
            "SELECT id, form_id, version, titles, default_language, definition, round, theme, "
            f"status FROM surveys WHERE {where} ORDER BY id DESC LIMIT 50",
            parameters,
        )
        return [_head(row) for row in rows]

    async def survey(self, survey_id: int) -> SurveyHead | None:
        row = await self._db.fetch_one(
            "SELECT id, form_id, version, titles, default_language, definition, round, theme, "
            "status FROM surveys WHERE id = ?",
            (survey_id,),
        )
        return _head(row) if row is not None else None

    async def current_answers(
        self, survey_id: int, chunk: int = CHUNK
    ) -> AsyncIterator[list[RecordEntry]]:
        """The survey's current answers with their provenance, in chunks, oldest first."""
        last = 0
        while True:
            rows = await self._db.fetch_all(
                f"SELECT {_ENTRY_COLUMNS} FROM record_entries WHERE {_CURRENT} AND id > ? "
                "ORDER BY id LIMIT ?",
                (survey_id, survey_id, last, chunk),
            )
            if not rows:
                return
            yield [_entry(row) for row in rows]
            last = int(rows[-1]["id"])

    async def question_shapes(self, survey_id: int) -> dict[str, tuple[bool, bool]]:
        """question -> (several values in one answer, every answer has a label): a fallback."""
        rows = await self._db.fetch_all(
            # CASE, not a comparison's value: PostgreSQL has no MAX of a boolean.
            "SELECT question, MAX(CASE WHEN value LIKE '% %' THEN 1 ELSE 0 END) AS multiple, "
            "MIN(CASE WHEN value_label != '' THEN 1 ELSE 0 END) "
            "* MAX(CASE WHEN value_label != value THEN 1 ELSE 0 END) AS select_like "
            "FROM record_entries WHERE kind = 'answer' AND survey_id = ? "
            "AND question IS NOT NULL GROUP BY question ORDER BY MIN(id)",
            (survey_id,),
        )
        return {
            str(row["question"]): (bool(row["multiple"]), bool(row["select_like"])) for row in rows
        }

    async def count_answers(
        self,
        survey_id: int,
        multiple: Collection[str],
        by: GroupBy | None = None,
        chunk: int = CHUNK,
    ) -> AnswerCounts:
        """Count current answers per question, group and option (chunked; never all rows)."""
        options: Counter[tuple[str, str, str]] = Counter()
        respondents: Counter[tuple[str, str]] = Counter()
        labels: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
        question_labels: dict[str, Counter[tuple[str, str]]] = {}
        last = 0
        while True:
            rows = await self._db.fetch_all(
                "SELECT id, question, value, value_label, question_label, language, country, "
                f"region, sector FROM record_entries WHERE {_CURRENT} AND id > ? "
                "ORDER BY id LIMIT ?",
                (survey_id, survey_id, last, chunk),
            )
            if not rows:
                break
            last = int(rows[-1]["id"])
            for row in rows:
                question, language = str(row["question"] or ""), str(row["language"] or "")
                group = _group(row, by)
                respondents[(question, group)] += 1
                question_labels.setdefault(question, Counter())[
                    (language, str(row["question_label"] or ""))
                ] += 1
                values = str(row["value"]).split() if question in multiple else [str(row["value"])]
                shown = _split_labels(str(row["value_label"]), len(values))
                for value, label in zip(values, shown, strict=True):
                    options[(question, group, value)] += 1
                    if label:
                        labels.setdefault((question, value), Counter())[(language, label)] += 1
        return AnswerCounts(
            options=dict(options),
            respondents=dict(respondents),
            option_labels={key: _most_common(seen) for key, seen in labels.items()},
            question_labels={key: _most_common(seen) for key, seen in question_labels.items()},
        )


def _split_labels(value_label: str, count: int) -> list[str]:
    """The label recorded for each value; multi-select labels are kept only when they line up."""
    if count == 1:
        return [value_label]
    for separator in ("\n", "; ", ", "):
        parts = value_label.split(separator)
        if len(parts) == count:
            return [part.strip() for part in parts]
    return [""] * count


def _most_common(seen: Counter[tuple[str, str]]) -> dict[str, str]:
    """Per language, the label seen most often."""
    best: dict[str, tuple[int, str]] = {}
    for (language, label), count in seen.items():
        if label and (language not in best or count > best[language][0]):
            best[language] = (count, label)
    return {language: label for language, (_, label) in best.items()}


def _head(row: Row) -> SurveyHead:
    data: dict[str, Any] = dict(row)
    try:
        titles = json.loads(data["titles"] or "{}")
    except ValueError:
        titles = {}
    data["titles"] = {str(k): str(v) for k, v in titles.items()} if isinstance(titles, dict) else {}
    return SurveyHead.model_validate(data)
