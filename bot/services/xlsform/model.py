"""What a loaded XLSForm is: a form, its questions, choices, groups and per-language texts."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.xlsform.expressions import Expression

PROGRAMME_LANGUAGES = ("es", "en", "fr")

QUESTION_TYPES = (
    "select_one",
    "select_multiple",
    "integer",
    "decimal",
    "range",
    "text",
    "note",
    "acknowledge",
    "date",
)
# Types that hold an answer a member gives (notes only show text).
ANSWER_TYPES = frozenset(QUESTION_TYPES) - {"note"}
# KoBo/ODK metadata: these three are taken from the chat, the device ones stay empty.
METADATA_FROM_CHAT = frozenset({"start", "end", "today"})
METADATA_EMPTY = frozenset(
    {"deviceid", "username", "simserial", "subscriberid", "phonenumber", "audit", "email"}
)


@dataclass(frozen=True)
class FormError:
    """One problem in a form file, located as a spreadsheet user sees it (header row is 1)."""

    file: str
    sheet: str
    row: int | None
    column: str | None
    problem: str
    # A refusal staff see in their own language: its catalog key and values (problem is English).
    key: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def keyed(
        cls,
        file: str,
        sheet: str,
        row: int | None,
        column: str | None,
        key: str,
        /,
        **params: object,
    ) -> FormError:
        """A problem by its catalog key and values; its English `problem` is written by
        `limits.english` (the reading process has no catalogs). A value named `<x>_key` is itself
        a key, rendered as `<x>` with the same values."""
        values = tuple((name, str(value)) for name, value in params.items())
        return cls(file, sheet, row, column, "", key, values)

    def __str__(self) -> str:
        if not (self.file or self.sheet or self.column) and self.row is None:
            return self.problem  # not about the file (an option given with it)
        where = [self.file or "form"]
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.problem}"


@dataclass(frozen=True)
class LocalizedText:
    """A text per language code; `get` falls back member language → default language → first.

    An untranslated form stores its one text under the language code ''.
    """

    items: tuple[tuple[str, str], ...] = ()
    default_language: str = ""

    @property
    def by_language(self) -> dict[str, str]:
        """The texts as a dict (a copy)."""
        return dict(self.items)

    def get(self, language: str) -> str:
        """The text for this language, following the fallback rule ('' when there is none)."""
        texts = dict(self.items)
        for code in (language, self.default_language, ""):
            if texts.get(code):
                return texts[code]
        return next((text for _, text in self.items if text), "")

    def __bool__(self) -> bool:
        return any(text for _, text in self.items)


@dataclass(frozen=True)
class Choice:
    list_name: str
    name: str
    labels: LocalizedText
    # Every column of the choices row (incl. name and filter columns), for choice_filter.
    columns: tuple[tuple[str, str], ...]
    row: int

    def label(self, language: str) -> str:
        """The label shown to a member speaking `language`."""
        return self.labels.get(language) or self.name


@dataclass(frozen=True)
class Group:
    """A begin_group … end_group block; its label is shown as a heading."""

    name: str
    labels: LocalizedText
    relevant: Expression | None
    row: int

    def heading(self, language: str) -> str:
        """The heading in `language` ('' for a group without a label)."""
        return self.labels.get(language)


@dataclass(frozen=True)
class RangeParameters:
    start: float
    end: float
    step: float

    @property
    def whole_numbers(self) -> bool:
        """Whether every value of the range is a whole number."""
        return all(float(v).is_integer() for v in (self.start, self.end, self.step))


@dataclass(frozen=True)
class Question:
    """One row of the survey sheet that is shown to a member (incl. note and acknowledge)."""

    name: str
    type: str
    row: int
    labels: LocalizedText
    hints: LocalizedText = LocalizedText()
    required_messages: LocalizedText = LocalizedText()
    constraint_messages: LocalizedText = LocalizedText()
    list_name: str | None = None
    required: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    choice_filter: Expression | None = None
    # A literal default (checked at load), or an expression when it uses ${...} or a function.
    default: str | None = None
    default_expression: Expression | None = None
    range: RangeParameters | None = None
    groups: tuple[Group, ...] = ()

    @property
    def answerable(self) -> bool:
        """Whether the question stores an answer (everything except a note)."""
        return self.type in ANSWER_TYPES

    def label(self, language: str) -> str:
        """The question text in `language` (fallback rule of LocalizedText)."""
        return self.labels.get(language)

    def hint(self, language: str) -> str:
        """The hint in `language`, '' when the question has none."""
        return self.hints.get(language)

    def required_message(self, language: str) -> str | None:
        """The form's own 'required' message, or None to use the catalog's."""
        return self.required_messages.get(language) or None

    def constraint_message(self, language: str) -> str | None:
        """The form's own constraint message, or None to use the catalog's."""
        return self.constraint_messages.get(language) or None

    def headings(self, language: str) -> tuple[str, ...]:
        """Group headings from the outermost group in, skipping groups without a label."""
        return tuple(text for group in self.groups if (text := group.heading(language)))


@dataclass(frozen=True)
class MetadataField:
    """A KoBo/ODK metadata row: start/end/today are filled from the chat, others stay empty."""

    name: str
    type: str
    row: int

    @property
    def from_chat(self) -> bool:
        """Whether the survey engine records a value (start, end, today)."""
        return self.type in METADATA_FROM_CHAT


@dataclass(frozen=True)
class FormSummary:
    """What a stored survey keeps of its form beside the sheets (so storing needs no Form)."""

    form_id: str
    version: str
    titles: tuple[tuple[str, str], ...]
    default_language: str
    questions: int  # those that hold an answer


@dataclass(frozen=True)
class Form:
    form_id: str
    version: str
    titles: LocalizedText
    # Language codes in column order; () for an untranslated form (plain `label` only).
    languages: tuple[str, ...]
    default_language: str
    questions: tuple[Question, ...]
    choice_lists: tuple[tuple[str, tuple[Choice, ...]], ...]
    metadata: tuple[MetadataField, ...] = ()
    allow_choice_duplicates: bool = False
    source: str = ""
    _by_name: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({q.name: q for q in self.questions})

    @property
    def translated(self) -> bool:
        """Whether the form has per-language columns."""
        return bool(self.languages)

    def title(self, language: str) -> str:
        """The form title in `language` (falls back to the form_id)."""
        return self.titles.get(language) or self.form_id

    def choices(self, list_name: str) -> tuple[Choice, ...]:
        """The choices of a list, in sheet order (empty for an unknown list)."""
        return dict(self.choice_lists).get(list_name, ())

    def question(self, name: str) -> Question | None:
        """The question with this name, if any."""
        return self._by_name.get(name)

    def answerable_questions(self) -> tuple[Question, ...]:
        """Questions that store an answer, in order."""
        return tuple(q for q in self.questions if q.answerable)

    def summary(self) -> FormSummary:
        """What the surveys table keeps of this form."""
        count = len(self.answerable_questions())
        return FormSummary(
            self.form_id, self.version, self.titles.items, self.default_language, count
        )

    def language_for(self, member_language: str) -> str:
        """The form language a member sees: theirs if the form has it, else the default."""
        if not self.languages or member_language in self.languages:
            return member_language
        return self.default_language
