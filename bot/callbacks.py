"""Typed, versioned callback data: ``v1:<flow>:<action>[:<argument>]``, parsed by one function."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64

# Every flow and the actions its buttons may carry; anything else is forged or stale.
ACTIONS: dict[str, frozenset[str]] = {
    "lang": frozenset({"start", "set"}),
    "consent": frozenset({"yes", "no"}),
    "reg": frozenset(
        {
            "back",
            "country",
            "region",
            "rpage",
            "zone",
            "assoc",
            "assoc_new",
            "assoc_none",
            "sector",
            "theme",
            "themes_done",
            "skip",
            "edit",
            "confirm",
        }
    ),
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
        return int(self.argument) if self.argument.isdigit() else None


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
    return Callback(flow, action, parts[3] if len(parts) == 4 else "")


def button_data(flow: str, action: str, argument: str | int = "") -> str:
    return Callback(flow, action, str(argument)).encode()
