"""Who is writing: their member record, their language, and whether their roles allow a command."""

from __future__ import annotations

from telegram import Message, Update

from bot.context import BotContext
from bot.language import member_language
from bot.services.permissions import Permission
from storage.models import Member


async def identify(update: Update, context: BotContext) -> tuple[Member | None, str]:
    """The person's live member record (if any) and the language to answer them in."""
    user = update.effective_user
    if user is None:
        return None, context.services.config.programme.default_language
    member = await context.services.registration.member(user.id)
    return member, member_language(context, member, user.language_code)


async def require_permission(
    update: Update, context: BotContext, permission: Permission, theme: str | None = None
) -> tuple[Member | None, str, Message] | None:
    """(member, language, message) when the sender may do this; refuse everyone else."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    member, language = await identify(update, context)
    if not await context.services.permissions.allows(member, user.id, permission, theme):
        await refuse(context, message, user.id, language, permission.value)
        return None
    return member, language, message


async def refuse(
    context: BotContext, message: Message, telegram_id: int, language: str, what: str
) -> None:
    """Tell the person the one refusal wording in chat, and keep the attempt in the audit log."""
    # Only a command the person typed names the attempt, never their other words (minutes...).
    sender = message.from_user.id if message.from_user else None
    typed = (message.text or "") if sender == telegram_id else ""
    command = typed.split(maxsplit=1)[0][:40] if typed.startswith("/") else ""
    await message.chat.send_message(context.services.texts.get(language, "staff.refused"))
    await _record_refusal(context, telegram_id, command or what, what)


async def refusal(
    context: BotContext, telegram_id: int, language: str, what: str, pressed: str | None
) -> str:
    """The one refusal wording for a pressed button's answer, the press kept in the audit log."""
    target = f"button {pressed[:64]}" if pressed else what
    await _record_refusal(context, telegram_id, target, what)
    return context.services.texts.plain(language, "staff.refused")


async def _record_refusal(context: BotContext, telegram_id: int, target: str, what: str) -> None:
    """A run of refusals is how an admin notices a role missing, or someone probing commands."""
    actor = await actor_of(context, telegram_id)
    await context.services.roles.record_audit(actor, "refused", target, {"permission": what})


async def actor_of(context: BotContext, telegram_id: int) -> str:
    """The pseudonym recorded as the author of what this person does."""
    return await context.services.people.actor_of(telegram_id)


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
