"""Run the sandbox: the bot and its emulator, and the page at http://HOST:PORT until Ctrl+C."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.runner import configure_logging

from . import web as page
from .console import Command
from .runtime import Sandbox


@dataclass
class Serving:
    sandbox: Sandbox
    url: str


@contextlib.asynccontextmanager
async def serving(
    database: Path,
    command: Command,
    host: str = "127.0.0.1",
    port: int = 8080,
    reset: bool = False,
) -> AsyncIterator[Serving]:
    """The sandbox running and its page served (port 0: any free port) until the block ends."""
    sandbox = Sandbox(database)
    runner = web.AppRunner(page.build(sandbox, command, host), access_log=None)
    await runner.setup()
    try:
        # The port first: a port in use is refused before the database is touched.
        site = web.TCPSite(runner, host, port)
        await site.start()
        if reset:
            await sandbox.reset()
        else:
            await sandbox.start()
        server: Any = site._server  # aiohttp has no public handle on the bound port
        bound = int(server.sockets[0].getsockname()[1])
        shown = f"[{host}]" if ":" in host else host
        yield Serving(sandbox, f"http://{shown}:{bound}/")
    finally:
        sandbox.close_polls()
        await runner.cleanup()
        await sandbox.stop()


async def run_sandbox(
    database: Path, command: Command, host: str, port: int, reset: bool = False
) -> int:
    """Serve the sandbox until SIGINT or SIGTERM; print where the page is."""
    configure_logging("WARNING")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(database, command, host, port, reset) as served:
        print(  # noqa: T201 - the sandbox's one line of output: where to go
            f"consultbot sandbox: open {served.url} in a browser (database {database}; "
            "Ctrl+C stops)",
            flush=True,
        )
        await stop.wait()
    return 0
