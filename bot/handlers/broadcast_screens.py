"""The audience screens a flow borrows from /broadcast (a survey being opened), with the classic
``bc`` buttons; /broadcast itself runs on the engine (`bot.handlers.broadcast_flow`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.callbacks import button_data
from bot.config import ProgrammeConfig
from bot.context import BotContext
from bot.i18n import Markup, Texts
from bot.services.regions import place_name
from bot.services.typed_dates import typing_example
from storage.models import Broadcast

# The draft's conversation: while the draft waits for typed text, that text is its to take.
FLOW = "bcast"
TEXT_STEPS = frozenset(
    {"text", "text:es", "text:en", "text:fr", "regions", "cities", "associations", "when"}
)
FILTER_ROLES = ("focal_point", "coordinator", "staff", "staff_pii", "admin")


def button(text: str, action: str, broadcast: Broadcast, *more: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text, callback_data=button_data("bc", action, ":".join([str(broadcast.id), *more]))
    )


def describe_audience(texts: Texts, language: str, draft: Broadcast) -> str:
    audience = draft.audience
    if audience.is_everyone():
        return texts.get(language, "bc.everyone")
    parts = []
    labels: dict[str, tuple[str, Callable[[Any], str]]] = {
        "countries": ("bc.filter.country", lambda v: texts.plain(language, f"country.{v}")),
        "regions": ("bc.filter.region", lambda v: f"{v} — {place_name(v, language)}"),
        "cities": ("bc.filter.city", str),
        "association_ids": ("bc.filter.association", lambda v: f"#{v}"),
        "sectors": ("bc.filter.sector", lambda v: texts.label(language, "sector", v)),
        "themes": ("bc.filter.theme", lambda v: texts.label(language, "theme", v)),
        "roles": ("bc.filter.role", str),
    }
    for field, (key, show) in labels.items():
        values = getattr(audience, field)
        if values:
            shown = ", ".join(html.escape(show(value), quote=False) for value in values)
            parts.append(f"{texts.get(language, key)} = {shown}")
    if audience.meeting_id is not None:
        # The stored answers are codes (yes, maybe); the reader sees their own words (Sí, Tal vez).
        answers = ", ".join(
            texts.plain(language, f"mtg.answer.{answer}")
            for answer in audience.meeting_answers or ("yes",)
        )
        parts.append(
            texts.get(language, "bc.filter.meeting", id=audience.meeting_id, answers=answers)
        )
    return " · ".join(parts)


async def show_audience(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    services = context.services
    texts, language = services.texts, draft.fallback_language
    count = await services.broadcasts.recipient_count(draft)
    described = Markup(describe_audience(texts, language, draft))
    text = texts.get(language, "bc.audience", filters=described, count=count)
    names = ("country", "region", "city", "sector", "theme", "role", "association")
    filters = [
        button(texts.plain(language, f"bc.filter.{name}"), "filter", draft, name) for name in names
    ]
    rows = [filters[0:3], filters[3:6], filters[6:]]
    rows.append([button(texts.plain(language, "bc.clear"), "clear", draft)])
    rows.append([button(texts.plain(language, "bc.continue"), "preview", draft)])
    await show(message, text, InlineKeyboardMarkup(rows), edit)


def options(
    texts: Texts, language: str, programme: ProgrammeConfig, draft: Broadcast, name: str
) -> list[tuple[str, str, bool]]:
    """(value, label, chosen) of a filter ticked from buttons."""
    audience = draft.audience
    if name == "country":
        return [
            (c, texts.plain(language, f"country.{c}"), c in audience.countries)
            for c in ("CA", "US")
        ]
    if name == "sector":
        return [
            (s, texts.label(language, "sector", s), s in audience.sectors)
            for s in programme.sectors
        ]
    if name == "theme":
        return [
            (t, texts.label(language, "theme", t), t in audience.themes)
            for t in programme.thematic_groups
        ]
    return [(r, r, r in audience.roles) for r in FILTER_ROLES]


def choices(context: BotContext, draft: Broadcast, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, chosen) for a filter chosen from buttons, in the draft's language."""
    services = context.services
    programme = services.config.programme
    return options(services.texts, draft.fallback_language, programme, draft, name)


async def show_choices(message: Message, context: BotContext, draft: Broadcast, name: str) -> None:
    texts, language = context.services.texts, draft.fallback_language
    rows = [
        [button(("☑️ " if chosen else "⬜ ") + label, "toggle", draft, name, value)]
        for value, label, chosen in choices(context, draft, name)
    ]
    rows.append([button(texts.plain(language, "bc.back_to_audience"), "audience", draft)])
    await show(message, texts.get(language, "bc.choose"), InlineKeyboardMarkup(rows), True)


async def show(message: Message, text: str, markup: InlineKeyboardMarkup, edit: bool) -> None:
    if edit:
        try:
            await message.edit_text(text, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error):
                raise
        return
    await message.chat.send_message(text, reply_markup=markup)


def ask_for_text(context: BotContext, draft: Broadcast) -> str:
    """The question of a draft's typed step (its text in one language, regions, cities...)."""
    texts, language, step = context.services.texts, draft.fallback_language, draft.step or ""
    if step.startswith("text"):
        version = step.partition(":")[2] or language
        return texts.get(
            language, "bc.ask_text", lang_name=texts.get(language, f"language.name.{version}")
        )
    if step == "when":
        example = typing_example(context.services.clock.now(), draft.organiser_zone, language)
        return texts.get(language, "bc.ask_when", zone=draft.organiser_zone, example=example)
    keys = {"regions": "bc.ask_regions", "cities": "bc.ask_cities"}
    return texts.get(language, keys.get(step, "bc.ask_association"))
