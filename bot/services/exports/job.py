"""Writing one export file from a checked job: runs in a worker thread or in an export process.

An `ExportJob` holds everything the writing needs (the filters already checked, the database path,
the README's text), so it travels as JSON to a separate process and never touches the bot's
connection, its rights or its audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.services.exports import surveys_job
from bot.services.exports.cells import long_dataset, meetings_dataset
from bot.services.exports.columns import (
    COUNT_COLUMNS,
    EVIDENCE_COLUMNS,
    LONG_COLUMNS,
    MEMBER_COLUMNS,
    PII_COLUMNS,
    PROPOSAL_COLUMNS,
)
from bot.services.exports.dictionary import dictionary_lines, write_dictionary_csv
from bot.services.exports.form_table import FormColumn
from bot.services.exports.record_zip import write_record_zip
from bot.services.exports.surveys_job import SurveyParts
from bot.services.exports.tables import Dataset, ReadmeInfo, atomic_path, file_name
from bot.services.exports.words import Words
from bot.services.exports.writers_text import write_csv, write_jsonl
from bot.services.exports.writers_xlsx import write_xlsx
from storage.csv_lines import TextColumn
from storage.exports import ExportFilters, ExportReader, open_reader

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
    # Files written beside `path` (the data dictionary of a CSV or JSON Lines answers export).
    also: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written, the main one first."""
        return (self.path, *self.also)

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
    database: str
    out: Path
    language: str
    min_cell: int
    readme: ReadmeInfo
    # The staff member's zone (times in the files) and their local day (in file names).
    zone: str = "UTC"
    day: date | None = None

    def target(self, prefix: str) -> Path:
        """Where the file goes: `out` itself, or `<prefix>_<dataset>_<day>.<ext>` in the folder
        `out` names."""
        if not self.out.is_dir():
            return self.out
        extension = "zip" if self.request.dataset == "record" else self.request.format
        return self.out / file_name(prefix, self.request.dataset, self.named_day(), extension)

    @property
    def workbook(self) -> str | None:
        """The zone of a workbook's time cells; None for text files (times stay UTC text)."""
        return self.zone if self.request.format == "xlsx" else None

    def named_day(self) -> date:
        """The day in file names; a job writing into a folder must have been given one."""
        if self.day is None:
            raise ValueError("an export into a folder needs the job's day (from the clock)")
        return self.day

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
                "database": self.database,
                "out": str(self.out),
                "language": self.language,
                "min_cell": self.min_cell,
                "zone": self.zone,
                "day": self.day.isoformat() if self.day else None,
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
            database=str(data["database"]),
            out=Path(data["out"]),
            language=str(data["language"]),
            min_cell=int(data["min_cell"]),
            zone=str(data.get("zone") or "UTC"),
            day=date.fromisoformat(data["day"]) if data.get("day") else None,
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
    request, filters = job.request, job.filters
    with open_reader(job.database) as reader:
        surveys: list[SurveyParts] = []
        # Finding the surveys scans every answer: done only when they shape the file (answers,
        # the workbook's summaries) or name it (a folder as target), never for a bare CSV.
        long_named = request.format != "csv" or job.out.is_dir()
        if request.dataset == "answers" or (request.dataset == "answers-long" and long_named):
            ids = surveys_job.survey_ids(reader, filters)
            if request.dataset == "answers" and len(ids) > 1 and request.format != "xlsx":
                raise JobRefused("export.error.survey_needed")
            surveys = surveys_job.parts_of(reader, ids, job.language)
        prefix = surveys[0].form_id if len(surveys) == 1 else "consultbot"
        out = job.target(prefix)
        if request.dataset == "record":
            every = surveys_job.parts_of(
                reader, surveys_job.survey_ids(reader, filters), job.language
            )
            lines = dictionary_lines(surveys_job.dictionaries(every, Words(job.language)))
            return _record(reader, job, out, progress, lines, every)
        if request.dataset == "answers-long" and request.format == "csv":
            return _fast_csv(reader, filters, out, progress)
        words = Words(job.language)
        datasets = _datasets(reader, job, surveys, progress)
        pii = request.pii and request.dataset == "members"
        if request.format in ("csv", "jsonl"):
            write = write_csv if request.format == "csv" else write_jsonl
            rows = {datasets[0].name: write(datasets[0], out)}
            also: tuple[Path, ...] = ()
            if surveys and request.dataset == "answers":
                # The columns' meaning travels with the file (the workbook has it as a sheet).
                beside = _beside(job, out, prefix)
                write_dictionary_csv(surveys_job.dictionaries(surveys, words), beside)
                also = (beside,)
            return ExportResult(out, rows, pii, also)
        summaries, phrases = surveys_job.summaries(reader, surveys, filters, words, job.min_cell)
        about = {
            survey.dataset: words(
                "export.book.about_answers" if request.labels else "export.book.about_values"
            )
            for survey in surveys
        }
        counts = write_xlsx(
            out,
            datasets,
            job.readme,
            summaries,
            phrases,
            dictionaries=surveys_job.dictionaries(surveys, words),
            words=words,
            zone=job.zone,
            k=job.min_cell,
            about=about,
        )
        return ExportResult(out, counts, pii)


def _beside(job: ExportJob, out: Path, prefix: str) -> Path:
    """The data dictionary's file next to the answers: named like them, or after them."""
    if job.out.is_dir():
        return job.out / file_name(prefix, "data_dictionary", job.named_day(), "csv")
    return out.with_name(f"{out.stem}_data_dictionary.csv")


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
    reader: ExportReader, job: ExportJob, surveys: list[SurveyParts], progress: Progress | None
) -> list[Dataset]:
    request, filters, language = job.request, job.filters, job.language
    dataset = request.dataset

    def counted(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        return _counted(rows, progress)

    if dataset == "answers":
        options = (request.labels, language, request.multi, job.zone)
        return surveys_job.wide_datasets(reader, surveys, filters, options, counted)
    if dataset == "answers-long":
        return [long_dataset(counted(reader.answers(filters)), _fields(surveys), job.workbook)]
    if dataset == "proposals":
        rows: Iterable[Mapping[str, Any]] = reader.rows(reader.proposals_sql(filters))
        return [Dataset("proposals", PROPOSAL_COLUMNS, counted(rows))]
    if dataset == "meetings":
        rows = _titled(reader.rows(reader.meetings_sql(filters)), language)
        return [meetings_dataset(counted(rows), job.workbook)]
    if dataset == "members":
        columns = MEMBER_COLUMNS + (PII_COLUMNS if request.pii else [])
        rows = _themes(reader.rows(reader.members_sql(filters, request.pii)))
        return [Dataset("members", columns, counted(rows))]
    linked = list(evidence_rows(reader, language))
    return [
        Dataset("evidence", EVIDENCE_COLUMNS, counted(linked)),
        Dataset("evidence_counts", COUNT_COLUMNS, evidence_counts(linked)),
    ]


def _record(
    reader: ExportReader,
    job: ExportJob,
    out: Path,
    progress: Progress | None,
    questions: Iterable[Sequence[str]],
    surveys: list[SurveyParts],
) -> ExportResult:
    """Everything, as a ZIP of tables in the request's format (CSV, Excel or JSON Lines) with
    a data dictionary, the surveys' questions and a README."""
    request, filters, language = job.request, job.filters, job.language
    members = MEMBER_COLUMNS + (PII_COLUMNS if request.pii else [])
    datasets = [
        long_dataset(_counted(reader.answers(filters), progress), _fields(surveys), job.workbook),
        Dataset("proposals", PROPOSAL_COLUMNS, reader.rows(reader.proposals_sql(filters))),
        meetings_dataset(
            _titled(reader.rows(reader.meetings_sql(filters)), language), job.workbook
        ),
        Dataset("members", members, _themes(reader.rows(reader.members_sql(filters, request.pii)))),
        Dataset("evidence", EVIDENCE_COLUMNS, evidence_rows(reader, language)),
    ]
    counts = write_record_zip(
        datasets,
        None,
        out,
        job.readme,
        [("survey_dictionary", questions)],
        file_format=request.format,
        words=Words(language),
        zone=job.zone,
    )
    return ExportResult(out, counts, request.pii)


def _fields(surveys: list[SurveyParts]) -> list[tuple[int, list[FormColumn]]]:
    return [(survey.survey_id, survey.fields) for survey in surveys]


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
