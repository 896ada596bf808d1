"""Run the Application (polling or webhook) until SIGINT/SIGTERM, then close everything.

Updates go through the durable inbox: each is stored in the database before Telegram is told
it arrived (polling: before the next getUpdates moves the offset past it; webhook: before the
200), marked handled when its handlers finished, and re-fed at the next start if it never was.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.config import Config
from bot.context import ConsultApplication
from bot.handlers import gate
from bot.transport import AiohttpRequest, UpdatesRequest
from bot.updates import PerChatUpdateProcessor
from storage.inbox import InboxRepository

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
REPLY_FLOOD_RETRIES = 5  # a reply refused with 429 waits retry_after and tries again
MAX_POLL_BACKOFF = 30.0
# How often a process looks for updates left by another that died (several on one database).
TAKEOVER_SECONDS = 30.0


@contextlib.asynccontextmanager
async def running(
    application: ConsultApplication, config: Config, durable: bool = True, receive: bool = True
) -> AsyncIterator[None]:
    """Initialise, start receiving updates, and on exit stop and release every resource.

    durable=False receives updates as before the inbox (PTB's Updater; lost at a crash): only
    for measuring what the inbox costs. receive=False takes no updates at all: a process that
    only delivers notices and reminders beside the one that receives (`run --deliver-only`).
    """
    await application.initialize()
    webhook: web.AppRunner | None = None
    poller: asyncio.Task[None] | None = None
    takeover: asyncio.Task[None] | None = None
    marks: HandledMarks | None = None
    try:
        if application.post_init is not None:
            await application.post_init(application)
        inbox, marks = _wire(application) if durable else (None, None)
        await application.start()
        if receive and inbox is not None:
            await _replay(application, inbox)
            if inbox.shared:
                takeover = asyncio.create_task(_take_over(application, inbox), name="takeover")
        if not receive:
            logger.info("Delivering notices and reminders only; another process takes updates")
        elif config.telegram.mode == "webhook":
            webhook = await _start_webhook(application, config, inbox)
        elif inbox is not None:
            poller = asyncio.create_task(
                _poll(application, inbox, int(config.telegram.poll_timeout)),
                name="poller",
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=int(config.telegram.poll_timeout),
                allowed_updates=Update.ALL_TYPES,
            )
        yield
    finally:
        for task in (poller, takeover):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if webhook is not None:
            await webhook.cleanup()
        if application.running:
            await application.stop()
        if marks is not None:
            await marks.close()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


class HandledMarks:
    """Marks updates handled in batches (one write per batch), as soon as they are answered.

    An update counts as handled once its first reply went out (or its handlers finished): a
    replay after a crash must not answer it again. Marks are written off the handler's path,
    a batch per turn of the event loop, so a kill can only catch the last few milliseconds'.
    A finished update waits for its mark (`durable`) before giving up its processing slot, so
    at any instant at most one answered-but-unmarked update per slot exists: the bound on
    replies a kill -9 can make go out twice.
    """

    def __init__(self, inbox: InboxRepository, delay: float = 0.0) -> None:
        self._inbox = inbox
        self._delay = delay
        self._waiting: list[int] = []
        self._written: asyncio.Future[None] | None = None  # done when `_waiting` is written
        self._flusher: asyncio.Task[None] | None = None

    async def mark(self, update_id: int) -> None:
        """Note one answered or finished update; it is written with the others of this turn."""
        self._note(update_id)

    async def durable(self, update_id: int) -> None:
        """Note a finished update and wait until its mark is written (with its batch)."""
        await asyncio.shield(self._note(update_id))

    def _note(self, update_id: int) -> asyncio.Future[None]:
        """Add the id to the waiting batch (once); the future of that batch's write."""
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        written = self._written
        if update_id not in self._waiting:
            self._waiting.append(update_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="inbox-marks")
        return written

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._delay)
        await self.flush()

    async def flush(self) -> None:
        """Write every waiting mark now."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            written, self._written = self._written, None
            try:
                await self._inbox.handled(batch)
            except Exception:
                # Not marked: handled again after a restart, which beats losing it.
                logger.exception("Could not mark %d updates handled", len(batch))
            finally:
                if written is not None and not written.done():
                    written.set_result(None)

    async def close(self) -> None:
        """Write what is waiting and stop."""
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()


def _wire(application: ConsultApplication) -> tuple[InboxRepository, HandledMarks]:
    """Connect the processor and the reply transport to the inbox, the gate and flood control."""
    services = application.bot_data.services
    assert services is not None, "post_init opens the services"
    inbox = services.store.inbox
    marks = HandledMarks(inbox)
    processor = application.update_processor
    if isinstance(processor, PerChatUpdateProcessor):
        processor.on_done = marks.durable
        processor.on_overflow = functools.partial(gate.slow_down, application)
    request = application.bot.request
    if isinstance(request, AiohttpRequest):
        request.flood_retries = REPLY_FLOOD_RETRIES
        request.on_replied = marks.mark
    return inbox, marks


async def _replay(application: ConsultApplication, inbox: InboxRepository) -> None:
    """Feed the updates stored but never handled (their process stopped first), in order."""
    pending = await inbox.pending()
    for item in pending:
        if item.applied:
            # Its answer was taken but no reply went out: only ask the next question again, or
            # say that what it finished was done.
            application.bot_data.resume_updates[item.update_id] = item.ended_flow
        update = Update.de_json(item.payload, application.bot)
        await application.update_queue.put(update)
    if pending:
        logger.info("Handling %d updates received before the last stop", len(pending))


async def _take_over(application: ConsultApplication, inbox: InboxRepository) -> None:
    """With other processes on the database: handle what one of them left when it died."""
    while True:
        await asyncio.sleep(TAKEOVER_SECONDS)
        try:
            await _replay(application, inbox)
        except Exception:
            logger.exception("Taking over updates left by a stopped worker failed; retrying")


async def _poll(application: ConsultApplication, inbox: InboxRepository, timeout: int) -> None:
    """getUpdates forever; an update is stored before the next call's offset confirms it."""
    bot = application.bot
    offset: int | None = None
    # The ids of the last batch: the next call's offset tells Telegram they arrived.
    unconfirmed: list[int] = []
    raw = application.bot_data.updates_request
    failures = 0
    webhook_checked = False
    while True:
        try:
            if not webhook_checked:
                await bot.delete_webhook()  # getUpdates is refused while a webhook is set
                webhook_checked = True
            updates = await bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=Update.ALL_TYPES
            )
            fresh = await inbox.store(
                [(u.update_id, _payload(u, raw)) for u in updates], confirmed=unconfirmed
            )
            unconfirmed = []
        except InvalidToken:
            raise
        except RetryAfter as error:
            await asyncio.sleep(_seconds(error.retry_after))
            continue
        except (TelegramError, OSError) as error:
            # Not stored means not confirmed: the same updates come again on the next call.
            failures += 1
            delay = min(MAX_POLL_BACKOFF, 0.5 * 2 ** min(failures, 6))
            logger.warning("Receiving updates failed (%s); retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        for update in updates:
            if update.update_id in fresh:
                await application.update_queue.put(update)
        if updates:
            offset = updates[-1].update_id + 1
            unconfirmed.extend(update.update_id for update in updates)


def _payload(update: Update, raw: UpdatesRequest | None) -> str:
    """The update's JSON for the inbox: as received when the transport kept it."""
    kept = raw.take(update.update_id) if raw is not None else None
    return json.dumps(kept if kept is not None else update.to_dict(), ensure_ascii=False)


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _start_webhook(
    application: ConsultApplication,
    config: Config,
    inbox: InboxRepository | None,
) -> web.AppRunner:
    """Serve the webhook ourselves so the secret token is compared in constant time."""
    telegram = config.telegram
    if telegram.webhook_url is None:
        raise ValueError("webhook mode needs telegram.webhook_url")
    secret = (
        telegram.webhook_secret_token.get_secret_value() if telegram.webhook_secret_token else None
    )

    async def receive(request: web.Request) -> web.Response:
        if secret is not None:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if inbox is not None:
            try:
                fresh = await inbox.store(
                    [(update.update_id, json.dumps(data, ensure_ascii=False))]
                )
            except Exception:
                # Not stored: no 200, so Telegram delivers it again later.
                logger.exception("Could not store update %s", update.update_id)
                return web.Response(status=500)
            if update.update_id not in fresh:
                return web.Response(status=200)  # a redelivery of one already stored
        await application.update_queue.put(update)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(urlparse(telegram.webhook_url).path or "/", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, telegram.webhook_listen, telegram.webhook_port).start()
    await application.bot.set_webhook(
        telegram.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    logger.info("Webhook listening on %s:%s", telegram.webhook_listen, telegram.webhook_port)
    return runner


async def serve_until_signalled(
    application: ConsultApplication, config: Config, receive: bool = True
) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(application, config, receive=receive):
        await stop.wait()
        logger.info("Stop signal received; shutting down")


def configure_logging(level: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
