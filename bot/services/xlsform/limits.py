"""What a form may weigh, and the checks that refuse one beyond it, each naming the limit.

A form file is staff input, but a hostile or broken one must not take the bot down: a 901 KiB
file once held a 900 MB label, another eight junk sheets of 4,999 × 300 cells. The file is
checked before it is unpacked (archive.py), read alone in a process with a memory and time limit
(sandbox.py), cell by cell within the limits below (reader.py); the form it makes is then checked
for what Telegram cannot show and for what its expressions would cost on each answer (here).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING

from bot.services.xlsform.expressions import STEPS
from bot.services.xlsform.model import Form, FormError, LocalizedText

if TYPE_CHECKING:
    from bot.i18n import Texts

MB = 1 << 20
# The file as sent (Telegram lets bots download up to 20 MB; a form is a few hundred KB).
FILE_BYTES = 5 * MB
# The archive, from its directory alone: how many parts, how large unpacked, how compressed.
ARCHIVE_ENTRIES = 500
ARCHIVE_UNPACKED = 100 * MB
ARCHIVE_RATIO = 100
# Each part that is parsed (strings, styles, workbook, and the three form sheets).
PART_UNPACKED = 40 * MB
# The sheets read: survey, choices and settings only, each within these dimensions.
FORM_SHEETS = ("survey", "choices", "settings")
MAX_ROWS = 5000
MAX_COLUMNS = 300
# Cells: no text longer than one Telegram message; a ceiling on filled cells and all their text,
# which is what the bot keeps in memory and in the database for each survey.
CELL_CHARS = 4096
FILLED_CELLS = 150_000
TEXT_CHARS = 8_000_000
# The reading process: address space (beyond the interpreter and openpyxl, loaded before the
# limit) and processor time; it gets no more, whatever the file holds. A 5,000-row form as Excel
# writes it is read and checked in about two seconds of processor time. Time is counted by the
# processor, not the wall: a busy machine must not refuse a good form. The wall clock only
# catches a reader that waits on something (it never should).
SANDBOX_MEMORY = 512 * MB
SANDBOX_CPU_SECONDS = 4
SANDBOX_SECONDS = 20.0

# What Telegram can show: a message holds 4,096 characters; the question's label, hint and group
# headings share one, with room left for the line saying how to answer and the default.
QUESTION_TEXT = 3800
# A button shows about 60 characters of a choice (the rest is cut with "…"); the full label is
# kept in the record and matched when typed, but past this nobody can read it on a phone.
CHOICE_LABEL = 150
BUTTON_SHOWN = 60
TITLE_CHARS = 200
MESSAGE_CHARS = 1000
# Steps (expressions.py) that the form's own expressions may cost: every `relevant` once (one
# pass, done several times per answer) and one question's checks. The runtime budget (STEPS)
# stays well above both, so a form accepted here does not run out of it.
PASS_STEPS = STEPS // 4
ANSWER_STEPS = STEPS // 4


@cache
def _texts() -> Texts:
    # Imported here: the reader process builds no messages and should not load the catalogs.
    from bot.i18n import Texts

    return Texts.load()


def render(texts: Texts, language: str, key: str, params: tuple[tuple[str, str], ...]) -> str:
    """A problem's text in `language`; a value named `<x>_key` is a key rendered as `<x>` (the
    last first: a reason's own values follow it, and may be keys too)."""
    values = dict(params)
    for name, value in reversed(params):
        if name.endswith("_key"):
            values[name.removesuffix("_key")] = texts.plain(language, value, **values)
    return texts.plain(language, key, **values)


def refusal(
    file: str, sheet: str, row: int | None, column: str | None, key: str, **params: object
) -> FormError:
    """A refusal with its catalog key; `problem` is the English text (CLI, logs)."""
    return keyed(FormError.keyed(file, sheet, row, column, key, **params))


def keyed(error: FormError) -> FormError:
    """The English text of a problem made where the catalogs are not loaded (the reader)."""
    if not error.key or error.problem:
        return error
    return replace(error, problem=render(_texts(), "en", error.key, error.params))


def english(errors: list[FormError]) -> list[FormError]:
    """Every problem with its English text (for the command line, logs and tests)."""
    return [keyed(error) for error in errors]


def describe(error: FormError, texts: Texts, language: str) -> str:
    """The problem as plain text in `language` (where, then what): for staff in chat."""
    if not error.key:
        return str(error)
    problem = render(texts, language, error.key, error.params)
    if not (error.file or error.sheet or error.column) and error.row is None:
        return problem
    where = [error.file or "form"]
    if error.sheet:
        where.append(texts.plain(language, "survey.load.where.sheet", sheet=error.sheet))
    if error.row is not None:
        where.append(texts.plain(language, "survey.load.where.row", row=error.row))
    if error.column:
        where.append(texts.plain(language, "survey.load.where.column", column=error.column))
    return texts.plain(language, "form.where", where=", ".join(where), problem=problem)


class FormChecks:
    """The checks made on a parsed form: its defaults, what Telegram cannot show, what answers
    would cost."""

    def __init__(self, source: str, sheets: tuple[str, str, str], errors: list[FormError]) -> None:
        self.source, self.errors = source, errors
        self.survey_sheet, self.choices_sheet, self.settings_sheet = sheets

    def run(self, form: Form) -> None:
        """Append a refusal for each bad default, each text too long to show and each
        expression too costly."""
        self._defaults(form)
        self._texts(form)
        self._costs(form)

    def _defaults(self, form: Form) -> None:
        """Literal defaults must be valid answers of their question."""
        from bot.services.xlsform.answers import AnswerError, convert_literal

        # Many questions may share a type, list and default: each is checked once.
        found: dict[tuple[object, ...], AnswerError | None] = {}
        for question in form.questions:
            if question.default is None:
                continue
            key = (question.type, question.list_name, question.range, question.default)
            if key not in found:
                found[key] = convert_literal(form, question, question.default).error
            problem = found[key]
            if problem is not None:
                self.errors.append(
                    FormError.keyed(
                        self.source,
                        self.survey_sheet,
                        question.row,
                        "default",
                        "form.default_invalid",
                        value=repr(question.default),
                        code=problem.code,
                    )
                )

    def _too_long(
        self, sheet: str, row: int | None, field: str, texts: LocalizedText, limit: int, key: str
    ) -> None:
        for code, text in texts.items:
            if len(text) > limit:
                column = f"{field}::{code}" if code else field
                self.errors.append(
                    FormError.keyed(
                        self.source, sheet, row, column, key, length=len(text), limit=limit
                    )
                )

    def _texts(self, form: Form) -> None:
        self._too_long(
            self.settings_sheet, 2, "form_title", form.titles, TITLE_CHARS, "survey.load.title"
        )
        for question in form.questions:
            shown = {
                code: sum(len(h) + 3 for h in question.headings(code))
                + len(question.label(code))
                + len(question.hint(code))
                for code in (form.languages or ("",))
            }
            for code, length in shown.items():
                if length > QUESTION_TEXT:
                    column = f"label::{code}" if code else "label"
                    self.errors.append(
                        FormError.keyed(
                            self.source,
                            self.survey_sheet,
                            question.row,
                            column,
                            "survey.load.question_text",
                            length=length,
                            limit=QUESTION_TEXT,
                        )
                    )
            for field, texts in (
                ("required_message", question.required_messages),
                ("constraint_message", question.constraint_messages),
            ):
                key = "survey.load.message"
                self._too_long(self.survey_sheet, question.row, field, texts, MESSAGE_CHARS, key)
        for _, choices in form.choice_lists:
            for choice in choices:
                for code, text in choice.labels.items:
                    if len(text) > CHOICE_LABEL:
                        self.errors.append(
                            FormError.keyed(
                                self.source,
                                self.choices_sheet,
                                choice.row,
                                f"label::{code}" if code else "label",
                                "survey.load.choice_label",
                                length=len(text),
                                shown=BUTTON_SHOWN,
                                limit=CHOICE_LABEL,
                            )
                        )

    def _costs(self, form: Form) -> None:
        spent = 0
        counted: set[int] = set()  # a group's condition runs once per pass (answers.py)
        for question in form.questions:
            conditions = [g.relevant for g in question.groups if g.row not in counted]
            counted.update(g.row for g in question.groups)
            conditions.append(question.relevant)
            spent += sum(c.cost() for c in conditions if c is not None)
            if spent > PASS_STEPS:
                self.errors.append(
                    FormError.keyed(
                        self.source,
                        self.survey_sheet,
                        question.row,
                        "relevant",
                        "survey.load.pass_cost",
                        cost=spent,
                        limit=PASS_STEPS,
                    )
                )
                break
        for question in form.questions:
            choices = len(form.choices(question.list_name or ""))
            # The choice_filter runs once per choice, for the answer and again for the default.
            cost = (question.choice_filter.cost() * choices * 2) if question.choice_filter else 0
            for expression in (question.constraint, question.default_expression):
                cost += expression.cost() if expression is not None else 0
            if cost > ANSWER_STEPS:
                self.errors.append(
                    FormError.keyed(
                        self.source,
                        self.survey_sheet,
                        question.row,
                        None,
                        "survey.load.answer_cost",
                        cost=cost,
                        choices=choices,
                        limit=ANSWER_STEPS,
                    )
                )
