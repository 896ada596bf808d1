"""Registration: language, consent, then one step per profile field, resumable from the database."""

from __future__ import annotations

import html
import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot import keyboards
from bot.context import BotContext
from bot.handlers.access import identify
from bot.i18n import pick_language
from bot.services import regions
from bot.services.registration import InputError
from bot.services.registration_steps import BY_KEY, EDITABLE, ChoiceView, Option, RegStep, seq_of
from bot.services.zones import spoken_zone
from bot.steps import Press
from storage.models import Association, Member

logger = logging.getLogger(__name__)


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
    text, markup = await _question(context, member)
    if lead:
        text = f"{lead}\n\n{text}"
    await message.chat.send_message(text, reply_markup=markup)


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


async def _view(
    context: BotContext, member: Member, found: list[Association] | None = None
) -> ChoiceView:
    """What the current step's choices are drawn from (associations only where asked)."""
    services = context.services
    if found is None and member.step == "association":
        found = await services.registration.association_choices(member)
    return ChoiceView(
        texts=services.texts,
        language=member.language,
        member=member,
        sectors=services.registration.sectors,
        themes=services.registration.themes,
        now=services.clock.now(),
        associations=found or [],
    )


def _options(step: RegStep, view: ChoiceView) -> list[Option]:
    return list(step.choices(view)) if step.choices is not None else []


def _markup(step: RegStep, view: ChoiceView, page: int = 0) -> Markup:
    """A step's buttons, drawn from its declaration: choices, extras, Skip, Back."""
    texts, language, member = view.texts, view.language, view.member
    if step.kind == "contact":
        return keyboards.share_phone(texts, language)
    if step.kind == "review":
        return keyboards.summary(texts, member)
    options = _options(step, view)
    indexed = list(enumerate(options))
    rows: list[list[InlineKeyboardButton]] = []
    if step.page_size is not None:
        pages = max(1, -(-len(options) // step.page_size))
        page = min(max(page, 0), pages - 1)
        indexed = indexed[page * step.page_size : (page + 1) * step.page_size]
    buttons = []
    for index, option in indexed:
        if step.kind == "multi":
            tick = "☑️ " if option.value in member.themes else "⬜ "
            buttons.append(keyboards.step_button(tick + option.label, step.key, "t", index))
        else:
            number = int(option.value) if step.index_is_value else index
            buttons.append(keyboards.step_button(option.label, step.key, "c", number))
    rows.extend(buttons[i : i + step.columns] for i in range(0, len(buttons), step.columns))
    if step.page_size is not None:
        paging = []
        if page > 0:
            label = texts.get(language, "button.previous_page")
            paging.append(keyboards.step_button(label, step.key, "p", page - 1))
        if (page + 1) * step.page_size < len(options):
            label = texts.get(language, "button.next_page")
            paging.append(keyboards.step_button(label, step.key, "p", page + 1))
        if paging:
            rows.append(paging)
    if step.kind == "multi":
        rows.append([keyboards.step_button(texts.get(language, "button.done"), step.key, "d")])
    if step.extras:
        rows.append(
            [
                keyboards.step_button(texts.get(language, key), step.key, "k", index)
                for index, key in enumerate(step.extras)
            ]
        )
    if step.optional:
        rows.append([keyboards.step_button(texts.get(language, "button.skip"), step.key, "s")])
    if step.back == "always" or (step.back == "editing" and member.editing):
        rows.append([keyboards.step_button(texts.get(language, "button.back"), step.key, "b")])
    return InlineKeyboardMarkup(rows) if rows else None


async def _question(
    context: BotContext, member: Member, found: list[Association] | None = None
) -> tuple[str, Markup]:
    """The current step's question and buttons, as its declaration describes them."""
    texts, language = context.services.texts, member.language
    step = BY_KEY[member.step or "summary"]
    view = await _view(context, member, found)
    if step.kind == "review":
        title = "summary.title" if member.status == "registering" else "profile.title"
        return await profile_text(context, member, title), _markup(step, view)
    values: dict[str, str] = {}
    if step.key == "zone":
        place = regions.region(member.country or "", member.region or "")
        values["region"] = place.name if place else ""
    return texts.get(language, step.question, **values), _markup(step, view)


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
        markup: Markup = keyboards.summary(texts, after)
    else:
        text, markup = await _question(context, after)
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
async def _search_associations(
    message: Message, context: BotContext, member: Member, text: str
) -> None:
    """Typed text at a choice step that searches: the same choices, narrowed to what was typed."""
    services = context.services
    texts, language = services.texts, member.language
    found = await services.registration.search_associations(member, text)
    query = " ".join(text.split())[:40]
    key = "ask.association_results" if found else "ask.association_none_found"
    step = BY_KEY["association"]
    await message.chat.send_message(
        texts.get(language, key, query=query),
        reply_markup=_markup(step, await _view(context, member, found)),
    )


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
        after = await services.registration.answer_text(member, text)
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
async def on_button(update: Update, context: BotContext) -> None:
    """A registration button: valid only for the member's current step."""
    query = update.callback_query
    if query is None:
        return
    member, language = await identify(update, context)
    data = Press.parse(query.data)
    if data is None or member is None:
        await query.answer(context.services.texts.plain(language, "error.button_unknown"))
        return
    await query.answer(await press(query, context, member, data))


async def press(
    query: CallbackQuery, context: BotContext, member: Member, data: Press
) -> str | None:
    """Apply a registration button to the member's current step; return a notice to pop up."""
    services = context.services
    registration = services.registration
    message = query.message
    if not isinstance(message, Message):
        return None
    if data.seq != seq_of(member.step):
        return await _stale(query, context, member)
    step = BY_KEY[member.step or "summary"]
    if data.action == "p" and step.page_size is not None:
        markup = _markup(step, await _view(context, member), data.index or 0)
        if isinstance(markup, InlineKeyboardMarkup):
            await _edit_markup(query, markup)
        return None
    if data.action == "t" and step.kind == "multi":
        options = _options(step, await _view(context, member))
        if data.index is None or data.index >= len(options):
            return await _stale(query, context, member)
        after = await registration.toggle_theme(member, options[data.index].value)
        markup = _markup(step, await _view(context, after))
        if isinstance(markup, InlineKeyboardMarkup):
            await _edit_markup(query, markup)
        return None
    try:
        after = await _apply(context, member, step, data)
    except InputError as error:
        if error.key == "error.themes_none":
            return services.texts.plain(member.language, error.key)
        return await _stale(query, context, member)
    if data.action == "d" and step.kind == "review":
        done = services.texts.get(after.language, "registered.done", name=after.name or "")
        await _edit_text(query, done, None)
        return None
    await after_step(message, context, member, after, pressed=query)
    return None


async def _apply(context: BotContext, member: Member, step: RegStep, data: Press) -> Member:
    """What a press does at this step, by the kind of step and the action it carries."""
    registration = context.services.registration
    action, index = data.action, data.index
    if action == "b":
        return await registration.back(member)
    if action == "c" and step.kind == "choice" and index is not None:
        if step.index_is_value:
            return await registration.choose(member, str(index))
        options = _options(step, await _view(context, member))
        if index < len(options):
            return await registration.choose(member, options[index].value)
    if action == "k" and index is not None and index < len(step.extras):
        return await registration.extra_button(member, index)
    if action == "s" and step.optional:
        return await registration.skip(member)
    if action == "d" and step.kind in ("multi", "review"):
        return await registration.done(member)
    if action == "e" and step.kind == "review" and index is not None and index < len(EDITABLE):
        return await registration.edit(member, EDITABLE[index])
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
