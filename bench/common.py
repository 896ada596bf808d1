"""Shared pieces of the benchmarks: an emulator in its own process, its control API, the bot."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("PTB_TIMEDELTA", "1")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmulatorProcess:
    """The emulator running in a separate process, so it does not share the bot's CPU core."""

    def __init__(self, rate: float = 0, chat_rate: float = 0) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tgemu",
                "--port",
                str(self.port),
                "--rate",
                str(rate),
                "--chat-rate",
                str(chat_rate),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.root = f"http://127.0.0.1:{self.port}"
        self.client = httpx.AsyncClient(timeout=60)

    async def ready(self) -> None:
        for _ in range(200):
            try:
                await self.client.get(f"{self.root}/_emu/probe/stats")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        raise RuntimeError("emulator did not start")

    async def stats(self, token: str) -> dict[str, Any]:
        answer = await self.client.get(f"{self.root}/_emu/{token}/stats")
        return dict(answer.json())

    async def batch(
        self,
        token: str,
        people: Sequence[dict[str, Any]] = (),
        texts: Sequence[dict[str, Any]] = (),
    ) -> list[int]:
        answer = await self.client.post(
            f"{self.root}/_emu/{token}/batch", json={"people": list(people), "texts": list(texts)}
        )
        return list(answer.json()["result"]["update_ids"])

    async def control(self, token: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.post(f"{self.root}/_emu/{token}/{action}", json=body)
        return dict(answer.json())

    async def transcript(self, token: str, user_id: int) -> list[dict[str, Any]]:
        answer = await self.client.get(f"{self.root}/_emu/{token}/transcript/{user_id}")
        return list(answer.json().get("result", []))

    async def close(self) -> None:
        await self.client.aclose()
        self.process.terminate()
        self.process.wait(10)


@asynccontextmanager
async def emulator_process(rate: float = 0, chat_rate: float = 0) -> AsyncIterator[EmulatorProcess]:
    emulator = EmulatorProcess(rate, chat_rate)
    try:
        await emulator.ready()
        yield emulator
    finally:
        await emulator.close()


async def wait_for_sends(
    emulator: EmulatorProcess, token: str, target: int, timeout: float = 600
) -> float:
    """Poll the emulator until the bot has sent `target` messages; return when that happened."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if (await emulator.stats(token))["sends"] >= target:
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"only {(await emulator.stats(token))['sends']} of {target} sends")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def database_path(name: str) -> Path:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "consultbot-bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path
