"""/broadcast on the step engine: a notice composed step by step, its place the draft itself.

The steps are data (`broadcast_steps.steps`): the text in each language, the versions, the
audience and its filters, the preview and when it goes. The draft row holds the answers (its
texts, audience, time) and the place (its ``step``), as the member row does for registration, so
`DraftTrack` is the flow's track; the person's conversation row is the draft's exactly while it
waits for typed text (`follow`), so text typed then is the notice's whatever it looks like, and
text typed while the draft shows buttons (a check-in code) is not taken by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.delivery.progress import progress_text, stop_button
from bot.flows.keyboards import Labels, engine_button
from bot.flows.plug import engine_of
from bot.flows.steps import StepFlow, StepList
from bot.flows.tracks import OffersNoExtraButtons
from bot.handlers.access import actor_of, identify, refusal, require_permission
from bot.handlers.broadcast_screens import FLOW
from bot.handlers.broadcast_steps import (
    AUDIENCE_EXTRAS,
    ORDER,
    TYPED,
    apply,
    seq_of,
    steps,
)
from bot.handlers.chunks import close_buttons
from bot.i18n import Texts
from bot.language import conversation_language
from bot.services.errors import InputError
from bot.services.permissions import Permission
from bot.services.stepkit import Step, StepView
from storage.models import AudienceFilter, Broadcast, Conversation, DeliveryCounts, Member

# Actions of the flow's own buttons (``k``): the audience's Clear and Continue, a search's Back.
CLEAR, CONTINUE, BACK = 0, 1, 2


@dataclass
class DraftTrack(OffersNoExtraButtons):
    """The draft's place is the draft row (its step); the conversation row follows it."""

    def of(self, draft: Broadcast, telegram_id: int, step: str | None = None) -> Conversation:
        """The draft as the engine reads it (never stored: the draft row is)."""
        where = (draft.step or "") if step is None else step
        state: dict[str, Any] = {
            "language": draft.fallback_language,
            "seq": seq_of(where),
            "draft": draft,
        }
        return Conversation.model_construct(
            telegram_id=telegram_id, flow=FLOW, step=where, state=state, updated_at=draft.created_at
        )

    async def load(self, context: BotContext, telegram_id: int) -> Conversation | None:
        services = context.services
        draft = await services.broadcasts.draft(await actor_of(context, telegram_id))
        if draft is None or draft.step not in ORDER:
            return None
        current = await services.conversations.get(telegram_id)
        # A flow borrowing the draft's audience screens (a survey being opened) owns it.
        borrowed = current is not None and current.state.get("extra", {}).get("draft") == draft.id
        if borrowed and current is not None and current.flow != FLOW:
            return None
        return self.of(draft, telegram_id)

    async def view(
        self, context: BotContext, conversation: Conversation, shown: bool = True
    ) -> StepView:
        services = context.services
        draft = draft_of(conversation)
        extra: dict[str, Any] = {
            "draft": draft,
            "programme": services.config.programme,
            "now": services.clock.now(),
        }
        if shown and conversation.step in ("audience", "preview"):
            extra["count"] = await services.broadcasts.recipient_count(draft)
        return StepView(draft.fallback_language, services.texts, {}, extra)

    async def asked(self, context: BotContext, conversation: Conversation) -> Conversation:
        # Numbered by step, as registration's: a screen shown again keeps meaning the same.
        return conversation

    async def answer(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> Conversation:
        draft = await apply(context, draft_of(conversation), step.key, value)
        if draft.status != "draft" or (step.key == "preview" and value == "send"):
            return self.of(draft, conversation.telegram_id, step="")
        await follow(context, conversation.telegram_id, draft)
        return self.of(draft, conversation.telegram_id)

    async def move(
        self, context: BotContext, conversation: Conversation, draft: Broadcast, step: str
    ) -> Conversation:
        """The draft at another step (its own buttons: Clear, Continue, Back)."""
        draft = await context.services.broadcasts.set_step(draft, step)
        await follow(context, conversation.telegram_id, draft)
        return self.of(draft, conversation.telegram_id)

    async def toggle(
        self, context: BotContext, conversation: Conversation, step: Step, value: str
    ) -> Conversation:
        raise InputError("error.button_unknown")

    async def back(self, context: BotContext, conversation: Conversation) -> Conversation | None:
        return None

    async def jump(self, context: BotContext, conversation: Conversation, key: str) -> Conversation:
        raise InputError("error.button_unknown")

    async def end(self, context: BotContext, conversation: Conversation) -> None:
        await context.services.conversations.end(conversation.telegram_id, FLOW)

    def can_go_back(self, conversation: Conversation, step: Step) -> bool:
        return False


DRAFTS = DraftTrack()


def draft_of(conversation: Conversation) -> Broadcast:
    draft = conversation.state["draft"]
    assert isinstance(draft, Broadcast)
    return draft


async def follow(context: BotContext, telegram_id: int, draft: Broadcast | None) -> None:
    """Make the draft the person's active conversation exactly while it waits for typed text.

    Free text then has one route (the active conversation), whatever else it looks like (a
    check-in code). Asked for a text, the person chose to type it now: the draft takes over from
    another flow left open, as any flow begun does. A flow that borrowed the draft's screens (a
    survey being opened) keeps the conversation: it routes the draft's text itself.
    """
    conversations = context.services.conversations
    current = await conversations.get(telegram_id)
    if current is not None and current.flow != FLOW:
        borrowed = draft is not None and current.state.get("extra", {}).get("draft") == draft.id
        if borrowed or draft is None or draft.step not in TYPED:
            return
    if draft is not None and draft.status == "draft" and draft.step in TYPED:
        state = {"language": draft.fallback_language, "draft": draft.id}
        await conversations.save(telegram_id, FLOW, draft.step or "", state)
    elif current is not None:
        await conversations.end(telegram_id, FLOW)


def _extra_rows(conversation: Conversation, texts: Texts, language: str) -> list[list[Any]]:
    """The audience screen's Clear and Continue, each on a row of its own under the filters."""
    if conversation.step != "audience":
        return []
    seq = int(conversation.state.get("seq", 0))
    return [
        [engine_button(FLOW, texts.plain(language, key), seq, "k", index)]
        for index, key in enumerate(AUDIENCE_EXTRAS)
    ]


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
    `in_place` (one message per screen), the audience's own buttons (`extra_markup`, `on_extra`),
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
        """The audience's Clear and Continue, and Back from the associations found."""
        message = query.message
        draft = draft_of(conversation)
        service = context.services.broadcasts
        at_audience = conversation.step == "audience" and index in (CLEAR, CONTINUE)
        if not isinstance(message, Message) or not (
            at_audience or (conversation.step == "associations" and index == BACK)
        ):
            return await engine.stale(query, context, conversation)
        if index == CLEAR:
            draft = await service.clear_audience(draft)
        after = await DRAFTS.move(
            context, conversation, draft, "preview" if index == CONTINUE else "audience"
        )
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
        await message.chat.send_message(
            texts.get(language, "bc.choose"), reply_markup=InlineKeyboardMarkup(rows)
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


# ---- the way in, and the routes of the conversation row ----------------------------------------
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
    await engine_of(context, FLOW).ask(message, context, DRAFTS.of(draft, telegram_id))


async def _waiting(context: BotContext, row: Conversation) -> Conversation | None:
    """The draft this conversation row types into, while it still waits for text."""
    place = await DRAFTS.load(context, row.telegram_id)
    if place is None or place.step not in TYPED or draft_of(place).id != row.state.get("draft"):
        return None
    return place


async def _on_text(message: Message, context: BotContext, row: Conversation) -> None:
    """Typed text while the draft waits for it."""
    place = await _waiting(context, row)
    if place is None:
        # Sent, cancelled or moved on elsewhere (another chat, the CLI): nothing waits here.
        await context.services.conversations.end(row.telegram_id, FLOW)
        language = conversation_language(context, row)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))
        return
    await engine_of(context, FLOW).on_text(message, context, place)


async def _on_cancel(message: Message, context: BotContext, row: Conversation) -> None:
    """/cancel while the draft waits for text drops it."""
    await context.services.conversations.end(row.telegram_id, FLOW)
    if not await cancel_draft(message, context, row.telegram_id):
        language = conversation_language(context, row)
        await message.chat.send_message(context.services.texts.get(language, "bc.cancelled"))


async def _on_resume(message: Message, context: BotContext, row: Conversation) -> None:
    """After a restart: ask again for what the draft waits for."""
    place = await _waiting(context, row)
    if place is not None:
        await engine_of(context, FLOW).ask(message, context, place)


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
