"""The survey and choices sheets: rows to questions, groups and choices, every problem collected."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.services.xlsform.columns import TRANSLATABLE, ColumnName, cell_text, split_header, yes_no
from bot.services.xlsform.expressions import Expression, ExpressionError, parse_expression
from bot.services.xlsform.model import (
    PROGRAMME_LANGUAGES,
    Choice,
    FormError,
    Group,
    LocalizedText,
    MetadataField,
    Question,
    RangeParameters,
)
from bot.services.xlsform.rowtypes import RowType, TypeProblem, parse_range, parse_type

SURVEY_COLUMNS = frozenset(
    {"type", "name", "relevant", "constraint", "choice_filter", "default", "parameters"}
    | {"required"}
    | TRANSLATABLE
)
_IGNORED = {
    "appearance": "display hints do not apply in chat",
    "read_only": "every shown question can be answered in chat",
    "guidance_hint": "guidance hints are not shown",
    "image": "media are not shown",
    "audio": "media are not shown",
    "video": "media are not shown",
    "big-image": "media are not shown",
    "repeat_count": "repeats are refused",
    "autoplay": "media are not shown",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class _Row:
    number: int
    cells: dict[tuple[str, str | None], str]

    def get(self, field: str) -> str:
        return self.cells.get((field, None), "")


def _rows(rows: Sequence[Mapping[str, object]]) -> list[_Row]:
    out: list[_Row] = []
    for index, row in enumerate(rows):
        cells: dict[tuple[str, str | None], str] = {}
        for header, value in row.items():
            column = split_header(str(header))
            cells[(column.field, column.language)] = cell_text(value)
        out.append(_Row(index + 2, cells))
    return out


def _columns(rows: Sequence[Mapping[str, object]]) -> list[ColumnName]:
    seen: dict[str, ColumnName] = {}
    for row in rows:
        for header in row:
            if str(header) not in seen:
                seen[str(header)] = split_header(str(header))
    return list(seen.values())


class SurveyBuilder:
    """Turns the survey and choices rows into questions, appending to shared error lists."""

    def __init__(
        self,
        source: str,
        errors: list[FormError],
        warnings: list[str],
        survey: tuple[str, Sequence[Mapping[str, object]]],
        choices: tuple[str, Sequence[Mapping[str, object]]] | None,
    ) -> None:
        self.source, self.errors, self.warnings = source, errors, warnings
        self.survey_sheet, survey_rows = survey
        self.choices_sheet, choice_rows = choices or ("choices", [])
        self.survey_rows = _rows(survey_rows)
        self.choice_rows = _rows(choice_rows)
        self.survey_columns = _columns(survey_rows)
        self.choice_columns = _columns(choice_rows)
        self.choice_fields = {c.field for c in self.choice_columns if c.language is None}
        # A sheet's headers: rows read from a file hold only their filled cells.
        self.headers = {
            sheet: {(c.field, c.language): c.header for c in columns}
            for sheet, columns in (
                (self.survey_sheet, self.survey_columns),
                (self.choices_sheet, self.choice_columns),
            )
        }
        self.choice_lists: dict[str, list[Choice]] = {}
        self._multiple: set[str] = set()  # lists checked for select_multiple
        self.questions: list[Question] = []
        self.metadata: list[MetadataField] = []
        self.default_language = ""
        # name -> (position, row, kind); position orders "earlier"/"later" references.
        self.names: dict[str, tuple[int, int, str]] = {}
        self._languages: dict[str, None] = {}
        for column in [*self.survey_columns, *self.choice_columns]:
            if column.field in TRANSLATABLE and column.language is not None:
                self._languages.setdefault(column.language, None)
                if not column.recognised:
                    self.warnings.append(
                        f"{source}: column {column.header!r}: no (code) in the language name; "
                        f"using {column.language!r}, which no member speaks"
                    )
        self._check_columns()

    def error(
        self, sheet: str, row: int | None, column: str | None, key: str, /, **params: object
    ) -> None:
        """Record one problem: its catalog key and values (rendered per reader)."""
        self.errors.append(FormError.keyed(self.source, sheet, row, column, key, **params))

    def languages(self) -> tuple[str, ...]:
        """Language codes of the label/hint/message columns, in column order."""
        return tuple(self._languages)

    def _check_columns(self) -> None:
        langs = self.languages()
        if not langs:
            self.warnings.append(
                f"{self.source}: the form has no language columns (label::Español (es), ...); "
                "everyone sees its texts as written"
            )
        else:
            for code in PROGRAMME_LANGUAGES:
                if code not in langs:
                    self.warnings.append(
                        f"{self.source}: no texts in {code!r}; those members see the default one"
                    )
        for sheet, columns, rows in (
            (self.survey_sheet, self.survey_columns, self.survey_rows),
            (self.choices_sheet, self.choice_columns, self.choice_rows),
        ):
            for column in columns:
                key = (column.field, column.language)
                used = any(row.cells.get(key) for row in rows)
                if langs and column.field in TRANSLATABLE and column.language is None and used:
                    self.error(
                        sheet, 1, column.header, "form.column_no_language",
                        header=repr(column.header), field=column.field, example=langs[0],
                    )  # fmt: skip
                if (
                    sheet != self.survey_sheet
                    or not used
                    or column.field
                    in SURVEY_COLUMNS
                    - {
                        "image",
                        "audio",
                        "guidance_hint",
                    }
                ):
                    continue
                if column.field == "calculation":
                    continue  # checked per row: only a refused calculate row may use it
                if column.field in _IGNORED:
                    self.warnings.append(
                        f"{self.source}: column {column.header!r} is ignored "
                        f"({_IGNORED[column.field]})"
                    )
                elif not column.header.startswith("$"):
                    self.warnings.append(f"{self.source}: column {column.header!r} is ignored")

    def texts(self, sheet: str, row: _Row, field: str, required: bool) -> LocalizedText:
        """One translatable field of a row; every language must have it once any has."""
        langs = self.languages()
        if not langs:
            text = row.get(field)
            if required and not text:
                self.error(sheet, row.number, field, "form.empty", field=field)
            return LocalizedText((("", text),) if text else (), self.default_language)
        items = tuple((code, row.cells.get((field, code), "")) for code in langs)
        given = [code for code, text in items if text]
        if required or given:
            for code, text in items:
                if not text:
                    known = self.headers.get(sheet, {})
                    header = known.get((field, code), f"{field}::{code}")
                    what = "form.text_empty" if (field, code) in known else "form.text_no_column"
                    self.error(
                        sheet, row.number, header, what,
                        field=field, code=repr(code), languages=", ".join(langs),
                    )  # fmt: skip
        return LocalizedText(tuple((c, t) for c, t in items if t), self.default_language)

    def read_choices(self, allow_duplicates: bool) -> None:
        """Read the choices sheet into lists."""
        sheet = self.choices_sheet
        for row in self.choice_rows:
            list_name, name = row.get("list_name"), row.get("name")
            if not any(row.cells.values()):
                continue
            if not list_name:
                self.error(sheet, row.number, "list_name", "form.empty", field="list_name")
                continue
            if not name:
                self.error(sheet, row.number, "name", "form.choice_name_empty")
                continue
            existing = self.choice_lists.setdefault(list_name, [])
            twin = next((c for c in existing if c.name == name), None)
            if twin is not None and not allow_duplicates:
                self.error(
                    sheet, row.number, "name", "form.choice_twice",
                    name=repr(name), list=repr(list_name), first=twin.row,
                )  # fmt: skip
            labels = self.texts(sheet, row, "label", required=True)
            columns = tuple(
                (f, t) for (f, lang), t in row.cells.items() if lang is None and f != "list_name"
            )
            existing.append(Choice(list_name, name, labels, columns, row.number))

    def read_survey(self) -> None:
        """Read the survey sheet: types and names first, then texts and expressions."""
        sheet = self.survey_sheet
        parsed: list[tuple[_Row, RowType]] = []
        for row in self.survey_rows:
            type_text = row.get("type")
            if not type_text:
                if any(row.cells.values()):
                    self.error(sheet, row.number, "type", "form.empty", field="type")
                continue
            kind = parse_type(type_text)
            if isinstance(kind, TypeProblem):
                self.error(sheet, row.number, "type", kind.key, **kind.params)
                continue
            parsed.append((row, kind))
            if row.get("calculation"):
                self.error(sheet, row.number, "calculation", "form.calculation")
            if kind.kind == "end_group":
                continue
            name = row.get("name")
            if not name:
                self.error(sheet, row.number, "name", "form.empty", field="name")
                continue
            if not _NAME.fullmatch(name):
                self.error(sheet, row.number, "name", "form.name_invalid", name=repr(name))
                continue
            if name in self.names:
                first = self.names[name][1]
                key = "form.name_twice"
                self.error(sheet, row.number, "name", key, name=repr(name), first=first)
                continue
            role = "group" if kind.kind == "begin_group" else kind.kind
            self.names[name] = (len(self.names), row.number, role)
        groups: list[Group] = []
        for row, kind in parsed:
            if kind.kind == "end_group":
                if not groups:
                    self.error(sheet, row.number, "type", "form.end_group_alone")
                else:
                    groups.pop()
                continue
            name = row.get("name")
            if self.names.get(name, (0, -1, ""))[1] != row.number:
                continue  # its name was refused above
            if kind.kind == "begin_group":
                labels = self.texts(sheet, row, "label", required=False)
                groups.append(Group(name, labels, self._expr(row, "relevant", name), row.number))
            elif kind.kind == "metadata":
                self.metadata.append(MetadataField(name, kind.base, row.number))
            else:
                question = self._question(row, kind, name, tuple(groups))
                if question is not None:
                    self.questions.append(question)
        for group in groups:
            self.error(sheet, group.row, "type", "form.group_open", name=repr(group.name))
        if not self.questions:
            self.error(sheet, None, None, "form.no_questions")

    def _question(
        self, row: _Row, kind: RowType, name: str, groups: tuple[Group, ...]
    ) -> Question | None:
        sheet = self.survey_sheet
        is_note = kind.kind == "note"
        required = yes_no(row.get("required"))
        if required is None:
            value = repr(row.get("required"))
            self.error(sheet, row.number, "required", "form.required_value", value=value)
            required = False
        for field in ("required", "constraint", "default") if is_note else ():
            if row.get(field) and yes_no(row.get(field)) is not False:
                self.warnings.append(
                    f"{self.source}: row {row.number}: {field} is ignored on a note"
                )
        list_name = kind.list_name
        if list_name is not None and not self.choice_lists.get(list_name):
            missing = "form.list_empty" if list_name in self.choice_lists else "form.list_missing"
            self.error(
                sheet, row.number, "type", missing, list=repr(list_name), sheet=self.choices_sheet
            )
        if kind.kind == "select_multiple" and list_name and list_name not in self._multiple:
            self._multiple.add(list_name)  # once per list: 5,000 questions may share one
            for choice in self.choice_lists.get(list_name, []):
                if " " in choice.name:
                    self.error(
                        self.choices_sheet, choice.row, "name", "form.choice_space",
                        name=repr(choice.name),
                    )  # fmt: skip
        params: RangeParameters | None = None
        if kind.kind == "range":
            checked = parse_range(row.get("parameters"))
            if isinstance(checked, TypeProblem):
                self.error(sheet, row.number, "parameters", checked.key, **checked.params)
            else:
                params = checked
        elif row.get("parameters"):
            self.warnings.append(
                f"{self.source}: row {row.number}: parameters are ignored for {kind.base}"
            )
        choice_filter = None
        if row.get("choice_filter"):
            if list_name is None:
                self.error(sheet, row.number, "choice_filter", "form.choice_filter_no_select")
            else:
                choice_filter = self._expr(row, "choice_filter", name, columns=True)
        default, default_expression = row.get("default") or None, None
        if default and ("${" in default or "(" in default):
            default, default_expression = None, self._expr(row, "default", name)
        return Question(
            name=name,
            type=kind.kind,
            row=row.number,
            labels=self.texts(sheet, row, "label", required=True),
            hints=self.texts(sheet, row, "hint", required=False),
            required_messages=self.texts(sheet, row, "required_message", required=False),
            constraint_messages=self.texts(sheet, row, "constraint_message", required=False),
            list_name=list_name,
            required=required and not is_note,
            relevant=self._expr(row, "relevant", name),
            constraint=None if is_note else self._expr(row, "constraint", name, own=True),
            choice_filter=choice_filter,
            default=None if is_note else default,
            default_expression=default_expression,
            range=params,
            groups=groups,
        )

    def _expr(
        self, row: _Row, field: str, name: str, *, own: bool = False, columns: bool = False
    ) -> Expression | None:
        """Parse one expression cell and check what it refers to."""
        text = row.get(field)
        if not text:
            return None
        sheet = self.survey_sheet
        header = self.headers[sheet].get((field, None), field)
        try:
            expression = replace(parse_expression(text, choice_columns=columns), row=row.number)
        except ExpressionError as exc:
            at = exc.position + 1 if exc.position is not None else 1
            reason = {"reason_key": exc.key, **exc.params} if exc.key else {
                "reason_key": "expr.other", "detail": exc.message}  # fmt: skip
            self.error(
                sheet, row.number, header, "form.expression",
                field=field, text=repr(text), at=at, **reason,
            )  # fmt: skip
            return None
        position = self.names[name][0]
        for ref in sorted(expression.references()):
            if ref not in self.names:
                self.error(sheet, row.number, header, "form.ref_unknown", ref=ref)
                continue
            ref_position, ref_row, role = self.names[ref]
            if role == "metadata":
                continue
            if role in ("group", "note"):
                self.error(sheet, row.number, header, f"form.ref_{role}", ref=ref)
            elif ref == name and not own:
                self.error(sheet, row.number, header, "form.ref_self", ref=ref)
            elif ref_position > position:
                self.error(sheet, row.number, header, "form.ref_later", ref=ref, row=ref_row)
        for column in sorted(expression.columns()):
            if column not in self.choice_fields:
                self.error(
                    sheet, row.number, header, "form.filter_column",
                    column=repr(column), sheet=self.choices_sheet,
                )  # fmt: skip
        return expression

    def finish(self) -> None:
        """Warn about choice lists no question uses."""
        used = {q.list_name for q in self.questions}
        for list_name in self.choice_lists:
            if list_name not in used:
                self.warnings.append(f"{self.source}: choice list {list_name!r} is not used")
