"""The sandbox's page in headless Chromium: page load, and press → edited message on screen.

`consultbot sandbox` runs as README command 1 starts it (its own process, demo data, four
people on the page). Page load: from navigation to the first render of every chat
(performance.now() when the page marks itself ready). Round trip: a person types /language,
then we time, inside the page, from the click on a language button to the moment the
edited message is on screen (the page posts the press, the bot answers through the
emulator, the page's long poll brings the edit). People take turns, each at most one
press a second, as Telegram's per-chat limit expects of a person.
Run: .venv/bin/python -m bench.sandbox [--loads 30] [--presses 100]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import percentile
from tests.sandbox_browser import CHROMIUM, free_port, start_chromium

PEOPLE = {1001: "Español", 1002: "Français", 1003: "English", 1004: "Español"}
TARGET_MS = 300.0
_READY = "return document.body.dataset.ready === '1' ? window.sandboxReadyAt : null"
_KEYBOARD = """
const [person, label] = arguments;
const phone = document.querySelector(`section.phone[data-person="${person}"]`);
const buttons = [...phone.querySelectorAll(".inline-keyboard button")].reverse();
const button = buttons.find((b) => b.textContent.includes(label));
return button ? button.closest(".message").dataset.id : null;
"""
_PRESS = """
const [person, label, done] = arguments;
const phone = document.querySelector(`section.phone[data-person="${person}"]`);
const buttons = [...phone.querySelectorAll(".inline-keyboard button")].reverse();
const button = buttons.find((b) => b.textContent.includes(label));
const id = button.closest(".message").dataset.id;
const edits = Number(button.closest(".message").dataset.edits);
const box = phone.querySelector(".messages");
const start = performance.now();
const observer = new MutationObserver(() => {
  const shown = box.querySelector(`.message[data-id="${id}"]`);
  if (shown && Number(shown.dataset.edits) > edits) {
    observer.disconnect();
    done(performance.now() - start);
  }
});
observer.observe(box, { childList: true, subtree: true, attributes: true });
button.click();
"""


def wait(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("the page never showed it")
        time.sleep(0.02)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--presses", type=int, default=100)
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"no {CHROMIUM}: apt-get install chromium chromium-driver")
    folder = Path(tempfile.mkdtemp(prefix="consultbot-bench-sandbox-"))
    command = [sys.executable, "-m", "bot.cli", "sandbox", "--database", str(folder / "s.db")]
    sandbox = subprocess.Popen(
        [*command, "--port", str(free_port())], stdout=subprocess.PIPE, text=True
    )
    assert sandbox.stdout is not None
    url = sandbox.stdout.readline().split("open ", 1)[1].split()[0]
    driver = start_chromium(folder / "profile", folder / "downloads")
    driver.set_script_timeout(15)
    try:
        loads = []
        for _ in range(arguments.loads):
            driver.get(url)
            loads.append(float(wait(lambda: driver.execute_script(_READY))))
        # Everyone's invitations in place, so each chat has something to draw.
        wait(lambda: driver.execute_script(_KEYBOARD, 1001, "Sí"))
        presses: list[float] = []
        last_turn = dict.fromkeys(PEOPLE, 0.0)
        while len(presses) < arguments.presses:
            for person, label in PEOPLE.items():
                time.sleep(max(0.0, last_turn[person] + 1.0 - time.monotonic()))
                seen = driver.execute_script(_KEYBOARD, person, label)
                phone = f"section.phone[data-person='{person}'] .composer .text"
                driver.find_element("css selector", phone).send_keys("/language\n")

                def asked(person: int = person, seen: str | None = seen) -> bool:
                    """The new language keyboard is on screen."""
                    return bool(driver.execute_script(_KEYBOARD, person, PEOPLE[person]) != seen)

                wait(asked)
                presses.append(float(driver.execute_async_script(_PRESS, person, label)))
                last_turn[person] = time.monotonic()
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
        sandbox.send_signal(signal.SIGINT)
        sandbox.wait(timeout=30)
    print(
        f"page load, 4 people on the page, {len(loads)} loads: "
        f"p50 {percentile(loads, 0.5):.0f} ms, p99 {percentile(loads, 0.99):.0f} ms"
    )
    p99 = percentile(presses, 0.99)
    print(
        f"press -> edited message on screen, {len(presses)} presses by 4 people: "
        f"p50 {percentile(presses, 0.5):.0f} ms, p99 {p99:.0f} ms "
        f"(target < {TARGET_MS:.0f} ms: {'met' if p99 < TARGET_MS else 'NOT met'})"
    )
    print(f"console errors: {len(errors)}")


if __name__ == "__main__":
    main()
