"""Where a notice being composed is kept: the draft row is its place and its answers.

The draft row holds the answers (its texts, audience, time) and the place (its ``step``), as the
member row does for registration, so `DraftTrack` is the flow's track. The person's conversation
row is the draft's exactly while the draft listens for typed text (`follow`): a typed step, or the
When screen, which takes a time typed. Text typed then is the draft's whatever it looks like;
text typed while the draft shows only buttons (a check-in code) is not taken by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.context import BotContext
from bot.flows.tracks import OffersNoExtraButtons
from bot.handlers.access import actor_of
from bot.handlers.broadcast_screens import FLOW
from bot.handlers.broadcast_steps import LISTENING, ORDER, apply, seq_of
from bot.services.errors import InputError
from bot.services.stepkit import Step, StepView
from storage.models import Broadcast, Conversation

# The flow's own buttons (action ``k``), by index: the audience's Clear and Continue; Back from a
# typed sub-step (or the associations found) to the screen it came from; and, when /broadcast
# finds a draft not yet sent, Resume it or start a New one.
CLEAR, CONTINUE, BACK, RESUME, NEW = range(5)


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
    """Make the draft the person's active conversation exactly while it listens for text.

    Free text then has one route (the active conversation), whatever else it looks like (a
    check-in code). Asked for a text, the person chose to type it now: the draft takes over from
    another flow left open, as any flow begun does. A flow that borrowed the draft's screens (a
    survey being opened) keeps the conversation: it routes the draft's text itself.
    """
    conversations = context.services.conversations
    current = await conversations.get(telegram_id)
    if current is not None and current.flow != FLOW:
        borrowed = draft is not None and current.state.get("extra", {}).get("draft") == draft.id
        if borrowed or draft is None or draft.step not in LISTENING:
            return
    if draft is not None and draft.status == "draft" and draft.step in LISTENING:
        state = {"language": draft.fallback_language, "draft": draft.id}
        await conversations.save(telegram_id, FLOW, draft.step or "", state)
    elif current is not None:
        await conversations.end(telegram_id, FLOW)
