"""Writing one export file from a checked job: runs in a worker thread or in an export process.

An `ExportJob` holds everything the writing needs (the filters already checked, the database path,
the README's text), so it travels as JSON to a separate process and never touches the bot's
connection, its rights or its audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.services import export_survey
from bot.services.exports.columns import (
    COUNT_COLUMNS,
    EVIDENCE_COLUMNS,
    LONG_COLUMNS,
    MEETING_COLUMNS,
    MEMBER_COLUMNS,
    PII_COLUMNS,
    PROPOSAL_COLUMNS,
)
from bot.services.exports.keyphrases import TextItem, key_phrases
from bot.services.exports.writers import (
    Dataset,
    KeyphraseSheet,
    QuestionSummary,
    ReadmeInfo,
    SurveySummary,
    atomic_path,
    write_csv,
    write_jsonl,
    write_xlsx,
    write_zip_of_csv,
)
from storage.exports import ExportFilters, ExportReader, TextColumn, open_reader

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


class JobRefused(Exception):
    """The data turned out not to fit the request (e.g. several surveys for a CSV)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ExportJob:
    """A checked export, ready to write: no rights, no clock, no connection needed."""

    request: ExportRequest
    filters: ExportFilters
    database: Path
    out: Path
    language: str
    min_cell: int
    readme: ReadmeInfo

    def to_json(self) -> str:
        """The job as JSON text, for an export process."""
        request = asdict(self.request)
        for key in ("date_from", "date_to"):
            request[key] = request[key].isoformat() if request[key] else None
        readme = self.readme
        return json.dumps(
            {
                "request": request,
                "filters": self.filters.model_dump(mode="json"),
                "database": str(self.database),
                "out": str(self.out),
                "language": self.language,
                "min_cell": self.min_cell,
                "readme": {
                    "title": readme.title,
                    "generated_utc": readme.generated_utc,
                    "generated_local": readme.generated_local,
                    "filters": [list(pair) for pair in readme.filters],
                    "notes": list(readme.notes),
                },
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ExportJob:
        """The job `to_json` wrote."""
        data = json.loads(text)
        request = dict(data["request"])
        for key in ("date_from", "date_to"):
            request[key] = date.fromisoformat(request[key]) if request[key] else None
        readme = data["readme"]
        return cls(
            request=ExportRequest(**request),
            filters=ExportFilters.model_validate(data["filters"]),
            database=Path(data["database"]),
            out=Path(data["out"]),
            language=str(data["language"]),
            min_cell=int(data["min_cell"]),
            readme=ReadmeInfo(
                title=readme["title"],
                generated_utc=readme["generated_utc"],
                generated_local=readme["generated_local"],
                filters=[(str(k), str(v)) for k, v in readme["filters"]],
                notes=[str(note) for note in readme["notes"]],
            ),
        )


def write_export(job: ExportJob, progress: Progress | None = None) -> ExportResult:
    """Write the job's file (temporary file, then rename) on a read-only connection of its own."""
    request, filters, out, language = job.request, job.filters, job.out, job.language
    with open_reader(job.database) as reader:
        if request.dataset == "record":
            return _record(reader, job, progress)
        if request.dataset == "answers-long" and request.format == "csv":
            return _fast_csv(reader, filters, out, progress)
        datasets = _datasets(reader, request, filters, language, progress)
        pii = request.pii and request.dataset == "members"
        if request.format == "csv":
            return ExportResult(out, {datasets[0].name: write_csv(datasets[0], out)}, pii)
        if request.format == "jsonl":
            return ExportResult(out, {datasets[0].name: write_jsonl(datasets[0], out)}, pii)
        summaries: list[SurveySummary] = []
        phrases: list[KeyphraseSheet] = []
        if request.dataset in ("answers", "answers-long"):
            summaries, phrases = _summaries(reader, filters, language, job.min_cell)
        counts = write_xlsx(out, datasets, job.readme, summaries, phrases)
        return ExportResult(out, counts, pii)


def _fast_csv(
    reader: ExportReader, filters: ExportFilters, out: Path, progress: Progress | None
) -> ExportResult:
    """answers-long as CSV: SQLite builds the lines as UTF-8 bytes; Python only writes them."""
    sql, parameters = reader.answers_sql(filters)
    total = reader.count(sql, parameters) if progress else None
    columns = [
        TextColumn(name=c.key, text=c.kind == "text", from_user=c.from_user) for c in LONG_COLUMNS
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
    reader: ExportReader,
    request: ExportRequest,
    filters: ExportFilters,
    language: str,
    progress: Progress | None,
) -> list[Dataset]:
    dataset = request.dataset
    if dataset == "answers":
        return _wide(reader, request, filters, language, progress)
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
    reader: ExportReader,
    request: ExportRequest,
    filters: ExportFilters,
    language: str,
    progress: Progress | None,
) -> list[Dataset]:
    surveys = [filters.survey_id] if filters.survey_id else reader.survey_ids(filters)
    if len(surveys) > 1 and request.format != "xlsx":
        raise JobRefused("export.error.survey_needed")
    datasets = []
    for survey_id in surveys or []:
        assert survey_id is not None
        survey = reader.survey(survey_id)
        definition = survey.definition if survey else "{}"
        questions = export_survey.questions_of(definition, reader.question_labels(survey_id))
        columns = export_survey.answer_columns(questions, request.labels, language, request.multi)
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
    reader: ExportReader, filters: ExportFilters, language: str, min_cell: int
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
                groups = key_phrases(texts, min_group_size=min_cell)
                sheets.append(
                    KeyphraseSheet(f"{survey_id} {info.name}", "country", groups, min_cell)
                )
                continue
            if info.name in counts:
                options = sorted(counts[info.name].items(), key=lambda p: -p[1])
                total = respondents[info.name] if info.multiple else None
                items.append(QuestionSummary(info.name, info.label(language), options, total))
        title = survey.form_id if survey else str(survey_id)
        summaries.append(SurveySummary(title, items, min_cell))
    return summaries, sheets


def _record(reader: ExportReader, job: ExportJob, progress: Progress | None) -> ExportResult:
    """Everything, as a ZIP of CSVs with a data dictionary and a README."""
    request, filters, language = job.request, job.filters, job.language
    members = MEMBER_COLUMNS + (PII_COLUMNS if request.pii else [])
    datasets = [
        Dataset("answers_long", LONG_COLUMNS, _counted(reader.answers(filters), progress)),
        Dataset("proposals", PROPOSAL_COLUMNS, reader.rows(reader.proposals_sql(filters))),
        Dataset(
            "meetings",
            MEETING_COLUMNS,
            _titled(reader.rows(reader.meetings_sql(filters)), language),
        ),
        Dataset("members", members, _themes(reader.rows(reader.members_sql(filters, request.pii)))),
        Dataset("evidence", EVIDENCE_COLUMNS, evidence_rows(reader, language)),
    ]
    counts = write_zip_of_csv(datasets, None, job.out, job.readme)
    return ExportResult(job.out, counts, request.pii)


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
