""" "What we heard": staff send members the results they chose, in each member's language.

Staff choose the questions (profile questions — consent, country, province/state, and KoBo's
start/end/today — are not results), the place (everyone, or one province or state with enough
people), read the text in each language, may replace any of them, and send. The figures are
the results' own (cells under k and those that would reveal them are left out), so a notice
never says more than /results shows. Each notice carries a card image in the member's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.i18n import LANGUAGES, Texts, format_number
from bot.services.broadcasts import clean_notice
from bot.services.charts import Card, CardSection
from bot.services.errors import InputError
from bot.services.exports.suppression import Key, hidden_keys
from bot.services.results import (
    Answers,
    GroupBlock,
    QuestionBlock,
    Results,
    ResultsService,
    group_label,
    percent,
    top_options,
)
from bot.services.results_stats import ALL, GroupBy
from storage.models import AudienceFilter
from storage.record import SurveyHead

# A notice is read on a phone: a few questions, their three most chosen options.
TOP_OPTIONS = 3
HEARD_MAX = 1200
NATIONAL = ""
PROFILE_NAMES = frozenset({"consent", "country", "region", "province", "state"})
PROFILE_TYPES = frozenset({"acknowledge", "note", "start", "end", "today"})


@dataclass(frozen=True)
class Place:
    key: str  # NATIONAL, or a province/state 'CA-QC'
    people: int


@dataclass(frozen=True)
class Draft:
    """What would go to one place: the text and the card in each language."""

    place: str
    people: int
    texts: dict[str, str]
    cards: dict[str, Card]


def is_profile(question: QuestionBlock) -> bool:
    """Whether a question asks who the member is rather than what they think."""
    if question.type in PROFILE_TYPES or question.name.casefold() in PROFILE_NAMES:
        return True
    overall = question.overall
    if overall is None or not overall.options:
        return False
    names = {option.name for option in overall.options}
    # A list of countries, or of provinces and states (each choice tied to its country).
    return names <= {"CA", "US"} or all(option.home for option in overall.options)


def questions(results: Results) -> list[QuestionBlock]:
    """The questions staff may choose: choices and numbers that are not about the member."""
    return [q for q in results.questions if q.kind in ("select", "number") and not is_profile(q)]


def places(answers: Answers, k: int) -> list[Place]:
    """Everyone, then each province/state whose count of people can be shown.

    The counts are suppressed as a table with its margins (the provinces of a country with the
    country, the countries with everyone), so that no hidden count follows by subtraction.
    """
    table: dict[Key, int] = {}
    for (country, region), people in answers.places.items():
        for key in {(country, region), (country, ALL), (ALL, ALL)}:
            table[key] = table.get(key, 0) + people
    hidden = hidden_keys(table, k)
    found = []
    if answers.submissions >= k:
        found.append(Place(NATIONAL, answers.submissions))
    for country, region in sorted(table):
        if ALL in (country, region) or not (country and region) or (country, region) in hidden:
            continue
        found.append(Place(f"{country}-{region}", table[(country, region)]))
    return found


def place_label(texts: Texts, language: str, place: str) -> str:
    if place == NATIONAL:
        return texts.plain(language, "results.heard.national")
    return group_label(texts, language, "region", place)


def _title(survey: SurveyHead, language: str) -> str:
    titles = survey.titles
    return titles.get(language) or titles.get(survey.default_language) or survey.form_id


def draft(
    service: ResultsService,
    survey: SurveyHead,
    answers: Answers,
    chosen: Sequence[str],
    place: Place,
    k: int | None = None,
) -> Draft:
    """The text and card of each language for one place and the chosen questions."""
    k = k or service.min_cell()
    texts = service.texts
    by: GroupBy | None = None if place.key == NATIONAL else "region"
    country, _, region = place.key.partition("-")
    local = service.subset(answers, country, region) if by else answers
    written: dict[str, str] = {}
    cards: dict[str, Card] = {}
    for language in LANGUAGES:
        split = service.compute(survey, answers, language, by, k)
        numbers = service.compute(survey, local, language, None, k) if by else split
        blocks = {q.name: q for q in split.questions}
        figures = {q.name: q for q in numbers.questions}
        where = place_label(texts, language, place.key)
        head = [
            texts.plain(language, "results.heard.title", survey=_title(survey, language)),
            texts.plain(language, "results.heard.people", place=where, count=place.people),
        ]
        lines: list[str] = []
        sections: list[CardSection] = []
        for name in chosen:
            question = blocks.get(name)
            if question is None:
                continue
            part, section = _question(texts, language, question, figures.get(name), place.key)
            if not part or len("\n".join([*head, *lines, *part])) > HEARD_MAX - 120:
                continue
            lines += part
            sections.append(section)
        footer = texts.plain(language, "results.heard.footer", k=k)
        if not lines:
            lines.append(texts.plain(language, "results.heard.nothing", k=k))
        # As the notice will read it (clean_notice trims each line), so the preview is exact.
        written[language] = clean_notice("\n".join([*head, "", *lines, "", footer]))
        cards[language] = Card(
            texts.plain(language, "results.heard.card_title", survey=_title(survey, language)),
            where,
            head[1],
            tuple(sections),
            footer,
        )
    return Draft(place.key, place.people, written, cards)


def _question(
    texts: Texts,
    language: str,
    question: QuestionBlock,
    figures: QuestionBlock | None,
    place: str,
) -> tuple[list[str], CardSection]:
    """A question's lines in the notice and its section of the card ([] when nothing shows)."""
    if question.kind == "number":
        statistics = dict(figures.statistics) if figures is not None else {}
        if "median" not in statistics:
            return [], CardSection(question.label)
        median = format_number(round(statistics["median"], 1), language)
        line = texts.plain(language, "results.heard.median", question=question.label, value=median)
        short = texts.plain(language, "results.heard.median.short", value=median)
        return [line], CardSection(question.label, line=short)
    group = question.overall if place == NATIONAL else _group(question, place)
    if group is None:
        return [], CardSection(question.label)
    top = top_options(group, TOP_OPTIONS)
    if not top:
        return [], CardSection(question.label)
    lines = [texts.plain(language, "results.heard.question", question=question.label)]
    lines += [
        texts.plain(
            language, "results.heard.option", option=o.label, share=percent(o.share, language)
        )
        for o in top
    ]
    bars = tuple((o.label, o.share or 0.0) for o in top)
    return lines, CardSection(question.label, bars)


def _group(question: QuestionBlock, place: str) -> GroupBlock | None:
    return next((g for g in question.groups if g.key == place), None)


def edited(text: str) -> str:
    """A replacement typed by staff: a notice's rules, and short enough for the preview."""
    cleaned = clean_notice(text)
    if len(cleaned) > HEARD_MAX:
        raise InputError("results.heard.error.length", maximum=HEARD_MAX, length=len(cleaned))
    return cleaned


def audience(place: str) -> AudienceFilter:
    if place == NATIONAL:
        return AudienceFilter()
    country = place.partition("-")[0]
    return AudienceFilter(countries=(country,), regions=(place,))


async def send(
    service: ResultsService,
    place: str,
    texts: Mapping[str, str],
    cards: Mapping[str, str],
    actor: str,
) -> int:
    """Queue the notice for the place's members, each in their language with the card (a
    Telegram file id per language); how many members it goes to."""
    fallback = service.fallback_language()
    _, count = await service.broadcasts.create_queued(
        actor, dict(texts), fallback, audience(place), payload={"cards": dict(cards)}
    )
    return count
