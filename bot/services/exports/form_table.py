"""KoBo-style answers from a loaded XLSForm: one row per submission, one column per question.

The survey row stores the form's sheets as loaded (cells as text); they are parsed here by the
same XLSForm parser the survey flow uses, so the export knows each question's type, group,
labels per language and choices exactly as members saw them. Columns follow the form's order,
KoBo's `start`/`end`/`today` included; submission metadata (`_id`, `_submission_time`, ...) come
last, as in KoBo. A definition that no longer parses still exports: its questions are then the
ones seen in the record, as text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.exports.tables import Column, Kind
from bot.services.exports.words import Words
from bot.services.survey_steps import CHOSEN_SEPARATOR
from bot.services.xlsform import Choice, Form, LocalizedText, Question, parse_sheets

NUMBER_TYPES = frozenset({"integer", "decimal", "range"})
SELECT_TYPES = frozenset({"select_one", "select_multiple"})
TIME_TYPES = frozenset({"start", "end"})
METADATA_TYPES = frozenset({"start", "end", "today"})
# Submission metadata after the form's columns: (key, kind, description in English). The
# described ones have their description in each language in the export catalog
# (`export.column.<key>`), for the README and the Dictionary.
META: tuple[tuple[str, Kind, str], ...] = (
    ("_id", "number", "submission number, in the order members began answering"),
    ("_submission_time", "datetime", ""),
    ("_pseudonym", "text", ""),
    ("_survey", "number", ""),
    ("_form_version", "text", "the form's version (settings sheet) the member answered"),
    ("_round", "text", ""),
    ("_theme", "text", "the survey's thematic group"),
    ("_language", "text", ""),
    ("_country", "text", "the member's country (ISO 3166-1: CA, US)"),
    (
        "_region",
        "text",
        "the member's province or state with its country (ISO 3166-2: CA-QC, US-CA)",
    ),
    ("_sector", "text", ""),
    ("_association", "text", "the member's association, by its name in the registry"),
)
DESCRIBED = tuple(key for key, _, description in META if description)


def meta_description(key: str, words: Words) -> str:
    """A metadata column's description in the words' language (English if not translated)."""
    found = words(f"export.column.{key}")
    if found != f"export.column.{key}":
        return found
    return next((d for k, _, d in META if k == key), "")


Fill = Callable[[dict[str, Any], str], None]


@dataclass(frozen=True)
class FormColumn:
    """One question (or start/end/today) of the form as the export sees it."""

    name: str
    path: str
    type: str
    labels: LocalizedText
    choices: tuple[Choice, ...] = ()
    question: Question | None = None

    @property
    def metadata(self) -> bool:
        """KoBo's start/end/today: filled in by the bot, not asked."""
        return self.type in METADATA_TYPES

    @property
    def multiple(self) -> bool:
        return self.type == "select_multiple"

    def label(self, language: str) -> str:
        """The label in `language` (the form's fallback rule), else the name."""
        return self.labels.get(language) or self.name

    def choice_labels(self, language: str) -> dict[str, str]:
        """Choice name -> label in `language`; the first of duplicated names wins."""
        found: dict[str, str] = {}
        for choice in self.choices:
            found.setdefault(choice.name, choice.label(language))
        return found


def form_of(definition: str, source: str = "") -> Form | None:
    """The form stored as a survey's definition, or None when it does not parse."""
    try:
        sheets = json.loads(definition or "{}")
    except ValueError:
        return None
    if not isinstance(sheets, dict):
        return None
    # As the surveys service re-reads a stored form: the load-time checks it passed are not run
    # again, so a stricter parser later cannot make an answered survey unexportable.
    return parse_sheets(sheets, source, limits=False).form


def columns_of(
    form: Form | None, observed: Iterable[tuple[str, str, str]] = ()
) -> list[FormColumn]:
    """The answerable questions and start/end/today in form order (no form: those observed)."""
    if form is None:
        labels: dict[str, dict[str, str]] = {}
        for name, language, label in observed:
            found = labels.setdefault(name, {})
            if label:
                found.setdefault(language, label)
        return [
            FormColumn(name, name, "text", LocalizedText(tuple(texts.items())))
            for name, texts in labels.items()
        ]
    rows: list[tuple[int, FormColumn]] = []
    for question in form.answerable_questions():
        path = "/".join((*(g.name for g in question.groups), question.name))
        choices = form.choices(question.list_name) if question.list_name else ()
        column = FormColumn(question.name, path, question.type, question.labels, choices, question)
        rows.append((question.row, column))
    for meta in form.metadata:
        if meta.from_chat:
            rows.append((meta.row, FormColumn(meta.name, meta.name, meta.type, LocalizedText())))
    return [column for _, column in sorted(rows, key=lambda pair: pair[0])]


def _kind(column: FormColumn) -> Kind:
    if column.type in NUMBER_TYPES:
        return "number"
    if column.type in ("date", "today"):
        return "date"
    return "datetime" if column.type in TIME_TYPES else "text"


def _question_headers(fields: list[FormColumn], language: str) -> dict[str, str]:
    """Each column's header in labels mode: the question's label, unique in the table.

    A label two questions share gets their groups' labels in front (KoBo's `Group/Question`),
    and, if still shared, the question's name in brackets: `Madre/Edad`, `Comentario [nota]`.
    """
    shown = {f.path: f.path if f.metadata else f.label(language) for f in fields}
    shared = Counter(shown.values())
    for field in fields:
        header = shown[field.path]
        if shared[header] > 1 and field.question is not None:
            shown[field.path] = "/".join((*field.question.headings(language), header))
    shared = Counter(shown.values())
    for field in fields:
        header = shown[field.path]
        if shared[header] > 1 and not field.metadata:
            shown[field.path] = f"{header} [{field.name}]"
    return shown


def _choice_parts(shown: Mapping[str, str]) -> dict[str, str]:
    """What follows `question/` in each split column's header: the choice's label, or its name
    when the label holds the `/` separator or another choice's label (`Elija/uno_dos`)."""
    shared = Counter(shown.values())
    return {
        name: label if label and "/" not in label and shared[label] == 1 else name
        for name, label in shown.items()
    }


def _unique(columns: list[Column]) -> list[Column]:
    """The columns with no header twice: a repeated one gets its column's key in brackets."""
    seen: set[str] = set()
    found = []
    for column in columns:
        header = column.header
        while header in seen:
            header = f"{header} [{column.key}]"
        seen.add(header)
        found.append(column if header == column.header else replace(column, header=header))
    return found


def answer_columns(
    fields: list[FormColumn], labels: bool, language: str, multi: str, zone: str
) -> list[Column]:
    """The columns of the wide answers table: headers are labels, or names in values mode.

    Every header is unique (see `_question_headers`); a select_multiple cell holds the chosen
    labels joined by "; " (values mode: XLSForm's space-separated names).
    """
    headers = _question_headers(fields, language) if labels else {f.path: f.path for f in fields}
    joined = f'chosen labels separated by "{CHOSEN_SEPARATOR}"'
    columns: list[Column] = []
    for field in fields:
        header = headers[field.path]
        kind = _kind(field)
        if kind == "datetime":
            header = f"{header} ({zone})"
        shown = field.choice_labels(language)
        described = field.label(language)
        if field.multiple:
            listed = joined if labels else "chosen names separated by spaces"
            described = f"{described} ({listed})"
        columns.append(
            Column(
                field.path,
                header,
                description=described,
                kind=kind,
                from_user=field.type == "text" or (labels and bool(shown)),
                choices=tuple(shown.items()),
            )
        )
        if field.multiple and multi == "split":
            parts = _choice_parts(shown) if labels else {name: name for name in shown}
            for name, label in shown.items():
                columns.append(
                    Column(
                        f"{field.path}/{name}",
                        f"{header}/{parts[name]}",
                        description=f"{field.label(language)}: {label} (1 chosen, 0 not)",
                        kind="number",
                    )
                )
    words = Words(language)
    for key, kind, _ in META:
        header = f"{key} ({zone})" if kind == "datetime" else key
        # Staff type the form's version and the registry's association names: typed text.
        typed = key in ("_form_version", "_association")
        columns.append(
            Column(key, header, meta_description(key, words), kind=kind, from_user=typed)
        )
    return _unique(columns)


def number_of(text: str) -> int | float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text else value


def _time(zone: ZoneInfo) -> Callable[[str], datetime | str]:
    def convert(text: str) -> datetime | str:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        return moment.astimezone(zone) if moment.tzinfo else moment

    return convert


def _day(text: str) -> date | str:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return text


def _labelled(names: Mapping[str, str]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        return names.get(value, value)

    return convert


def _filler(field: FormColumn, labels: bool, language: str, multi: str, zone: ZoneInfo) -> Fill:
    """How a stored answer of this column becomes cells of the row."""
    path = field.path
    names = field.choice_labels(language) if labels else {}
    if field.multiple:
        split = multi == "split"
        unset = dict.fromkeys((f"{path}/{choice.name}" for choice in field.choices), 0)

        def fill_multiple(row: dict[str, Any], value: str) -> None:
            chosen = value.split()
            row[path] = (
                CHOSEN_SEPARATOR.join([names.get(v, v) for v in chosen]) if labels else value
            )
            if split:
                row.update(unset)
                for name in chosen:
                    row[f"{path}/{name}"] = 1

        return fill_multiple
    convert: Callable[[str], object]
    if field.type == "select_one" and labels:
        convert = _labelled(names)
    elif field.type in NUMBER_TYPES:
        convert = number_of
    elif field.type in ("date", "today"):
        convert = _day
    elif field.type in TIME_TYPES:
        convert = _time(zone)
    else:
        convert = str

    def fill(row: dict[str, Any], value: str) -> None:
        row[path] = convert(value)

    return fill


# The provenance a submission row shows is that of its latest answer (a member who moved and
# edited an answer shows where they live now): SQL keeps it as one text, fields joined by US.
# The separator is written into the literal itself: SQLite spells the function char(), PostgreSQL
# chr().
_PROVENANCE = (
    "round", "language", "country", "region", "sector", "theme", "form_version", "association",
)  # fmt: skip
_LATEST = " || '\x1f' || ".join(
    [
        "at",
        *(f"COALESCE({name}, '')" for name in _PROVENANCE),
    ]
)


def submissions_sql(
    answers_sql: str, parameters: Sequence[Any], fields: Sequence[FormColumn]
) -> tuple[str, list[Any]]:
    """One row per submission, pivoted by the database: a column `c<i>` per field's stored answer.

    Python then sees one row per member instead of one per answer (100,000 answers are some
    8,000 rows), which keeps the wide CSV within twice `sqlite3 -csv` of the answers.
    Members come in the order they began answering (KoBo's `_id` order).
    """
    picks = "".join(
        f", MAX(CASE WHEN question = ? THEN value END) AS c{i}" for i in range(len(fields))
    )
    sql = (
        f"SELECT survey_id, pseudonym, MIN(at) AS first_at, MAX({_LATEST}) AS latest{picks} "
        f"FROM ({answers_sql}) AS q GROUP BY survey_id, pseudonym "
        "ORDER BY survey_id, first_at, pseudonym"
    )
    # Placeholders in text order: the question names in SELECT, then the filters inside.
    return sql, [*(field.name for field in fields), *parameters]


def submissions(
    grouped: Iterable[Mapping[str, Any]],
    fields: list[FormColumn],
    labels: bool,
    language: str,
    multi: str,
    zone: str,
) -> Iterator[dict[str, Any]]:
    """The rows of `submissions_sql` as cells: labels, numbers, dates, zoned times, 0/1 columns.

    An empty stored answer (skipped, or made irrelevant by an edit) leaves the cells empty, the
    split columns included: 0 would claim the member saw the choice and left it.
    """
    where = ZoneInfo(zone)
    fills = [(f"c{i}", _filler(f, labels, language, multi, where)) for i, f in enumerate(fields)]
    moment = _time(where)
    for number, found in enumerate(grouped, start=1):
        at, round_, language_, country, region, sector, theme, version, association = str(
            found["latest"]
        ).split("\x1f", 8)
        row: dict[str, Any] = {
            "_id": number,
            "_submission_time": moment(at),
            "_pseudonym": found["pseudonym"],
            "_survey": found["survey_id"],
            "_form_version": version or None,
            "_round": round_ or None,
            "_theme": theme or None,
            "_language": language_ or None,
            "_country": country or None,
            # ISO 3166-2 style: a bare "CA" region (California) would read as the country Canada.
            "_region": f"{country}-{region}" if country and region else region or None,
            "_sector": sector or None,
            "_association": association or None,
        }
        for key, fill in fills:
            # SQLite gives the stored text back as str; an empty answer leaves its cells empty.
            if value := found[key]:
                fill(row, value)
        yield row
