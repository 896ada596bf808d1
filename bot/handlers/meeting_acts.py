"""An organiser's typed actions on a meeting: a new date and time, or the minutes (text or file)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Message

from bot import flows
from bot.context import BotContext
from bot.flows.steps import Choice, Step, StepFlow, StepList, StepView
from bot.handlers.access import refuse
from bot.handlers.meeting_member import when_text
from bot.handlers.meeting_people import may_manage
from bot.language import conversation_language, person_language
from bot.services import timefmt, typed_dates
from bot.services.errors import InputError
from bot.services.meeting_rules import clean_description
from bot.services.permissions import Permission
from storage.models import Conversation, Meeting

FLOW = "mtgact"
Now = Callable[[], datetime]
# Refusals no new answer can mend: the act ends with the reason instead of asking again.
FINAL = frozenset(
    {
        "meeting.refuse.unknown",
        "meeting.refuse.cancelled",
        "meeting.refuse.past",
        "meeting.minutes.too_early",
    }
)


def _parse_when_zone(now: Now) -> Callable[[str, StepView], dict[str, str]]:
    """A new start as people type it, optionally followed by another zone ('… America/Denver')."""

    def parse(raw: str, view: StepView) -> dict[str, str]:
        text, _, last = raw.strip().rpartition(" ")
        zone = str(view.extra.get("zone", "UTC"))
        if "/" in last and text:
            zone = timefmt.zone_info(last).key
        else:
            text = raw
        start = typed_dates.parse_when(text, zone, now(), view.language)
        if start <= now():
            raise InputError("meeting.error.past")
        return {"start": timefmt.wall_clock(start, zone), "zone": zone}

    return parse


def _confirm_question(now: Now) -> Callable[[StepView], str]:
    """The new time said back in words (with the year when not this year), before anyone is
    told: a typo must not reach every member."""

    def question(view: StepView) -> str:
        typed = view.values.get("reschedule") or {}
        zone = str(typed.get("zone") or view.extra.get("zone", "UTC"))
        moment = timefmt.parse_local(str(typed.get("start", "")), zone)
        when = timefmt.format_meeting_moment(
            moment, zone, view.language, with_year=moment.year != now().year
        )
        title = str(view.extra.get("title", ""))
        return view.texts.get(view.language, "mtg.reschedule.confirm", title=title, when=when)

    return question


def _confirm_choices(view: StepView) -> list[Choice]:
    return [
        Choice(value, view.texts.plain(view.language, f"mtg.reschedule.{value}"))
        for value in ("yes", "again")
    ]


def _parse_minutes(raw: str, view: StepView) -> str:
    return clean_description(raw)


def act_steps(now: Now) -> StepList:
    def question(key: str) -> Any:
        return lambda v: v.texts.get(
            v.language,
            key,
            title=str(v.extra.get("title", "")),
            zone=timefmt.zone_name(str(v.extra.get("zone", "UTC")), v.language, with_city=True),
            example=typed_dates.typing_example(now(), str(v.extra.get("zone", "UTC")), v.language),
        )

    done = lambda v: None  # noqa: E731
    return StepList(
        [
            Step("reschedule", "text", question("mtg.ask.reschedule"), _parse_when_zone(now)),
            Step(
                "confirm",
                "choice",
                _confirm_question(now),
                choices=_confirm_choices,
                columns=2,
                next=lambda v: "reschedule" if v.values.get("confirm") == "again" else None,
            ),
            Step("minutes", "text", question("mtg.ask.minutes"), _parse_minutes, next=done),
        ]
    )


def acts_flow(now: Now) -> flows.Flow:
    """The organiser's typed actions: a new time, or the minutes typed or sent as a file."""

    async def done(message: Message, context: BotContext, conversation: Conversation) -> None:
        await perform(message, context, conversation, engine)

    async def document(message: Message, context: BotContext, conversation: Conversation) -> None:
        await minutes_file(message, context, conversation, engine)

    engine = StepFlow(FLOW, act_steps(now), done, cancel_key="mtg.act.cancelled")
    return flows.Flow(engine, on_document=document)


async def perform(
    message: Message, context: BotContext, conversation: Conversation, acts: StepFlow
) -> None:
    """Do what the organiser typed; a refusal asks the same question again."""
    services = context.services
    texts = services.texts
    state = conversation.state
    language = person_language(context, state.get("language"))
    extra = dict(state.get("extra", {}))
    values = dict(state.get("values", {}))
    meeting_id = int(extra.get("meeting_id", 0))
    step = next((key for key in ("reschedule", "minutes", "minutes_file") if key in values), "")
    member = await services.registration.member(conversation.telegram_id)
    grants = await services.permissions.grants(member, conversation.telegram_id)
    meeting = await services.meetings.get(meeting_id)
    await services.conversations.end(conversation.telegram_id, FLOW)
    if meeting is None or not may_manage(grants, meeting):
        await refuse(
            context, message, conversation.telegram_id, language, Permission.MANAGE_MEETINGS.value
        )
        return
    actor = await services.people.actor_of(conversation.telegram_id)
    try:
        text = await _apply(context, meeting, step, values.get(step), actor, language)
    except InputError as error:
        await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
        if error.key in FINAL:
            return
        if step == "minutes_file":
            step = "minutes"
        await acts.begin(message, context, conversation.telegram_id, language, extra=extra, at=step)
        return
    await message.chat.send_message(text)


async def _apply(
    context: BotContext, meeting: Meeting, step: str, value: Any, actor: str, language: str
) -> str:
    services = context.services
    texts = services.texts
    if step == "reschedule":
        updated = await services.meetings.reschedule(
            meeting.id, value["start"], value["zone"], actor
        )
        services.wake_delivery()
        return texts.get(
            language, "mtg.reschedule.done", id=updated.id, when=when_text(updated, language)
        )
    file_id = value if step == "minutes_file" else None
    text = value if step == "minutes" else None
    await services.meetings.attach_minutes(meeting.id, text, file_id, actor)
    services.wake_delivery()
    return texts.get(language, "mtg.minutes.done", id=meeting.id)


async def minutes_file(
    message: Message, context: BotContext, conversation: Conversation, acts: StepFlow
) -> None:
    """A document sent while the minutes are asked for is the minutes file."""
    if conversation.step != "minutes" or message.document is None:
        language = conversation_language(context, conversation)
        await message.chat.send_message(context.services.texts.get(language, "error.text_expected"))
        return
    values = {"minutes_file": message.document.file_id}
    state = {**conversation.state, "values": values}
    await perform(message, context, conversation.model_copy(update={"state": state}), acts)
