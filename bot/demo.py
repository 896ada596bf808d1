"""Offline demo: the emulator and the real bot in one process, and a chat prompt in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from bot.app import build_application, open_services
from bot.config import Config
from bot.runner import configure_logging, running
from tgemu.core import ChatMessage, Limits
from tgemu.server import Emulator

# A few associations so "choose from the list" has something to show (Canada and the US).
DEMO_ASSOCIATIONS = Path(__file__).resolve().parent.parent / "examples" / "demo_associations.csv"

HELP = (
    "Type a message to send it as Ana. Commands of this prompt:\n"
    "  !press <label>   press the inline button with that label (or part of it)\n"
    "  !share           share Ana's phone number through the contact button\n"
    "  !quit            stop the demo\n"
)


def show(message: ChatMessage) -> str:
    lines = [f"bot> {message.text or ''}"]
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        lines.append("     " + "  ".join(f"[{button['text']}]" for button in row))
    for row in (message.reply_markup or {}).get("keyboard", []):
        lines.append("     " + "  ".join(f"⌨ {button['text']}" for button in row))
    return "\n".join(lines)


async def _settle(emulator: Emulator, token: str, person: int, before: int) -> list[ChatMessage]:
    """Wait until the bot has answered (or 3 s passed); return what changed since `before`."""
    chat = emulator.bot(token).chats[person]
    deadline = asyncio.get_running_loop().time() + 3
    seen = len(chat.events)
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(chat.changed.wait(), 0.3)
        if len(chat.events) > seen and chat.events[-1]["kind"] in ("out", "edit"):
            seen = len(chat.events)
            await asyncio.sleep(0.15)
            if len(chat.events) == seen:
                break
    changed = {
        event["message_id"] for event in chat.events[before:] if event["kind"] in ("out", "edit")
    }
    return [chat.messages[key] for key in sorted(changed)]


async def _act(emulator: Emulator, token: str, person: int, line: str) -> None:
    chat = emulator.bot(token).chats.get(person)
    before = len(chat.events) if chat else 0
    if line.startswith("!press "):
        wanted = line[len("!press ") :].strip().casefold()
        for message in reversed(emulator.transcript(token, person)):
            match = next((b for b in message.buttons() if wanted in b["text"].casefold()), None)
            if message.direction == "out" and match is not None:
                emulator.press(token, person, message.message_id, match["callback_data"])
                break
        else:
            print("(no such button)")
            return
    elif line == "!share":
        emulator.send_contact(token, person, "+1 213 555 0100")
    else:
        emulator.send_text(token, person, line)
    for message in await _settle(emulator, token, person, before):
        print(show(message), flush=True)


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


async def run_demo(database: Path, port: int, token: str, person: int) -> int:
    configure_logging("WARNING")
    emulator = Emulator(Limits())
    base_url = await emulator.start("127.0.0.1", port)
    config = Config.model_validate(
        {
            "telegram": {"token": token, "base_url": base_url, "poll_timeout": 1},
            "storage": {"path": str(database)},
            "admins": {"user_ids": [person]},
        }
    )
    await load_demo_associations(config)
    emulator.create_person(person, "Ana", "es", username="ana_la")
    application = build_application(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    root = base_url.removesuffix("/bot")
    try:
        async with running(application, config):
            print(f"consultbot is running offline: emulator at {base_url}, database {database}")
            print(f"Ana (user {person}, Spanish) says /start:", flush=True)
            await _act(emulator, token, person, "/start")
            print(
                "\nTalk to the bot from another terminal, for example:\n"
                f"  curl -s -X POST {root}/_emu/{token}/send -H 'Content-Type: application/json' "
                f'-d \'{{"user_id": {person}, "text": "/help"}}\'\n'
                f"  curl -s {root}/_emu/{token}/transcript/{person}\n"
            )
            if sys.stdin.isatty():
                print(HELP)
                while not stop.is_set():
                    line = await loop.run_in_executor(None, sys.stdin.readline)
                    if not line or line.strip() == "!quit":
                        break
                    if line.strip():
                        await _act(emulator, token, person, line.strip())
            else:
                print("Press Ctrl+C to stop.", flush=True)
                await stop.wait()
    finally:
        await emulator.stop()
    return 0
