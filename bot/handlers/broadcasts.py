"""Composing a notice in chat (coordinators, staff, admins), progress messages, acknowledgements."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update

from bot import flows
from bot.callbacks import Callback
from bot.context import BotContext
from bot.delivery.progress import progress_text, stop_button
from bot.flows.active import active, routes
from bot.handlers.access import actor_of, refusal, require_permission
from bot.handlers.broadcast_screens import (
    FLOW,
    TEXT_STEPS,
    ask_for_text,
    button,
    choices,
    follow,
    show_audience,
    show_choices,
    show_preview,
    show_versions,
    show_when,
)
from bot.handlers.chunks import close_buttons
from bot.i18n import LANGUAGES
from bot.language import conversation_language
from bot.services.broadcasts import parse_send_time
from bot.services.errors import InputError
from bot.services.permissions import Permission, allows
from storage.models import AudienceFilter, Broadcast, Conversation, DeliveryCounts, Member

# The buttons that ask for typed text, and the draft's step they move to.
_TYPED = {
    **{("lang", code): f"text:{code}" for code in LANGUAGES},
    ("filter", "region"): "regions",
    ("filter", "city"): "cities",
    ("filter", "association"): "associations",
    ("when", "at"): "when",
}
DEFAULT_QUIET = ("09:00", "21:00")


async def start_broadcast(update: Update, context: BotContext) -> None:
    """Open a new draft notice and ask for its text in the sender's language."""
    sender = await require_permission(update, context, Permission.SEND_NOTICES)
    if sender is None or update.effective_user is None:
        return
    member, language, message = sender
    await open_draft(message, context, member, language, update.effective_user.id)


async def open_draft(
    message: Message,
    context: BotContext,
    member: Member | None,
    language: str,
    telegram_id: int,
    audience: AudienceFilter | None = None,
) -> None:
    """Start a draft (optionally for a given audience) and ask for its text."""
    services = context.services
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    actor = await actor_of(context, telegram_id)
    draft = await services.broadcasts.start_draft(actor, language, zone, message.chat.id)
    if audience is not None:
        draft = await services.broadcasts.update(draft, audience=audience)
    draft = await services.broadcasts.set_step(draft, f"text:{language}")
    await follow(context, telegram_id, draft)
    name = services.texts.get(language, f"language.name.{language}")
    await message.chat.send_message(services.texts.get(language, "bc.ask_text", lang_name=name))


async def draft_waiting_for_text(context: BotContext, user_id: int) -> Broadcast | None:
    draft = await context.services.broadcasts.draft(await actor_of(context, user_id))
    return draft if draft is not None and draft.step in TEXT_STEPS else None


async def _draft_of(context: BotContext, conversation: Conversation) -> Broadcast | None:
    """The draft this conversation types into, while it is still waiting for text."""
    draft = await draft_waiting_for_text(context, conversation.telegram_id)
    if draft is None or draft.id != conversation.state.get("draft"):
        return None
    return draft


async def _on_text(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Typed text while the draft waits for it."""
    draft = await _draft_of(context, conversation)
    if draft is None:
        # Sent, cancelled or moved on elsewhere (another chat, the CLI): nothing waits here.
        await context.services.conversations.end(conversation.telegram_id, FLOW)
        language = conversation_language(context, conversation)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))
        return
    await receive_text(message, context, draft)


async def _on_cancel(message: Message, context: BotContext, conversation: Conversation) -> None:
    """/cancel while the draft waits for text drops it."""
    await context.services.conversations.end(conversation.telegram_id, FLOW)
    if not await cancel_draft(message, context, conversation.telegram_id):
        language = conversation_language(context, conversation)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))


async def _on_resume(message: Message, context: BotContext, conversation: Conversation) -> None:
    """After a restart: ask again for what the draft waits for."""
    draft = await _draft_of(context, conversation)
    if draft is not None:
        await message.chat.send_message(ask_for_text(context, draft))


def draft_flow() -> flows.Flow:
    """A notice being composed, as the active conversation while it waits for text; its
    buttons are the classic ``bc`` ones (`press`), routed with the others."""
    return flows.Flow(name=FLOW, on_text=_on_text, on_cancel=_on_cancel, on_resume=_on_resume)


async def receive_text(message: Message, context: BotContext, draft: Broadcast) -> None:
    """Take the typed part of a draft: a text version, regions, cities or the sending time."""
    await _receive_text(message, context, draft)
    if message.from_user is not None:
        latest = await context.services.broadcasts.get(draft.id)
        await follow(context, message.from_user.id, latest)


async def _receive_text(message: Message, context: BotContext, draft: Broadcast) -> None:
    service, texts = context.services.broadcasts, context.services.texts
    language = draft.fallback_language
    step = draft.step or ""
    try:
        if step.startswith("text"):
            version = step.partition(":")[2] or language
            draft = await service.set_text(draft, version, message.text)
            await show_versions(message, context, await service.set_step(draft, "versions"))
            return
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
            await message.chat.send_message(
                texts.get(language, "bc.choose"), reply_markup=InlineKeyboardMarkup(rows)
            )
            return
        elif step == "when":
            moment = parse_send_time(
                message.text or "", draft.organiser_zone, context.services.clock.now(), language
            )
            draft = await service.update(draft, send_at=moment)
            await show_preview(message, context, await service.set_step(draft, "preview"))
            return
    except InputError as error:
        reason = texts.get(language, error.key, **error.values)
        await message.chat.send_message(f"⚠️ {reason}")
        return
    await show_audience(message, context, await service.set_step(draft, "audience"))


async def press(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Apply a composing button to the sender's current draft; stale drafts are refused."""
    notice = await _press(query, context, member, data, language)
    if data.action != "stop":
        actor = await actor_of(context, query.from_user.id)
        await follow(context, query.from_user.id, await context.services.broadcasts.draft(actor))
    return notice


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
    if draft is None or str(draft.id) != draft_id:
        return texts.plain(language, "error.button_unknown")
    service, action = services.broadcasts, data.action
    typed = _TYPED.get((action, rest))
    if typed is not None:
        draft = await service.set_step(draft, typed)
        await close_buttons(message)
        await message.chat.send_message(ask_for_text(context, draft))
    elif action == "versions":
        await show_versions(message, context, await service.set_step(draft, "versions"), edit=True)
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
        allowed = (
            {choice[1]: choice[0] for choice in choices(context, draft, name)}
            if name in ("country", "sector", "theme", "role")
            else {}
        )
        if value not in allowed:
            return texts.plain(language, "error.button_unknown")
        draft = await service.toggle(draft, allowed[value], value)
        await show_choices(message, context, draft, name)
    elif action == "clear":
        await show_audience(message, context, await service.clear_audience(draft), edit=True)
    elif action == "preview":
        if await _audience_taken(message, context, presser, draft):
            return None
        if not draft.texts:  # an audience borrowed by a flow that has ended: nothing to send
            return texts.plain(language, "error.button_unknown")
        await show_preview(message, context, await service.set_step(draft, "preview"), edit=True)
    elif action == "ack":
        await show_preview(
            message, context, await service.update(draft, ask_ack=not draft.ask_ack), edit=True
        )
    elif action == "quiet":
        start, end = (None, None) if draft.quiet_start else DEFAULT_QUIET
        await show_preview(
            message,
            context,
            await service.update(draft, quiet_start=start, quiet_end=end),
            edit=True,
        )
    elif action == "when" and rest == "":
        await show_when(message, context, draft)
    elif action == "now":
        await show_preview(message, context, await service.update(draft, send_at=None), edit=True)
    elif action == "cancel":
        await service.update(draft, status="cancelled")
        await message.edit_text(texts.get(draft.fallback_language, "bc.cancelled"))
    elif action == "send":
        return await _send(message, context, draft)
    else:
        return texts.plain(language, "error.button_unknown")
    return None


async def _audience_taken(
    message: Message, context: BotContext, presser: int, draft: Broadcast
) -> bool:
    """Whether the flow that borrowed these audience screens (opening a survey) took the
    audience from here, instead of the notice's preview."""
    conversation = await active(context, presser)
    taker = routes(context, conversation).on_audience if conversation is not None else None
    return (
        conversation is not None
        and taker is not None
        and await taker(message, context, conversation, draft)
    )


async def _send(message: Message, context: BotContext, draft: Broadcast) -> str | None:
    """Queue the notice for its audience and turn the preview into the live status message."""
    services = context.services
    texts, language = services.texts, draft.fallback_language
    if await services.broadcasts.recipient_count(draft) == 0:
        return texts.plain(language, "bc.no_recipients")
    draft = await services.broadcasts.update(
        draft,
        status_chat_id=message.chat.id,
        status_message_id=message.message_id,
        paid=services.config.delivery.paid_broadcasts,
    )
    count = await services.broadcasts.queue(draft)
    queued = await services.broadcasts.get(draft.id)
    assert queued is not None
    await message.edit_text(
        progress_text(texts, queued, DeliveryCounts(pending=count), None, final=False),
        reply_markup=stop_button(texts, queued),
    )
    if services.delivery is not None:
        services.delivery.wake()
    return None


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


async def cancel_draft(message: Message, context: BotContext, user_id: int) -> bool:
    """/cancel while composing drops the draft; True if there was one."""
    draft = await context.services.broadcasts.draft(await actor_of(context, user_id))
    if draft is None:
        return False
    await context.services.broadcasts.update(draft, status="cancelled")
    await message.chat.send_message(
        context.services.texts.get(draft.fallback_language, "bc.cancelled")
    )
    return True


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
