"""The offline demo ships a few associations so the registration's list is not empty."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.sandbox.demo import load_demo_associations
from storage import Store
from tests.harness import fixed_clock, make_config


async def test_the_demo_loads_associations_in_both_countries(tmp_path: Path) -> None:
    config = make_config(tmp_path / "demo.db", "http://127.0.0.1:1/bot")
    assert await load_demo_associations(config) >= 6
    assert await load_demo_associations(config) == 0  # loading again adds nothing
    store = await Store.open(config.storage.path, fixed_clock())
    try:
        texas = await store.associations.search("US", "TX")
        quebec = await store.associations.search("CA", "QC")
    finally:
        await store.close()
    assert texas[0].region == "TX" and len(texas) >= 3
    assert quebec[0].region == "QC"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _demo(database: Path, script: str, *extra: str) -> str:
    """`consultbot demo` as a newcomer runs it, with Ana's lines piped in; what it printed."""
    command = [sys.executable, "-m", "bot.cli", "demo", "--database", str(database)]
    done = subprocess.run(
        [*command, "--port", str(_free_port()), *extra],
        input=script,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_answers_every_time_it_is_started_on_the_same_file(tmp_path: Path) -> None:
    database = tmp_path / "consultbot-demo.db"
    first = _demo(database, "!press Español\n")
    assert "Ana (user 1001, Spanish) says /start:" in first
    assert "Elige tu idioma" in first or "idioma" in first
    assert "Aviso de privacidad" in first or "privacidad" in first  # the press was answered
    for _ in range(2):  # the same file, ids the inbox has seen: answered again, twice
        again = _demo(database, "/help\n")
        assert "/language" in again, again
    fresh = _demo(database, "", "--reset")
    assert "Ana (user 1001, Spanish) says /start:" in fresh and "bot>" in fresh


def test_the_demo_shows_what_arrives_unprompted_and_saves_files(tmp_path: Path) -> None:
    database = tmp_path / "consultbot-demo.db"
    # Ana is the demo's admin: her own /mydata comes as a document, saved beside the database.
    out = _demo(database, "!press Español\n!press Acepto\n/mydata\n")
    assert "📎 saved to" in out
    saved = Path(out.split("📎 saved to ")[1].split()[0])
    assert saved.is_file() and saved.parent == tmp_path / "consultbot-demo-files"
