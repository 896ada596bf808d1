"""/broadcast on the step engine: a notice composed step by step, its place the draft itself.

The steps are data (`broadcast_steps.steps`): the text in each language, the versions, the
audience and its filters, the preview and when it goes. The draft row is the flow's track
(`broadcasts_draft.DraftTrack`); the ways in are `broadcasts_start`. A typed sub-step (a filter's
values, an association searched, the time, another version of the text) has a Back to the screen
it came from, and /cancel there goes back too; only /cancel at the notice's first text, or ✖ on
the preview, drops the draft.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.delivery.progress import progress_text, stop_button
from bot.flows.keyboards import Labels, engine_button
from bot.flows.plug import engine_of
from bot.flows.steps import StepFlow, StepList
from bot.handlers.access import identify, refusal
from bot.handlers.broadcast_screens import FLOW
from bot.handlers.broadcast_steps import (
    AUDIENCE_EXTRAS,
    BACK_LABEL,
    LISTENING,
    TYPED,
    parent_of,
    steps,
)
from bot.handlers.broadcasts_draft import (
    BACK,
    CLEAR,
    CONTINUE,
    DRAFTS,
    NEW,
    RESUME,
    draft_of,
    follow,
)
from bot.handlers.broadcasts_start import cancel_draft, open_draft, start_broadcast
from bot.handlers.chunks import close_buttons
from bot.i18n import Texts
from bot.language import conversation_language, language_of
from bot.services.errors import InputError
from bot.services.permissions import Permission
from bot.services.stepkit import Step
from storage.models import Broadcast, Conversation, DeliveryCounts


def _extra_rows(conversation: Conversation, texts: Texts, language: str) -> list[list[Any]]:
    """The audience screen's Clear and Continue, each on a row of its own under the filters; a
    typed sub-step's Back to the screen it came from."""
    seq = int(conversation.state.get("seq", 0))
    if conversation.step == "audience":
        return [
            [engine_button(FLOW, texts.plain(language, key), seq, "k", index)]
            for index, key in enumerate(AUDIENCE_EXTRAS)
        ]
    parent = parent_of(draft_of(conversation), conversation.step)
    if conversation.step in TYPED and parent is not None:
        label = texts.plain(language, BACK_LABEL[parent])
        return [[engine_button(FLOW, label, seq, "k", BACK)]]
    return []


async def _send(message: Message, context: BotContext, draft: Broadcast) -> None:
    """Queue the notice for its audience and turn the preview into the live status message."""
    services = context.services
    texts = services.texts
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
    services.wake_delivery()


def draft_engine() -> StepFlow:
    """The engine composing a notice: in the draft row, each pressed screen edited into the next.

    What differs from a plain flow is declared: `DraftTrack` (the draft holds place and answers),
    `in_place` (one message per screen), the flow's own buttons (`extra_markup`, `on_extra`),
    associations searched by the service (`on_search`), no Send to nobody (`check_press`), a typed
    step asked under the pressed screen (`on_answer`), the notice queued or dropped at the end.
    """

    async def complete(message: Message, context: BotContext, conversation: Conversation) -> None:
        """Send pressed (the notice goes out), or Cancel (the draft is dropped)."""
        draft = draft_of(conversation)
        await context.services.conversations.end(conversation.telegram_id, FLOW)
        if draft.status == "cancelled":
            await message.edit_text(
                context.services.texts.get(draft.fallback_language, "bc.cancelled")
            )
            return
        await _send(message, context, draft)

    async def answered(
        message: Message,
        context: BotContext,
        before: Conversation,
        after: Conversation,
        pressed: CallbackQuery | None,
    ) -> Conversation | None:
        """A typed step reached by a press is asked below the pressed screen, whose buttons go."""
        if pressed is None or after.step not in TYPED:
            return after
        await close_buttons(message)
        await engine.ask(message, context, after)
        return None

    async def check(
        context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> str | None:
        """Send is refused (a pop-up, the preview kept) while the audience counts nobody."""
        draft = draft_of(conversation)
        if step.key != "preview" or value != "send":
            return None
        if await context.services.broadcasts.recipient_count(draft) > 0:
            return None
        return context.services.texts.plain(draft.fallback_language, "bc.no_recipients")

    async def extra(
        query: CallbackQuery, context: BotContext, conversation: Conversation, index: int | None
    ) -> str | None:
        """The flow's own buttons: the audience's Clear and Continue, a sub-step's Back, and
        Resume or New on the question /broadcast asks about a draft not yet sent."""
        message = query.message
        draft = draft_of(conversation)
        step = conversation.step
        if not isinstance(message, Message):
            return None
        if index == NEW:
            await close_buttons(message)
            user = query.from_user
            member = await context.services.registration.member(user.id)
            language = await language_of(context, user.id, user.language_code)
            await open_draft(message, context, member, language, user.id)
            return None
        if index == RESUME:
            # The draft's screen, where it was: edited in, or asked below if it waits for text.
            await follow(context, query.from_user.id, draft)
            await engine.advance(message, context, conversation, conversation, query)
            return None
        if step == "audience" and index in (CLEAR, CONTINUE):
            if index == CLEAR:
                draft = await context.services.broadcasts.clear_audience(draft)
            target = "preview" if index == CONTINUE else "audience"
        elif step in TYPED and (parent := parent_of(draft, step)) is not None and index == BACK:
            target = parent
        else:
            return await engine.stale(query, context, conversation)
        after = await DRAFTS.move(context, conversation, draft, target)
        await engine.advance(message, context, conversation, after, query)
        return None

    async def search(
        message: Message, context: BotContext, conversation: Conversation, text: str
    ) -> None:
        """Typed at the association step: the associations found, each a button to tick."""
        draft = draft_of(conversation)
        texts, language = context.services.texts, draft.fallback_language
        try:
            found = await context.services.broadcasts.find_associations(text)
        except InputError as error:
            await engine.refuse(message, context, conversation, error)
            return
        seq = int(conversation.state.get("seq", 0))
        chosen = draft.audience.association_ids
        rows: list[list[InlineKeyboardButton]] = [
            [engine_button(FLOW, ("☑️ " if a.id in chosen else "⬜ ") + a.name[:50], seq, "c", a.id)]
            for a in found
        ]
        back = texts.plain(language, "bc.back_to_audience")
        rows.append([engine_button(FLOW, back, seq, "k", BACK)])
        query = " ".join(text.split())[:40]
        said = texts.get(language, "bc.association_none", query=query)
        await message.chat.send_message(
            texts.get(language, "bc.choose") if found else said,
            reply_markup=InlineKeyboardMarkup(rows),
        )

    engine = StepFlow(
        FLOW,
        StepList(steps()),
        complete,
        on_extra=extra,
        on_answer=answered,
        check_press=check,
        extra_markup=_extra_rows,
        track=DRAFTS,
        labels=Labels(cancel=None),
        in_place=True,
        on_search=search,
    )
    return engine


# ---- the routes of the conversation row ---------------------------------------------------------
async def _waiting(context: BotContext, row: Conversation) -> Conversation | None:
    """The draft this conversation row types into, while it still listens for text."""
    place = await DRAFTS.load(context, row.telegram_id)
    if place is None or place.step not in LISTENING or draft_of(place).id != row.state.get("draft"):
        return None
    return place


async def _on_text(message: Message, context: BotContext, row: Conversation) -> None:
    """Typed text while the draft listens for it."""
    place = await _waiting(context, row)
    if place is None:
        # Sent, cancelled or moved on elsewhere (another chat, the CLI): nothing waits here.
        await context.services.conversations.end(row.telegram_id, FLOW)
        language = conversation_language(context, row)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))
        return
    await engine_of(context, FLOW).on_text(message, context, place)


async def _on_cancel(message: Message, context: BotContext, row: Conversation) -> None:
    """/cancel in a sub-step goes back to the screen it came from, the draft intact; at the
    notice's text it drops the draft."""
    place = await _waiting(context, row)
    parent = None if place is None else parent_of(draft_of(place), place.step)
    if place is not None and parent is not None:
        draft = draft_of(place)
        back = await DRAFTS.move(context, place, draft, parent)
        lead = context.services.texts.get(draft.fallback_language, "bc.step_left")
        await engine_of(context, FLOW).ask(message, context, back, lead=lead)
        return
    await context.services.conversations.end(row.telegram_id, FLOW)
    if not await cancel_draft(message, context, row.telegram_id):
        language = conversation_language(context, row)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))


async def _on_resume(message: Message, context: BotContext, row: Conversation) -> None:
    """After a restart: ask again for what the draft waits for."""
    place = await _waiting(context, row)
    if place is not None:
        await engine_of(context, FLOW).ask(message, context, place)


def register_draft(application: Application) -> None:  # type: ignore[type-arg]
    """/broadcast, the draft's buttons (only for those who may send) and its typed steps."""
    engine = draft_engine()

    async def on_button(update: Update, context: BotContext) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        member, language = await identify(update, context)
        services = context.services
        if not await services.permissions.allows(member, user.id, Permission.SEND_NOTICES):
            what = Permission.SEND_NOTICES.value
            await query.answer(await refusal(context, user.id, language, what, query.data))
            return
        await engine.on_button(update, context)

    flows.register(
        application,
        flows.Flow(
            engine,
            commands={"broadcast": start_broadcast},
            on_button=on_button,
            on_text=_on_text,
            on_cancel=_on_cancel,
            on_resume=_on_resume,
        ),
    )
