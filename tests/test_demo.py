"""The offline demo ships a few associations so the registration's list is not empty."""

from __future__ import annotations

from pathlib import Path

from bot.demo import load_demo_associations
from storage import Store
from tests.harness import make_config


async def test_the_demo_loads_associations_in_both_countries(tmp_path: Path) -> None:
    config = make_config(tmp_path / "demo.db", "http://127.0.0.1:1/bot")
    assert await load_demo_associations(config) >= 6
    assert await load_demo_associations(config) == 0  # loading again adds nothing
    store = await Store.open(config.storage.path)
    try:
        texas = await store.associations.search("US", "TX")
        quebec = await store.associations.search("CA", "QC")
    finally:
        await store.close()
    assert texas[0].region == "TX" and len(texas) >= 3
    assert quebec[0].region == "QC"
