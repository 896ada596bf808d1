"""A chart per question of a survey's results, with the alt text that says what it shows.

Select questions become horizontal bars in the form's order of choices (stacked by country when
the reader splits by country or province/state, as the summary sheet's charts are); numbers and
ranges become a histogram of the summary's bins. A hidden cell is not drawn and is marked "<k",
exactly as the tables hide it; a question whose every cell is hidden gets no chart (an empty frame
would say nothing) but a line saying why. The alt text — the chart in words, in the reader's
language — goes with the image as its caption.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Texts, format_number
from bot.services.charts import Bars, Histogram, Spec
from bot.services.results import Results
from bot.services.results_stats import GroupBlock, QuestionBlock

CAPTION_MAX = 1024


@dataclass(frozen=True)
class ChartImage:
    question: str  # the question's name (the file is named after it)
    label: str
    spec: Spec
    alt: str


def _fit(text: str, limit: int = CAPTION_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: int | None, mark: str, language: str) -> str:
    return mark if value is None else format_number(value, language)


def charts(results: Results, texts: Texts) -> tuple[list[ChartImage], list[QuestionBlock]]:
    """The chart of every question that has one, and the questions left without one."""
    stacked = results.by in ("country", "region")
    drawn: list[ChartImage] = []
    left: list[QuestionBlock] = []
    for question in results.questions:
        image = None
        if question.kind == "select":
            image = _bars(results, texts, question, stacked)
        elif question.kind == "number":
            image = _histogram(results, texts, question)
        if image is None:
            if question.kind in ("select", "number"):
                left.append(question)
            continue
        drawn.append(image)
    return drawn, left


def _series(question: QuestionBlock, stacked: bool) -> list[GroupBlock]:
    """The groups drawn: countries with a shown count (stacked), else everyone if shown."""
    if stacked:
        countries = [g for g in question.by_country if any(o.count for o in g.options)]
        if countries:
            return countries
    overall = question.overall
    return [overall] if overall is not None and any(o.count for o in overall.options) else []


def _bars(
    results: Results, texts: Texts, question: QuestionBlock, stacked: bool
) -> ChartImage | None:
    language, k = results.language, results.k
    groups = _series(question, stacked)
    if not groups:
        return None
    mark = f"<{k}"
    categories = tuple(option.label for option in groups[0].options)
    several = len(groups) > 1
    series = tuple(
        (group.label if several else "", tuple(o.count for o in group.options)) for group in groups
    )
    items = []
    for index, label in enumerate(categories):
        if several:
            parts = ", ".join(
                f"{g.label} {_number(g.options[index].count, mark, language)}" for g in groups
            )
            items.append(
                texts.plain(language, "results.chart.item.split", option=label, parts=parts)
            )
        else:
            count = _number(groups[0].options[index].count, mark, language)
            items.append(texts.plain(language, "results.chart.item", option=label, value=count))
    key = "results.chart.alt.stacked" if several else "results.chart.alt.bars"
    alt = texts.plain(language, key, question=question.label, items="; ".join(items), k=k)
    spec = Bars(
        question.label,
        categories,
        series,
        mark,
        texts.plain(language, "results.chart.note", k=k, mark=mark),
        texts.plain(language, "results.chart.axis"),
    )
    return ChartImage(question.name, question.label, spec, _fit(alt))


def _histogram(results: Results, texts: Texts, question: QuestionBlock) -> ChartImage | None:
    language, k = results.language, results.k
    if not any(count for _, count in question.histogram):
        return None
    mark = f"<{k}"
    bins = tuple(label for label, _ in question.histogram)
    counts = tuple(count for _, count in question.histogram)
    items = "; ".join(
        texts.plain(language, "results.chart.item", option=label, value=_number(n, mark, language))
        for label, n in question.histogram
    )
    figures = dict(question.statistics)
    alt = texts.plain(
        language,
        "results.chart.alt.histogram",
        question=question.label,
        items=items,
        median=format_number(round(figures.get("median", 0.0), 2), language),
        mean=format_number(round(figures.get("mean", 0.0), 2), language),
        k=k,
    )
    spec = Histogram(
        question.label,
        bins,
        counts,
        mark,
        texts.plain(language, "results.chart.note", k=k, mark=mark),
        texts.plain(language, "results.chart.axis"),
    )
    return ChartImage(question.name, question.label, spec, _fit(alt))
