"""Rows for staff exports, streamed in chunks from a read-only connection.

Exports run in a worker thread or an export process: `open_reader(target)` opens a separate,
read-only connection there (storage.export_connections), so a 100,000-row export neither holds
the bot's connection nor fetches every row at once (`fetchmany` of CHUNK).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from storage.csv_lines import CSV_CHUNK, TextColumn, csv_line_sql
from storage.db import Database, to_db_time
from storage.evidence import Clause, clause_of
from storage.export_connections import ReadConnection, open_read_connection
from storage.models import Model
from storage.record import CURRENT_ANSWERS

CHUNK = 5000
PII_COLUMNS = ("name", "phone", "email", "telegram_id", "city")


class ExportFilters(Model):
    """What an export is narrowed to; bounds are UTC instants (start inclusive, end exclusive)."""

    survey_id: int | None = None
    round: str | None = None
    theme: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    country: str | None = None
    region: str | None = None
    sector: str | None = None


class SurveyRow(Model):
    id: int
    form_id: str
    version: str
    titles: dict[str, str]
    default_language: str
    definition: str
    round: str | None
    theme: str | None


def _where(
    filters: ExportFilters, columns: dict[str, str], alias_time: str | None
) -> tuple[str, list[Any]]:
    """SQL conditions for the filters that apply to a dataset (columns: filter -> SQL column)."""
    clauses: list[str] = []
    parameters: list[Any] = []
    for name in ("survey_id", "round", "theme", "country", "region", "sector"):
        value = getattr(filters, name)
        if value is not None and name in columns:
            clauses.append(f"{columns[name]} = ?")
            parameters.append(value)
    if alias_time is not None:
        if filters.start is not None:
            clauses.append(f"{alias_time} >= ?")
            parameters.append(to_db_time(filters.start))
        if filters.end is not None:
            clauses.append(f"{alias_time} < ?")
            parameters.append(to_db_time(filters.end))
    return (" AND ".join(clauses) or "1 = 1"), parameters


_PROVENANCE = {
    "survey_id": "e.survey_id",
    "round": "e.round",
    "theme": "e.theme",
    "country": "e.country",
    "region": "e.region",
    "sector": "e.sector",
}
ANSWER_COLUMNS = (
    "id, pseudonym, survey_id, form_id, form_version, question, question_label, value, "
    "value_label, language, at, round, meeting_id, theme, country, region, sector, "
    "association_id, supersedes"
)

ASSOCIATION_NAME = "(SELECT a.name FROM associations a WHERE a.id = e.association_id)"


class ExportReader:
    """Synchronous, chunked reads for one export, on its own read-only connection."""

    def __init__(self, connection: ReadConnection) -> None:
        self._connection = connection

    def _stream(self, sql: str, parameters: Sequence[Any]) -> Iterator[dict[str, Any]]:
        cursor = self._connection.execute(sql, parameters)
        names = cursor.names()
        try:
            while rows := cursor.fetchmany(CHUNK):
                for row in rows:
                    yield dict(zip(names, row, strict=True))
        finally:
            cursor.close()

    def csv_chunks(
        self, sql: str, parameters: Sequence[Any], columns: Sequence[TextColumn]
    ) -> Iterator[tuple[int, bytes]]:
        """(lines, UTF-8 bytes) of CSV lines built by SQLite itself, CSV_CHUNK lines at a time."""
        cursor = self._connection.execute(
            f"SELECT {csv_line_sql(columns, self._connection.dialect)} FROM ({sql}) AS q",
            parameters,
        )
        try:
            while rows := cursor.fetchmany(CSV_CHUNK):
                yield len(rows), b"".join([row[0] for row in rows])
        finally:
            cursor.close()

    def count(self, sql: str, parameters: Sequence[Any]) -> int:
        """How many rows a dataset query returns (for progress bars)."""
        row = self._connection.execute(f"SELECT COUNT(*) FROM ({sql}) AS q", parameters).fetchone()
        return int(row[0]) if row else 0

    # ---- surveys and answers -------------------------------------------------------------
    def survey(self, survey_id: int) -> SurveyRow | None:
        row = self._connection.execute(
            "SELECT id, form_id, version, titles, default_language, definition, round, theme "
            "FROM surveys WHERE id = ?",
            (survey_id,),
        ).fetchone()
        if row is None:
            return None
        names = ("id", "form_id", "version", "titles", "default_language", "definition", "round")
        data = dict(zip((*names, "theme"), row, strict=True))
        try:
            titles = json.loads(data["titles"] or "{}")
        except ValueError:
            titles = {}
        data["titles"] = (
            {str(k): str(v) for k, v in titles.items()} if isinstance(titles, dict) else {}
        )
        return SurveyRow.model_validate(data)

    def survey_ids(self, filters: ExportFilters) -> list[int]:
        """Surveys with current answers under the filters, in id order."""
        where, parameters = _where(filters, _PROVENANCE, "e.at")
        rows = self._connection.execute(
            "SELECT DISTINCT e.survey_id FROM record_entries e "
            f"WHERE {CURRENT_ANSWERS} AND {where} "
            "AND e.survey_id IS NOT NULL ORDER BY e.survey_id",
            parameters,
        ).fetchall()
        return [int(row[0]) for row in rows]

    def answers_sql(
        self, filters: ExportFilters, order: str | None = "e.id"
    ) -> tuple[str, list[Any]]:
        """The current answers under the filters, one row per answer with its provenance.

        `order` None (or "NULL", which PostgreSQL refuses in ORDER BY): in no particular order.
        """
        where, parameters = _where(filters, _PROVENANCE, "e.at")
        columns = ", ".join(
            f"e.{name.strip()} AS {name.strip()}" for name in ANSWER_COLUMNS.split(",")
        )
        # The association by its registry name (an organisation, not a person: no member's
        # name, phone or Telegram id is read here).
        columns += f", {ASSOCIATION_NAME} AS association"
        ordered = f" ORDER BY {order}" if order is not None and order != "NULL" else ""
        return (
            f"SELECT {columns} FROM record_entries e WHERE {CURRENT_ANSWERS} AND {where}{ordered}",
            parameters,
        )

    def answers(
        self, filters: ExportFilters, by_submission: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Current answers; by submission: ordered by survey, member, then entry."""
        order = "e.survey_id, e.pseudonym, e.id" if by_submission else "e.id"
        return self._stream(*self.answers_sql(filters, order))

    def question_labels(self, survey_id: int) -> list[tuple[str, str, str]]:
        """(question, language, label) seen in the record, in order of first appearance."""
        rows = self._connection.execute(
            "SELECT question, COALESCE(language, ''), COALESCE(question_label, ''), "
            "MIN(id) AS first "
            "FROM record_entries WHERE kind = 'answer' AND survey_id = ? AND question IS NOT NULL "
            "GROUP BY question, language, question_label ORDER BY first",
            (survey_id,),
        ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def option_counts(self, filters: ExportFilters) -> list[tuple[str, str, str, int]]:
        """(question, value, value_label, answers) of the current answers under the filters."""
        where, parameters = _where(filters, _PROVENANCE, "e.at")
        rows = self._connection.execute(
            "SELECT e.question, e.value, e.value_label, COUNT(*) FROM record_entries e "
            f"WHERE {CURRENT_ANSWERS} AND {where} GROUP BY e.question, e.value, e.value_label",
            parameters,
        ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2] or ""), int(r[3])) for r in rows]

    def texts(
        self, filters: ExportFilters, question: str, limit: int = 20000
    ) -> list[dict[str, Any]]:
        """Free-text answers to one question with the author's pseudonym and provenance."""
        where, parameters = _where(filters, _PROVENANCE, "e.at")
        return list(
            self._stream(
                "SELECT e.pseudonym, e.value, e.country, e.region, e.sector FROM record_entries e "
                f"WHERE {CURRENT_ANSWERS} AND {where} AND e.question = ? ORDER BY e.id LIMIT ?",
                [*parameters, question, limit],
            )
        )

    def proposal_texts(
        self, filters: ExportFilters, theme: str, limit: int = 20000
    ) -> list[dict[str, Any]]:
        """A theme's proposals with the author's pseudonym and provenance when they were sent."""
        columns = {k: v for k, v in _PROVENANCE.items() if k not in ("survey_id", "theme")}
        where, parameters = _where(filters, columns, "e.at")
        return list(
            self._stream(
                "SELECT e.pseudonym, p.text AS value, e.country, e.region, e.sector "
                "FROM proposals p JOIN record_entries e ON e.proposal_id = p.id "
                f"AND e.kind = 'proposal' WHERE p.theme = ? AND {where} ORDER BY p.id LIMIT ?",
                [theme, *parameters, limit],
            )
        )

    # ---- proposals, meetings, members ----------------------------------------------------
    def proposals_sql(self, filters: ExportFilters) -> tuple[str, list[Any]]:
        """Proposals with their provenance as recorded when they were sent."""
        columns = {k: v for k, v in _PROVENANCE.items() if k != "survey_id"}
        where, parameters = _where(filters, columns, "e.at")
        return (
            "SELECT p.id AS id, e.pseudonym AS pseudonym, p.theme AS theme, p.text AS text, "
            "p.language AS language, p.created_at AS created_at, e.round AS round, "
            "e.country AS country, e.region AS region, e.sector AS sector, "
            "e.association_id AS association_id, e.id AS record_id "
            "FROM proposals p JOIN record_entries e ON e.proposal_id = p.id "
            f"AND e.kind = 'proposal' WHERE {where} ORDER BY p.id",
            parameters,
        )

    def meetings_sql(self, filters: ExportFilters) -> tuple[str, list[Any]]:
        """Meetings with RSVP counts (yes, maybe, no, waitlist) and attendance."""
        where, parameters = _where(filters, {"round": "m.round", "theme": "m.theme"}, "m.start_at")
        return (
            "SELECT m.id AS id, m.kind AS kind, m.titles AS titles, m.start_at AS start_at, "
            "m.zone AS zone, m.local_start AS local_start, m.duration_minutes AS duration_minutes, "
            "m.capacity AS capacity, m.round AS round, m.theme AS theme, m.status AS status, "
            "count(*) FILTER (WHERE r.answer = 'yes' AND r.waitlist_position IS NULL)"
            " AS rsvp_yes, "
            "count(*) FILTER (WHERE r.answer = 'maybe') AS rsvp_maybe, "
            "count(*) FILTER (WHERE r.answer = 'no') AS rsvp_no, "
            "count(*) FILTER (WHERE r.waitlist_position IS NOT NULL) AS waitlist, "
            "count(*) FILTER (WHERE r.checked_in_at IS NOT NULL) AS attended, "
            "CASE WHEN m.minutes IS NULL OR m.minutes = '' THEN 0 ELSE 1 END AS has_minutes "
            f"FROM meetings m LEFT JOIN rsvps r ON r.meeting_id = m.id WHERE {where} "
            "GROUP BY m.id ORDER BY m.start_at, m.id",
            parameters,
        )

    def members_sql(self, filters: ExportFilters, pii: bool) -> tuple[str, list[Any]]:
        """Members by pseudonym; PII columns only when asked, and never for erased members."""
        where, parameters = _where(
            filters,
            {"country": "m.country", "region": "m.region", "sector": "m.sector"},
            "m.registered_at",
        )
        pii_sql = ""
        if pii:
            pii_sql = "".join(
                f", CASE WHEN m.status = 'deleted' THEN NULL ELSE m.{name} END AS {name}"
                for name in PII_COLUMNS
            )
        return (
            "SELECT m.pseudonym AS pseudonym, m.status AS status, m.language AS language, "
            "m.country AS country, m.region AS region, m.sector AS sector, "
            "m.association_id AS association_id, a.name AS association, m.themes AS themes, "
            f"m.registered_at AS registered_at, m.deleted_at AS deleted_at{pii_sql} "
            "FROM members m LEFT JOIN associations a ON a.id = m.association_id "
            f"WHERE m.status != 'registering' AND {where} ORDER BY m.id",
            parameters,
        )

    def rows(self, query: tuple[str, list[Any]]) -> Iterator[dict[str, Any]]:
        """Stream the rows of one of the *_sql queries."""
        return self._stream(*query)

    # ---- evidence ------------------------------------------------------------------------
    def clauses(self) -> list[Clause]:
        rows = self._connection.execute(
            "SELECT id, texts, position, loaded_at, source FROM clauses ORDER BY position, id"
        ).fetchall()
        return [
            clause_of(dict(zip(("id", "texts", "position", "loaded_at", "source"), r, strict=True)))
            for r in rows
        ]

    def evidence_rows(self) -> Iterator[dict[str, Any]]:
        """Every evidence link with the linked item's provenance."""
        return self._stream(
            "SELECT v.clause_id AS clause_id, v.kind AS kind, v.ref AS ref, v.note AS note, "
            "v.linked_by AS linked_by, v.linked_at AS linked_at, "
            "COALESCE(e.pseudonym, pe.pseudonym) AS pseudonym, "
            "COALESCE(e.survey_id, NULL) AS survey_id, e.question AS question, "
            "COALESCE(e.value, p.text, mt.minutes) AS content, "
            "COALESCE(e.round, pe.round, mt.round) AS round, "
            "COALESCE(e.theme, pe.theme, mt.theme) AS theme, "
            "COALESCE(e.country, pe.country) AS country, "
            "COALESCE(e.region, pe.region) AS region, "
            "COALESCE(e.sector, pe.sector) AS sector, "
            "COALESCE(e.at, p.created_at, mt.start_at) AS at "
            "FROM evidence v "
            "LEFT JOIN record_entries e ON v.kind IN ('answer', 'record') AND e.id = v.ref "
            "LEFT JOIN proposals p ON v.kind = 'proposal' AND p.id = v.ref "
            "LEFT JOIN record_entries pe ON v.kind = 'proposal' AND pe.proposal_id = v.ref "
            "AND pe.kind = 'proposal' "
            "LEFT JOIN meetings mt ON v.kind = 'meeting' AND mt.id = v.ref "
            "ORDER BY v.clause_id, v.kind, v.ref",
            (),
        )


@contextmanager
def open_reader(target: str) -> Iterator[ExportReader]:
    """A read-only reader of the database at `target` (in this thread or an export process)."""
    with open_read_connection(target) as connection:
        yield ExportReader(connection)


class ExportsRepository:
    """Export reads (through `reader()`, in a worker thread); clauses and evidence are
    storage.evidence's."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def target(self) -> str:
        """Where an export process connects to read (a file's path or a PostgreSQL URL)."""
        return self._db.target

    def reader(self) -> AbstractContextManager[ExportReader]:
        """A read-only connection for one export; open and use it in the same thread."""
        return open_reader(self._db.target)

    async def known_values(self) -> dict[str, set[str]]:
        """Regions ('QC') and sectors seen among members and the record, for validating filters."""
        rows = await self._db.fetch_all(
            "SELECT 'region', region FROM members WHERE region IS NOT NULL "
            "UNION SELECT 'region', region FROM record_entries WHERE region IS NOT NULL "
            "UNION SELECT 'sector', sector FROM record_entries WHERE sector IS NOT NULL"
        )
        found: dict[str, set[str]] = {"region": set(), "sector": set()}
        for row in rows:
            found[str(row[0])].add(str(row[1]))
        return found

    async def filter_options(self) -> dict[str, list[str]]:
        """Values worth offering as filters: countries, regions (CA-QC), sectors and rounds."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT 'country', country FROM record_entries WHERE country IS NOT NULL "
            "UNION SELECT DISTINCT 'region', country || '-' || region FROM record_entries "
            "WHERE country IS NOT NULL AND region IS NOT NULL "
            "UNION SELECT DISTINCT 'sector', sector FROM record_entries WHERE sector IS NOT NULL "
            "UNION SELECT DISTINCT 'round', round FROM record_entries WHERE round IS NOT NULL"
        )
        found: dict[str, list[str]] = {"country": [], "region": [], "sector": [], "round": []}
        for row in rows:
            found[str(row[0])].append(str(row[1]))
        return {key: sorted(values) for key, values in found.items()}

    async def survey_titles(self) -> list[tuple[int, dict[str, str]]]:
        """(id, titles by language) of every survey, newest first."""
        rows = await self._db.fetch_all("SELECT id, titles FROM surveys ORDER BY id DESC")
        found = []
        for row in rows:
            try:
                titles = json.loads(row[1] or "{}")
            except ValueError:
                titles = {}
            shown = {str(k): str(v) for k, v in titles.items()} if isinstance(titles, dict) else {}
            found.append((int(row[0]), shown))
        return found

    async def submission_counts(self) -> dict[int, tuple[int, int]]:
        """Survey id -> (submissions, answers) in the record: members with a current answer,
        and their current non-empty answers (what an answers export holds)."""
        rows = await self._db.fetch_all(
            "SELECT e.survey_id, COUNT(DISTINCT e.pseudonym), "
            "COUNT(*) FILTER (WHERE e.value IS NOT NULL AND e.value != '') "
            f"FROM record_entries e WHERE {CURRENT_ANSWERS} AND e.survey_id IS NOT NULL "
            "GROUP BY e.survey_id"
        )
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def survey_exists(self, survey_id: int) -> bool:
        return (
            await self._db.fetch_one("SELECT 1 FROM surveys WHERE id = ?", (survey_id,)) is not None
        )
