"""What each Bot API method does to the emulator's state, and what it answers."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tgemu.core import ApiError, BotState, Chat, ChatMessage, Webhook
from tgemu.limits import MAX_CAPTION, MAX_TEXT, check_reply_markup, check_text
from tgemu.schema import BadRequest

if TYPE_CHECKING:
    from tgemu.server import Emulator


def message_payload(bot: BotState, chat: Chat, message: ChatMessage) -> dict[str, Any]:
    """A bot message as the Bot API returns it."""
    payload: dict[str, Any] = {
        "message_id": message.message_id,
        "from": bot.user,
        "chat": chat.as_chat(),
        "date": message.date,
    }
    if message.document is not None or message.photo is not None:
        if message.document is not None:
            payload["document"] = message.document
        else:
            payload["photo"] = message.photo
        if message.text:
            payload["caption"] = message.text
            if message.entities:
                payload["caption_entities"] = message.entities
    elif message.text is not None:
        payload["text"] = message.text
        if message.entities:
            payload["entities"] = message.entities
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        payload["reply_markup"] = message.reply_markup
    if message.edits:
        payload["edit_date"] = int(time.time())
    return payload


def _target_chat(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Chat:
    chat_id = params.get("chat_id")
    if not isinstance(chat_id, int) or (
        chat_id not in emulator.people and chat_id not in emulator.groups
    ):
        raise BadRequest("Bad Request: chat not found")
    chat: Chat = emulator.chat(bot, chat_id)
    return chat


def _check_send(bot: BotState, chat: Chat, method: str, params: dict[str, Any]) -> None:
    check_reply_markup(params.get("reply_markup"))
    if chat.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    bot.check_flood(method, chat.person.id, bool(params.get("allow_paid_broadcast")))


def _remember_reply_keyboard(chat: Chat, markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    if "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def _text_of(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    return check_text(
        params["text"], params.get("parse_mode"), MAX_TEXT, entities=params.get("entities")
    )


def _send(bot: BotState, chat: Chat, message: ChatMessage) -> dict[str, Any]:
    chat.messages[message.message_id] = message
    bot.sends += 1
    chat.notify({"kind": "out", "message_id": message.message_id})
    return message_payload(bot, chat, message)


async def send_message(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    chat = _target_chat(emulator, bot, params)
    plain, entities = _text_of(params)
    _check_send(bot, chat, "sendmessage", params)
    _remember_reply_keyboard(chat, params.get("reply_markup"))
    message = ChatMessage(
        bot.new_message_id(),
        "out",
        int(time.time()),
        text=plain,
        html=params["text"],
        entities=entities,
        reply_markup=params.get("reply_markup"),
    )
    return _send(bot, chat, message)


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG; anything else is refused as Telegram refuses it."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR":
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content[:2] == b"\xff\xd8":
        at = 2
        while at + 9 < len(content) and content[at] == 0xFF:
            marker, length = content[at + 1], int.from_bytes(content[at + 2 : at + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(content[at + 5 : at + 7], "big")
                return int.from_bytes(content[at + 7 : at + 9], "big"), height
            at += 2 + length
    raise BadRequest("Bad Request: IMAGE_PROCESS_FAILED")


async def send_photo(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    """A photo upload: checked as Telegram checks it (an image, at most 10 MB, width + height
    at most 10,000, sides at most 20:1), kept with its file name for tests to read back."""
    chat = _target_chat(emulator, bot, params)
    caption = params.get("caption")
    plain, entities = None, None
    if caption:
        plain, entities = check_text(
            caption,
            params.get("parse_mode"),
            MAX_CAPTION,
            "caption",
            params.get("caption_entities"),
        )
    _check_send(bot, chat, "sendphoto", params)
    photo = params["photo"]
    if isinstance(photo, str) and photo in bot.files:
        # A photo sent before, by its file id: Telegram sends it again without an upload.
        name, content = bot.files[photo]
        width, height = _image_size(content)
        stored = {"file_id": photo, "file_unique_id": photo, "file_size": len(content)}
        stored |= {"width": width, "height": height}
    elif isinstance(photo, tuple):
        name, content = photo
        if len(content) > 10 * 1024 * 1024:
            raise BadRequest("Bad Request: PHOTO_SAVE_FILE_INVALID")
        width, height = _image_size(content)
        if width + height > 10000 or max(width, height) > 20 * max(1, min(width, height)):
            raise BadRequest("Bad Request: PHOTO_INVALID_DIMENSIONS")
        stored = {**bot.store_file(name, content), "width": width, "height": height}
    else:
        raise BadRequest("Bad Request: wrong file identifier/HTTP URL specified")
    message = ChatMessage(
        bot.new_message_id(),
        "out",
        int(time.time()),
        text=plain,
        html=caption,
        entities=entities,
        photo=[stored],
        reply_markup=params.get("reply_markup"),
    )
    return _send(bot, chat, message)


async def send_document(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    chat = _target_chat(emulator, bot, params)
    caption = params.get("caption")
    plain, entities = None, None
    if caption:
        plain, entities = check_text(
            caption,
            params.get("parse_mode"),
            MAX_CAPTION,
            "caption",
            params.get("caption_entities"),
        )
    _check_send(bot, chat, "senddocument", params)
    document = params["document"]
    if isinstance(document, tuple):
        name, content = document
        stored = {**bot.store_file(name, content), "file_name": name}
    elif isinstance(document, str) and document in bot.files:
        name, content = bot.files[document]
        stored = {"file_id": document, "file_unique_id": document, "file_name": name}
    else:
        raise BadRequest("Bad Request: wrong file identifier/HTTP URL specified")
    message = ChatMessage(
        bot.new_message_id(),
        "out",
        int(time.time()),
        text=plain,
        html=caption,
        entities=entities,
        document=stored,
        reply_markup=params.get("reply_markup"),
    )
    return _send(bot, chat, message)


def _existing(emulator: Emulator, bot: BotState, params: dict[str, Any], what: str) -> ChatMessage:
    chat = _target_chat(emulator, bot, params)
    message = chat.messages.get(params.get("message_id", -1))
    if message is None or message.direction != "out" or message.deleted:
        raise BadRequest(f"Bad Request: message to {what} not found")
    return message


async def edit_message_text(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    if "chat_id" not in params or "message_id" not in params:
        raise BadRequest("Bad Request: message identifier is not specified")
    message = _existing(emulator, bot, params, "edit")
    plain, entities = _text_of(params)
    check_reply_markup(params.get("reply_markup"))
    markup = params.get("reply_markup")
    # Telegram compares what the person would see, not the HTML that produced it.
    if (message.text, message.entities or [], message.reply_markup) == (plain, entities, markup):
        raise BadRequest(
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message"
        )
    message.edit(markup, plain, params["text"], entities)
    chat = bot.chats[params["chat_id"]]
    chat.notify({"kind": "edit", "message_id": message.message_id})
    return message_payload(bot, chat, message)


async def edit_message_reply_markup(
    emulator: Emulator, bot: BotState, params: dict[str, Any]
) -> Any:
    if "chat_id" not in params or "message_id" not in params:
        raise BadRequest("Bad Request: message identifier is not specified")
    message = _existing(emulator, bot, params, "edit")
    markup = params.get("reply_markup")
    check_reply_markup(markup)
    if message.reply_markup == markup:
        raise BadRequest("Bad Request: message is not modified")
    message.edit(markup)
    chat = bot.chats[params["chat_id"]]
    chat.notify({"kind": "edit", "message_id": message.message_id})
    return message_payload(bot, chat, message)


async def delete_message(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    message = _existing(emulator, bot, params, "delete")
    message.deleted = True
    bot.chats[params["chat_id"]].notify({"kind": "delete", "message_id": message.message_id})
    return True


async def answer_callback_query(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    if len(params.get("text") or "") > 200:
        raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
    bot.callback_answers[params["callback_query_id"]] = params
    return True


async def get_updates(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    if bot.webhook is not None:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
    limit = min(max(int(params.get("limit", 100)), 1), 100)
    timeout = max(float(params.get("timeout", 0)), 0.0)
    # One consumer per token: a newer getUpdates ends the one still waiting, as Telegram does.
    if bot.active_poll is not None:
        bot.active_poll.set()
    superseded = asyncio.Event()
    bot.active_poll = superseded
    updates = bot.pending_updates(params.get("offset"), limit)
    if not updates and timeout > 0:
        arrived = asyncio.ensure_future(bot.updates_arrived.wait())
        ended = asyncio.ensure_future(superseded.wait())
        await asyncio.wait({arrived, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        arrived.cancel()
        ended.cancel()
        if superseded.is_set():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        updates = bot.pending_updates(None, limit)
    if bot.active_poll is superseded:
        bot.active_poll = None
    return updates


async def set_webhook(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    bot.webhook = Webhook(params["url"], params.get("secret_token"))
    emulator._kick_webhook(bot)
    return True


async def delete_webhook(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    bot.webhook = None
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    return True


async def get_webhook_info(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    return {
        "url": bot.webhook.url if bot.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    return f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code', '')}"


async def set_my_commands(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    for command in params["commands"]:
        if not 1 <= len(command.get("command", "")) <= 32 or not command.get("description"):
            raise BadRequest("Bad Request: BOT_COMMAND_INVALID")
    bot.commands[_commands_key(params)] = params["commands"]
    return True


async def get_my_commands(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    return bot.commands.get(_commands_key(params), [])


async def delete_my_commands(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    bot.commands.pop(_commands_key(params), None)
    return True


async def get_me(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    return bot.user


async def get_file(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    file_id = params["file_id"]
    if file_id not in bot.files:
        raise BadRequest("Bad Request: invalid file_id")
    return {
        "file_id": file_id,
        "file_unique_id": file_id,
        "file_size": len(bot.files[file_id][1]),
        "file_path": f"documents/{file_id}",
    }


async def close_or_logout(emulator: Emulator, bot: BotState, params: dict[str, Any]) -> Any:
    return True


HANDLERS = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendmessage": send_message,
    "senddocument": send_document,
    "sendphoto": send_photo,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "getfile": get_file,
    "close": close_or_logout,
    "logout": close_or_logout,
}


async def call(emulator: Emulator, bot: BotState, method: str, params: dict[str, Any]) -> Any:
    handler = HANDLERS.get(method)
    if handler is None:
        # A real method the emulator does not model: accepted after validation, changes nothing.
        return True
    return await handler(emulator, bot, params)
