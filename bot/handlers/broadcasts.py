"""Notices: the audience screens a flow borrows (classic ``bc`` buttons), Stop on a notice being
delivered, acknowledgements, /broadcasts. Composing one (/broadcast) is a flow on the step engine:
`bot.handlers.broadcast_flow`.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update

from bot.callbacks import Callback
from bot.context import BotContext
from bot.delivery.progress import progress_text
from bot.flows.active import active, routes
from bot.handlers.access import actor_of, refusal, require_permission
from bot.handlers.broadcast_screens import (
    ask_for_text,
    button,
    choices,
    show_audience,
    show_choices,
)
from bot.handlers.broadcasts_start import cancel_draft as cancel_draft
from bot.handlers.broadcasts_start import open_draft as open_draft
from bot.handlers.chunks import close_buttons
from bot.services.errors import InputError
from bot.services.permissions import Permission, allows
from storage.models import Broadcast, Conversation, Member

# The buttons that ask for typed text, and the draft's step they move to.
_TYPED = {
    ("filter", "region"): "regions",
    ("filter", "city"): "cities",
    ("filter", "association"): "associations",
}


async def _borrowed(context: BotContext, telegram_id: int) -> Conversation | None:
    """The conversation of the flow that borrowed the person's draft for its audience."""
    conversation = await active(context, telegram_id)
    if conversation is None or routes(context, conversation).on_audience is None:
        return None
    return conversation


async def receive_text(message: Message, context: BotContext, draft: Broadcast) -> None:
    """Typed text for a borrowed audience screen: regions, cities, or an association searched."""
    service, texts = context.services.broadcasts, context.services.texts
    language = draft.fallback_language
    step = draft.step or ""
    try:
        if step == "regions":
            draft = await service.set_regions(draft, message.text)
        elif step == "cities":
            draft = await service.set_cities(draft, message.text)
        elif step == "associations":
            found = await service.find_associations(message.text)
            rows = [
                [
                    button(
                        ("☑️ " if a.id in draft.audience.association_ids else "⬜ ") + a.name[:50],
                        "toggle",
                        draft,
                        "association",
                        str(a.id),
                    )
                ]
                for a in found
            ]
            rows.append([button(texts.plain(language, "bc.back_to_audience"), "audience", draft)])
            query = " ".join((message.text or "").split())[:40]
            said = texts.get(language, "bc.association_none", query=query)
            await message.chat.send_message(
                texts.get(language, "bc.choose") if found else said,
                reply_markup=InlineKeyboardMarkup(rows),
            )
            return
    except InputError as error:
        reason = texts.get(language, error.key, **error.values)
        await message.chat.send_message(f"⚠️ {reason}", reply_markup=_back(context, draft))
        return
    await show_audience(message, context, await service.set_step(draft, "audience"))


def _back(context: BotContext, draft: Broadcast) -> InlineKeyboardMarkup:
    """A typed filter's way back to the audience screen, the draft as it was."""
    label = context.services.texts.plain(draft.fallback_language, "bc.back_to_audience")
    return InlineKeyboardMarkup([[button(label, "audience", draft)]])


async def press(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Stop, or a button of a borrowed audience screen; any other ``bc`` button (a /broadcast
    screen from before it ran on the engine) is answered as no longer valid."""
    return await _press(query, context, member, data, language)


async def _press(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    services = context.services
    texts = services.texts
    message = query.message
    if not isinstance(message, Message):
        return None
    presser = query.from_user.id
    if data.action == "stop":
        return await _stop(message, context, data, language, member, presser)
    if not await services.permissions.allows(member, presser, Permission.SEND_NOTICES):
        what = Permission.SEND_NOTICES.value
        return await refusal(context, presser, language, what, query.data)
    draft_id, _, rest = data.argument.partition(":")
    draft = await services.broadcasts.draft(await actor_of(context, presser))
    borrower = await _borrowed(context, presser)
    if (
        draft is None
        or str(draft.id) != draft_id
        or borrower is None
        or borrower.state.get("extra", {}).get("draft") != draft.id
    ):
        return texts.plain(language, "error.button_unknown")
    service, action = services.broadcasts, data.action
    typed = _TYPED.get((action, rest))
    if typed is not None:
        draft = await service.set_step(draft, typed)
        await close_buttons(message)
        await message.chat.send_message(
            ask_for_text(context, draft), reply_markup=_back(context, draft)
        )
    elif action == "audience":
        await show_audience(message, context, await service.set_step(draft, "audience"), edit=True)
    elif action == "toggle" and rest.startswith("association:"):
        association_id = rest.partition(":")[2]
        if not association_id.isdigit() or not await service.association_exists(
            int(association_id)
        ):
            return texts.plain(language, "error.button_unknown")
        draft = await service.toggle(draft, "association_ids", int(association_id))
        await show_audience(message, context, await service.set_step(draft, "audience"), edit=True)
    elif action == "filter" and rest in ("country", "sector", "theme", "role"):
        await show_choices(message, context, draft, rest)
    elif action == "toggle":
        name, _, value = rest.partition(":")
        fields = {"country": "countries", "sector": "sectors", "theme": "themes", "role": "roles"}
        allowed = (
            {choice[0] for choice in choices(context, draft, name)} if name in fields else set()
        )
        if value not in allowed:
            return texts.plain(language, "error.button_unknown")
        draft = await service.toggle(draft, fields[name], value)
        await show_choices(message, context, draft, name)
    elif action == "clear":
        await show_audience(message, context, await service.clear_audience(draft), edit=True)
    elif action == "preview":
        if not await _audience_taken(message, context, borrower, draft):
            return texts.plain(language, "error.button_unknown")
    else:
        return texts.plain(language, "error.button_unknown")
    return None


async def _audience_taken(
    message: Message, context: BotContext, conversation: Conversation, draft: Broadcast
) -> bool:
    """Whether the flow that borrowed these audience screens (opening a survey) took the
    audience (Continue)."""
    taker = routes(context, conversation).on_audience
    return taker is not None and await taker(message, context, conversation, draft)


async def _stop(
    message: Message,
    context: BotContext,
    data: Callback,
    language: str,
    member: Member | None,
    presser: int,
) -> str | None:
    """Stop a notice being delivered (its sender or an admin); what was not sent stays unsent."""
    services = context.services
    broadcast_id = data.int_argument()
    broadcast = await services.broadcasts.get(broadcast_id or 0)
    if broadcast is None or broadcast.status != "queued":
        return services.texts.plain(language, "error.button_unknown")
    # Judged by who pressed, never by the chat the button sits in.
    grants = await services.permissions.grants(member, presser)
    is_sender = broadcast.created_by == await actor_of(context, presser)
    may_stop = allows(grants, Permission.STOP_NOTICE) and (
        is_sender or allows(grants, Permission.MANAGE_ROLES)
    )
    if not may_stop:
        what = Permission.STOP_NOTICE.value
        pressed = f"{data.flow}:{data.action}:{data.argument}"
        return await refusal(context, presser, language, what, pressed)
    await services.broadcasts.stop(broadcast.id)
    broadcast = await services.broadcasts.get(broadcast.id)
    assert broadcast is not None
    counts = await services.broadcasts.counts(broadcast.id)
    await message.edit_text(progress_text(services.texts, broadcast, counts, None, final=True))
    return None


async def acknowledge(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Record "I have read this" for the member (once) and thank them."""
    broadcast_id = data.int_argument()
    if member is None or broadcast_id is None:
        return context.services.texts.plain(language, "error.button_unknown")
    # Only a notice that reached this member and asked for it can be acknowledged.
    if await context.services.broadcasts.acknowledge(broadcast_id, member.id) is None:
        return context.services.texts.plain(language, "error.button_unknown")
    return context.services.texts.plain(member.language, "ack.thanks")


async def show_status(update: Update, context: BotContext) -> None:
    """List the latest notices with their delivery counts."""
    sender = await require_permission(update, context, Permission.SEND_NOTICES)
    if sender is None:
        return
    _, language, message = sender
    services = context.services
    recent = await services.broadcasts.recent(10)
    if not recent:
        await message.chat.send_message(services.texts.get(language, "bc.status_none"))
        return
    lines = []
    for broadcast in recent:
        counts = await services.broadcasts.counts(broadcast.id)
        shown = broadcast.model_copy(update={"fallback_language": language})
        lines.append(progress_text(services.texts, shown, counts, None, broadcast.status == "done"))
    await message.chat.send_message("\n\n".join(lines))
