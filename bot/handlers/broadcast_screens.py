"""The screens of composing a notice: versions, audience, filter choices, preview."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.callbacks import button_data
from bot.context import BotContext
from bot.i18n import LANGUAGES, Markup, Texts, format_meeting_time
from bot.services.broadcasts import message_text
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


async def show_versions(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    texts, language = context.services.texts, draft.fallback_language
    # Every language is named in the reader's language ("inglés", not "English", in Spanish).
    versions = ", ".join(
        f"{texts.plain(language, f'language.name.{code}')} {'✓' if code in draft.texts else '—'}"
        for code in LANGUAGES
    )
    fallback = texts.get(language, f"language.name.{draft.fallback_language}")
    rows = []
    for code in LANGUAGES:
        key = "bc.change_version" if code in draft.texts else "bc.add_version"
        name = texts.plain(language, f"language.name.{code}")
        rows.append([button(texts.plain(language, key, lang_name=name), "lang", draft, code)])
    rows.append([button(texts.plain(language, "bc.continue"), "audience", draft)])
    text = texts.get(language, "bc.versions", versions=versions, fallback=fallback)
    await show(message, text, InlineKeyboardMarkup(rows), edit)


def describe_audience(texts: Texts, language: str, draft: Broadcast) -> str:
    audience = draft.audience
    if audience.is_everyone():
        return texts.get(language, "bc.everyone")
    parts = []
    labels: dict[str, tuple[str, Callable[[Any], str]]] = {
        "countries": ("bc.filter.country", lambda v: texts.plain(language, f"country.{v}")),
        "regions": ("bc.filter.region", str),
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


def choices(context: BotContext, draft: Broadcast, name: str) -> list[tuple[str, str, str, bool]]:
    """(field, value, label, chosen) for a filter chosen from buttons."""
    services = context.services
    texts, language, audience = services.texts, draft.fallback_language, draft.audience
    if name == "country":
        return [
            ("countries", c, texts.plain(language, f"country.{c}"), c in audience.countries)
            for c in ("CA", "US")
        ]
    if name == "sector":
        return [
            ("sectors", s, texts.label(language, "sector", s), s in audience.sectors)
            for s in services.config.programme.sectors
        ]
    if name == "theme":
        return [
            ("themes", t, texts.label(language, "theme", t), t in audience.themes)
            for t in services.config.programme.thematic_groups
        ]
    return [("roles", r, r, r in audience.roles) for r in FILTER_ROLES]


async def show_choices(message: Message, context: BotContext, draft: Broadcast, name: str) -> None:
    texts, language = context.services.texts, draft.fallback_language
    rows = [
        [button(("☑️ " if chosen else "⬜ ") + label, "toggle", draft, name, value)]
        for _, value, label, chosen in choices(context, draft, name)
    ]
    rows.append([button(texts.plain(language, "bc.back_to_audience"), "audience", draft)])
    await show(message, texts.get(language, "bc.choose"), InlineKeyboardMarkup(rows), True)


async def show_preview(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    services = context.services
    texts, language = services.texts, draft.fallback_language
    count = await services.broadcasts.recipient_count(draft)
    when = texts.get(language, "bc.now")
    if draft.send_at is not None:
        when = (
            format_meeting_time(draft.send_at, draft.organiser_zone, language)
            + f" ({draft.organiser_zone})"
        )
    short_when = texts.plain(language, "bc.now")
    if draft.send_at is not None:
        short_when = format_meeting_time(draft.send_at, draft.organiser_zone, language)
    quiet = texts.get(language, "bc.any_time")
    if draft.quiet_start and draft.quiet_end:
        quiet = texts.get(language, "bc.quiet_window", start=draft.quiet_start, end=draft.quiet_end)
    body = html.escape(message_text(draft, language), quote=False)
    header = texts.get(language, "notice.header", programme=services.config.programme.name)
    text = texts.get(
        language,
        "bc.preview",
        lang_name=texts.plain(language, f"language.name.{language}"),
        message=Markup(f"{header}\n\n{body}"),
        count=count,
        when=when,
        quiet=Markup(quiet),
        ack=texts.plain(language, "bc.yes" if draft.ask_ack else "bc.no"),
    )
    tick = {True: "☑️ ", False: "⬜ "}
    rows = [
        [button(tick[draft.ask_ack] + texts.plain(language, "bc.toggle_ack"), "ack", draft)],
        [
            button(
                tick[draft.quiet_start is not None] + texts.plain(language, "bc.toggle_quiet"),
                "quiet",
                draft,
            )
        ],
        # The time is a setting like the two above; only the last button sends.
        [button(texts.plain(language, "bc.when_button", when=short_when), "when", draft)],
        [button(texts.plain(language, "bc.send"), "send", draft)],
        [button(texts.plain(language, "bc.cancel"), "cancel", draft)],
        [button(texts.plain(language, "bc.back_to_audience"), "audience", draft)],
        [button(texts.plain(language, "bc.back_to_texts"), "versions", draft)],
    ]
    await show(message, text, InlineKeyboardMarkup(rows), edit)


async def show_when(message: Message, context: BotContext, draft: Broadcast) -> None:
    """The choice of when the notice goes: now (once confirmed) or at a date and time."""
    texts, language = context.services.texts, draft.fallback_language
    mark = {True: "✓ ", False: ""}
    rows = [
        [button(mark[draft.send_at is None] + texts.plain(language, "bc.send_now"), "now", draft)],
        [
            button(
                mark[draft.send_at is not None] + texts.plain(language, "bc.schedule"),
                "when",
                draft,
                "at",
            )
        ],
        [button(texts.plain(language, "bc.back_to_preview"), "preview", draft)],
    ]
    text = texts.get(language, "bc.when_title", zone=draft.organiser_zone)
    await show(message, text, InlineKeyboardMarkup(rows), True)


async def show(message: Message, text: str, markup: InlineKeyboardMarkup, edit: bool) -> None:
    if edit:
        try:
            await message.edit_text(text, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error):
                raise
        return
    await message.chat.send_message(text, reply_markup=markup)


async def follow(context: BotContext, telegram_id: int, draft: Broadcast | None) -> None:
    """Make the draft the person's active conversation exactly while it waits for typed text.

    Free text then has one route (the active conversation), whatever else it looks like (a
    check-in code). Asked for a text, the person chose to type it now: the draft takes over from
    another flow left open, as any flow begun does. A flow that borrowed the draft's screens (a
    survey being opened) keeps the conversation: it routes the draft's text itself.
    """
    conversations = context.services.conversations
    current = await conversations.get(telegram_id)
    if current is not None and current.flow != FLOW:
        borrowed = draft is not None and current.state.get("extra", {}).get("draft") == draft.id
        if borrowed or draft is None or draft.step not in TEXT_STEPS:
            return
    if draft is not None and draft.status == "draft" and draft.step in TEXT_STEPS:
        state = {"language": draft.fallback_language, "draft": draft.id}
        await conversations.save(telegram_id, FLOW, draft.step or "", state)
    elif current is not None:
        await conversations.end(telegram_id, FLOW)


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
