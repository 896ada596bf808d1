"""Staff exports: validate, check the PII right, write the file off the event loop, audit.

Every export, and every refused PII request, goes to the audit log (who = the actor's pseudonym).
Datasets: answers (a row per submission), answers-long (a row per answer with its provenance),
proposals, meetings, members, evidence, and record (a ZIP of CSVs with a data dictionary).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Config
from bot.services import export_survey
from bot.services.exports import (
    Column,
    Dataset,
    KeyphraseSheet,
    QuestionSummary,
    ReadmeInfo,
    SurveySummary,
    TextItem,
    atomic_path,
    key_phrases,
    write_jsonl,
    write_xlsx,
    write_zip_of_csv,
)
from bot.services.exports.writers import write_csv
from bot.services.permissions import Permission, allows
from bot.services.regions import region as find_region
from bot.services.registration import InputError
from storage import Store
from storage.exports import ExportFilters, ExportReader, ExportsRepository, TextColumn

DATASETS = ("answers", "answers-long", "proposals", "meetings", "members", "evidence", "record")
FORMATS = ("csv", "xlsx", "jsonl")
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    format: str = "csv"
    survey_id: int | None = None
    round: str | None = None
    theme: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    country: str | None = None
    region: str | None = None
    sector: str | None = None
    labels: bool = True
    language: str | None = None
    multi: str = "split"
    pii: bool = False
    # The staff member's zone: date bounds are whole local days, the README shows local time.
    zone: str | None = None


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    pii: bool = False

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _col(key: str, kind: str = "text", user: bool = False, description: str = "") -> Column:
    return Column(key, key, description, kind, user)  # type: ignore[arg-type]


LONG_COLUMNS = [
    _col("id", "number", description="record entry id"),
    _col("pseudonym"),
    _col("survey_id", "number"),
    _col("form_id"),
    _col("form_version"),
    _col("question"),
    _col("question_label", user=True),
    _col("value", user=True, description="the answer as stored (choice names for selects)"),
    _col("value_label", user=True, description="the answer as shown to the member"),
    _col("language"),
    _col("at", description="when answered (UTC)"),
    _col("round"),
    _col("meeting_id", "number"),
    _col("theme"),
    _col("country"),
    _col("region"),
    _col("sector"),
    _col("association_id", "number"),
    _col("supersedes", "number", description="the entry this answer replaced"),
]
PROPOSAL_COLUMNS = [
    _col("id", "number"),
    _col("pseudonym"),
    _col("theme"),
    _col("text", user=True),
    _col("language"),
    _col("created_at", description="UTC"),
    _col("round"),
    _col("country"),
    _col("region"),
    _col("sector"),
    _col("association_id", "number"),
    _col("record_id", "number", description="the proposal's record entry"),
]
MEETING_COLUMNS = [
    _col("id", "number"),
    _col("kind"),
    _col("title", user=True),
    _col("start_at", description="UTC"),
    _col("zone"),
    _col("local_start"),
    _col("duration_minutes", "number"),
    _col("capacity", "number"),
    _col("round"),
    _col("theme"),
    _col("status"),
    _col("rsvp_yes", "number", description="Yes with a seat"),
    _col("rsvp_maybe", "number"),
    _col("rsvp_no", "number"),
    _col("waitlist", "number", description="Yes waiting for a seat"),
    _col("attended", "number", description="checked in"),
    _col("has_minutes", "number"),
]
MEMBER_COLUMNS = [
    _col("pseudonym"),
    _col("status"),
    _col("language"),
    _col("country"),
    _col("region"),
    _col("sector"),
    _col("association_id", "number"),
    _col("association", user=True),
    _col("themes"),
    _col("registered_at", description="UTC"),
    _col("deleted_at", description="UTC; erased members keep only their pseudonym"),
]
PII_COLUMNS = [
    _col("name", user=True),
    _col("phone", user=True),
    _col("email", user=True),
    _col("telegram_id", "number"),
    _col("city", user=True),
]
EVIDENCE_COLUMNS = [
    _col("clause_id"),
    _col("clause_text", user=True),
    _col("kind", description="answer, proposal, meeting or record (or none: no evidence)"),
    _col("ref", "number"),
    _col("note", user=True),
    _col("linked_by"),
    _col("linked_at"),
    _col("pseudonym"),
    _col("survey_id", "number"),
    _col("question"),
    _col("content", user=True),
    _col("round"),
    _col("theme"),
    _col("country"),
    _col("region"),
    _col("sector"),
    _col("at"),
]
COUNT_COLUMNS = [
    _col("clause_id"),
    _col("by", description="region or sector"),
    _col("value", description="the region (CA-QC) or sector; (none) when unknown"),
    _col("items", "number", description="linked items from there"),
]


class ExportService:
    """Builds export files from the store; knows nothing of Telegram."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self.repository = ExportsRepository(store.database)

    @property
    def min_cell(self) -> int:
        return int(getattr(self._config.programme, "min_cell", 5))

    # ---- validation ----------------------------------------------------------------------
    async def filters(self, request: ExportRequest) -> ExportFilters:
        """Check the request and turn it into UTC-bounded filters (InputError when refused)."""
        if request.dataset not in DATASETS:
            raise InputError("export.error.dataset", dataset=request.dataset)
        if request.format not in FORMATS:
            raise InputError("export.error.format", format=request.format)
        if request.multi not in ("split", "single"):
            raise InputError("export.error.multi")
        if request.language is not None and request.language not in ("es", "en", "fr"):
            raise InputError("export.error.language", language=request.language)
        if request.survey_id is not None and not await self.repository.survey_exists(
            request.survey_id
        ):
            raise InputError("export.error.survey", survey=request.survey_id)
        country = request.country.upper() if request.country else None
        if country is not None and country not in ("CA", "US"):
            raise InputError("export.error.country", country=request.country)
        region = None
        if request.region:
            typed = request.region.upper()
            prefix, _, code = typed.rpartition("-")
            countries = [prefix] if prefix else ([country] if country else ["CA", "US"])
            if not any(find_region(c, code) for c in countries if c in ("CA", "US")):
                raise InputError("export.error.region", region=request.region)
            region = code
            if prefix and country is None:
                country = prefix
        if request.date_from and request.date_to and request.date_from > request.date_to:
            raise InputError(
                "export.error.backwards",
                start=request.date_from.isoformat(),
                end=request.date_to.isoformat(),
            )
        zone = ZoneInfo(request.zone or self._config.programme.default_time_zone)
        start = end = None
        if request.date_from:
            start = datetime.combine(request.date_from, time(0), zone).astimezone(UTC)
        if request.date_to:
            following = request.date_to + timedelta(days=1)
            end = datetime.combine(following, time(0), zone).astimezone(UTC)
        return ExportFilters(
            survey_id=request.survey_id,
            round=request.round,
            theme=request.theme,
            start=start,
            end=end,
            country=country,
            region=region,
            sector=request.sector,
        )

    # ---- the export ----------------------------------------------------------------------
    async def export(
        self,
        request: ExportRequest,
        actor: str,
        grants: list[tuple[str, str]],
        out: Path,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Write the export to `out` in a worker thread and audit it; refusals are audited too."""
        try:
            filters = await self.filters(request)
        except InputError as error:
            await self._store.audit.record(
                actor, "export_refused", request.dataset, {"reason": error.key}
            )
            raise
        if request.pii and not allows(grants, Permission.EXPORT_PII):
            await self._store.audit.record(
                actor,
                "export_refused",
                request.dataset,
                {"reason": "pii_without_right", "format": request.format},
            )
            raise InputError("export.error.pii")
        if not allows(grants, Permission.EXPORT):
            await self._store.audit.record(
                actor, "export_refused", request.dataset, {"reason": "no_export_right"}
            )
            raise InputError("export.error.right")
        result = await asyncio.to_thread(self._write, request, filters, Path(out), progress)
        detail: dict[str, Any] = {
            "dataset": request.dataset,
            "format": "zip" if request.dataset == "record" else request.format,
            "filters": _shown_filters(request),
            "rows": result.total,
            "pii": result.pii,
        }
        await self._store.audit.record(actor, "export", request.dataset, detail)
        return result

    def _write(
        self,
        request: ExportRequest,
        filters: ExportFilters,
        out: Path,
        progress: Progress | None,
    ) -> ExportResult:
        """Runs in a worker thread with its own read-only connection."""
        language = request.language or self._config.programme.default_language
        with self.repository.reader() as reader:
            if request.dataset == "record":
                return self._record(reader, request, filters, language, out, progress)
            if request.dataset == "answers-long" and request.format == "csv":
                return self._fast_csv(reader, filters, out, progress)
            datasets = self._datasets(reader, request, filters, language, progress)
            pii = request.pii and request.dataset == "members"
            if request.format == "csv":
                return ExportResult(out, {datasets[0].name: write_csv(datasets[0], out)}, pii)
            if request.format == "jsonl":
                return ExportResult(out, {datasets[0].name: write_jsonl(datasets[0], out)}, pii)
            summaries: list[SurveySummary] = []
            phrases: list[KeyphraseSheet] = []
            if request.dataset in ("answers", "answers-long"):
                summaries, phrases = self._summaries(reader, filters, language)
            counts = write_xlsx(out, datasets, self._readme(request), summaries, phrases)
            return ExportResult(out, counts, pii)

    def _fast_csv(
        self, reader: ExportReader, filters: ExportFilters, out: Path, progress: Progress | None
    ) -> ExportResult:
        """answers-long as CSV: SQLite builds the lines as UTF-8 bytes; Python only writes them."""
        sql, parameters = reader.answers_sql(filters)
        total = reader.count(sql, parameters) if progress else None
        columns = [
            TextColumn(name=c.key, text=c.kind == "text", from_user=c.from_user)
            for c in LONG_COLUMNS
        ]
        done = 0
        header = ",".join(c.key for c in LONG_COLUMNS) + "\r\n"
        with atomic_path(out) as temporary, temporary.open("wb") as stream:
            stream.write(b"\xef\xbb\xbf" + header.encode())
            for lines, chunk in reader.csv_chunks(sql, parameters, columns):
                stream.write(chunk)
                done += lines
                if progress:
                    progress(done, total)
        return ExportResult(out, {"answers_long": done})

    def _datasets(
        self,
        reader: ExportReader,
        request: ExportRequest,
        filters: ExportFilters,
        language: str,
        progress: Progress | None,
    ) -> list[Dataset]:
        dataset = request.dataset
        if dataset == "answers":
            return self._wide(reader, request, filters, language, progress)
        if dataset == "answers-long":
            rows: Iterable[Mapping[str, Any]] = reader.answers(filters)
            return [Dataset("answers_long", LONG_COLUMNS, _counted(rows, progress))]
        if dataset == "proposals":
            rows = reader.rows(reader.proposals_sql(filters))
            return [Dataset("proposals", PROPOSAL_COLUMNS, _counted(rows, progress))]
        if dataset == "meetings":
            rows = _titled(reader.rows(reader.meetings_sql(filters)), language)
            return [Dataset("meetings", MEETING_COLUMNS, _counted(rows, progress))]
        if dataset == "members":
            columns = MEMBER_COLUMNS + (PII_COLUMNS if request.pii else [])
            rows = _themes(reader.rows(reader.members_sql(filters, request.pii)))
            return [Dataset("members", columns, _counted(rows, progress))]
        linked = list(evidence_rows(reader, language))
        return [
            Dataset("evidence", EVIDENCE_COLUMNS, _counted(linked, progress)),
            Dataset("evidence_counts", COUNT_COLUMNS, evidence_counts(linked)),
        ]

    def _wide(
        self,
        reader: ExportReader,
        request: ExportRequest,
        filters: ExportFilters,
        language: str,
        progress: Progress | None,
    ) -> list[Dataset]:
        surveys = [filters.survey_id] if filters.survey_id else reader.survey_ids(filters)
        if len(surveys) > 1 and request.format != "xlsx":
            raise InputError("export.error.survey_needed")
        datasets = []
        for survey_id in surveys or []:
            assert survey_id is not None
            survey = reader.survey(survey_id)
            definition = survey.definition if survey else "{}"
            questions = export_survey.questions_of(definition, reader.question_labels(survey_id))
            columns = export_survey.answer_columns(
                questions, request.labels, language, request.multi
            )
            narrowed = filters.model_copy(update={"survey_id": survey_id})
            rows = export_survey.submissions(
                reader.answers(narrowed, by_submission=True),
                questions,
                request.labels,
                language,
                request.multi,
            )
            name = f"answers_{survey.form_id}" if survey else f"answers_{survey_id}"
            datasets.append(Dataset(name, columns, _counted(rows, progress)))
        if not datasets:
            columns = export_survey.answer_columns([], request.labels, language, request.multi)
            datasets.append(Dataset("answers", columns, []))
        return datasets

    def _summaries(
        self, reader: ExportReader, filters: ExportFilters, language: str
    ) -> tuple[list[SurveySummary], list[KeyphraseSheet]]:
        """A summary per survey (a chart per question) and key phrases of free-text questions."""
        summaries: list[SurveySummary] = []
        sheets: list[KeyphraseSheet] = []
        surveys = [filters.survey_id] if filters.survey_id else reader.survey_ids(filters)
        for survey_id in surveys:
            assert survey_id is not None
            survey = reader.survey(survey_id)
            questions = export_survey.questions_of(
                survey.definition if survey else "{}", reader.question_labels(survey_id)
            )
            narrowed = filters.model_copy(update={"survey_id": survey_id})
            counts: dict[str, dict[str, int]] = {}
            respondents: dict[str, int] = {}
            for question, value, _, n in reader.option_counts(narrowed):
                counts.setdefault(question, {})
                respondents[question] = respondents.get(question, 0) + n
                info = next((q for q in questions if q.name == question), None)
                values = value.split() if info is not None and info.multiple else [value]
                for item in values:
                    label = info.choice_label(item, language) if info else item
                    counts[question][label] = counts[question].get(label, 0) + n
            items = []
            for info in questions:
                if info.type == "text":
                    texts = [
                        TextItem(str(r["value"]), str(r["country"] or "?"), str(r["pseudonym"]))
                        for r in reader.texts(narrowed, info.name)
                    ]
                    groups = key_phrases(texts, min_group_size=self.min_cell)
                    title = f"{survey_id} {info.name}"
                    sheets.append(KeyphraseSheet(title, "country", groups, self.min_cell))
                    continue
                if info.name in counts:
                    options = sorted(counts[info.name].items(), key=lambda p: -p[1])
                    total = respondents[info.name] if info.multiple else None
                    items.append(QuestionSummary(info.name, info.label(language), options, total))
            title = survey.form_id if survey else str(survey_id)
            summaries.append(SurveySummary(title, items, self.min_cell))
        return summaries, sheets

    def _record(
        self,
        reader: ExportReader,
        request: ExportRequest,
        filters: ExportFilters,
        language: str,
        out: Path,
        progress: Progress | None,
    ) -> ExportResult:
        """Everything, as a ZIP of CSVs with a data dictionary and a README."""
        members = MEMBER_COLUMNS + (PII_COLUMNS if request.pii else [])
        datasets = [
            Dataset("answers_long", LONG_COLUMNS, _counted(reader.answers(filters), progress)),
            Dataset("proposals", PROPOSAL_COLUMNS, reader.rows(reader.proposals_sql(filters))),
            Dataset(
                "meetings",
                MEETING_COLUMNS,
                _titled(reader.rows(reader.meetings_sql(filters)), language),
            ),
            Dataset(
                "members", members, _themes(reader.rows(reader.members_sql(filters, request.pii)))
            ),
            Dataset("evidence", EVIDENCE_COLUMNS, evidence_rows(reader, language)),
        ]
        counts = write_zip_of_csv(datasets, None, out, self._readme(request))
        return ExportResult(out, counts, request.pii)

    def _readme(self, request: ExportRequest) -> ReadmeInfo:
        now = self._clock.now()
        zone = request.zone or self._config.programme.default_time_zone
        local = now.astimezone(ZoneInfo(zone))
        return ReadmeInfo(
            title=f"{self._config.programme.name}: {request.dataset}",
            generated_utc=now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            generated_local=f"{local:%Y-%m-%d %H:%M} {zone}",
            filters=[(k, v) for k, v in _shown_filters(request).items()],
            notes=[
                "Members appear by pseudonym; erased members never show personal data.",
                f"Summary counts under {self.min_cell} are suppressed.",
            ],
        )


def _shown_filters(request: ExportRequest) -> dict[str, str]:
    """The filters and options of a request, as text, for the audit log and the README."""
    shown = {
        "survey": request.survey_id,
        "round": request.round,
        "theme": request.theme,
        "from": request.date_from.isoformat() if request.date_from else None,
        "to": request.date_to.isoformat() if request.date_to else None,
        "country": request.country,
        "region": request.region,
        "sector": request.sector,
    }
    if request.dataset == "answers":
        shown["labels"] = "labels" if request.labels else "values"
        shown["multi"] = request.multi
        shown["language"] = request.language
    return {key: str(value) for key, value in shown.items() if value is not None}


def _counted(
    rows: Iterable[Mapping[str, Any]], progress: Progress | None
) -> Iterator[Mapping[str, Any]]:
    """Pass rows through, telling progress every 5,000."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress is not None and done % 5000 == 0:
            progress(done, None)
    if progress is not None:
        progress(done, done)


def _titled(rows: Iterable[dict[str, Any]], language: str) -> Iterator[dict[str, Any]]:
    for row in rows:
        try:
            titles = json.loads(row.pop("titles") or "{}")
        except ValueError:
            titles = {}
        row["title"] = titles.get(language) or next(iter(titles.values()), "")
        yield row


def _themes(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        with suppress(ValueError, TypeError):
            row["themes"] = "; ".join(json.loads(row["themes"] or "[]"))
        yield row


def evidence_rows(reader: ExportReader, language: str) -> Iterator[dict[str, Any]]:
    """Evidence per clause in clause order; a clause with no evidence is a row of its own."""
    by_clause: dict[str, list[dict[str, Any]]] = {}
    for row in reader.evidence_rows():
        by_clause.setdefault(str(row["clause_id"]), []).append(row)
    for clause in reader.clauses():
        text = clause.texts.get(language) or next(iter(clause.texts.values()), "")
        linked = by_clause.get(clause.id, [])
        if not linked:
            yield {"clause_id": clause.id, "clause_text": text, "kind": "none"}
        for row in linked:
            yield {**row, "clause_text": text}


def evidence_counts(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per clause, how many linked items come from each region and each sector."""
    counts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if row.get("kind") == "none":
            counts.setdefault((str(row["clause_id"]), "region", "(no evidence)"), 0)
            continue
        country, region = row.get("country"), row.get("region")
        place = f"{country}-{region}" if country and region else "(none)"
        for by, value in (("region", place), ("sector", row.get("sector") or "(none)")):
            key = (str(row["clause_id"]), by, str(value))
            counts[key] = counts.get(key, 0) + 1
    return [
        {"clause_id": clause, "by": by, "value": value, "items": n}
        for (clause, by, value), n in sorted(counts.items())
    ]
