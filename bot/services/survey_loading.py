"""Surveys' forms: an XLSForm file checked and stored as a draft survey, and parsed once per survey.

A stored form never changes (a new version is a new survey), so each survey's `Form` is parsed at
most once per process and kept: every answer, review and invitation reads the same parsed form,
its expressions already compiled (`xlsform.evaluate`).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Texts
from bot.services.xlsform import Form, FormError, ParsedForm, parse_sheets
from bot.services.xlsform.limits import FILE_BYTES, describe, refusal
from bot.services.xlsform.model import FormSummary
from bot.services.xlsform.sandbox import read_form_file
from storage import Store
from storage.surveys import Survey

MAX_FILE_BYTES = FILE_BYTES


@dataclass(frozen=True)
class LoadOutcome:
    """A stored survey, or every reason the file was refused (nothing stored then)."""

    survey: Survey | None
    # In English (the command line, logs); `messages` says them in a staff member's language.
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The errors that have a catalog key (every one the loader finds), by their text.
    keyed: dict[str, FormError] = field(default_factory=dict)

    @classmethod
    def refused(
        cls, errors: Sequence[FormError | str], warnings: list[str] | None = None
    ) -> LoadOutcome:
        """Nothing stored, for these reasons."""
        keyed = {str(e): e for e in errors if isinstance(e, FormError) and e.key}
        return cls(None, [str(error) for error in errors], warnings or [], keyed)

    def messages(self, texts: Texts, language: str) -> list[str]:
        """The errors as plain text, in `language` where the catalogs have them."""
        return [
            describe(self.keyed[error], texts, language) if error in self.keyed else error
            for error in self.errors
        ]


class SurveyLoading:
    """Loading forms as draft surveys, and each survey's parsed form (kept once parsed)."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self._repository = store.surveys
        self._config = config
        self._clock = clock
        # Parsed forms by survey id: a stored form never changes (a new version is a new row).
        self._forms: dict[int, Form] = {}

    async def load_file(
        self,
        path: Path,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
        source_name: str | None = None,
    ) -> LoadOutcome:
        """Read and validate an .xlsx form; store it as a draft survey only if it is valid."""
        source = source_name or path.name
        if path.suffix.lower() == ".xls":
            return LoadOutcome.refused([refusal(source, "", None, None, "form.xls")])
        # Read and checked in a separate process with memory and time limits; this thread waits.
        read = await asyncio.to_thread(read_form_file, path, source)
        if read.summary is None:
            errors = self._refusals(read.errors or [_unreadable(source)], theme)
            return LoadOutcome.refused(errors, read.warnings)
        # The Form itself is built when a member first needs it (form()), not here.
        return await self._store(
            read.sheets, read.summary, None, source, created_by, round_, theme, read.warnings
        )

    async def load_bytes(
        self,
        name: str,
        content: bytes,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
    ) -> LoadOutcome:
        """A form sent as a file (e.g. to the bot in chat)."""
        if len(content) > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES / (1 << 20):,.1f}"
            return LoadOutcome.refused(
                [refusal(name, "", None, None, "survey.load.file_size", limit=limit)]
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "form.xlsx"
            await asyncio.to_thread(path.write_bytes, content)
            return await self.load_file(path, created_by, round_, theme, source_name=name)

    async def load_sheets(
        self,
        sheets: dict[str, list[dict[str, str]]],
        source: str,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
    ) -> LoadOutcome:
        """Validate sheets (cells as text) and store them as a new draft survey."""
        parsed: ParsedForm = await asyncio.to_thread(parse_sheets, sheets, source)
        form = parsed.form
        if form is None or parsed.errors:
            errors = self._refusals(parsed.errors or [_unreadable(source)], theme)
            return LoadOutcome.refused(errors, parsed.warnings)
        summary = form.summary()
        return await self._store(
            sheets, summary, form, source, created_by, round_, theme, parsed.warnings
        )

    def _refusals(self, errors: Sequence[FormError], theme: str | None) -> list[FormError]:
        """The form's errors and the options' (all at once)."""
        found = list(errors)
        if theme is not None and theme not in self._config.programme.thematic_groups:
            known = ", ".join(self._config.programme.thematic_groups)
            found.append(refusal("", "", None, None, "form.theme", theme=repr(theme), known=known))
        return found

    async def _store(
        self,
        sheets: dict[str, list[dict[str, str]]],
        summary: FormSummary,
        form: Form | None,
        source: str,
        created_by: str,
        round_: str | None,
        theme: str | None,
        warnings: list[str],
    ) -> LoadOutcome:
        """Store a checked form as a new draft survey (unless the options or the version clash)."""
        if refused := self._refusals([], theme):
            return LoadOutcome.refused(refused, warnings)
        existing = await self._repository.by_form(summary.form_id, summary.version)
        if existing is not None:
            problem = refusal(
                source, "", None, None, "form.version_loaded",
                form_id=repr(summary.form_id), version=repr(summary.version), id=existing.id,
            )  # fmt: skip
            return LoadOutcome.refused([problem], warnings)
        survey = await self._repository.create(
            summary.form_id,
            summary.version,
            dict(summary.titles),
            summary.default_language,
            json.dumps(sheets, ensure_ascii=False),
            source,
            round_,
            theme,
            created_by,
            self._clock.now(),
            summary.questions,
        )
        if survey is None:  # loaded by someone else meanwhile
            taken = refusal(source, "", None, None, "form.version_taken")
            return LoadOutcome.refused([taken], warnings)
        await self.store.audit.record(
            created_by, "survey.load", f"survey:{survey.id}", {"source": source}
        )
        if form is not None:
            self._forms[survey.id] = form
        return LoadOutcome(survey, [], warnings)

    async def form(self, survey: Survey) -> Form:
        """The survey's form, parsed once."""
        cached = self._forms.get(survey.id)
        if cached is not None:
            return cached
        definition = await self._repository.definition(survey.id)
        # A 5,000-row form takes a good part of a second to parse: not on the event loop.
        parsed = await asyncio.to_thread(_parse_stored, definition or "{}", survey.source_name)
        if parsed.form is None:
            raise RuntimeError(f"survey {survey.id}: stored form no longer parses")
        self._forms[survey.id] = parsed.form
        return parsed.form

    def cached(self, survey_id: int) -> Form | None:
        """The form if it was parsed already (for code that cannot wait)."""
        return self._forms.get(survey_id)


def _unreadable(source: str) -> FormError:
    return refusal(source, "", None, None, "form.unreadable")


def _parse_stored(definition: str, source: str) -> ParsedForm:
    """A stored form, as accepted under the limits of its day (see parse_sheets)."""
    return parse_sheets(json.loads(definition), source, limits=False)
