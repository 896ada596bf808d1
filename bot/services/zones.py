"""Time zones as people say them, in their language: 'hora del Pacífico (Los Ángeles)'."""

from __future__ import annotations

from babel.dates import get_timezone_name

from bot.services.timefmt import TimeInputError, zone_city, zone_info, zone_name


def spoken_zone(zone: str, language: str) -> str:
    """The zone's everyday name with its example city; never the IANA key a person never uses."""
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
    return f"{name} ({zone_city(zone, language)})"
