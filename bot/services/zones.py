"""Time zones as people say them, in their language: 'hora del Pacífico (Los Ángeles)'."""

from __future__ import annotations

from babel.dates import get_timezone_name

from bot.services.regions import region
from bot.services.timefmt import TimeInputError, zone_city, zone_info, zone_name


def spoken_zone(zone: str, language: str, city: str | None = None) -> str:
    """The zone's everyday name with a city (the member's region's own, else the zone's example
    city); never the IANA key a person never uses."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    try:
        name = zone_name(zone, language)
    except TimeInputError:  # an unknown key from old data: show it rather than fail
        return zone
    if "(" in name:
        # CLDR has no generic name for zones without daylight time (Honolulu, Whitehorse) and
        # falls back to 'United States (Honolulu) Time'; their standard name is what people say.
        standard = get_timezone_name(
            zone_info(zone), width="long", zone_variant="standard", locale=language
        )
        name = str(standard).replace(" nord-américain", "")
    return f"{name} ({city or zone_city(zone, language)})"


def member_zone(zone: str, language: str, country: str | None, region_code: str | None) -> str:
    """The zone named by a city of the member's own province or state where it has one."""
    place = region(country or "", region_code or "")
    return spoken_zone(zone, language, place.city_of(zone) if place else None)
