"""Translation catalogs (gettext .po, read with Babel) and locale-aware formatting."""

from __future__ import annotations

import html
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES: tuple[str, ...] = ("es", "en", "fr")
FALLBACK = "es"


def pick_language(code: str | None, default: str = FALLBACK) -> str:
    """Map a Telegram language_code (e.g. 'fr-CA') to one of ours; unknown -> default."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return default


class Texts:
    """Every string a person sees, keyed; the member's language chooses the catalog."""

    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self._catalogs = catalogs

    @classmethod
    def load(cls) -> Texts:
        catalogs: dict[str, dict[str, str]] = {}
        root = resources.files("bot").joinpath("locales")
        for language in LANGUAGES:
            # One catalog per flow (messages.po, meetings.po...), merged; a key lives in one only.
            merged: dict[str, str] = {}
            folder = root.joinpath(language, "LC_MESSAGES")
            for entry in sorted(folder.iterdir(), key=lambda item: item.name):
                if not entry.name.endswith(".po"):
                    continue
                with entry.open("rb") as handle:
                    catalog = read_po(handle, locale=language)
                for message in catalog:
                    if not message.id or not message.string:
                        continue
                    key = str(message.id)
                    if key in merged:
                        raise ValueError(f"{language}/{entry.name}: key {key!r} defined twice")
                    merged[key] = str(message.string)
            catalogs[language] = merged
        return cls(catalogs)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogs[language])

    def has(self, language: str, key: str) -> bool:
        return key in self._catalogs.get(language, {})

    def get(self, language: str, key: str, **values: Any) -> str:
        """The text for key; values are HTML-escaped unless wrapped in Markup."""
        catalog = self._catalogs.get(language) or self._catalogs[FALLBACK]
        template = catalog.get(key) or self._catalogs[FALLBACK].get(key) or key
        if not values:
            return template
        escaped = {
            name: value.text if isinstance(value, Markup) else html.escape(str(value), quote=False)
            for name, value in values.items()
        }
        return template.format(**escaped)

    def plain(self, language: str, key: str, **values: Any) -> str:
        """The text for key with values inserted as they are (for button labels, not HTML)."""
        catalog = self._catalogs.get(language) or self._catalogs[FALLBACK]
        template = catalog.get(key) or self._catalogs[FALLBACK].get(key) or key
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
    return format_datetime(moment, format=fmt, tzinfo=ZoneInfo(zone), locale=language)


def format_meeting_time(moment: datetime, zone: str, language: str) -> str:
    """Date and hour:minute (no seconds) in the zone, in the locale's order: '5 dic 2099, 18:00'."""
    local = moment.astimezone(ZoneInfo(zone))
    date = format_date(local, format="medium", locale=language)
    clock = format_time(local, format="short", locale=language)
    return f"{date}, {clock}" if language != "fr" else f"{date} à {clock}"


def format_number(value: float, language: str) -> str:
    return str(format_decimal(value, locale=language))
