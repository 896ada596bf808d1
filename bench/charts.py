"""Chart images of /results: render time at 10,000 answers, and members' replies meanwhile.

Seeds a database with the example form loaded by the surveys service and N members' valid
submissions (bench/export.py's generator: every question, N answers to each), then:
  results   ResultsService.results() of the survey (SQL grouping, the summary, the splits)
  render    each chart's PNG drawn in this process (matplotlib's import excluded), and the same
            through the drawing processes the bot uses (charts.draw: pickling, IPC included)
  chat      the bot against the emulator; 50 members keep sending /help while a coordinator
            asks for the charts (six images: 5 or more charts rendering), three times; their
            reply times (send -> handled) vs the same members with no charts drawn, in the
            same run (target p99 < 250 ms)
It also writes docs/results_chart.png (the themes chart, stacked by country, in English), the
image the README shows.
Run: .venv/bin/python bench/charts.py [--members-answering 10000] [--chatting 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Answers a submission of the example form holds on average (start, end, today, consent,
# country, region, years, arrival, themes, rating, share; vote_problem when 'vote' was ticked).
PER_SUBMISSION = 11.6


def seed(database: Path, members: int) -> None:
    from bench.export import build

    started = time.perf_counter()
    build(database, round(members * PER_SUBMISSION))
    asyncio.run(_open(database))
    with sqlite3.connect(database) as connection:
        # The generator stops at a number of answers, mid-submission: the last member goes.
        connection.execute(
            "DELETE FROM record_entries WHERE pseudonym = "
            "(SELECT pseudonym FROM record_entries ORDER BY id DESC LIMIT 1)"
        )
        people, answers = connection.execute(
            "SELECT COUNT(DISTINCT pseudonym), COUNT(*) FROM record_entries"
        ).fetchone()
    print(
        f"seeded {people:,} submissions ({answers:,} answers) in "
        f"{time.perf_counter() - started:.1f} s"
    )


async def _open(database: Path) -> None:
    """The survey opened (to nobody yet), as /results lists open and closed surveys only."""
    from bench.export import config_for
    from bot.clock import SystemClock
    from bot.services.surveys import SurveysService
    from storage import Store
    from storage.models import AudienceFilter

    store = await Store.open(database, SystemClock())
    try:
        surveys = SurveysService(store, config_for(database), SystemClock())
        await surveys.open(1, AudienceFilter())
    finally:
        await store.close()


async def measure_render(database: Path) -> None:
    from bench.export import config_for
    from bot.clock import SystemClock
    from bot.i18n import Texts
    from bot.services import charts
    from bot.services.broadcasts import BroadcastService
    from bot.services.charts import ChartDrawer
    from bot.services.results import ResultsService
    from bot.services.results_charts import charts as chart_images
    from storage import Store

    store = await Store.open(database, SystemClock())
    drawer = ChartDrawer()
    try:
        config = config_for(database)
        service = ResultsService(
            store, config, Texts.load(), BroadcastService(store, config, SystemClock())
        )
        survey = await service.survey_by_id(1)
        assert survey is not None
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            results = await service.results(survey, "en", "country")
            timings.append(time.perf_counter() - started)
        themes = next(q for q in results.questions if q.name == "themes")
        print(
            f"results of the survey ({themes.answered:,} answers to 'themes'): "
            f"best {min(timings) * 1000:.0f} ms of 3"
        )
        images, _ = chart_images(results, Texts.load())
        charts.render(images[0].spec)  # matplotlib's import and font cache, once
        for image in images:
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                png = charts.render(image.spec)
                runs.append(time.perf_counter() - started)
            print(
                f"  {image.question:<17} {type(image.spec).__name__:<9} "
                f"{min(runs) * 1000:4.0f} ms in process, {len(png) / 1024:.0f} KB"
            )
            if image.question == "themes":
                (ROOT / "docs" / "results_chart.png").write_bytes(png)
        await drawer.draw(images[0].spec)  # the drawing processes started
        started = time.perf_counter()
        await asyncio.gather(*(drawer.draw(image.spec) for image in images))
        print(
            f"all {len(images)} charts through the drawing processes ({charts.workers()} "
            f"worker(s)): {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        print(f"wrote {(ROOT / 'docs' / 'results_chart.png').relative_to(ROOT)}")
    finally:
        await store.close()
        drawer.close()


async def measure_chat(database: Path, chatting: int, rounds: int) -> None:
    """Members' replies with charts being drawn, beside the same members without charts."""
    from bench.common import percentile
    from bench.export import config_for
    from tests.harness import TOKEN, add_member, bot_running
    from tgemu import Emulator, Limits

    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    await emulator.start()
    try:
        async with bot_running(emulator, config_for(database, emulator.base_url())) as bot:
            for number in range(chatting):
                await add_member(bot, 20_000 + number, "es")
            await add_member(bot, 500, "en", username="ana")
            ana = bot.person(500, "Ana", "en", username="ana")
            admin = bot.person(9000, "Admin", "en")
            await admin.send("/grant @ana coordinator")
            await ana.send("/results")
            await ana.press("Diaspora consultation")
            await ana.press("By country")
            charts_button = next(
                b for b in ana.last().buttons() if b["callback_data"].startswith("v1:res:h:")
            )
            results_message = ana.last().message_id
            # The drawing processes start once, as on a bot that drew a chart before.
            await ana.press_data(results_message, charts_button["callback_data"])

            async def window(draw: bool) -> tuple[list[float], float, int]:
                delays: list[float] = []
                running = True

                async def chatter(telegram_id: int) -> None:
                    rng = random.Random(telegram_id)
                    while running:
                        started = time.perf_counter()
                        update_id = emulator.send_text(TOKEN, telegram_id, "/help")
                        await bot.processor.wait_done(update_id, timeout=60)
                        delays.append(time.perf_counter() - started)
                        await asyncio.sleep(rng.uniform(0.2, 1.0))

                tasks = [asyncio.create_task(chatter(20_000 + n)) for n in range(chatting)]
                started = time.perf_counter()
                photos = 0
                if draw:
                    for _ in range(rounds):
                        shown = await ana.press_data(
                            results_message, charts_button["callback_data"]
                        )
                        photos += sum(1 for m in shown if m.photo)
                else:
                    await asyncio.sleep(3.0 * rounds)
                took = time.perf_counter() - started
                running = False
                await asyncio.gather(*tasks)
                return delays, took, photos

            quiet, _, _ = await window(False)
            busy, took, photos = await window(True)
            assert photos
    finally:
        await emulator.stop()  # the bot closed its drawing processes with its services

    def line(name: str, delays: list[float]) -> str:
        return (
            f"{name}: {len(delays)} replies, p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )

    print(
        f"\nchat: {rounds} chart requests, {photos} chart images ({photos // rounds} each) sent "
        f"in {took:.1f} s while {chatting} members sent /help"
    )
    print(line("  no charts     ", quiet))
    print(line("  charts drawing", busy) + " (target p99 < 250 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members-answering", type=int, default=10_000)
    parser.add_argument("--chatting", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        seed(database, args.members_answering)
        asyncio.run(measure_render(database))
        asyncio.run(measure_chat(database, args.chatting, args.rounds))


if __name__ == "__main__":
    main()
