"""Surveys under load: 1,000 members answering at once, 200 thinking, a 200-question form.

consultbot runs as `consultbot run` in its own process (with the surveys wired in); the emulator
and the simulated members run here. Each member sends /surveys, presses Start, answers ten
questions (buttons and typed numbers and text), each waiting for the next question, and submits.
The registration walk of bench/registration.py runs in the same run for the ratio: the two
alternate, short halves repeated (--rounds, 3 by default), so both see the machine's same load; each
pair's ratio is printed and the median is the figure; so is the ratio per update handled (a
survey's /surveys, Start and Submit are updates but not answers). The bot process counts its
trips to SQLite's thread (calls into aiosqlite's worker), the emulator its Bot API calls, and
each bot process's CPU time per update is taken when it exits (less moved by a busy machine than
the rates are).
Run: .venv/bin/python -m bench.surveys [--people 1000] [--thinking-people 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import percentile
from bench.registration import _button, _children_cpu, _latest_text, _wait_polling
from bench.registration import run_one as run_registration
from tgemu import ChatMessage, Emulator, Limits

QUESTIONS = 10
# The bot as `consultbot run`, counting its trips to aiosqlite's thread into BENCH_TRIPS at exit
# (every aiosqlite call, cursor ones included, is queued through Connection._execute).
RUN_BOT = """
import atexit, os, sys
import aiosqlite.core
trips = [0]
queue = aiosqlite.core.Connection._execute
async def counted(self, fn, *args, **kwargs):
    trips[0] += 1
    return await queue(self, fn, *args, **kwargs)
aiosqlite.core.Connection._execute = counted
atexit.register(lambda: open(os.environ["BENCH_TRIPS"], "w").write(str(trips[0])))
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def form_sheets(questions: int) -> dict[str, list[dict[str, str]]]:
    """A form of select_one, integer (with a constraint) and text questions, in turn."""
    survey: list[dict[str, str]] = []
    for n in range(1, questions + 1):
        label = f"[q{n:03d}] Question {n}"
        row = {"type": "", "name": f"q{n}", "label": label, "required": "yes", "constraint": ""}
        kind = n % 3
        if kind == 1:
            row["type"] = "select_one abc"
        elif kind == 2:
            row.update(type="integer", constraint=". >= 0 and . <= 100")
        else:
            row["type"] = "text"
        if n > 3 and n % 7 == 0:
            row["relevant"] = "${q1} != 'never'"
        survey.append(row)
    choices = [
        {"list_name": "abc", "name": name, "label": label}
        for name, label in (("a", "Alpha"), ("b", "Bravo"), ("c", "Charlie"), ("never", "Never"))
    ]
    settings = [{"form_id": f"bench_{questions}", "version": "1", "form_title": "Bench"}]
    return {"survey": survey, "choices": choices, "settings": settings}


def _write_xlsx(sheets: dict[str, list[dict[str, str]]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for index, (title, rows) in enumerate(sheets.items()):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(key, "") for key in header])
    book.save(path)


async def prepare(folder: Path, token: str, base_url: str, people: int) -> tuple[Path, int, float]:
    """Config, members, the 10-question survey opened to all; the time to load 200 questions."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.services.surveys import SurveysService
    from storage import Store
    from storage.models import AudienceFilter

    config_path = folder / "config.toml"
    config_path.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "{folder / "bench.db"}"\n[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    config = load_config(config_path)
    store = await Store.open(config.storage.path, SystemClock())
    try:
        for n in range(people):
            member = await store.members.create_with_consent(
                30_000_000 + n, None, "en", "2026-11", "bench", "name"
            )
            await store.members.update(
                member.id,
                {"status": "active", "step": None, "name": "P", "country": "CA", "region": "ON"},
            )
        service = SurveysService(store, config, SystemClock())
        big = folder / "big.xlsx"
        _write_xlsx(form_sheets(200), big)
        started = time.perf_counter()
        outcome = await service.load_file(big, "bench")
        load_seconds = time.perf_counter() - started
        assert outcome.survey is not None, outcome.errors
        small = await service.load_sheets(form_sheets(QUESTIONS), "bench.xlsx", "bench")
        assert small.survey is not None, small.errors
        await service.open(small.survey.id, AudienceFilter())
        # The members start from /surveys; the invitations would only add sends to the run.
        await store.notices.drop_pending("survey_invite", small.survey.id)
        return config_path, small.survey.id, load_seconds
    finally:
        await store.close()


class Members:
    """Simulated members answering the survey and timing each answer's reply."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.emulator = emulator
        self.token = token
        self.latencies: list[float] = []

    def _messages(self, person: int) -> list[ChatMessage]:
        return self.emulator.transcript(self.token, person)

    async def _until(self, person: int, satisfied: Callable[[], bool]) -> None:
        chat = self.emulator.bot(self.token).chats[person]
        deadline = time.perf_counter() + 120
        while not satisfied():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{person}: {_latest_text(self._messages(person))!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chat.changed.wait(), remaining)

    def _shows(self, person: int, marker: str) -> Callable[[], bool]:
        return lambda: marker in _latest_text(self._messages(person))

    async def _press(self, person: int, label: str) -> None:
        found = _button(self._messages(person), label)
        if found is None:
            raise RuntimeError(
                f"{person}: no {label!r} in {_latest_text(self._messages(person))!r}"
            )
        self.emulator.press(self.token, person, found[0], found[1])

    async def answer(self, person: int, thinking: tuple[float, float] | None) -> None:
        """/surveys, Start, ten answers, Submit; each step waits for the bot's reply."""
        self.emulator.create_person(person, "P", "en")
        self.emulator.send_text(self.token, person, "/surveys")
        await self._until(person, lambda: _button(self._messages(person), "Start") is not None)
        await self._press(person, "Start")
        await self._until(person, self._shows(person, "[q001]"))
        for n in range(1, QUESTIONS + 1):
            if thinking:
                await asyncio.sleep(random.uniform(*thinking))
            started = time.perf_counter()
            kind = n % 3
            if kind == 1:
                await self._press(person, random.choice(("Alpha", "Bravo", "Charlie")))
            elif kind == 2:
                self.emulator.send_text(self.token, person, str(random.randint(0, 100)))
            else:
                self.emulator.send_text(self.token, person, f"text answer {n}")
            following = f"[q{n + 1:03d}]" if n < QUESTIONS else "Your answers"
            await self._until(person, self._shows(person, following))
            self.latencies.append(time.perf_counter() - started)
        await self._press(person, "Submit")
        await self._until(person, self._shows(person, "recorded"))


async def run_survey(
    people: int, thinking: tuple[float, float] | None
) -> tuple[float, Members, dict[str, int], float]:
    """One run against a fresh consultbot; (seconds, members, counts, load time).

    The counts hold the database's (answers, record entries, duplicates) and the bot's "trips" to
    SQLite's thread and "api calls" (Bot API calls but getUpdates) over the whole run.
    """
    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    base_url = await emulator.start()
    token = "78:surveys"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config, survey_id, load_seconds = await prepare(folder, token, base_url, people)
        trips_file = folder / "trips"
        cpu_before = _children_cpu()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUN_BOT,
            "run",
            "--config",
            str(config),
            env={**os.environ, "BENCH_TRIPS": str(trips_file)},
        )
        try:
            await _wait_polling(emulator, token)
            crowd = Members(emulator, token)
            started = time.perf_counter()
            await asyncio.gather(*(crowd.answer(30_000_000 + n, thinking) for n in range(people)))
            elapsed = time.perf_counter() - started
            calls = emulator.bot(token).calls
            api_calls = sum(n for name, n in calls.items() if name.lower() != "getupdates")
            updates = len(emulator.bot(token).history)
        finally:
            process.terminate()
            await process.wait()
            bot_cpu = _children_cpu() - cpu_before
            await emulator.stop()
        counts = await _count(folder / "bench.db", survey_id)
        counts["cpu ms"] = round(bot_cpu * 1000)
        counts["api calls"] = api_calls
        counts["updates"] = updates
        counts["trips"] = int(trips_file.read_text()) if trips_file.exists() else 0
    return elapsed, crowd, counts, load_seconds


async def _count(database: Path, survey_id: int) -> dict[str, int]:
    from bot.clock import SystemClock
    from storage import Store

    store = await Store.open(database, SystemClock())
    db = store.database
    try:
        queries = {
            "working answers": "SELECT count(*) FROM survey_answers WHERE survey_id = ?",
            "record entries": "SELECT count(*) FROM record_entries WHERE survey_id = ?",
            "duplicated": "SELECT count(*) FROM (SELECT pseudonym, question FROM record_entries"
            " WHERE survey_id = ? GROUP BY pseudonym, question HAVING count(*) > 1)",
        }
        found = {}
        for label, sql in queries.items():
            row = await db.fetch_one(sql, (survey_id,))
            found[label] = int(row[0]) if row else 0
        return found
    finally:
        await store.close()


async def main(people: int, thinking_people: int, rounds: int) -> None:
    from bench.registration import SCRIPT

    print(f"capacity: {people} members answer a {QUESTIONS}-question survey at once, no pause;")
    print(f"  {rounds} rounds, each a surveys half then a registration half, for the same load")
    answers = people * QUESTIONS
    ratios: list[float] = []
    update_ratios: list[float] = []
    rates: list[float] = []
    trips: list[float] = []
    load_seconds = 0.0
    cpu_ratios: list[float] = []
    for round_number in range(1, rounds + 1):
        elapsed, _, counts, load_seconds = await run_survey(people, None)
        survey_cpu = counts["cpu ms"] / 1000 / counts["updates"]
        started_cpu = _children_cpu()
        registration_time, _ = await run_registration("consultbot", people, None)
        registration_cpu = (_children_cpu() - started_cpu) / (people * len(SCRIPT))
        cpu_ratios.append(registration_cpu / survey_cpu)
        rate = answers / elapsed
        steps = people * len(SCRIPT) / registration_time
        lost = answers - counts["working answers"]
        ratios.append(rate / steps)
        # Like for like: updates handled per second on both sides (a survey is 13 updates for
        # its 10 answers: /surveys, Start and Submit are not answers; every registration update
        # is a step).
        update_ratio = (counts["updates"] / elapsed) / steps
        update_ratios.append(update_ratio)
        rates.append(rate)
        trips.append(counts["trips"] / answers)
        print(
            f"  round {round_number}: {rate:6.0f} answers/s, registration {steps:6.0f} steps/s,"
            f" ratio {rate / steps:.2f} ({counts['updates'] / answers:.1f} updates per answer,"
            f" per update {update_ratio:.2f}); per answer {counts['trips'] / answers:.1f} trips to"
            f" SQLite's thread, {counts['api calls'] / answers:.1f} Bot API calls;"
            f" lost {lost}, duplicated {counts['duplicated']}"
        )
        print(
            f"    the bot's CPU per update handled: survey {survey_cpu * 1000:.2f} ms,"
            f" registration {registration_cpu * 1000:.2f} ms"
        )
    print(
        f"  median ratio {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max"
        f" {max(ratios):.2f}); median {statistics.median(rates):.0f} answers/s;"
        f" {statistics.median(trips):.1f} trips per answer"
    )
    print(
        f"  per update handled (like for like): median ratio {statistics.median(update_ratios):.2f}"
        f" (min {min(update_ratios):.2f}, max {max(update_ratios):.2f}); by the bot's CPU per"
        f" update {statistics.median(cpu_ratios):.2f}"
    )
    print(f"responsiveness: {thinking_people} members, 1-3 s thinking between answers")
    _, thinking_crowd, _, _ = await run_survey(thinking_people, (1.0, 3.0))
    p50 = percentile(thinking_crowd.latencies, 0.5) * 1000
    p99 = percentile(thinking_crowd.latencies, 0.99) * 1000
    print(f"  answer reply p50 {p50:6.1f} ms   p99 {p99:6.1f} ms (target < 250 ms)")
    print(f"loading a 200-question XLSForm (read, validate, store): {load_seconds * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--thinking-people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.thinking_people, arguments.rounds))
