"""A meeting's answer list: people by name, paged, searchable; a tap marks (or unmarks) attendance.

Names are shown only to those who may see them (`names_visible`: coordinators, staff_pii, admins
and the meeting's organiser); everyone else who runs the meeting gets the counts. While the list is
open its conversation takes typed text as a search by name; /cancel or ✖ closes it.
Buttons: ``v1:mtp:<meeting>:t:<member>:<page>`` taps a person, ``v1:mtp:<meeting>:p:<page>``
turns the page, ``v1:mtp:<meeting>:x`` closes.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot import flows
from bot.callbacks import PeopleButton
from bot.context import BotContext
from bot.handlers.access import refusal, refuse
from bot.handlers.chunks import close_buttons
from bot.i18n import Texts
from bot.language import conversation_language
from bot.services.errors import InputError
from bot.services.ics import localized
from bot.services.meeting_answers import Attendee, names_visible
from bot.services.permissions import Permission, allows, themes_of
from storage.models import Conversation, Meeting, Member

FLOW = "mtgppl"
PAGE_SIZE = 8
SEARCH_MAX = 60
NAME_SHOWN = 28


def may_manage(grants: list[tuple[str, str]], meeting: Meeting) -> bool:
    """Coordinators, staff and admins any meeting; focal points the thematic ones of their theme."""
    if allows(grants, Permission.MANAGE_MEETINGS):
        return True
    return meeting.kind == "thematic" and meeting.theme in themes_of(grants)


async def _who(
    context: BotContext, telegram_id: int
) -> tuple[Member | None, list[tuple[str, str]]]:
    member = await context.services.registration.member(telegram_id)
    return member, await context.services.permissions.grants(member, telegram_id)


async def _screen(
    context: BotContext, meeting: Meeting, language: str, search: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The list's text and buttons at a page (with the search typed, if any)."""
    services = context.services
    texts = services.texts
    people = await services.meetings.attendee_list(meeting, search or None)
    pages = max(1, -(-len(people) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    counts = await services.meetings.counts(meeting.id)
    lines = [
        texts.get(
            language,
            "mtg.people.header",
            id=meeting.id,
            title=localized(meeting.titles, language),
            page=page + 1,
            pages=pages,
            attended=counts.checked_in,
        ),
        texts.get(language, "mtg.people.help"),
    ]
    if search:
        lines.append(texts.get(language, "mtg.people.search", search=search, count=len(people)))
    elif not people:
        lines.append(texts.get(language, "mtg.attendees.none"))
    rows = [
        [
            _button(
                _label(texts, language, person),
                PeopleButton(meeting.id, "t", person.member_id, page),
            )
        ]
        for person in people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    paging = []
    if page > 0:
        label = texts.plain(language, "button.previous_page")
        paging.append(_button(label, PeopleButton(meeting.id, "p", page - 1)))
    if page + 1 < pages:
        label = texts.plain(language, "button.next_page")
        paging.append(_button(label, PeopleButton(meeting.id, "p", page + 1)))
    if paging:
        rows.append(paging)
    close = texts.plain(language, "mtg.people.close")
    rows.append([_button(close, PeopleButton(meeting.id, "x"))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _button(label: str, press: PeopleButton) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=press.encode())


def _label(texts: Texts, language: str, person: Attendee) -> str:
    mark = "✅" if person.checked_in else "⬜"
    name = person.name or texts.plain(language, "mtg.people.no_name")
    if len(name) > NAME_SHOWN:
        name = name[: NAME_SHOWN - 1] + "…"
    state = texts.plain(language, f"mtg.answer.{person.standing}")
    return f"{mark} {name} · {state}"


async def open_list(
    message: Message,
    context: BotContext,
    grants: list[tuple[str, str]],
    meeting: Meeting,
    language: str,
    telegram_id: int,
) -> None:
    """The answer list by name for those who may see names; the counts for anyone else."""
    services = context.services
    texts = services.texts
    actor = await services.people.actor_of(telegram_id)
    if not names_visible(grants, meeting, actor):
        counts = await services.meetings.counts(meeting.id)
        await message.chat.send_message(
            texts.get(
                language,
                "mtg.people.no_names",
                id=meeting.id,
                yes=counts.yes,
                maybe=counts.maybe,
                no=counts.no,
                waitlist=counts.waitlist,
                attended=counts.checked_in,
            )
        )
        return
    # Typed text now searches this list, until it is closed or another flow starts.
    state = {"language": language, "meeting_id": meeting.id, "search": ""}
    await services.conversations.save(telegram_id, FLOW, "search", state)
    text, markup = await _screen(context, meeting, language, "", 0)
    await message.chat.send_message(text, reply_markup=markup)


async def _search(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Typed text while the list is open: the list narrowed to names containing it."""
    services = context.services
    language = conversation_language(context, conversation)
    meeting = await services.meetings.get(int(conversation.state.get("meeting_id", 0)))
    _, grants = await _who(context, conversation.telegram_id)
    actor = await services.people.actor_of(conversation.telegram_id)
    if (
        meeting is None
        or not may_manage(grants, meeting)
        or not names_visible(grants, meeting, actor)
    ):
        await services.conversations.end(conversation.telegram_id, FLOW)
        what = Permission.VIEW_ATTENDEE_NAMES.value
        await refuse(context, message, conversation.telegram_id, language, what)
        return
    search = " ".join((message.text or "").split())[:SEARCH_MAX]
    state = {**conversation.state, "search": search}
    await services.conversations.save(conversation.telegram_id, FLOW, "search", state)
    text, markup = await _screen(context, meeting, language, search, 0)
    await message.chat.send_message(text, reply_markup=markup)


async def _cancel(message: Message, context: BotContext, conversation: Conversation) -> None:
    language = conversation_language(context, conversation)
    await context.services.conversations.end(conversation.telegram_id, FLOW)
    await message.chat.send_message(context.services.texts.get(language, "mtg.people.closed"))


async def on_people_button(update: Update, context: BotContext) -> None:
    """A tap on a person, a page or close; rights are checked again on every press."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    texts = services.texts
    member, grants = await _who(context, user.id)
    language = member.language if member else services.config.programme.default_language
    press = PeopleButton.parse(query.data)
    meeting = await services.meetings.get(press.meeting) if press else None
    message = query.message
    if press is None or meeting is None or not isinstance(message, Message):
        await query.answer(texts.plain(language, "error.button_unknown"))
        return
    actor = await services.people.actor_of(user.id)
    if not may_manage(grants, meeting) or not names_visible(grants, meeting, actor):
        what = Permission.VIEW_ATTENDEE_NAMES.value
        await query.answer(await refusal(context, user.id, language, what, query.data))
        return
    conversation = await services.conversations.get(user.id)
    search = ""
    same_list = conversation is not None and conversation.flow == FLOW
    if same_list and conversation and int(conversation.state.get("meeting_id", 0)) == meeting.id:
        search = str(conversation.state.get("search", ""))
    if press.action == "x":
        await services.conversations.end(user.id, FLOW)
        await close_buttons(message)
        await query.answer(texts.plain(language, "mtg.people.closed"))
        return
    notice = None
    page = press.first or 0
    if press.action == "t" and press.first is not None:
        notice = await _toggle(context, meeting, press.first, actor, language)
        page = press.second or 0
    text, markup = await _screen(context, meeting, language, search, page)
    await _edit(message, text, markup)
    await query.answer(notice)


async def _toggle(
    context: BotContext, meeting: Meeting, member_id: int, actor: str, language: str
) -> str:
    """Mark someone present, or take a mark back; the pop-up names them (never a pseudonym)."""
    services = context.services
    texts = services.texts
    person = await services.people.member_by_id(member_id)
    who = (person.name if person else None) or texts.plain(language, "mtg.people.no_name")
    if meeting.status == "cancelled":
        return texts.plain(language, "meeting.refuse.cancelled")
    rsvp = await services.meetings.rsvp_of(meeting.id, member_id)
    try:
        if rsvp is not None and rsvp.checked_in_at is not None:
            await services.meetings.unmark_attendance(meeting.id, member_id, actor)
            return texts.plain(language, "mtg.attend.undone", who=who)
        result = await services.meetings.mark_attendance(meeting.id, member_id, actor)
    except InputError as error:
        return texts.plain(language, error.key, **error.values)
    if not result.checked_in:
        return texts.plain(language, "mtg.attend.full", who=who, position=result.waitlist_rank or 1)
    return texts.plain(language, "mtg.attend.done", who=who)


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


def register_people(application: Application) -> None:  # type: ignore[type-arg]
    """The answer list's buttons and its search (typed text while it is open)."""
    application.add_handler(CallbackQueryHandler(on_people_button, pattern="^v1:mtp:"))
    flows.register(application, flows.Flow(name=FLOW, on_text=_search, on_cancel=_cancel))
