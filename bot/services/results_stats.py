"""Survey results as staff read them in chat and in the terminal: the summary sheet's numbers.

The overall and by-country figures *are* the export's summary: `summarise` (the function that
fills the summary sheet) runs on the same counts, so /results, `consultbot surveys results` and
the sheet agree cell by cell, and a count hidden in one is hidden in the others (two views that
hid different cells could be subtracted from each other).

Splits the sheet does not have — province/state, sector — are suppressed *together with* the
sheet's cells, in one table keyed (option, parent, child): a province's cells sit under its
country's cells and everyone's, so a line "the provinces of Canada + Canada" is protected like a
row with its total (see suppression.py). The sheet's hidden cells are hidden there too, and a
country cell the sheet shows is never hidden here: when protecting a province would take it, the
other provinces of that line are hidden instead. A province or sector with fewer than k
respondents shows no cell at all, not even its zeros.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.services.exports.form_table import NUMBER_TYPES, SELECT_TYPES, FormColumn
from bot.services.exports.summary import TOTAL, QuestionSummary, SurveySummary, summarise
from bot.services.exports.suppression import Key, hidden_keys
from bot.services.exports.words import Words
from bot.services.xlsform import LocalizedText

GroupBy = Literal["country", "region", "sector"]
Kind = Literal["select", "number", "text", "other"]
# The parent/child level that stands for "every child" in the joint table.
ALL = "\x00all"
# The statistics `summarise` lists for a number, in its order.
STATISTICS = ("mean", "median", "q1", "q3")
# (question, stored value, country, region, sector, answers): the record grouped by SQL.
Row = tuple[str, str, str, str, str, int]
Namer = Callable[[GroupBy | None, str], str]


@dataclass(frozen=True)
class OptionCell:
    name: str
    label: str
    count: int | None  # None: hidden
    share: float | None  # of the group's respondents
    # The country a province/state option belongs to (the choice's `country` column), else ''.
    home: str = ""

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class GroupBlock:
    key: str  # '' for everyone; 'US'; 'US-TX'; a sector key
    label: str
    respondents: int | None  # None: hidden
    options: tuple[OptionCell, ...]
    country: str = ""  # a province/state's country


@dataclass(frozen=True)
class QuestionBlock:
    name: str
    type: str
    label: str
    answered: int | None
    skipped: int | None
    groups: tuple[GroupBlock, ...] = ()
    # Split by province/state: each country's own line (the sheet's figures), above its regions.
    countries: tuple[GroupBlock, ...] = ()
    # Everyone, per option (what the sheet's Total column shows): charts and "what we heard".
    overall: GroupBlock | None = None
    # Per country (the sheet's table): a chart stacked by country draws these.
    by_country: tuple[GroupBlock, ...] = ()
    statistics: tuple[tuple[str, float], ...] = ()
    histogram: tuple[tuple[str, int | None], ...] = ()

    @property
    def kind(self) -> Kind:
        if self.type in SELECT_TYPES:
            return "select"
        if self.type in NUMBER_TYPES:
            return "number"
        return "text" if self.type == "text" else "other"

    @property
    def multiple(self) -> bool:
        return self.type == "select_multiple"


@dataclass(frozen=True)
class Computed:
    submissions: int | None
    questions: tuple[QuestionBlock, ...]


class _KeyWords(Words):
    """The summary's words, with countries left as codes: its columns keep their keys."""

    def country(self, code: str | None) -> str:
        return code or ""


def _keyed(field: FormColumn) -> FormColumn:
    """The field with each choice labelled by its name: the summary's rows keep their keys."""
    if not field.choices:
        return field
    named = tuple(replace(c, labels=LocalizedText((("", c.name),))) for c in field.choices)
    return replace(field, choices=named)


def home_of(field: FormColumn) -> dict[str, str]:
    """Choice name -> the country it belongs to, from a `country` column of the choices sheet."""
    homes: dict[str, str] = {}
    for choice in field.choices:
        value = dict(choice.columns).get("country", "").strip().upper()
        if value:
            homes.setdefault(choice.name, value)
    return homes


def summary_of(
    fields: Sequence[FormColumn], rows: Iterable[Row], submissions: int, language: str, k: int
) -> SurveySummary:
    """The export's summary of these answers, every row and column still named by its key."""
    by_country: dict[tuple[str, str, str], int] = defaultdict(int)
    for question, value, country, _, _, n in rows:
        by_country[(question, value, country)] += n
    counts = [(q, v, c or None, n) for (q, v, c), n in by_country.items()]
    keyed = [_keyed(field) for field in fields]
    return summarise("", "", keyed, counts, submissions, language, _KeyWords(language), k)


def compute(
    fields: Sequence[FormColumn],
    rows: Sequence[Row],
    submissions: int,
    language: str,
    by: GroupBy | None,
    k: int,
    namer: Namer,
) -> Computed:
    """Every question's block in `language`, split `by`, with the summary sheet's numbers."""
    summary = summary_of(fields, rows, submissions, language, k)
    found: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row[1]:
            found[row[0]].append(row)
    questions = {q.key: q for q in summary.questions}
    blocks = []
    for field in fields:
        if field.metadata or field.path not in questions:
            continue
        blocks.append(
            _block(field, questions[field.path], found[field.name], language, by, k, namer)
        )
    return Computed(summary.submissions, tuple(blocks))


def _block(
    field: FormColumn,
    summary: QuestionSummary,
    found: list[Row],
    language: str,
    by: GroupBy | None,
    k: int,
    namer: Namer,
) -> QuestionBlock:
    block = QuestionBlock(
        field.name, field.type, field.label(language), summary.answered, summary.skipped
    )
    grid = summary.table
    if grid is None:
        return block
    if field.type in NUMBER_TYPES:
        bins = tuple((grid.rows[r], grid.cell(r, 0)) for r in range(len(grid.rows) - 1))
        figures = tuple(zip(STATISTICS, (v for _, v in summary.statistics), strict=True))
        return replace(block, statistics=figures, histogram=bins)
    labels = field.choice_labels(language)
    homes = home_of(field)
    names = list(grid.rows[:-1])
    places = list(grid.columns[:-1])
    last = len(places)

    def cells(column: int) -> tuple[int | None, tuple[OptionCell, ...]]:
        people = grid.cell(len(names), column)
        return people, tuple(
            _cell(name, labels, homes, grid.cell(r, column), people) for r, name in enumerate(names)
        )

    people, options = cells(last)
    overall = GroupBlock("", namer(None, ""), people, options)
    countries = []
    for column, place in enumerate(places):
        shown, per = cells(column)
        countries.append(GroupBlock(place, namer("country", place), shown, per, place))
    block = replace(block, overall=overall, by_country=tuple(countries))
    if by is None:
        return replace(block, groups=(overall,))
    if by == "country":
        return replace(block, groups=tuple(countries))
    children = _joint(field, names, found, summary, by, k)
    groups = []
    for (parent, child), (shown, counts) in children.items():
        options = tuple(
            _cell(name, labels, homes, count, shown)
            for name, count in zip(names, counts, strict=True)
        )
        country = parent if by == "region" else ""
        groups.append(GroupBlock(child, namer(by, child), shown, options, country))
    order = {place: i for i, place in enumerate(places)}
    groups.sort(
        key=lambda g: (order.get(g.country, len(order)), g.key.endswith("-") or not g.key, g.label)
    )
    return replace(
        block, groups=tuple(groups), countries=tuple(countries) if by == "region" else ()
    )


def _cell(
    name: str,
    labels: dict[str, str],
    homes: dict[str, str],
    count: int | None,
    respondents: int | None,
) -> OptionCell:
    share = count / respondents if count is not None and respondents else None
    return OptionCell(name, labels.get(name, name), count, share, homes.get(name, ""))


def _joint(
    field: FormColumn,
    names: list[str],
    found: list[Row],
    summary: QuestionSummary,
    by: GroupBy,
    k: int,
) -> dict[tuple[str, str], tuple[int | None, list[int | None]]]:
    """(parent, child) -> (respondents, count per option), suppressed with the sheet's cells."""
    assert summary.table is not None
    grid = summary.table
    table: dict[Key, int] = defaultdict(int)
    children: dict[str, set[str]] = defaultdict(set)
    for _, value, country, region, sector, n in found:
        parent, child = (country, f"{country}-{region}") if by == "region" else (ALL, sector)
        children[parent].add(child)
        chosen = value.split() if field.multiple else [value]
        for level in {(parent, child), (parent, ALL), (ALL, ALL)}:
            table[(TOTAL, *level)] += n
            for name in chosen:
                table[(name, *level)] += n
    rows = [*names, TOTAL]
    for parent, kids in children.items():
        for name in rows:
            for level in [(parent, ALL), (ALL, ALL), *((parent, kid) for kid in kids)]:
                table.setdefault((name, *level), 0)
    # What the sheet hides is hidden here; its country cells are levels of this table.
    sheet: set[Key] = set()
    columns = list(grid.columns[:-1])
    for r, name in enumerate(rows):
        if grid.cell(r, len(columns)) is None:
            sheet.add((name, ALL, ALL))
        for c, place in enumerate(columns):
            if by == "region" and grid.cell(r, c) is None:
                sheet.add((name, place, ALL))
    also = set(sheet)
    for parent, kids in children.items():
        for kid in kids:
            if table[(TOTAL, parent, kid)] < k:
                also.update((name, parent, kid) for name in rows)
    hidden = hidden_keys(table, k, also)
    for _ in range(len(table)):
        # A level the sheet shows must stay shown: hide its other children instead.
        extra = {
            (name, parent, kid)
            for (name, parent, child) in hidden
            if child == ALL and (name, parent, child) not in sheet
            for kid in children.get(parent, ())
            if len(children.get(parent, ())) > 1
        } - also
        if not extra:
            break
        also |= extra
        hidden = hidden_keys(table, k, also)
    found_cells: dict[tuple[str, str], tuple[int | None, list[int | None]]] = {}
    for parent, kids in children.items():
        for kid in sorted(kids):
            if by == "region" and len(kids) == 1:
                # The only province of its country: its figures are the country's (the sheet's).
                column = columns.index(parent) if parent in columns else len(columns)
                found_cells[(parent, kid)] = (
                    grid.cell(len(names), column),
                    [grid.cell(r, column) for r in range(len(names))],
                )
                continue
            shown = [
                None if (name, parent, kid) in hidden else table[(name, parent, kid)]
                for name in rows
            ]
            found_cells[(parent, kid)] = (shown[-1], shown[:-1])
    return found_cells
