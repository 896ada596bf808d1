"""The step engine's Telegram-free half: steps as data, choices, button presses, refusals.

Services declare their flows' steps with these types (registration's table, a survey's questions);
`bot.flows.steps.StepFlow` runs them in a chat. Nothing here knows Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.callbacks import Press as Press  # the engine's buttons, in the one codec
from bot.i18n import Texts

# "contact": a phone shared with Telegram's button; "review": the answers, each with an edit button.
# The engine dispatches both; their keyboards (a share-contact reply keyboard, the edit buttons) are
# drawn by the flow that uses them (registration), overriding `StepFlow.markup`.
InputKind = Literal[
    "choice", "multi", "text", "number", "date", "datetime", "info", "contact", "review"
]
# A flow's name, as its buttons carry it (checked when the flow is registered).
FLOW_NAME = re.compile(Press.PATTERNS["flow"])


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # plain text, already in the person's language


@dataclass(frozen=True)
class SharedContact:
    """A phone number shared with Telegram's contact button, and whose it is."""

    phone: str
    owner_id: int | None


@dataclass(frozen=True)
class StepView:
    """What a step reads: the person's language, the texts, the answers so far, the flow's data."""

    language: str
    texts: Texts
    values: Mapping[str, Any]
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One question: how it is asked, what it accepts, and what comes after it."""

    key: str
    kind: InputKind
    question: Callable[[StepView], str]
    parse: Callable[[str, StepView], Any] | None = None
    choices: Callable[[StepView], Sequence[Choice]] | None = None
    optional: bool = False
    columns: int = 1
    # The label of an info step's button ("Continue"; "I agree" for an acknowledgement).
    confirm_key: str = "steps.continue"
    # The key of the next step (None: the flow is complete); default: the next in order.
    next: Callable[[StepView], str | None] | None = None
    # A long list shows this many choices per page, with buttons to the other pages.
    page_size: int | None = None
    # Buttons of the step's own under its choices (catalog keys of their labels), action ``k``.
    extras: tuple[str, ...] = ()
    # A choice button's index is the value itself (an id), not its position in the list.
    index_is_value: bool = False
    # Typed text narrows the choices (a search) instead of being taken as the answer; at a single
    # choice, text the step's parser accepts (a choice's whole label) still answers it.
    searchable: bool = False
    # What a person is told who presses Done with nothing chosen.
    none_chosen_key: str = "steps.choose_one"


class StepSource(Protocol):
    def step(self, key: str, view: StepView) -> Step | None:
        """The step with this key (None if unknown)."""
        ...

    def first(self, view: StepView) -> str | None:
        """The key of the first step to ask."""
        ...

    def after(self, key: str, view: StepView) -> str | None:
        """The key of the step after `key`, or None when the flow is complete."""
        ...


class StepList:
    """Steps in a fixed order, each optionally choosing what comes next."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self._steps = list(steps)
        self._index = {step.key: position for position, step in enumerate(self._steps)}

    def step(self, key: str, view: StepView) -> Step | None:
        """The step with this key."""
        position = self._index.get(key)
        return self._steps[position] if position is not None else None

    def first(self, view: StepView) -> str | None:
        """The first step."""
        return self._steps[0].key if self._steps else None

    def after(self, key: str, view: StepView) -> str | None:
        """The declared next step, or the following one in order."""
        step = self.step(key, view)
        if step is not None and step.next is not None:
            return step.next(view)
        position = self._index.get(key, len(self._steps)) + 1
        return self._steps[position].key if position < len(self._steps) else None


def fold(text: str) -> str:
    """Lower case without accents and with single spaces: "cusca" finds "Cuscatlán"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def search_choices(choices: Sequence[Choice], typed: str) -> list[int]:
    """Positions of the choices whose label holds every word typed (accents and case ignored):
    labels starting with the text first, then those with a word starting with it, then the rest,
    each group in list order."""
    wanted = fold(typed)
    if not wanted:
        return []
    words = wanted.split()
    ranked: list[tuple[int, int]] = []
    for position, choice in enumerate(choices):
        label = fold(choice.label)
        if not all(word in label for word in words):
            continue
        if label.startswith(wanted):
            rank = 0
        elif any(part.startswith(words[0]) for part in label.split()):
            rank = 1
        else:
            rank = 2
        ranked.append((rank, position))
    return [position for _, position in sorted(ranked)]
