"""kill -9 between finishing and saying so: after the restart the person is told it was done.

The person walks to the last screen with the bot running here; the press that finishes goes to
`consultbot run` in its own process, whose reply the emulator holds until the process is killed
(the reply then never reaches Telegram). The bot is started again and the stored press replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.clock import ManualClock, OffsetClock
from tests.harness import TOKEN, Person, add_member, bot_running, make_config
from tests.survey_fixture import FORM_PATH, RESPONDENTS, answer_in_chat, example_form
from tests.test_process import _config, _consultbot_run
from tests.test_registration import _begin
from tests.test_surveys import cli
from tgemu import Emulator, Faults

REPLIES = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup"})


class HeldReplies:
    """The emulator holding every reply the bot sends (an hour: until after the test); once the
    bot is dead, holding nothing more. A held reply is never applied while the test looks."""

    def __init__(self, emulator: Emulator, methods: frozenset[str] = REPLIES) -> None:
        self._emulator = emulator
        self._state = emulator.bot(TOKEN)
        self._methods = methods
        self._before = self._replies()
        emulator.faults = Faults(delay_seconds=3600, methods=methods)

    def _replies(self) -> int:
        return sum(self._state.calls.get(method, 0) for method in self._methods)

    async def arrived(self) -> bool:
        return self._replies() > self._before

    def stop(self) -> None:
        self._emulator.faults = Faults()


async def _until(condition: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_registration_confirmed_just_before_a_kill_is_told_after_the_restart(
    emulator: Emulator, tmp_path: Path
) -> None:
    database = tmp_path / "crash.db"
    config = make_config(database, emulator.base_url())
    async with bot_running(emulator, config) as bot:
        luis = bot.person(7701, "Luis", "es")
        await _begin(luis, "Español", "Acepto")
        await luis.send("Luis")
        await luis.press("Estados Unidos")
        await luis.send("tx")
        await luis.send("Houston")
        await luis.press("Houston")
        await luis.press("Ninguna")
        await luis.press("Sociedad civil")
        await luis.press("Protección")
        await luis.press("Listo")
        await luis.press("Omitir")
        await luis.press("Omitir")
        assert "Revisa tus datos" in luis.last_text()
        summary = luis.last()
        confirm = next(b for b in summary.buttons() if "Confirmar" in b["text"])
    held = HeldReplies(emulator)
    process = await _consultbot_run(_config(tmp_path, emulator.base_url(), database, TOKEN))
    try:
        emulator.press(TOKEN, 7701, summary.message_id, confirm["callback_data"])
        await _until(held.arrived, 60)  # registered; the reply on its way
    finally:
        process.kill()
        await process.wait()
        held.stop()
    async with bot_running(emulator, config) as bot:
        member = await bot.store.members.by_telegram_id(7701)
        assert member is not None and member.status == "active"

        async def told() -> bool:
            return "quedó guardado" in Person(bot, 7701).last_text()

        await _until(told)
        # Told once, and nothing was asked again.
        texts = [m.text or "" for m in Person(bot, 7701).transcript() if m.direction == "out"]
        assert sum("quedó guardado" in text for text in texts) == 1


async def test_answers_submitted_just_before_a_kill_are_recorded_once_and_told(
    emulator: Emulator, tmp_path: Path
) -> None:
    database = tmp_path / "crash.db"
    config = make_config(database, emulator.base_url(), admins={"user_ids": [9000]})
    # `consultbot run` reads the system clock: the bot here starts from the same instant, so
    # that the process started again sees the killed one's claim on the update as old.
    clock = ManualClock(OffsetClock().now())
    who = RESPONDENTS[0]
    async with bot_running(emulator, config, clock) as bot:
        assert await cli(bot, tmp_path, "load", str(FORM_PATH)) == 0
        await add_member(
            bot, who.telegram_id, who.language, country=who.country, region=who.region,
            time_zone=who.zone, sector=who.sector,
        )  # fmt: skip
        assert await cli(bot, tmp_path, "open", "1") == 0
        await answer_in_chat(bot, example_form(), 1, who, clock, submit=False)
        review = Person(bot, who.telegram_id).last()
        label = bot.services.texts.plain(who.language, "survey.button.submit")
        submit = next(b for b in review.buttons() if b["text"] == label)
    # The review's buttons come off (an edit), the answers are recorded, then "recorded" is
    # sent: held, the kill lands after everything was done.
    held = HeldReplies(emulator, frozenset({"sendmessage"}))
    process = await _consultbot_run(_config(tmp_path, emulator.base_url(), database, TOKEN))
    try:
        emulator.press(TOKEN, who.telegram_id, review.message_id, submit["callback_data"])
        await _until(held.arrived, 60)
    finally:
        process.kill()
        await process.wait()
        held.stop()
    async with bot_running(emulator, config, clock) as bot:
        person = Person(bot, who.telegram_id)

        async def told() -> bool:
            return "Tus respuestas quedaron registradas" in person.last_text()

        await _until(told)
        member = await bot.services.registration.member(who.telegram_id)
        assert member is not None
        mine = await bot.services.surveys.mine(member)
        assert [item.submitted for item in mine] == [True]
        texts = [m.text or "" for m in person.transcript() if m.direction == "out"]
        assert sum("quedaron registradas" in text for text in texts) == 1
