"""Run the Application (polling or webhook) until SIGINT/SIGTERM, then close everything."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import AsyncIterator
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.config import Config
from bot.context import ConsultApplication

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@contextlib.asynccontextmanager
async def running(application: ConsultApplication, config: Config) -> AsyncIterator[None]:
    """Initialise, start receiving updates, and on exit stop and release every resource."""
    await application.initialize()
    webhook: web.AppRunner | None = None
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if config.telegram.mode == "webhook":
            webhook = await _start_webhook(application, config)
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=int(config.telegram.poll_timeout),
                allowed_updates=Update.ALL_TYPES,
            )
        yield
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if webhook is not None:
            await webhook.cleanup()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _start_webhook(application: ConsultApplication, config: Config) -> web.AppRunner:
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
            update = Update.de_json(await request.json(), application.bot)
        except ValueError:
            return web.Response(status=400)
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


async def serve_until_signalled(application: ConsultApplication, config: Config) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(application, config):
        await stop.wait()
        logger.info("Stop signal received; shutting down")


def configure_logging(level: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
