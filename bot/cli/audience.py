"""The audience options of `broadcast`, `meetings create` and `surveys open`, spelled the same.

Values are checked against what exists (regions, the configured sectors and themes, approved
associations) before anything is queued: a typo must not become a notice "queued for 0 members".
"""

from __future__ import annotations

import argparse
import difflib
from typing import TYPE_CHECKING, Any

from bot.cli.common import Refusal
from bot.services import regions
from bot.services.roles import ROLES
from bot.services.typed_filters import round_name
from storage.models import AudienceFilter

if TYPE_CHECKING:
    from bot.context import Services

COUNTRY_NAMES = {"CA": "Canada", "US": "the United States"}
AUDIENCE_DESCRIPTION = (
    "Who receives it. Each option narrows the audience; repeating one widens it"
    " (--region US-TX --region US-CA). Without any: every active member."
)


def country(text: str) -> str:
    """--country in any case (checked against the choices afterwards)."""
    return text.strip().upper()


def add_audience_options(
    parser: argparse.ArgumentParser, theme_note: str = ""
) -> argparse._ArgumentGroup:
    """The "audience" group: --country --region --city --association --theme --sector --role."""
    group = parser.add_argument_group("audience", AUDIENCE_DESCRIPTION)

    def option(name: str, help_text: str, **kind: Any) -> None:
        group.add_argument(f"--{name}", action="append", default=[], help=help_text, **kind)

    option("country", "members living in this country", type=country, choices=regions.COUNTRIES)
    option("region", "province or state, as US-TX or CA-QC", metavar="CC-XX")
    option("city", "city as members typed it (case does not matter)")
    option("association", "association, by its id in the registry", type=int, metavar="ID")
    option("theme", "thematic group, a key of programme.thematic_groups" + theme_note)
    option("sector", "sector, a key of programme.sectors")
    option("role", "members holding this role", choices=ROLES)
    return group


def add_meeting_audience(container: argparse._ActionsContainer) -> None:
    """--meeting ID with --attended or --rsvp yes|maybe|no|waitlist: those who answered it."""
    container.add_argument(
        "--meeting", type=int, metavar="ID", help="only members who answered this meeting"
    )
    container.add_argument(
        "--rsvp",
        action="append",
        default=[],
        choices=("yes", "maybe", "no", "waitlist"),
        help="with --meeting: their answer (repeat for several; default yes)",
    )
    container.add_argument("--attended", action="store_true", help="with --meeting: checked in")


def meeting_answers(arguments: argparse.Namespace) -> tuple[str, ...]:
    """The answers --rsvp/--attended select; refused without --meeting."""
    answers = tuple(arguments.rsvp) + (("attended",) if arguments.attended else ())
    if answers and arguments.meeting is None:
        raise ValueError("--rsvp/--attended need --meeting")
    return answers


async def checked_audience(
    services: Services, arguments: argparse.Namespace, **extra: Any
) -> AudienceFilter:
    """The AudienceFilter the options describe, every value known; else a Refusal with a hint."""
    programme = services.config.programme
    for association in arguments.association:
        if not await services.broadcasts.association_exists(association):
            raise Refusal(f"--association {association}: no approved association has that id")
    places = tuple(dict.fromkeys(region_code(typed) for typed in arguments.region))
    countries = tuple(dict.fromkeys(arguments.country))
    for place in places:
        # Every filter narrows: a region outside the countries given would match nobody.
        if countries and place[:2] not in countries:
            raise Refusal(f"--region {place} is not in --country {' or '.join(countries)}")
    return AudienceFilter(
        countries=countries,
        regions=places,
        cities=tuple(arguments.city),
        association_ids=tuple(arguments.association),
        themes=tuple(known("theme", typed, programme.thematic_groups) for typed in arguments.theme),
        sectors=tuple(known("sector", typed, programme.sectors) for typed in arguments.sector),
        roles=tuple(arguments.role),
        **extra,
    )


def region_code(typed: str) -> str:
    """'us-tx' -> 'US-TX'; a name, a bare code or a typo is refused with the code it may mean."""
    country_code, _, code = typed.strip().upper().partition("-")
    if regions.region(country_code, code) is not None:
        return f"{country_code}-{code}"
    # A name or bare code in any of our languages ("Texas", "Tejas", "TX") has one answer.
    exact = [place for c in regions.COUNTRIES if (place := regions.find_region(c, typed))]
    names = {
        name.casefold(): place for place in regions.REGIONS for name in (place.name, *place.aliases)
    }
    close = difflib.get_close_matches(typed.strip().casefold(), list(names), n=3, cutoff=0.7)
    found = [f"{place.country}-{place.code}" for place in exact + [names[n] for n in close]]
    hint = (
        f"did you mean {' or '.join(dict.fromkeys(found))}?"
        if found
        else "use the country and the two letters, as US-TX or CA-QC"
    )
    raise Refusal(f"--region {typed!r} is not a province or state ({hint})")


def known(option: str, typed: str, allowed: tuple[str, ...]) -> str:
    """A configured key as typed, or a Refusal suggesting the closest ones."""
    if typed in allowed:
        return typed
    folded = {key.casefold(): key for key in allowed}
    close = difflib.get_close_matches(typed.strip().casefold(), list(folded), n=2, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(folded[key] for key in close)}?"
        if close
        else f"known: {', '.join(allowed)}"
    )
    raise Refusal(f"--{option} {typed!r} is not a configured {option} ({hint})")


def known_round(typed: str, rounds: tuple[str, ...], recorded: tuple[str, ...] = ()) -> str:
    """A round of `programme.rounds` as typed: its number (1 for the first) or its exact name;
    `recorded` (rounds the record already holds) are accepted too. Else a Refusal listing them."""
    if round_name(typed, rounds, recorded) is not None:
        return typed
    numbers = [str(number) for number in range(1, len(rounds) + 1)]
    listed = [f"{number} ({name})" for number, name in zip(numbers, rounds, strict=True)]
    listed += [repr(name) for name in recorded if name not in (*rounds, *numbers)]
    known_ones = ", ".join(listed) or "none: programme.rounds is empty"
    raise Refusal(f"--round {typed!r} is not a configured round (known: {known_ones})")


def describe_audience(audience: AudienceFilter) -> str:
    """The audience in words: 'region: Texas (US-TX) or Quebec (CA-QC); sector: academia'."""
    if audience.is_everyone():
        return "every active member"

    def place(code: str) -> str:
        country_code, _, region = code.partition("-")
        found = regions.region(country_code, region)
        return f"{found.name} ({code})" if found else code

    parts = [
        ("country", [COUNTRY_NAMES.get(code, code) for code in audience.countries]),
        ("region", [place(code) for code in audience.regions]),
        ("city", list(audience.cities)),
        ("association", [f"#{number}" for number in audience.association_ids]),
        ("theme", list(audience.themes)),
        ("sector", list(audience.sectors)),
        ("role", list(audience.roles)),
    ]
    words = [f"{name}: {' or '.join(values)}" for name, values in parts if values]
    if audience.meeting_id is not None:
        answers = " or ".join(
            answer if answer == "attended" else f"answered {answer}"
            for answer in audience.meeting_answers or ("yes",)
        )
        words.append(f"meeting #{audience.meeting_id}: {answers}")
    return "; ".join(words)
