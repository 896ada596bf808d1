"""Meetings in chat: /meetings for members and organisers, the organiser's buttons, the wiring.

A member's side (answers, cards, .ics, check-in) is in `meeting_member`; the answer list and
attendance by tapping names in `meeting_people`; typed actions (new time, minutes) in
`meeting_acts`; /newmeeting in `meeting_create`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import flows
from bot.callbacks import MeetingButton
from bot.context import BotContext
from bot.delivery.meeting_notices import meeting_button
from bot.flows.steps import StepFlow
from bot.handlers import broadcasts, meeting_acts
from bot.handlers.access import identify, refusal
from bot.handlers.chunks import close_buttons
from bot.handlers.meeting_create import new_meeting_flow
from bot.handlers.meeting_member import member_action, member_card, on_code_text, on_rsvp, when_text
from bot.handlers.meeting_people import may_manage, open_list, register_people
from bot.handlers.survey_admin import meeting_survey_button
from bot.services.errors import InputError
from bot.services.ics import localized
from bot.services.meeting_rules import CODE_LENGTH, has_ended
from bot.services.permissions import Permission, allows, themes_of
from storage.models import AudienceFilter, Meeting, Member

# Text that may be a check-in code: 8 letters or digits, with spaces or dashes between any.
CODE = re.compile(rf"^\s*[A-Za-z0-9](?:[\s\-‐‑‒–—―_.]*[A-Za-z0-9]){{{CODE_LENGTH - 1}}}\s*$")
ALL_MEETINGS_ROLES = frozenset({"admin", "staff", "staff_pii"})
LIST_LIMIT = 20
PAST_LIMIT = 5
PAST_SHOWN = timedelta(days=30)


# ---- /meetings -------------------------------------------------------------------------------


async def list_meetings(update: Update, context: BotContext) -> None:
    """/meetings: what I am invited to (with my answer), past ones with minutes, what I run."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    grants = await services.permissions.grants(member, user.id)
    shown = 0
    if allows(grants, Permission.MANAGE_MEETINGS) or themes_of(grants):
        shown += await _list_managed(message, context, grants, user.id, language)
    if member is not None and member.status == "active":
        shown += await _list_invited(message, context, member)
        shown += await _list_past(message, context, member)
    if shown == 0:
        # Those who may organise get the way to their first meeting.
        may_create = allows(grants, Permission.MANAGE_MEETINGS) or themes_of(grants)
        key = "mtg.list.empty_organiser" if may_create else "mtg.list.empty"
        if not may_create and (member is None or member.status != "active"):
            # Not "no meetings": the way in is to register (or to finish registering).
            key = "profile.not_registered" if member is None else "profile.finish_first"
        await message.chat.send_message(services.texts.get(language, key))


async def _list_invited(message: Message, context: BotContext, member: Member) -> int:
    services = context.services
    shown = 0
    for meeting in await services.meetings.upcoming():
        invited, rsvp = await services.meetings.invitation(meeting, member)
        if not invited:
            continue
        text, markup = await member_card(context, meeting, member, rsvp)
        await message.chat.send_message(text, reply_markup=markup)
        shown += 1
        if shown >= LIST_LIMIT:
            break
    return shown


async def _list_past(message: Message, context: BotContext, member: Member) -> int:
    """Meetings the member answered that are over, latest first, with their minutes."""
    services = context.services
    past = await services.meetings.past_of(member, PAST_LIMIT)
    if past:
        await message.chat.send_message(services.texts.get(member.language, "mtg.list.past"))
    for meeting in past:
        rsvp = await services.meetings.rsvp_of(meeting.id, member.id)
        text, markup = await member_card(context, meeting, member, rsvp)
        await message.chat.send_message(
            text, reply_markup=markup if markup.inline_keyboard else None
        )
    return len(past)


async def _list_managed(
    message: Message,
    context: BotContext,
    grants: list[tuple[str, str]],
    telegram_id: int,
    language: str,
) -> int:
    services = context.services
    actor = await services.people.actor_of(telegram_id)
    everything = any(role in ALL_MEETINGS_ROLES for role, _ in grants)
    now = services.clock.now()
    shown = 0
    for meeting in await services.meetings.listing(now - PAST_SHOWN, 200):
        mine = meeting.created_by == actor or (
            meeting.kind == "thematic" and meeting.theme in themes_of(grants)
        )
        if not (everything or mine) or not may_manage(grants, meeting):
            continue
        await message.chat.send_message(
            await _summary(context, meeting, language, now),
            reply_markup=_manage_markup(
                context, language, meeting, now, allows(grants, Permission.LOAD_SURVEYS)
            ),
        )
        shown += 1
        if shown >= LIST_LIMIT:
            break
    return shown


def status_of(meeting: Meeting, now: datetime) -> str:
    """Scheduled, cancelled, held (over, no minutes yet) or done (minutes attached)."""
    if meeting.status == "scheduled" and has_ended(meeting, now):
        return "held"
    return meeting.status


async def _summary(context: BotContext, meeting: Meeting, language: str, now: datetime) -> str:
    texts = context.services.texts
    counts = await context.services.meetings.counts(meeting.id)
    return "\n".join(
        [
            texts.get(
                language,
                "mtg.manage.title",
                id=meeting.id,
                title=localized(meeting.titles, language),
                when=when_text(meeting, language),
            ),
            texts.get(language, f"mtg.status.{status_of(meeting, now)}"),
            texts.get(
                language,
                "mtg.manage.counts",
                # "2/30" against a capacity; with none, just the count ("2", not "2/∞").
                yes=counts.yes if meeting.capacity is None else f"{counts.yes}/{meeting.capacity}",
                maybe=counts.maybe,
                no=counts.no,
                waitlist=counts.waitlist,
                attended=counts.checked_in,
            ),
            texts.get(language, "mtg.manage.code", code=meeting.checkin_code),
        ]
    )


def _manage_markup(
    context: BotContext, language: str, meeting: Meeting, now: datetime, surveys: bool = False
) -> InlineKeyboardMarkup:
    texts = context.services.texts

    def button(key: str, action: str) -> InlineKeyboardButton:
        return meeting_button(texts.plain(language, key), meeting.id, action)

    rows = [[button("mtg.button.attendees", "a")]]
    # Once it is over there is nothing left to move or call off.
    if meeting.status == "scheduled" and not has_ended(meeting, now):
        rows.append([button("mtg.button.reschedule", "r"), button("mtg.button.cancel", "c")])
        rows.append([button("mtg.button.notice", "b")])
    if meeting.status != "cancelled" and now >= meeting.start_at:
        # Minutes are of a meeting that has begun (the service refuses them before).
        rows.append([button("mtg.button.minutes", "n")])
    if surveys and meeting.status != "cancelled":
        # Those who may open surveys: one for this meeting's attendees or Yes answers.
        rows.append([meeting_survey_button(context, language, meeting.id)])
    return InlineKeyboardMarkup(rows)


# ---- buttons on /meetings --------------------------------------------------------------------


async def on_meeting_button(update: Update, context: BotContext, acts: StepFlow) -> None:
    """Calendar again, I'm here, minutes file, and the organiser's actions (rights re-checked)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    member = await services.registration.member(user.id)
    language = member.language if member else services.config.programme.default_language
    stale = services.texts.plain(language, "error.button_unknown")
    press = MeetingButton.parse(query.data)
    meeting = await services.meetings.get(press.meeting) if press else None
    if press is None or meeting is None or not isinstance(query.message, Message):
        await query.answer(stale)
        return
    action = press.action
    if action in ("i", "h", "f"):
        notice = await member_action(query.message, context, member, meeting, action)
    else:
        grants = await services.permissions.grants(member, user.id)
        if not may_manage(grants, meeting):
            what = Permission.MANAGE_MEETINGS.value
            notice = await refusal(context, user.id, language, what, query.data)
        else:
            notice = await _organiser_action(
                query, context, grants, meeting, action, language, acts
            )
    await query.answer(notice)


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
        await open_list(message, context, grants, meeting, language, telegram_id)
        return None
    if action == "c":
        confirm = meeting_button(
            texts.plain(language, "mtg.button.cancel_confirm"), meeting.id, "C"
        )
        keep = meeting_button(texts.plain(language, "mtg.button.cancel_keep"), meeting.id, "k")
        await message.chat.send_message(
            texts.get(language, "mtg.cancel.confirm", title=localized(meeting.titles, language)),
            reply_markup=InlineKeyboardMarkup([[confirm], [keep]]),
        )
        return None
    if action == "k":
        # Kept: the question becomes the meeting's card again, with its buttons.
        now = services.clock.now()
        surveys = allows(grants, Permission.LOAD_SURVEYS)
        await message.edit_text(
            await _summary(context, meeting, language, now),
            reply_markup=_manage_markup(context, language, meeting, now, surveys),
        )
        return texts.plain(language, "mtg.cancel.kept")
    if action == "C":
        await close_buttons(message)
        actor = await services.people.actor_of(telegram_id)
        try:
            await services.meetings.cancel(meeting.id, actor)
        except InputError as error:
            return texts.plain(language, error.key, **error.values)
        services.wake_delivery()
        await message.chat.send_message(texts.get(language, "mtg.cancel.done", id=meeting.id))
        return None
    if action == "b":
        # A notice to those coming (Yes), composed like any other /broadcast.
        if not allows(grants, Permission.SEND_NOTICES):
            what = Permission.SEND_NOTICES.value
            return await refusal(context, telegram_id, language, what, query.data)
        member = await services.registration.member(telegram_id)
        audience = AudienceFilter(meeting_id=meeting.id, meeting_answers=("yes",))
        await broadcasts.open_draft(message, context, member, language, telegram_id, audience)
        return None
    steps = {"r": "reschedule", "n": "minutes"}
    if action in steps:
        # A stale card's button: said at once, rather than after the date or minutes are typed.
        now = services.clock.now()
        if meeting.status == "cancelled":
            return texts.plain(language, "meeting.refuse.cancelled")
        if action == "r" and has_ended(meeting, now):
            return texts.plain(language, "meeting.refuse.past")
        if action == "n" and now < meeting.start_at:
            return texts.plain(language, "meeting.minutes.too_early")
        extra = {
            "meeting_id": meeting.id,
            "zone": meeting.zone,
            "title": localized(meeting.titles, language),
        }
        await acts.begin(message, context, telegram_id, language, extra=extra, at=steps[action])
        return None
    return texts.plain(language, "error.button_unknown")


# ---- wiring -------------------------------------------------------------------------------------


def register_meetings(application: Application) -> None:  # type: ignore[type-arg]
    """/newmeeting, /meetings, answers, organiser actions, check-in codes: all meeting handlers."""

    def now() -> datetime:
        services = application.bot_data.services
        assert services is not None
        clock_now: datetime = services.clock.now()
        return clock_now

    acts = meeting_acts.acts_flow(now)
    assert acts.engine is not None
    engine = acts.engine

    async def meeting_button_pressed(update: Update, context: BotContext) -> None:
        await on_meeting_button(update, context, engine)

    application.add_handler(CommandHandler("meetings", list_meetings))
    application.add_handler(CallbackQueryHandler(on_rsvp, pattern="^v1:rsvp:"))
    application.add_handler(CallbackQueryHandler(meeting_button_pressed, pattern="^v1:mtg:"))
    register_people(application)
    flows.register(application, new_meeting_flow(now))
    flows.register(application, acts)
    code_filter = filters.TEXT & ~filters.COMMAND & filters.Regex(CODE)
    application.add_handler(MessageHandler(code_filter, on_code_text))
