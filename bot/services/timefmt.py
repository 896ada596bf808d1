"""Meeting times as people read and type them: local wall clocks, zone names, durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_location, get_timezone_name
from babel.lists import format_list
from babel.units import format_unit

from bot.i18n import babel_locale
from bot.services.errors import InputError

_WHEN = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})\s*$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
# Weekday, day and month written out, the way each language says a meeting date.
_DATE_PATTERNS = {"es": "EEEE, d 'de' MMMM", "en": "EEEE, MMMM d", "fr": "EEEE d MMMM"}
_DATE_PATTERNS_YEAR = {
    "es": "EEEE, d 'de' MMMM 'de' y",
    "en": "EEEE, MMMM d, y",
    "fr": "EEEE d MMMM y",
}
_JOINERS = {"es": "{date}, {time}", "en": "{date}, {time}", "fr": "{date} à {time}"}
OFFSET_MAX_MINUTES = 60 * 24 * 60


class TimeInputError(InputError):
    """A typed time, zone or duration was refused; ``key`` names the reason in the catalogs."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key, **values)


def zone_info(zone: str) -> ZoneInfo:
    """The IANA zone, or a refusal with the catalog key meeting.error.zone."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise TimeInputError("meeting.error.zone", zone=zone) from None


def zone_name(zone: str, language: str, with_city: bool = False) -> str:
    """The zone as people say it: 'hora del Pacífico', 'Central Time', "heure de l'Est"."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    info = zone_info(zone)
    # A clock that never changes (Saskatchewan, Arizona, Yukon) is named by its standard time:
    # "hora central" would also name Chicago's, an hour apart half the year.
    changes = (
        datetime(2026, 1, 15, tzinfo=info).utcoffset()
        != datetime(2026, 7, 15, tzinfo=info).utcoffset()
    )
    variant: Literal["generic", "standard"] = "generic" if changes else "standard"
    name = str(get_timezone_name(info, width="long", zone_variant=variant, locale=language))
    if "(" in name or ":" in name:
        # CLDR has no generic name for some zones (Honolulu) and falls back on a country and
        # city ("United States (Honolulu) Time"): the standard name says more.
        name = str(get_timezone_name(info, width="long", zone_variant="standard", locale=language))
    # CLDR's French names add "nord-américain" to tell them from Europe's; Canadians never say it.
    name = name.replace(" nord-américain", "")
    if with_city and "(" not in name:
        name = f"{name} ({zone_city(zone, language)})"
    return name


def zone_city(zone: str, language: str) -> str:
    """The zone's example city in the language: 'Los Ángeles', 'Chicago'."""
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    return str(get_timezone_location(zone_info(zone), locale=language, return_city=True))


def format_clock(moment: datetime, zone: str, language: str) -> str:
    """Only the wall-clock time in the zone, as the language's locale writes it: '8:00 a. m.',
    '8:00 AM', '08 h 00'."""
    local = moment.astimezone(zone_info(zone))
    return str(format_time(local, "short", locale=babel_locale(language)))


def format_meeting_moment(
    start_utc: datetime, zone: str, language: str, with_year: bool = False
) -> str:
    """'sábado, 5 de diciembre, 08:00, hora del Pacífico' in the member's zone and language."""
    local = start_utc.astimezone(zone_info(zone))
    patterns = _DATE_PATTERNS_YEAR if with_year else _DATE_PATTERNS
    date = str(
        format_date(local, patterns.get(language, patterns["en"]), locale=babel_locale(language))
    )
    joined = _JOINERS.get(language, _JOINERS["en"]).format(
        date=date, time=format_clock(start_utc, zone, language)
    )
    return f"{joined}, {zone_name(zone, language)}"


def wall_clock(moment: datetime, zone: str) -> str:
    """The instant as the organiser's wall clock, 'YYYY-MM-DD HH:MM' (what parse_local reads)."""
    return moment.astimezone(zone_info(zone)).strftime("%Y-%m-%d %H:%M")


def parse_local(text: str, zone: str) -> datetime:
    """'2026-12-05 10:00' on the zone's wall clock -> the UTC instant; DST gaps/folds refused."""
    info = zone_info(zone)
    match = _WHEN.match(text or "")
    if not match:
        raise TimeInputError("meeting.error.when_format")
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=info)
    except ValueError:
        raise TimeInputError("meeting.error.when_format") from None
    # A wall time that does not survive the round trip through UTC was skipped by a DST change.
    back = local.astimezone(UTC).astimezone(info)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise TimeInputError("meeting.error.dst_gap", when=text.strip())
    # Both readings of the fold give different offsets when the clock went back over this time.
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise TimeInputError("meeting.error.dst_fold", when=text.strip())
    return local.astimezone(UTC)


def parse_duration(text: str) -> int:
    """'90m', '1h30m', '2h', '1d' -> minutes (a positive whole number)."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    match = _DURATION.match(cleaned)
    if not cleaned or not match or not any(match.groups()):
        raise TimeInputError("meeting.error.duration_format")
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    total = days * 1440 + hours * 60 + minutes
    if total <= 0:
        raise TimeInputError("meeting.error.duration_format")
    return total


def parse_offsets(text: str) -> tuple[int, ...]:
    """'24h,1h,2m,1d' -> offsets in minutes before the start, largest first, no repeats."""
    if not (text or "").strip():
        return ()
    offsets: set[int] = set()
    for part in text.split(","):
        try:
            minutes = parse_duration(part)
        except TimeInputError:
            raise TimeInputError("meeting.error.reminders_format") from None
        if minutes > OFFSET_MAX_MINUTES:
            raise TimeInputError("meeting.error.reminders_format")
        offsets.add(minutes)
    return tuple(sorted(offsets, reverse=True))


def format_offset(minutes: int) -> str:
    """60 -> '1h', 1440 -> '1d', 90 -> '1h30m' (the form parse_offsets reads)."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"


def offset_in_words(minutes: int, language: str) -> str:
    """An offset as chosen: 1440 -> '24 h', 2880 -> '2 días', 90 -> '1 h 30 min'."""
    days, rest = divmod(minutes, 1440)
    if days >= 2 and not rest:
        return str(format_unit(days, "duration-day", length="long", locale=language))
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        # "h" in every language, as the reminder buttons write it (CLDR's English short is "hr").
        parts.append(f"{hours} h")
    if mins or not hours:
        parts.append(format_unit(mins, "duration-minute", length="short", locale=language))
    return " ".join(str(part) for part in parts)


def offsets_in_words(offsets: tuple[int, ...], language: str) -> str:
    """Reminder offsets as a list in the language: '24 h y 1 h', '24 h and 1 h'."""
    return str(
        format_list([offset_in_words(value, language) for value in offsets], locale=language)
    )
