"""Offline demo: the emulator and the real bot in one process, and a chat prompt in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from bot.app import build_application, open_services
from bot.config import Config
from bot.runner import configure_logging, running
from tgemu.core import ChatMessage, Limits
from tgemu.server import Emulator

# A few associations so "choose from the list" has something to show (Canada and the US).
DEMO_ASSOCIATIONS = Path(__file__).resolve().parents[2] / "examples" / "demo_associations.csv"

HELP = (
    "Type a message to send it as Ana. Commands of this prompt:\n"
    "  !press <label>   press the inline button with that label (or part of it)\n"
    "  !share           share Ana's phone number through the contact button\n"
    "  !file <path>     send a file as Ana (an XLSForm .xlsx, clauses .md)\n"
    "  !quit            stop the demo\n"
    "Every message the bot sends Ana is shown as it arrives, asked for or not (invitations,\n"
    "reminders, notices); files it sends are saved and their path shown."
)


def show(message: ChatMessage, edited: bool = False) -> str:
    """A message as the terminal shows it: its text, then its buttons."""
    lines = [f"bot{' (edited)' if edited else ''}> {message.text or ''}"]
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        lines.append("     " + "  ".join(f"[{button['text']}]" for button in row))
    for row in (message.reply_markup or {}).get("keyboard", []):
        lines.append("     " + "  ".join(f"⌨ {button['text']}" for button in row))
    return "\n".join(lines)


class ChatPrinter:
    """Prints every message the bot sends one person, as it arrives or changes."""

    def __init__(self, emulator: Emulator, token: str, person: int, downloads: Path) -> None:
        self._emulator = emulator
        self._token = token
        self._person = person
        self._downloads = downloads
        self._seen = 0
        self._shown: dict[int, str | None] = {}  # message id -> the text last printed
        self.quiet_since = asyncio.get_running_loop().time()

    async def run(self) -> None:
        """Follow the chat until cancelled."""
        chat = self._emulator.chat(self._emulator.bot(self._token), self._person)
        while True:
            changed = chat.changed
            self._print_new(chat.events, chat.messages)
            await changed.wait()

    def _print_new(self, events: list[dict[str, Any]], messages: dict[int, ChatMessage]) -> None:
        for event in events[self._seen :]:
            if event["kind"] not in ("out", "edit"):
                continue
            message = messages[event["message_id"]]
            edited = event["kind"] == "edit"
            if edited and self._shown.get(message.message_id) == message.text:
                continue  # only its buttons went away after a press: nothing new to read
            self._shown[message.message_id] = message.text
            print(show(message, edited=edited), flush=True)
            if message.document and event["kind"] == "out":
                print(f"     📎 saved to {self._save(message.document)}", flush=True)
            self.quiet_since = asyncio.get_running_loop().time()
        self._seen = len(events)

    def _save(self, document: dict[str, Any]) -> Path:
        name, content = self._emulator.bot(self._token).files[document["file_id"]]
        self._downloads.mkdir(parents=True, exist_ok=True)
        target = self._downloads / Path(str(name)).name
        target.write_bytes(content)
        return target

    async def settle(self, longest: float = 10.0) -> None:
        """Wait until the bot has answered and then been quiet a moment (at most `longest` s)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < longest:
            await asyncio.sleep(0.1)
            answered = self.quiet_since > started
            if answered and loop.time() - self.quiet_since >= 0.4:
                return


def act(emulator: Emulator, token: str, person: int, line: str) -> bool:
    """Do what one line says as the person; False when the line asks for nothing possible."""
    if line.startswith("!press "):
        wanted = line[len("!press ") :].strip().casefold()
        for message in reversed(emulator.transcript(token, person)):
            match = next((b for b in message.buttons() if wanted in b["text"].casefold()), None)
            if message.direction == "out" and match is not None:
                emulator.press(token, person, message.message_id, match["callback_data"])
                return True
        print("(no such button)", flush=True)
        return False
    if line == "!share":
        emulator.send_contact(token, person, "+1 213 555 0100")
    elif line.startswith("!file "):
        path = Path(line[len("!file ") :].strip()).expanduser()
        if not path.is_file():
            print(f"(no such file: {path})", flush=True)
            return False
        emulator.send_document(token, person, path.name, path.read_bytes())
    else:
        emulator.send_text(token, person, line)
    return True


async def load_demo_associations(config: Config) -> int:
    """Import the demo associations through the operator's CSV import; return how many were new."""
    if not DEMO_ASSOCIATIONS.exists():
        return 0
    services = await open_services(config)
    try:
        result = await services.registration.import_associations(
            DEMO_ASSOCIATIONS.read_text(encoding="utf-8")
        )
    finally:
        await services.close()
    return result.added


async def prepare_demo(config: Config) -> int:
    """Load the demo associations; return the first update id the emulator may use.

    A demo file kept from an earlier run remembers that run's update ids: the emulator goes on
    after them, as Telegram would, instead of starting again at 1.
    """
    await load_demo_associations(config)
    services = await open_services(config)
    try:
        return await services.people.highest_update_id() + 1
    finally:
        await services.close()


def remove_database(database: Path) -> None:
    """Delete the demo's SQLite file and its write-ahead log, to start from nothing."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def run_demo(database: Path, port: int, token: str, person: int, reset: bool = False) -> int:
    """Run the emulator and the bot together; chat as Ana from the terminal or a piped script."""
    configure_logging("WARNING")
    if reset:
        remove_database(database)
    emulator = Emulator(Limits())
    base_url = await emulator.start("127.0.0.1", port)
    config = Config.model_validate(
        {
            "telegram": {"token": token, "base_url": base_url, "poll_timeout": 1},
            "storage": {"path": str(database)},
            "admins": {"user_ids": [person]},
        }
    )
    emulator.bot(token).next_update_id = await prepare_demo(config)
    emulator.create_person(person, "Ana", "es", username="ana_la")
    application = build_application(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    root = base_url.removesuffix("/bot")
    printer = ChatPrinter(emulator, token, person, database.parent / "consultbot-demo-files")
    following = asyncio.create_task(printer.run(), name="demo-chat")
    try:
        async with running(application, config):
            print(f"consultbot is running offline: emulator at {base_url}, database {database}")
            print(f"Ana (user {person}, Spanish) says /start:", flush=True)
            act(emulator, token, person, "/start")
            await printer.settle()
            print(
                "\nTalk to the bot from another terminal, for example:\n"
                f"  curl -s -X POST {root}/_emu/{token}/send -H 'Content-Type: application/json' "
                f'-d \'{{"user_id": {person}, "text": "/help"}}\'\n'
                f"  curl -s {root}/_emu/{token}/transcript/{person}\n"
            )
            interactive = sys.stdin.isatty()
            if interactive:
                print(HELP, flush=True)
            else:
                print("Reading Ana's lines from standard input (one per line).", flush=True)
            await _converse(emulator, token, person, printer, stop)
            if not interactive and not stop.is_set():
                print("End of the script: the demo stops.", flush=True)
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await emulator.stop()
    return 0


async def _converse(
    emulator: Emulator, token: str, person: int, printer: ChatPrinter, stop: asyncio.Event
) -> None:
    """Send Ana's lines one by one, each after the bot has answered the one before."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        reading = loop.run_in_executor(None, sys.stdin.readline)
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if reading not in done:
            return
        line = reading.result()
        if not line or line.strip() == "!quit":
            return
        if line.strip() and act(emulator, token, person, line.strip()):
            await printer.settle()
