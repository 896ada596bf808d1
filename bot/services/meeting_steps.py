"""/newmeeting's questions as data: what each asks, what typed text becomes, what comes next.

Telegram-free (like registration's table): the chat flow in `bot.handlers.meeting_create` runs
these steps on the engine and builds the service's `MeetingRequest` from the answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.callbacks import int_value
from bot.services import regions, timefmt, typed_dates
from bot.services.errors import InputError, clean_text
from bot.services.meetings import TITLE_MAX, MeetingRequest, clean_description, clean_url
from bot.services.stepkit import Choice, Step, StepList, StepView
from storage.models import AudienceFilter

LANGUAGES = ("es", "en", "fr")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_DURATIONS = ("60", "90", "120")
_REMINDERS = ("24h,1h", "1h", "none")
# Review-screen edit buttons: (step key, label key); titles and descriptions in the other
# languages come after them (see TRANSLATIONS).
EDITS = (
    ("title", "mtgc.edit.title"),
    ("when", "mtgc.edit.when"),
    ("duration", "mtgc.edit.duration"),
    ("venue", "mtgc.edit.venue"),
    ("link", "mtgc.edit.link"),
    ("capacity", "mtgc.edit.capacity"),
    ("description", "mtgc.edit.description"),
    ("reminders", "mtgc.edit.reminders"),
    ("audience", "mtgc.edit.audience"),  # the step depends on the kind: see `audience_step`
    ("deadline", "mtgc.edit.deadline"),
    ("zone", "mtgc.edit.zone"),
)
# The texts a meeting has in each language: (step prefix, label key of its review button).
TRANSLATED = (("title", "mtgc.edit.title_in"), ("description", "mtgc.edit.description_in"))
# Which step to ask again when the final check refuses a value.
STEP_OF_ERROR = {
    "meeting.error.past": "when",
    "meeting.error.when_format": "when",
    "meeting.error.dst_gap": "when",
    "meeting.error.dst_fold": "when",
    "meeting.error.where": "venue",
    "meeting.error.deadline": "deadline",
    "meeting.error.link": "link",
    "meeting.error.capacity": "capacity",
}
# The zones most of the diaspora lives in, offered as buttons after the organiser's own.
COMMON_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Vancouver",
    "America/El_Salvador",
)

Now = Callable[[], datetime]


def _q(key: str, **values: Any) -> Callable[[StepView], str]:
    return lambda v: v.texts.get(v.language, key, **values)


def zone_of(view: StepView) -> str:
    return str(view.values.get("zone") or view.extra.get("zone", "UTC"))


def zone_text(zone: str, language: str) -> str:
    return timefmt.zone_name(zone, language, with_city=True)


# ---- parsers: each refuses with a catalog key the engine shows before asking again ----------


def _parse_title(raw: str, view: StepView) -> str:
    return clean_text(raw, TITLE_MAX, need_letter=False)


def _parse_description(raw: str, view: StepView) -> str:
    return clean_description(raw)


def _parse_zone(raw: str, view: StepView) -> str:
    return timefmt.zone_info(raw.strip()).key


def _parse_when(now: Now) -> Callable[[str, StepView], str]:
    def parse(raw: str, view: StepView) -> str:
        start = typed_dates.parse_when(raw, zone_of(view), now(), view.language)
        if start <= now():
            raise InputError("meeting.error.past")
        return timefmt.wall_clock(start, zone_of(view))

    return parse


def _parse_duration(raw: str, view: StepView) -> str:
    text = raw.strip().lower()
    number = int_value(text)
    minutes = number if number is not None else timefmt.parse_duration(text)
    if minutes <= 0 or minutes > 24 * 60:
        raise InputError("meeting.error.duration_long")
    return str(minutes)


def _parse_link(raw: str, view: StepView) -> str:
    url = clean_url(raw)
    if url is None:
        raise InputError("meeting.error.link")
    return url


def _parse_venue(raw: str, view: StepView) -> str:
    return clean_text(raw, 200)


def _parse_capacity(raw: str, view: StepView) -> int:
    capacity = int_value(raw.strip())
    if capacity is None or capacity <= 0 or capacity > 1_000_000:
        raise InputError("meeting.error.capacity")
    return capacity


def _parse_deadline(now: Now) -> Callable[[str, StepView], str]:
    def parse(raw: str, view: StepView) -> str:
        moment = typed_dates.parse_when(raw, zone_of(view), now(), view.language, end_of_day=True)
        start = timefmt.parse_local(str(view.values.get("when", "")), zone_of(view))
        if moment <= now() or moment > start:
            raise InputError("meeting.error.deadline")
        return timefmt.wall_clock(moment, zone_of(view))

    return parse


def _parse_reminders(raw: str, view: StepView) -> str:
    offsets = timefmt.parse_offsets(raw)
    return ",".join(timefmt.format_offset(value) for value in offsets) or "none"


def _own_places(view: StepView) -> list[Choice]:
    """What was understood of a refused answer, then the organiser's own province/state and
    city, each one press away."""
    options = []
    kept = view.extra.get("places_kept")
    if kept:
        label = view.texts.plain(view.language, "mtgc.places.keep", places=str(kept))
        options.append(Choice(str(kept), label))
    for key in ("region", "city"):
        place = view.extra.get(key)
        if place:
            options.append(Choice(str(place), "📍 " + str(place)))
    return options


def places_of(value: object) -> dict[str, list[str]]:
    """The audience of a local meeting, whether typed (parsed) or pressed (a region or city)."""
    if isinstance(value, str):
        return _parse_places(value, None)
    return value if isinstance(value, dict) else {}


def _parse_places(raw: str, view: StepView | None) -> dict[str, list[str]]:
    """States and provinces (any way /broadcast reads them), else cities; a state-like code of
    none we know is set aside as unknown (cities are checked against members once stored)."""
    codes: list[str] = []
    cities: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[,;\n]", raw):
        item = part.strip()
        if not item:
            continue
        code = regions.code_of(item)
        if code is not None:
            codes.append(code)
        elif _REGION.match(item.upper()):
            unknown.append(item)
        else:
            cities.append(clean_text(item, 100))
    if not codes and not cities and not unknown:
        raise InputError("mtgc.error.places")
    return {"regions": list(dict.fromkeys(codes)), "cities": cities, "unknown": unknown}


def places_text(value: object) -> str:
    """An audience in words: "El Paso — Texas (US-TX)", "Québec (CA-QC)", "Houston"."""
    places = places_of(value)
    names = []
    for code in places.get("regions", ()):
        country, _, short = code.partition("-")
        found = regions.region(country, short)
        names.append(f"{found.name} ({code})" if found else code)
    cities = ", ".join(places.get("cities", ()))
    if cities and names:
        return f"{cities} — {', '.join(names)}"
    return cities or ", ".join(names)


def audience_step(values: Mapping[str, Any]) -> str:
    """Which question says who is invited: the places, the theme, or (national) the kind."""
    kind = values.get("kind")
    return "places" if kind == "local" else "theme" if kind == "thematic" else "kind"


# ---- choices ------------------------------------------------------------------------------


def _kinds(view: StepView) -> list[Choice]:
    return [
        Choice(kind, view.texts.plain(view.language, f"mtgc.kind.{kind}"))
        for kind in view.extra.get("kinds", [])
    ]


def _themes(view: StepView) -> list[Choice]:
    return [
        Choice(key, view.texts.label(view.language, "theme", key))
        for key in view.extra.get("themes", [])
    ]


def _keep_zone(view: StepView) -> list[Choice]:
    zone = str(view.extra.get("zone", "UTC"))
    label = view.texts.plain(view.language, "mtgc.zone.keep", zone=zone_text(zone, view.language))
    others = [
        Choice(other, "🕒 " + zone_text(other, view.language))
        for other in COMMON_ZONES
        if other != zone
    ]
    return [Choice(zone, label), *others]


def _durations(view: StepView) -> list[Choice]:
    return [
        Choice(value, view.texts.plain(view.language, "mtgc.duration.minutes", minutes=value))
        for value in _DURATIONS
    ]


def _reminder_choices(view: StepView) -> list[Choice]:
    return [
        Choice(value, view.texts.plain(view.language, f"mtgc.reminders.{index}"))
        for index, value in enumerate(_REMINDERS)
    ]


def _after_kind(view: StepView) -> str:
    return "theme" if view.values.get("kind") == "thematic" else "title"


def _after_reminders(view: StepView) -> str | None:
    return "places" if view.values.get("kind") == "local" else None


def _zone_question(view: StepView) -> str:
    zone = str(view.extra.get("zone", "UTC"))
    return view.texts.get(view.language, "mtgc.ask.zone", zone=zone_text(zone, view.language))


def _dated_question(key: str, now: Now) -> Callable[[StepView], str]:
    """A question about a date, with an example computed from the clock (never a stale date)."""

    def question(view: StepView) -> str:
        zone = zone_of(view)
        return view.texts.get(
            view.language,
            key,
            zone=zone_text(zone, view.language),
            example=typed_dates.typing_example(now(), zone, view.language),
        )

    return question


def steps(now: Now) -> StepList:
    """The questions, in the order an organiser in a hurry answers them."""
    translations = [
        Step(
            f"{prefix}_{language}",
            "text",
            _q(f"mtgc.ask.{prefix}_{language}"),
            _parse_title if prefix == "title" else _parse_description,
            optional=True,
            next=lambda v: None,
        )
        for prefix, _ in TRANSLATED
        for language in LANGUAGES
    ]
    return StepList(
        [
            Step("kind", "choice", _q("mtgc.ask.kind"), choices=_kinds, next=_after_kind),
            Step("theme", "choice", _q("mtgc.ask.theme"), choices=_themes, columns=2),
            Step("title", "text", _q("mtgc.ask.title", maximum=TITLE_MAX), _parse_title),
            Step(
                "description", "text", _q("mtgc.ask.description"), _parse_description, optional=True
            ),
            Step("zone", "choice", _zone_question, _parse_zone, _keep_zone),
            Step("when", "text", _dated_question("mtgc.ask.when", now), _parse_when(now)),
            Step(
                "duration",
                "choice",
                _q("mtgc.ask.duration"),
                _parse_duration,
                _durations,
                columns=3,
            ),
            Step("link", "text", _q("mtgc.ask.link"), _parse_link, optional=True),
            Step("venue", "text", _q("mtgc.ask.venue"), _parse_venue, optional=True),
            Step("capacity", "number", _q("mtgc.ask.capacity"), _parse_capacity, optional=True),
            Step(
                "deadline",
                "text",
                _dated_question("mtgc.ask.deadline", now),
                _parse_deadline(now),
                optional=True,
            ),
            Step(
                "reminders",
                "choice",
                _q("mtgc.ask.reminders"),
                _parse_reminders,
                _reminder_choices,
                next=_after_reminders,
            ),
            Step(
                "places",
                "choice",
                _q("mtgc.ask.places"),
                _parse_places,
                _own_places,
                next=lambda v: None,
            ),
            *translations,
        ]
    )


def _in_languages(values: dict[str, Any], prefix: str, language: str) -> dict[str, str]:
    """The text typed first (in the organiser's language) and the versions added for others."""
    texts = {language: str(values[prefix])} if values.get(prefix) else {}
    for other in LANGUAGES:
        if values.get(f"{prefix}_{other}"):
            texts[other] = str(values[f"{prefix}_{other}"])
    return texts


def request_of(values: dict[str, Any], language: str) -> MeetingRequest:
    """The answers as the service's request (validation happens there, once, for chat and CLI)."""
    titles = _in_languages(values, "title", language) or {language: ""}
    kind = str(values.get("kind", ""))
    theme = str(values["theme"]) if kind == "thematic" and values.get("theme") else None
    audience = AudienceFilter()
    if kind == "local":
        places = places_of(values.get("places"))
        audience = AudienceFilter(
            regions=tuple(places.get("regions", ())), cities=tuple(places.get("cities", ()))
        )
    elif theme is not None:
        audience = AudienceFilter(themes=(theme,))
    reminders = str(values.get("reminders", "24h,1h"))
    return MeetingRequest(
        titles=titles,
        kind=kind,
        start=str(values.get("when", "")),
        zone=str(values.get("zone", "UTC")),
        duration=f"{values.get('duration', '90')}m",
        descriptions=_in_languages(values, "description", language),
        online_url=values.get("link") or None,
        venue=values.get("venue") or None,
        capacity=values.get("capacity"),
        rsvp_deadline=values.get("deadline") or None,
        reminders="" if reminders == "none" else reminders,
        audience=audience,
        theme=theme,
    )
