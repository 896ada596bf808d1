"""Rules the survey engine applies: relevance, visible choices, typed answers and constraints."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from bot.services.xlsform.expressions import Budget, BudgetExceeded, Expression, ExpressionError
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
    too_long, control_chars, constraint); `message` is the form's own text in the member's
    language, if any.
    """

    code: str
    message: str | None = None
    params: dict[str, str] = field(default_factory=dict, compare=False)


class Answer(NamedTuple):
    value: object
    error: AnswerError | None


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
    today: date,
    max_text: int = TEXT_MAX,
    budget: Budget | None = None,
) -> Answer:
    """Convert typed text (or a choice name) to the question's type; no required/constraint."""
    if question.type in ("select_one", "select_multiple"):
        choices = visible_choices(form, question, values, today, budget)
    else:
        choices = ()
    return convert_typed(question, raw, choices, language, max_text)


def convert_literal(form: Form, question: Question, raw: str) -> Answer:
    """A default written in the form, converted as an answer (any choice of its list counts:
    which ones a choice_filter leaves depends on answers not given yet)."""
    return convert_typed(question, raw, form.choices(question.list_name or ""), "", TEXT_MAX)


def convert_typed(
    question: Question, raw: str, choices: tuple[Choice, ...], language: str, max_text: int
) -> Answer:
    """Convert typed text to the question's type, choosing among `choices` for a select."""
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
        return clean_text_answer(raw, max_text)
    if kind == "acknowledge":
        return Answer("OK", None)
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


def clean_text_answer(raw: str, max_text: int) -> Answer:
    """A typed text cleaned as registration cleans names (control, bidi-override, private and
    unassigned characters refused; spaces collapsed; NFC), line by line to keep paragraphs."""
    # Imported here: the form reader runs alone in a sandbox process and needs none of it.
    from bot.services.errors import InputError, clean_text

    too_long = {"max": str(max_text), "length": str(len(raw))}
    if len(raw) > max_text:
        return Answer(None, AnswerError("too_long", None, too_long))
    try:
        lines = [
            clean_text(line, max_text, need_letter=False) if line.strip() else ""
            for line in raw.replace("\r\n", "\n").split("\n")
        ]
    except InputError as error:
        if error.key == "error.too_long":
            return Answer(None, AnswerError("too_long", None, too_long))
        return Answer(None, AnswerError("control_chars"))
    cleaned = "\n".join(lines).strip()
    return Answer(cleaned or None, None)


def validate_answer(
    form: Form,
    question: Question,
    raw: str,
    values: Mapping[str, object],
    language: str,
    today: date,
    max_text: int = TEXT_MAX,
    budget: Budget | None = None,
) -> Answer:
    """Convert one answer and apply required and constraint (`.` is the new answer).

    One budget covers the choice filter and the constraint; BudgetExceeded is raised, not taken
    for a refused answer, so that the member is told the truth.
    """
    budget = budget or Budget()
    value, error = convert_answer(form, question, raw, values, language, today, max_text, budget)
    if error is not None:
        return Answer(None, error)
    if value is None:
        if question.required:
            return Answer(None, AnswerError("required", question.required_message(language)))
        return Answer(None, None)
    if question.constraint is not None:
        context = {**values, question.name: value}
        try:
            ok = question.constraint.test(context, value, today=today, budget=budget)
        except BudgetExceeded:
            raise
        except ExpressionError:
            ok = False  # a pattern built from answers that is not a valid regex
        if not ok:
            return Answer(None, AnswerError("constraint", question.constraint_message(language)))
    return Answer(value, None)


def visible_choices(
    form: Form,
    question: Question,
    values: Mapping[str, object],
    today: date,
    budget: Budget | None = None,
) -> tuple[Choice, ...]:
    """The question's choices narrowed by its choice_filter (choice columns available by name)."""
    choices = form.choices(question.list_name or "")
    condition = question.choice_filter
    if condition is None:
        return choices
    budget = budget or Budget()
    kept: list[Choice] = []
    for choice in choices:
        columns = dict(choice.columns)
        try:
            if condition.test(values, today=today, columns=columns, budget=budget):
                kept.append(choice)
        except BudgetExceeded:
            raise
        except ExpressionError:
            continue
    return tuple(kept)


def _holds(condition: Expression | None, values: Mapping[str, object], today: date,
           budget: Budget) -> bool:  # fmt: skip
    if condition is None:
        return True
    try:
        return condition.test(values, today=today, budget=budget)
    except BudgetExceeded:
        raise
    except ExpressionError:
        return False


def _shown(
    question: Question,
    values: Mapping[str, object],
    today: date,
    budget: Budget,
    groups: dict[int, bool] | None = None,
) -> bool:
    """Its groups' conditions and its own hold. A group's condition refers only to questions
    before the group, so within one pass (`groups` given) it is evaluated once, not per question."""
    for group in question.groups:
        held = groups.get(group.row) if groups is not None else None
        if held is None:
            held = _holds(group.relevant, values, today, budget)
            if groups is not None:
                groups[group.row] = held
        if not held:
            return False
    return _holds(question.relevant, values, today, budget)


def relevant_values(
    form: Form,
    values: Mapping[str, object],
    today: date,
    upto: Question | None = None,
    budget: Budget | None = None,
) -> tuple[dict[str, object], set[str]]:
    """Answers with those of skipped questions blanked (as ODK does), and the shown names.

    One budget covers the whole pass (every relevant of the form once).
    """
    budget = budget or Budget()
    effective = dict(values)
    shown: set[str] = set()
    groups: dict[int, bool] = {}
    for question in form.questions:
        if question is upto:
            break
        if _shown(question, effective, today, budget, groups):
            shown.add(question.name)
        else:
            effective[question.name] = ""
    return effective, shown


def relevant_questions(
    form: Form, values: Mapping[str, object], today: date
) -> tuple[Question, ...]:
    """Every question shown given these answers, in order (one pass over the form)."""
    _, shown = relevant_values(form, values, today)
    return tuple(q for q in form.questions if q.name in shown)


def is_relevant(form: Form, question: Question, values: Mapping[str, object], today: date) -> bool:
    """Whether the question is shown: its groups' and its own `relevant` hold."""
    budget = Budget()
    effective, _ = relevant_values(form, values, today, upto=question, budget=budget)
    return _shown(question, effective, today, budget)


def default_value(
    form: Form,
    question: Question,
    values: Mapping[str, object],
    language: str,
    today: date,
    budget: Budget | None = None,
) -> object:
    """The default answer (literal or computed), converted to the question's type; None if none."""
    budget = budget or Budget()
    raw = question.default
    if question.default_expression is not None:
        try:
            raw = to_text(question.default_expression.evaluate(values, today=today, budget=budget))
        except BudgetExceeded:
            raise
        except ExpressionError:
            return None
    if not raw:
        return None
    value, error = convert_answer(form, question, raw, values, language, today, budget=budget)
    return None if error is not None else value
