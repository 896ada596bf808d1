"""One codec for every button: the data already in people's chats still parses, forgeries do not,
and every button the bot sends in whole chat rounds (existing chat tests, replayed) decodes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, get_args

import pytest

from bot import callbacks
from bot.callbacks import (
    EVIDENCE_SHAPES,
    ButtonData,
    Callback,
    EvidenceButton,
    MeetingButton,
    PeopleButton,
    Press,
    ResultsButton,
    RsvpButton,
    SurveyAdmin,
    SurveyStart,
    decode,
)
from bot.clock import ManualClock
from tests import (
    test_broadcasts,
    test_evidence_chat,
    test_meetings_chat,
    test_registration,
    test_results_chat,
    test_surveys_admin_chat,
)
from tests.harness import BotUnderTest
from tests.survey_fixture import Answered
from tests.test_meetings_chat import clock, mbot, year  # noqa: F401 (fixtures)
from tgemu import Emulator

# Data as the bot wrote it before the codec (f-strings, regexes, Press): old messages keep working.
ISSUED_BEFORE: dict[str, ButtonData] = {
    "v1:rsvp:12:y": RsvpButton(12, "y"),
    "v1:rsvp:12:n": RsvpButton(12, "n"),
    "v1:mtg:7:i": MeetingButton(7, "i"),
    "v1:mtg:7:C": MeetingButton(7, "C"),
    "v1:mtp:7:t:41:2": PeopleButton(7, "t", 41, 2),
    "v1:mtp:7:p:3": PeopleButton(7, "p", 3),
    "v1:mtp:7:x": PeopleButton(7, "x"),
    "v1:svy:s:5": SurveyStart(5),
    "v1:sva:o:5": SurveyAdmin("o", 5),
    "v1:sva:C:5": SurveyAdmin("C", 5),
    "v1:sva:m:7": SurveyAdmin("m", 7),
    "v1:sva:w:7:a": SurveyAdmin("w", 7, "a"),
    "v1:sva:d:7:y:5": SurveyAdmin("d", 7, "y", 5),
    "v1:res:g:5": ResultsButton("g", 5),
    "v1:reg:6:c:9007199254740992": Press("reg", 6, "c", 2**53),
    "v1:svq:3:x": Press("svq", 3, "x"),
    "v1:ack:yes:42": Callback("ack", "yes", "42"),
    "v1:bc:toggle:3:city:Montréal": Callback("bc", "toggle", "3:city:Montréal"),
    "v1:prof:done": Callback("prof", "done"),
    "v1:evd:l:0": EvidenceButton("l", "0"),
    "v1:evd:a:1:5:2:0": EvidenceButton.of("a", 1, 5, 2, 0),
    "v1:evd:k:1:a:9007199254740992": EvidenceButton("k", "1:a:9007199254740992"),
    "v1:evd:U:1:7": EvidenceButton.of("U", 1, 7),
}

FORGED = [
    "",
    "v2:rsvp:12:y",
    "v1:rsvp:12:x",  # no such answer
    "v1:rsvp:99999999999999999999:y",  # past what a button may carry
    "v1:rsvp:²:y",  # a digit int() would refuse
    "v1:rsvp:12",
    "v1:mtg:7:ii",
    "v1:mtp:7:t:41",  # a tap names a page
    "v1:mtp:7:x:1",
    "v1:svy:s:",
    "v1:svy:x:5",
    "v1:sva:w:7",  # attended or said Yes?
    "v1:sva:o:5:a",
    "v1:sva:d:7:z:5",
    "v1:res:z:1",
    "v1:res:",
    f"v1:reg:6:c:{2**53 + 1}",
    "v1:reg:country:CA",
    "v1:bc:12:x",  # an engine-shaped press for a flow that is not the engine's
    "v1:ack:yes:²",
    "v1:adm:merge:1:²",
    "v1:nosuchflow:go",
    "v1:rsvp:1:y" + "0" * 60,
    "v1:evd:c:1",  # a clause is shown at a page
    "v1:evd:c:1:0:",
    "v1:evd:k:1:x:1",  # no such kind of item
    "v1:evd:n:1:1:1",  # an item is named by its kind
    "v1:evd:z:1",
    "v1:evd:c:1:²",
    f"v1:evd:U:1:{2**53 + 1}",
]


def test_the_data_in_old_messages_still_parses_and_is_written_the_same() -> None:
    for data, expected in ISSUED_BEFORE.items():
        assert decode(data) == expected, data
        assert expected.encode() == data
        assert type(expected).parse(data) == expected


def test_stale_or_forged_data_parses_to_nothing() -> None:
    for data in FORGED:
        assert decode(data) is None, data
    # A kind refuses another kind's data even when it is valid.
    assert RsvpButton.parse("v1:mtg:7:i") is None
    assert Press.parse("v1:res:g:5") is None


def test_data_over_64_bytes_is_never_written() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Callback("bc", "toggle", "1:city:" + "é" * 40).encode()


def test_engine_flow_names_must_fit_and_not_collide() -> None:
    assert callbacks.engine_flow_fits("svq") and callbacks.engine_flow_fits("newmtg")
    for taken in ("rsvp", "mtg", "res", "bc", "ack"):
        assert not callbacks.engine_flow_fits(taken)
    assert not callbacks.engine_flow_fits("a_name_too_long") and not callbacks.engine_flow_fits(
        "Reg"
    )


def every_button(emulator: Emulator) -> list[str]:
    """The data of every inline button any bot showed, in every version of every message."""
    found: list[str] = []
    for state in emulator.bots.values():
        for chat in state.chats.values():
            for message in chat.messages.values():
                for _, markup in [*message.earlier, (message.text, message.reply_markup)]:
                    for row in (markup or {}).get("inline_keyboard", []):
                        found.extend(str(b["callback_data"]) for b in row if "callback_data" in b)
    return found


def assert_every_button_decodes(emulator: Emulator, kinds: set[type[ButtonData]]) -> None:
    found = every_button(emulator)
    undecoded = [data for data in found if decode(data) is None]
    assert undecoded == []
    assert all(decoded.encode() == data for data in found if (decoded := decode(data)))
    seen = {type(decode(data)) for data in found}
    assert kinds <= seen, kinds - seen


Round = Callable[..., Awaitable[None]]


async def _replay(test: Round, *fixtures: Any) -> None:
    await test(*fixtures)


async def test_registration_in_chat(bot: BotUnderTest) -> None:
    await _replay(
        test_registration.test_carlos_registers_in_french_from_montreal_and_becomes_focal_point,
        bot,
    )
    assert_every_button_decodes(bot.emulator, {Callback, Press})


async def test_a_meeting_created_and_answered_in_chat(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await _replay(
        test_meetings_chat.test_marisol_creates_in_chat_and_members_answer, mbot, clock, year
    )
    assert_every_button_decodes(mbot.emulator, {Press, RsvpButton, MeetingButton})


async def test_a_survey_for_a_meetings_people_in_chat(
    bot: BotUnderTest, running_clock: Any
) -> None:
    await _replay(
        test_surveys_admin_chat.test_a_survey_for_those_who_attended_a_meeting_from_meetings,
        bot,
        running_clock,
    )
    assert_every_button_decodes(bot.emulator, {SurveyAdmin, SurveyStart, Press})


async def test_a_notice_drafted_and_sent_in_chat(bot: BotUnderTest) -> None:
    await _replay(test_broadcasts.test_coordinator_sends_to_texas_diaspora_associations, bot)
    assert_every_button_decodes(bot.emulator, {Callback})


async def test_results_read_and_what_we_heard_sent_in_chat(answered: Answered) -> None:
    await _replay(
        test_results_chat.test_what_we_heard_is_chosen_edited_and_sent_per_province_and_nationally,
        answered,
    )
    assert_every_button_decodes(answered.bot.emulator, {ResultsButton, Press})


async def test_evidence_linked_and_unlinked_in_chat(answered: Answered) -> None:
    await _replay(
        test_evidence_chat.test_evidence_is_linked_by_browsing_with_a_note_and_unlinked, answered
    )
    assert_every_button_decodes(answered.bot.emulator, {EvidenceButton})
    found = [decode(data) for data in every_button(answered.bot.emulator)]
    actions = {press.action for press in found if isinstance(press, EvidenceButton)}
    # Every action the chat round takes was drawn on a button, and each action has a shape.
    assert actions == set(EVIDENCE_SHAPES) == set(get_args(callbacks.EvidenceAction))
