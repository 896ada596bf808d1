"""/export's filter values, pressed or typed: each typed value is checked where it is typed
(`country=Canada`, `region=Texas`, `sector=academia`, `theme=…`, `round=2`) and re-asked there
with the reason, never after the file is being made (`bot.services.typed_filters`)."""

from __future__ import annotations

from typing import Any

from bot.context import Services
from bot.flows.steps import Choice, StepView
from bot.services.errors import InputError
from bot.services.regions import region as find_region
from bot.services.typed_filters import (
    configured_key,
    country_key,
    numbered_rounds,
    region_key,
    round_name,
)

FILTERS = ("country", "region", "sector", "round")
# Typed only (no button: themes narrow proposals, which /phrases and /evidence read by theme).
TYPED = (*FILTERS, "theme")


def configured(services: Services) -> dict[str, list[str]]:
    """The configured sectors, themes and rounds, kept with the conversation for the checks."""
    programme = services.config.programme
    return {
        "sector": list(programme.sectors),
        "theme": list(programme.thematic_groups),
        "round": list(programme.rounds),
    }


def value_label(view: StepView, name: str, value: str) -> str:
    """A filter value as staff read it: Canada, QC — Quebec, a sector's name, a round as is."""
    if name == "country":
        return view.texts.plain(view.language, f"country.{value}")
    if name == "region":
        country, _, code = value.partition("-")
        found = find_region(country, code)
        return f"{code} — {found.name_in(view.language)}" if found else value
    if name in ("sector", "theme"):
        return view.texts.label(view.language, name, value)
    return value


def checked(name: str, typed: str, view: StepView) -> str:
    """The stored value a typed one names, or an InputError saying what is known."""
    cleaned = typed.strip()[:80]
    found: str | None
    known: dict[str, list[str]] = view.extra.get("configured", {})
    if name == "country":
        if (found := country_key(cleaned)) is None:
            raise InputError("export.error.country", country=cleaned)
        return found
    if name == "region":
        if (found := region_key(cleaned)) is None:
            raise InputError("export.error.region", region=cleaned)
        return found
    if name == "round":
        rounds = tuple(known.get("round", []))
        recorded = view.extra.get("options", {}).get("round", [])
        if (found := round_name(cleaned, rounds, recorded)) is None:
            listed = numbered_rounds(rounds) or "—"
            raise InputError("export.error.round", round=cleaned, known=listed)
        return found
    allowed = known.get(name, [])
    names = {key: value_label(view, name, key) for key in allowed}
    if (found := configured_key(cleaned, allowed, names)) is None:
        listed = ", ".join(f"{key} ({names[key]})" if names[key] != key else key for key in allowed)
        raise InputError(f"export.error.{name}", value=cleaned, known=listed or "—")
    return found


def parse_filter(text: str, view: StepView) -> str:
    """The typed form: key=value (country, region, sector, theme, round), or '-' for none; the
    value is checked now, so a typo is re-asked here rather than after the format and labels."""
    cleaned = text.strip()
    if cleaned in ("-", ""):
        return "none"
    key, _, value = cleaned.partition("=")
    name = key.strip().casefold()
    if name not in TYPED or not value.strip():
        raise InputError("export.error.filter")
    return f"{name}={checked(name, value, view)}"


def value_choices(view: StepView) -> list[Choice]:
    name = str(view.values.get("filter", ""))
    values = view.extra.get("options", {}).get(name, [])
    return [Choice(value, value_label(view, name, value)) for value in values]


def parse_value(text: str, view: StepView) -> Any:
    """A typed value: a button's value or label ("TX — Texas"), or what the typed filter takes
    (a region's name in any of our languages: "Texas", "Tejas", "Québec")."""
    typed = text.strip().casefold()
    for choice in value_choices(view):
        if typed in (choice.value.casefold(), choice.label.casefold()):
            return choice.value
    name = str(view.values.get("filter", ""))
    if name not in TYPED:
        raise InputError("export.error.value")
    return checked(name, text, view)
