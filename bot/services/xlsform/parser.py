"""Load an XLSForm (.xlsx or sheets as lists of dicts) into a Form, collecting every error."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.services.xlsform.columns import cell_text, split_header, yes_no
from bot.services.xlsform.limits import FormChecks, english, refusal
from bot.services.xlsform.model import Form, FormError, LocalizedText
from bot.services.xlsform.sandbox import read_form_file
from bot.services.xlsform.survey import SurveyBuilder

Sheets = Mapping[str, Sequence[Mapping[str, object]]]


@dataclass
class ParsedForm:
    """The outcome of loading: a form when there are no errors, else the errors (all of them)."""

    form: Form | None
    errors: list[FormError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the form loaded without errors."""
        return self.form is not None and not self.errors


def load_xlsform(path: Path, source: str | None = None) -> ParsedForm:
    """Load an .xlsx XLSForm (read in the sandbox); a bad form gives errors, never an exception.

    Blocking: call it in a thread from async code.
    """
    source = source or path.name
    if path.suffix.lower() == ".xls":
        return ParsedForm(None, [refusal(source, "", None, None, "form.xls")])
    read = read_form_file(path, source)
    if read.errors or read.summary is None:
        return ParsedForm(None, read.errors, read.warnings)
    # Checked in the reader already; this builds the Form for the caller.
    return parse_sheets(read.sheets, source, limits=False)


def _find_sheet(sheets: Sheets, name: str) -> tuple[str, Sequence[Mapping[str, object]]] | None:
    for title, rows in sheets.items():
        if title.strip().lower() == name:
            return title, rows
    return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower()
    return slug or "form"


def parse_sheets(
    sheets: Sheets, source: str, *, limits: bool = True, render: bool = True
) -> ParsedForm:
    """Build a Form from sheets as rows of {header: value}; row i is spreadsheet row i + 2.

    `limits=False` re-reads a form stored earlier: it passed the checks of its day (defaults,
    limits), which are not run again, so that a stricter limit later cannot make a survey
    already answered unreadable, and reading it back costs only the building.

    Each error has its catalog key and values; `render=False` leaves its English text to write
    (the reading process, which loads no catalogs: the bot's process writes it).
    """
    errors: list[FormError] = []
    warnings: list[str] = []
    survey = _find_sheet(sheets, "survey")
    if survey is None:
        errors.append(FormError.keyed(source, "survey", None, None, "form.no_survey_sheet"))
        return ParsedForm(None, english(errors) if render else errors, warnings)
    choices = _find_sheet(sheets, "choices")
    settings = _find_sheet(sheets, "settings")

    builder = SurveyBuilder(source, errors, warnings, survey, choices)
    settings_row, settings_title = _settings_row(settings)
    allow_duplicates = yes_no(cell_text(settings_row.get("allow_choice_duplicates"))) is True
    languages = builder.languages()
    titles: list[tuple[str, str]] = []
    for header, value in settings_row.items():
        column = split_header(header)
        if column.field == "form_title" and cell_text(value):
            titles.append((column.language or "", cell_text(value)))

    default_language = ""
    default_spec = cell_text(settings_row.get("default_language"))
    if default_spec:
        column = split_header(f"x::{default_spec}")
        default_language = column.language or ""
        if languages and default_language not in languages:
            errors.append(
                FormError.keyed(
                    source, settings_title, 2, "default_language", "form.default_language",
                    value=repr(default_spec), languages=", ".join(languages),
                )
            )  # fmt: skip
    elif languages:
        default_language = languages[0]
        warnings.append(
            f"{source}: settings has no default_language; using the first language "
            f"({default_language})"
        )

    form_id = cell_text(settings_row.get("form_id")) or cell_text(settings_row.get("id_string"))
    if not form_id:
        form_id = _slug(Path(source).stem if source else "form")
        warnings.append(f"{source}: settings has no form_id; using {form_id!r} from the file name")
    elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", form_id):
        errors.append(FormError.keyed(source, settings_title, 2, "form_id", "form.form_id"))
    version = cell_text(settings_row.get("version"))
    if not version:
        version = "1"
        warnings.append(f"{source}: settings has no version; using version '1'")
    for key in ("submission_url", "public_key"):
        if cell_text(settings_row.get(key)):
            warnings.append(f"{source}: settings column {key} is ignored (answers stay in the bot)")

    builder.default_language = default_language
    builder.read_choices(allow_duplicates)
    builder.read_survey()
    builder.finish()
    form = Form(
        form_id=form_id,
        version=version,
        titles=LocalizedText(tuple(titles), default_language),
        languages=languages,
        default_language=default_language,
        questions=tuple(builder.questions),
        choice_lists=tuple((name, tuple(items)) for name, items in builder.choice_lists.items()),
        metadata=tuple(builder.metadata),
        allow_choice_duplicates=allow_duplicates,
        source=source,
    )
    if limits:
        # Checked on the partial form too, so that a first upload reports every problem.
        sheet_titles = (builder.survey_sheet, builder.choices_sheet, settings_title)
        FormChecks(source, sheet_titles, errors).run(form)
    if errors:
        return ParsedForm(None, english(errors) if render else errors, warnings)
    return ParsedForm(form, errors, warnings)


def _settings_row(
    settings: tuple[str, Sequence[Mapping[str, object]]] | None,
) -> tuple[dict[str, object], str]:
    if settings is None:
        return {}, "settings"
    title, rows = settings
    for row in rows:
        if any(cell_text(v) for v in row.values()):
            return {str(k).strip(): v for k, v in row.items()}, title
    return {}, title
