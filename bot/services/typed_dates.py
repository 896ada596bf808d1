"""Dates and times as organisers type them, in es/en/fr, read on their own zone's wall clock.

"sábado 12 de diciembre 10:00", "mañana a las 18h", "Dec 12 10am", "12/12 10h" and the strict
"2026-12-05 10:00" all work. dateparser reads the words; what it would guess is refused instead:
a text without a day (a month alone, "10am") or without a time. It never reads the machine's
clock here: RELATIVE_BASE is always the injected clock's now on the organiser's wall clock, and the
day and month it would otherwise take from "today" are pinned (PREFER_*_OF_* = "first").
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import cache

from babel.dates import format_date, get_day_names
from dateparser.date import DateDataParser

from bot.services import timefmt

LANGUAGES = ("es", "en", "fr")
# The strict form, read exactly (a month 13 is refused, not swapped with the day).
_ISO = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\b")
# "10h", "18 h 30", "10h30": the French and Spanish way of writing an hour (dateparser reads
# "18h" as "18 hours").
_HOUR_H = re.compile(r"\b(\d{1,2})\s*h\s*(\d{2})?(?![\w:])", re.IGNORECASE)
# "10 de la mañana", "6 de la tarde", "8 du soir": the part of the day says am or pm.
_PART_OF_DAY = re.compile(
    r"\b(\d{1,2})(?::(\d{2}))?\s+(de la mañana|de la manana|du matin|in the morning"
    r"|de la tarde|de la noche|de l'après-midi|de l'apres-midi|du soir|in the evening)",
    re.IGNORECASE,
)
_MORNING = ("mañana", "manana", "matin", "morning")
# Words that only join ("el sábado a las 10"), which dateparser does not expect.
_FILLERS = re.compile(r"\b(?:el|al|a las|a la|le|on)\b\s*", re.IGNORECASE)
# "a las 10", "à 10", "at 10": a bare number after these is an hour, not a day.
_AT_HOUR = re.compile(
    r"\b(?:a las|a la|à|at)\s+(\d{1,2})(?::(\d{2}))?(?![\d:]|\s*(?:am|pm)\b)", re.IGNORECASE
)
_NOON = re.compile(r"\b(?:mediod[ií]a|noon|midi)\b", re.IGNORECASE)
# A number that is a day of the month: not a time ("10:00", "10am"), not a year.
_DAY_NUMBER = re.compile(r"(?<![\d:])(\d{1,2})(?![\d:]|\s*(?:am|pm|a\.m\.|p\.m\.)\b)", re.I)
_RELATIVE_DAYS = frozenset(
    {"hoy", "manana", "pasado", "today", "tomorrow", "tonight", "aujourd", "demain", "apres"}
    | {"ayer", "yesterday", "hier"}  # read, so that the caller can say it is in the past
)
# "el próximo martes", "martes próximo", "mardi prochain": dateparser reads "next" only in
# English; a weekday alone already means the coming one.
_NEXT = re.compile(r"\b(?:el\s+)?(?:pr[oó]xim[oa]|prochaine?|next)\b\s*", re.IGNORECASE)
# "12/15", "15/12/2026": day and month in figures, read here (dateparser took "12/15" in a
# day-first language as the 12th of January 2115).
_NUMERIC_DATE = re.compile(r"(?<![\d:/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d:/])")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Without a year, a date this far ahead was meant in the recent past ("27/11" on the 28th).
_NO_YEAR_AHEAD = timedelta(days=300)
_FARTHEST = timedelta(days=2 * 366)
# A second no typed time has: dateparser only reports "time" when the time it applied changed
# the base, so a typed time equal to the base's minute ("tomorrow 9am" at 9:00) would be lost.
_BASE_SECOND = 1
# Example of how each language writes a date and time to type.
_EXAMPLE_DATE = {"es": "EEEE d 'de' MMMM", "en": "MMM d", "fr": "EEEE d MMMM"}
_EXAMPLE_TIME = {"es": "10:00", "en": "10am", "fr": "10h"}


def _fold(text: str) -> str:
    """Lower case without accents, so "sábado" and "sabado" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _weekday_words() -> frozenset[str]:
    words: set[str] = set()
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for name in get_day_names(width, locale=language).values():
                words.add(_fold(str(name)).rstrip("."))
    return frozenset(words)


def _numeric_date(match: re.Match[str], language: str, today: date) -> str:
    """Day and month in figures as ISO, in the language's order, or the other when only it fits."""
    first, second = int(match.group(1)), int(match.group(2))
    month, day = (first, second) if language == "en" else (second, first)
    if month > 12 >= day:
        month, day = day, month
    year_text = match.group(3)
    if year_text:
        year = 2000 + int(year_text) if len(year_text) == 2 else int(year_text)
    else:  # the coming one, unless it was lately (then the caller says it is past)
        year = today.year + (1 if (month, day) < (today.month, today.day) else 0)
    return date(year, month, day).isoformat()  # ValueError: no such day, refused


def _normalise(text: str, language: str = "en", today: date | None = None) -> str:
    def part_of_day(match: re.Match[str]) -> str:
        suffix = "am" if any(word in match.group(3).lower() for word in _MORNING) else "pm"
        return f"{match.group(1)}:{match.group(2) or '00'}{suffix}"

    cleaned = _PART_OF_DAY.sub(part_of_day, text.strip())
    if today is not None:
        cleaned = _NUMERIC_DATE.sub(lambda m: _numeric_date(m, language, today), cleaned)
    cleaned = _NEXT.sub("", cleaned)
    cleaned = _HOUR_H.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", cleaned)
    cleaned = _AT_HOUR.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", cleaned)
    cleaned = _NOON.sub("12:00", cleaned)
    return " ".join(_FILLERS.sub("", cleaned).split())


def _names_a_day(text: str) -> bool:
    """Whether the text says which day: a number of the month, a weekday, or today/tomorrow."""
    words = set(re.findall(r"[a-z]+", _fold(text)))
    if words & (_weekday_words() | _RELATIVE_DAYS):
        return True
    return any(1 <= int(number) <= 31 for number in _DAY_NUMBER.findall(text))


def _parser(language: str, base: datetime, zone: str) -> DateDataParser:
    order = [language, *(other for other in LANGUAGES if other != language)]
    return DateDataParser(
        languages=order,
        settings={
            "PREFER_DATES_FROM": "future",
            # The bot's clock, never the machine's: without a base dateparser reads the wall clock.
            "RELATIVE_BASE": base,
            "PREFER_DAY_OF_MONTH": "first",
            "PREFER_MONTH_OF_YEAR": "first",
            "RETURN_TIME_AS_PERIOD": True,
            "TIMEZONE": zone,
            # 12/5: the 12th of May in Spanish and French, December 5 in (US) English; the date
            # understood is echoed back in words before anything goes on.
            "DATE_ORDER": "MDY" if language == "en" else "DMY",
        },
    )


def parse_when(
    text: str,
    zone: str,
    now: datetime,
    language: str = "es",
    refusal: str = "meeting.error.when_format",
    end_of_day: bool = False,
) -> datetime:
    """What an organiser typed, on `zone`'s wall clock, as a UTC instant (`refusal` if unread).

    The past is not refused here (callers say why a time is too early; a day without a year that
    fell lately is read as that past day, not as next year's); more than two years ahead is, and
    so are DST gaps and folds, as for the strict form. With `end_of_day`, a day without a time
    means its last minute (a deadline "14 de diciembre").
    """
    cleaned = (text or "").strip()
    if not cleaned or len(cleaned) > 100:
        raise timefmt.TimeInputError(refusal)
    if _ISO.match(cleaned):
        try:
            return timefmt.parse_local(cleaned, zone)
        except timefmt.TimeInputError as error:
            if error.key == "meeting.error.when_format":
                raise timefmt.TimeInputError(refusal) from None
            raise
    info = timefmt.zone_info(zone)
    base = now.astimezone(info).replace(tzinfo=None, second=_BASE_SECOND, microsecond=0)
    try:
        normalised = _normalise(cleaned, language, base.date())
    except ValueError:
        raise timefmt.TimeInputError(refusal) from None
    if not _names_a_day(normalised):
        raise timefmt.TimeInputError(refusal)
    found = _parser(language, base, info.key).get_date_data(normalised)
    moment = found.date_obj
    if moment is not None and found.period == "day" and end_of_day:
        moment = moment.replace(hour=23, minute=59)
    elif moment is None or found.period != "time":
        raise timefmt.TimeInputError(refusal)
    if moment.tzinfo is not None:  # the text named a zone ("10am EST"): its wall clock here
        moment = moment.astimezone(info).replace(tzinfo=None)
    if not _YEAR.search(cleaned) and moment - base > _NO_YEAR_AHEAD:
        with contextlib.suppress(ValueError):  # 29 February stays where it is
            moment = moment.replace(year=moment.year - 1)
    if moment - base > _FARTHEST:
        raise timefmt.TimeInputError("meeting.error.too_far")
    return timefmt.parse_local(moment.strftime("%Y-%m-%d %H:%M"), info.key)


def next_saturday_at_ten(now: datetime, zone: str) -> datetime:
    """An example meeting time that is always ahead: the coming Saturday at 10:00 (UTC)."""
    local = now.astimezone(timefmt.zone_info(zone))
    days = (5 - local.weekday()) % 7 or 7
    day = (local + timedelta(days=days)).date()
    return timefmt.parse_local(f"{day:%Y-%m-%d} 10:00", zone)


def typing_example(now: datetime, zone: str, language: str) -> str:
    """How to type the coming Saturday at 10:00 in the language: 'sábado 5 de diciembre 10:00'."""
    moment = next_saturday_at_ten(now, zone).astimezone(timefmt.zone_info(zone))
    pattern = _EXAMPLE_DATE.get(language, _EXAMPLE_DATE["en"])
    day = str(format_date(moment, pattern, locale=language))
    return f"{day} {_EXAMPLE_TIME.get(language, '10:00')}"
