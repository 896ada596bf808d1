"""Which language a person reads — one answer, asked everywhere.

Their stored choice (the member's, or the one a conversation was begun in), else their Telegram
app's language if it is one of ours, else the programme's default (`programme.default_language`).
"""

from __future__ import annotations

from typing import Any

from bot.context import BotContext
from bot.i18n import LANGUAGES, pick_language
from storage.models import Conversation, Member


def resolve(stored: Any, telegram_code: str | None, default: str) -> str:
    """The rule itself: stored choice, else Telegram's language, else the default."""
    if isinstance(stored, str) and stored in LANGUAGES:
        return stored
    return pick_language(telegram_code, default)


def person_language(
    context: BotContext, stored: Any = None, telegram_code: str | None = None
) -> str:
    """The person's language from what is known of them, with this programme's default."""
    return resolve(stored, telegram_code, context.services.config.programme.default_language)


def member_language(
    context: BotContext, member: Member | None, telegram_code: str | None = None
) -> str:
    """A member's language (someone not registered: their Telegram app's, else the default)."""
    return person_language(context, member.language if member else None, telegram_code)


def conversation_language(context: BotContext, conversation: Conversation) -> str:
    """The language a conversation was begun in (the programme's default if it holds none)."""
    return person_language(context, conversation.state.get("language"))


async def language_of(
    context: BotContext, telegram_id: int, telegram_code: str | None = None
) -> str:
    """The language of someone known only by id: their profile's, else Telegram's, else default."""
    member = await context.services.registration.member(telegram_id)
    return member_language(context, member, telegram_code)
