"""`consultbot sandbox` over HTTP, as its page uses it: demo data, chats, clock, console, reset."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, FormData
from icalendar import Calendar

from bot.cli import main
from bot.sandbox.demo_data import EXAMPLE_FORM as FORM
from bot.sandbox.server import Serving, serving

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"X-Sandbox": "1"}
ANA, MARIE, DANIEL, ROSA = 1001, 1002, 1003, 1004


class Page:
    """What the sandbox's page holds: the snapshot, kept current through /api/updates."""

    def __init__(self, session: ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self.state: dict[str, Any] = {}
        self.chats: dict[int, dict[int, dict[str, Any]]] = {}
        self.toasts: list[dict[str, Any]] = []

    async def load(self) -> None:
        async with self.session.get(self.url + "api/state") as answer:
            assert answer.status == 200
            self.state = await answer.json()
        self.chats = {
            int(person): {message["id"]: message for message in messages}
            for person, messages in self.state["chats"].items()
        }

    async def post(self, path: str, status: int = 200, **body: Any) -> dict[str, Any]:
        async with self.session.post(self.url + path, json=body, headers=HEADERS) as answer:
            data: dict[str, Any] = await answer.json()
            assert answer.status == status, data
            return data

    async def follow(self, timeout: float = 1.0) -> None:
        """One long poll: apply what changed (returns early when something did)."""
        cursor = self.state["cursor"]
        body = {"cursor": cursor, "wait": timeout}
        async with self.session.post(
            self.url + "api/updates", json=body, headers=HEADERS
        ) as answer:
            update = await answer.json()
        if update.get("reload"):
            await self.load()
            return
        for person, messages in update["chats"].items():
            for message in messages:
                self.chats.setdefault(int(person), {})[message["id"]] = message
        self.toasts += update["toasts"]
        kept = ("cursor", "keyboards", "clock", "people")
        self.state.update({key: update[key] for key in kept if key in update})

    async def until(self, found: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := found()):
            assert asyncio.get_running_loop().time() < deadline, "the page never showed it"
            await self.follow()
        return result

    def bot_message(self, person: int, marker: str) -> dict[str, Any] | None:
        message: dict[str, Any]
        for message in reversed(list(self.chats.get(person, {}).values())):
            if message["dir"] == "out" and marker in message["text"]:
                return message
        return None

    def documents(self, person: int) -> list[dict[str, Any]]:
        messages = self.chats.get(person, {}).values()
        return [m["document"] for m in messages if m["dir"] == "out" and "document" in m]

    async def press(self, person: int, message: dict[str, Any], label: str) -> None:
        data = next(b["data"] for row in message["buttons"] for b in row if label in b["text"])
        await self.post("api/press", person=person, message=message["id"], data=data)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Serving]:
    async with serving(tmp_path / "consultbot-sandbox.db", main, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
async def page(served: Serving) -> AsyncIterator[Page]:
    async with ClientSession() as session:
        shown = Page(session, served.url)
        await shown.load()
        yield shown


async def test_first_start_shows_four_people_invited_to_the_demo_meeting_and_survey(
    page: Page,
) -> None:
    people = {p["id"]: p for p in page.state["people"]}
    assert [people[i]["language"] for i in (ANA, MARIE, DANIEL, ROSA)] == ["es", "fr", "en", "es"]
    assert people[ROSA]["zone"] == "America/El_Salvador" and "staff" in people[ROSA]["role"]
    invitation = await page.until(lambda: page.bot_message(ANA, "Invitación"))
    assert "Consulta nacional: ronda 1" in invitation["text"]
    # Formatting arrives as Telegram's entities, never as HTML for the page to insert; offsets
    # count UTF-16 units as the page's JavaScript does ("📅 " is three).
    assert {"type": "bold", "offset": 3} in [
        {k: e[k] for k in ("type", "offset")} for e in invitation["entities"]
    ]
    assert "<b>" not in invitation["text"]
    await page.until(lambda: page.bot_message(MARIE, "Nouveau questionnaire"))
    # The coordinator organises the meeting: the survey reaches him, the invitation does not.
    await page.until(lambda: page.bot_message(DANIEL, "New survey"))
    assert page.bot_message(DANIEL, "Invitation") is None


async def test_yes_edits_the_invitation_in_place_and_sends_an_ics(page: Page) -> None:
    invitation = await page.until(lambda: page.bot_message(ANA, "Invitación"))
    await page.press(ANA, invitation, "Sí")
    await page.until(lambda: page.documents(ANA))
    edited = page.chats[ANA][invitation["id"]]
    assert edited["edits"] >= 1
    [document] = page.documents(ANA)
    assert document["name"].endswith(".ics")
    async with page.session.get(page.url + f"api/file/{document['file_id']}") as answer:
        assert answer.status == 200
        assert "attachment" in answer.headers["Content-Disposition"]
        calendar = Calendar.from_ical(await answer.read())
    event = next(iter(calendar.walk("VEVENT")))
    assert "Consulta nacional" in str(event["summary"])


async def test_the_clock_jumps_to_an_hour_before_the_meeting_and_the_reminder_arrives(
    page: Page,
) -> None:
    invitation = await page.until(lambda: page.bot_message(ANA, "Invitación"))
    await page.press(ANA, invitation, "Sí")
    await page.until(lambda: page.documents(ANA))
    before = datetime.fromisoformat(page.state["clock"]["now"])
    moved = await page.post("api/clock", to="meeting")
    assert datetime.fromisoformat(moved["now"]) - before > timedelta(days=2)
    reminder = await page.until(lambda: page.bot_message(ANA, "Recordatorio"))
    assert "Consulta nacional" in reminder["text"]
    # Reminders go to those coming: Marie did not answer.
    assert page.bot_message(MARIE, "Rappel") is None
    # No meeting more than an hour ahead now: the jump is refused with a reason.
    refused = await page.post("api/clock", status=400, to="meeting")
    assert "no scheduled meeting" in refused["error"]
    await page.post("api/clock", to="day")
    await page.follow()
    assert page.state["clock"]["offset"] > 3 * 86400 - 60
    await page.post("api/clock", to="now")
    await page.follow()
    assert abs(page.state["clock"]["offset"]) < 1


# Luis registers in Dallas: (what he does, the question it brings). A label of the newest
# keyboard is pressed; anything else is typed.
REGISTRATION = [
    ("/start", "idioma"),
    ("Español", "privacidad"),
    ("Acepto", "¿Cómo quieres que te llamemos?"),
    ("Luis", "¿En qué país vives?"),
    ("Estados Unidos", "provincia o estado"),
    ("tx", "¿En qué ciudad vives?"),
    ("Dallas", "más de una zona horaria"),
    ("Houston", "asociación de la diáspora"),
    ("Comité Salvadoreño de Dallas", "¿En qué sector participas?"),
    ("Sociedad civil", "¿Qué temas te interesan?"),
    ("Protección", "☑️"),
    ("Listo", "correo electrónico"),
    ("Omitir", "comparte tu teléfono"),
]


async def test_a_new_person_registers_sharing_their_contact_from_the_reply_keyboard(
    page: Page,
) -> None:
    added = await page.post("api/people", name="Luis", language="es", zone="America/Chicago")
    luis = added["person"]["id"]
    await page.follow()
    assert luis in [p["id"] for p in page.state["people"]]
    for action, question in REGISTRATION:
        seen = {(m["id"], m["edits"]) for m in page.chats.get(luis, {}).values()}
        newest = max(page.chats.get(luis, {}).values(), key=lambda m: m["id"], default=None)
        labels = [b["text"] for row in (newest or {}).get("buttons", []) for b in row]
        if newest is not None and any(action in label for label in labels):
            await page.press(luis, newest, action)
        else:
            await page.post("api/send", person=luis, text=action)

        def asked(question: str = question, seen: set[tuple[int, int]] = seen) -> bool:
            return any(
                (m["id"], m["edits"]) not in seen and question in m["text"] + str(m["buttons"])
                for m in page.chats.get(luis, {}).values()
                if m["dir"] == "out"
            )

        await page.until(asked)
    keyboard = await page.until(lambda: page.state["keyboards"].get(str(luis)))
    [share] = [b for row in keyboard["rows"] for b in row if b["contact"]]
    await page.post("api/keyboard", person=luis, text=share["text"])
    summary = await page.until(lambda: page.bot_message(luis, "Revisa tus datos"))
    assert "Dallas" in summary["text"]
    shared = [m for m in page.chats[luis].values() if "contact" in m]
    assert shared and shared[0]["dir"] == "in"


async def test_staff_load_a_form_in_chat_and_open_it_from_the_console(page: Page) -> None:
    form = FormData()
    form.add_field("person", str(ROSA))
    form.add_field("caption", "round=1")
    form.add_field("file", FORM.read_bytes(), filename="consultation_round1.xlsx")
    async with page.session.post(page.url + "api/document", data=form, headers=HEADERS) as sent:
        assert sent.status == 200
    # The demo loaded this very form: loading it again is refused, as in production.
    refused = await page.until(lambda: page.bot_message(ROSA, "rechazado"))
    assert "#1" in refused["text"] and "no se guardó nada" in refused["text"]
    listed = await page.post("api/console", line="surveys list")
    assert listed["status"] == 0 and "consultation_round1" in listed["output"]
    assert re.search(r"^1\s+open", listed["output"], re.MULTILINE)
    closed = await page.post("api/console", line="consultbot surveys close 1")
    assert (closed["status"], closed["output"].strip()) == (0, "survey #1 closed")
    usage = await page.post("api/console", line="surveys open")
    assert usage["status"] == 2 and "surveys:" in usage["output"]
    refused_command = await page.post("api/console", status=400, line="run")
    assert "the console runs" in refused_command["error"]


async def test_only_the_page_on_this_machine_may_act(page: Page) -> None:
    async with page.session.post(page.url + "api/send", json={"person": ANA, "text": "hi"}) as a:
        assert a.status == 403  # no X-Sandbox header: a form posted by another site
    async with page.session.get(page.url + "api/state", headers={"Host": "evil.example"}) as a:
        assert a.status == 403
    unknown = await page.post("api/press", status=400, person=ANA, message=999, data="v1:x")
    assert "999" in unknown["error"]
    nobody = await page.post("api/send", status=400, person=4242, text="hi")
    assert "4242" in nobody["error"]


async def test_the_page_is_served_whole_and_loads_nothing_from_elsewhere(page: Page) -> None:
    async with page.session.get(page.url) as answer:
        html = await answer.text()
    assert answer.status == 200 and "/static/sandbox.js" in html
    names = re.findall(r'(?:src|href)="([^"]+)"', html)
    for name in names:
        assert not name.startswith(("http:", "https:", "//")), name
        if name.startswith("/static/"):
            async with page.session.get(page.url + name.lstrip("/")) as asset:
                assert asset.status == 200, name
                text = await asset.text()
            assert not re.search(r"(?:import|url\(|src=|fetch\()\s*['\"]?https?:", text), name


async def test_reset_starts_again_and_a_restart_keeps_people_and_data(tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    async with serving(database, main, "127.0.0.1", 0) as first, ClientSession() as session:
        page = Page(session, first.url)
        await page.load()
        await page.post("api/people", name="Luis", language="es", zone="America/Chicago")
        await page.until(lambda: page.bot_message(ANA, "Invitación"))
    async with serving(database, main, "127.0.0.1", 0) as again, ClientSession() as session:
        page = Page(session, again.url)
        await page.load()
        assert "Luis" in [p["name"] for p in page.state["people"]]
        listed = await page.post("api/console", line="meetings list")
        assert len(re.findall(r"Consulta nacional", listed["output"])) == 1  # not seeded twice
        generation = page.state["cursor"]["generation"]
        await page.post("api/reset")
        await page.follow()
        assert page.state["cursor"]["generation"] == generation + 1
        assert [p["name"] for p in page.state["people"]] == ["Ana", "Marie", "Daniel", "Rosa"]
        await page.until(lambda: page.bot_message(ANA, "Invitación"))


def test_readme_command_one_is_the_sandbox_and_command_two_what_ci_runs() -> None:
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("```sh\n", 1)[1]
    first, second = block.split("```", 1)[0].strip().splitlines()
    assert first == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/consultbot sandbox"
    )
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert second.replace("pip install -e", "pip install -q -e") in ci  # CI installs quietly


def test_a_port_in_use_is_refused_in_one_line_before_the_database_is_touched(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)]
        done = subprocess.run(
            [*command, "--database", str(tmp_path / "never.db")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == f"sandbox: port {port} is already in use (choose another with --port)\n"
    assert list(tmp_path.iterdir()) == []
