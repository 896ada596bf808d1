"""Filter values as staff type them (chat /export, a form's caption), matched to what exists.

A country or province/state by its code or name in any of our languages (the lookup /broadcast
uses); a sector or theme by its configured key (or its shown name); a round by its number in
`programme.rounds` (1 for the first) or its exact name, as the CLI's ``--round`` takes it. Each
answers the value as stored, or None when nothing matches: the caller says why, in its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.services import regions


def country_key(typed: str) -> str | None:
    """'CA', 'ca', 'Canadá', 'États-Unis' -> 'CA' / 'US'."""
    cleaned = typed.strip()
    if cleaned.upper() in regions.COUNTRIES:
        return cleaned.upper()
    return regions.find_country(cleaned)


def region_key(typed: str) -> str | None:
    """'US-TX', 'tx', 'Texas', 'Tejas', 'Québec' -> 'US-TX' / 'CA-QC'; None when unknown, or
    when a bare code or name would be a place in both countries."""
    cleaned = typed.strip()
    prefix, dash, code = cleaned.upper().partition("-")
    if dash and prefix in regions.COUNTRIES:
        found = regions.find_region(prefix, code.strip())
        return f"{found.country}-{found.code}" if found else None
    places = {
        f"{place.country}-{place.code}"
        for country in regions.COUNTRIES
        if (place := regions.find_region(country, cleaned))
    }
    return places.pop() if len(places) == 1 else None


def configured_key(
    typed: str, allowed: Iterable[str], names: Mapping[str, str] | None = None
) -> str | None:
    """A configured key (sector, theme) typed as itself or as its shown name, case ignored."""
    wanted = typed.strip().casefold()
    for key in allowed:
        shown = (names or {}).get(key, key)
        if wanted in (key.casefold(), shown.casefold()):
            return key
    return None


def round_name(typed: str, rounds: tuple[str, ...], recorded: Iterable[str] = ()) -> str | None:
    """A round of `rounds` by its number (1 for the first) or exact name, as its name; a round
    the record already holds (`recorded`) as itself."""
    cleaned = typed.strip()
    if cleaned.isdigit() and 1 <= int(cleaned) <= len(rounds):
        return rounds[int(cleaned) - 1]
    if cleaned in rounds or cleaned in tuple(recorded):
        return cleaned
    return None


def numbered_rounds(rounds: tuple[str, ...]) -> str:
    """'1 (Round 1: diagnosis), 2 (Round 2: draft policy)': how to type each."""
    return ", ".join(f"{number} ({name})" for number, name in enumerate(rounds, start=1))
