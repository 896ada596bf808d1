"""Telegram's HTML parse mode, strictly: the plain text and the entities it yields, or a refusal."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
# Tags whose entity needs nothing but the tag's name.
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:=(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_MENTION = re.compile(r"tg://user\?id=([0-9]{1,15})$")


class EntityParseError(ValueError):
    """The text would be refused by Telegram with "can't parse entities"."""


@dataclass
class _Open:
    name: str
    attributes: dict[str, str]
    start: int  # in UTF-16 code units of the plain text, as Telegram counts offsets
    order: int  # where the tag opens in the HTML: at equal ranges, the outer tag first
    piece: int  # how many plain pieces came before it: a mention's link text starts there
    language: str | None = None  # a <pre>'s, from the <code class="language-…"> inside it


def _check_entities(segment: str, offset: int) -> str:
    position = 0
    while (amp := segment.find("&", position)) != -1:
        match = _ENTITY.match(segment, amp)
        if not match:
            raise EntityParseError(
                f"Character '&' is reserved and must be escaped at byte offset {offset + amp}"
            )
        position = match.end()
    if ">" in segment:
        where = offset + segment.index(">")
        raise EntityParseError(
            f"Character '>' is reserved and must be escaped at byte offset {where}"
        )
    return html.unescape(segment)


def utf16_length(text: str) -> int:
    """Telegram's length of a text: characters outside the BMP (most emoji) count two."""
    return len(text.encode("utf-16-le")) // 2


def _attributes(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(raw):
        if value[:1] in ('"', "'"):
            value = value[1:-1]
        found[name.lower()] = html.unescape(value)
    return found


def _entity(tag: _Open, end: int, shown: str) -> dict[str, Any] | None:
    """The entity a closed tag yields (None for a span that is no spoiler, or a bare <a>)."""
    entity: dict[str, Any] = {"offset": tag.start, "length": end - tag.start}
    if tag.name in _SIMPLE:
        entity["type"] = _SIMPLE[tag.name]
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "span" and tag.attributes.get("class") == "tg-spoiler":
        entity["type"] = "spoiler"
    elif tag.name == "blockquote":
        expandable = "expandable" in tag.attributes
        entity["type"] = "expandable_blockquote" if expandable else "blockquote"
    elif tag.name == "tg-emoji" and "emoji-id" in tag.attributes:
        entity.update(type="custom_emoji", custom_emoji_id=tag.attributes["emoji-id"])
    elif tag.name == "a" and (mention := _MENTION.match(tag.attributes.get("href", ""))):
        # Telegram names the user from its own records; the emulator knows only the link text.
        user = {"id": int(mention.group(1)), "is_bot": False, "first_name": shown or "User"}
        entity.update(type="text_mention", user=user)
    elif tag.name == "a" and tag.attributes.get("href"):
        entity.update(type="text_link", url=tag.attributes["href"])
    else:
        return None
    return entity


def _closed(tag: _Open, still_open: list[_Open], end: int, shown: str) -> dict[str, Any] | None:
    """The entity a tag just closed adds, if any (empty ones are dropped, as Telegram does)."""
    if tag.name == "code" and any(outer.name == "pre" for outer in still_open):
        # Inside a block, <code> only names the block's language.
        language = tag.attributes.get("class", "")
        if still_open[-1].name == "pre" and language.startswith("language-"):
            still_open[-1].language = language.removeprefix("language-")
        return None
    entity = _entity(tag, end, shown)
    return entity if entity is not None and entity["length"] > 0 else None


def parse_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and the entities Telegram would make of it, or raise.

    Entities come as the Bot API sends them: UTF-16 offsets and lengths, sorted by offset and,
    at the same offset, outer before inner (python-telegram-bot's `text_html` relies on it).
    """
    plain: list[str] = []
    units = 0  # UTF-16 length of the plain text so far
    open_tags: list[_Open] = []
    found: list[tuple[int, int, int, dict[str, Any]]] = []
    position = 0
    while (lt := text.find("<", position)) != -1:
        segment = _check_entities(text[position:lt], position)
        plain.append(segment)
        units += utf16_length(segment)
        match = _TAG.match(text, lt)
        if not match:
            raise EntityParseError(f"Unexpected end of name token at byte offset {lt}")
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        if name not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {lt}')
        if closing:
            if not open_tags or open_tags[-1].name != name:
                expected = open_tags[-1].name if open_tags else name
                raise EntityParseError(
                    f'Can\'t find end tag corresponding to start tag "{expected}"'
                )
            tag = open_tags.pop()
            entity = _closed(tag, open_tags, units, "".join(plain[tag.piece :]))
            if entity is not None:
                found.append((tag.start, -entity["length"], tag.order, entity))
        else:
            open_tags.append(_Open(name, _attributes(attributes), units, lt, len(plain)))
        position = match.end()
    plain.append(_check_entities(text[position:], position))
    if open_tags:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"'
        )
    return "".join(plain), [entity for *_, entity in sorted(found, key=lambda f: f[:3])]


def parse_html(text: str) -> str:
    """Return the plain text Telegram would show, or raise EntityParseError."""
    return parse_entities(text)[0]
