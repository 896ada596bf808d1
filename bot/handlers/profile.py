"""A registered member's own data: see and edit it, download it, erase it, change language."""

from __future__ import annotations

import json
import logging

from telegram import BotCommand, BotCommandScopeChat, CallbackQuery, InputFile, Message, Update
from telegram.error import BadRequest

from bot import keyboards
from bot.callbacks import Callback
from bot.context import BotContext
from bot.handlers.access import require_member
from bot.handlers.mydata import summary_messages
from bot.handlers.profile_view import profile_text
from bot.handlers.registration_flow import close_keyboard
from bot.services.roles import commands_for
from storage.models import Member

logger = logging.getLogger(__name__)


async def _registered(update: Update, context: BotContext) -> tuple[Member, Message] | None:
    """The active member and their message, or tell them to register/finish first."""
    found = await require_member(update, context)
    if found is None:
        return None
    member, message = found
    if member.status != "active":
        texts = context.services.texts
        await message.chat.send_message(texts.get(member.language, "profile.finish_first"))
        return None
    return member, message


async def show_profile(update: Update, context: BotContext) -> None:
    """Show every stored field with an edit button for each."""
    found = await _registered(update, context)
    if found is None:
        return
    member, message = found
    if member.step is not None:
        member = await context.services.registration.cancel_edit(member)
    await message.chat.send_message(
        await profile_text(context, member, "profile.title"),
        reply_markup=keyboards.summary(context.services.texts, member),
    )


async def send_my_data(update: Update, context: BotContext) -> None:
    """Send the member a summary in words and a JSON file with everything stored about them."""
    found = await require_member(update, context)
    if found is None:
        return
    member, message = found
    document = await context.services.registration.personal_data(member, context.services.texts)
    # The summary in words first, then the portable JSON copy it announces.
    for text in await summary_messages(context, member, document):
        await message.chat.send_message(text)
    payload = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await message.chat.send_document(
        InputFile(payload, filename="consultbot-my-data.json"),
        caption=context.services.texts.get(member.language, "mydata.caption"),
    )


async def ask_delete(update: Update, context: BotContext) -> None:
    """Ask the member to confirm erasing their personal data."""
    found = await require_member(update, context)
    if found is None:
        return
    member, message = found
    texts = context.services.texts
    await message.chat.send_message(
        texts.get(member.language, "deleteme.confirm"),
        reply_markup=keyboards.delete_confirmation(texts, member.language),
    )


async def change_language(
    query: CallbackQuery, context: BotContext, member: Member, language: str
) -> None:
    """Switch the member's language and their command menu."""
    updated = await context.services.registration.set_language(member, language)
    await close_keyboard(query)
    await publish_menu(context, updated, query.from_user.id)
    if isinstance(query.message, Message):
        await query.message.chat.send_message(
            context.services.texts.get(updated.language, "language.changed")
        )


async def publish_menu(context: BotContext, member: Member, telegram_id: int) -> None:
    """This person's command menu (their chat's): the commands their roles allow, in their
    language — Telegram's own language no longer picks it."""
    texts = context.services.texts
    roles = await context.services.roles.roles_of(member, telegram_id)
    commands = [
        BotCommand(command, texts.plain(member.language, f"cmd.{command}"))
        for command in commands_for(roles)
    ]
    try:
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(telegram_id))
    except BadRequest as error:
        logger.warning("Could not set the command menu of member %s: %s", member.id, error)


async def press(
    query: CallbackQuery, context: BotContext, member: Member, data: Callback
) -> str | None:
    """Handle the profile's Done button and the erase confirmation."""
    texts = context.services.texts
    if data.flow == "prof" and member.status != "active":
        # An old /profile message's Done, pressed while (re-)registering, is stale.
        return texts.plain(member.language, "error.button_unknown")
    await close_keyboard(query)
    if not isinstance(query.message, Message):
        return None
    chat = query.message.chat
    if data.flow == "prof":
        if member.step is not None:
            member = await context.services.registration.cancel_edit(member)
        await chat.send_message(texts.get(member.language, "profile.saved"))
        return None
    if data.action == "yes":
        await context.services.registration.erase(member)
        await chat.send_message(texts.get(member.language, "deleteme.done"))
    else:
        await chat.send_message(texts.get(member.language, "deleteme.kept"))
    return None
