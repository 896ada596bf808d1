"""The typed context handlers receive: services, texts and config without casts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from telegram import Message
from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Texts
from bot.services.broadcasts import BroadcastService
from bot.services.charts import ChartDrawer
from bot.services.clauses import ClausesService
from bot.services.conversations import ConversationsService
from bot.services.export import ExportService
from bot.services.meetings import MeetingsService
from bot.services.people import PeopleService
from bot.services.permissions import PermissionsService
from bot.services.proposals import ProposalsService
from bot.services.registration import RegistrationService
from bot.services.reminders import MeetingReminders
from bot.services.results import ResultsService
from bot.services.roles import RolesService
from bot.services.surveys import SurveysService
from bot.transport import UpdatesRequest
from storage import Store
from storage.models import Broadcast, Conversation


class Delivery(Protocol):
    """The delivery worker as the rest of the bot sees it (the bot's; the CLI has `NO_DELIVERY`)."""

    def wake(self) -> None:
        """Look at the outbox now (it also looks every second)."""
        ...

    async def stop(self) -> None: ...

    @property
    def rate(self) -> float | None:
        """Messages a second it aims at, for a sender's estimate (None: not sending)."""
        ...


class _NoDelivery:
    """A process that sends nothing (the CLI): the running bot's worker finds the rows."""

    def wake(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    @property
    def rate(self) -> float | None:
        return None


NO_DELIVERY: Delivery = _NoDelivery()


@dataclass(frozen=True)
class Services:
    """Everything the handlers and the CLI use, built once, complete (bot/app.py builds it)."""

    config: Config
    texts: Texts
    store: Store
    registration: RegistrationService
    roles: RolesService
    broadcasts: BroadcastService
    permissions: PermissionsService
    meetings: MeetingsService
    people: PeopleService
    conversations: ConversationsService
    surveys: SurveysService
    results: ResultsService
    proposals: ProposalsService
    exports: ExportService
    clauses: ClausesService
    charts: ChartDrawer
    clock: Clock
    # Members whose last notice was refused with 403; cleared when they write again.
    unreachable: set[int]
    reminders: MeetingReminders
    delivery: Delivery

    async def close(self) -> None:
        """Stop delivery, then close the charts and the database (the CLI's end and the bot's)."""
        await self.delivery.stop()
        self.charts.close()
        await self.store.close()

    def wake_delivery(self) -> None:
        """Ask the delivery worker to look at the outbox now (it also looks every second)."""
        self.delivery.wake()


Route = Callable[[Message, "BotContext", Conversation], Awaitable[None]]
AudienceTaken = Callable[[Message, "BotContext", Conversation, Broadcast], Awaitable[bool]]


@dataclass(frozen=True)
class FlowRoutes:
    """How a flow answers what a person sends while its conversation is active.

    Kept beside `BotData`, which holds them by flow name, so the context needs nothing of
    `bot.flows` (which needs the context).
    """

    name: str
    on_text: Route
    on_cancel: Route
    on_document: Route | None = None
    # Ask the current question again (after a crash took the answer but not the reply).
    on_resume: Route | None = None
    # A flow that borrows /broadcast's audience screens (a survey being opened): Continue on
    # the audience screen hands it the draft that holds the audience; True if it took it.
    on_audience: AudienceTaken | None = None


class BotData:
    """Application-wide data; ``services`` exists between post_init and post_shutdown."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.clock: Clock | None = None
        self.services: Services | None = None
        # Flow name -> how it answers free text, documents and /cancel (see bot/flows/active.py).
        self.flows: dict[str, FlowRoutes] = {}
        # Updates replayed after a crash whose answer was already taken: only re-ask, or say
        # that the flow it ended (the value) was done.
        self.resume_updates: dict[int, str | None] = {}
        # The getUpdates transport, which keeps each update's JSON as received for the inbox.
        self.updates_request: UpdatesRequest | None = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the running services."""

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services used before post_init or after post_shutdown")
        return services


ConsultApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any
]
