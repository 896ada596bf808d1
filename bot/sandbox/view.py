"""What the page is sent: each chat's messages as the person's Telegram app would show them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tgemu import ChatMessage

BotTime = Callable[[float], datetime]


def buttons(markup: dict[str, Any] | None) -> list[list[dict[str, str]]]:
    """The inline keyboard's rows: a label with its callback data or its URL (nothing else)."""
    rows: list[list[dict[str, str]]] = []
    for row in (markup or {}).get("inline_keyboard", []):
        shown = []
        for button in row:
            item = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                item["data"] = str(button["callback_data"])
            elif str(button.get("url", "")).startswith(("https://", "http://", "tg://")):
                item["url"] = str(button["url"])
            shown.append(item)
        rows.append(shown)
    return rows


def message(item: ChatMessage, bot_time: BotTime) -> dict[str, Any]:
    """One message: the plain text and Telegram's entities (the page builds the formatting from
    them, never from HTML), its buttons, a document or a contact, and whether it was edited."""
    shown: dict[str, Any] = {
        "id": item.message_id,
        "dir": item.direction,
        "time": bot_time(item.date).isoformat(),
        "edits": item.edits,
        "deleted": item.deleted,
        "text": item.text or "",
        # A person's own text is shown as typed; only the bot's carries formatting.
        "entities": (item.entities or []) if item.direction == "out" else [],
        "buttons": buttons(item.reply_markup),
    }
    if item.document is not None:
        shown["document"] = {
            "file_id": str(item.document.get("file_id", "")),
            "name": str(item.document.get("file_name") or "file"),
            "size": int(item.document.get("file_size") or 0),
        }
    if item.photo:
        # Telegram lists a photo's sizes smallest first; the page shows the largest.
        largest = item.photo[-1]
        shown["photo"] = {
            "file_id": str(largest.get("file_id", "")),
            "width": int(largest.get("width") or 0),
            "height": int(largest.get("height") or 0),
        }
    if item.contact is not None:
        shown["contact"] = {"phone": str(item.contact.get("phone_number", ""))}
    return shown


def reply_keyboard(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The keyboard that replaces the person's own while it is shown (None: their own)."""
    if not markup or "keyboard" not in markup:
        return None
    rows = []
    for row in markup["keyboard"]:
        rows.append(
            [
                {
                    "text": str(button.get("text", "")) if isinstance(button, dict) else button,
                    "contact": bool(isinstance(button, dict) and button.get("request_contact")),
                }
                for button in row
            ]
        )
    return {
        "rows": rows,
        "one_time": bool(markup.get("one_time_keyboard")),
        "placeholder": str(markup.get("input_field_placeholder") or ""),
    }
