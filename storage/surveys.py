"""Surveys, who was invited, the working answers, and the answers written to the record."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.db import Database, Row, Transaction, Write, from_db_time, to_db_time
from storage.models import AudienceFilter
from storage.survey_models import AnswerEntry as AnswerEntry
from storage.survey_models import Participation as Participation
from storage.survey_models import Survey as Survey
from storage.survey_models import SurveyStatus as SurveyStatus
from storage.survey_models import WorkingAnswer as WorkingAnswer

# A survey is answerable while open and before its closing time (checked in SQL, so a survey
# closed from the CLI in another process is closed here at once).
_ANSWERABLE = (
    "EXISTS (SELECT 1 FROM surveys s WHERE s.id = ? AND s.status = 'open'"
    " AND (s.closes_at IS NULL OR s.closes_at > ?))"
    " AND EXISTS (SELECT 1 FROM survey_participants p WHERE p.survey_id = ? AND p.member_id = ?)"
)


def _times(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if data.get(key) is not None:
            data[key] = from_db_time(data[key])
    return data


def _survey(row: Row) -> Survey:
    return _survey_of(dict(row))


def _survey_of(data: dict[str, Any]) -> Survey:
    data.pop("definition", None)
    data["titles"] = json.loads(data["titles"])
    data["audience"] = AudienceFilter.model_validate(json.loads(data["audience"] or "{}"))
    return Survey.model_validate(_times(data, "closes_at", "created_at", "opened_at", "closed_at"))


_SURVEY_COLUMNS = (
    "id, form_id, version, titles, default_language, source_name, round, theme, status,"
    " audience, meeting_id, meeting_filter, closes_at, created_by, created_at, opened_at,"
    " closed_at, question_count"
)
_PREFIXED_SURVEY_COLUMNS = ", ".join("s." + column.strip() for column in _SURVEY_COLUMNS.split(","))
_ENTRY_COLUMNS = (
    "pseudonym, survey_id, form_id, form_version, question, question_label, value, value_label,"
    " language, at, round, meeting_id, theme, country, region, sector, association_id"
)


class SurveysRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ---- surveys --------------------------------------------------------------------------
    async def create(
        self,
        form_id: str,
        version: str,
        titles: Mapping[str, str],
        default_language: str,
        definition: str,
        source_name: str,
        round_: str | None,
        theme: str | None,
        created_by: str,
        now: datetime,
        question_count: int,
    ) -> Survey | None:
        """Store a loaded form as a draft survey; None when this form_id + version exists."""
        row = await self._db.write_returning(
            "INSERT INTO surveys (form_id, version, titles, default_language, definition,"
            " source_name, round, theme, created_by, created_at, question_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (form_id, version) DO NOTHING RETURNING {_SURVEY_COLUMNS}",
            (
                form_id,
                version,
                json.dumps(dict(titles), ensure_ascii=False),
                default_language,
                definition,
                source_name,
                round_,
                theme,
                created_by,
                to_db_time(now),
                question_count,
            ),
        )
        return _survey(row) if row is not None else None

    async def get(self, survey_id: int) -> Survey | None:
        row = await self._db.fetch_one(
            f"SELECT {_SURVEY_COLUMNS} FROM surveys WHERE id = ?", (survey_id,)
        )
        return _survey(row) if row is not None else None

    async def by_form(self, form_id: str, version: str) -> Survey | None:
        row = await self._db.fetch_one(
            f"SELECT {_SURVEY_COLUMNS} FROM surveys WHERE form_id = ? AND version = ?",
            (form_id, version),
        )
        return _survey(row) if row is not None else None

    async def definition(self, survey_id: int) -> str | None:
        """The stored form (its sheets as JSON)."""
        row = await self._db.fetch_one("SELECT definition FROM surveys WHERE id = ?", (survey_id,))
        return str(row[0]) if row is not None else None

    async def listing(self, limit: int = 100) -> list[Survey]:
        rows = await self._db.fetch_all(
            f"SELECT {_SURVEY_COLUMNS} FROM surveys ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [_survey(row) for row in rows]

    async def open(
        self,
        survey_id: int,
        audience: AudienceFilter,
        meeting_id: int | None,
        meeting_filter: str | None,
        closes_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Draft → open, with who it is for and until when; False if it was not a draft."""
        changed = await self._db.execute(
            "UPDATE surveys SET status = 'open', audience = ?, meeting_id = ?, meeting_filter = ?,"
            " closes_at = ?, opened_at = ? WHERE id = ? AND status = 'draft'",
            (
                audience.model_dump_json(),
                meeting_id,
                meeting_filter,
                to_db_time(closes_at) if closes_at else None,
                to_db_time(now),
                survey_id,
            ),
        )
        return changed > 0

    async def close(self, survey_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE surveys SET status = 'closed', closed_at = ? WHERE id = ?"
            " AND status != 'closed'",
            (to_db_time(now), survey_id),
        )
        return changed > 0

    # ---- participants ---------------------------------------------------------------------
    async def invite(self, survey_id: int, member_ids: Sequence[int], now: datetime) -> int:
        """Add participants (existing ones stay as they are); the number added."""
        async with self._db.transaction() as conn:
            added = await conn.execute_many(
                "INSERT INTO survey_participants (survey_id, member_id, invited_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(survey_id, member_id, to_db_time(now)) for member_id in member_ids],
            )
            return added

    async def participation(self, survey_id: int, member_id: int) -> Participation | None:
        row = await self._db.fetch_one(
            "SELECT p.*, (SELECT count(*) FROM survey_answers a WHERE a.survey_id = p.survey_id"
            " AND a.member_id = p.member_id) AS answered FROM survey_participants p"
            " WHERE p.survey_id = ? AND p.member_id = ?",
            (survey_id, member_id),
        )
        if row is None:
            return None
        return Participation.model_validate(
            _times(dict(row), "invited_at", "started_at", "submitted_at")
        )

    async def with_participation(
        self, survey_id: int, member_id: int
    ) -> tuple[Survey | None, Participation | None]:
        """The survey and the member's invitation to it, in one query."""
        row = await self._db.fetch_one(_WITH_PARTICIPATION, (member_id, survey_id))
        return _with_participation(row, survey_id)

    async def with_answers(
        self, survey_id: int, member_id: int
    ) -> tuple[Survey | None, Participation | None, dict[str, WorkingAnswer]]:
        """The survey, the member's invitation and their working answers, in one trip to the
        database thread (every start, review and submit reads all three)."""

        async def both(tx: Transaction) -> tuple[Row | None, list[Row]]:
            row = await tx.fetch_one(_WITH_PARTICIPATION, (member_id, survey_id))
            return row, await tx.fetch_all(_ANSWERS, (survey_id, member_id))

        row, answers = await self._db.read(both)
        return (*_with_participation(row, survey_id), _answers(answers))

    async def open_for(self, member_id: int, now: datetime) -> list[tuple[Survey, Participation]]:
        """The answerable surveys this member was invited to, oldest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_PREFIXED_SURVEY_COLUMNS},"
            " p.member_id, p.invited_at, p.started_at, p.submitted_at"
            " FROM survey_participants p JOIN surveys s ON s.id = p.survey_id"
            " WHERE p.member_id = ? AND s.status = 'open' AND (s.closes_at IS NULL"
            " OR s.closes_at > ?) ORDER BY s.id",
            (member_id, to_db_time(now)),
        )
        found = []
        for row in rows:
            data = dict(row)
            participation = Participation.model_validate(
                _times(
                    {
                        "survey_id": data["id"],
                        "member_id": data.pop("member_id"),
                        "invited_at": data.pop("invited_at"),
                        "started_at": data.pop("started_at"),
                        "submitted_at": data.pop("submitted_at"),
                    },
                    "invited_at",
                    "started_at",
                    "submitted_at",
                )
            )
            found.append((_survey(row), participation))
        return found

    async def participant_count(self, survey_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT count(*) FROM survey_participants WHERE survey_id = ?", (survey_id,)
        )
        return int(row[0]) if row else 0

    async def mark_started(self, survey_id: int, member_id: int, now: datetime) -> bool:
        """Note when the member started (once); False if it was already noted."""
        row = await self._db.write_returning(  # RETURNING: one trip to the database thread
            "UPDATE survey_participants SET started_at = ? WHERE survey_id = ? AND member_id = ?"
            " AND started_at IS NULL RETURNING 1",
            (to_db_time(now), survey_id, member_id),
        )
        return row is not None

    # ---- working answers ------------------------------------------------------------------
    async def save_answer(
        self,
        survey_id: int,
        member_id: int,
        answer: WorkingAnswer,
        now: datetime,
        then: Write | None = None,
    ) -> bool:
        """Store (or replace) one answer; False when the survey is closed or not theirs.

        `then`: a write run after it in the same transaction and trip (the conversation's move),
        only if the answer was taken.
        """
        write = Write(
            "INSERT INTO survey_answers (survey_id, member_id, question, value, label, language,"
            " answered_at) SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?, ?, ?, ?"
            f" WHERE {_ANSWERABLE}"
            " ON CONFLICT (survey_id, member_id, question) DO UPDATE SET value = excluded.value,"
            " label = excluded.label, language = excluded.language,"
            " answered_at = excluded.answered_at RETURNING 1",
            (
                survey_id,
                member_id,
                answer.question,
                answer.value,
                answer.label,
                answer.language,
                to_db_time(answer.answered_at),
                survey_id,
                to_db_time(now),
                survey_id,
                member_id,
            ),
        )
        # One trip to the database thread for both writes (RETURNING: no cursor to close).
        rows = await self._db.write_chain([write] if then is None else [write, then])
        return rows[0] is not None

    async def answers(self, survey_id: int, member_id: int) -> dict[str, WorkingAnswer]:
        return _answers(await self._db.fetch_all(_ANSWERS, (survey_id, member_id)))

    async def answer_count(self, survey_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT count(*) FROM survey_answers WHERE survey_id = ?", (survey_id,)
        )
        return int(row[0]) if row else 0

    # ---- the record -----------------------------------------------------------------------
    async def submit(
        self,
        survey_id: int,
        member_id: int,
        pseudonym: str,
        entries: Sequence[AnswerEntry],
        now: datetime,
    ) -> int | None:
        """Append the answers that differ from the member's current record entries.

        `entries` hold every question of the form ('' for one skipped or no longer shown): a
        changed answer supersedes its previous entry, an answer withdrawn gets an empty entry
        superseding it. One transaction, so a repeated submit appends nothing. None when the
        survey is closed or not theirs.
        """
        moment = to_db_time(now)

        # One trip to the database thread for the whole submit (every trip counts under load).
        async def append(conn: Transaction) -> int | None:
            # The submit time is set first, only if the survey is still answerable: the check
            # and the mark are one statement.
            allowed = await conn.fetch_all(
                "UPDATE survey_participants SET submitted_at = ? WHERE survey_id = ?"
                f" AND member_id = ? AND {_ANSWERABLE} RETURNING 1",
                (moment, survey_id, member_id, survey_id, moment, survey_id, member_id),
            )
            if not allowed:
                return None
            rows = await conn.fetch_all(
                "SELECT r.id, r.question, r.value FROM record_entries r WHERE r.kind = 'answer'"
                " AND r.survey_id = ? AND r.pseudonym = ? AND NOT EXISTS (SELECT 1 FROM"
                " record_entries s WHERE s.supersedes = r.id)",
                (survey_id, pseudonym),
            )
            current = {str(row[1]): (int(row[0]), str(row[2])) for row in rows}
            fresh: list[tuple[Any, ...]] = []
            for entry in entries:
                previous = current.get(entry.question)
                if previous is None and entry.value == "":
                    continue
                if previous is not None and previous[1] == entry.value:
                    continue
                fresh.append(_entry_values(entry, previous[0] if previous else None))
            await conn.execute_many(
                f"INSERT INTO record_entries (kind, {_ENTRY_COLUMNS}, supersedes)"
                f" VALUES ('answer', {', '.join('?' for _ in range(18))})",
                fresh,
            )
            return len(fresh)

        return await self._db.transact(append)


_WITH_PARTICIPATION = (
    f"SELECT {_PREFIXED_SURVEY_COLUMNS}, p.member_id AS p_member_id,"
    " p.invited_at AS p_invited_at, p.started_at AS p_started_at,"
    " p.submitted_at AS p_submitted_at, (SELECT count(*) FROM survey_answers a"
    " WHERE a.survey_id = s.id AND a.member_id = p.member_id) AS p_answered"
    " FROM surveys s LEFT JOIN survey_participants p ON p.survey_id = s.id"
    " AND p.member_id = ? WHERE s.id = ?"
)
_ANSWERS = (
    "SELECT question, value, label, language, answered_at FROM survey_answers"
    " WHERE survey_id = ? AND member_id = ?"
)


def _with_participation(
    row: Row | None, survey_id: int
) -> tuple[Survey | None, Participation | None]:
    if row is None:
        return None, None
    data = dict(row)
    found = {key[2:]: data.pop(key) for key in list(data) if key.startswith("p_")}
    survey = _survey_of(data)
    if found["member_id"] is None:
        return survey, None
    participation = Participation.model_validate(
        _times({"survey_id": survey_id, **found}, "invited_at", "started_at", "submitted_at")
    )
    return survey, participation


def _answers(rows: Sequence[Row]) -> dict[str, WorkingAnswer]:
    return {
        str(row["question"]): WorkingAnswer.model_validate(_times(dict(row), "answered_at"))
        for row in rows
    }


def _entry_values(entry: AnswerEntry, supersedes: int | None) -> tuple[Any, ...]:
    return (
        entry.pseudonym,
        entry.survey_id,
        entry.form_id,
        entry.form_version,
        entry.question,
        entry.question_label,
        entry.value,
        entry.value_label,
        entry.language,
        to_db_time(entry.at),
        entry.round,
        entry.meeting_id,
        entry.theme,
        entry.country,
        entry.region,
        entry.sector,
        entry.association_id,
        supersedes,
    )
