"""The workbook's own words (README, summary, dictionary, phrases) in the staff member's language.

An export process has no `Texts`: loading every catalog costs a tenth of a second it does not
need, so it reads the export catalog only (`bot/locales/<lang>/LC_MESSAGES/export.po`), with
English behind it for a key a translator has not reached yet.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

FALLBACK = "en"


@cache
def _catalog(language: str) -> dict[str, str]:
    path = resources.files("bot").joinpath("locales", language, "LC_MESSAGES", "export.po")
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


class Words:
    """`words("export.summary.total")`: the text in this language, values inserted as they are."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts = _catalog(language)
        self._fallback = _catalog(FALLBACK) if language != FALLBACK else self._texts

    def __call__(self, key: str, **values: object) -> str:
        template = self._texts.get(key) or self._fallback.get(key) or key
        return template.format(**values) if values else template

    def country(self, code: str | None) -> str:
        """A member's country as staff read it (codes without a name stay codes)."""
        if not code:
            return self("export.summary.unknown_country")
        key = f"export.summary.country.{code}"
        found = self._texts.get(key) or self._fallback.get(key)
        return found or code
