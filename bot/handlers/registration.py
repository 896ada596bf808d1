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
from storage.models import Conversation, Member


def _engine(context: BotContext) -> StepFlow:
    """The one registration engine, built by `registration_flow` and kept with its routes."""
    return engine_of(context, FLOW)


async def prompt(message: Message, context: BotContext, member: Member, lead: str = "") -> None:
    """Ask the question of the member's current step (with an optional lead line)."""
    await _engine(context).ask(message, context, MEMBERS.of(member), lead)


async def receive_contact(message: Message, context: BotContext, member: Member) -> None:
    """Take the phone number shared with Telegram's contact button."""
    await _engine(context).on_contact(message, context, MEMBERS.of(member))


async def _in_a_step(context: BotContext, telegram_id: int) -> Conversation | None:
    """The member's place, while they are in a step (registering, or editing their profile)."""
    member = await context.services.registration.member(telegram_id)
    return MEMBERS.of(member) if member is not None and member.step is not None else None


def registration_flow() -> flows.Flow:
    """Registration's buttons and routes. Its place is the member row, read when no conversation
    is active (`bot.flows.active.current`): typed text, /cancel and a restart reach the engine
    as any flow's do; a sticker or photo is refused with the question asked again."""
    engine = registration_engine()

    async def other(message: Message, context: BotContext, conversation: Conversation) -> None:
        await engine.refuse(message, context, conversation, InputError("error.text_expected"))

    return flows.Flow(engine, place=_in_a_step, on_other=other)


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
