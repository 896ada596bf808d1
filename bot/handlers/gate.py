"""The gate every update passes first: members' flows and personal data stay in private chats.

Groups get one "write to me privately" (per group, remembered in the database), channel posts
and edited messages are never handled as input, and a flooding person is told to slow down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext, ConsultApplication
from bot.handlers import common
from bot.language import member_language, person_language, resolve

logger = logging.getLogger(__name__)


async def admit(update: Update, context: BotContext) -> None:
    """Let private messages and button presses through; answer or ignore everything else."""
    if update.channel_post is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _in_group(update, context, chat.id)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        await _edited(update, context)
        raise ApplicationHandlerStop
    if update.update_id in context.bot_data.resume_updates:
        # Replayed after a crash that came between taking the answer and replying to it.
        ended_flow = context.bot_data.resume_updates.pop(update.update_id)
        await common.resume(update, context, ended_flow)
        raise ApplicationHandlerStop


async def _in_group(update: Update, context: BotContext, chat_id: int) -> None:
    """Nothing personal in a group: a button gets a pop-up, the group one private-chat hint."""
    services = context.services
    # In a group nothing is known of the person but their app's language.
    user = update.effective_user
    language = person_language(context, None, user.language_code if user else None)
    if update.callback_query is not None:
        await _quietly(
            update.callback_query.answer(services.texts.plain(language, "hostile.group_button"))
        )
        return
    if chat_id == services.config.admins.chat_id or update.message is None:
        # The admins' alert chat only receives; joins, leaves and edits need no answer.
        return
    if not await services.people.first_group_notice(chat_id):
        return
    username = context.bot.username
    if username:
        text = services.texts.get(
            language, "hostile.group_private", link=f"https://t.me/{username}"
        )
    else:
        text = services.texts.get(language, "hostile.group_private_nolink")
    await _quietly(update.message.reply_text(text, do_quote=False))


async def _edited(update: Update, context: BotContext) -> None:
    """An edit never answers the current question (it may be the name, edited at the city)."""
    message = update.edited_message
    if message is None or update.effective_user is None:
        return
    services = context.services
    member = await services.registration.member(update.effective_user.id)
    language = member_language(context, member, update.effective_user.language_code)
    await _quietly(message.chat.send_message(services.texts.get(language, "hostile.edited_kept")))


async def slow_down(application: ConsultApplication, update: object) -> None:
    """Tell a person whose backlog overflowed that the rest of their messages were not read."""
    services = application.bot_data.services
    if services is None or not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    if update.effective_chat.type != ChatType.PRIVATE or user is None:
        return
    member = await services.registration.member(user.id)
    stored = member.language if member is not None else None
    language = resolve(stored, user.language_code, services.config.programme.default_language)
    await application.bot.send_message(
        update.effective_chat.id, services.texts.get(language, "hostile.slow_down")
    )


async def _quietly(call: Awaitable[object]) -> None:
    """Send and ignore Telegram's refusal (the bot was removed from the group meanwhile)."""
    try:
        await call
    except TelegramError as error:
        logger.info("Group answer not delivered: %s", error)
