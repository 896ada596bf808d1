"""Export speed and memory: the real ExportService against its peers on the same seeded rows.

Seeds a consultbot database (the project's migrations) with the example form
`examples/consultation_round1.xlsx` loaded by the surveys service, as staff load it, and N current
answers to it (submissions of every question the form has: selects, a multi-select, numbers,
dates, an accented free text, KoBo's start/end/today; with provenance), then measures, each
export in its own process so each has its own peak RSS:
  csv       ExportService.export("answers-long", csv) vs `sqlite3 -csv` of the same SELECT
  wide-csv  ExportService.export("answers", csv, labels, --multi split): a row per submission
            with labels in Spanish and a 0/1 column per choice, and its data_dictionary.csv,
            vs that same `sqlite3 -csv` of every answer (target ratio <= 2)
  xlsx      ExportService.export("answers-long", xlsx) vs a bare xlsxwriter constant_memory loop
            writing the rows of that SELECT
  wide-xlsx ExportService.export("answers", xlsx, labels, split): the answers sheet, the summary
            sheet (counts by country, a chart per select question, statistics and histograms),
            the dictionary and the key-phrase sheet, vs the bare loop (target <= 1.3)
  rss       peak RSS of each exporting process (getrusage RUSAGE_SELF; target <= 150 MB)
With --chat (in a fresh process, so its RSS figures are its own): the bot runs against the
emulator; a staff member exports the survey as XLSX (labels, split) by pressing /export's buttons
while 50 members keep chatting; their reply times (send -> handled) are reported (target p99 <
500 ms), with the peak RSS of the bot's process (which also holds the emulator and the 50
members) and of the export process it starts.
Run: .venv/bin/python bench/export.py [--rows 100000] [--chat]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

FORM = ROOT / "examples" / "consultation_round1.xlsx"
FREE = [
    "El consulado está muy lejos y no hay voto por correo",
    "Más consulados móviles; la distancia es un problema en Québec",
    '=HYPERLINK("http://x","y") el registro electoral en línea',
    "The consulate is too far away to register",
    "Le consulat est trop loin pour voter",
    "Trámites en línea: pasaporte, cédula, apostilla",
]
SECTORS = ["government", "private", "civil-society", "academia", "diaspora-association"]
NOW = "2026-03-01T12:00:00+00:00"


async def _load(database: Path) -> tuple[int, Any]:
    """The project's schema and the example form loaded by the surveys service; (id, form)."""
    from bot.clock import SystemClock
    from bot.services.surveys import SurveysService
    from storage import Store

    store = await Store.open(database, SystemClock())
    try:
        surveys = SurveysService(store, config_for(database), SystemClock())
        loaded = await surveys.load_file(FORM, "bench", "1", "protection")
        assert loaded.survey is not None, loaded.errors
        return loaded.survey.id, await surveys.form(loaded.survey)
    finally:
        await store.close()


def _submission(rng: random.Random, form: Any, member: int) -> list[tuple[str, str, str]]:
    """(question, value, label) of one member's submission, valid for the form."""
    from datetime import UTC, datetime, timedelta

    def pick(list_name: str, allowed: Any = None) -> tuple[str, str]:
        names = [c for c in form.choices(list_name) if allowed is None or allowed(c)]
        choice = rng.choice(names)
        return choice.name, choice.label("es")

    begun = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=member * 7)
    ended = begun + timedelta(minutes=rng.randint(2, 20))
    country, country_label = pick("country")
    region, region_label = pick("region", lambda c: dict(c.columns).get("country") == country)
    chosen = sorted(rng.sample(range(5), rng.randint(1, 3)))
    themes = [form.choices("themes")[i] for i in chosen]
    answers = [
        ("start", begun.isoformat(timespec="seconds"), ""),
        ("end", ended.isoformat(timespec="seconds"), ""),
        ("today", ended.date().isoformat(), ""),
        ("consent", "OK", "De acuerdo"),
        ("country", country, country_label),
        ("region", region, region_label),
        ("years_abroad", str(rng.randint(0, 40)), ""),
        ("arrival", f"{rng.randint(1990, 2025)}-{rng.randint(1, 12):02d}-15", ""),
        ("themes", " ".join(t.name for t in themes), ", ".join(t.label("es") for t in themes)),
        ("services_rating", str(rng.randint(1, 5)), ""),
        ("remittance_share", str(rng.randint(0, 400) / 4), ""),
    ]
    if any(t.name == "vote" for t in themes):
        answers.append(("vote_problem", rng.choice(FREE) + f" ({member})", ""))
    return answers


def build(database: Path, rows: int) -> None:
    """The example form and `rows` current answers to it (seeded, so runs compare)."""
    survey_id, form = asyncio.run(_load(database))
    rng = random.Random(7)
    connection = sqlite3.connect(database)

    def generate() -> Any:
        made, member = 0, 0
        while made < rows:
            language = rng.choice(["es", "en", "fr"])
            sector = rng.choice(SECTORS)
            answers = _submission(rng, form, member)
            # The member's place (provenance) is where they said they live.
            place = {question: value for question, value, _ in answers}
            country, region = place["country"], place["region"]
            for question, value, label in answers:
                if made == rows:
                    return
                made += 1
                at = NOW if question not in ("start", "end") else value
                yield (
                    f"m-{member:08x}", survey_id, question, value, label, language, at,
                    country, region, sector,
                )  # fmt: skip
            member += 1

    connection.executemany(
        "INSERT INTO record_entries (kind, pseudonym, survey_id, form_id, form_version, question,"
        " question_label, value, value_label, language, at, round, country, region, sector) "
        "VALUES ('answer', ?, ?, 'consultation_round1', '2025-1', ?, '', ?, ?, ?, ?, '1', ?, ?, ?)",
        generate(),
    )
    connection.commit()
    connection.close()


def peer_sql() -> str:
    """The SELECT our answers-long export runs, with no filters (so no parameters)."""
    from storage.exports import ExportFilters, ExportReader

    sql, parameters = ExportReader.answers_sql(None, ExportFilters())  # type: ignore[arg-type]
    assert not parameters
    return sql


def config_for(database: Path, base_url: str = "http://127.0.0.1:1/bot") -> Any:
    from tests.harness import make_config

    return make_config(database, base_url, admins={"user_ids": [9000]})


async def _ours(database: Path, out: Path, mode: str) -> float:
    """One export by the real service: answers-long, or the answers (labels, split, summary)."""
    from bot.clock import SystemClock
    from bot.services.export import ExportRequest, ExportService
    from storage import Store

    store = await Store.open(database, SystemClock())
    try:
        service = ExportService(store, config_for(database), SystemClock())
        kind, fmt = mode.split("-")
        if kind == "wide":
            request = ExportRequest(
                "answers", format=fmt, survey_id=1, labels=True, language="es", multi="split"
            )
        else:
            request = ExportRequest("answers-long", format=fmt)
        started = time.perf_counter()
        await service.export(request, "bench", [("staff", "")], out)
        return time.perf_counter() - started
    finally:
        await store.close()


def child(mode: str, database: Path, out: Path, members: int) -> None:
    """Run one export in this process and print its time and this process's peak RSS."""
    if mode == "chat":
        asyncio.run(chat(database, members))
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        exporter = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"peak RSS: bot process {parent / 1024:.0f} MB (with the emulator and members), "
              f"export process {exporter / 1024:.0f} MB")  # fmt: skip
        return
    # Imports stay outside the timed part, for ours and the peer alike.
    import xlsxwriter

    import bot.services.export  # noqa: F401

    if mode in ("ours-csv", "ours-xlsx", "wide-csv", "wide-xlsx"):
        seconds = asyncio.run(_ours(database, out, mode))
    else:
        sql = peer_sql()
        connection = sqlite3.connect(database)
        started = time.perf_counter()
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("answers_long")
        cursor = connection.execute(sql)
        sheet.write_row(0, 0, [d[0] for d in cursor.description])
        for r, row in enumerate(cursor, start=1):
            sheet.write_row(r, 0, row)
        book.close()
        seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kb": rss}))


def run_child(mode: str, database: Path, out: Path) -> tuple[float, int]:
    """(export seconds measured in the child, the child's peak RSS in KB)."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(database), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["rss_kb"]


def best(mode: str, database: Path, out: Path, runs: int) -> tuple[float, int]:
    """The fastest of `runs` runs (the machine is shared), with the largest peak RSS."""
    results = [run_child(mode, database, out) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def sqlite_cli(database: Path, out: Path, runs: int) -> float:
    tool = shutil.which("sqlite3")
    if tool is None:
        raise SystemExit("the sqlite3 command-line tool is needed for the CSV peer")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with out.open("wb") as stream:
            subprocess.run([tool, "-csv", "-header", str(database), peer_sql()], stdout=stream)
        times.append(time.perf_counter() - started)
    return min(times)


def files(database: Path, rows: int, runs: int, work: Path) -> None:
    csv_s, csv_rss = best("ours-csv", database, work / "ours.csv", runs)
    wide_csv_s, wide_csv_rss = best("wide-csv", database, work / "wide.csv", runs)
    peer_s = sqlite_cli(database, work / "peer.csv", runs)
    xlsx_s, xlsx_rss = best("ours-xlsx", database, work / "ours.xlsx", runs)
    wide_xlsx_s, wide_xlsx_rss = best("wide-xlsx", database, work / "wide.xlsx", runs)
    bare_s, bare_rss = best("bare-xlsx", database, work / "bare.xlsx", runs)
    table = [
        ("CSV: answers-long", csv_s, csv_rss, work / "ours.csv"),
        ("CSV: answers (labels, split)", wide_csv_s, wide_csv_rss, work / "wide.csv"),
        ("CSV peer: sqlite3 -csv (CLI)", peer_s, 0, work / "peer.csv"),
        ("XLSX: answers-long", xlsx_s, xlsx_rss, work / "ours.xlsx"),
        ("XLSX: answers (labels, split, summary)", wide_xlsx_s, wide_xlsx_rss, work / "wide.xlsx"),
        ("XLSX peer: bare xlsxwriter", bare_s, bare_rss, work / "bare.xlsx"),
    ]
    print(f"\n{'export of ' + format(rows, ',') + ' answers':40} {'s':>7} {'RSS MB':>7} {'MB':>6}")
    for name, seconds, rss, path in table:
        shown = f"{rss / 1024:7.0f}" if rss else "      -"
        print(f"{name:40} {seconds:7.2f} {shown} {path.stat().st_size / 2**20:6.1f}")
    print(f"\nCSV ratio  answers-long / sqlite3 -csv:  {csv_s / peer_s:.2f}x (target <= 2)")
    print(f"CSV ratio  answers / sqlite3 -csv:       {wide_csv_s / peer_s:.2f}x (target <= 2)")
    print(f"XLSX ratio answers-long / bare:          {xlsx_s / bare_s:.2f}x (target <= 1.3)")
    print(f"XLSX ratio answers / bare:               {wide_xlsx_s / bare_s:.2f}x (target <= 1.3)")
    peak = max(csv_rss, wide_csv_rss, xlsx_rss, wide_xlsx_rss)
    print(f"peak RSS of an export: {peak / 1024:.0f} MB (target <= 150)")
    print(f"(best of {runs} runs each; RSS includes the interpreter and imports)")


async def chat(database: Path, members: int) -> None:
    """Members keep chatting while a staff member exports the survey as XLSX from chat."""
    from bench.common import percentile
    from tests.harness import TOKEN, add_member, bot_running
    from tgemu import Emulator, Limits

    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    await emulator.start()
    try:
        async with bot_running(emulator, config_for(database, emulator.base_url())) as bot:
            for number in range(members):
                await add_member(bot, 20_000 + number, "es")
            await add_member(bot, 500, "en", username="ana")
            ana = bot.person(500, "Ana", "en", username="ana")
            admin = bot.person(9000, "Admin", "en")
            await admin.send("/grant @ana staff")
            await ana.send("/export")
            await ana.press("Answers (a row per submission)")
            await ana.press("#1 ")
            await ana.press("Everything (no filter)")
            await ana.press("Excel (XLSX)")
            state = emulator.bot(TOKEN)
            last = ana.last()
            [button] = [b for b in last.buttons() if b["text"] == "Labels (readable)"]
            delays: list[float] = []
            exporting = True

            async def chatter(telegram_id: int) -> None:
                rng = random.Random(telegram_id)
                while exporting:
                    started = time.perf_counter()
                    update_id = emulator.send_text(TOKEN, telegram_id, "/help")
                    await bot.processor.wait_done(update_id, timeout=60)
                    delays.append(time.perf_counter() - started)
                    await asyncio.sleep(rng.uniform(0.2, 1.0))

            started = time.perf_counter()
            chatters = [asyncio.create_task(chatter(20_000 + n)) for n in range(members)]
            emulator.press(TOKEN, 500, last.message_id, button["callback_data"])
            while not any(m.document for m in ana.transcript() if m.direction == "out"):
                await asyncio.sleep(0.05)
            took = time.perf_counter() - started
            exporting = False
            await asyncio.gather(*chatters)
            [document] = [m.document for m in ana.transcript() if m.document]
            size = len(state.files[document["file_id"]][1])
    finally:
        await emulator.stop()
    print(
        f"\nchat: XLSX of the survey ({size / 2**20:.1f} MB) reached the staff member in "
        f"{took:.1f} s; {members} members sent {len(delays)} messages meanwhile"
    )
    print(f"reply time p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
          "(target p99 < 500 ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chat", action="store_true", help="also measure chat during an export")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--child")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out, args.members)
        return
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        database = work / "bench.db"
        started = time.perf_counter()
        build(database, args.rows)
        print(f"seeded {args.rows:,} answers in {time.perf_counter() - started:.1f} s")
        files(database, args.rows, args.runs, work)
        if args.chat:
            command = [sys.executable, __file__, "--child", "chat", "--db", str(database)]
            subprocess.run([*command, "--members", str(args.members)], check=True)


if __name__ == "__main__":
    main()
