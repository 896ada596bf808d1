"""The composition root: build_application(config) wires everything, in one place."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import flows
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.context import NO_DELIVERY, BotContext, BotData, ConsultApplication, Delivery, Services
from bot.delivery import meeting_notices
from bot.delivery.progress import progress_reporter
from bot.delivery.reminders import ReminderScheduler
from bot.delivery.render import BroadcastRenderer, NoticeRenderer
from bot.delivery.survey_notices import survey_renderers
from bot.delivery.worker import DeliveryWorker, Pacer, Tally
from bot.handlers import (
    admin,
    broadcast_flow,
    broadcasts,
    buttons,
    clauses,
    common,
    evidence,
    export,
    gate,
    meetings,
    phrases,
    profile,
    proposals,
    registration,
    results,
    surveys,
)
from bot.i18n import LANGUAGES, Texts
from bot.services.broadcasts import BroadcastService
from bot.services.charts import ChartDrawer
from bot.services.clauses import ClausesService
from bot.services.conversations import ConversationsService
from bot.services.export import ExportService
from bot.services.meetings import MeetingsService
from bot.services.notices import NoticesService
from bot.services.people import PeopleService
from bot.services.permissions import PermissionsService
from bot.services.proposals import ProposalsService
from bot.services.registration import RegistrationService
from bot.services.reminders import NO_JOBS, MeetingReminders, ReminderJobs
from bot.services.results import ResultsService
from bot.services.roles import MEMBER_COMMANDS, RolesService, commands_for
from bot.services.surveys import SurveysService
from bot.transport import AiohttpRequest, UpdatesRequest
from bot.updates import PerChatUpdateProcessor
from storage import Store

logger = logging.getLogger(__name__)


async def open_services(config: Config, clock: Clock | None = None) -> Services:
    """Open the database and build the services of a process that sends nothing (the CLI)."""
    clock = clock or SystemClock()
    store = await Store.open(config.storage.target, clock)
    return await build_services(
        config, store, clock, MeetingReminders(store, clock), NO_JOBS, NO_DELIVERY
    )


async def build_services(
    config: Config,
    store: Store,
    clock: Clock,
    reminders: MeetingReminders,
    jobs: ReminderJobs,
    delivery: Delivery,
) -> Services:
    """Every service over one open store, complete: the bot's ports or the CLI's null ones."""
    texts = Texts.load()
    broadcasts = BroadcastService(store, config, clock)
    return Services(
        config=config,
        texts=texts,
        store=store,
        registration=RegistrationService(store, config, clock),
        roles=RolesService(store, config),
        broadcasts=broadcasts,
        permissions=PermissionsService(store, config),
        meetings=MeetingsService(store, config, clock, jobs),
        people=PeopleService(store),
        conversations=ConversationsService(store),
        surveys=SurveysService(store, config, clock),
        results=ResultsService(store, config, texts, broadcasts),
        proposals=ProposalsService(store, config, clock),
        exports=ExportService(store, config, clock),
        clauses=ClausesService(store, clock),
        charts=ChartDrawer(),
        clock=clock,
        unreachable=await store.members.unreachable_ids(),
        reminders=reminders,
        delivery=delivery,
    )


def notice_renderers(services: Services) -> dict[str, NoticeRenderer]:
    """Every notice kind and what renders it at send time."""
    programme = services.config.programme.name
    table: dict[str, NoticeRenderer] = {
        "broadcast": BroadcastRenderer(services.broadcasts, services.texts, programme)
    }
    table.update(
        meeting_notices.renderers(
            services.meetings, services.people, services.texts, programme, services.clock
        )
    )
    table.update(survey_renderers(services))
    return table


async def _post_init(application: ConsultApplication) -> None:
    config = application.bot_data.config
    assert config is not None
    clock = application.bot_data.clock or SystemClock()
    store = await Store.open(config.storage.target, clock)
    delivery = BotDelivery(config)
    reminders = MeetingReminders(store, clock)
    scheduler = None
    if application.job_queue is not None:
        scheduler = ReminderScheduler(application.job_queue, reminders, clock, delivery.wake)
    services = await build_services(config, store, clock, reminders, scheduler or NO_JOBS, delivery)
    application.bot_data.services = services
    await publish_commands(application, services)
    await delivery.start(services)
    if scheduler is not None:
        report = await scheduler.start()
        logger.info(
            "Reminders: %d scheduled, %d sent late, %d skipped",
            report.scheduled,
            report.sent,
            report.skipped,
        )
    if isinstance(application.bot.request, AiohttpRequest):
        application.bot.request.on_send = delivery.pacer.consume
    logger.info("consultbot started; database %s", config.storage.shown)


class BotDelivery:
    """The bot's `Delivery`: the worker on its own Bot and connection pool, so replies never
    queue behind it. Built before the services (which hold it); started once they exist."""

    def __init__(self, config: Config) -> None:
        telegram = config.telegram
        self.bot = Bot(
            telegram.token.get_secret_value(),
            base_url=telegram.base_url,
            base_file_url=telegram.file_url(),
            request=AiohttpRequest(pool_size=config.delivery.max_in_flight),
        )
        self._worker: DeliveryWorker | None = None

    async def start(self, services: Services) -> None:
        await self.bot.initialize()
        self._worker = DeliveryWorker(
            self.bot,
            NoticesService(services.store),
            services.broadcasts,
            notice_renderers(services),
            services.config.delivery,
            services.clock,
            services.unreachable,
            progress_reporter(self.bot, services),
        )
        await self._worker.start()

    @property
    def pacer(self) -> Pacer:
        assert self._worker is not None, "delivery not started"
        return self._worker.pacer

    @property
    def tally(self) -> Tally:
        """What this process's worker delivered so far."""
        assert self._worker is not None, "delivery not started"
        return self._worker.tally

    @property
    def rate(self) -> float | None:
        """Messages a second the worker aims at (None before it starts)."""
        return self._worker.pacer.rate if self._worker is not None else None

    def wake(self) -> None:
        # Before start nothing is queued that the worker's first look would not find.
        if self._worker is not None:
            self._worker.wake()

    async def stop(self) -> None:
        if self._worker is not None:
            await self._worker.stop()
        await self.bot.shutdown()


async def _post_shutdown(application: ConsultApplication) -> None:
    services = application.bot_data.services
    if services is None:
        return
    await services.close()
    application.bot_data.services = None
    logger.info("Database closed")


async def publish_commands(application: ConsultApplication, services: Services) -> None:
    """Set the member command menu in every language (and, for any other Telegram language, in
    the programme's), and the admins' fuller menu in their chats, in each admin's language."""
    texts = services.texts
    default = services.config.programme.default_language

    def menu(language: str, commands: Iterable[str]) -> list[BotCommand]:
        return [
            BotCommand(command, texts.plain(language, f"cmd.{command}")) for command in commands
        ]

    for language in LANGUAGES:
        await application.bot.set_my_commands(
            menu(language, MEMBER_COMMANDS), scope=BotCommandScopeDefault(), language_code=language
        )
    # No language code: what people whose Telegram speaks none of ours (pt, none) see.
    await application.bot.set_my_commands(
        menu(default, MEMBER_COMMANDS), scope=BotCommandScopeDefault()
    )
    for admin_id in services.config.admins.user_ids:
        # An admin who is a member reads their menu in their language, as their /help.
        member = await services.registration.member(admin_id)
        language = member.language if member is not None else default
        try:
            await application.bot.set_my_commands(
                menu(language, commands_for({"admin"})), scope=BotCommandScopeChat(admin_id)
            )
        except BadRequest as error:  # an admin who never opened the bot has no chat yet
            logger.info("No command menu for admin %s yet: %s", admin_id, error)


def build_application(
    config: Config, update_processor: BaseUpdateProcessor | None = None, clock: Clock | None = None
) -> ConsultApplication:
    """Build the Application: transport, defaults, resources, and every handler in order."""
    telegram = config.telegram
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    updates_request = UpdatesRequest(read_timeout=telegram.poll_timeout + 5)
    application: ConsultApplication = (
        ApplicationBuilder()
        .token(telegram.token.get_secret_value())
        .base_url(telegram.base_url)
        .base_file_url(telegram.file_url())
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=ZoneInfo(config.programme.default_time_zone),
            )
        )
        .context_types(context_types)
        .concurrent_updates(update_processor or PerChatUpdateProcessor())
        .request(AiohttpRequest(pool_size=16))
        .get_updates_request(updates_request)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.config = config
    application.bot_data.clock = clock
    application.bot_data.updates_request = updates_request
    _add_handlers(application)
    return application


def _add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    # First of all: groups, channels and edited messages never reach members' flows.
    application.add_handler(TypeHandler(Update, gate.admit), group=-2)
    # Before anything else: a member who had blocked the bot and writes again is reachable again.
    application.add_handler(TypeHandler(Update, common.mark_reachable), group=-1)
    # Commands first: they work at any step (a member mid-registration can still /cancel).
    application.add_handler(CommandHandler("start", common.start))
    application.add_handler(CommandHandler("help", common.help_command))
    application.add_handler(CommandHandler("cancel", common.cancel))
    application.add_handler(CommandHandler("language", common.language_command))
    application.add_handler(CommandHandler("profile", profile.show_profile))
    application.add_handler(CommandHandler("mydata", profile.send_my_data))
    application.add_handler(CommandHandler("deleteme", profile.ask_delete))
    application.add_handler(CommandHandler("grant", admin.grant))
    application.add_handler(CommandHandler("revoke", admin.revoke))
    application.add_handler(CommandHandler("pending", admin.list_pending))
    application.add_handler(CommandHandler("broadcasts", broadcasts.show_status))
    broadcast_flow.register_draft(application)
    # Each flow registers its own commands, buttons (pattern ^v1:<flow>:) and conversation routes
    # through `bot.flows.register`;
    # they must come before the catch-all below, which answers every other button.
    meetings.register_meetings(application)
    surveys.register_surveys(application)
    proposals.register_proposals(application)
    results.register_results(application)
    export.register_export(application)
    evidence.register_evidence(application)
    phrases.register_phrases(application)
    clauses.register_clauses(application)
    # The classic flows' buttons: one route per flow, the data parsed once into a Callback.
    application.add_handler(buttons.route(("lang",), common.press_language))
    application.add_handler(buttons.route(("consent",), common.press_registration))
    flows.register(application, registration.registration_flow())
    application.add_handler(buttons.route(("prof", "del"), common.press_profile))
    application.add_handler(buttons.route(("adm",), admin.press))
    application.add_handler(buttons.route(("bc",), broadcasts.press))
    application.add_handler(buttons.route(("ack",), broadcasts.acknowledge))
    # Any other button (forged, or from an older version) gets the polite "not valid".
    application.add_handler(CallbackQueryHandler(buttons.unknown))
    # Then what people type or share, routed by the step stored for them.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, common.on_text))
    application.add_handler(MessageHandler(filters.CONTACT, common.on_contact))
    # Last: anything else (unknown commands, stickers, photos) gets an explanation.
    application.add_handler(MessageHandler(filters.ALL, common.on_other))
    application.add_error_handler(common.on_error)
