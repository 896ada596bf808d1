"""Rules the survey engine applies: relevance, visible choices, typed answers and constraints."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from bot.services.xlsform.expressions import ExpressionError
from bot.services.xlsform.model import Choice, Form, Question
from bot.services.xlsform.values import to_text

TEXT_MAX = 1000
_INTEGER = re.compile(r"[-+]?\d{1,15}")
_DECIMAL = re.compile(r"[-+]?(\d{1,15}(\.\d{0,10})?|\.\d{1,10})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


@dataclass(frozen=True)
class AnswerError:
    """Why an answer was refused.

    `code` picks the generic catalog text (required, integer, decimal, date, range, choice,
    too_long, constraint); `message` is the form's own text in the member's language, if any.
    """

    code: str
    message: str | None = None
    params: dict[str, str] = field(default_factory=dict, compare=False)


class Answer(NamedTuple):
    value: object
    error: AnswerError | None


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, or DD/MM/YYYY (also with . or -); None when it is not a real date."""
    text = text.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_decimal(text: str) -> float | None:
    """A number written with '.' or ',' as the decimal mark (3.5, 3,5); None otherwise."""
    text = text.strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    return float(text) if _DECIMAL.fullmatch(text) else None


def _match_choice(choices: tuple[Choice, ...], raw: str, language: str) -> Choice | None:
    for choice in choices:
        if choice.name == raw:
            return choice
    folded = raw.casefold()
    for choice in choices:
        if choice.label(language).strip().casefold() == folded or choice.name.casefold() == folded:
            return choice
    return None


def convert_answer(
    form: Form,
    question: Question,
    raw: str,
    values: Mapping[str, object],
    language: str,
    today: date | None = None,
    max_text: int = TEXT_MAX,
) -> Answer:
    """Convert typed text (or a choice name) to the question's type; no required/constraint."""
    raw = raw.strip()
    kind = question.type
    if not raw or kind == "note":
        return Answer(None, None)
    if kind == "integer":
        compact = raw.replace(" ", "")
        if _INTEGER.fullmatch(compact):
            return Answer(int(compact), None)
        return Answer(None, AnswerError("integer"))
    if kind == "decimal":
        number = parse_decimal(raw)
        return Answer(number, None) if number is not None else Answer(None, AnswerError("decimal"))
    if kind == "range" and question.range is not None:
        bounds = question.range
        params = {"min": to_text(bounds.start), "max": to_text(bounds.end)}
        number = parse_decimal(raw)
        if number is None or not bounds.start <= number <= bounds.end:
            return Answer(None, AnswerError("range", None, params))
        steps = (number - bounds.start) / bounds.step
        if not math.isclose(steps, round(steps), abs_tol=1e-9):
            return Answer(
                None, AnswerError("range", None, {**params, "step": to_text(bounds.step)})
            )
        return Answer(int(number) if bounds.whole_numbers else number, None)
    if kind == "date":
        day = parse_date(raw)
        return Answer(day, None) if day is not None else Answer(None, AnswerError("date"))
    if kind == "text":
        if len(raw) > max_text:
            return Answer(None, AnswerError("too_long", None, {"max": str(max_text)}))
        return Answer(raw, None)
    if kind == "acknowledge":
        return Answer("OK", None)
    choices = visible_choices(form, question, values, today)
    if kind == "select_one":
        choice = _match_choice(choices, raw, language)
        return Answer(choice.name, None) if choice else Answer(None, AnswerError("choice"))
    picked: set[str] = set()
    for token in re.split(r"[\s,;]+", raw):
        if not token:
            continue
        choice = _match_choice(choices, token, language)
        if choice is None:
            return Answer(None, AnswerError("choice", None, {"value": token}))
        picked.add(choice.name)
    # Stored in sheet order, space-separated, the way XLSForm expressions read it.
    return Answer(" ".join(c.name for c in choices if c.name in picked) or None, None)


def validate_answer(
    form: Form,
    question: Question,
    raw: str,
    values: Mapping[str, object],
    language: str,
    today: date | None = None,
    max_text: int = TEXT_MAX,
) -> Answer:
    """Convert one answer and apply required and constraint (`.` is the new answer)."""
    value, error = convert_answer(form, question, raw, values, language, today, max_text)
    if error is not None:
        return Answer(None, error)
    if value is None:
        if question.required:
            return Answer(None, AnswerError("required", question.required_message(language)))
        return Answer(None, None)
    if question.constraint is not None:
        context = {**values, question.name: value}
        try:
            ok = question.constraint.test(context, current=value, today=_today(today))
        except ExpressionError:
            ok = False  # a pattern built from answers that is not a valid regex
        if not ok:
            return Answer(None, AnswerError("constraint", question.constraint_message(language)))
    return Answer(value, None)


def visible_choices(
    form: Form, question: Question, values: Mapping[str, object], today: date | None = None
) -> tuple[Choice, ...]:
    """The question's choices narrowed by its choice_filter (choice columns available by name)."""
    choices = form.choices(question.list_name or "")
    if question.choice_filter is None:
        return choices
    kept: list[Choice] = []
    for choice in choices:
        try:
            if question.choice_filter.test(values, None, _today(today), dict(choice.columns)):
                kept.append(choice)
        except ExpressionError:
            continue
    return tuple(kept)


def _shown(question: Question, values: Mapping[str, object], today: date) -> bool:
    for condition in (*(g.relevant for g in question.groups), question.relevant):
        if condition is None:
            continue
        try:
            if not condition.test(values, None, today):
                return False
        except ExpressionError:
            return False
    return True


def relevant_values(
    form: Form,
    values: Mapping[str, object],
    today: date | None = None,
    upto: Question | None = None,
) -> tuple[dict[str, object], set[str]]:
    """Answers with those of skipped questions blanked (as ODK does), and the shown names."""
    day = _today(today)
    effective = dict(values)
    shown: set[str] = set()
    for question in form.questions:
        if question is upto:
            break
        if _shown(question, effective, day):
            shown.add(question.name)
        else:
            effective[question.name] = ""
    return effective, shown


def relevant_questions(
    form: Form, values: Mapping[str, object], today: date | None = None
) -> tuple[Question, ...]:
    """Every question shown given these answers, in order (one pass over the form)."""
    _, shown = relevant_values(form, values, today)
    return tuple(q for q in form.questions if q.name in shown)


def is_relevant(
    form: Form, question: Question, values: Mapping[str, object], today: date | None = None
) -> bool:
    """Whether the question is shown: its groups' and its own `relevant` hold."""
    effective, _ = relevant_values(form, values, today, upto=question)
    return _shown(question, effective, _today(today))


def default_value(
    form: Form,
    question: Question,
    values: Mapping[str, object],
    language: str = "",
    today: date | None = None,
) -> object:
    """The default answer (literal or computed), converted to the question's type; None if none."""
    raw = question.default
    if question.default_expression is not None:
        try:
            raw = to_text(question.default_expression.evaluate(values, None, _today(today)))
        except ExpressionError:
            return None
    if not raw:
        return None
    value, error = convert_answer(form, question, raw, values, language, today)
    return None if error is not None else value
