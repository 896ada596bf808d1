"""Run the emulator on its own: ``python -m tgemu --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from tgemu.core import Limits
from tgemu.server import Emulator


async def serve(host: str, port: int, limits: Limits) -> None:
    emulator = Emulator(limits)
    base_url = await emulator.start(host, port)
    print(f"Bot API emulator listening: base_url = {base_url}", flush=True)
    print(f"Control API: POST {base_url.removesuffix('/bot')}/_emu/<token>/people|send|press|block")
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on")
    parser.add_argument("--rate", type=float, default=30.0, help="global sends/s; 0 = no limit")
    parser.add_argument(
        "--chat-rate", type=float, default=1.0, help="sends/s into one chat; 0 = off"
    )


def run(arguments: argparse.Namespace) -> None:
    limits = Limits(
        global_rate=arguments.rate or None,
        per_chat_rate=arguments.chat_rate or None,
    )
    # Started from a script in the background, a process inherits SIGINT ignored and Ctrl+C or
    # `kill -INT` would never stop it: stop on either signal whatever was inherited.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(arguments.host, arguments.port, limits))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    run(parser.parse_args())
