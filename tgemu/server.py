"""The Bot API over HTTP (``/bot<token>/<method>``) plus a control API for tests and demos."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import ClientSession, ClientTimeout, web

from tgemu import control
from tgemu import methods as bot_methods
from tgemu.core import (
    ApiError,
    BotState,
    Chat,
    ChatMessage,
    Faults,
    Group,
    Limits,
    Person,
    roll,
)
from tgemu.schema import BadRequest, coerce, methods

logger = logging.getLogger(__name__)
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")  # what Telegram's tokens look like


class Emulator:
    """Telegram as bots see it (HTTP) and as people writing to them do (Python or HTTP control)."""

    # Called with each new emulator, so a test suite can check afterwards what people were shown
    # by every emulator a test made, its own ones included.
    on_create: ClassVar[list[Callable[[Emulator], None]]] = []

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.faults = Faults()
        self.people: dict[int, Person] = {}
        self.groups: dict[int, Group] = {}
        self.bots: dict[str, BotState] = {}
        self._callback_ids = 0
        self._runner: web.AppRunner | None = None
        self._webhook_tasks: dict[str, asyncio.Task[None]] = {}
        self.port = 0
        for observer in Emulator.on_create:
            observer(self)

    # ---- lifecycle -------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        control.add_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: any free port); return the base_url for python-telegram-bot."""
        # A call whose client went away (a bot killed mid-request) is dropped, not finished
        # later; and stopping does not wait a minute for calls still held by injected delays.
        self._runner = web.AppRunner(
            self.web_app(), access_log=None, handler_cancellation=True, shutdown_timeout=5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])
        return self.base_url(host)

    def base_url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/bot"

    async def stop(self) -> None:
        for task in self._webhook_tasks.values():
            task.cancel()
        for bot in self.bots.values():
            bot.updates_arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- bots and people -------------------------------------------------------------------
    def bot(self, token: str) -> BotState:
        if token not in self.bots:
            bot_id = 7_000_000 + len(self.bots) + 1
            self.bots[token] = BotState(token, bot_id, self.limits)
        return self.bots[token]

    def create_person(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> Person:
        person = Person(user_id, first_name, last_name, username, language_code)
        self.people[user_id] = person
        return person

    def create_group(self, group_id: int, title: str = "Group", kind: str = "group") -> Group:
        """A group, supergroup or channel (negative id) with the bot in it."""
        group = Group(group_id, title, kind)
        self.groups[group_id] = group
        return group

    def chat(self, bot: BotState, user_id: int) -> Chat:
        """The chat between a bot and a person or a group (created on first contact)."""
        if user_id not in bot.chats:
            if user_id in self.groups:
                group = self.groups[user_id]
                bot.chats[user_id] = Chat(Person(group.id, group.title), group=group)
            elif user_id not in self.people:
                raise KeyError(f"no person {user_id}: create_person first")
            else:
                bot.chats[user_id] = Chat(self.people[user_id])
        return bot.chats[user_id]

    def _incoming(
        self,
        token: str,
        user_id: int,
        content: dict[str, Any],
        chat_id: int | None = None,
        kind: str = "message",
    ) -> int:
        """A message from a person (in their private chat, or in group chat_id) or a channel."""
        bot = self.bot(token)
        chat = self.chat(bot, user_id if chat_id is None else chat_id)
        message_id = bot.new_message_id()
        date = int(time.time())
        message: dict[str, Any] = {"message_id": message_id, "chat": chat.as_chat(), "date": date}
        if kind == "channel_post":
            message["sender_chat"] = chat.as_chat()
        else:
            message["from"] = self.people[user_id].as_user()
        message.update(content)
        chat.messages[message_id] = ChatMessage(
            message_id,
            "in",
            date,
            text=content.get("text"),
            contact=content.get("contact"),
            location=content.get("location"),
            document=content.get("document"),
        )
        chat.notify({"kind": "in", "message_id": message_id})
        update_id = bot.push_update({kind: message})
        self._kick_webhook(bot)
        return update_id

    def send_text(self, token: str, user_id: int, text: str, chat_id: int | None = None) -> int:
        """The person types and sends a text (in a group if chat_id); return the update id."""
        return self._incoming(token, user_id, _text_content(text), chat_id)

    def post_in_channel(self, token: str, channel_id: int, text: str) -> int:
        """A post in a channel the bot administers (a channel_post update)."""
        return self._incoming(token, channel_id, _text_content(text), channel_id, "channel_post")

    def edit_text(self, token: str, user_id: int, message_id: int, text: str) -> int:
        """The person edits a text they sent earlier (an edited_message update)."""
        bot = self.bot(token)
        chat = self.chat(bot, user_id)
        sent = chat.messages.get(message_id)
        if sent is None or sent.direction != "in" or sent.text is None:
            raise LookupError(f"{user_id} sent no text message {message_id}")
        sent.text, sent.edits = text, sent.edits + 1
        message = {
            "message_id": message_id,
            "from": self.people[user_id].as_user(),
            "chat": chat.as_chat(),
            "date": sent.date,
            "edit_date": int(time.time()),
            **_text_content(text),
        }
        chat.notify({"kind": "edited", "message_id": message_id})
        update_id = bot.push_update({"edited_message": message})
        self._kick_webhook(bot)
        return update_id

    def send_contact(
        self, token: str, user_id: int, phone: str, owner_id: int | None = None
    ) -> int:
        """The person shares a contact (their own unless owner_id says otherwise)."""
        person = self.people[user_id]
        contact = {
            "phone_number": phone,
            "first_name": person.first_name,
            "user_id": person.id if owner_id is None else owner_id,
        }
        return self._incoming(token, user_id, {"contact": contact})

    def send_location(self, token: str, user_id: int, latitude: float, longitude: float) -> int:
        return self._incoming(
            token, user_id, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def send_document(
        self, token: str, user_id: int, name: str, content: bytes, caption: str | None = None
    ) -> int:
        bot = self.bot(token)
        document = {**bot.store_file(name, content), "file_name": name}
        payload: dict[str, Any] = {"document": document}
        if caption:
            payload["caption"] = caption
        return self._incoming(token, user_id, payload)

    def press(
        self,
        token: str,
        user_id: int,
        message_id: int,
        callback_data: str,
        forge: bool = False,
        chat_id: int | None = None,
    ) -> int:
        """Press an inline button; refused unless that message shows it (or forge=True)."""
        bot = self.bot(token)
        chat = self.chat(bot, user_id if chat_id is None else chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.direction != "out" or message.deleted:
            raise LookupError(f"message {message_id} is not in the chat with {user_id}")
        if not forge and callback_data not in [b.get("callback_data") for b in message.buttons()]:
            raise LookupError(f"message {message_id} has no button with data {callback_data!r}")
        self._callback_ids += 1
        query_id = str(self._callback_ids)
        query = {
            "id": query_id,
            "from": self.people[user_id].as_user(),
            "message": bot_methods.message_payload(bot, chat, message),
            "chat_instance": f"ci-{user_id}",
            "data": callback_data,
        }
        chat.notify({"kind": "press", "message_id": message_id, "data": callback_data})
        update_id = bot.push_update({"callback_query": query})
        self._kick_webhook(bot)
        return update_id

    def block(self, token: str, user_id: int, blocked: bool = True) -> None:
        self.chat(self.bot(token), user_id).blocked = blocked

    def transcript(self, token: str, user_id: int) -> list[ChatMessage]:
        """Every message in the chat, both directions, in order, as they look now."""
        chat = self.chat(self.bot(token), user_id)
        return [chat.messages[key] for key in sorted(chat.messages)]

    # ---- Bot API over HTTP -----------------------------------------------------------------
    async def _read_parameters(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        values: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                values[key] = (value.filename or key, value.file.read())
            else:
                values[key] = value
        return values

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        if method not in methods():
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if not _TOKEN.match(token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        bot = self.bot(token)
        bot.calls[method] = bot.calls.get(method, 0) + 1
        try:
            raw = await self._read_parameters(request)
            if self.faults.applies(method) and method != "getupdates":
                await self._apply_faults()
            params = coerce(method, raw)
            result = await bot_methods.call(self, bot, method, params)
        except BadRequest as exc:
            bot.errors.append((method, 400, str(exc)))
            return web.json_response(
                {"ok": False, "error_code": 400, "description": str(exc)}, status=400
            )
        except ApiError as exc:
            bot.errors.append((method, exc.code, exc.description))
            return web.json_response(exc.payload(), status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _apply_faults(self) -> None:
        faults = self.faults
        if faults.delay_seconds:
            await asyncio.sleep(faults.delay_seconds)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            raise ApiError(faults.fail_status, "Bad Gateway")
        if roll(faults.error_rate):
            raise ApiError(faults.fail_status, "Bad Gateway")
        if roll(faults.flood_rate):
            raise ApiError(429, "Too Many Requests: retry after 1", 1)

    async def _handle_file(self, request: web.Request) -> web.Response:
        bot = self.bot(request.match_info["token"])
        file_id = request.match_info["path"].split("/")[-1]
        if file_id not in bot.files:
            return web.Response(status=404)
        return web.Response(body=bot.files[file_id][1])

    # ---- webhooks --------------------------------------------------------------------------
    def _kick_webhook(self, bot: BotState) -> None:
        if bot.webhook is None:
            return
        task = self._webhook_tasks.get(bot.token)
        if task is None or task.done():
            self._webhook_tasks[bot.token] = asyncio.get_running_loop().create_task(
                self._deliver_webhook(bot)
            )

    async def _deliver_webhook(self, bot: BotState) -> None:
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while bot.webhook is not None and bot.updates:
                update = bot.updates[0]
                headers = {"Content-Type": "application/json"}
                if bot.webhook.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook.secret_token
                try:
                    async with session.post(
                        bot.webhook.url, data=json.dumps(update), headers=headers
                    ) as answer:
                        delivered = answer.status == 200
                except OSError:
                    delivered = False
                if delivered:
                    bot.updates.pop(0)
                    bot.confirmed_update_id = update["update_id"]
                else:
                    await asyncio.sleep(0.2)


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0] if text.split() else text
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return content
