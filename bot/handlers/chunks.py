"""What every handler does to messages: split long HTML text into messages Telegram accepts
(on whole lines, never inside a tag), and take the buttons off a screen that has been used."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence

from telegram import Message
from telegram.error import BadRequest

LIMIT = 3800
# A tag, an entity, or one plain character: the pieces a cut may fall between.
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")


def split_message(lines: Sequence[str], limit: int = LIMIT, separator: str = "\n") -> list[str]:
    """Lines packed into as few messages of at most `limit` characters as they fit."""
    messages: list[str] = []
    for line in lines:
        pieces = [line] if len(line) <= limit else _split_long(line, limit)
        for piece in pieces:
            if messages and len(messages[-1]) + len(separator) + len(piece) <= limit:
                messages[-1] += separator + piece
            else:
                messages.append(piece)
    return messages


def _split_long(text: str, limit: int) -> list[str]:
    """An over-long block: by its own lines first, then a single line between tokens."""
    if "\n" in text:
        return split_message(text.split("\n"), limit)
    return _cut_line(text, limit)


def _cut_line(line: str, limit: int) -> list[str]:
    """One line cut between tokens; tags still open are closed and opened again on the next."""
    pieces: list[str] = []
    opened: list[tuple[str, str]] = []
    current = ""
    for token in _TOKEN.findall(line):
        closing = "".join(f"</{name}>" for name, _ in reversed(opened))
        if current and len(current) + len(token) + len(closing) > limit:
            pieces.append(current + closing)
            current = "".join(tag for _, tag in opened)
        current += token
        name = _TAG_NAME.match(token) if token.startswith("<") else None
        if name is None:
            continue
        if token.startswith("</"):
            for index in range(len(opened) - 1, -1, -1):
                if opened[index][0] == name.group(1).lower():
                    del opened[index]
                    break
        elif not token.endswith("/>"):
            opened.append((name.group(1).lower(), token))
    if current:
        pieces.append(current)
    return pieces


async def close_buttons(message: Message) -> None:
    """Take the buttons off an answered screen, so it cannot be answered twice."""
    # Already gone (pressed twice, or the message was deleted): nothing left to take off.
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(None)
