"""Hostile forms while members chat: each worst form is refused or accepted within limits.

consultbot runs as `consultbot run` in its own process; the emulator and the people run here.
Staff send the worst forms of issue 22 one after another in chat (a 900 MB label in a 0.9 MB
file, eight junk sheets of 4,999 × 300 cells, 4.6 MB of distinct text, 4,999 questions with
regexes, damaged XML, ...) while 50 members keep sending /help, two members keep typing the
answer that froze the bot (`"a" * 27 + "!"` against `^(\\w+\\s?)*$`), and one answers a
4,999-question form. Measured: each upload's answer time and verdict, the bot's resident memory
(and the reading process's), every reply's latency.
Targets: each form < 5 s, bot RSS < 300 MB, others' reply p99 < 250 ms.
Run: .venv/bin/python -m bench.hostile_forms [--members 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import percentile
from bench.registration import _latest_text, _wait_polling
from tests.hostile_files import (
    EVIL_REGEX,
    corrupt_xml,
    form_xlsx,
    junk_sheets,
    label_bomb,
    simple_form,
    with_dimension,
)
from tgemu import Emulator, Limits

TOKEN = "79:hostile"
ADMIN = 9000
MEMBER_BASE = 31_000_000
RUN_BOT = """
import sys
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def many_questions(form_id: str, relevant: str) -> dict[str, list[dict[str, object]]]:
    survey: list[dict[str, object]] = [{"type": "text", "name": "q0", "label": "[q0] First"}]
    survey += [
        {"type": "text", "name": f"q{n}", "label": f"[q{n}] Question {n}", "relevant": relevant}
        for n in range(1, 4999)
    ]
    return {"survey": survey, "settings": [{"form_id": form_id, "version": "1"}]}


def distinct_text(megabytes: float, seed: int = 3) -> bytes:
    """A form with 4,999 choices whose filter columns hold distinct random words (~`megabytes`)."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    columns = 12
    per_cell = int(megabytes * (1 << 20) / 4999 / columns * 1.3)
    choices = [
        {
            "list_name": "big",
            "name": f"c{n}",
            "label": f"Choice {n}",
            **{f"col{c}": "".join(rng.choices(alphabet, k=per_cell)) for c in range(columns)},
        }
        for n in range(4998)
    ]
    return form_xlsx(
        {
            "survey": [{"type": "select_one big", "name": "pick", "label": "Pick"}],
            "choices": choices,
            "settings": [{"form_id": "distinct", "version": "1"}],
        }
    )


def excel_form() -> bytes:
    """The biggest ordinary form: 5,000 trilingual rows with shared strings, as Excel saves."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    languages = ("English (en)", "Español (es)", "Français (fr)")
    header = ["type", "name", "relevant", "constraint", "required"]
    for field in ("label", "hint", "constraint_message"):
        header += [f"{field}::{language}" for language in languages]
    survey = book.add_worksheet("survey")
    survey.write_row(0, 0, header)
    survey.write_row(1, 0, ["integer", "q1", "", ". >= 0", "yes", *("Age",) * 9])
    for row in range(2, 5000):
        texts = [f"Question {row} ({language[-3:-1]}) about services" for language in languages]
        texts += [f"hint {row}"] * 3 + ["A number from 0 to 100"] * 3
        survey.write_row(row, 0, ["integer", f"q{row}", "${q1} > 17", ". <= 100", "no", *texts])
    settings = book.add_worksheet("settings")
    settings.write_row(0, 0, ["form_id", "version", "default_language"])
    settings.write_row(1, 0, ["excel", "1", "es"])
    book.close()
    return out.getvalue()


def worst_forms() -> list[tuple[str, str, bytes]]:
    """(what, file name, content) of each form staff send."""
    long_label = simple_form("long_label", label="L" * 5000)
    many_choices = {
        "survey": [{"type": "select_one many", "name": "pick", "label": "Pick"}],
        "choices": [{"list_name": "many", "name": f"c{n}", "label": f"C{n}"} for n in range(4900)],
        "settings": [{"form_id": "many_choices", "version": "1"}],
    }
    return [
        ("900 MB label in a small file", "bomb.xlsx", label_bomb(900)),
        ("8 junk sheets of 4,999 x 300", "junk.xlsx", junk_sheets(8, 4999, 300, varied=False)),
        ("8 junk sheets within the zip limits", "junk2.xlsx", junk_sheets(8, 1000, 300)),
        ("4.6 MB of distinct text", "distinct.xlsx", distinct_text(4.6)),
        ("5,000 rows x 15 columns as Excel writes it", "excel.xlsx", excel_form()),
        (
            "4,999 questions, regex in relevant",
            "regexes.xlsx",
            form_xlsx(many_questions("regexes", "regex(${q0}, '^[a-z ]+$')")),
        ),
        (
            "4,999 questions, plain relevant",
            "plain.xlsx",
            form_xlsx(many_questions("plain", "${q0} != 'skip'")),
        ),
        ("4,900-choice list", "choices.xlsx", form_xlsx(many_choices)),
        ("label over 4,096 characters", "long.xlsx", form_xlsx(long_label)),
        ("damaged XML", "damaged.xlsx", corrupt_xml(form_xlsx(simple_form("damaged")))),
        (
            "sheet claiming 1,048,576 x 16,384",
            "huge_dimension.xlsx",
            with_dimension(form_xlsx(simple_form("dimension")), "A1:XFD1048576"),
        ),
        (
            "backtracking regex constraint",
            "names.xlsx",
            form_xlsx(simple_form("names2", constraint=EVIL_REGEX)),
        ),
    ]


async def prepare(folder: Path, base_url: str, members: int) -> Path:
    """Config, members, and two open surveys: the freezing regex and 4,999 questions."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.services.surveys import SurveysService
    from storage import Store
    from storage.models import AudienceFilter

    config_path = folder / "config.toml"
    config_path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "{folder / "bench.db"}"\n[logging]\nlevel = "WARNING"\n'
        f"[admins]\nuser_ids = [{ADMIN}]\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    store = await Store.open(config.storage.path, SystemClock())
    try:
        for n in range(members + 3):
            member = await store.members.create_with_consent(
                MEMBER_BASE + n, None, "en", "2026-11", "bench", "name"
            )
            await store.members.update(
                member.id,
                {"status": "active", "step": None, "name": "P", "country": "CA", "region": "ON"},
            )
        service = SurveysService(store, config, SystemClock())
        sheets = simple_form("names", constraint=EVIL_REGEX)
        for content in (form_xlsx(sheets), form_xlsx(many_questions("big", "${q0} != 'x'"))):
            outcome = await service.load_bytes("form.xlsx", content, "bench")
            assert outcome.survey is not None, outcome.errors
            await service.open(outcome.survey.id, AudienceFilter())
            await store.notices.drop_pending("survey_invite", outcome.survey.id)
        return config_path
    finally:
        await store.close()


class People:
    """The members and the staff member, each waiting for the bot's answer before going on."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.chat: list[tuple[float, float]] = []  # (sent at, seconds to the reply)
        self.pathological: list[float] = []
        self.big_form: list[float] = []
        self.running = True

    def _outs(self, person: int) -> int:
        chat = self.emulator.bot(TOKEN).chats.get(person)
        return sum(1 for m in chat.messages.values() if m.direction == "out") if chat else 0

    async def _until(self, person: int, done: Callable[[], bool], timeout: float = 60) -> None:
        chat = self.emulator.bot(TOKEN).chats[person]
        deadline = time.perf_counter() + timeout
        while not done():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{person}: {self._text(person)!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chat.changed.wait(), remaining)

    def _text(self, person: int) -> str:
        return _latest_text(self.emulator.transcript(TOKEN, person))

    async def send(self, person: int, text: str, replies: int = 1) -> float:
        """Send a text; the seconds until `replies` more messages came back."""
        before = self._outs(person)
        started = time.perf_counter()
        self.emulator.send_text(TOKEN, person, text)
        await self._until(person, lambda: self._outs(person) >= before + replies)
        return time.perf_counter() - started

    async def start_survey(self, person: int, survey: int, first: str) -> None:
        self.emulator.create_person(person, "P", "en")
        await self.send(person, "/surveys")
        for message in reversed(self.emulator.transcript(TOKEN, person)):
            starts = [b for b in message.buttons() if b["callback_data"].endswith(f":{survey}")]
            if message.direction == "out" and starts:
                self.emulator.press(TOKEN, person, message.message_id, starts[0]["callback_data"])
                break
        await self._until(person, lambda: first in self._text(person))

    async def chatter(self, person: int) -> None:
        """A member chatting: /help, then 1-3 s of thinking (as bench/surveys.py's members)."""
        self.emulator.create_person(person, "P", "en")
        while self.running:
            await asyncio.sleep(random.uniform(1.0, 3.0))
            sent = time.perf_counter()
            self.chat.append((sent, await self.send(person, "/help")))

    async def typist(self, person: int) -> None:
        """Keeps typing the answer that once froze everyone (refused, question asked again)."""
        await self.start_survey(person, 1, "Your name")
        while self.running:
            await asyncio.sleep(random.uniform(0.2, 0.6))
            self.pathological.append(await self.send(person, "a" * 27 + "!", replies=2))

    async def big_form_answerer(self, person: int) -> None:
        await self.start_survey(person, 2, "[q0]")
        number = 0
        while self.running and number < 4998:
            await asyncio.sleep(random.uniform(0.2, 0.6))
            self.big_form.append(await self.send(person, f"answer {number}"))
            number += 1

    async def upload(self, name: str, content: bytes) -> tuple[float, float, str]:
        """Staff send a form; (sent at, seconds to the answer, the answer)."""
        before = self._outs(ADMIN)
        started = time.perf_counter()
        self.emulator.send_document(TOKEN, ADMIN, name, content)
        await self._until(ADMIN, lambda: self._outs(ADMIN) > before, timeout=120)
        return started, time.perf_counter() - started, self._text(ADMIN)


class Memory:
    """The bot's resident memory, and its children's (the reading process), sampled."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.bot = 0
        self.child = 0

    @staticmethod
    def _rss(pid: int | str) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    async def sample(self, running: Callable[[], bool]) -> None:
        # The reader is started from a worker thread: it is that thread's child, not the main's.
        tasks = Path(f"/proc/{self.pid}/task")
        while running():
            self.bot = max(self.bot, self._rss(self.pid))
            with contextlib.suppress(OSError):
                for task in tasks.iterdir():
                    for child in (task / "children").read_text().split():
                        self.child = max(self.child, self._rss(child))
            await asyncio.sleep(0.01)


def _verdict(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    if "loaded" in first:
        return "accepted"
    lines = text.splitlines()
    reason = lines[1].lstrip("• ") if len(lines) > 1 else first
    return "refused: " + reason.split(": ", 1)[-1][:90]


async def main(members: int) -> None:
    print("building the worst forms ...", flush=True)
    forms = worst_forms()
    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = await prepare(folder, base_url, members)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN_BOT, "run", "--config", str(config)
        )
        people = People(emulator)
        memory = Memory(process.pid)
        try:
            await _wait_polling(emulator, TOKEN)
            emulator.create_person(ADMIN, "Staff", "en")
            sampler = asyncio.create_task(memory.sample(lambda: people.running))
            crowd = [asyncio.create_task(people.chatter(MEMBER_BASE + n)) for n in range(members)]
            crowd += [asyncio.create_task(people.typist(MEMBER_BASE + members + k)) for k in (0, 1)]
            crowd.append(asyncio.create_task(people.big_form_answerer(MEMBER_BASE + members + 2)))
            await asyncio.sleep(2)
            uploads_start = time.perf_counter()
            results = []
            for what, file_name, content in forms:
                sent, seconds, answer = await people.upload(file_name, content)
                during = [s for at, s in people.chat if sent <= at <= sent + seconds]
                results.append((what, len(content), seconds, _verdict(answer), during))
                await asyncio.sleep(1)
            people.running = False
            await asyncio.gather(*crowd)
            await sampler
        finally:
            people.running = False
            process.terminate()
            await process.wait()
            await emulator.stop()
    print(f"{members} members sending /help, 2 typing the freezing answer, 1 on 4,999 questions")
    print("('/help p99': the members' replies while that form was being answered)")
    print(f"{'form':42} {'file':>8} {'answer':>7} {'/help p99':>9}  verdict")
    for what, size, seconds, verdict, during in results:
        shown = f"{percentile(during, 0.99) * 1000:7.0f}ms" if during else "      -  "
        print(f"{what:42} {size / 1024:6.0f}KB {seconds:6.2f}s {shown}  {verdict}")
    print(f"slowest upload answer: {max(r[2] for r in results):.2f} s (target < 5 s)")
    print(f"bot RSS peak: {memory.bot / (1 << 20):.0f} MB (target < 300 MB); ", end="")
    print(f"reading process RSS peak: {memory.child / (1 << 20):.0f} MB")
    for label, values in (
        ("/help replies", [seconds for _, seconds in people.chat]),
        ("freezing answer refused", people.pathological),
        ("4,999-question form answers", people.big_form),
    ):
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(
            f"{label:28} n={len(values):5}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
            f"max {max(values, default=0) * 1000:6.1f} ms"
        )
    print("target: others' reply p99 < 250 ms")
    slow = sorted(people.chat, key=lambda item: -item[1])[:5]
    print(
        "slowest /help (s after the first upload: latency): "
        + ", ".join(f"{at - uploads_start:+.1f}: {s * 1000:.0f} ms" for at, s in slow)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members))
