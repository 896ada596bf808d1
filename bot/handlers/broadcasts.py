"""Composing a notice in chat (coordinators, staff, admins), progress messages, acknowledgements."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import Callback, button_data
from bot.context import BotContext, Services
from bot.delivery.worker import ProgressCallback
from bot.handlers.access import require_roles
from bot.i18n import LANGUAGES, Markup, Texts, format_local
from bot.services.broadcasts import message_text, parse_send_time
from bot.services.registration import InputError
from storage.db import utc_now
from storage.models import Broadcast, DeliveryCounts, Member

SENDER_ROLES = frozenset({"coordinator", "staff", "staff_pii", "admin"})
FILTER_ROLES = ("focal_point", "coordinator", "staff", "staff_pii", "admin")
TEXT_STEPS = frozenset(
    {"text", "text:es", "text:en", "text:fr", "regions", "cities", "associations", "when"}
)
DEFAULT_QUIET = ("09:00", "21:00")


def _actor(user_id: int) -> str:
    return f"telegram:{user_id}"


def _button(text: str, action: str, broadcast: Broadcast, *more: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text, callback_data=button_data("bc", action, ":".join([str(broadcast.id), *more]))
    )


async def _sender(update: Update, context: BotContext) -> tuple[str, Member | None, Message] | None:
    """(language, member, message) when the person may send notices; refuse everyone else."""
    allowed = await require_roles(update, context, SENDER_ROLES)
    if allowed is None:
        return None
    member, language, message = allowed
    return language, member, message


async def start_broadcast(update: Update, context: BotContext) -> None:
    """Open a new draft notice and ask for its text in the sender's language."""
    sender = await _sender(update, context)
    if sender is None or update.effective_user is None:
        return
    language, member, message = sender
    services = context.services
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    draft = await services.broadcasts.start_draft(
        _actor(update.effective_user.id), language, zone, message.chat.id
    )
    await services.broadcasts.set_step(draft, f"text:{language}")
    name = services.texts.get(language, f"language.name.{language}")
    await message.chat.send_message(services.texts.get(language, "bc.ask_text", lang_name=name))


async def draft_waiting_for_text(context: BotContext, user_id: int) -> Broadcast | None:
    draft = await context.services.broadcasts.draft(_actor(user_id))
    return draft if draft is not None and draft.step in TEXT_STEPS else None


async def receive_text(message: Message, context: BotContext, draft: Broadcast) -> None:
    """Take the typed part of a draft: a text version, regions, cities or the sending time."""
    service, texts = context.services.broadcasts, context.services.texts
    language = draft.fallback_language
    step = draft.step or ""
    try:
        if step.startswith("text"):
            version = step.partition(":")[2] or language
            draft = await service.set_text(draft, version, message.text)
            await _show_versions(message, context, await service.set_step(draft, "versions"))
            return
        if step == "regions":
            draft = await service.set_regions(draft, message.text)
        elif step == "cities":
            draft = await service.set_cities(draft, message.text)
        elif step == "associations":
            found = await service.find_associations(message.text)
            rows = [
                [
                    _button(
                        ("☑️ " if a.id in draft.audience.association_ids else "⬜ ") + a.name[:50],
                        "toggle",
                        draft,
                        "association",
                        str(a.id),
                    )
                ]
                for a in found
            ]
            rows.append([_button(texts.plain(language, "bc.back_to_audience"), "audience", draft)])
            await message.chat.send_message(
                texts.get(language, "bc.choose"), reply_markup=InlineKeyboardMarkup(rows)
            )
            return
        elif step == "when":
            moment = parse_send_time(message.text or "", draft.organiser_zone, utc_now())
            draft = await service.update(draft, send_at=moment)
            await _show_preview(message, context, await service.set_step(draft, "preview"))
            return
    except InputError as error:
        reason = texts.get(language, error.key, **error.values)
        await message.chat.send_message(f"⚠️ {reason}")
        return
    await _show_audience(message, context, await service.set_step(draft, "audience"))


async def _show_versions(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    texts, language = context.services.texts, draft.fallback_language
    versions = ", ".join(f"{code} {'✓' if code in draft.texts else '—'}" for code in LANGUAGES)
    fallback = texts.get(language, f"language.name.{draft.fallback_language}")
    rows = [
        [
            _button(
                texts.plain(
                    language, "bc.add_version", lang_name=texts.plain(code, f"language.name.{code}")
                ),
                "lang",
                draft,
                code,
            )
        ]
        for code in LANGUAGES
        if code not in draft.texts
    ]
    rows.append([_button(texts.plain(language, "bc.continue"), "audience", draft)])
    text = texts.get(language, "bc.versions", versions=versions, fallback=fallback)
    await _show(message, text, InlineKeyboardMarkup(rows), edit)


def _describe_audience(texts: Texts, language: str, draft: Broadcast) -> str:
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
    return " · ".join(parts)


async def _show_audience(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    services = context.services
    texts, language = services.texts, draft.fallback_language
    count = await services.broadcasts.recipient_count(draft)
    described = Markup(_describe_audience(texts, language, draft))
    text = texts.get(language, "bc.audience", filters=described, count=count)
    names = ("country", "region", "city", "sector", "theme", "role", "association")
    filters = [
        _button(texts.plain(language, f"bc.filter.{name}"), "filter", draft, name) for name in names
    ]
    rows = [filters[0:3], filters[3:6], filters[6:]]
    rows.append([_button(texts.plain(language, "bc.clear"), "clear", draft)])
    rows.append([_button(texts.plain(language, "bc.continue"), "preview", draft)])
    await _show(message, text, InlineKeyboardMarkup(rows), edit)


def _choices(context: BotContext, draft: Broadcast, name: str) -> list[tuple[str, str, str, bool]]:
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


async def _show_choices(message: Message, context: BotContext, draft: Broadcast, name: str) -> None:
    texts, language = context.services.texts, draft.fallback_language
    rows = [
        [_button(("☑️ " if chosen else "⬜ ") + label, "toggle", draft, name, value)]
        for _, value, label, chosen in _choices(context, draft, name)
    ]
    rows.append([_button(texts.plain(language, "bc.back_to_audience"), "audience", draft)])
    await _show(message, texts.get(language, "bc.choose"), InlineKeyboardMarkup(rows), True)


async def _show_preview(
    message: Message, context: BotContext, draft: Broadcast, edit: bool = False
) -> None:
    services = context.services
    texts, language = services.texts, draft.fallback_language
    count = await services.broadcasts.recipient_count(draft)
    when = texts.get(language, "bc.now")
    if draft.send_at is not None:
        when = (
            format_local(draft.send_at, draft.organiser_zone, language, "medium")
            + f" ({draft.organiser_zone})"
        )
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
        [_button(tick[draft.ask_ack] + texts.plain(language, "bc.toggle_ack"), "ack", draft)],
        [
            _button(
                tick[draft.quiet_start is not None] + texts.plain(language, "bc.toggle_quiet"),
                "quiet",
                draft,
            )
        ],
        [
            _button(texts.plain(language, "bc.schedule"), "when", draft),
            _button(texts.plain(language, "bc.send_now"), "now", draft),
        ],
        [_button(texts.plain(language, "bc.send"), "send", draft)],
        [_button(texts.plain(language, "bc.cancel"), "cancel", draft)],
        [_button(texts.plain(language, "bc.back_to_audience"), "audience", draft)],
    ]
    await _show(message, text, InlineKeyboardMarkup(rows), edit)


async def _show(message: Message, text: str, markup: InlineKeyboardMarkup, edit: bool) -> None:
    if edit:
        try:
            await message.edit_text(text, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error):
                raise
        return
    await message.chat.send_message(text, reply_markup=markup)


async def press(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Apply a composing button to the sender's current draft; stale drafts are refused."""
    services = context.services
    texts = services.texts
    message = query.message
    if not isinstance(message, Message):
        return None
    roles = await services.roles.roles_of(member, query.from_user.id)
    if not roles & SENDER_ROLES:
        return texts.plain(language, "error.not_allowed")
    draft_id, _, rest = data.argument.partition(":")
    draft = await services.broadcasts.draft(_actor(query.from_user.id))
    if draft is None or str(draft.id) != draft_id:
        return texts.plain(language, "error.button_unknown")
    service, action = services.broadcasts, data.action
    if action == "lang" and rest in LANGUAGES:
        await service.set_step(draft, f"text:{rest}")
        name = texts.get(draft.fallback_language, f"language.name.{rest}")
        await message.edit_reply_markup(None)
        await message.chat.send_message(
            texts.get(draft.fallback_language, "bc.ask_text", lang_name=name)
        )
    elif action == "audience":
        await _show_audience(message, context, await service.set_step(draft, "audience"), edit=True)
    elif action == "filter" and rest in ("region", "city"):
        await service.set_step(draft, "regions" if rest == "region" else "cities")
        await message.edit_reply_markup(None)
        key = "bc.ask_regions" if rest == "region" else "bc.ask_cities"
        await message.chat.send_message(texts.get(draft.fallback_language, key))
    elif action == "filter" and rest == "association":
        await service.set_step(draft, "associations")
        await message.edit_reply_markup(None)
        await message.chat.send_message(texts.get(draft.fallback_language, "bc.ask_association"))
    elif action == "toggle" and rest.startswith("association:"):
        association_id = rest.partition(":")[2]
        if not association_id.isdigit() or not await service.association_exists(
            int(association_id)
        ):
            return texts.plain(language, "error.button_unknown")
        draft = await service.toggle(draft, "association_ids", int(association_id))
        await _show_audience(message, context, await service.set_step(draft, "audience"), edit=True)
    elif action == "filter" and rest in ("country", "sector", "theme", "role"):
        await _show_choices(message, context, draft, rest)
    elif action == "toggle":
        name, _, value = rest.partition(":")
        allowed = (
            {choice[1]: choice[0] for choice in _choices(context, draft, name)}
            if name in ("country", "sector", "theme", "role")
            else {}
        )
        if value not in allowed:
            return texts.plain(language, "error.button_unknown")
        draft = await service.toggle(draft, allowed[value], value)
        await _show_choices(message, context, draft, name)
    elif action == "clear":
        await _show_audience(message, context, await service.clear_audience(draft), edit=True)
    elif action == "preview":
        await _show_preview(message, context, await service.set_step(draft, "preview"), edit=True)
    elif action == "ack":
        await _show_preview(
            message, context, await service.update(draft, ask_ack=not draft.ask_ack), edit=True
        )
    elif action == "quiet":
        start, end = (None, None) if draft.quiet_start else DEFAULT_QUIET
        await _show_preview(
            message,
            context,
            await service.update(draft, quiet_start=start, quiet_end=end),
            edit=True,
        )
    elif action == "when":
        await service.set_step(draft, "when")
        await message.edit_reply_markup(None)
        await message.chat.send_message(
            texts.get(draft.fallback_language, "bc.ask_when", zone=draft.organiser_zone)
        )
    elif action == "now":
        await _show_preview(message, context, await service.update(draft, send_at=None), edit=True)
    elif action == "cancel":
        await service.update(draft, status="cancelled")
        await message.edit_text(texts.get(draft.fallback_language, "bc.cancelled"))
    elif action == "send":
        return await _send(message, context, draft)
    else:
        return texts.plain(language, "error.button_unknown")
    return None


async def _send(message: Message, context: BotContext, draft: Broadcast) -> str | None:
    """Queue the notice for its audience and turn the preview into the live status message."""
    services = context.services
    texts, language = services.texts, draft.fallback_language
    if await services.broadcasts.recipient_count(draft) == 0:
        return texts.plain(language, "bc.no_recipients")
    draft = await services.broadcasts.update(
        draft,
        status_chat_id=message.chat.id,
        status_message_id=message.message_id,
        paid=services.config.delivery.paid_broadcasts,
    )
    count = await services.broadcasts.queue(draft)
    await message.edit_text(
        progress_text(texts, draft, DeliveryCounts(pending=count), None, final=False)
    )
    if services.delivery is not None:
        services.delivery.wake()
    return None


def progress_text(
    texts: Texts, broadcast: Broadcast, counts: DeliveryCounts, rate: float | None, final: bool
) -> str:
    """The status line of a notice, in its sender's language."""
    language = broadcast.fallback_language
    acks = texts.get(language, "bc.acks", acked=counts.acknowledged) if broadcast.ask_ack else ""
    values = {
        "id": broadcast.id,
        "sent": counts.sent,
        "total": counts.total,
        "pending": counts.pending + counts.sending,
        "blocked": counts.blocked,
        "failed": counts.failed,
    }
    if final:
        return texts.get(language, "bc.report", acks=Markup(acks), **values)
    eta = ""
    if rate and values["pending"]:
        left = timedelta(seconds=round(values["pending"] / rate))
        eta = texts.get(language, "bc.eta", eta=str(left))
    return texts.get(language, "bc.progress", eta=Markup(eta), acks=Markup(acks), **values)


def progress_reporter(bot: Bot, services: Services) -> ProgressCallback:
    """Edit each notice's status message as delivery goes, ending with the delivery report."""

    async def report(broadcast: Broadcast, final: bool) -> None:
        if broadcast.status_chat_id is None or broadcast.status_message_id is None:
            return
        counts = await services.store.broadcasts.counts(broadcast.id)
        rate = services.delivery.pacer.rate if services.delivery else None
        text = progress_text(
            services.texts, broadcast, counts, rate, final or broadcast.status == "done"
        )
        try:
            await bot.edit_message_text(
                text,
                chat_id=broadcast.status_chat_id,
                message_id=broadcast.status_message_id,
                parse_mode=ParseMode.HTML,
            )
        except BadRequest as error:
            if "not modified" not in str(error):
                raise

    return report


async def acknowledge(
    query: CallbackQuery, context: BotContext, member: Member | None, data: Callback, language: str
) -> str | None:
    """Record "I have read this" for the member (once) and thank them."""
    broadcast_id = data.int_argument()
    if member is None or broadcast_id is None:
        return context.services.texts.plain(language, "error.button_unknown")
    await context.services.broadcasts.acknowledge(broadcast_id, member.id)
    return context.services.texts.plain(member.language, "ack.thanks")


async def cancel_draft(message: Message, context: BotContext, user_id: int) -> bool:
    """/cancel while composing drops the draft; True if there was one."""
    draft = await context.services.broadcasts.draft(_actor(user_id))
    if draft is None:
        return False
    await context.services.broadcasts.update(draft, status="cancelled")
    await message.chat.send_message(
        context.services.texts.get(draft.fallback_language, "bc.cancelled")
    )
    return True


async def show_status(update: Update, context: BotContext) -> None:
    """List the latest notices with their delivery counts."""
    sender = await _sender(update, context)
    if sender is None:
        return
    language, _, message = sender
    services = context.services
    recent = await services.store.broadcasts.recent(10)
    if not recent:
        await message.chat.send_message(services.texts.get(language, "bc.status_none"))
        return
    lines = []
    for broadcast in recent:
        counts = await services.store.broadcasts.counts(broadcast.id)
        shown = broadcast.model_copy(update={"fallback_language": language})
        lines.append(progress_text(services.texts, shown, counts, None, broadcast.status == "done"))
    await message.chat.send_message("\n\n".join(lines))
