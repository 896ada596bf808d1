"""How a chat flow plugs in: `register(application, Flow(...))`, and no other way.

One call checks the flow's name (its buttons carry it: ``v1:<name>:<seq>:<action>``, so it must
fit the button format and belong to no other flow) and installs everything the flow answers: its
commands, its buttons and its route for what the person types, sends or says after a restart while
the flow is their active conversation. A name that cannot work is refused at start-up, with the
reason, rather than turning every button of the flow into "no longer valid" in chat.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.context import AudienceTaken, BotContext, FlowRoutes, Route
from bot.flows.steps import StepFlow
from bot.services.stepkit import FLOW_NAME
from storage.models import Conversation

Command = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
# Where a person is in a flow kept elsewhere than the conversation row (None: not in it).
Place = Callable[[BotContext, int], Awaitable[Conversation | None]]


class FlowNameError(ValueError):
    """A flow's name cannot be used: too long for the button format, or another flow's."""


@dataclass(frozen=True)
class Flow:
    """A chat flow: the engine that asks its steps, its commands, and its hooks beyond the engine.

    ``engine`` runs the steps (its own hooks — `on_complete`, `on_extra`, `on_answered`, ... —
    are where a flow customises what happens); a flow with no steps (a search box, a note) gives
    ``name``, ``on_text`` and ``on_cancel`` instead. The other routes default to the engine's.
    """

    engine: StepFlow | None = None
    name: str = ""
    commands: Mapping[str, Command] = field(default_factory=dict)
    # Buttons: default the engine's dispatch (pattern ``^v1:<name>:``).
    on_button: Command | None = None
    on_text: Route | None = None
    on_cancel: Route | None = None
    on_document: Route | None = None
    # After a crash replay took the answer but not the reply: default, ask the question again.
    on_resume: Route | None = None
    on_audience: AudienceTaken | None = None
    # A flow whose place is not the conversation row (registration's member row): where the
    # person is in it, read when no conversation is active; and what it answers to anything
    # but text and documents (a sticker: the question asked again under the refusal).
    place: Place | None = None
    on_other: Route | None = None

    @property
    def flow_name(self) -> str:
        """The name its buttons and conversation carry."""
        return self.engine.name if self.engine is not None else self.name

    def routes(self) -> EngineRoutes:
        """What the active conversation routes to this flow, and the engine it runs."""
        engine = self.engine
        on_text = self.on_text or (engine.on_text if engine is not None else None)
        on_cancel = self.on_cancel or (engine.on_cancel if engine is not None else None)
        if on_text is None or on_cancel is None:
            raise FlowNameError(f"flow {self.flow_name!r} has no engine and no text or /cancel")
        on_resume = self.on_resume or (engine.ask if engine is not None else None)
        return EngineRoutes(
            self.flow_name,
            on_text,
            on_cancel,
            self.on_document,
            on_resume,
            self.on_audience,
            engine=engine,
            place=self.place,
            on_other=self.on_other,
        )


@dataclass(frozen=True)
class EngineRoutes(FlowRoutes):
    """A flow's routes and the engine they run: entry points that are not a route (registration's
    /start, a shared contact) reach the one engine the composition root built, here."""

    engine: StepFlow | None = None
    place: Place | None = None
    on_other: Route | None = None


def engine_of(context: BotContext, name: str) -> StepFlow:
    """The engine registered under this flow name (built once, in its `register`)."""
    found = context.bot_data.flows.get(name)
    engine = found.engine if isinstance(found, EngineRoutes) else None
    if engine is None:
        raise FlowNameError(f"no flow with steps is registered as {name!r}")
    return engine


def check_name(application: Application, name: str) -> None:  # type: ignore[type-arg]
    """Refuse a name the button format cannot carry, or one another flow already answers to."""
    if FLOW_NAME.fullmatch(name) is None:
        raise FlowNameError(
            f"flow name {name!r} does not fit the button format: {FLOW_NAME.pattern} "
            "(lower-case letters and _, at most 12), so every button of the flow would be "
            "answered as no longer valid"
        )
    taken = name in application.bot_data.flows or not callbacks.engine_flow_fits(name)
    taken = taken or any(
        _answers(handler, name) for group in application.handlers.values() for handler in group
    )
    if taken:
        raise FlowNameError(f"flow name {name!r} is already taken by another flow's buttons")


def _answers(handler: Any, name: str) -> bool:
    """Whether a button handler already installed takes ``v1:<name>:`` data."""
    if not isinstance(handler, CallbackQueryHandler):
        return False
    pattern = handler.pattern
    if not isinstance(pattern, re.Pattern):
        return False
    return pattern.match(f"v1:{name}:0:x") is not None and pattern.pattern != ".*"


def register(application: Application, flow: Flow) -> None:  # type: ignore[type-arg]
    """The one way a flow exists: its name checked, its commands, buttons and routes installed."""
    name = flow.flow_name
    check_name(application, name)
    routes = flow.routes()
    for command, callback in flow.commands.items():
        application.add_handler(CommandHandler(command, callback))
    on_button = flow.on_button or (flow.engine.on_button if flow.engine is not None else None)
    if on_button is not None:
        application.add_handler(CallbackQueryHandler(on_button, pattern=f"^v1:{name}:"))
    # A flow kept elsewhere (registration's member row) is never a conversation row's flow, so
    # its routes are reached only with its own place (`engine_of`), never as the active one.
    application.bot_data.flows[name] = routes
