"""Survey results: counts and shares per option, split on request, small cells suppressed.

Every count comes from the record's current answers. A cell under k respondents is hidden
(primary), and so is whatever would let someone subtract it back out (secondary, from
bot.services.exports.suppression) — in the option table and in the respondent totals per group.
A group with fewer than k respondents shows no cell at all, not even zeros.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.i18n import LANGUAGES, Texts, format_number
from bot.services.broadcasts import TEXT_MAX, BroadcastService
from bot.services.exports.suppression import Key, suppress_counts, suppress_options
from bot.services.permissions import Permission, allows, themes_of
from bot.services.regions import region as find_region
from storage import Store
from storage.models import AudienceFilter
from storage.record import AnswerCounts, GroupBy, RecordRepository, SurveyHead

SELECT_TYPES = frozenset({"select_one", "select_multiple"})
GROUPINGS: tuple[GroupBy, ...] = ("country", "region", "sector")
TOP_OPTIONS = 3


@dataclass(frozen=True)
class OptionOutline:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class QuestionOutline:
    name: str
    multiple: bool
    labels: Mapping[str, str]
    options: tuple[OptionOutline, ...]


@dataclass(frozen=True)
class OptionCell:
    name: str
    label: str
    count: int | None
    share: float | None
    suppressed: bool


@dataclass(frozen=True)
class GroupBlock:
    key: str  # '' when not split; 'US', 'US-TX', a sector key otherwise
    label: str
    respondents: int | None  # None: hidden (too few, or it would reveal a hidden total)
    options: tuple[OptionCell, ...]


@dataclass(frozen=True)
class QuestionBlock:
    name: str
    label: str
    multiple: bool
    groups: tuple[GroupBlock, ...]


@dataclass(frozen=True)
class Results:
    survey: SurveyHead
    language: str
    by: GroupBy | None
    k: int
    questions: tuple[QuestionBlock, ...]


@dataclass(frozen=True)
class Heard:
    """The 'what we heard' text of one province/state, in each language."""

    country: str
    region: str  # 'US-TX'
    label: str
    texts: Mapping[str, str]


# ---- the survey's questions, from its stored definition ------------------------------------
def _localized(value: Any) -> dict[str, str]:
    """Labels per language from the shapes a serialised form may use."""
    if isinstance(value, str):
        return {"": value}
    if isinstance(value, Mapping):
        if "items" in value:
            return _localized(value["items"])
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, list):
        return {
            str(pair[0]): str(pair[1])
            for pair in value
            if isinstance(pair, list | tuple) and len(pair) == 2
        }
    return {}


def _choice_lists(data: Mapping[str, Any]) -> dict[str, list[Any]]:
    raw = data.get("choice_lists", data.get("choices", {}))
    if isinstance(raw, Mapping):
        return {str(k): list(v) for k, v in raw.items() if isinstance(v, list)}
    if isinstance(raw, list):
        return {
            str(pair[0]): list(pair[1])
            for pair in raw
            if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[1], list)
        }
    return {}


def outline(definition: str) -> list[QuestionOutline] | None:
    """The select questions of a stored definition; None when it cannot be read."""
    try:
        data = json.loads(definition)
    except ValueError:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("questions"), list):
        return None
    lists = _choice_lists(data)
    found: list[QuestionOutline] = []
    for question in data["questions"]:
        if not isinstance(question, Mapping) or question.get("type") not in SELECT_TYPES:
            continue
        raw_choices = question.get("choices")
        if not isinstance(raw_choices, list):
            raw_choices = lists.get(str(question.get("list_name")), [])
        options = tuple(
            OptionOutline(str(c["name"]), _localized(c.get("labels", c.get("label", ""))))
            for c in raw_choices
            if isinstance(c, Mapping) and "name" in c
        )
        found.append(
            QuestionOutline(
                name=str(question.get("name", "")),
                multiple=question.get("type") == "select_multiple",
                labels=_localized(question.get("labels", question.get("label", ""))),
                options=options,
            )
        )
    return found


def _pick(labels: Mapping[str, str], language: str, default: str, fallback: str) -> str:
    for code in (language, default, ""):
        if labels.get(code):
            return labels[code]
    return next((text for text in labels.values() if text), fallback)


def group_label(texts: Texts, language: str, by: GroupBy | None, key: str) -> str:
    """How a group is named: a country, 'Texas (US)', a sector; unknown when empty."""
    if not key:
        return texts.plain(language, "results.unknown" if by else "results.everyone")
    if by == "country":
        return texts.label(language, "country", key) if texts.has("es", f"country.{key}") else key
    if by == "region":
        country, _, code = key.partition("-")
        found = find_region(country, code)
        return f"{found.name} ({country})" if found is not None else key
    return texts.label(language, "sector", key)


def percent(share: float | None, language: str) -> str:
    return f"{format_number(round(share * 100), language)} %" if share is not None else ""


class ResultsService:
    def __init__(
        self, store: Store, config: Config, texts: Texts, broadcasts: BroadcastService
    ) -> None:
        self._record = RecordRepository(store.database)
        self._config = config
        self._texts = texts
        self._broadcasts = broadcasts

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
    async def questions(self, survey: SurveyHead) -> list[QuestionOutline]:
        found = outline(survey.definition)
        if found is not None:
            return found
        # A definition we cannot read: the record itself says which answers were choices.
        shapes = await self._record.question_shapes(survey.id)
        return [
            QuestionOutline(name, multiple, {}, ())
            for name, (multiple, select) in shapes.items()
            if select
        ]

    async def results(
        self, survey: SurveyHead, language: str, by: GroupBy | None = None, k: int | None = None
    ) -> Results:
        """Counts and shares of every select question, suppressed with threshold k."""
        k = k or self.min_cell()
        questions = await self.questions(survey)
        multiple = {q.name for q in questions if q.multiple}
        counts = await self._record.count_answers(survey.id, multiple, by)
        blocks = tuple(
            self._block(survey, question, counts, language, by, k) for question in questions
        )
        return Results(survey, language, by, k, blocks)

    def _block(
        self,
        survey: SurveyHead,
        question: QuestionOutline,
        counts: AnswerCounts,
        language: str,
        by: GroupBy | None,
        k: int,
    ) -> QuestionBlock:
        default = survey.default_language
        names = [option.name for option in question.options]
        seen = {o for (q, _, o) in counts.options if q == question.name}
        names += sorted(seen - set(names))
        outlined = {option.name: option.labels for option in question.options}
        people = {g: n for (q, g), n in counts.respondents.items() if q == question.name}
        table: dict[Key, int] = {
            (group, name): counts.options.get((question.name, group, name), 0)
            for group in people
            for name in names
        }
        cells = suppress_counts(table, k, {(group,): n for group, n in people.items()})
        totals = suppress_options(people, k)
        groups: list[GroupBlock] = []
        for group in people:
            small = people[group] < k
            options = []
            for name in names:
                recorded = counts.option_labels.get((question.name, name), {})
                label = _pick(outlined.get(name) or recorded, language, default, name)
                cell = cells[(group, name)]
                hidden = cell.suppressed or small
                options.append(
                    OptionCell(
                        name,
                        label,
                        None if hidden else cell.count,
                        None if hidden else cell.share,
                        hidden,
                    )
                )
            lonely = len(names) == 1 and options[0].suppressed
            shown = None if totals[group].suppressed or lonely else people[group]
            label = group_label(self._texts, language, by, group)
            groups.append(GroupBlock(group, label, shown, tuple(options)))
        groups.sort(key=lambda block: (block.key == "", block.label.casefold()))
        label = _pick(
            question.labels or counts.question_labels.get(question.name, {}),
            language,
            default,
            question.name,
        )
        return QuestionBlock(question.name, label, question.multiple, tuple(groups))

    # ---- what we heard --------------------------------------------------------------------
    async def what_we_heard(self, survey: SurveyHead, k: int | None = None) -> list[Heard]:
        """Per province/state with enough respondents: the top shown options of each question."""
        per_language = {
            language: await self.results(survey, language, "region", k) for language in LANGUAGES
        }
        regions: dict[str, dict[str, list[str]]] = {}
        for language, results in per_language.items():
            for question in results.questions:
                for group in question.groups:
                    if not group.key or group.respondents is None:
                        continue
                    top = sorted(
                        (o for o in group.options if not o.suppressed and o.count),
                        key=lambda o: (-(o.count or 0), o.label),
                    )[:TOP_OPTIONS]
                    if not top:
                        continue
                    listed = ", ".join(f"{o.label} ({percent(o.share, language)})" for o in top)
                    line = self._texts.plain(
                        language, "results.heard.line", question=question.label, options=listed
                    )
                    regions.setdefault(group.key, {}).setdefault(language, []).append(line)
        heard: list[Heard] = []
        for key in sorted(regions):
            country = key.partition("-")[0]
            texts: dict[str, str] = {}
            for language, lines in regions[key].items():
                place = group_label(self._texts, language, "region", key)
                title = survey.titles.get(language) or survey.titles.get(
                    survey.default_language, survey.form_id
                )
                head = self._texts.plain(
                    language, "results.heard.header", region=place, survey=title
                )
                texts[language] = _fit(head, lines)
            heard.append(Heard(country, key, group_label(self._texts, "es", "region", key), texts))
        return heard

    async def send_what_we_heard(
        self, survey: SurveyHead, actor: str, k: int | None = None
    ) -> list[tuple[Heard, int]]:
        """Queue one notice per province/state to its members, each in their language."""
        sent: list[tuple[Heard, int]] = []
        fallback = self._config.programme.default_language
        for heard in await self.what_we_heard(survey, k):
            audience = AudienceFilter(countries=(heard.country,), regions=(heard.region,))
            _, count = await self._broadcasts.create_queued(
                actor, dict(heard.texts), fallback, audience
            )
            sent.append((heard, count))
        return sent


def _fit(head: str, lines: Sequence[str]) -> str:
    """The header and as many whole lines as fit in one notice."""
    text = head
    for line in lines:
        if len(text) + len(line) + 1 > TEXT_MAX - 100:
            break
        text += "\n" + line
    return text
