"""The ways into composing a notice: /broadcast (which first offers a draft not yet sent), a
meeting's "📢 Notice to those coming", and /cancel while composing."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.context import BotContext
from bot.flows.keyboards import engine_button
from bot.flows.plug import engine_of
from bot.handlers.access import actor_of, require_permission
from bot.handlers.broadcast_screens import FLOW, describe_audience
from bot.handlers.broadcasts_draft import DRAFTS, NEW, RESUME, draft_of, follow
from bot.i18n import Markup
from bot.services.broadcasts import message_text
from bot.services.permissions import Permission
from storage.models import AudienceFilter, Member

# How much of a draft's text the question about it quotes.
EXCERPT = 120


async def start_broadcast(update: Update, context: BotContext) -> None:
    """Offer the draft not yet sent, if there is one; otherwise open a new one."""
    sender = await require_permission(update, context, Permission.SEND_NOTICES)
    if sender is None or update.effective_user is None:
        return
    member, language, message = sender
    telegram_id = update.effective_user.id
    if await offer_draft(message, context, telegram_id):
        return
    await open_draft(message, context, member, language, telegram_id)


async def offer_draft(message: Message, context: BotContext, telegram_id: int) -> bool:
    """Ask whether to resume the draft being composed or start anew (True if there is one).

    A draft with no text yet holds nothing worth asking about: it is replaced as before.
    """
    place = await DRAFTS.load(context, telegram_id)
    if place is None or not draft_of(place).texts:
        return False
    draft = draft_of(place)
    texts, language = context.services.texts, draft.fallback_language
    text = " ".join(message_text(draft, language).split())
    if len(text) > EXCERPT:
        text = text[: EXCERPT - 1] + "…"
    audience = Markup(describe_audience(texts, language, draft))
    seq = int(place.state.get("seq", 0))
    # The flow's own buttons, numbered for the draft's screen: once it moves on, they are stale.
    rows = [
        [engine_button(FLOW, texts.plain(language, "bc.draft_resume"), seq, "k", RESUME)],
        [engine_button(FLOW, texts.plain(language, "bc.draft_new"), seq, "k", NEW)],
    ]
    await message.chat.send_message(
        texts.get(language, "bc.draft_exists", text=text, audience=audience),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return True


async def open_draft(
    message: Message,
    context: BotContext,
    member: Member | None,
    language: str,
    telegram_id: int,
    audience: AudienceFilter | None = None,
) -> None:
    """Start a draft (optionally for a given audience) and ask for its text; a draft not yet
    sent is dropped."""
    services = context.services
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    actor = await actor_of(context, telegram_id)
    draft = await services.broadcasts.start_draft(actor, language, zone, message.chat.id)
    if audience is not None:
        draft = await services.broadcasts.update(draft, audience=audience)
    draft = await services.broadcasts.set_step(draft, f"text:{language}")
    await follow(context, telegram_id, draft)
    await engine_of(context, FLOW).ask(message, context, DRAFTS.of(draft, telegram_id))


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
