"""Every button's data, built and parsed one way: ``v1:<flow>:<part>:…``, typed per kind of button.

A kind of button is a frozen dataclass deriving `ButtonData` whose ``WIRE`` template names its
parts in order: a literal word, a field ``{name}``, a trailing optional field ``{name?}`` or the
rest of the data ``{name*}``. A field's type says what it accepts: ``int`` (ASCII digits up to
`MAX_ID`), a ``Literal`` of words, or ``str`` (a word matching the class's ``PATTERNS``). The
wire strings are the ones buttons already in people's chats carry, so old messages still work;
anything this version did not issue (stale, forged, over 64 bytes) parses to None, which the
handlers answer with the polite "no longer valid" pop-up.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, Union

VERSION = "v1"
MAX_BYTES = 64
# The largest id a button may carry: SQLite holds 2**63 - 1, but JSON numbers (and so every
# Telegram client) are exact only up to 2**53; nothing we issue comes near either.
MAX_ID = 2**53
_WORD = re.compile(r"[A-Za-z0-9_]{1,32}")
_LETTER = r"[a-zA-Z]"
MeetingWho = Literal["a", "y"]  # a meeting's people: those who attended, those who said Yes
ResultsAction = Literal["s", "a", "c", "r", "t", "w", "g", "h"]

# Every flow of the classic `Callback` kind and the actions its buttons may carry.
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


def int_value(text: str) -> int | None:
    """ASCII digits up to MAX_ID as an int; None for anything else ("²", "١", 20 digits, "")."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def _forged_number(part: str) -> bool:
    """A part that str.isdigit() accepts but int() or SQLite would not: a modified client's."""
    return part.isdigit() and int_value(part) is None


@dataclass(frozen=True)
class _Part:
    """One part of a template: a literal word, or a field and what it accepts."""

    literal: str | None = None
    name: str = ""
    accepts: type[int] | frozenset[str] | re.Pattern[str] | None = None
    optional: bool = False
    rest: bool = False

    def read(self, text: str) -> object | None:
        if self.accepts is int:
            return int_value(text)
        if isinstance(self.accepts, frozenset):
            return text if text in self.accepts else None
        assert isinstance(self.accepts, re.Pattern)
        return text if self.accepts.fullmatch(text) else None


# Kinds by the first word after the version; kinds whose first part is a field (`Callback`,
# the step engine's `Press`) are tried, in order, for any other flow.
_FIXED: dict[str, list[type[ButtonData]]] = {}
_OPEN: list[type[ButtonData]] = []


class ButtonData:
    """A kind of button data; subclasses are frozen dataclasses with a ``WIRE`` template."""

    WIRE: ClassVar[str]
    # A ``str`` field's pattern (default: one word of letters, digits or "_").
    PATTERNS: ClassVar[dict[str, str]] = {}
    _parts: ClassVar[tuple[_Part, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        first = cls.WIRE.split(":", 1)[0]
        if first.startswith("{"):
            _OPEN.append(cls)
        else:
            _FIXED.setdefault(first, []).append(cls)

    @classmethod
    def _layout(cls) -> tuple[_Part, ...]:
        """The template read once, with each field's type (after @dataclass has run)."""
        if cls.__dict__.get("_parts") is None:
            hints = typing.get_type_hints(cls)
            parts = []
            for word in cls.WIRE.split(":"):
                if not word.startswith("{"):
                    parts.append(_Part(literal=word))
                    continue
                name = word.strip("{}?*")
                parts.append(
                    _Part(
                        name=name,
                        accepts=_accepts(hints[name], cls.PATTERNS.get(name)),
                        optional=word.endswith("?}") or word.endswith("*}"),
                        rest=word.endswith("*}"),
                    )
                )
            cls._parts = tuple(parts)
        assert cls._parts is not None
        return cls._parts

    def valid(self) -> bool:
        """Rules across parts (which actions carry which numbers); every part is already typed."""
        return True

    def encode(self) -> str:
        out = [VERSION]
        for part in self._layout():
            if part.literal is not None:
                out.append(part.literal)
                continue
            value = getattr(self, part.name)
            if part.optional and (value is None or value == ""):
                break
            out.append(str(value))
        data = ":".join(out)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        """Strictly decode button data of this kind; None for anything we did not issue."""
        if not data or len(data.encode("utf-8")) > MAX_BYTES:
            return None
        pieces = data.split(":")
        if pieces[0] != VERSION:
            return None
        values: dict[str, object] = {}
        position = 1
        for part in cls._layout():
            if position >= len(pieces):
                if part.optional:
                    break
                return None
            piece = pieces[position]
            if part.rest:
                rest = pieces[position:]
                # Handlers test parts of a free argument with isdigit() before int(): no part
                # may pass that test unless it is an ASCII number small enough for the database.
                if any(_forged_number(item) for item in rest):
                    return None
                values[part.name] = ":".join(rest)
                position = len(pieces)
                break
            if part.literal is not None:
                if piece != part.literal:
                    return None
            else:
                value = part.read(piece)
                if value is None:
                    return None
                values[part.name] = value
            position += 1
        if position != len(pieces):
            return None
        item = cls(**values)
        return item if item.valid() else None


def _accepts(hint: Any, pattern: str | None) -> type[int] | frozenset[str] | re.Pattern[str]:
    """What a field's type accepts on the wire (None for an optional field is its absence)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint is int:
        return int
    if typing.get_origin(hint) is Literal:
        return frozenset(str(arg) for arg in typing.get_args(hint))
    return re.compile(pattern) if pattern else _WORD


def decode(data: str | None) -> ButtonData | None:
    """Any button the bot issues, as its typed kind; None for anything else."""
    if not data:
        return None
    pieces = data.split(":", 2)
    if len(pieces) < 2 or pieces[0] != VERSION:
        return None
    for kind in _FIXED.get(pieces[1]) or _OPEN:
        parsed = kind.parse(data)
        if parsed is not None:
            return parsed
    return None


def engine_flow_fits(name: str) -> bool:
    """A step-engine flow name its buttons can carry, not taken by another kind of button."""
    fits = re.fullmatch(Press.PATTERNS["flow"], name) is not None
    return fits and name not in _FIXED and name not in ACTIONS


# ---- the kinds of button ---------------------------------------------------------------------


@dataclass(frozen=True)
class Callback(ButtonData):
    """The classic buttons: ``v1:<flow>:<action>[:<argument>]``, the actions listed in ACTIONS."""

    WIRE = "{flow}:{action}:{argument*}"
    PATTERNS: ClassVar[dict[str, str]] = {"flow": "[a-z]{1,12}", "action": "[a-z]{1,16}"}
    flow: str
    action: str
    argument: str = ""

    def valid(self) -> bool:
        return self.action in ACTIONS.get(self.flow, frozenset())

    def int_argument(self) -> int | None:
        """The argument as a bounded id, or None unless it is ASCII digits only."""
        return int_value(self.argument)


@dataclass(frozen=True)
class Press(ButtonData):
    """A step-engine button: which question (``seq``) it belongs to, what it does, an index."""

    WIRE = "{flow}:{seq}:{action}:{index?}"
    PATTERNS: ClassVar[dict[str, str]] = {"flow": "[a-z_]{1,12}", "action": "[a-z]"}
    flow: str
    seq: int
    action: str
    index: int | None = None

    def valid(self) -> bool:
        return self.flow not in _FIXED and self.flow not in ACTIONS


@dataclass(frozen=True)
class RsvpButton(ButtonData):
    """Yes / Maybe / No under an invitation or a meeting card."""

    WIRE = "rsvp:{meeting}:{answer}"
    meeting: int
    answer: Literal["y", "m", "n"]


@dataclass(frozen=True)
class MeetingButton(ButtonData):
    """/meetings' own buttons (calendar, I'm here, minutes, the organiser's), also on notices."""

    WIRE = "mtg:{meeting}:{action}"
    PATTERNS: ClassVar[dict[str, str]] = {"action": _LETTER}
    meeting: int
    action: str


@dataclass(frozen=True)
class PeopleButton(ButtonData):
    """A meeting's answer list: ``t`` taps a person (first) on a page (second), ``p`` turns to a
    page (first), ``x`` closes."""

    WIRE = "mtp:{meeting}:{action}:{first?}:{second?}"
    meeting: int
    action: Literal["t", "p", "x"]
    first: int | None = None
    second: int | None = None

    def valid(self) -> bool:
        numbers = sum(value is not None for value in (self.first, self.second))
        return numbers == {"t": 2, "p": 1, "x": 0}[self.action] and (
            self.second is None or self.first is not None
        )


@dataclass(frozen=True)
class SurveyStart(ButtonData):
    """Start (or continue) a survey, from an invitation or /surveys."""

    WIRE = "svy:s:{survey}"
    survey: int


@dataclass(frozen=True)
class SurveyAdmin(ButtonData):
    """Staff's survey buttons: ``o|c|C|k`` a survey (open, close?, close now, keep open);
    ``m`` a meeting; ``w`` a meeting's attended/said-Yes (``who``); ``d`` that and a survey."""

    WIRE = "sva:{action}:{target}:{who?}:{survey?}"
    action: Literal["o", "c", "C", "k", "m", "w", "d"]
    target: int
    who: MeetingWho | None = None
    survey: int | None = None

    def valid(self) -> bool:
        if self.action == "w":
            return self.who is not None and self.survey is None
        if self.action == "d":
            return self.who is not None and self.survey is not None
        return self.who is None and self.survey is None


@dataclass(frozen=True)
class ResultsButton(ButtonData):
    """/results: ``s``/``a`` everyone, ``c``/``r``/``t`` split, ``g``/``h`` charts, ``w`` heard."""

    WIRE = "res:{action}:{survey}"
    action: ResultsAction
    survey: int


EvidenceAction = Literal["l", "c", "s", "v", "q", "a", "t", "p", "m", "k", "n", "u", "U"]
# What each /evidence action carries: n a number (a clause's, a page, an id...), k an item's kind.
EVIDENCE_SHAPES: dict[str, str] = {
    "l": "n",  # the clause list at a page
    "c": "nn",  # a clause, at a page of its evidence
    "s": "n",  # where to look for evidence
    "v": "n",  # the surveys
    "q": "nn",  # a survey's questions
    "a": "nnnn",  # a question's answers: survey, question's index, page
    "t": "n",  # the themes with proposals
    "p": "nnn",  # a theme's proposals: theme's index, page
    "m": "nn",  # meetings at a page
    "k": "nkn",  # pick an item: ask for a note
    "n": "nkn",  # link the item without a note
    "u": "nn",  # unlink? (the link's id)
    "U": "nn",  # unlink, confirmed
}
# An evidence item's kind on the wire: answer, proposal, meeting, record.
ITEM_LETTERS = frozenset({"a", "p", "m", "r"})


@dataclass(frozen=True)
class EvidenceButton(ButtonData):
    """/evidence: an action (the clause list's ``l`` aside, on a clause) and its parts, each
    action's in the shape EVIDENCE_SHAPES gives it."""

    WIRE = "evd:{action}:{parts*}"
    action: EvidenceAction
    parts: str = ""

    @classmethod
    def of(cls, action: EvidenceAction, *parts: int | str) -> EvidenceButton:
        """The button from its parts in order, e.g. ``of("k", clause, "a", answer)``."""
        return cls(action, ":".join(str(part) for part in parts))

    def valid(self) -> bool:
        pieces = self.parts.split(":") if self.parts else []
        shape = EVIDENCE_SHAPES[self.action]
        return len(pieces) == len(shape) and all(
            piece in ITEM_LETTERS if wanted == "k" else int_value(piece) is not None
            for piece, wanted in zip(pieces, shape, strict=True)
        )

    @property
    def numbers(self) -> tuple[int, ...]:
        """Its numbers in order, an item's kind left out."""
        values = (int_value(piece) for piece in self.parts.split(":"))
        return tuple(value for value in values if value is not None)

    @property
    def letter(self) -> str | None:
        """The kind of item it names (``k``, ``n``), else None."""
        return next((p for p in self.parts.split(":") if p in ITEM_LETTERS), None)


def parse(data: str | None) -> Callback | None:
    """Decode a classic button's data; None for anything this version of the bot did not issue."""
    return Callback.parse(data)


def button_data(flow: str, action: str, argument: str | int = "") -> str:
    return Callback(flow, action, str(argument)).encode()
