"""One active conversation per person: the flow that gets their free text, Back and /cancel.

A flow plugs in with a `FlowRoutes` (what it does with text, documents, /cancel; defined in
`bot.context` beside the table that holds them) and its own buttons' handler.
"""

from __future__ import annotations

from bot.context import BotContext
from bot.context import FlowRoutes as FlowRoutes
from storage.models import Conversation


async def active(context: BotContext, telegram_id: int) -> Conversation | None:
    """The person's active conversation, if its flow is still known to this bot."""
    conversation = await context.services.conversations.get(telegram_id)
    if conversation is None or conversation.flow not in context.bot_data.flows:
        return None
    return conversation


def routes(context: BotContext, conversation: Conversation) -> FlowRoutes:
    return context.bot_data.flows[conversation.flow]
