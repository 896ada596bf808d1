"""Meetings in chat: answers to invitations, /meetings for members and organisers, check-in."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.conversation import FlowRoutes, active
from bot.delivery.meeting_notices import meeting_facts, parse_rsvp_data, rsvp_keyboard
from bot.handlers import broadcasts, common
from bot.handlers.access import identify
from bot.handlers.meeting_create import NewMeeting, close_buttons, start_new_meeting
from bot.services import timefmt
from bot.services.ics import ics_filename, localized, meeting_ics
from bot.services.meetings import CODE_ALPHABET, CODE_LENGTH, clean_description
from bot.services.permissions import Permission, allows, themes_of
from bot.services.registration import InputError
from bot.steps import Step, StepFlow, StepList, StepView
from storage.models import AudienceFilter, Conversation, Meeting, Member

ACT_FLOW = "mtgact"
CODE = re.compile(rf"^\s*[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}}\s*$")
_DATA = re.compile(r"^v1:mtg:([0-9]{1,12}):([a-zA-Z])$")
_WHEN_ZONE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2})(?:\s+(\S+))?\s*$")
ALL_MEETINGS_ROLES = frozenset({"admin", "staff", "staff_pii"})
LIST_LIMIT = 20
ATTENDEES_LIMIT = 300
PAST_SHOWN = timedelta(days=30)


def _button(label: str, meeting_id: int, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=f"v1:mtg:{meeting_id}:{action}")


def _when(meeting: Meeting, language: str, zone: str | None = None) -> str:
    return timefmt.format_meeting_moment(meeting.start_at, zone or meeting.zone, language)


# ---- answers to an invitation ----------------------------------------------------------------


async def on_rsvp(update: Update, context: BotContext) -> None:
    """Yes / Maybe / No on an invitation: stored by the service, the state told back at once."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    texts = services.texts
    member = await services.registration.member(user.id)
    language = member.language if member else services.config.programme.default_language
    parsed = parse_rsvp_data(query.data or "")
    if parsed is None or member is None:
        await query.answer(texts.plain(language, "error.button_unknown"))
        return
    meeting_id, answer = parsed
    try:
        result = await services.meetings.rsvp(meeting_id, member, answer)  # type: ignore[arg-type]
    except InputError as error:
        reason = texts.plain(language, error.key, **error.values)
        await query.answer(reason, show_alert=True)
        if isinstance(query.message, Message):
            await query.message.chat.send_message(texts.get(language, error.key, **error.values))
        return
    services.wake_delivery()
    meeting = result.meeting
    title = localized(meeting.titles, language)
    zone = member.time_zone or meeting.zone
    when = _when(meeting, language, zone)
    key = "mtg.rsvp.waitlist" if result.waitlisted else f"mtg.rsvp.{answer}"
    text = texts.get(language, key, title=title, when=when, position=result.outcome.waitlist_rank)
    await query.answer(texts.plain(language, f"mtg.rsvp.short.{answer}"))
    if not isinstance(query.message, Message):
        return
    await query.message.chat.send_message(text)
    if answer == "yes" and not result.waitlisted:
        await _send_ics(query.message, context, meeting, language)


async def _send_ics(message: Message, context: BotContext, meeting: Meeting, language: str) -> None:
    services = context.services
    data = meeting_ics(meeting, language, services.config.programme.name, services.clock.now())
    await message.chat.send_document(
        data,
        filename=ics_filename(meeting),
        caption=services.texts.get(language, "mtg.ics.caption"),
    )


# ---- /meetings -------------------------------------------------------------------------------


async def _grants(context: BotContext, member: Member | None, telegram_id: int) -> Any:
    return await context.services.permissions.grants(member, telegram_id)


def _may_manage(grants: list[tuple[str, str]], meeting: Meeting) -> bool:
    if allows(grants, Permission.MANAGE_MEETINGS):
        return True
    return meeting.kind == "thematic" and meeting.theme in themes_of(grants)


async def list_meetings(update: Update, context: BotContext) -> None:
    """/meetings: what I am invited to (with my answer) and, for organisers, what they run."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    texts = services.texts
    member, language = await identify(update, context)
    grants = await _grants(context, member, user.id)
    shown = 0
    if allows(grants, Permission.MANAGE_MEETINGS) or themes_of(grants):
        shown += await _list_managed(message, context, grants, user.id, language)
    if member is not None and member.status == "active":
        shown += await _list_invited(message, context, member)
    if shown == 0:
        await message.chat.send_message(texts.get(language, "mtg.list.empty"))


async def _list_invited(message: Message, context: BotContext, member: Member) -> int:
    services = context.services
    texts = services.texts
    language = member.language
    zone = member.time_zone or services.config.programme.default_time_zone
    shown = 0
    for meeting in await services.meetings.upcoming():
        invited, rsvp = await services.meetings.invitation(meeting, member)
        if not invited:
            continue
        lines = [
            texts.get(language, "meeting.invite.title", title=localized(meeting.titles, language))
        ]
        lines.extend(meeting_facts(texts, meeting, language, zone, rsvp))
        if rsvp is not None and rsvp.waitlist_position is not None:
            rank = await services.meetings.waitlist_rank(meeting.id, member.id)
            lines.append(texts.get(language, "meeting.notice.waitlist", position=rank or 1))
        rows = list(rsvp_keyboard(texts, language, meeting.id).inline_keyboard)
        extra = [_button(texts.plain(language, "mtg.button.ics"), meeting.id, "i")]
        if services.meetings.checkin_open(meeting) and (rsvp is None or not rsvp.checked_in_at):
            extra.append(_button(texts.plain(language, "mtg.button.here"), meeting.id, "h"))
        rows.append(tuple(extra))
        await message.chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))
        shown += 1
        if shown >= LIST_LIMIT:
            break
    return shown


async def _list_managed(
    message: Message,
    context: BotContext,
    grants: list[tuple[str, str]],
    telegram_id: int,
    language: str,
) -> int:
    services = context.services
    texts = services.texts
    actor = await services.people.actor_of(telegram_id)
    everything = any(role in ALL_MEETINGS_ROLES for role, _ in grants)
    since = services.clock.now() - PAST_SHOWN
    shown = 0
    for meeting in await services.meetings.listing(since, 200):
        mine = meeting.created_by == actor or (
            meeting.kind == "thematic" and meeting.theme in themes_of(grants)
        )
        if not (everything or mine) or not _may_manage(grants, meeting):
            continue
        await message.chat.send_message(
            await _summary(context, meeting, language),
            reply_markup=_manage_markup(texts, language, meeting),
        )
        shown += 1
        if shown >= LIST_LIMIT:
            break
    return shown


async def _summary(context: BotContext, meeting: Meeting, language: str) -> str:
    texts = context.services.texts
    counts = await context.services.meetings.counts(meeting.id)
    return "\n".join(
        [
            texts.get(
                language,
                "mtg.manage.title",
                id=meeting.id,
                title=localized(meeting.titles, language),
                when=_when(meeting, language),
            ),
            texts.get(language, f"mtg.status.{meeting.status}"),
            texts.get(
                language,
                "mtg.manage.counts",
                yes=counts.yes,
                capacity=meeting.capacity if meeting.capacity is not None else "∞",
                maybe=counts.maybe,
                no=counts.no,
                waitlist=counts.waitlist,
                attended=counts.checked_in,
            ),
            texts.get(language, "mtg.manage.code", code=meeting.checkin_code),
        ]
    )


def _manage_markup(texts: Any, language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    def button(key: str, action: str) -> InlineKeyboardButton:
        return _button(texts.plain(language, key), meeting.id, action)

    rows = [[button("mtg.button.attendees", "a"), button("mtg.button.attend", "t")]]
    if meeting.status == "scheduled":
        rows.append([button("mtg.button.reschedule", "r"), button("mtg.button.cancel", "c")])
        rows.append([button("mtg.button.notice", "b")])
    if meeting.status != "cancelled":
        rows.append([button("mtg.button.minutes", "n")])
    return InlineKeyboardMarkup(rows)


# ---- buttons on /meetings --------------------------------------------------------------------


async def on_meeting_button(update: Update, context: BotContext, acts: StepFlow) -> None:
    """Calendar again, I'm here, and the organiser's actions (each re-checks the right)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    member = await services.registration.member(user.id)
    language = member.language if member else services.config.programme.default_language
    stale = services.texts.plain(language, "error.button_unknown")
    match = _DATA.match(query.data or "")
    meeting = await services.meetings.get(int(match.group(1))) if match else None
    if match is None or meeting is None or not isinstance(query.message, Message):
        await query.answer(stale)
        return
    action = match.group(2)
    if action in ("i", "h"):
        notice = await _member_action(query, context, member, meeting, action, language)
    else:
        grants = await _grants(context, member, user.id)
        if not _may_manage(grants, meeting):
            notice = services.texts.plain(language, "error.not_allowed")
        else:
            notice = await _organiser_action(
                query, context, grants, meeting, action, language, acts
            )
    await query.answer(notice)


async def _member_action(
    query: CallbackQuery,
    context: BotContext,
    member: Member | None,
    meeting: Meeting,
    action: str,
    language: str,
) -> str | None:
    services = context.services
    assert isinstance(query.message, Message)
    if member is None:
        return services.texts.plain(language, "error.button_unknown")
    if not await services.meetings.is_invited(meeting, member):
        return services.texts.plain(language, "meeting.refuse.not_invited")
    if action == "i":
        await _send_ics(query.message, context, meeting, language)
        return None
    try:
        _, fresh = await services.meetings.check_in(member, meeting_id=meeting.id)
    except InputError as error:
        return services.texts.plain(language, error.key, **error.values)
    await query.message.chat.send_message(_checked_in_text(context, meeting, language, fresh))
    return None


def _checked_in_text(context: BotContext, meeting: Meeting, language: str, fresh: bool) -> str:
    key = "mtg.checkin.done" if fresh else "mtg.checkin.again"
    return context.services.texts.get(language, key, title=localized(meeting.titles, language))


async def _organiser_action(
    query: CallbackQuery,
    context: BotContext,
    grants: list[tuple[str, str]],
    meeting: Meeting,
    action: str,
    language: str,
    acts: StepFlow,
) -> str | None:
    services = context.services
    texts = services.texts
    message = query.message
    assert isinstance(message, Message) and query.from_user is not None
    telegram_id = query.from_user.id
    if action == "a":
        await _send_attendees(message, context, grants, meeting, language)
        return None
    if action == "c":
        confirm = _button(texts.plain(language, "mtg.button.cancel_confirm"), meeting.id, "C")
        await message.chat.send_message(
            texts.get(language, "mtg.cancel.confirm", title=localized(meeting.titles, language)),
            reply_markup=InlineKeyboardMarkup([[confirm]]),
        )
        return None
    if action == "C":
        await close_buttons(message)
        actor = await services.people.actor_of(telegram_id)
        try:
            await services.meetings.cancel(meeting.id, actor)
        except InputError as error:
            return texts.plain(language, error.key, **error.values)
        if services.reminders is not None:
            await services.reminders.sync_meeting(meeting.id)
        services.wake_delivery()
        await message.chat.send_message(texts.get(language, "mtg.cancel.done", id=meeting.id))
        return None
    if action == "b":
        # A notice to those coming (Yes), composed like any other /broadcast.
        if not allows(grants, Permission.SEND_NOTICES):
            return texts.plain(language, "error.not_allowed")
        member = await services.registration.member(telegram_id)
        audience = AudienceFilter(meeting_id=meeting.id, meeting_answers=("yes",))
        await broadcasts.open_draft(message, context, member, language, telegram_id, audience)
        return None
    steps = {"r": "reschedule", "t": "attend", "n": "minutes"}
    if action in steps:
        extra = {
            "meeting_id": meeting.id,
            "zone": meeting.zone,
            "title": localized(meeting.titles, language),
        }
        await acts.begin(message, context, telegram_id, language, extra=extra, at=steps[action])
        return None
    return texts.plain(language, "error.button_unknown")


async def _send_attendees(
    message: Message,
    context: BotContext,
    grants: list[tuple[str, str]],
    meeting: Meeting,
    language: str,
) -> None:
    """Names only to those allowed to see them; pseudonyms to everyone else."""
    services = context.services
    texts = services.texts
    names = allows(grants, Permission.EXPORT_PII)
    lines = [texts.get(language, "mtg.attendees.header", id=meeting.id)]
    for rsvp in (await services.meetings.answers(meeting.id))[:ATTENDEES_LIMIT]:
        person = await services.people.member_by_id(rsvp.member_id)
        if person is None:
            continue
        who = (person.name or person.pseudonym) if names else person.pseudonym
        state = "waitlist" if rsvp.waitlist_position is not None else rsvp.answer
        mark = " ✋" if rsvp.checked_in_at is not None else ""
        label = texts.plain(language, f"mtg.answer.{state}")
        lines.append(f"• {html.escape(who, quote=False)} — {html.escape(label, quote=False)}{mark}")
    if len(lines) == 1:
        lines.append(texts.get(language, "mtg.attendees.none"))
    await message.chat.send_message("\n".join(lines))


# ---- the organiser's typed actions: reschedule, mark attendance, minutes -----------------------


def _parse_when_zone(raw: str, view: StepView) -> dict[str, str]:
    match = _WHEN_ZONE.match(raw)
    if match is None:
        raise InputError("meeting.error.when_format")
    zone = timefmt.zone_info(match.group(2) or str(view.extra.get("zone", "UTC"))).key
    timefmt.parse_local(match.group(1), zone)
    return {"start": match.group(1), "zone": zone}


def _parse_person(raw: str, view: StepView) -> str:
    text = raw.strip()
    if not text or len(text) > 64 or " " in text:
        raise InputError("mtg.attend.who")
    return text


def _parse_minutes(raw: str, view: StepView) -> str:
    return clean_description(raw)


def act_steps() -> StepList:
    def question(key: str) -> Any:
        return lambda v: v.texts.get(
            v.language,
            key,
            title=str(v.extra.get("title", "")),
            zone=timefmt.zone_name(str(v.extra.get("zone", "UTC")), v.language, with_city=True),
        )

    done = lambda v: None  # noqa: E731
    return StepList(
        [
            Step("reschedule", "text", question("mtg.ask.reschedule"), _parse_when_zone, next=done),
            Step("attend", "text", question("mtg.ask.attend"), _parse_person, next=done),
            Step("minutes", "text", question("mtg.ask.minutes"), _parse_minutes, next=done),
        ]
    )


async def _act(
    message: Message, context: BotContext, conversation: Conversation, acts: StepFlow
) -> None:
    """Do what the organiser typed; a refusal asks the same question again."""
    services = context.services
    texts = services.texts
    state = conversation.state
    language = str(state.get("language", "es"))
    extra = dict(state.get("extra", {}))
    values = dict(state.get("values", {}))
    meeting_id = int(extra.get("meeting_id", 0))
    step = next(iter(values), "")
    member = await services.registration.member(conversation.telegram_id)
    grants = await _grants(context, member, conversation.telegram_id)
    meeting = await services.meetings.get(meeting_id)
    await services.conversations.end(conversation.telegram_id, ACT_FLOW)
    if meeting is None or not _may_manage(grants, meeting):
        await message.chat.send_message(texts.get(language, "error.not_allowed"))
        return
    actor = await services.people.actor_of(conversation.telegram_id)
    try:
        text = await _perform(context, meeting, step, values.get(step), actor, language)
    except InputError as error:
        await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
        await acts.begin(message, context, conversation.telegram_id, language, extra=extra, at=step)
        return
    await message.chat.send_message(text)


async def _perform(
    context: BotContext, meeting: Meeting, step: str, value: Any, actor: str, language: str
) -> str:
    services = context.services
    texts = services.texts
    if step == "reschedule":
        updated = await services.meetings.reschedule(
            meeting.id, value["start"], value["zone"], actor
        )
        if services.reminders is not None:
            await services.reminders.sync_meeting(meeting.id)
        services.wake_delivery()
        return texts.get(
            language, "mtg.reschedule.done", id=updated.id, when=_when(updated, language)
        )
    if step == "attend":
        person = await services.meetings.find_person(str(value))
        if person is None:
            raise InputError("mtg.attend.unknown", who=str(value))
        fresh = await services.meetings.mark_attendance(meeting.id, person.id, actor)
        key = "mtg.attend.done" if fresh else "mtg.attend.again"
        return texts.get(language, key, who=person.pseudonym)
    file_id = value if step == "minutes_file" else None
    text = value if step == "minutes" else None
    await services.meetings.attach_minutes(meeting.id, text, file_id, actor)
    return texts.get(language, "mtg.minutes.done", id=meeting.id)


async def _minutes_file(
    message: Message, context: BotContext, conversation: Conversation, acts: StepFlow
) -> None:
    """A document sent while the minutes are asked for is the minutes file."""
    if conversation.step != "minutes" or message.document is None:
        language = str(conversation.state.get("language", "es"))
        await message.chat.send_message(context.services.texts.get(language, "error.text_expected"))
        return
    values = {"minutes_file": message.document.file_id}
    state = {**conversation.state, "values": values}
    await _act(message, context, conversation.model_copy(update={"state": state}), acts)


# ---- check-in by typing the code ----------------------------------------------------------------


async def check_in_by_text(message: Message, context: BotContext, member: Member) -> bool:
    """A typed 8-character code of an existing meeting checks the member in; False: not a code."""
    text = (message.text or "").strip().upper()
    if not CODE.match(text):
        return False
    services = context.services
    meeting = await services.meetings.by_code(text)
    if meeting is None:
        return False
    language = member.language
    try:
        found, fresh = await services.meetings.check_in(member, code=text)
    except InputError as error:
        await message.chat.send_message(services.texts.get(language, error.key, **error.values))
        return True
    await message.chat.send_message(_checked_in_text(context, found, language, fresh))
    return True


async def on_code_text(update: Update, context: BotContext) -> None:
    """Text shaped like a check-in code: a code when nothing else is waiting for text."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member = await context.services.registration.member(user.id)
    if (
        member is not None
        and member.status == "active"
        and member.step is None
        and await active(context, user.id) is None
        and await check_in_by_text(message, context, member)
    ):
        return
    await common.on_text(update, context)


# ---- wiring -------------------------------------------------------------------------------------


def register_meetings(application: Application) -> None:  # type: ignore[type-arg]
    """/newmeeting, /meetings, answers, organiser actions, check-in codes: all meeting handlers."""

    def now() -> datetime:
        services = application.bot_data.services
        assert services is not None
        clock_now: datetime = services.clock.now()
        return clock_now

    creation = NewMeeting(now)
    acts = StepFlow(
        ACT_FLOW,
        act_steps(),
        lambda m, c, conv: _act(m, c, conv, acts),
        cancel_key="mtg.act.cancelled",
    )

    async def new_meeting(update: Update, context: BotContext) -> None:
        await start_new_meeting(update, context, creation.flow)

    async def meeting_button(update: Update, context: BotContext) -> None:
        await on_meeting_button(update, context, acts)

    async def minutes_file(
        message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        await _minutes_file(message, context, conversation, acts)

    application.add_handler(CommandHandler("newmeeting", new_meeting))
    application.add_handler(CommandHandler("meetings", list_meetings))
    application.add_handler(CallbackQueryHandler(on_rsvp, pattern="^v1:rsvp:"))
    application.add_handler(CallbackQueryHandler(meeting_button, pattern="^v1:mtg:"))
    creation.flow.register(application)
    acts.register(application)
    flows = application.bot_data.flows
    flows[ACT_FLOW] = FlowRoutes(ACT_FLOW, acts.on_text, acts.on_cancel, minutes_file)
    code_filter = filters.TEXT & ~filters.COMMAND & filters.Regex(CODE)
    application.add_handler(MessageHandler(code_filter, on_code_text))
