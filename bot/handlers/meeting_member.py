"""A member's side of meetings: answering, the meeting card, the calendar file, checking in."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.delivery.meeting_notices import (
    checkin_button,
    meeting_button,
    meeting_facts,
    parse_rsvp_data,
    rsvp_keyboard,
)
from bot.flows.active import active
from bot.handlers import common
from bot.services import timefmt
from bot.services.errors import InputError
from bot.services.ics import ics_filename, localized, meeting_ics
from bot.services.meeting_answers import CheckIn
from bot.services.meeting_rules import has_ended, link_visible, looks_like_code
from storage.models import Meeting, Member, Rsvp

# Past minutes on a card are cut here (at a word); the whole text went to those told.
MINUTES_ON_CARD = 1500


def when_text(meeting: Meeting, language: str, zone: str | None = None) -> str:
    return timefmt.format_meeting_moment(meeting.start_at, zone or meeting.zone, language)


async def member_card(
    context: BotContext, meeting: Meeting, member: Member, rsvp: Rsvp | None
) -> tuple[str, InlineKeyboardMarkup]:
    """A meeting as one member sees it in /meetings: facts, their answer, what they can do."""
    services = context.services
    texts = services.texts
    language = member.language
    zone = member.settled_zone or services.config.programme.default_time_zone
    lines = [texts.get(language, "meeting.invite.title", title=localized(meeting.titles, language))]
    lines.extend(meeting_facts(texts, meeting, language, zone, rsvp))
    if rsvp is not None and rsvp.waitlist_position is not None:
        rank = await services.meetings.waitlist_rank(meeting.id, member.id)
        lines.append(texts.get(language, "meeting.notice.waitlist", position=rank or 1))
    rows: list[list[InlineKeyboardButton]] = []
    if has_ended(meeting, services.clock.now()):
        lines.append("")
        lines.append(texts.get(language, "mtg.card.held"))
        if meeting.minutes:
            minutes = meeting.minutes
            if len(minutes) > MINUTES_ON_CARD:
                minutes = minutes[:MINUTES_ON_CARD].rsplit(" ", 1)[0] + " …"
            lines.append(texts.get(language, "mtg.card.minutes"))
            lines.append(html.escape(minutes, quote=False))
        if meeting.minutes_file_id:
            label = texts.plain(language, "mtg.button.minutes_file")
            rows.append([meeting_button(label, meeting.id, "f")])
        return "\n".join(lines), InlineKeyboardMarkup(rows)
    deadline = meeting.rsvp_deadline
    closed = deadline is not None and services.clock.now() > deadline
    if closed:
        lines.append(texts.get(language, "meeting.notice.ask_closed"))
    keyboard = rsvp_keyboard(texts, language, meeting.id, closed)
    rows = [list(row) for row in keyboard.inline_keyboard]
    extra = [meeting_button(texts.plain(language, "mtg.button.ics"), meeting.id, "i")]
    if services.meetings.checkin_open(meeting) and (rsvp is None or not rsvp.checked_in_at):
        extra.append(checkin_button(texts, language, meeting.id))
    rows.append(extra)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def send_ics(
    message: Message,
    context: BotContext,
    meeting: Meeting,
    language: str,
    rsvp: Rsvp | None,
    cancelled: bool = False,
) -> None:
    """The calendar file: the link only with a seat; as cancelled for someone who gave it up."""
    services = context.services
    data = meeting_ics(
        meeting,
        language,
        services.config.programme.name,
        services.clock.now(),
        with_link=link_visible(meeting, rsvp) and not cancelled,
        cancelled_for_attendee=cancelled,
    )
    caption = "mtg.ics.cancelled_caption" if cancelled else "mtg.ics.caption"
    await message.chat.send_document(
        data, filename=ics_filename(meeting), caption=services.texts.get(language, caption)
    )


async def on_rsvp(update: Update, context: BotContext) -> None:
    """Yes / Maybe / No on an invitation or card: stored, the card redrawn, the state told."""
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
    meeting, rsvp = result.meeting, result.outcome.rsvp
    title = localized(meeting.titles, language)
    when = when_text(meeting, language, member.settled_zone or meeting.zone)
    key = "mtg.rsvp.waitlist" if result.waitlisted else f"mtg.rsvp.{answer}"
    text = texts.get(language, key, title=title, when=when, position=result.outcome.waitlist_rank)
    if answer == "yes" and rsvp.confirmed and meeting.online_url:
        text += "\n" + texts.get(language, "meeting.notice.link", url=meeting.online_url)
    await query.answer(texts.plain(language, f"mtg.rsvp.short.{answer}"))
    if not isinstance(query.message, Message):
        return
    # The pressed invitation or card now shows the answer just given.
    card, markup = await member_card(context, meeting, member, rsvp)
    try:
        await query.message.edit_text(card, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise
    await query.message.chat.send_message(text)
    # The Yes text promises the file: it comes with every Yes that holds a seat, a repeated one
    # too (a Yes replayed after a crash finds the seat already confirmed, the file not yet sent).
    if key == "mtg.rsvp.yes":
        await send_ics(query.message, context, meeting, language, rsvp)
    elif result.gave_up_seat:
        await send_ics(query.message, context, meeting, language, rsvp, cancelled=True)


async def member_action(
    message: Message, context: BotContext, member: Member | None, meeting: Meeting, action: str
) -> str | None:
    """Calendar again, the minutes file, or "I'm here"; a pop-up text when refused."""
    services = context.services
    texts = services.texts
    language = member.language if member else services.config.programme.default_language
    if member is None:
        return texts.plain(language, "error.button_unknown")
    if not await services.meetings.is_invited(meeting, member):
        return texts.plain(language, "meeting.refuse.not_invited")
    rsvp = await services.meetings.rsvp_of(meeting.id, member.id)
    if action == "i":
        await send_ics(message, context, meeting, language, rsvp)
        return None
    if action == "f":
        if not meeting.minutes_file_id:
            return texts.plain(language, "error.button_unknown")
        await message.chat.send_document(meeting.minutes_file_id)
        return None
    try:
        found, result = await services.meetings.check_in(member, meeting_id=meeting.id)
    except InputError as error:
        return texts.plain(language, error.key, **error.values)
    await message.chat.send_message(checked_in_text(context, found, language, result))
    return None


def checked_in_text(context: BotContext, meeting: Meeting, language: str, result: CheckIn) -> str:
    """Checked in, already checked in, or full and waiting (never over capacity)."""
    title = localized(meeting.titles, language)
    if not result.checked_in:
        return context.services.texts.get(
            language, "mtg.checkin.full", title=title, position=result.waitlist_rank or 1
        )
    key = "mtg.checkin.done" if result.fresh else "mtg.checkin.again"
    return context.services.texts.get(language, key, title=title)


async def check_in_by_text(message: Message, context: BotContext, member: Member) -> bool:
    """A typed code of an existing meeting checks the member in; False: not a code."""
    text = message.text or ""
    if not looks_like_code(text):
        return False
    services = context.services
    if await services.meetings.by_code(text) is None:
        return False
    language = member.language
    try:
        found, result = await services.meetings.check_in(member, code=text)
    except InputError as error:
        await message.chat.send_message(services.texts.get(language, error.key, **error.values))
        return True
    await message.chat.send_message(checked_in_text(context, found, language, result))
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
