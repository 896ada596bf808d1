"""/newmeeting: a guided flow with sensible defaults, a preview of the invitation, one confirm."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.callbacks import int_value
from bot.context import BotContext
from bot.delivery.meeting_notices import meeting_facts
from bot.handlers.access import identify
from bot.services import timefmt
from bot.services.ics import localized
from bot.services.meetings import TITLE_MAX, MeetingRequest, clean_description, clean_url
from bot.services.permissions import Permission, allows, themes_of
from bot.services.registration import InputError, clean_text
from bot.steps import Choice, Press, Step, StepFlow, StepList, StepView
from storage.models import AudienceFilter, Conversation, Meeting

FLOW = "newmtg"
LANGUAGES = ("es", "en", "fr")
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_DURATIONS = ("60", "90", "120")
_REMINDERS = ("24h,1h", "1h", "none")
# Review-screen edit buttons: (step key, label key); titles in the other languages come last.
EDITS = (
    ("title", "mtgc.edit.title"),
    ("when", "mtgc.edit.when"),
    ("duration", "mtgc.edit.duration"),
    ("venue", "mtgc.edit.venue"),
    ("link", "mtgc.edit.link"),
    ("capacity", "mtgc.edit.capacity"),
    ("description", "mtgc.edit.description"),
    ("reminders", "mtgc.edit.reminders"),
)
# Which step to ask again when the final check refuses a value.
_STEP_OF_ERROR = {
    "meeting.error.past": "when",
    "meeting.error.when_format": "when",
    "meeting.error.dst_gap": "when",
    "meeting.error.dst_fold": "when",
    "meeting.error.where": "venue",
    "meeting.error.deadline": "deadline",
    "meeting.error.link": "link",
    "meeting.error.capacity": "capacity",
}

Now = Callable[[], datetime]


def _q(key: str, **values: Any) -> Callable[[StepView], str]:
    return lambda v: v.texts.get(v.language, key, **values)


def _zone(view: StepView) -> str:
    return str(view.values.get("zone") or view.extra.get("zone", "UTC"))


def _zone_text(zone: str, language: str) -> str:
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
        start = timefmt.parse_local(raw, _zone(view))
        if start <= now():
            raise InputError("meeting.error.past")
        return timefmt.wall_clock(start, _zone(view))

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
        moment = timefmt.parse_local(raw, _zone(view))
        start = timefmt.parse_local(str(view.values.get("when", "")), _zone(view))
        if moment <= now() or moment > start:
            raise InputError("meeting.error.deadline")
        return timefmt.wall_clock(moment, _zone(view))

    return parse


def _parse_reminders(raw: str, view: StepView) -> str:
    offsets = timefmt.parse_offsets(raw)
    return ",".join(timefmt.format_offset(value) for value in offsets) or "none"


def _own_places(view: StepView) -> list[Choice]:
    """The organiser's own province/state and city, one press away."""
    options = []
    for key in ("region", "city"):
        place = view.extra.get(key)
        if place:
            options.append(Choice(str(place), "📍 " + str(place)))
    return options


def _places(value: object) -> dict[str, list[str]]:
    """The audience of a local meeting, whether typed (parsed) or pressed (a region or city)."""
    if isinstance(value, str):
        return _parse_places(value, None)
    return value if isinstance(value, dict) else {}


def _parse_places(raw: str, view: StepView | None) -> dict[str, list[str]]:
    regions: list[str] = []
    cities: list[str] = []
    for part in re.split(r"[,;\n]", raw):
        item = part.strip()
        if not item:
            continue
        if _REGION.match(item.upper()) and "-" in item:
            regions.append(item.upper())
        else:
            cities.append(clean_text(item, 100))
    if not regions and not cities:
        raise InputError("mtgc.error.places")
    return {"regions": regions, "cities": cities}


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


def _keep_zone(view: StepView) -> list[Choice]:
    zone = str(view.extra.get("zone", "UTC"))
    label = view.texts.plain(view.language, "mtgc.zone.keep", zone=_zone_text(zone, view.language))
    others = [
        Choice(other, "🕒 " + _zone_text(other, view.language))
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


def steps(now: Now) -> StepList:
    """The questions, in the order an organiser in a hurry answers them."""
    when_question = lambda v: v.texts.get(  # noqa: E731
        v.language, "mtgc.ask.when", zone=_zone_text(_zone(v), v.language)
    )
    deadline_question = lambda v: v.texts.get(  # noqa: E731
        v.language, "mtgc.ask.deadline", zone=_zone_text(_zone(v), v.language)
    )
    title_in = [
        Step(
            f"title_{language}",
            "text",
            _q(f"mtgc.ask.title_{language}"),
            _parse_title,
            optional=True,
            next=lambda v: None,
        )
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
            Step("when", "text", when_question, _parse_when(now)),
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
            Step("deadline", "text", deadline_question, _parse_deadline(now), optional=True),
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
            *title_in,
        ]
    )


def _zone_question(view: StepView) -> str:
    zone = str(view.extra.get("zone", "UTC"))
    return view.texts.get(view.language, "mtgc.ask.zone", zone=_zone_text(zone, view.language))


# ---- from answers to a request, a preview and a meeting --------------------------------------


def request_of(values: dict[str, Any], language: str) -> MeetingRequest:
    """The answers as the service's request (validation happens there, once, for chat and CLI)."""
    titles = {language: str(values.get("title", ""))}
    for other in LANGUAGES:
        if values.get(f"title_{other}"):
            titles[other] = str(values[f"title_{other}"])
    kind = str(values.get("kind", ""))
    theme = str(values["theme"]) if kind == "thematic" and values.get("theme") else None
    audience = AudienceFilter()
    if kind == "local":
        places = _places(values.get("places"))
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
        descriptions={language: str(values["description"])} if values.get("description") else {},
        online_url=values.get("link") or None,
        venue=values.get("venue") or None,
        capacity=values.get("capacity"),
        rsvp_deadline=values.get("deadline") or None,
        reminders="" if reminders == "none" else reminders,
        audience=audience,
        theme=theme,
    )


def preview_meeting(fields: dict[str, Any], created_by: str, now: datetime) -> Meeting:
    """An unsaved meeting from validated fields, to show exactly what members will read."""
    return Meeting.model_validate(
        {
            **fields,
            "id": 0,
            "status": "scheduled",
            "sequence": 0,
            "checkin_code": "-",
            "created_by": created_by,
            "created_at": now,
            "minutes": None,
            "minutes_file_id": None,
            "alert_level": 0,
        }
    )


class NewMeeting:
    """The /newmeeting flow: its steps, the review screen and the one write at the end."""

    def __init__(self, now: Now) -> None:
        self.flow = StepFlow(
            FLOW, steps(now), self.review, on_extra=self.on_extra, cancel_key="mtgc.cancelled"
        )

    async def review(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Validate everything, then show the invitation as members will see it, and the choices."""
        services = context.services
        texts = services.texts
        language = str(conversation.state.get("language", "es"))
        values = dict(conversation.state.get("values", {}))
        request = request_of(values, language)
        try:
            fields, _ = services.meetings.validate(request)
        except InputError as error:
            await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
            step = _STEP_OF_ERROR.get(error.key, "title")
            await self.flow.jump(message, context, conversation, step)
            return
        meeting = preview_meeting(fields, "-", services.clock.now())
        count = await services.meetings.audience_size(meeting.audience)
        lines = [texts.get(language, "mtgc.preview.header"), ""]
        lines.append(
            texts.get(language, "meeting.invite.title", title=localized(meeting.titles, language))
        )
        lines.append("")
        lines.extend(meeting_facts(texts, meeting, language, meeting.zone))
        if meeting.capacity is not None:
            lines.append(
                texts.get(
                    language,
                    "meeting.notice.seats_left",
                    left=meeting.capacity,
                    capacity=meeting.capacity,
                )
            )
        if meeting.rsvp_deadline is not None:
            when = timefmt.format_meeting_moment(meeting.rsvp_deadline, meeting.zone, language)
            lines.append(texts.get(language, "meeting.notice.deadline", when=when))
        lines += ["", texts.get(language, "meeting.notice.ask"), "", "―――"]
        reminders = ", ".join(timefmt.format_offset(value) for value in meeting.reminders)
        lines.append(texts.get(language, "mtgc.preview.reminders", reminders=reminders or "—"))
        lines.append(texts.get(language, "mtgc.preview.count", count=count))
        seq = int(conversation.state.get("seq", 0)) + 1
        await services.conversations.save(
            conversation.telegram_id, FLOW, "", {**conversation.state, "seq": seq}
        )
        await message.chat.send_message(
            "\n".join(lines), reply_markup=self._markup(context, language, seq)
        )

    def _markup(self, context: BotContext, language: str, seq: int) -> InlineKeyboardMarkup:
        texts = context.services.texts

        def button(key: str, action: str, index: int | None = None, **values: Any) -> Any:
            data = Press(FLOW, seq, action, index).encode()
            return InlineKeyboardButton(texts.plain(language, key, **values), callback_data=data)

        rows = [[button("mtgc.button.create", "k", 0)]]
        edits = [button(key, "k", index + 1) for index, (_, key) in enumerate(EDITS)]
        rows.extend(edits[i : i + 2] for i in range(0, len(edits), 2))
        others = [other for other in LANGUAGES if other != language]
        rows.append(
            [
                button(
                    "mtgc.edit.title_in",
                    "k",
                    len(EDITS) + 1 + LANGUAGES.index(other),
                    lang_name=texts.plain(language, f"mtgc.language.{other}"),
                )
                for other in others
            ]
        )
        rows.append([button("steps.cancel", "x")])
        return InlineKeyboardMarkup(rows)

    async def on_extra(
        self,
        query: CallbackQuery,
        context: BotContext,
        conversation: Conversation,
        index: int | None,
    ) -> str | None:
        message = query.message
        if not isinstance(message, Message) or index is None or conversation.step != "":
            return context.services.texts.plain(
                str(conversation.state.get("language", "es")), "error.button_unknown"
            )
        if 1 <= index <= len(EDITS):
            await close_buttons(message)
            await self.flow.jump(message, context, conversation, EDITS[index - 1][0])
            return None
        if len(EDITS) < index <= len(EDITS) + len(LANGUAGES):
            await close_buttons(message)
            language = LANGUAGES[index - len(EDITS) - 1]
            await self.flow.jump(message, context, conversation, f"title_{language}")
            return None
        if index == 0:
            await close_buttons(message)
            await self.create(message, context, conversation)
            return None
        return None

    async def create(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """The only write: meeting, reminders, invitations — once the organiser said so."""
        services = context.services
        texts = services.texts
        language = str(conversation.state.get("language", "es"))
        request = request_of(dict(conversation.state.get("values", {})), language)
        member = await services.registration.member(conversation.telegram_id)
        if not await may_create(
            context, member, conversation.telegram_id, request.kind, request.theme
        ):
            await services.conversations.end(conversation.telegram_id, FLOW)
            await message.chat.send_message(texts.get(language, "error.not_allowed"))
            return
        actor = await services.people.actor_of(conversation.telegram_id)
        try:
            meeting = await services.meetings.create(request, actor)
        except InputError as error:
            await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
            await self.review(message, context, conversation)
            return
        await services.conversations.end(conversation.telegram_id, FLOW)
        invited = await services.meetings.invite(meeting)
        services.wake_delivery()
        if services.reminders is not None:
            await services.reminders.sync_meeting(meeting.id)
        await message.chat.send_message(
            texts.get(
                language,
                "mtgc.created",
                id=meeting.id,
                count=invited,
                code=meeting.checkin_code,
            )
        )


async def may_create(
    context: BotContext, member: Any, telegram_id: int, kind: str, theme: str | None
) -> bool:
    """Coordinators, staff and admins any kind; focal points thematic meetings of their theme."""
    grants = await context.services.permissions.grants(member, telegram_id)
    if allows(grants, Permission.MANAGE_MEETINGS):
        return True
    return kind == "thematic" and theme is not None and theme in themes_of(grants)


async def start_new_meeting(update: Update, context: BotContext, flow: StepFlow) -> None:
    """/newmeeting: only those who may organise; focal points are offered their own themes."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    grants = await services.permissions.grants(member, user.id)
    if allows(grants, Permission.MANAGE_MEETINGS):
        kinds = ["national", "local", "thematic"]
        themes = list(services.config.programme.thematic_groups)
    else:
        themes = sorted(themes_of(grants) & set(services.config.programme.thematic_groups))
        kinds = ["thematic"] if themes else []
    if not kinds:
        await message.chat.send_message(services.texts.get(language, "mtgc.not_allowed"))
        return
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    await message.chat.send_message(services.texts.get(language, "mtgc.intro"))
    await flow.begin(
        message,
        context,
        user.id,
        language,
        extra={
            "kinds": kinds,
            "themes": themes,
            "zone": zone,
            "region": f"{member.country}-{member.region}" if member and member.region else None,
            "city": member.city if member else None,
        },
        values={"zone": zone},
    )


async def close_buttons(message: Message) -> None:
    """Take the buttons off an answered screen, so it cannot be answered twice."""
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(None)
