"""Driving the sandbox's page in headless Chromium: a person's phone, the bar, the console.

Only the distribution's Chromium and its chromedriver are used, named by path, so Selenium
Manager never looks for (or downloads) a browser or a driver.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1680,1000",
)
WAIT = 20.0  # seconds for one answer of the bot to show (flood control may hold it a second)
POLL = 0.05

# The bot's messages in a phone not yet seen in this version ("id:edits"), holding a text.
_NEW_WITH_TEXT = """
const [person, wanted, seen] = arguments;
const phone = document.querySelector(`section.phone[data-person="${person}"]`);
if (!phone) return null;
for (const node of phone.querySelectorAll(".message.from-bot")) {
  const key = `${node.dataset.id}:${node.dataset.edits}`;
  if (!seen.includes(key) && node.textContent.includes(wanted)) return node.textContent;
}
return null;
"""
_SEEN = """
const phone = document.querySelector(`section.phone[data-person="${arguments[0]}"]`);
return [...phone.querySelectorAll(".message.from-bot")]
  .map((node) => `${node.dataset.id}:${node.dataset.edits}`);
"""
# The newest inline button of a phone whose label holds the text.
_BUTTON = """
const [person, label] = arguments;
const phone = document.querySelector(`section.phone[data-person="${person}"]`);
const buttons = [...phone.querySelectorAll(".inline-keyboard button")];
return buttons.reverse().find((button) => button.textContent.includes(label)) || null;
"""
_FORMATTING = """
const phone = document.querySelector(`section.phone[data-person="${arguments[0]}"]`);
const texts = [...phone.querySelectorAll(".message.from-bot .text")].slice(-2);
const tags = new Set(texts.flatMap((t) => [...t.querySelectorAll("*")].map((e) => e.localName)));
const link = texts[0].querySelector("a");
return {
  tags: [...tags],
  spoiler: (texts[0].querySelector(".spoiler") || {}).textContent,
  href: link && link.getAttribute("href"),
  img: phone.querySelectorAll("img").length,
  text: texts[0].textContent,
  time: (texts[1].querySelector("time") || {}).textContent,
};
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_chromium(profile: Path, downloads: Path) -> webdriver.Chrome:
    """Headless Chromium with a fresh profile, saving downloads to `downloads`."""
    downloads.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


class Page:
    """The sandbox's page in the browser: its phones, the bar and the console."""

    def __init__(
        self, driver: webdriver.Chrome, url: str, screenshots: Path, downloads: Path
    ) -> None:
        self.driver = driver
        self.url = url
        self.screenshots = screenshots
        self.downloads = downloads
        self.errors: list[str] = []
        self._steps = 0
        self._started = time.monotonic()
        screenshots.mkdir(parents=True, exist_ok=True)

    def wait(self, condition: Any, timeout: float = WAIT) -> Any:
        return WebDriverWait(self.driver, timeout, poll_frequency=POLL).until(condition)

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))

    def names(self) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".phone .name")]

    def phone(self, person: int) -> Phone:
        return Phone(self, person)

    def step(self, name: str, readme: bool = False) -> None:
        """A screenshot of the page after a step; fail on any console error so far."""
        self._steps += 1
        print(f"{time.monotonic() - self._started:6.1f} s  {name}")  # the pace, shown with -s
        self.driver.save_screenshot(str(self.screenshots / f"{self._steps:02d}-{name}.png"))
        wanted = os.environ.get("CONSULTBOT_SANDBOX_SCREENSHOT")
        if readme and wanted:
            self.driver.save_screenshot(wanted)
        self.assert_no_console_errors()

    def assert_no_console_errors(self) -> None:
        logs = self.driver.get_log("browser")
        self.errors += [entry["message"] for entry in logs if entry["level"] == "SEVERE"]
        assert self.errors == [], self.errors

    def add_person(self, name: str, language: str, zone: str) -> Phone:
        self.driver.find_element(By.ID, "add-person").click()
        form = self.driver.find_element(By.ID, "person-form")
        form.find_element(By.NAME, "name").send_keys(name)
        Select(form.find_element(By.NAME, "language")).select_by_value(language)
        Select(form.find_element(By.NAME, "zone")).select_by_value(zone)
        self.driver.find_element(By.ID, "person-add").click()

        def added(driver: WebDriver) -> WebElement | None:
            for phone in driver.find_elements(By.CSS_SELECTOR, ".phone"):
                if phone.find_element(By.CSS_SELECTOR, ".name").text == name:
                    return phone
            return None

        return Phone(self, int(str(self.wait(added).get_attribute("data-person"))))

    def jump(self, to: str) -> None:
        before = self.driver.find_element(By.ID, "clock-offset").text
        self.driver.find_element(By.CSS_SELECTOR, f"[data-jump='{to}']").click()
        self.wait(lambda d: d.find_element(By.ID, "clock-offset").text != before)

    def console(self, line: str) -> str:
        """Run a command in the page's console; what it printed."""
        output = self.driver.find_element(By.ID, "console-output")
        if not self.driver.find_element(By.ID, "console").is_displayed():
            self.driver.find_element(By.ID, "toggle-console").click()
        runs = int(output.get_attribute("data-runs") or 0)
        before = len(output.text)
        self.driver.find_element(By.ID, "console-line").send_keys(line + "\n")
        self.wait(lambda d: int(output.get_attribute("data-runs") or 0) > runs)
        return str(output.text[before:])

    def bot_api(self, settings: dict[str, Any], method: str, **parameters: Any) -> Any:
        """Call the emulator's Bot API as the bot would (it runs beside the sandbox)."""
        request = urllib.request.Request(
            f"{settings['base_url']}{settings['token']}/{method}",
            data=json.dumps(parameters).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())["result"]


class Phone:
    """One person's chat on the page."""

    def __init__(self, page: Page, person: int) -> None:
        self.page = page
        self.person = person
        self.driver = page.driver

    @property
    def root(self) -> WebElement:
        selector = f"section.phone[data-person='{self.person}']"
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def _seen(self) -> list[str]:
        return list(self.driver.execute_script(_SEEN, self.person))

    def wait_for(self, text: str, count: int = 1, seen: list[str] | None = None) -> str:
        """The text of a bot message holding `text` (new since `seen`), once `count` show it."""

        def found(driver: WebDriver) -> str | None:
            if count > 1:
                nodes = self.root.find_elements(By.CSS_SELECTOR, ".message.from-bot")
                return text if sum(text in node.text for node in nodes) >= count else None
            shown: str | None = driver.execute_script(_NEW_WITH_TEXT, self.person, text, seen or [])
            return shown

        try:
            return str(self.page.wait(found))
        except TimeoutException:
            nodes = self.root.find_elements(By.CSS_SELECTOR, ".message.from-bot")
            last = [node.text for node in nodes[-3:]]
            raise AssertionError(f"{self.person} never saw {text!r}; last: {last}") from None

    def do(self, action: str, expect: str) -> str:
        """Press the newest button labelled `action`, else type it; wait for `expect`."""
        seen = self._seen()
        button = self.driver.execute_script(_BUTTON, self.person, action)
        if button is not None:
            button.click()
        else:
            self.root.find_element(By.CSS_SELECTOR, ".composer .text").send_keys(action + "\n")
        return self.wait_for(expect, seen=seen)

    def reply_keyboard(self, contact: bool, expect: str) -> str:
        seen = self._seen()
        selector = ".reply-keyboard button" + (".contact" if contact else "")
        self.page.wait(lambda d: self.root.find_element(By.CSS_SELECTOR, selector)).click()
        return self.wait_for(expect, seen=seen)

    def upload(self, path: Path, expect: str) -> str:
        seen = self._seen()
        self.root.find_element(By.CSS_SELECTOR, ".composer input.file").send_keys(str(path))
        return self.wait_for(expect, seen=seen)

    def download(self, name_part: str) -> bytes:
        """Click the newest document whose name holds `name_part`; the file's bytes."""

        def documents(driver: WebDriver) -> list[WebElement]:
            links = self.root.find_elements(By.CSS_SELECTOR, "a.document")
            return [link for link in links if name_part in (link.get_attribute("download") or "")]

        link = self.page.wait(documents)[-1]
        name = str(link.get_attribute("download"))
        link.click()
        target = self.page.downloads / name
        deadline = time.monotonic() + WAIT
        while not (target.exists() and not Path(f"{target}.crdownload").exists()):
            assert time.monotonic() < deadline, f"{name} was not downloaded"
            time.sleep(POLL)
        return target.read_bytes()

    def formatting(self) -> dict[str, Any]:
        shown: dict[str, Any] = self.driver.execute_script(_FORMATTING, self.person)
        shown["tags"] = set(shown["tags"])
        return shown
