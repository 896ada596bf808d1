"""Each notice kind renders itself at send time, from the data as it is then."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import button_data
from bot.i18n import Texts
from bot.services.broadcasts import BroadcastService, message_text
from storage.models import Broadcast, OutboxRow


@dataclass(frozen=True)
class RenderedNotice:
    """What one member receives: HTML text, its buttons, and optionally a document or a photo
    (a Telegram file id, uploaded once) after it."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    document: tuple[str, bytes] | None = None
    photo: str | None = None
    paid: bool = False


class NoticeRenderer(Protocol):
    async def render(self, row: OutboxRow) -> RenderedNotice | None:
        """The notice for this row now; None when it became obsolete (it is then skipped)."""
        ...


class BroadcastRenderer:
    """A coordinator's notice: header, their text in the member's language, an optional ack."""

    def __init__(self, broadcasts: BroadcastService, texts: Texts, programme_name: str) -> None:
        self._broadcasts = broadcasts
        self._texts = texts
        self._programme = programme_name
        self._cache: dict[int, Broadcast] = {}

    async def render(self, row: OutboxRow) -> RenderedNotice | None:
        """Header and body; the "I have read this" button when the sender asked for it."""
        broadcast_id = row.broadcast_id or row.ref
        if broadcast_id is None:
            return None
        broadcast = self._cache.get(broadcast_id)
        if broadcast is None:
            broadcast = await self._broadcasts.get(broadcast_id)
            if broadcast is None:
                return None
            # A queued broadcast's texts never change, so one read serves all its rows.
            self._cache[broadcast_id] = broadcast
        language = row.language
        body = html.escape(message_text(broadcast, language), quote=False)
        header = self._texts.get(language, "notice.header", programme=self._programme)
        markup = None
        if broadcast.ask_ack:
            label = self._texts.plain(language, "button.ack")
            data = button_data("ack", "yes", broadcast.id)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        cards = row.payload.get("cards") or {}
        card = cards.get(language) or cards.get(broadcast.fallback_language)
        photo = str(card) if card else None
        return RenderedNotice(f"{header}\n\n{body}", markup, paid=broadcast.paid, photo=photo)
