"""Registration: language, consent, then the profile's steps on the engine, resumable from the DB.

The steps themselves run in `bot.handlers.registration_flow` (the step engine over the member row);
this module is the way in (/start's language choice and consent) and what other handlers call.
"""

from __future__ import annotations

from telegram import CallbackQuery, Message

from bot import flows, keyboards
from bot.context import BotContext
from bot.flows.plug import engine_of
from bot.flows.steps import StepFlow
from bot.handlers.registration_flow import (
    MEMBERS,
    close_keyboard,
    edit_text,
    registration_engine,
)
from bot.language import person_language
from bot.services.errors import InputError
from bot.services.registration_steps import FLOW
from storage.models import Member


def _engine(context: BotContext) -> StepFlow:
    """The one registration engine, built by `registration_flow` and kept with its routes."""
    return engine_of(context, FLOW)


async def prompt(message: Message, context: BotContext, member: Member, lead: str = "") -> None:
    """Ask the question of the member's current step (with an optional lead line)."""
    await _engine(context).ask(message, context, MEMBERS.of(member), lead)


async def receive_text(message: Message, context: BotContext, member: Member) -> None:
    """Take a typed answer for the member's current step, or explain why it was refused."""
    await _engine(context).on_text(message, context, MEMBERS.of(member))


async def receive_contact(message: Message, context: BotContext, member: Member) -> None:
    """Take the phone number shared with Telegram's contact button."""
    await _engine(context).on_contact(message, context, MEMBERS.of(member))


async def refuse(message: Message, context: BotContext, member: Member, error: InputError) -> None:
    """Explain in the member's language why the answer was not taken, and ask again."""
    await _engine(context).refuse(message, context, MEMBERS.of(member), error)


async def cancel(message: Message, context: BotContext, member: Member) -> None:
    """/cancel during registration: leave an edit, or pause."""
    await _engine(context).on_cancel(message, context, MEMBERS.of(member))


def registration_flow() -> flows.Flow:
    """Registration's buttons and engine. Its place is the member row, never a conversation row,
    so its routes are only reached from the member row (`common` when no conversation is active)."""
    return flows.Flow(registration_engine())


# ---- entry: /start, language, consent ------------------------------------------------------
async def offer_languages(
    message: Message, context: BotContext, telegram_language: str | None
) -> None:
    """Greet a newcomer in their Telegram language and let them choose ours."""
    services = context.services
    language = person_language(context, None, telegram_language)
    programme = services.config.programme
    text = services.texts.get(
        language,
        "start.choose_language",
        programme=programme.name,
        institution=programme.institution,
    )
    await message.chat.send_message(
        text, reply_markup=keyboards.languages(services.texts, language, "start")
    )


async def choose_language(query: CallbackQuery, context: BotContext, language: str) -> None:
    """Show the privacy notice in the chosen language, with the consent buttons."""
    services = context.services
    programme = services.config.programme
    text = services.texts.get(
        language,
        "privacy.notice",
        version=programme.privacy_notice_version,
        institution=programme.institution,
    )
    await edit_text(query, text, keyboards.consent(services.texts, language))


async def answer_consent(
    query: CallbackQuery, context: BotContext, accepted: bool, language: str
) -> None:
    """Create the member on consent; on refusal store nothing and say how to come back."""
    services = context.services
    await close_keyboard(query)
    if not isinstance(query.message, Message):
        return
    if not accepted:
        await query.message.chat.send_message(services.texts.get(language, "consent.declined"))
        return
    user = query.from_user
    member = await services.registration.consent(user.id, user.username, language)
    await prompt(query.message, context, member)
