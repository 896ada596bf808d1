"""One active conversation per person: the flow that gets their free text, Back and /cancel.

A flow's routes (`FlowRoutes`: text, documents, /cancel, a restart) are installed by
`bot.flows.register`, the one way a flow plugs in; they are kept in `bot_data.flows` by name.
"""

from __future__ import annotations

from bot.context import BotContext, FlowRoutes
from storage.models import Conversation


async def active(context: BotContext, telegram_id: int) -> Conversation | None:
    """The person's active conversation, if its flow is still known to this bot."""
    conversation = await context.services.conversations.get(telegram_id)
    if conversation is None or conversation.flow not in context.bot_data.flows:
        return None
    return conversation


def routes(context: BotContext, conversation: Conversation) -> FlowRoutes:
    return context.bot_data.flows[conversation.flow]
