"""Translation catalogs (gettext .po, read with Babel) and locale-aware formatting."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from gettext import c2py
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES: tuple[str, ...] = ("es", "en", "fr")
FALLBACK = "es"
# Whose conventions each language's dates, times and numbers follow (Babel's locale data decides):
# the consultation's people are Salvadorans in the United States and Canada, so Spanish reads the
# 12-hour clock and a decimal point as in El Salvador, French the "10 h" of Canadian French.
LOCALES: dict[str, str] = {"es": "es_SV", "en": "en_US", "fr": "fr_CA"}


def babel_locale(language: str) -> str:
    """The Babel locale that formats dates, times and numbers for one of our languages."""
    return LOCALES.get(language, language)


def pick_language(code: str | None, default: str = FALLBACK) -> str:
    """Map a Telegram language_code (e.g. 'fr-CA') to one of ours; unknown -> default."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return default


PluralRule = Callable[[int], int]


class Texts:
    """Every string a person sees, keyed; the member's language chooses the catalog.

    A counted message is a gettext plural entry (`msgid_plural`, `msgstr[0..n]`): the form is
    chosen by the value named `count` with the language's own rule (French says "1 personne",
    "0 personne"; Spanish and English "0 personas").
    """

    def __init__(
        self,
        catalogs: dict[str, dict[str, str]],
        plurals: dict[str, dict[str, tuple[str, ...]]] | None = None,
        rules: dict[str, PluralRule] | None = None,
    ) -> None:
        self._catalogs = catalogs
        self._plurals = plurals or {language: {} for language in catalogs}
        self._rules = rules or {}

    @classmethod
    def load(cls) -> Texts:
        catalogs: dict[str, dict[str, str]] = {}
        plurals: dict[str, dict[str, tuple[str, ...]]] = {}
        rules: dict[str, PluralRule] = {}
        root = resources.files("bot").joinpath("locales")
        for language in LANGUAGES:
            # One catalog per flow (messages.po, meetings.po...), merged; a key lives in one only.
            merged: dict[str, str] = {}
            counted: dict[str, tuple[str, ...]] = {}
            folder = root.joinpath(language, "LC_MESSAGES")
            for entry in sorted(folder.iterdir(), key=lambda item: item.name):
                if not entry.name.endswith(".po"):
                    continue
                with entry.open("rb") as handle:
                    catalog = read_po(handle, locale=language)
                rules[language] = c2py(catalog.plural_expr)
                for message in catalog:
                    text = message.string
                    if not message.id or not text:
                        continue
                    if isinstance(text, str):
                        key = str(message.id)
                    else:  # a counted entry: msgid_plural and msgstr[0..n]
                        if not all(text):
                            continue
                        key = str(message.id[0])
                    if key in merged or key in counted:
                        raise ValueError(f"{language}/{entry.name}: key {key!r} defined twice")
                    if isinstance(text, str):
                        merged[key] = text
                    else:
                        counted[key] = tuple(str(form) for form in text)
            catalogs[language] = merged
            plurals[language] = counted
        return cls(catalogs, plurals, rules)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogs[language]) | set(self._plurals.get(language, {}))

    def counted_keys(self, language: str) -> set[str]:
        """The keys whose text changes with a count."""
        return set(self._plurals.get(language, {}))

    def forms(self, language: str, key: str) -> tuple[str, ...]:
        """Every form of a key's text in one language (one unless it is counted)."""
        counted = self._plurals.get(language, {}).get(key)
        if counted:
            return counted
        return (self._catalogs.get(language, {}).get(key, key),)

    def has(self, language: str, key: str) -> bool:
        return key in self._catalogs.get(language, {}) or key in self._plurals.get(language, {})

    def _template(self, language: str, key: str, values: dict[str, Any]) -> str:
        if language not in self._catalogs:
            language = FALLBACK
        for candidate in (language, FALLBACK):
            forms = self._plurals.get(candidate, {}).get(key)
            if forms:
                count = values.get("count")
                if not isinstance(count, int):
                    raise TypeError(f"{key!r} is counted: give it count=<int>")
                rule = self._rules.get(candidate)
                index = int(rule(abs(count))) if rule else int(count != 1)
                return forms[min(index, len(forms) - 1)]
            text = self._catalogs.get(candidate, {}).get(key)
            if text:
                return text
        return key

    def get(self, language: str, key: str, **values: Any) -> str:
        """The text for key; values are HTML-escaped unless wrapped in Markup."""
        template = self._template(language, key, values)
        if not values:
            return template
        escaped = {
            name: value.text if isinstance(value, Markup) else html.escape(str(value), quote=False)
            for name, value in values.items()
        }
        return template.format(**escaped)

    def plain(self, language: str, key: str, **values: Any) -> str:
        """The text for key with values inserted as they are (for button labels, not HTML)."""
        template = self._template(language, key, values)
        return template.format(**values) if values else template

    def label(self, language: str, prefix: str, key: str) -> str:
        """A configured item's display name (sector, theme); the key itself if uncatalogued."""
        full = f"{prefix}.{key}"
        return self.get(language, full) if self.has(FALLBACK, full) else key


class Markup:
    """Already-safe HTML to splice into a template without escaping."""

    def __init__(self, text: str) -> None:
        self.text = text


def format_local(moment: datetime, zone: str, language: str, fmt: str = "medium") -> str:
    """A moment in the given IANA zone, formatted for the language's locale."""
    return format_datetime(moment, format=fmt, tzinfo=ZoneInfo(zone), locale=babel_locale(language))


def format_meeting_time(moment: datetime, zone: str, language: str) -> str:
    """Date and hour:minute (no seconds) in the zone, in the locale's order: '5 dic 2099, 18:00'."""
    local = moment.astimezone(ZoneInfo(zone))
    date = format_date(local, format="medium", locale=babel_locale(language))
    clock = format_time(local, format="short", locale=babel_locale(language))
    return f"{date}, {clock}" if language != "fr" else f"{date} à {clock}"


def format_number(value: float, language: str) -> str:
    return str(format_decimal(value, locale=babel_locale(language)))
