"""Who is writing: their member record, their language, and whether their roles allow a command."""

from __future__ import annotations

from telegram import Message, Update

from bot.context import BotContext
from bot.i18n import pick_language
from storage.models import Member


async def identify(update: Update, context: BotContext) -> tuple[Member | None, str]:
    """The person's live member record (if any) and the language to answer them in."""
    user = update.effective_user
    if user is None:
        return None, context.services.config.programme.default_language
    member = await context.services.registration.member(user.id)
    if member is not None:
        return member, member.language
    return None, pick_language(
        user.language_code, context.services.config.programme.default_language
    )


async def require_roles(
    update: Update, context: BotContext, allowed: frozenset[str]
) -> tuple[Member | None, str, Message] | None:
    """(member, language, message) when the sender holds one of the roles; refuse everyone else."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    member, language = await identify(update, context)
    if not await context.services.roles.roles_of(member, user.id) & allowed:
        await message.chat.send_message(context.services.texts.get(language, "error.not_allowed"))
        return None
    return member, language, message


async def require_member(update: Update, context: BotContext) -> tuple[Member, Message] | None:
    """The member and their message; a newcomer is told to /start instead."""
    message = update.effective_message
    if message is None:
        return None
    member, language = await identify(update, context)
    if member is None:
        await message.chat.send_message(
            context.services.texts.get(language, "profile.not_registered")
        )
        return None
    return member, message
