"""Staff send the draft policy's clauses as a document (.md or .toml) in chat.

Loaded as `consultbot clauses load` loads them (the same parser, checks and messages: all or
nothing); the answer is the count loaded, or every reason the file was refused, one per line.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from bot.flows.active import active, routes
from bot.handlers import common
from bot.handlers.access import identify
from bot.handlers.chunks import split_message
from bot.services.clauses import MAX_FILE_BYTES, SUFFIXES, ClausesRefused
from bot.services.permissions import Permission


async def on_clauses_file(update: Update, context: BotContext) -> None:
    """Load a clauses file sent by staff; anyone else's document is answered as any other."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.document is None:
        return
    services = context.services
    member, language = await identify(update, context)
    allowed = await services.permissions.allows(member, user.id, Permission.EXPORT)
    conversation = await active(context, user.id)
    flow = routes(context, conversation) if conversation is not None else None
    if not allowed or (flow is not None and flow.on_document is not None):
        # Not a clauses upload (a member, or a flow that takes files, e.g. minutes).
        await common.on_other(update, context)
        return
    texts = services.texts
    document = message.document
    name = document.file_name or "clauses.md"
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        refused = texts.get(language, "clauses.refused", count=1)
        problem = texts.get(language, "clauses.error.size", limit="1 MB")
        await message.chat.send_message(f"{refused}\n• {problem}")
        return
    file = await document.get_file()
    content = bytes(await file.download_as_bytearray())
    actor = await services.people.actor_of(user.id)
    try:
        count = await services.clauses.load_bytes(content, name, actor)
    except ClausesRefused as refused:
        lines = [texts.get(language, "clauses.refused", count=len(refused.problems))]
        lines += [f"• {texts.get(language, p.key, **p.values)}" for p in refused.problems]
        for part in split_message(lines):
            await message.chat.send_message(part)
        return
    await message.chat.send_message(texts.get(language, "clauses.loaded", count=count, name=name))


def register_clauses(application: Application) -> None:  # type: ignore[type-arg]
    """Take .md and .toml documents (before the generic "anything else" handler)."""
    extensions = [filters.Document.FileExtension(suffix.lstrip(".")) for suffix in SUFFIXES]
    application.add_handler(MessageHandler(extensions[0] | extensions[1], on_clauses_file))
