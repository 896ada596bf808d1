"""The control API over HTTP, for the demo and for other processes: people write, press, read."""

from __future__ import annotations

import contextlib
import json
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tgemu.server import Emulator


def add_routes(app: web.Application, emulator: Emulator) -> None:
    """Serve /_emu/...: transcripts, stats, batches of people and texts, limits, actions."""
    app.router.add_get("/_emu/{token}/transcript/{user_id}", partial(transcript, emulator))
    app.router.add_get("/_emu/{token}/stats", partial(stats, emulator))
    app.router.add_post("/_emu/{token}/batch", partial(batch, emulator))
    app.router.add_post("/_emu/limits", partial(limits, emulator))
    app.router.add_post("/_emu/{token}/{action}", partial(action, emulator))


async def action(emulator: Emulator, request: web.Request) -> web.Response:
    """A person acts: create them (or a group), send, edit, share, press, block."""
    token = request.match_info["token"]
    what = request.match_info["action"]
    body = await request.json()
    try:
        if what == "people":
            person = emulator.create_person(
                int(body["id"]),
                body.get("first_name", "Test"),
                body.get("language_code"),
                body.get("username"),
            )
            return web.json_response({"ok": True, "result": person.as_user()})
        if what == "group":
            group = emulator.create_group(
                int(body["id"]), body.get("title", "Group"), body.get("type", "group")
            )
            return web.json_response({"ok": True, "result": group.as_chat()})
        if what == "send":
            chat_id = int(body["chat_id"]) if "chat_id" in body else None
            update_id = emulator.send_text(token, int(body["user_id"]), str(body["text"]), chat_id)
        elif what == "edit":
            update_id = emulator.edit_text(
                token, int(body["user_id"]), int(body["message_id"]), str(body["text"])
            )
        elif what == "contact":
            update_id = emulator.send_contact(token, int(body["user_id"]), str(body["phone"]))
        elif what == "location":
            update_id = emulator.send_location(
                token, int(body["user_id"]), float(body["latitude"]), float(body["longitude"])
            )
        elif what == "press":
            update_id = emulator.press(
                token,
                int(body["user_id"]),
                int(body["message_id"]),
                str(body["callback_data"]),
                bool(body.get("forge", False)),
            )
        elif what == "block":
            emulator.block(token, int(body["user_id"]), bool(body.get("blocked", True)))
            update_id = 0
        else:
            return web.json_response({"ok": False, "description": "unknown action"}, status=404)
    except (KeyError, LookupError, ValueError) as exc:
        return web.json_response({"ok": False, "description": str(exc)}, status=400)
    return web.json_response({"ok": True, "result": {"update_id": update_id}})


async def stats(emulator: Emulator, request: web.Request) -> web.Response:
    bot = emulator.bot(request.match_info["token"])
    return web.json_response(
        {
            "sends": bot.sends,
            "floods": bot.floods,
            "pending_updates": len(bot.updates),
            "errors": len(bot.errors),
            "calls": bot.calls,
        }
    )


async def batch(emulator: Emulator, request: web.Request) -> web.Response:
    """Many people and messages in one call (load tests): {"people": [...], "texts": [...]}."""
    token = request.match_info["token"]
    body = await request.json()
    for person in body.get("people", []):
        emulator.create_person(
            int(person["id"]), person.get("first_name", "P"), person.get("language_code")
        )
    ids = [
        emulator.send_text(token, int(item["user_id"]), str(item["text"]))
        for item in body.get("texts", [])
    ]
    return web.json_response({"ok": True, "result": {"update_ids": ids}})


async def limits(emulator: Emulator, request: web.Request) -> web.Response:
    """Change flood control for every bot: {"global_rate": 30, "per_chat_rate": null}."""
    body = await request.json()
    for key in ("global_rate", "per_chat_rate", "per_chat_burst"):
        if key in body:
            setattr(emulator.limits, key, body[key])
    for bot in emulator.bots.values():
        bot.reset_buckets()
    return web.json_response({"ok": True})


async def transcript(emulator: Emulator, request: web.Request) -> web.Response:
    token = request.match_info["token"]
    with contextlib.suppress(KeyError):
        messages = emulator.transcript(token, int(request.match_info["user_id"]))
        return web.json_response(
            {"ok": True, "result": [m.as_dict() for m in messages]}, dumps=_dumps
        )
    return web.json_response({"ok": False, "description": "no such chat"}, status=404)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)
