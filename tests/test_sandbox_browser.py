"""`consultbot sandbox` in a real browser: headless Chromium from the distribution, via Selenium.

The sandbox runs as README command 1 starts it (`python -m bot.cli sandbox`); everything below
is done on its page by clicking and typing. Each step leaves a screenshot in the test's
temporary folder; any JavaScript console error fails the test. With
CONSULTBOT_SANDBOX_SCREENSHOT=docs/sandbox.png it also writes the README's screenshot.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from icalendar import Calendar
from selenium.webdriver.common.by import By

from bot.sandbox.demo_data import EXAMPLE_FORM
from tests.sandbox_browser import CHROMIUM, Page, free_port, start_chromium

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no {CHROMIUM}: install the distribution's chromium and chromium-driver "
    "(apt-get install chromium chromium-driver; .ci/run does)",
)
ANA, MARIE, DANIEL, ROSA = 1001, 1002, 1003, 1004
# Luis registers in Dallas: what he does (a button's label, else typed) and what it brings.
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
NEW_MEETING = [
    ("/newmeeting", "What kind of meeting?"),
    ("National", "title"),
    ("Regional assembly", "description"),
    ("Skip", "time zone"),
    ("Keep", "When does it start?"),
    ("tomorrow 6pm", "How long"),
    ("90 min", "Online link"),
    ("https://meet.example.org/assembly", "Venue"),
    ("Skip", "Maximum number"),
    ("Skip", "Deadline"),
    ("Skip", "Reminders"),
    ("24 h and 1 h", "Preview"),
    ("Create and invite", "created"),
]
BROADCAST = [
    ("/broadcast", "Type the notice"),
    ("Bring your consular ID to the assembly.", "Versions of the notice"),
    ("Continue", "Audience"),
    ("Continue", "Preview"),
    ("Confirm sending", "Notice #1"),
]
ANSWERS = {
    ANA: [
        ("Empezar", "Gracias por participar"),
        ("Continuar", "un código en lugar de tu nombre"),
        ("De acuerdo", "¿En qué país vives?"),
        ("Estados Unidos", "¿Provincia o estado?"),
        ("California", "¿Cuántos años"),
        ("12", "¿Cuándo hiciste tu último trámite en un consulado?"),
        ("2013-05-01", "¿Qué temas te importan?"),
        ("Remesas", "☑️ Remesas"),
        ("Listo", "servicios consulares"),
        ("4", "ingresos"),
        ("10", "¡Gracias!"),
        ("Continuar", "Tus respuestas:"),
        ("Enviar", "quedaron registradas"),
    ],
    MARIE: [
        ("Commencer", "Merci de participer"),
        ("Continuer", "un code plutôt que votre nom"),
        ("accord", "Dans quel pays"),
        ("Canada", "Province ou État"),
        ("Québec", "Depuis combien"),
        ("8", "Quand avez-vous fait votre dernière démarche"),
        ("2017-09-01", "Quels thèmes"),
        ("Services consulaires", "☑️ Services consulaires"),
        ("Terminé", "Notez les services"),
        ("5", "revenus"),
        ("Passer", "Merci !"),
        ("Continuer", "Vos réponses :"),
        ("Envoyer", "sont enregistrées"),
    ],
}
EXPORT = [
    ("/export", "¿qué quieres exportar?"),
    ("una fila por envío", "¿Qué encuesta?"),
    ("#2", "¿Exportar todo o solo una parte?"),
    ("Todo (sin filtro)", "¿En qué formato?"),
    ("CSV", "etiquetas"),
    ("Etiquetas", "filas en el archivo"),
]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`consultbot sandbox` on a free port; its address and its database."""
    database = tmp_path / "sandbox.db"
    command = [sys.executable, "-m", "bot.cli", "sandbox", "--database", str(database)]
    process = subprocess.Popen(
        [*command, "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    if "open http" not in first:
        process.kill()
        pytest.fail(f"the sandbox did not start: {first}{process.stderr.read()}")
    url = first.split("open ", 1)[1].split()[0]
    yield url, database
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, process.stderr.read()


@pytest.fixture
def page(sandbox: tuple[str, Path], tmp_path: Path) -> Iterator[Page]:
    driver = start_chromium(tmp_path / "chromium-profile", tmp_path / "downloads")
    shown = Page(driver, sandbox[0], tmp_path / "screenshots", tmp_path / "downloads")
    try:
        yield shown
        shown.assert_no_console_errors()
    finally:
        driver.quit()


def test_the_whole_consultation_by_clicking_in_the_browser(
    page: Page, sandbox: tuple[str, Path], tmp_path: Path
) -> None:
    page.open()
    assert page.names() == ["Ana", "Marie", "Daniel", "Rosa"]
    page.phone(ANA).wait_for("Consulta nacional: ronda 1")  # the demo meeting's invitation
    page.step("page")

    # A newcomer is added on the page and registers by clicking and typing.
    luis = page.add_person("Luis", "es", "America/Chicago")
    for action, question in REGISTRATION:
        luis.do(action, question)
    luis.reply_keyboard(contact=True, expect="Revisa tus datos")
    luis.do("Confirmar", "¡Listo, Luis!")
    page.step("registered")

    # The coordinator creates a meeting and sends a notice.
    daniel = page.phone(DANIEL)
    for action, question in NEW_MEETING:
        daniel.do(action, question)
    for action, question in BROADCAST:
        daniel.do(action, question)
    page.step("coordinator")

    # The member sees both arrive unprompted, answers Yes and downloads the .ics.
    ana = page.phone(ANA)
    ana.wait_for("Bring your consular ID")
    ana.wait_for("Regional assembly")
    ana.do("Sí", "Te esperamos")
    calendar = Calendar.from_ical(ana.download(".ics"))
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["summary"]) == "Regional assembly"
    page.step("invitation")

    # The clock jumps to an hour before the meeting: the reminder arrives.
    page.jump("meeting")
    reminder = ana.wait_for("Recordatorio")
    assert "Regional assembly" in reminder
    page.step("reminder")

    # Staff upload the example form (as a new version: the demo loaded this one) and open it.
    form = openpyxl.load_workbook(EXAMPLE_FORM)
    form["settings"]["B2"] = "2025-2"
    upload = tmp_path / "consultation_round1.xlsx"
    form.save(upload)
    rosa = page.phone(ROSA)
    rosa.upload(upload, "Encuesta #2 cargada")
    assert "open; 4 members invited" in page.console("surveys open 2")
    for member, steps in ANSWERS.items():
        phone = page.phone(member)
        # The second survey invitation (the demo's is the first): its Start is the newest.
        phone.wait_for("Nueva encuesta" if member == ANA else "Nouveau questionnaire", count=2)
        for action, question in steps:
            phone.do(action, question)
    page.step("answers")

    # Staff export the answers and open the file as a policy drafter would.
    for action, question in EXPORT:
        rosa.do(action, question)
    rows = list(csv.DictReader(io.StringIO(rosa.download("_answers_").decode("utf-8-sig"))))
    assert {(row["_country"], row["_language"]) for row in rows} == {("US", "es"), ("CA", "fr")}
    assert {row["¿Cuántos años llevas fuera del país?"] for row in rows} == {"12", "8"}
    page.step("export")

    # Formatting as Telegram draws it, from the entities; a date_time in the person's zone.
    check_formatting(page, tmp_path / "sandbox.toml")
    # The README's picture: every chat in full, no console.
    page.driver.find_element(By.ID, "toggle-console").click()
    page.driver.set_window_size(1920, 1000)
    page.driver.execute_script("document.getElementById('people').scrollLeft = 0")
    page.step("formatting", readme=True)


def check_formatting(page: Page, config: Path) -> None:
    """Messages sent through the Bot API as the bot could send them, read on Marie's phone."""
    settings = tomllib.loads(config.read_text(encoding="utf-8"))["telegram"]
    html = (
        "<b>b</b> <i>i</i> <u>u</u> <s>s</s> <code>c</code> <tg-spoiler>secret</tg-spoiler> "
        '<a href="https://example.org/x">link</a> &lt;img src=x onerror=alert(1)&gt;'
        "<pre>pre</pre><blockquote>quoted</blockquote>"
    )
    page.bot_api(settings, "sendMessage", chat_id=MARIE, text=html, parse_mode="HTML")
    instant = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    page.bot_api(
        settings,
        "sendMessage",
        chat_id=MARIE,
        text="Rendez-vous: demain",
        entities=[
            {
                "type": "date_time",
                "offset": 13,
                "length": 6,
                "unix_time": int(instant.timestamp()),
                "date_time_format": "Dt",
            }
        ],
    )
    marie = page.phone(MARIE)
    marie.wait_for("Rendez-vous")
    shown = marie.formatting()
    assert shown["tags"] >= {"b", "i", "u", "s", "code", "pre", "blockquote", "a"}
    assert shown["spoiler"] == "secret" and shown["href"] == "https://example.org/x"
    assert shown["img"] == 0 and "<img src=x onerror=alert(1)>" in shown["text"]
    # 23:00 UTC is 18:00 in Montréal: the time is shown in Marie's zone, in French.
    assert "18:00" in shown["time"] and "décembre" in shown["time"], shown["time"]
