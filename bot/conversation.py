"""One active conversation per person: the flow that gets their free text, Back and /cancel.

A flow plugs in with a `FlowRoutes` (what it does with text, documents, /cancel) registered in the
composition root, and its own `CallbackQueryHandler(pattern="^v1:<flow>:")` for its buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Message

from bot.context import BotContext
from storage.models import Broadcast, Conversation

Step = Callable[[Message, BotContext, Conversation], Awaitable[None]]
AudienceTaken = Callable[[Message, BotContext, Conversation, Broadcast], Awaitable[bool]]


@dataclass(frozen=True)
class FlowRoutes:
    """How a flow answers what a person sends while its conversation is active."""

    name: str
    on_text: Step
    on_cancel: Step
    on_document: Step | None = None
    # Ask the current question again (after a crash took the answer but not the reply).
    on_resume: Step | None = None
    # A flow that borrows /broadcast's audience screens (a survey being opened): Continue on
    # the audience screen hands it the draft that holds the audience; True if it took it.
    on_audience: AudienceTaken | None = None


async def active(context: BotContext, telegram_id: int) -> Conversation | None:
    """The person's active conversation, if its flow is still known to this bot."""
    conversation = await context.services.conversations.get(telegram_id)
    if conversation is None or conversation.flow not in context.bot_data.flows:
        return None
    return conversation


def routes(context: BotContext, conversation: Conversation) -> FlowRoutes:
    return context.bot_data.flows[conversation.flow]
