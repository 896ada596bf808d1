"""The sandbox's engine room: the emulator, the real bot on its SQLite file, and the people.

The bot is built and run exactly as `consultbot run` does (build_application + running), on
the bundled emulator, with an OffsetClock the page can move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from pathlib import Path

from bot.app import build_application, open_services
from bot.config import Config
from bot.context import ConsultApplication, Services
from bot.runner import running
from bot.sandbox.demo import remove_database
from tgemu import Emulator, Limits

from .clockctl import ClockControl, wake
from .demo_data import seed
from .people import DEMO_PEOPLE, STAFF, SandboxPerson, load_roster, roster_path, save_roster

logger = logging.getLogger(__name__)
TOKEN = "1000:consultbot-sandbox-token"  # noqa: S105 - the offline emulator accepts any token
# While the clock is moved, reminders that come due are swept this often (seconds).
SWEEP_SECONDS = 1.0


class NotRunning(RuntimeError):
    """The bot or the emulator is stopped (a reset is under way, or the server is stopping)."""


class Sandbox:
    """Starts, resets and stops the emulator and the bot; knows who is on the page."""

    def __init__(self, database: Path) -> None:
        self.database = database.resolve()
        self.clock = ClockControl()
        self.people: list[SandboxPerson] = []
        self.generation = 0  # grows at every (re)start: the page reloads everything
        self.emulator: Emulator | None = None
        self.application: ConsultApplication | None = None
        self.changed = asyncio.Event()  # people, clock or pop-ups changed (replaced when set)
        self.closing = False  # the server is stopping: the page's long polls end at once
        self._stack: AsyncExitStack | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._lifecycle = asyncio.Lock()

    @property
    def config_path(self) -> Path:
        """A configuration for `consultbot ... --config` on this sandbox's database."""
        return self.database.with_name(self.database.stem + ".toml")

    @property
    def services(self) -> Services:
        services = self.application.bot_data.services if self.application else None
        if services is None:
            raise NotRunning("the sandbox's bot is not running")
        return services

    def emu(self) -> Emulator:
        if self.emulator is None:
            raise NotRunning("the sandbox's emulator is not running")
        return self.emulator

    def person(self, person_id: int) -> SandboxPerson:
        for person in self.people:
            if person.id == person_id:
                return person
        raise LookupError(f"nobody with id {person_id} on the page")

    def bump(self) -> None:
        """Tell the page's waiting requests that people, the clock or a pop-up changed."""
        self.changed.set()
        self.changed = asyncio.Event()

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        async with self._lifecycle:
            await self._start()

    def close_polls(self) -> None:
        """End every waiting long poll, so the web server can stop without waiting for them."""
        self.closing = True
        self.bump()

    async def stop(self) -> None:
        async with self._lifecycle:
            await self._stop()

    async def reset(self) -> None:
        """Start from nothing: a new database with the demo data, empty chats, the real time."""
        async with self._lifecycle:
            await self._stop()
            remove_database(self.database)
            roster_path(self.database).unlink(missing_ok=True)
            self.clock.move_by(-self.clock.offset)
            await self._start()

    async def _start(self) -> None:
        emulator = Emulator(Limits())
        base_url = await emulator.start("127.0.0.1", 0)
        config = Config.model_validate(
            {
                "telegram": {"token": TOKEN, "base_url": base_url, "poll_timeout": 10},
                "storage": {"path": str(self.database)},
                "admins": {"user_ids": [STAFF.id]},
            }
        )
        self._write_cli_config(base_url)
        known = load_roster(self.database)
        fresh = known is None or not self.database.exists()
        self.people = list(DEMO_PEOPLE) if fresh or known is None else known
        for person in self.people:
            emulator.create_person(person.id, person.name, person.language, person.username)
        services = await open_services(config, self.clock.clock)
        try:
            if fresh:
                await seed(services, self.people)
                save_roster(self.database, self.people)
            # A kept database remembers its update ids: go on after them, as Telegram would.
            emulator.bot(TOKEN).next_update_id = await services.people.highest_update_id() + 1
        finally:
            await services.close()
        application = build_application(config, clock=self.clock.clock)
        stack = AsyncExitStack()
        stack.push_async_callback(emulator.stop)
        try:
            await stack.enter_async_context(running(application, config))
        except BaseException:
            await stack.aclose()
            raise
        self.emulator, self.application, self._stack = emulator, application, stack
        self._sweeper = asyncio.create_task(self._sweep(), name="sandbox-sweep")
        self.generation += 1
        self.bump()

    async def _stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self.application, self.emulator = None, None, None

    def _write_cli_config(self, base_url: str) -> None:
        path = str(self.database).replace("\\", "\\\\").replace('"', '\\"')
        self.config_path.write_text(
            "# Written by `consultbot sandbox`: the command line on the sandbox's database, e.g.\n"
            f"#   consultbot surveys list --config {self.config_path.name}\n"
            f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\n'
            f'[storage]\npath = "{path}"\n[admins]\nuser_ids = [{STAFF.id}]\n',
            encoding="utf-8",
        )

    async def _sweep(self) -> None:
        """While the clock is moved, send reminders as they come due by the bot's clock."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            if self.clock.offset and self.application is not None:
                try:
                    await wake(self.services)
                except Exception:  # the next turn tries again; the bot itself is unaffected
                    logger.exception("Sandbox reminder sweep failed")

    async def wake(self) -> None:
        """After the console changed the database: send what came due now."""
        await wake(self.services)

    # ---- what people do on the page ----------------------------------------------------------
    def add_person(self, person: SandboxPerson) -> None:
        self.emu().create_person(person.id, person.name, person.language, person.username)
        self.people.append(person)
        save_roster(self.database, self.people)
        self.bump()
