"""One active conversation per person: the flow that gets their free text, Back and /cancel.

A flow's routes (`FlowRoutes`: text, documents, /cancel, a restart) are installed by
`bot.flows.register`, the one way a flow plugs in; they are kept in `bot_data.flows` by name.
"""

from __future__ import annotations

from bot.context import BotContext, FlowRoutes
from bot.flows.plug import EngineRoutes
from storage.models import Conversation


async def active(context: BotContext, telegram_id: int) -> Conversation | None:
    """The person's active conversation, if its flow is still known to this bot."""
    conversation = await context.services.conversations.get(telegram_id)
    if conversation is None or conversation.flow not in context.bot_data.flows:
        return None
    return conversation


async def current(context: BotContext, telegram_id: int) -> Conversation | None:
    """Where what the person types goes: their active conversation, else their place in a flow
    kept elsewhere (registration's member row, while they are in a step of it)."""
    conversation = await active(context, telegram_id)
    if conversation is not None:
        return conversation
    for flow in context.bot_data.flows.values():
        if not isinstance(flow, EngineRoutes) or flow.place is None:
            continue
        if (found := await flow.place(context, telegram_id)) is not None:
            return found
    return None


def routes(context: BotContext, conversation: Conversation) -> FlowRoutes:
    return context.bot_data.flows[conversation.flow]
