"""The steps of composing a notice, as data: each screen's question and buttons, and what an answer
does to the draft (`apply`). The engine runs them (`bot.handlers.broadcast_flow`).

A step's key is the draft's ``step``: ``text:<lang>`` (its text in that language, typed),
``versions``, ``audience`` and a filter's screen (``country``... ticked from buttons; ``regions``,
``cities`` typed; ``associations`` searched), ``preview``, ``schedule`` (now or later) and
``when`` (the time, typed; typed on the ``schedule`` screen too). A typed sub-step has a Back to
the screen it came from (`PARENT`), and /cancel there goes back too: the draft stays whole.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from bot.config import ProgrammeConfig
from bot.context import BotContext
from bot.handlers.broadcast_screens import describe_audience, options
from bot.i18n import LANGUAGES, Markup, format_meeting_time
from bot.services.broadcasts import message_text, parse_send_time
from bot.services.errors import InputError
from bot.services.stepkit import Choice, Step, StepView
from bot.services.typed_dates import typing_example
from bot.services.zones import spoken_zone
from storage.models import Broadcast

TEXTS = tuple(f"text:{code}" for code in LANGUAGES)
# Filters ticked from buttons, and the audience field each one fills.
FILTERS = {"country": "countries", "sector": "sectors", "theme": "themes", "role": "roles"}
# The audience's filter buttons, and the step each opens (the typed ones wait for text).
AUDIENCE = {
    "country": "country",
    "region": "regions",
    "city": "cities",
    "sector": "sector",
    "theme": "theme",
    "role": "role",
    "association": "associations",
}
# The audience screen's own buttons under its filters: Clear, then Continue.
AUDIENCE_EXTRAS = ("bc.clear", "bc.continue")
TYPED = frozenset({*TEXTS, "regions", "cities", "associations", "when"})
# The screen a sub-step comes from: its Back button and /cancel return there, the draft intact.
PARENT = {
    "regions": "audience",
    "cities": "audience",
    "associations": "audience",
    "when": "schedule",
    "schedule": "preview",
}
# The typed sub-steps' Back button (the When screen's is one of its choices).
BACK_LABEL = {
    "audience": "bc.back_to_audience",
    "schedule": "bc.back_to_when",
    "versions": "bc.back_to_texts",
}
# Where typed text is the draft's: the typed steps, and the When screen, which takes a date typed.
LISTENING = frozenset({*TYPED, "schedule"})
ORDER = (
    *TEXTS,
    "versions",
    "audience",
    *FILTERS,
    "regions",
    "cities",
    "associations",
    "preview",
    "schedule",
    "when",
)
DEFAULT_QUIET = ("09:00", "21:00")
TICK = {True: "☑️ ", False: "⬜ "}


def parent_of(draft: Broadcast, step: str) -> str | None:
    """The screen a sub-step returns to (Back, /cancel); a version of a notice that already has
    a text returns to the versions. None: the notice's first text, or a screen of its own."""
    if step in TEXTS:
        return "versions" if draft.texts else None
    return PARENT.get(step)


def seq_of(step: str) -> int:
    """A button's question number is its screen's place here: a screen shown again (a tick, a
    refusal) keeps its buttons valid, a button of another screen is stale."""
    return ORDER.index(step) if step in ORDER else len(ORDER)


def _draft(view: StepView) -> Broadcast:
    draft = view.extra["draft"]
    assert isinstance(draft, Broadcast)
    return draft


def _programme(view: StepView) -> ProgrammeConfig:
    programme = view.extra["programme"]
    assert isinstance(programme, ProgrammeConfig)
    return programme


# ---- questions ----------------------------------------------------------------------------------
def _ask_text(code: str) -> Any:
    def question(view: StepView) -> str:
        name = view.texts.get(view.language, f"language.name.{code}")
        return view.texts.get(view.language, "bc.ask_text", lang_name=name)

    return question


def _versions(view: StepView) -> str:
    texts, language, draft = view.texts, view.language, _draft(view)
    # Every language is named in the reader's language ("inglés", not "English", in Spanish).
    versions = ", ".join(
        f"{texts.plain(language, f'language.name.{code}')} {'✓' if code in draft.texts else '—'}"
        for code in LANGUAGES
    )
    fallback = texts.get(language, f"language.name.{draft.fallback_language}")
    return texts.get(language, "bc.versions", versions=versions, fallback=fallback)


def _version_choices(view: StepView) -> list[Choice]:
    texts, language, draft = view.texts, view.language, _draft(view)
    found = []
    for code in LANGUAGES:
        key = "bc.change_version" if code in draft.texts else "bc.add_version"
        name = texts.plain(language, f"language.name.{code}")
        found.append(Choice(f"lang:{code}", texts.plain(language, key, lang_name=name)))
    return [*found, Choice("continue", texts.plain(language, "bc.continue"))]


def _audience(view: StepView) -> str:
    texts, language = view.texts, view.language
    described = Markup(describe_audience(texts, language, _draft(view)))
    count = int(view.extra.get("count", 0))
    return texts.get(language, "bc.audience", filters=described, count=count)


def _audience_choices(view: StepView) -> list[Choice]:
    return [Choice(name, view.texts.plain(view.language, f"bc.filter.{name}")) for name in AUDIENCE]


def _choose(view: StepView) -> str:
    return view.texts.get(view.language, "bc.choose")


def _filter_choices(name: str) -> Any:
    def found(view: StepView) -> list[Choice]:
        texts, language = view.texts, view.language
        ticked = [
            Choice(value, TICK[chosen] + label)
            for value, label, chosen in options(
                texts, language, _programme(view), _draft(view), name
            )
        ]
        return [*ticked, Choice("back", texts.plain(language, "bc.back_to_audience"))]

    return found


def _ask(key: str) -> Any:
    def question(view: StepView) -> str:
        return view.texts.get(view.language, key)

    return question


def _ask_when(view: StepView) -> str:
    zone, example = _zone_and_example(view)
    return view.texts.get(view.language, "bc.ask_when", zone=zone, example=example)


def _zone_and_example(view: StepView) -> tuple[str, str]:
    """The sender's zone as people say it ("hora central (Chicago)"), and a time to type."""
    zone = _draft(view).organiser_zone
    example = typing_example(view.extra["now"], zone, view.language)
    return spoken_zone(zone, view.language), example


def _preview(view: StepView) -> str:
    texts, language, draft = view.texts, view.language, _draft(view)
    when = texts.get(language, "bc.now")
    if draft.send_at is not None:
        zone = spoken_zone(draft.organiser_zone, language)
        when = f"{format_meeting_time(draft.send_at, draft.organiser_zone, language)}, {zone}"
    quiet = texts.get(language, "bc.any_time")
    if draft.quiet_start and draft.quiet_end:
        quiet = texts.get(language, "bc.quiet_window", start=draft.quiet_start, end=draft.quiet_end)
    body = html.escape(message_text(draft, language), quote=False)
    header = texts.get(language, "notice.header", programme=_programme(view).name)
    return texts.get(
        language,
        "bc.preview",
        lang_name=texts.plain(language, f"language.name.{language}"),
        message=Markup(f"{header}\n\n{body}"),
        count=int(view.extra.get("count", 0)),
        when=when,
        quiet=Markup(quiet),
        ack=texts.plain(language, "bc.yes" if draft.ask_ack else "bc.no"),
    )


def _preview_choices(view: StepView) -> list[Choice]:
    texts, language, draft = view.texts, view.language, _draft(view)
    short_when = texts.plain(language, "bc.now")
    if draft.send_at is not None:
        short_when = format_meeting_time(draft.send_at, draft.organiser_zone, language)
    quiet = TICK[draft.quiet_start is not None] + texts.plain(language, "bc.toggle_quiet")
    return [
        Choice("ack", TICK[draft.ask_ack] + texts.plain(language, "bc.toggle_ack")),
        Choice("quiet", quiet),
        # The time is a setting like the two above; only the next button sends.
        Choice("when", texts.plain(language, "bc.when_button", when=short_when)),
        Choice("send", texts.plain(language, "bc.send")),
        Choice("cancel", texts.plain(language, "bc.cancel")),
        Choice("audience", texts.plain(language, "bc.back_to_audience")),
        Choice("versions", texts.plain(language, "bc.back_to_texts")),
    ]


def _schedule(view: StepView) -> str:
    zone, example = _zone_and_example(view)
    return view.texts.get(view.language, "bc.when_title", zone=zone, example=example)


def _schedule_choices(view: StepView) -> list[Choice]:
    texts, language, later = view.texts, view.language, _draft(view).send_at is not None
    mark = {True: "✓ ", False: ""}
    return [
        Choice("now", mark[not later] + texts.plain(language, "bc.send_now")),
        Choice("at", mark[later] + texts.plain(language, "bc.schedule")),
        Choice("preview", texts.plain(language, "bc.back_to_preview")),
    ]


def _typed(text: str, view: StepView) -> str:
    """Typed text is taken as it came; the service cleans and checks it (`apply`)."""
    return text


def _typed_time(text: str, view: StepView) -> datetime:
    """A sending time typed in the sender's zone (on the When screen or its typed sub-step):
    the same words and the same checks either way; refused with the reason otherwise."""
    draft = _draft(view)
    return parse_send_time(text, draft.organiser_zone, view.extra["now"], view.language)


def steps() -> list[Step]:
    """Every screen of a notice being composed."""
    return [
        *(Step(f"text:{code}", "text", _ask_text(code), parse=_typed) for code in LANGUAGES),
        Step("versions", "choice", _versions, choices=_version_choices),
        Step("audience", "choice", _audience, choices=_audience_choices, columns=3),
        *(Step(name, "choice", _choose, choices=_filter_choices(name)) for name in FILTERS),
        Step("regions", "text", _ask("bc.ask_regions"), parse=_typed),
        Step("cities", "text", _ask("bc.ask_cities"), parse=_typed),
        # Typed text searches the associations (the flow's search); a found one is pressed.
        Step(
            "associations",
            "choice",
            _ask("bc.ask_association"),
            searchable=True,
            index_is_value=True,
        ),
        Step("preview", "choice", _preview, choices=_preview_choices),
        # The When screen: a button, or the time typed straight away.
        Step("schedule", "choice", _schedule, choices=_schedule_choices, parse=_typed_time),
        Step("when", "text", _ask_when, parse=_typed_time),
    ]


# ---- what an answer does to the draft -----------------------------------------------------------
async def apply(context: BotContext, draft: Broadcast, key: str, value: Any) -> Broadcast:
    """The answer to the screen `key` applied to the draft, which moves to its next screen;
    InputError when it cannot be taken (the engine says why and asks again)."""
    service, language = context.services.broadcasts, draft.fallback_language
    typed = str(value or "")
    nxt: str | None = None
    if key in TEXTS:
        draft = await service.set_text(draft, key.partition(":")[2], typed)
        nxt = "versions"
    elif key == "versions":
        nxt = "audience" if value == "continue" else f"text:{typed.partition(':')[2]}"
    elif key == "audience":
        nxt = AUDIENCE.get(typed)
    elif key in FILTERS and value == "back":
        nxt = "audience"
    elif key in FILTERS:
        programme = context.services.config.programme
        known = options(context.services.texts, language, programme, draft, key)
        if typed not in {found[0] for found in known}:
            raise InputError("error.button_unknown")
        draft = await service.toggle(draft, FILTERS[key], typed)
    elif key in ("regions", "cities"):
        setter = service.set_regions if key == "regions" else service.set_cities
        draft = await setter(draft, typed)
        nxt = "audience"
    elif key == "associations":
        if not typed.isdigit() or not await service.association_exists(int(typed)):
            raise InputError("error.button_unknown")
        draft = await service.toggle(draft, "association_ids", int(typed))
        nxt = "audience"
    elif key == "preview":
        return await _preview_answer(context, draft, typed)
    elif key in ("schedule", "when") and isinstance(value, datetime):
        # Parsed and checked by the step (`_typed_time`), typed on either screen.
        draft = await service.update(draft, send_at=value)
        nxt = "preview"
    elif key == "schedule" and value in ("now", "at", "preview"):
        if value == "now":
            draft = await service.update(draft, send_at=None)
        nxt = "when" if value == "at" else "preview"
    if nxt is None or nxt not in ORDER:
        return draft if key in FILTERS else _refused()
    return await service.set_step(draft, nxt)


async def _preview_answer(context: BotContext, draft: Broadcast, value: str) -> Broadcast:
    """The preview's settings change it in place; Send and Cancel end the flow (the track)."""
    service = context.services.broadcasts
    if value == "ack":
        return await service.update(draft, ask_ack=not draft.ask_ack)
    if value == "quiet":
        start, end = (None, None) if draft.quiet_start else DEFAULT_QUIET
        return await service.update(draft, quiet_start=start, quiet_end=end)
    if value == "cancel":
        return await service.update(draft, status="cancelled")
    if value == "send":
        return draft
    steps = {"when": "schedule", "audience": "audience", "versions": "versions"}
    if value not in steps:
        _refused()
    return await service.set_step(draft, steps[value])


def _refused() -> Broadcast:
    raise InputError("error.button_unknown")
