"""Telegram's HTML parse mode, strictly: what it accepts, and the text length after parsing."""

from __future__ import annotations

import html
import re

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
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityParseError(ValueError):
    """The text would be refused by Telegram with "can't parse entities"."""


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


def parse_html(text: str) -> str:
    """Return the plain text Telegram would show, or raise EntityParseError."""
    plain: list[str] = []
    open_tags: list[str] = []
    position = 0
    while (lt := text.find("<", position)) != -1:
        plain.append(_check_entities(text[position:lt], position))
        match = _TAG.match(text, lt)
        if not match:
            raise EntityParseError(f"Unexpected end of name token at byte offset {lt}")
        closing, name, _attributes = match.group(1), match.group(2).lower(), match.group(3)
        if name not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {lt}')
        if closing:
            if not open_tags or open_tags[-1] != name:
                expected = open_tags[-1] if open_tags else name
                raise EntityParseError(
                    f'Can\'t find end tag corresponding to start tag "{expected}"'
                )
            open_tags.pop()
        else:
            open_tags.append(name)
        position = match.end()
    plain.append(_check_entities(text[position:], position))
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain)
