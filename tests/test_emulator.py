"""The emulator answers like Telegram: validation, flood control, blocking, faults, updates."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.conftest import literal_markup
from tgemu import Emulator, Limits

TOKEN = "77:emulator-test"


@pytest.fixture
async def api(emulator: Emulator) -> httpx.AsyncClient:
    emulator.create_person(1, "Ana", "es")
    return httpx.AsyncClient(base_url=f"{emulator.base_url()}{TOKEN}/")


async def _call(api: httpx.AsyncClient, method: str, **params: object) -> tuple[int, dict]:
    answer = await api.post(method, json=params)
    return answer.status_code, answer.json()


async def test_unknown_method_is_404(api: httpx.AsyncClient) -> None:
    status, body = await _call(api, "sendTelepathy", chat_id=1, text="hi")
    assert status == 404 and body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_missing_chat_id_is_400(api: httpx.AsyncClient) -> None:
    status, body = await _call(api, "sendMessage", text="hi")
    assert status == 400 and body["description"] == "Bad Request: chat_id is empty"


async def test_wrong_type_is_400(api: httpx.AsyncClient) -> None:
    status, body = await _call(api, "sendMessage", chat_id="one", text="hi")
    # chat_id may be a string (a @username), but then the chat does not exist.
    assert status == 400 and "chat not found" in body["description"]
    status, body = await _call(api, "getUpdates", limit="many")
    assert status == 400 and "wrong type" in body["description"]


@pytest.mark.parametrize(
    "text",
    ["<b>Ana", "a < b", "Tom & Jerry", "<script>x</script>", "<b><i>x</b></i>"],
)
async def test_html_telegram_rejects_is_400(api: httpx.AsyncClient, text: str) -> None:
    status, body = await _call(api, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert status == 400 and body["description"].startswith("Bad Request: can't parse entities")


async def test_valid_html_is_accepted_and_shown_as_plain_text(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    status, body = await _call(
        api, "sendMessage", chat_id=1, text="<b>Hola</b> &lt;Ana&gt; &amp; co", parse_mode="HTML"
    )
    assert status == 200 and body["result"]["text"] == "Hola <Ana> & co"
    assert emulator.transcript(TOKEN, 1)[-1].text == "Hola <Ana> & co"


async def test_text_length_is_counted_after_entity_parsing(api: httpx.AsyncClient) -> None:
    status, body = await _call(api, "sendMessage", chat_id=1, text="a" * 4096)
    assert status == 200
    message_id = body["result"]["message_id"]
    status, body = await _call(api, "sendMessage", chat_id=1, text="a" * 4097)
    assert status == 400 and body["description"] == "Bad Request: message is too long"
    status, _ = await _call(
        api, "sendMessage", chat_id=1, text="<b>" + "a" * 4096 + "</b>", parse_mode="HTML"
    )
    assert status == 200
    # An entity that decodes to one character counts as one: "&lt;" * 4096 fits.
    status, _ = await _call(api, "sendMessage", chat_id=1, text="&lt;" * 4096, parse_mode="HTML")
    assert status == 200
    status, body = await _call(
        api, "editMessageText", chat_id=1, message_id=message_id, text="<i>b</i>" * 4097,
        parse_mode="HTML",
    )  # fmt: skip
    assert status == 400 and body["description"] == "Bad Request: message is too long"


async def test_a_caption_over_1024_characters_is_refused(emulator: Emulator) -> None:
    emulator.create_person(3, "Jorge")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_document(3, b"x", filename="x.txt", caption="c" * 1024)
        assert sent.caption == "c" * 1024
        with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
            await bot.send_document(3, b"x", filename="x.txt", caption="c" * 1025)
    assert emulator.bot(TOKEN).errors[-1] == (
        "senddocument",
        400,
        "Bad Request: message caption is too long",
    )


def _keyboard(count: int, label: str = "x", data: str = "v1:x:{n}") -> dict[str, object]:
    """An inline keyboard of `count` buttons, eight to a row."""
    buttons = [{"text": label, "callback_data": data.format(n=n)} for n in range(count)]
    return {"inline_keyboard": [buttons[i : i + 8] for i in range(0, count, 8)]}


async def test_more_than_100_inline_buttons_is_reply_markup_too_long(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    status, body = await _call(
        api, "sendMessage", chat_id=1, text="ok", reply_markup=_keyboard(100)
    )
    assert status == 200
    message_id = body["result"]["message_id"]
    for method, extra in (
        ("sendMessage", {}),
        ("editMessageText", {"message_id": message_id}),
        ("editMessageReplyMarkup", {"message_id": message_id}),
    ):
        status, body = await _call(
            api, method, chat_id=1, text="no", reply_markup=_keyboard(101), **extra
        )
        assert (status, body["description"]) == (400, "Bad Request: reply markup is too long")
    # What was refused never reached the chat: the first keyboard is still the one shown.
    assert len(emulator.transcript(TOKEN, 1)[-1].buttons()) == 100


async def test_a_keyboard_over_10_kib_of_json_is_too_long_whatever_the_count(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    # 40 buttons of 60 letters and 44-byte data: 5.4 kB, drawn.
    fits = _keyboard(40, "L" * 60, "v1:long:{n:036d}")
    status, _ = await _call(api, "sendMessage", chat_id=1, text="ok", reply_markup=fits)
    assert status == 200
    # 50 buttons (half the count allowed) of 60 accented letters, two bytes each in UTF-8, and
    # 64-byte data: 10.8 kB.
    heavy = _keyboard(50, "é" * 60, "{n:064d}")
    status, body = await _call(api, "sendMessage", chat_id=1, text="no", reply_markup=heavy)
    assert (status, body["description"]) == (400, "Bad Request: reply markup is too long")
    # The same through python-telegram-bot, as the bot meets it.
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        rows = [
            [InlineKeyboardButton("é" * 60, callback_data=f"{n:064d}") for n in range(r, r + 8)]
            for r in range(0, 48, 8)
        ]
        with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
            await bot.send_message(1, "no", reply_markup=InlineKeyboardMarkup(rows))


async def test_callback_data_over_64_bytes_is_400(api: httpx.AsyncClient) -> None:
    def keyboard(data: str) -> dict:
        return {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}

    status, _ = await _call(
        api, "sendMessage", chat_id=1, text="ok", reply_markup=keyboard("é" * 32)
    )
    assert status == 200  # 64 bytes exactly
    status, body = await _call(
        api, "sendMessage", chat_id=1, text="no", reply_markup=keyboard("a" * 65)
    )
    assert status == 400 and body["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_blocked_person_is_403_through_python_telegram_bot(emulator: Emulator) -> None:
    emulator.create_person(2, "Blocker", "en")
    emulator.block(TOKEN, 2)
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(2, "hello")
        emulator.block(TOKEN, 2, blocked=False)
        assert (await bot.send_message(2, "hello again")).text == "hello again"


async def test_flood_control_answers_429_with_retry_after() -> None:
    limited = Emulator(Limits(global_rate=30.0, per_chat_rate=None))
    await limited.start()
    try:
        for person in range(100, 160):
            limited.create_person(person, "P")
        async with Bot(TOKEN, base_url=limited.base_url()) as bot:
            outcomes = await asyncio.gather(
                *(bot.send_message(person, "notice") for person in range(100, 160)),
                return_exceptions=True,
            )
        floods = [o for o in outcomes if isinstance(o, RetryAfter)]
        delivered = [o for o in outcomes if not isinstance(o, Exception)]
        # A one-second bucket of 30, refilling at 30/s while the burst is answered.
        assert 30 <= len(delivered) <= 45 and len(floods) == 60 - len(delivered)
        assert all(f.retry_after.total_seconds() >= 1 for f in floods)  # type: ignore[union-attr]
    finally:
        await limited.stop()


async def test_per_chat_limit_answers_429() -> None:
    limited = Emulator(Limits(global_rate=None, per_chat_rate=1.0, per_chat_burst=3))
    base_url = await limited.start()
    limited.create_person(5, "Chatty")
    try:
        async with httpx.AsyncClient(base_url=f"{base_url}{TOKEN}/") as client:
            codes = [
                (await client.post("sendMessage", json={"chat_id": 5, "text": str(n)})).status_code
                for n in range(4)
            ]
            last = (await client.post("sendMessage", json={"chat_id": 5, "text": "x"})).json()
        assert codes == [200, 200, 200, 429]
        assert last["parameters"]["retry_after"] >= 1
    finally:
        await limited.stop()


async def test_injected_faults_and_delay(api: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.faults.fail_next = 2
    first, _ = await _call(api, "sendMessage", chat_id=1, text="a")
    second, _ = await _call(api, "sendMessage", chat_id=1, text="b")
    third, _ = await _call(api, "sendMessage", chat_id=1, text="c")
    assert (first, second, third) == (502, 502, 200)
    emulator.faults.delay_seconds = 0.3
    started = asyncio.get_running_loop().time()
    await _call(api, "getMe")
    assert asyncio.get_running_loop().time() - started >= 0.3


async def test_get_updates_long_polls_and_confirms_with_offset(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    waiting = asyncio.ensure_future(_call(api, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    update_id = emulator.send_text(TOKEN, 1, "/start")
    status, body = await waiting
    assert status == 200 and [u["update_id"] for u in body["result"]] == [update_id]
    message = body["result"][0]["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    _, again = await _call(api, "getUpdates", offset=update_id + 1, timeout=0)
    assert again["result"] == []


async def test_a_second_get_updates_consumer_ends_the_first_with_409(
    api: httpx.AsyncClient,
) -> None:
    first = asyncio.ensure_future(_call(api, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.ensure_future(_call(api, "getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await second)[0] == 200


async def test_pressing_a_button_the_message_does_not_have_is_refused(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "v1:x:yes"}]]}
    _, body = await _call(api, "sendMessage", chat_id=1, text="Sure?", reply_markup=markup)
    message_id = body["result"]["message_id"]
    with pytest.raises(LookupError):
        emulator.press(TOKEN, 1, message_id, "v1:x:no")
    update_id = emulator.press(TOKEN, 1, message_id, "v1:x:no", forge=True)
    _, updates = await _call(api, "getUpdates")
    assert updates["result"][-1]["update_id"] == update_id
    assert updates["result"][-1]["callback_query"]["data"] == "v1:x:no"


async def test_documents_keep_their_bytes(emulator: Emulator) -> None:
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        emulator.create_person(3, "Jorge")
        sent = await bot.send_document(
            3, b'{"a": 1}', filename="x.json", caption="<b>data</b>", parse_mode="HTML"
        )
    assert sent.document is not None and sent.caption == "data"
    name, content = emulator.bot(TOKEN).files[sent.document.file_id]
    assert (name, json.loads(content)) == ("x.json", {"a": 1})


async def test_edit_to_the_same_content_is_not_modified(emulator: Emulator) -> None:
    emulator.create_person(4, "Edith")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_message(4, "same")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("same", chat_id=4, message_id=sent.message_id)
        edited = await bot.edit_message_text("new", chat_id=4, message_id=sent.message_id)
    # Telegram answers an edit of a bot's own message with the edited Message, not True.
    assert isinstance(edited, Message)
    assert (edited.message_id, edited.text) == (sent.message_id, "new")
    assert edited.edit_date is not None
    assert [m.text for m in emulator.transcript(TOKEN, 4)] == ["new"]


# ---- entities: what Telegram sends back of a formatted text ------------------------------------

ROUND_TRIPS = [
    "<b>Hola</b> Ana",
    "👋🏽 <b>Bienvenida</b>, <i>Ana</i> — <u>sí</u> <s>no</s>",
    '<b>bold <i>italic bold <s>struck <span class="tg-spoiler">hidden</span></s>'
    " <u>under</u></i> bold</b>",
    "<b><i>both</i></b> and <code>x &lt; y &amp;&amp; z</code>",
    "<pre>def f():\n    return 1</pre>",
    '🇨🇦 <a href="https://example.org/meeting">the link</a> 😀',
    "<blockquote>quoted\nlines</blockquote>\n\n✔ <b>Sí</b>",
    "<blockquote expandable>long</blockquote>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> ok',
]


@pytest.mark.parametrize("source", ROUND_TRIPS)
async def test_text_html_rebuilt_from_the_entities_is_the_bots_html(
    emulator: Emulator, source: str
) -> None:
    emulator.create_person(6, "Ana")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_message(6, source, parse_mode="HTML")
    assert sent.text_html == source


async def test_entities_count_utf16_code_units(api: httpx.AsyncClient) -> None:
    status, body = await _call(
        api, "sendMessage", chat_id=1, text="😀 <b>é😀x</b> <i>y</i>", parse_mode="HTML"
    )
    assert status == 200
    assert body["result"]["text"] == "😀 é😀x y"
    # The first emoji is two code units, so bold starts at 3 and spans é (1) + 😀 (2) + x (1).
    assert body["result"]["entities"] == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 1, "type": "italic"},
    ]


async def test_aliases_give_telegrams_entities(emulator: Emulator) -> None:
    emulator.create_person(6, "Ana")
    source = (
        "<strong>a</strong><em>b</em><ins>c</ins><del>d</del><strike>e</strike>"
        "<tg-spoiler>f</tg-spoiler><span>g</span><b></b>"
        '<pre><code class="language-python">h</code></pre><a href="tg://user?id=6">Ana</a>'
    )
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_message(6, source, parse_mode="HTML")
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [
        ("bold", 0, 1),
        ("italic", 1, 1),
        ("underline", 2, 1),
        ("strikethrough", 3, 1),
        ("strikethrough", 4, 1),
        ("spoiler", 5, 1),
        ("pre", 7, 1),
        ("text_mention", 8, 3),
    ]  # a plain <span> and an empty <b> make none
    assert sent.entities[6].language == "python"
    assert sent.entities[7].user is not None and sent.entities[7].user.id == 6
    assert sent.text_html.startswith("<b>a</b><i>b</i><u>c</u><s>d</s><s>e</s>")


# Without parse_mode the tags are shown as they are: that is what this test proves.
@pytest.mark.literal_markup_ok
async def test_plain_text_and_explicit_entities(api: httpx.AsyncClient) -> None:
    _, plain = await _call(api, "sendMessage", chat_id=1, text="<b>not parsed</b>")
    assert plain["result"]["text"] == "<b>not parsed</b>" and "entities" not in plain["result"]
    given = [{"type": "italic", "offset": 0, "length": 3}]
    _, explicit = await _call(api, "sendMessage", chat_id=1, text="abc d", entities=given)
    assert explicit["result"]["entities"] == given


async def test_a_pressed_message_reaches_the_bot_with_its_entities(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    source = "🗳 <b>Question 1</b>\n<i>Choose one</i> &lt;or none&gt;"
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "v1:x:yes"}]]}
    _, sent = await _call(
        api, "sendMessage", chat_id=1, text=source, parse_mode="HTML", reply_markup=markup
    )
    emulator.press(TOKEN, 1, sent["result"]["message_id"], "v1:x:yes")
    _, updates = await _call(api, "getUpdates")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        update = Update.de_json(updates["result"][-1], bot)
    assert update.callback_query is not None
    message = update.callback_query.message
    assert isinstance(message, Message) and message.text_html == source


async def test_edits_return_entities_and_keep_what_was_shown(emulator: Emulator) -> None:
    emulator.create_person(6, "Ana")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="v1:x:1")]])
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_message(
            6, "<b>¿Vienes?</b>", parse_mode="HTML", reply_markup=keyboard
        )
        edited = await bot.edit_message_text(
            f"{sent.text_html}\n\n✔ <b>Sí</b>", chat_id=6, message_id=sent.message_id,
            parse_mode="HTML",
        )  # fmt: skip
    assert isinstance(edited, Message)
    assert edited.text_html == "<b>¿Vienes?</b>\n\n✔ <b>Sí</b>"
    shown = [(s.version, s.where, s.text) for s in emulator.bot(TOKEN).shown()]
    assert shown == [(0, "text", "¿Vienes?"), (0, "button", "Sí"), (1, "text", "¿Vienes?\n\n✔ Sí")]
    assert shown[2][2] == emulator.transcript(TOKEN, 6)[-1].text


async def test_captions_carry_caption_entities(emulator: Emulator) -> None:
    emulator.create_person(6, "Ana")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_document(
            6, b"x", filename="x.txt", caption="📄 <b>Export</b> 1", parse_mode="HTML"
        )
    assert sent.caption == "📄 Export 1" and sent.caption_html == "📄 <b>Export</b> 1"
    assert [(e.type, e.offset, e.length) for e in sent.caption_entities] == [("bold", 3, 6)]


def test_every_new_emulator_is_announced() -> None:
    made: list[Emulator] = []
    Emulator.on_create.append(made.append)
    try:
        first, second = Emulator(), Emulator()
    finally:
        Emulator.on_create.remove(made.append)
    assert made == [first, second]


# The guard itself is the subject: it must see the markup it would otherwise fail on.
@pytest.mark.literal_markup_ok
async def test_the_guard_finds_markup_shown_literally_that_nobody_typed(
    api: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.send_text(TOKEN, 1, "I typed <b>hi</b> & &amp;")
    html = {"chat_id": 1, "parse_mode": "HTML"}
    await _call(api, "sendMessage", text="You said: &lt;b&gt;hi&lt;/b&gt; &amp;amp;", **html)
    await _call(api, "sendMessage", text="Title: &amp;lt;i&amp;gt;A &amp;amp; B", **html)
    keyboard = {"inline_keyboard": [[{"text": "&gt; next", "callback_data": "v1:x:n"}]]}
    _, body = await _call(api, "sendMessage", chat_id=1, text="<u>draft</u>", reply_markup=keyboard)
    await _call(
        api, "editMessageText", chat_id=1, message_id=body["result"]["message_id"], text="ok"
    )
    await _call(api, "answerCallbackQuery", callback_query_id="1", text="&quot;saved&quot;")
    assert [line.split("] ", 1)[1] for line in literal_markup(emulator)] == [
        # "&amp;" passes: the person typed it (the guard excuses sequences, not messages).
        "['&lt;', '&gt;']: 'Title: &lt;i&gt;A &amp; B'",
        "['<u>', '</u>']: '<u>draft</u>'",  # replaced by an edit, but it was seen
        "['&gt;']: '&gt; next'",
        "['&quot;', '&quot;']: '&quot;saved&quot;'",
    ]


async def test_an_edit_showing_the_same_is_not_modified_whatever_its_html(
    emulator: Emulator,
) -> None:
    emulator.create_person(6, "Ana")
    async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
        sent = await bot.send_message(6, 'Say "hi" <b>now</b>', parse_mode="HTML")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text(
                "Say &quot;hi&quot; <strong>now</strong>", chat_id=6,
                message_id=sent.message_id, parse_mode="HTML",
            )  # fmt: skip
        edited = await bot.edit_message_text(
            'Say "hi" <i>now</i>', chat_id=6, message_id=sent.message_id, parse_mode="HTML"
        )
    assert isinstance(edited, Message) and edited.text_html == 'Say "hi" <i>now</i>'.replace(
        '"', "&quot;"
    )


async def test_the_control_api_drives_people_and_reads_transcripts_with_entities(
    emulator: Emulator,
) -> None:
    root = emulator.base_url().removesuffix("/bot")
    async with httpx.AsyncClient(base_url=f"{root}/_emu/") as control:
        made = await control.post(f"{TOKEN}/people", json={"id": 8, "first_name": "Bea"})
        assert made.json()["result"]["first_name"] == "Bea"
        sent = await control.post(f"{TOKEN}/send", json={"user_id": 8, "text": "hola"})
        assert sent.json()["ok"] is True
        async with Bot(TOKEN, base_url=emulator.base_url()) as bot:
            await bot.send_message(8, "👋 <b>Bea</b>", parse_mode="HTML")
        transcript = (await control.get(f"{TOKEN}/transcript/8")).json()["result"]
        stats = (await control.get(f"{TOKEN}/stats")).json()
        unknown = await control.post(f"{TOKEN}/teleport", json={})
    assert [(m["direction"], m["text"]) for m in transcript] == [("in", "hola"), ("out", "👋 Bea")]
    assert transcript[1]["entities"] == [{"offset": 3, "length": 3, "type": "bold"}]
    assert stats["sends"] == 1 and unknown.status_code == 404
