"""Button routes of the flows that use the classic `v1:<flow>:<action>[:<argument>]` data.

Each flow gets its own `CallbackQueryHandler(pattern="^v1:<flow>:")`; its data is parsed once into a
`Callback` and handed to the flow's press function, whose answer (a pop-up, or None) is shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.callbacks import Callback
from bot.context import BotContext
from bot.handlers.access import identify
from storage.models import Member

PressFunction = Callable[
    [CallbackQuery, BotContext, Member | None, Callback, str], Awaitable[str | None]
]


def route(flows: tuple[str, ...], press: PressFunction) -> CallbackQueryHandler[BotContext, None]:
    """The handler of these flows' buttons."""

    async def handle(update: Update, context: BotContext) -> None:
        """Parse the press once, let the flow act, answer the press."""
        query = update.callback_query
        if query is None:
            return
        member, language = await identify(update, context)
        data = callbacks.parse(query.data)
        if data is None or data.flow not in flows:
            await query.answer(context.services.texts.plain(language, "error.button_unknown"))
            return
        await query.answer(await press(query, context, member, data, language))

    pattern = "^v1:(" + "|".join(flows) + "):"
    return CallbackQueryHandler(handle, pattern=pattern)


async def unknown(update: Update, context: BotContext) -> None:
    """Any button no flow recognises (forged, or from an older version): politely refused."""
    query = update.callback_query
    if query is None:
        return
    _, language = await identify(update, context)
    await query.answer(context.services.texts.plain(language, "error.button_unknown"))
