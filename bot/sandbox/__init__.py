"""`consultbot sandbox`: the emulator, the real bot and a Telegram-like page in the browser."""

from bot.sandbox.server import run_sandbox

__all__ = ["run_sandbox"]
