"""Registration's steps, each declared once: kind, question, choices, buttons, edit group, fields.

Everything else is derived from this table: the order of the path (`STEPS`), the edit groups and
the fields they may change, which steps take typed text, and the button numbers. A step's
buttons carry the step engine's data, ``v1:reg:<seq>:<action>[:<index>]`` (bot.flows.steps), where
``seq`` is the step's number here; a press whose number is not the member's current step is stale.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.i18n import Texts
from bot.services import regions
from bot.services.errors import InputError
from bot.services.stepkit import Choice
from bot.services.zones import spoken_zone
from storage.models import Association, Member

FLOW = "reg"
# The codes a province or state question gives as examples: the member's own country's.
REGION_EXAMPLES: dict[str, tuple[str, str]] = {"CA": ("ON", "QC"), "US": ("TX", "CA")}
Kind = Literal["text", "choice", "multi", "contact", "review"]
# Where a step's answer goes; the service applies it with the matching setter.
Setter = Literal[
    "name", "country", "region", "city", "zone", "association", "association_new", "sector",
    "themes", "email", "phone", "review",
]  # fmt: skip


@dataclass(frozen=True)
class ChoiceView:
    """What a step's choices depend on: the member, the programme's lists, the clock, a search."""

    texts: Texts
    language: str
    member: Member
    sectors: Sequence[str]
    themes: Sequence[str]
    now: datetime
    associations: Sequence[Association]


@dataclass(frozen=True)
class RegStep:
    """One registration question, declared once."""

    key: str
    kind: Kind
    question: str  # the catalog key of the question
    setter: Setter
    choices: Callable[[ChoiceView], Sequence[Choice]] | None = None
    # What typed text becomes (it may raise InputError); None: only buttons answer this step.
    typed: Callable[[str, ChoiceView], str] | None = None
    # Typed text searches the choices instead of answering.
    searchable: bool = False
    # The button's index: the choice's position, or (for associations) the value itself.
    index_is_value: bool = False
    columns: int = 1
    page_size: int | None = None
    optional: bool = False  # a Skip button
    # Extra buttons of the step's own (label keys), on one row under the choices.
    extras: tuple[str, ...] = ()
    # Whether the Back button shows: always, or only while editing.
    back: Literal["always", "editing", "never"] = "always"
    # The edit group this step opens, with the profile fields that group may change.
    edit_group: str | None = None
    edit_fields: tuple[str, ...] = ()
    # Steps reached only by a detour (not on the main path) name the step they belong to.
    detour_of: str | None = None
    # Skipped automatically (and filled) when the member's answers leave a single choice.
    auto_single: bool = False


def _countries(view: ChoiceView) -> list[Choice]:
    return [
        Choice(code, view.texts.get(view.language, f"country.{code}")) for code in regions.COUNTRIES
    ]


def _regions(view: ChoiceView) -> list[Choice]:
    places = regions.shown_regions(view.member.country or "US", view.language)
    return [Choice(place.code, place.name_in(view.language)) for place in places]


def _zones(view: ChoiceView) -> list[Choice]:
    place = regions.region(view.member.country or "", view.member.region or "")
    options: list[Choice] = []
    if place is None:
        return options
    for zone in place.zones:
        clock = regions.local_time(zone, view.now).strftime("%H:%M")
        label = view.texts.get(
            view.language,
            "zone.option",
            time=clock,
            label=spoken_zone(zone, view.language, place.city_of(zone)),
        )
        options.append(Choice(zone, label))
    return options


def _fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a typed name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.replace("(", " ").replace(")", " ").split())


def _typed_zone(text: str, view: ChoiceView) -> str:
    """A typed city or name of one of the zone buttons ("El Paso", "hora central"): that zone."""
    wanted = _fold(text)
    place = regions.region(view.member.country or "", view.member.region or "")
    matched: set[str] = set()
    if wanted and place is not None:
        for zone in place.zones:
            # "hora central (Houston)": the whole, the name or the city.
            spoken = spoken_zone(zone, view.language, place.city_of(zone))
            name, _, city = spoken.partition(" (")
            if wanted in {_fold(spoken), _fold(name), _fold(city)}:
                matched.add(zone)
        labels = {choice.value: _fold(choice.label) for choice in _zones(view)}
        matched.update(zone for zone, label in labels.items() if label == wanted)
    if len(matched) != 1:
        raise InputError("error.choose_button")
    return matched.pop()


def _associations(view: ChoiceView) -> list[Choice]:
    return [Choice(str(found.id), found.name[:60]) for found in view.associations]


def _as_typed(text: str, view: ChoiceView) -> str:
    """The text itself: the service's setter checks it (a region may be typed as a code or name)."""
    return text


def _typed_country(text: str, view: ChoiceView) -> str:
    code = regions.find_country(text)
    if code is None:
        raise InputError("error.choose_button")
    return code


def _phone_typed(text: str, view: ChoiceView) -> str:
    """A typed number is refused: only Telegram's button proves the number is the member's."""
    raise InputError("error.phone_typed")


def _sectors(view: ChoiceView) -> list[Choice]:
    return [Choice(key, view.texts.label(view.language, "sector", key)) for key in view.sectors]


def _themes(view: ChoiceView) -> list[Choice]:
    return [Choice(key, view.texts.label(view.language, "theme", key)) for key in view.themes]


REGISTRATION: tuple[RegStep, ...] = (
    RegStep(
        "name", "text", "ask.name", "name", typed=_as_typed, back="editing", edit_group="name",
        edit_fields=("name",),
    ),
    RegStep(
        "country", "choice", "ask.country", "country", _countries, typed=_typed_country,
        columns=2, edit_group="place", edit_fields=("country", "region", "city", "time_zone"),
    ),
    RegStep(
        "region", "choice", "ask.region", "region", _regions, typed=_as_typed, columns=3,
        page_size=18,
    ),
    RegStep("city", "text", "ask.city", "city", typed=_as_typed),
    RegStep("zone", "choice", "ask.zone", "zone", _zones, typed=_typed_zone, auto_single=True),
    RegStep(
        "association", "choice", "ask.association", "association", _associations,
        index_is_value=True, searchable=True, extras=("button.not_listed", "button.no_association"),
        edit_group="association", edit_fields=("association_id", "association_none"),
    ),
    RegStep(
        "association_new", "text", "ask.association_new", "association_new", typed=_as_typed,
        detour_of="association",
    ),
    RegStep(
        "sector", "choice", "ask.sector", "sector", _sectors, edit_group="sector",
        edit_fields=("sector",),
    ),
    RegStep(
        "themes", "multi", "ask.themes", "themes", _themes, edit_group="themes",
        edit_fields=("themes",),
    ),
    RegStep(
        "email", "text", "ask.email", "email", typed=_as_typed, optional=True, edit_group="email",
        edit_fields=("email",),
    ),
    RegStep(
        "phone", "contact", "ask.phone", "phone", typed=_phone_typed, optional=True, back="never",
        edit_group="phone", edit_fields=("phone",),
    ),
    RegStep("summary", "review", "summary.title", "review", back="never"),
)  # fmt: skip

BY_KEY: dict[str, RegStep] = {step.key: step for step in REGISTRATION}
# The step numbers carried by buttons (1-based, stable as long as the table's order is).
SEQ: dict[str, int] = {step.key: number for number, step in enumerate(REGISTRATION, start=1)}
# The main path, in order (detours are left out).
STEPS: tuple[str, ...] = tuple(step.key for step in REGISTRATION if step.detour_of is None)
# Each edit group walks from the step that opens it to the next step that opens another.
EDIT_GROUPS: dict[str, tuple[str, ...]] = {}
EDIT_FIELDS: dict[str, tuple[str, ...]] = {}
for _position, _step in enumerate(STEPS):
    _opened = BY_KEY[_step]
    if _opened.edit_group is None:
        continue
    _walk = [_step]
    for _following in STEPS[_position + 1 :]:
        if BY_KEY[_following].edit_group is not None or _following == "summary":
            break
        _walk.append(_following)
    EDIT_GROUPS[_opened.edit_group] = tuple(_walk)
    EDIT_FIELDS[_opened.edit_group] = _opened.edit_fields
EDITABLE: tuple[str, ...] = tuple(EDIT_GROUPS)


def seq_of(step: str | None) -> int:
    """The button number of the member's current step (a profile shown after an edit: review)."""
    return SEQ[step if step is not None and step in SEQ else "summary"]


def group_of(step: str) -> str:
    """The step a detour belongs to, or the step itself."""
    found = BY_KEY.get(step)
    return found.detour_of if found is not None and found.detour_of else step
