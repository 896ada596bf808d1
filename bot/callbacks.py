"""Typed, versioned callback data: ``v1:<flow>:<action>[:<argument>]``, parsed by one function."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
# The largest id a button may carry: SQLite holds 2**63 - 1, but JSON numbers (and so every
# Telegram client) are exact only up to 2**53; nothing we issue comes near either.
MAX_ID = 2**53

# Every flow and the actions its buttons may carry; anything else is forged or stale.
ACTIONS: dict[str, frozenset[str]] = {
    "lang": frozenset({"start", "set"}),
    "consent": frozenset({"yes", "no"}),
    "prof": frozenset({"done"}),
    "del": frozenset({"yes", "no"}),
    "adm": frozenset({"approve", "merge"}),
    "bc": frozenset(
        {
            "lang",
            "versions",
            "audience",
            "filter",
            "toggle",
            "clear",
            "preview",
            "ack",
            "quiet",
            "when",
            "now",
            "cancel",
            "send",
            "stop",
        }
    ),
    "ack": frozenset({"yes"}),
}


@dataclass(frozen=True)
class Callback:
    flow: str
    action: str
    argument: str = ""

    def encode(self) -> str:
        parts = [VERSION, self.flow, self.action]
        if self.argument:
            parts.append(self.argument)
        data = ":".join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def int_argument(self) -> int | None:
        """The argument as a bounded id, or None unless it is ASCII digits only."""
        return int_value(self.argument)


def int_value(text: str) -> int | None:
    """ASCII digits up to MAX_ID as an int; None for anything else ("²", "١", 20 digits, "")."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def _forged_number(part: str) -> bool:
    """A part that str.isdigit() accepts but int() or SQLite would not: a modified client's."""
    return part.isdigit() and int_value(part) is None


def parse(data: str | None) -> Callback | None:
    """Decode button data; None for anything this version of the bot did not issue."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(":", 3)
    if len(parts) < 3 or parts[0] != VERSION:
        return None
    flow, action = parts[1], parts[2]
    if action not in ACTIONS.get(flow, frozenset()):
        return None
    argument = parts[3] if len(parts) == 4 else ""
    # Handlers test parts of the argument with isdigit() before int(); no part may pass that
    # test unless it is an ASCII number small enough for the database.
    if any(_forged_number(part) for part in argument.split(":")):
        return None
    return Callback(flow, action, argument)


def button_data(flow: str, action: str, argument: str | int = "") -> str:
    return Callback(flow, action, str(argument)).encode()
