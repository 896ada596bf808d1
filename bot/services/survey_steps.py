"""A survey as a walk through its form: which question comes next, how it reads, what it accepts.

Pure rules over an XLSForm `Form` (no Telegram): the chat flow in `bot/handlers/survey_flow.py`
turns them into engine steps. Values kept between questions are JSON-friendly (dates as ISO text,
select_multiple as a list of names) because the conversation state is stored as JSON.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

from bot.i18n import Texts
from bot.services.errors import InputError
from bot.services.xlsform import (
    Answer,
    Form,
    Question,
    default_value,
    relevant_values,
    validate_answer,
    visible_choices,
)
from bot.services.xlsform.answers import TEXT_MAX
from bot.services.xlsform.expressions import Budget, BudgetExceeded
from bot.services.xlsform.values import to_text

logger = logging.getLogger(__name__)

StepKind = Literal["choice", "multi", "text", "number", "date", "info"]
KINDS: dict[str, StepKind] = {
    "select_one": "choice",
    "select_multiple": "multi",
    "integer": "number",
    "decimal": "number",
    "range": "number",
    "text": "text",
    "date": "date",
    "note": "info",
    "acknowledge": "info",
}
LABEL_MAX = 90
# A choice list longer than this is shown a page at a time and searched by typing: Telegram draws
# at most 100 buttons (and ~10 kB) per keyboard, and a page is what fits on a phone's screen.
PAGED_OVER = 10
PAGE_SIZE = 8


def shown(
    form: Form, values: Mapping[str, object], today: date, budget: Budget | None = None
) -> set[str]:
    """Names of the questions shown given these answers (relevant, groups included)."""
    return relevant_values(form, values, today, budget=budget)[1]


def first_key(form: Form, values: Mapping[str, object], today: date) -> str | None:
    """The first question shown."""
    visible = shown(form, values, today)
    return next((q.name for q in form.questions if q.name in visible), None)


def key_after(form: Form, key: str, values: Mapping[str, object], today: date) -> str | None:
    """The next question shown after `key`, in form order; None at the end."""
    visible = shown(form, values, today)
    names = [q.name for q in form.questions]
    start = names.index(key) + 1 if key in names else len(names)
    return next((name for name in names[start:] if name in visible), None)


def next_unanswered(
    form: Form,
    values: Mapping[str, object],
    answered: set[str],
    today: date,
    answerable_only: bool = False,
) -> str | None:
    """The first shown question with nothing stored yet (a skipped one counts as answered)."""
    visible = shown(form, values, today)
    for question in form.questions:
        if question.name not in visible or question.name in answered:
            continue
        if answerable_only and not question.answerable:
            continue
        return question.name
    return None


def shown_answerable(form: Form, values: Mapping[str, object], today: date) -> list[Question]:
    """The questions shown that hold an answer, in order (what the review lists)."""
    visible = shown(form, values, today)
    return [q for q in form.questions if q.answerable and q.name in visible]


def choice_items(
    form: Form, question: Question, values: Mapping[str, object], language: str, today: date
) -> list[tuple[str, str]]:
    """(name, label) of the choices left by the choice_filter."""
    return [(c.name, c.label(language)) for c in visible_choices(form, question, values, today)]


def long_list(form: Form, question: Question) -> bool:
    """Whether the question's choices are paged and searched (its whole list, before filters)."""
    return question.list_name is not None and len(form.choices(question.list_name)) > PAGED_OVER


def _type_hint(form: Form, question: Question, texts: Texts, language: str) -> str:
    if question.type == "range" and question.range is not None:
        bounds = question.range
        return texts.get(
            language, "survey.type.range", min=to_text(bounds.start), max=to_text(bounds.end)
        )
    hints = []
    if question.type in ("integer", "decimal", "text", "date", "select_multiple"):
        # A text answer states its limit up front, so a long one is not a surprise.
        hints.append(texts.get(language, f"survey.type.{question.type}", max=TEXT_MAX))
    if long_list(form, question):
        hints.append(texts.get(language, "survey.type.long_list"))
    return " ".join(hints)


def question_html(
    form: Form,
    question: Question,
    language: str,
    member_language: str,
    texts: Texts,
    default_label: str | None = None,
) -> str:
    """Group headings in bold, the label, the hint in italics, then how to answer."""
    lines = []
    headings = question.headings(language)
    if headings:
        lines.append("<b>" + " › ".join(html.escape(h, quote=False) for h in headings) + "</b>")
    lines.append(html.escape(question.label(language), quote=False))
    if hint := question.hint(language):
        lines.append(f"<i>{html.escape(hint, quote=False)}</i>")
    if type_hint := _type_hint(form, question, texts, member_language):
        lines.append(f"<i>{type_hint}</i>")
    if default_label:
        lines.append(texts.get(member_language, "survey.default", value=default_label))
    return "\n".join(lines)


def refusal(answer: Answer) -> InputError | None:
    """The catalog key (or the form's own message) for a refused answer."""
    error = answer.error
    if error is None:
        return None
    if error.message:
        return InputError("survey.error.custom", message=error.message)
    code = error.code
    if code == "range" and "step" in error.params:
        code = "range_step"
    return InputError(f"survey.error.{code}", **error.params)


def check_answer(
    form: Form,
    question: Question,
    raw: str | Sequence[str],
    values: Mapping[str, object],
    language: str,
    today: date,
) -> object:
    """The answer as a JSON-friendly value, or InputError with the reason in the catalogs."""
    text = raw if isinstance(raw, str) else " ".join(raw)
    try:
        answer = validate_answer(form, question, text, values, language, today)
    except BudgetExceeded as exceeded:
        # The member is told the answer could not be checked; the log names the form's row.
        logger.warning("survey %s %s: %s", form.form_id, form.version, exceeded)
        raise InputError("survey.error.too_costly") from None
    problem = refusal(answer)
    if problem is not None:
        raise problem
    return json_value(question, answer.value)


def json_value(question: Question, value: object) -> object:
    """A value as kept in the conversation: dates ISO, multiple choices a list."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if question.type == "select_multiple":
        return str(value).split() if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return value


def invalid_answers(
    form: Form, values: Mapping[str, object], language: str, today: date
) -> set[str]:
    """Answers shown that no longer pass (a choice filtered out, a constraint now false) once
    another answer changed; each drop may invalidate more, so it runs until nothing changes.

    One budget covers the whole check; past it the answers not yet checked are kept (logged).
    """
    current = dict(values)
    dropped: set[str] = set()
    budget = Budget()
    try:
        while True:
            visible = shown(form, current, today, budget)
            bad = next(
                (
                    q.name
                    for q in form.questions
                    if q.name in current
                    and q.name in visible
                    and KINDS.get(q.type, "info") != "info"
                    and not _passes(form, q, current, language, today, budget)
                ),
                None,
            )
            if bad is None:
                return dropped
            dropped.add(bad)
            del current[bad]
    except BudgetExceeded as exceeded:
        logger.warning("survey %s %s: %s", form.form_id, form.version, exceeded)
        return dropped


def _passes(
    form: Form,
    question: Question,
    values: Mapping[str, object],
    language: str,
    today: date,
    budget: Budget,
) -> bool:
    others = {k: v for k, v in values.items() if k != question.name}
    raw = to_stored(values[question.name])
    if raw == "":
        return True
    answer = validate_answer(form, question, raw, others, language, today, budget=budget)
    return answer.error is None


def agreed_label(texts: Texts, language: str) -> str:
    """What an acknowledgement shows once agreed to: the agree button's words, no emoji."""
    return texts.plain(language, "steps.agree").removeprefix("✅").strip()


def to_stored(value: object) -> str:
    """The text kept in the answers table and the record ('' for no answer)."""
    if value is None or value is True:
        return "" if value is None else "OK"
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return to_text(float(value))
    return str(value)


def from_stored(question: Question, text: str) -> object:
    """The conversation value of a stored answer (None for '')."""
    if text == "":
        return None
    kind = question.type
    try:
        if kind == "integer":
            return int(text)
        if kind == "decimal":
            return float(text)
        if kind == "range":
            whole = question.range is None or question.range.whole_numbers
            return int(float(text)) if whole else float(text)
    except ValueError:
        return text
    if kind == "select_multiple":
        return text.split()
    return text


# Between the labels of a select_multiple answer, in the record and in every export: labels hold
# spaces and commas ("Agencia de envíos"), so neither can split them back. The stored value keeps
# XLSForm's space-separated choice names.
CHOSEN_SEPARATOR = "; "


def value_label(form: Form, question: Question, text: str, language: str) -> str:
    """What the member saw for this answer: choice labels (joined by "; "), else the value."""
    if text == "" or question.list_name is None:
        return text
    labels = {c.name: c.label(language) for c in reversed(form.choices(question.list_name))}
    names = text.split() if question.type == "select_multiple" else [text]
    return CHOSEN_SEPARATOR.join(labels.get(name, name) for name in names)


def default_for(
    form: Form, question: Question, values: Mapping[str, object], language: str, today: date
) -> tuple[str, str] | None:
    """(stored text, label) of the question's default, if it has a valid one now."""
    if question.default is None and question.default_expression is None:
        return None
    value = default_value(form, question, values, language, today)
    if value is None:
        return None
    stored = to_stored(json_value(question, value))
    return stored, value_label(form, question, stored, language)


def short(text: str, limit: int = LABEL_MAX) -> str:
    """One line, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
