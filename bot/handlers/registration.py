"""Registration: language, consent, then one step per profile field, resumable from the database."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from bot import keyboards
from bot.callbacks import Callback
from bot.context import BotContext
from bot.i18n import Texts, pick_language
from bot.services import regions
from bot.services.registration import InputError, RegistrationService
from bot.services.zones import spoken_zone
from storage.models import Member

logger = logging.getLogger(__name__)

# Which step a button belongs to; a press for another step is stale.
BUTTON_STEPS: dict[str, frozenset[str]] = {
    "country": frozenset({"country"}),
    "region": frozenset({"region"}),
    "rpage": frozenset({"region"}),
    "zone": frozenset({"zone"}),
    "assoc": frozenset({"association"}),
    "assoc_new": frozenset({"association"}),
    "assoc_none": frozenset({"association"}),
    "sector": frozenset({"sector"}),
    "theme": frozenset({"themes"}),
    "themes_done": frozenset({"themes"}),
    "skip": frozenset({"email"}),
    "confirm": frozenset({"summary"}),
}


# ---- rendering -----------------------------------------------------------------------------
async def profile_text(context: BotContext, member: Member, title_key: str) -> str:
    """The member's profile as HTML, every stored value escaped."""
    texts, language = context.services.texts, member.language
    none = texts.get(language, "value.none")

    def line(field: str, value: str | None) -> str:
        shown = html.escape(value, quote=False) if value else none
        return f"<b>{texts.get(language, f'field.{field}')}:</b> {shown}"

    place_parts = [member.city, regions.region(member.country or "", member.region or "")]
    place = ", ".join(
        part if isinstance(part, str) else part.name for part in place_parts if part is not None
    )
    if member.country:
        place = f"{place} ({texts.get(language, f'country.{member.country}')})"
    association = texts.get(language, "value.no_association") if member.association_none else None
    if member.association_id is not None:
        found = await context.services.registration.association(member.association_id)
        if found is not None:
            association = found.name
            if found.status == "pending":
                association += " " + texts.get(language, "value.pending")
    themes = ", ".join(texts.label(language, "theme", key) for key in member.themes)
    lines = [
        texts.get(language, title_key),
        "",
        line("name", member.name),
        line("place", place or None),
        line("zone", spoken_zone(member.time_zone, language) if member.time_zone else None),
        line("association", association),
        line("sector", texts.label(language, "sector", member.sector) if member.sector else None),
        line("themes", themes or None),
        line("email", member.email),
        line("phone", member.phone),
        line("language", texts.get(language, f"language.name.{language}")),
    ]
    return "\n".join(lines)


async def prompt(message: Message, context: BotContext, member: Member, lead: str = "") -> None:
    """Ask the question of the member's current step (with an optional lead line)."""
    services = context.services
    text, markup = await _question(context, member, services.texts, services.registration)
    if lead:
        text = f"{lead}\n\n{text}"
    await message.chat.send_message(text, reply_markup=markup)


async def _question(
    context: BotContext, member: Member, texts: Texts, registration: RegistrationService
) -> tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup | None]:
    language, step = member.language, member.step
    if step == "name":
        back = keyboards.with_back(texts, language, "name") if member.editing else None
        return texts.get(language, "ask.name"), back
    if step == "country":
        return texts.get(language, "ask.country"), keyboards.countries(texts, language)
    if step == "region":
        country = member.country or "US"
        return texts.get(language, "ask.region"), keyboards.region_page(texts, language, country, 0)
    if step == "city":
        return texts.get(language, "ask.city"), keyboards.with_back(texts, language, "city")
    if step == "zone":
        place = regions.region(member.country or "", member.region or "")
        choices = registration.zone_choices(member)
        text = texts.get(language, "ask.zone", region=place.name if place else "")
        return text, keyboards.zones(texts, language, choices, context.services.clock.now())
    if step == "association":
        found = await registration.association_choices(member)
        return texts.get(language, "ask.association"), keyboards.associations(
            texts, language, found
        )
    if step == "association_new":
        back = keyboards.with_back(texts, language, "association_new")
        return texts.get(language, "ask.association_new"), back
    if step == "sector":
        return texts.get(language, "ask.sector"), keyboards.sectors(
            texts, language, registration.sectors
        )
    if step == "themes":
        markup = keyboards.themes(texts, language, registration.themes, member.themes)
        return texts.get(language, "ask.themes"), markup
    if step == "email":
        return texts.get(language, "ask.email"), keyboards.optional_text(texts, language, "email")
    if step == "phone":
        return texts.get(language, "ask.phone"), keyboards.share_phone(texts, language)
    title = "summary.title" if member.status == "registering" else "profile.title"
    return await profile_text(context, member, title), keyboards.summary(texts, member)


async def after_step(
    message: Message,
    context: BotContext,
    before: Member,
    after: Member,
    pressed: CallbackQuery | None = None,
) -> None:
    """Show what comes next: the next question, or the profile at the end of an edit.

    After a button press the pressed message becomes the next question (one edit instead of
    closing it and sending a new one); the phone step needs its own message for the reply keyboard.
    """
    texts = context.services.texts
    if before.step == "phone":
        key = "phone.received" if after.phone else "phone.skipped"
        await message.chat.send_message(
            texts.get(after.language, key), reply_markup=ReplyKeyboardRemove()
        )
    if after.status == "active" and after.step is None:
        text = await profile_text(context, after, "profile.title")
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = keyboards.summary(texts, after)
    else:
        text, markup = await _question(context, after, texts, context.services.registration)
    if pressed is not None and not isinstance(markup, ReplyKeyboardMarkup):
        await _edit_text(pressed, text, markup)
        return
    if pressed is not None:
        await close_keyboard(pressed)
    await message.chat.send_message(text, reply_markup=markup)


# ---- entry: /start, language, consent ------------------------------------------------------
async def offer_languages(
    message: Message, context: BotContext, telegram_language: str | None
) -> None:
    """Greet a newcomer in their Telegram language and let them choose ours."""
    services = context.services
    language = pick_language(telegram_language, services.config.programme.default_language)
    text = services.texts.get(
        language, "start.choose_language", programme=services.config.programme.name
    )
    await message.chat.send_message(
        text, reply_markup=keyboards.languages(services.texts, language, "start")
    )


async def choose_language(query: CallbackQuery, context: BotContext, language: str) -> None:
    """Show the privacy notice in the chosen language, with the consent buttons."""
    services = context.services
    text = services.texts.get(
        language, "privacy.notice", version=services.config.programme.privacy_notice_version
    )
    await _edit_text(query, text, keyboards.consent(services.texts, language))


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


# ---- free text ------------------------------------------------------------------------------
TextStep = Callable[[RegistrationService, Member, str], Awaitable[Member]]


async def _search_associations(
    message: Message, context: BotContext, member: Member, text: str
) -> None:
    """Show the associations matching what the member typed."""
    services = context.services
    texts, language = services.texts, member.language
    found = await services.registration.search_associations(member, text)
    query = " ".join(text.split())[:40]
    key = "ask.association_results" if found else "ask.association_none_found"
    await message.chat.send_message(
        texts.get(language, key, query=query),
        reply_markup=keyboards.associations(texts, language, found),
    )


TEXT_STEPS: dict[str, TextStep] = {
    "name": lambda service, member, text: service.set_name(member, text),
    "country": lambda service, member, text: service.set_country_typed(member, text),
    "region": lambda service, member, text: service.set_region(member, text),
    "city": lambda service, member, text: service.set_city(member, text),
    "association_new": lambda service, member, text: service.propose_association(member, text),
    "email": lambda service, member, text: service.set_email(member, text),
}


async def receive_text(message: Message, context: BotContext, member: Member) -> None:
    """Take a typed answer for the member's current step, or explain why it was refused."""
    services = context.services
    texts, language = services.texts, member.language
    text = message.text or ""
    try:
        if member.step == "association":
            await _search_associations(message, context, member, text)
            return
        if member.step == "phone":
            if text.strip() == texts.plain(language, "button.skip"):
                after = await services.registration.skip(member)
                await after_step(message, context, member, after)
                return
            raise InputError("error.phone_typed")
        step = TEXT_STEPS.get(member.step or "")
        if step is None:
            raise InputError("error.choose_button")
        after = await step(services.registration, member, text)
    except InputError as error:
        await refuse(message, context, member, error)
        return
    await after_step(message, context, member, after)


async def receive_contact(message: Message, context: BotContext, member: Member) -> None:
    """Take the phone number shared with Telegram's contact button."""
    contact = message.contact
    if member.step != "phone" or contact is None:
        await refuse(message, context, member, InputError("error.text_expected"))
        return
    try:
        after = await context.services.registration.set_phone(
            member, contact.phone_number, contact.user_id
        )
    except InputError as error:
        await refuse(message, context, member, error)
        return
    await after_step(message, context, member, after)


async def refuse(message: Message, context: BotContext, member: Member, error: InputError) -> None:
    """Explain in the member's language why the answer was not taken, and ask again."""
    reason = context.services.texts.get(member.language, error.key, **error.values)
    await prompt(message, context, member, lead=f"⚠️ {reason}")


# ---- buttons --------------------------------------------------------------------------------
async def press(
    query: CallbackQuery, context: BotContext, member: Member, data: Callback
) -> str | None:
    """Apply a registration button to the member's current step; return a notice to pop up."""
    services = context.services
    registration = services.registration
    message = query.message
    if not isinstance(message, Message):
        return None
    allowed = BUTTON_STEPS.get(data.action)
    stale = (
        (allowed is not None and member.step not in allowed)
        or (data.action == "edit" and member.step not in ("summary", None))
        or (data.action == "back" and data.argument != member.step)
    )
    if stale:
        return await _stale(query, context, member)
    if data.action == "rpage":
        page = data.int_argument() or 0
        markup = keyboards.region_page(
            services.texts, member.language, member.country or "US", page
        )
        await _edit_markup(query, markup)
        return None
    if data.action == "theme":
        try:
            after = await registration.toggle_theme(member, data.argument)
        except InputError:
            return await _stale(query, context, member)
        markup = keyboards.themes(services.texts, after.language, registration.themes, after.themes)
        await _edit_markup(query, markup)
        return None
    try:
        after = await _apply_button(registration, member, data)
    except InputError as error:
        if error.key == "error.themes_none":
            return services.texts.plain(member.language, error.key)
        return await _stale(query, context, member)
    if data.action == "confirm":
        done = services.texts.get(after.language, "registered.done", name=after.name or "")
        await _edit_text(query, done, None)
        return None
    await after_step(message, context, member, after, pressed=query)
    return None


async def _apply_button(
    registration: RegistrationService, member: Member, data: Callback
) -> Member:
    action, argument = data.action, data.argument
    if action == "back":
        return await registration.back(member)
    if action == "country":
        return await registration.set_country(member, argument)
    if action == "region":
        return await registration.set_region(member, argument)
    if action == "zone":
        choices = registration.zone_choices(member)
        index = data.int_argument()
        if index is None or index >= len(choices):
            raise InputError("error.choose_button")
        return await registration.set_zone(member, choices[index])
    if action == "assoc":
        association_id = data.int_argument()
        if association_id is None:
            raise InputError("error.choose_button")
        return await registration.set_association(member, association_id)
    if action == "assoc_new":
        return await registration.ask_new_association(member)
    if action == "assoc_none":
        return await registration.set_no_association(member)
    if action == "sector":
        return await registration.set_sector(member, argument)
    if action == "themes_done":
        return await registration.finish_themes(member)
    if action == "skip":
        return await registration.skip(member)
    if action == "edit":
        return await registration.edit(member, argument)
    if action == "confirm":
        return await registration.confirm(member)
    raise InputError("error.choose_button")


async def _stale(query: CallbackQuery, context: BotContext, member: Member) -> str:
    """A button from an earlier step: show the current step again; return the pop-up notice."""
    texts = context.services.texts
    await close_keyboard(query)
    if isinstance(query.message, Message) and member.step is not None:
        await prompt(query.message, context, member, lead=texts.get(member.language, "error.stale"))
    return texts.plain(member.language, "error.button_unknown")


async def close_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off an answered question so they cannot be pressed twice."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await _edit_markup(query, None)


async def _edit_text(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


async def _edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as error:
        # Pressing twice quickly asks for the same markup again; nothing to change.
        if "not modified" not in str(error):
            raise
