"""Entry points every person meets: /start, /help, /cancel, /language, routing, errors."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import Forbidden

from bot import keyboards
from bot.callbacks import Callback
from bot.context import BotContext, Route
from bot.flows.active import active, current, routes
from bot.flows.plug import EngineRoutes, engine_of
from bot.handlers import broadcasts, profile, registration
from bot.handlers.broadcast_screens import FLOW as BROADCAST
from bot.handlers.broadcasts_draft import DRAFTS, draft_of
from bot.handlers.survey_forms import FLOW as SURVEY
from bot.language import conversation_language, member_language
from bot.services.ics import localized
from bot.services.roles import commands_for
from storage.models import Conversation, Member

logger = logging.getLogger(__name__)


async def _member_and_message(
    update: Update, context: BotContext
) -> tuple[Member | None, Message] | None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    return await context.services.registration.member(user.id), message


async def start(update: Update, context: BotContext) -> None:
    """Begin registration, resume it at the stored step, or greet a registered member."""
    found = await _member_and_message(update, context)
    if found is None:
        return
    member, message = found
    user = update.effective_user
    if member is None:
        await registration.offer_languages(message, context, user.language_code if user else None)
        return
    texts = context.services.texts
    if member.status == "registering":
        lead = texts.get(member.language, "start.resume")
        await registration.prompt(message, context, member, lead=lead)
        return
    if member.step is not None:
        await registration.prompt(message, context, member)
        return
    if user is not None and await _resume_with_lead(message, context, user.id):
        return
    await message.chat.send_message(
        texts.get(member.language, "start.welcome_back", name=member.name or "")
    )


async def _resume_with_lead(message: Message, context: BotContext, telegram_id: int) -> bool:
    """/start while something waits (a survey, a notice, a meeting being created): say what it
    was and ask its question again; False when nothing waits."""
    texts = context.services.texts
    conversation = await active(context, telegram_id)
    resume: Route | None = None
    if conversation is not None:
        resume = routes(context, conversation).on_resume
    elif (place := await DRAFTS.load(context, telegram_id)) is not None and draft_of(place).texts:
        # A notice on a screen of buttons keeps no conversation, only its draft.
        conversation, resume = place, engine_of(context, BROADCAST).ask
    if conversation is None or resume is None:
        return False
    language = conversation_language(context, conversation)
    key = f"start.resume.{conversation.flow}"
    title = await _survey_title(context, conversation, language)
    lead = texts.get(
        language, key if texts.has(language, key) else "start.resume.flow", title=title
    )
    await message.chat.send_message(lead)
    await resume(message, context, conversation)
    return True


async def _survey_title(context: BotContext, conversation: Conversation, language: str) -> str:
    """The title of the survey a conversation answers ("" for other flows)."""
    if conversation.flow != SURVEY:
        return ""
    survey = await context.services.surveys.survey(
        int(conversation.state.get("extra", {}).get("survey", 0))
    )
    return localized(survey.titles, language) if survey is not None else ""


async def resume(update: Update, context: BotContext, ended_flow: str | None = None) -> None:
    """Ask the person's current question again, without taking anything as an answer; or, when
    the update finished what they were doing, say that it was done."""
    found = await _member_and_message(update, context)
    if found is None or update.effective_user is None:
        return
    member, message = found
    conversation = await current(context, update.effective_user.id)
    if conversation is not None:
        flow = routes(context, conversation)
        if flow.on_resume is not None:
            await flow.on_resume(message, context, conversation)
        return
    texts = context.services.texts
    language = member_language(context, member, update.effective_user.language_code)
    key = f"resume.ended.{ended_flow}"
    await message.chat.send_message(
        texts.get(language, key if texts.has(language, key) else "resume.ended")
    )


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands this person's roles allow, in their language."""
    found = await _member_and_message(update, context)
    if found is not None:
        await _send_help(update, context, *found)


async def _send_help(
    update: Update, context: BotContext, member: Member | None, message: Message
) -> None:
    if update.effective_user is None:
        return
    texts = context.services.texts
    language = member_language(context, member, update.effective_user.language_code)
    roles = await context.services.roles.roles_of(member, update.effective_user.id)
    lines = [texts.get(language, "help.header")]
    for command in commands_for(roles):
        lines.append(f"/{command} — {texts.get(language, f'cmd.{command}')}")
    await message.chat.send_message("\n".join(lines))


async def mark_reachable(update: Update, context: BotContext) -> None:
    """A member who blocked the bot and writes again can receive notices again."""
    user = update.effective_user
    services = context.services
    if user is not None and user.id in services.unreachable:
        services.unreachable.discard(user.id)
        await services.people.mark_reachable(user.id)


async def cancel(update: Update, context: BotContext) -> None:
    """Pause registration or abandon an edit; nothing already saved is lost."""
    found = await _member_and_message(update, context)
    if found is None or update.effective_user is None:
        return
    member, message = found
    texts = context.services.texts
    conversation = await active(context, update.effective_user.id)
    if conversation is not None:
        await routes(context, conversation).on_cancel(message, context, conversation)
        return
    if await broadcasts.cancel_draft(message, context, update.effective_user.id):
        return
    # A notice being composed goes first; then registration's place (the member row).
    conversation = await current(context, update.effective_user.id)
    if conversation is not None:
        await routes(context, conversation).on_cancel(message, context, conversation)
        return
    language = member_language(context, member, update.effective_user.language_code)
    await message.chat.send_message(texts.get(language, "cancel.nothing"))


async def language_command(update: Update, context: BotContext) -> None:
    """Let a member switch language (a newcomer starts with /start's choice)."""
    found = await _member_and_message(update, context)
    if found is None or update.effective_user is None:
        return
    member, message = found
    if member is None:
        await registration.offer_languages(message, context, update.effective_user.language_code)
        return
    texts = context.services.texts
    await message.chat.send_message(
        texts.get(member.language, "language.choose"),
        reply_markup=keyboards.languages(texts, member.language, "set"),
    )


async def on_text(update: Update, context: BotContext) -> None:
    """Typed text: the current flow's — the active conversation (a flow, a draft waiting for
    text), else registration's step — one route, whatever the text looks like."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    # The flow first: the member row is read again only for someone in no flow.
    conversation = await current(context, user.id)
    if conversation is not None:
        await routes(context, conversation).on_text(message, context, conversation)
        return
    await _outside_flows(update, context, message)


async def on_contact(update: Update, context: BotContext) -> None:
    """Route a shared contact to the phone step."""
    found = await _member_and_message(update, context)
    if found is None:
        return
    member, message = found
    if member is None or member.step is None:
        await on_other(update, context)
        return
    await registration.receive_contact(message, context, member)


async def on_other(update: Update, context: BotContext) -> None:
    """Anything else (stickers, photos, empty messages): explain what is expected."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    conversation = await current(context, user.id)
    if conversation is not None:
        flow = routes(context, conversation)
        if message.document is not None and flow.on_document is not None:
            await flow.on_document(message, context, conversation)
            return
        if isinstance(flow, EngineRoutes) and flow.on_other is not None:
            await flow.on_other(message, context, conversation)
            return
        texts, language = context.services.texts, conversation_language(context, conversation)
        await message.chat.send_message(texts.get(language, "error.text_expected"))
        return
    await _outside_flows(update, context, message)


async def _outside_flows(update: Update, context: BotContext, message: Message) -> None:
    """Someone in no flow: a newcomer is welcomed (languages), a member gets the help."""
    user = update.effective_user
    member = await context.services.registration.member(user.id) if user else None
    if member is None:
        language_code = update.effective_user.language_code if update.effective_user else None
        await registration.offer_languages(message, context, language_code)
        return
    await _send_help(update, context, member, message)


async def press_language(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """A language button: a newcomer's first choice, or a member's /language."""
    if data.argument in ("es", "en", "fr"):
        if data.action == "start" and member is None:
            await registration.choose_language(query, context, data.argument)
            return None
        if data.action == "set" and member is not None:
            await profile.change_language(query, context, member, data.argument)
            return None
    return context.services.texts.plain(language, "error.button_unknown")


async def press_registration(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Consent: a newcomer's (the steps' own buttons are routed to registration.on_button)."""
    if data.flow == "consent" and data.argument in ("es", "en", "fr") and member is None:
        # Consent buttons belong to a newcomer; pressed again after registering they are stale.
        await registration.answer_consent(query, context, data.action == "yes", data.argument)
        return None
    return context.services.texts.plain(language, "error.button_unknown")


async def press_profile(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """The profile's Done and the erase confirmation (members only)."""
    if member is None:
        return context.services.texts.plain(language, "error.button_unknown")
    return await profile.press(query, context, member, data)


async def on_error(update: object, context: BotContext) -> None:
    """Log every unhandled error with its traceback, tell the person and the admins' chat."""
    error = context.error
    if isinstance(error, Forbidden):
        logger.info("A person blocked the bot; nothing to tell them")
        return
    logger.error("Unhandled error while handling an update", exc_info=error)
    services = context.bot_data.services
    if services is None:
        return
    if isinstance(update, Update) and update.effective_chat is not None and update.effective_user:
        member = await services.registration.member(update.effective_user.id)
        language = member_language(context, member, update.effective_user.language_code)
        try:
            await update.effective_chat.send_message(
                services.texts.get(language, "error.unexpected")
            )
        except Exception:
            logger.warning("Could not tell the person about the error")
    chat_id = services.config.admins.chat_id
    if chat_id is not None:
        summary = f"{type(error).__name__}: {error}"[:500]
        language = services.config.programme.default_language
        try:
            alert = services.texts.get(language, "admin.error_alert", error=summary)
            await context.bot.send_message(chat_id, f"⚠️ {alert}")
        except Exception:
            logger.warning("Could not alert the admins' chat")
