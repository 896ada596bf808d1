"""Admin commands: grant and revoke roles, review associations members proposed."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden

from bot import keyboards
from bot.callbacks import Callback
from bot.context import BotContext
from bot.handlers.access import actor_of, refusal, require_permission
from bot.handlers.profile import publish_menu
from bot.services.permissions import SCOPED_ROLES, Permission
from bot.services.roles import ROLES
from storage.models import Member

logger = logging.getLogger(__name__)


async def _admin_language(update: Update, context: BotContext) -> tuple[str, Message, str] | None:
    """(language, message, actor) when the sender is an admin; refuse everyone else."""
    allowed = await require_permission(update, context, Permission.MANAGE_ROLES)
    if allowed is None or update.effective_user is None:
        return None
    _, language, message = allowed
    return language, message, await actor_of(context, update.effective_user.id)


async def grant(update: Update, context: BotContext) -> None:
    """Give a member a role: /grant @user role [scope]."""
    await _change_role(update, context, "grant")


async def revoke(update: Update, context: BotContext) -> None:
    """Take a role away: /revoke @user role [scope]."""
    await _change_role(update, context, "revoke")


async def _change_role(update: Update, context: BotContext, command: str) -> None:
    admin = await _admin_language(update, context)
    if admin is None:
        return
    language, message, actor = admin
    texts, services = context.services.texts, context.services
    arguments = context.args or []
    if len(arguments) not in (2, 3) or arguments[1] not in ROLES:
        await message.chat.send_message(
            texts.get(language, "admin.usage", command=command, roles=", ".join(ROLES))
        )
        return
    target = await services.roles.find_member(arguments[0])
    if target is None:
        await message.chat.send_message(
            texts.get(language, "admin.no_such_member", reference=arguments[0])
        )
        return
    role, scope = arguments[1], arguments[2] if len(arguments) == 3 else ""
    if role in SCOPED_ROLES:
        # A focal point acts for one thematic group: without a valid one they could act for none.
        themes = services.config.programme.thematic_groups
        theme = scope.removeprefix("theme:")
        if theme not in themes:
            await message.chat.send_message(
                texts.get(language, "admin.scope_needed", role=role, themes=", ".join(themes))
            )
            return
        scope = f"theme:{theme}"
    name = target.name or target.pseudonym
    if command == "grant":
        changed = await services.roles.grant(target, role, scope, actor)
        key = "admin.granted" if changed else "admin.already"
    else:
        changed = await services.roles.revoke(target, role, scope, actor)
        key = "admin.revoked" if changed else "admin.not_held"
    await message.chat.send_message(texts.get(language, key, role=role, name=name))
    if changed and target.telegram_id is not None:
        await publish_menu(context, target, target.telegram_id)
    if changed and command == "grant":
        await _tell_granted(context, target, role, scope)


async def _tell_granted(context: BotContext, member: Member, role: str, scope: str) -> None:
    """The person learns of their new role (and its commands) from the bot, in their language."""
    if member.telegram_id is None:
        return
    texts = context.services.texts
    theme = scope.removeprefix("theme:") if scope.startswith("theme:") else ""
    key = "staff.role_granted.theme" if theme else "staff.role_granted"
    values = {
        "role": texts.plain(member.language, f"staff.role.{role}"),
        "theme": texts.label(member.language, "theme", theme) if theme else "",
    }
    try:
        await context.bot.send_message(
            member.telegram_id, texts.get(member.language, key, **values)
        )
    except (BadRequest, Forbidden) as error:
        logger.warning("Could not tell member %s of their role: %s", member.id, error)


async def list_pending(update: Update, context: BotContext) -> None:
    """Show each proposed association with Approve and Merge buttons."""
    admin = await _admin_language(update, context)
    if admin is None:
        return
    language, message, _ = admin
    texts = context.services.texts
    reviews = await context.services.registration.pending_associations()
    if not reviews:
        await message.chat.send_message(texts.get(language, "admin.pending_none"))
        return
    for pending, candidates in reviews:
        place = ", ".join(part for part in (pending.city, pending.region, pending.country) if part)
        await message.chat.send_message(
            texts.get(
                language, "admin.pending_item", id=pending.id, name=pending.name, place=place
            ),
            reply_markup=keyboards.pending_association(texts, language, pending, candidates),
        )


async def press(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Approve or merge a proposed association (admins only, checked on every press)."""
    services = context.services
    user = query.from_user
    if not await services.permissions.allows(member, user.id, Permission.REVIEW_ASSOCIATIONS):
        what = Permission.REVIEW_ASSOCIATIONS.value
        return await refusal(context, user.id, language, what, query.data)
    actor = await actor_of(context, user.id)
    parts = data.argument.split(":")
    if not all(part.isdigit() for part in parts) or len(parts) != (
        1 if data.action == "approve" else 2
    ):
        return services.texts.plain(language, "error.button_unknown")
    if data.action == "approve":
        done = await services.registration.approve_association(int(parts[0]), actor)
        text = services.texts.get(language, "admin.approved", id=parts[0])
    else:
        done = await services.registration.merge_association(int(parts[0]), int(parts[1]), actor)
        text = services.texts.get(language, "admin.merged", id=parts[0], target=parts[1])
    if not done:
        return services.texts.plain(language, "admin.already_done")
    if isinstance(query.message, Message):
        await query.edit_message_text(text)
    return None
