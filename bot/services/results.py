"""Survey results for staff: the summary sheet's numbers in the reader's language, split.

The form is read as the exports read it (the stored sheets through the XLSForm parser, see
bot.services.exports.form_table), so question and option labels are the reader's language,
whatever language each member answered in. The numbers come from the record grouped by SQL and
go through the export's own `summarise` (bot.services.results_stats), so /results and the
summary sheet of an export show the same counts and hide the same cells.

"What we heard" (bot.services.results_heard) and the chart images (bot.services.results_charts)
are built from these results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Config
from bot.i18n import Texts, format_number
from bot.services.broadcasts import BroadcastService
from bot.services.exports.form_table import (
    NUMBER_TYPES,
    SELECT_TYPES,
    FormColumn,
    columns_of,
    form_of,
)
from bot.services.permissions import Permission, allows, themes_of
from bot.services.regions import region as find_region
from bot.services.results_stats import (
    Computed,
    GroupBlock,
    GroupBy,
    OptionCell,
    QuestionBlock,
    Row,
    compute,
)
from storage import Store
from storage.exports import ExportFilters, ExportReader
from storage.record import SurveyHead

GROUPINGS: tuple[GroupBy, ...] = ("country", "region", "sector")

__all__ = [
    "GROUPINGS",
    "GroupBlock",
    "GroupBy",
    "OptionCell",
    "QuestionBlock",
    "Results",
    "ResultsService",
    "group_label",
    "percent",
]


@dataclass(frozen=True)
class Results:
    survey: SurveyHead
    language: str
    by: GroupBy | None
    k: int
    # Members who submitted; None when fewer than k (then every cell is hidden).
    submissions: int | None
    questions: tuple[QuestionBlock, ...]

    @property
    def too_few(self) -> bool:
        return self.submissions is None


@dataclass(frozen=True)
class Answers:
    """A survey's current answers, counted: what every view of its results is computed from."""

    fields: list[FormColumn]
    rows: list[Row]
    submissions: int
    # (country, region) -> members who submitted from there (their profile when answering).
    places: dict[tuple[str, str], int]


def group_label(texts: Texts, language: str, by: GroupBy | None, key: str) -> str:
    """How a group is named: everyone, a country, 'Texas (US)', a sector; 'not stated' if empty."""
    if by is None:
        return texts.plain(language, "results.everyone")
    if by == "region":
        country, _, code = key.partition("-")
        found = find_region(country, code)
        if found is None:
            return texts.plain(language, "results.unknown")
        return f"{found.name_in(language)} ({country})"
    if not key:
        return texts.plain(language, "results.unknown")
    if by == "country":
        return texts.label(language, "country", key) if texts.has("es", f"country.{key}") else key
    return texts.label(language, "sector", key)


def percent(share: float | None, language: str) -> str:
    return f"{format_number(round(share * 100), language)} %" if share is not None else ""


def _read(reader: ExportReader, survey_id: int, fields: list[FormColumn] | None) -> Answers:
    """The survey's form columns and its answers grouped by SQL (in a worker thread).

    The same current answers the export's summary counts (ExportReader.answers_sql); one more
    grouping level (region, sector) so that every split is computed from this one read.
    """
    if fields is None:
        survey = reader.survey(survey_id)
        form = form_of(survey.definition, survey.form_id) if survey is not None else None
        fields = columns_of(form, reader.question_labels(survey_id) if form is None else ())
    sql, parameters = reader.answers_sql(ExportFilters(survey_id=survey_id))
    # Of a free text, a date or a time only whether it was answered counts: grouping by their
    # values would make a group per answer (40,000 rows to convert for 10,000 members).
    counted = [f.name for f in fields if f.type not in SELECT_TYPES | NUMBER_TYPES]
    marks = ", ".join("?" for _ in counted) or "NULL"
    grouped = reader.rows(
        (
            f"SELECT question, CASE WHEN question IN ({marks}) THEN CASE WHEN value != '' "
            "THEN '1' ELSE '' END ELSE value END AS answer, country, region, sector, COUNT(*) AS n "
            f"FROM ({sql}) AS q GROUP BY question, answer, country, region, sector",
            [*counted, *parameters],
        )
    )
    rows: list[Row] = [
        (
            str(r["question"]),
            str(r["answer"] or ""),
            str(r["country"] or ""),
            str(r["region"] or ""),
            str(r["sector"] or ""),
            int(r["n"]),
        )
        for r in grouped
    ]
    people = reader.rows(
        (
            "SELECT country, region, COUNT(*) AS n FROM (SELECT pseudonym, MAX(country) AS "
            f"country, MAX(region) AS region FROM ({sql}) AS q GROUP BY pseudonym) AS p "
            "GROUP BY country, region",
            parameters,
        )
    )
    places = {(str(r["country"] or ""), str(r["region"] or "")): int(r["n"]) for r in people}
    return Answers(fields, rows, sum(places.values()), places)


class ResultsService:
    def __init__(
        self, store: Store, config: Config, texts: Texts, broadcasts: BroadcastService
    ) -> None:
        self._record = store.record
        self._exports = store.exports
        self._config = config
        self._texts = texts
        self._broadcasts = broadcasts
        # A survey version never changes: its form is parsed once.
        self._fields: dict[int, list[FormColumn]] = {}

    @property
    def texts(self) -> Texts:
        return self._texts

    @property
    def broadcasts(self) -> BroadcastService:
        return self._broadcasts

    def fallback_language(self) -> str:
        return self._config.programme.default_language

    def min_cell(self) -> int:
        return int(getattr(self._config.programme, "min_cell", 5))

    # ---- who sees what --------------------------------------------------------------------
    @staticmethod
    def viewable_themes(grants: list[tuple[str, str]]) -> set[str] | None:
        """None: every survey; else the themes this person sees results for (may be empty)."""
        if allows(grants, Permission.VIEW_RESULTS):
            return None
        return {t for t in themes_of(grants) if allows(grants, Permission.VIEW_RESULTS, t)}

    async def surveys(self, grants: list[tuple[str, str]]) -> list[SurveyHead]:
        return await self._record.surveys(self.viewable_themes(grants))

    async def survey(self, survey_id: int, grants: list[tuple[str, str]]) -> SurveyHead | None:
        """The survey if this person may see its results."""
        survey = await self._record.survey(survey_id)
        if survey is None or survey.status not in ("open", "closed"):
            return None
        return survey if allows(grants, Permission.VIEW_RESULTS, survey.theme) else None

    async def survey_by_id(self, survey_id: int) -> SurveyHead | None:
        """Any survey (for the command line, which runs with the operator's rights)."""
        return await self._record.survey(survey_id)

    # ---- counting -------------------------------------------------------------------------
    async def submissions(self) -> dict[int, tuple[int, int]]:
        """Survey id -> (submissions, single answers) in the record (what an export holds)."""
        return await self._exports.submission_counts()

    async def answers(self, survey: SurveyHead) -> Answers:
        """The survey's form and counted answers, read on a connection of their own."""
        known = self._fields.get(survey.id)

        def read() -> Answers:
            with self._exports.reader() as reader:
                return _read(reader, survey.id, known)

        # A large form parses for a good part of a second, and SQLite releases the GIL.
        found = await asyncio.to_thread(read)
        self._fields.setdefault(survey.id, found.fields)
        return found

    def compute(
        self,
        survey: SurveyHead,
        answers: Answers,
        language: str,
        by: GroupBy | None = None,
        k: int | None = None,
    ) -> Results:
        """The results of counted answers in `language`, split `by`, cells under k hidden."""
        k = k or self.min_cell()

        def name(grouping: GroupBy | None, key: str) -> str:
            return group_label(self._texts, language, grouping, key)

        computed: Computed = compute(
            answers.fields, answers.rows, answers.submissions, language, by, k, name
        )
        return Results(survey, language, by, k, computed.submissions, computed.questions)

    async def results(
        self, survey: SurveyHead, language: str, by: GroupBy | None = None, k: int | None = None
    ) -> Results:
        """Every question of the survey, as the summary sheet counts it, split `by`."""
        return self.compute(survey, await self.answers(survey), language, by, k)

    def subset(self, answers: Answers, country: str, region: str) -> Answers:
        """The answers given from one province or state (what its "what we heard" reads)."""
        rows = [row for row in answers.rows if row[2] == country and row[3] == region]
        people = answers.places.get((country, region), 0)
        return Answers(answers.fields, rows, people, {(country, region): people})


def top_options(group: GroupBlock, count: int) -> Sequence[OptionCell]:
    """The most chosen options of a group that are shown, most first (form order on ties)."""
    shown = [o for o in group.options if o.count]
    return sorted(shown, key=lambda o: -(o.count or 0))[:count]
