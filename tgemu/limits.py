"""What Telegram refuses to show: texts and captions too long, keyboards too big, button data
out of bounds — each answered with Telegram's own error text, so a bot finds out here first."""

from __future__ import annotations

import json
from typing import Any

from tgemu.html import EntityParseError, parse_entities
from tgemu.schema import BadRequest

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# Inline keyboards hold at most 100 buttons (Telegram's published limits, tginfo/Telegram-Limits).
MAX_INLINE_BUTTONS = 100
# Telegram documents no size for a keyboard; measured, it refuses one whose JSON passes about
# 10 kB (tginfo/Telegram-Limits#187: 100 buttons of 60-character labels fail) — and 99 buttons
# with 64-byte data fail too (python-telegram-bot#5104). The emulator takes 10 KiB of compact
# UTF-8 JSON, however the client encoded it, so a bot that fits here fits there.
MAX_MARKUP_BYTES = 10_240
MARKUP_TOO_LONG = "Bad Request: reply markup is too long"


def check_text(
    text: str,
    parse_mode: str | None,
    limit: int,
    what: str = "message text",
    entities: list[dict[str, Any]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Validate a text as Telegram would; return its plain form and its entities.

    Entities come from the HTML parse, else from those the bot gave explicitly. Telegram also
    finds links, @mentions and commands in any text by itself; the emulator does not. Length is
    counted after entity parsing: markup costs nothing, what the person reads does.
    """
    plain, found = text, list(entities or [])
    if parse_mode and parse_mode.upper() == "HTML":
        try:
            plain, found = parse_entities(text)
        except EntityParseError as exc:
            raise BadRequest(f"Bad Request: can't parse entities: {exc}") from None
    if not plain.strip():
        raise BadRequest(f"Bad Request: {what} is empty")
    if len(plain) > limit:
        # Telegram's words: "message is too long" for a text, "message caption is too long".
        subject = "message caption" if what == "caption" else "message"
        raise BadRequest(f"Bad Request: {subject} is too long")
    return plain, found


def markup_size(markup: dict[str, Any]) -> int:
    """Bytes of the keyboard as compact UTF-8 JSON (what the limit is measured on)."""
    return len(json.dumps(markup, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    """Refuse a keyboard Telegram would not draw: button data, button count, total size."""
    if not markup:
        return
    rows = markup.get("inline_keyboard", [])
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise BadRequest("Bad Request: text buttons are unallowed in the inline keyboard")
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise BadRequest(MARKUP_TOO_LONG)
    if markup_size(markup) > MAX_MARKUP_BYTES:
        raise BadRequest(MARKUP_TOO_LONG)
