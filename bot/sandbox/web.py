"""The page and its JSON API, served by aiohttp on the operator's own machine.

Requests that change something need the `X-Sandbox` header: a web page from elsewhere
cannot add it without a CORS preflight, which this server never answers, so another site
open in the same browser cannot act in the sandbox. The Host header must name this machine,
so a DNS name pointed at 127.0.0.1 cannot either.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import console
from .chats import Chats, Cursor
from .clockctl import JUMPS, ClockRefused
from .people import LANGUAGES, ZONES, new_person
from .runtime import NotRunning, Sandbox

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
LONG_POLL_SECONDS = 20.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names the wildcard, binds nothing
_SAFE_NAME = re.compile(r"[^\w.\- ]+")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the sandbox will not carry out: answered 400 with this message."""


def build(sandbox: Sandbox, command: console.Command, host: str = "127.0.0.1") -> web.Application:
    """The aiohttp application: the static page and the API under /api/.

    `host` is where it listens: a name or address given there is accepted in the Host header
    too, and one listening on every interface (0.0.0.0, ::) accepts any.
    """
    chats = Chats(sandbox)
    allowed = None if host in WILDCARD_HOSTS else frozenset((*LOCAL_HOSTS, host, f"[{host}]"))
    app = web.Application(middlewares=[_guard(allowed)], client_max_size=25 * 1024 * 1024)
    app.router.add_get("/", _page)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    routes = Api(sandbox, chats, command)
    app.router.add_get("/api/state", routes.state)
    app.router.add_post("/api/updates", routes.updates)
    app.router.add_post("/api/send", routes.send)
    app.router.add_post("/api/press", routes.press)
    app.router.add_post("/api/keyboard", routes.keyboard)
    app.router.add_post("/api/document", routes.document)
    app.router.add_get("/api/file/{file_id}", routes.file)
    app.router.add_post("/api/people", routes.add_person)
    app.router.add_post("/api/clock", routes.clock)
    app.router.add_post("/api/reset", routes.reset)
    app.router.add_post("/api/console", routes.console)
    return app


def _guard(allowed: frozenset[str] | None) -> Middleware:
    """Refuse other Host headers, and changes without the X-Sandbox header; errors as JSON."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.host if request.host.endswith("]") else request.host.rsplit(":", 1)[0]
        if allowed is not None and host not in allowed:
            refusal = {"error": "the sandbox answers only on this machine"}
            return web.json_response(refusal, status=403)
        if request.method == "POST" and request.headers.get("X-Sandbox") != "1":
            return web.json_response({"error": "missing X-Sandbox header"}, status=403)
        try:
            return await handler(request)
        except (Refused, LookupError, ValueError, ClockRefused) as refusal:
            return web.json_response({"error": str(refusal).strip("'\"")}, status=400)
        except NotRunning as restarting:  # a reset is under way: the page asks again shortly
            return web.json_response({"error": str(restarting)}, status=503)

    return guard


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Refused("the body must be JSON") from None
    if not isinstance(body, dict):
        raise Refused("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise Refused(f"{key} must be a number")
    return int(value)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise Refused(f"{key} must be text")
    return value


class Api:
    """One method per route; each acts through the emulator or the bot's services."""

    def __init__(self, sandbox: Sandbox, chats: Chats, command: console.Command) -> None:
        self.sandbox = sandbox
        self.chats = chats
        self.command = command

    async def state(self, request: web.Request) -> web.StreamResponse:
        state = self.chats.snapshot()
        state["choices"] = {"languages": LANGUAGES, "zones": ZONES}
        return web.json_response(state, headers={"Cache-Control": "no-store"})

    async def updates(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        try:
            cursor = Cursor.of(body.get("cursor") or {})
        except (TypeError, AttributeError):
            raise Refused("cursor is not one this page was given") from None
        wait = body.get("wait", LONG_POLL_SECONDS)
        if not isinstance(wait, int | float) or not 0 <= wait <= LONG_POLL_SECONDS:
            raise Refused(f"wait must be 0 to {LONG_POLL_SECONDS:g} seconds")
        answer = await self.chats.updates(cursor, float(wait))
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    async def send(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self.chats.send(_int(body, "person"), _text(body, "text"))
        return web.json_response({"ok": True})

    async def press(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self.chats.press(_int(body, "person"), _int(body, "message"), _text(body, "data"))
        return web.json_response({"ok": True})

    async def keyboard(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        self.chats.reply_button(_int(body, "person"), _text(body, "text"))
        return web.json_response({"ok": True})

    async def document(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise Refused("no file")
        name = Path(upload.filename or "file").name
        person = _int(dict(form), "person")
        caption = form.get("caption")
        content = upload.file.read()
        self.chats.send_document(person, name, content, caption if isinstance(caption, str) else "")
        return web.json_response({"ok": True})

    async def file(self, request: web.Request) -> web.StreamResponse:
        name, content = self.chats.file(request.match_info["file_id"])
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        ascii_name = _SAFE_NAME.sub("_", name) or "file"
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        return web.Response(
            body=content,
            content_type=kind,
            headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
        )

    async def add_person(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        person = new_person(
            self.sandbox.people, _text(body, "name"), _text(body, "language"), _text(body, "zone")
        )
        self.sandbox.add_person(person)
        return web.json_response({"ok": True, "person": person.as_json()})

    async def clock(self, request: web.Request) -> web.StreamResponse:
        to = _text(await _body(request), "to")
        jump = next((known for known in JUMPS if known == to), None)
        if jump is None:
            raise Refused(f"to must be one of {', '.join(JUMPS)}")
        now = await self.sandbox.clock.jump(self.sandbox.services, jump)
        self.sandbox.bump()
        return web.json_response({"ok": True, "now": now.isoformat()})

    async def reset(self, request: web.Request) -> web.StreamResponse:
        await self.sandbox.reset()
        return web.json_response({"ok": True})

    async def console(self, request: web.Request) -> web.StreamResponse:
        argv = console.arguments(_text(await _body(request), "line"), self.sandbox.config_path)
        status, output = await asyncio.to_thread(
            console.run, self.command, argv, self.sandbox.clock.clock
        )
        await self.sandbox.wake()
        return web.json_response({"status": status, "output": output})
