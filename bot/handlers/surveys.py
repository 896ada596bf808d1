"""/surveys, the Start buttons of invitations, and staff sending an XLSForm to the bot (opening
and closing surveys: `bot.handlers.survey_admin`).

Wiring (composition root): ``register_surveys(application)`` before the generic button, text and
"anything else" handlers; ``survey_renderers(services)`` (bot/delivery/survey_notices.py) merged
into ``notice_renderers``.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot import flows
from bot.callbacks import SurveyStart
from bot.context import BotContext
from bot.delivery.survey_notices import start_data
from bot.flows.active import active, routes
from bot.handlers import common
from bot.handlers.chunks import split_message
from bot.handlers.survey_admin import open_button, register_survey_admin, show_managed
from bot.handlers.survey_flow import Survey
from bot.language import member_language
from bot.services.errors import InputError
from bot.services.permissions import Permission
from bot.services.surveys import LoadOutcome
from bot.services.typed_filters import configured_key, numbered_rounds, round_name
from storage.models import Member

logger = logging.getLogger(__name__)

# A caption's options, each to the next option or the line's end: round names hold spaces
# ("round=Round 2: draft policy"), so a value is never cut at the first one.
_CAPTION_OPTION = re.compile(r"\b(round|theme)\s*[=:]\s*", re.IGNORECASE)
ERRORS_SHOWN = 25
# Spreadsheets that are not .xlsx, which the form reader does not read: staff are told so.
_OTHER_EXTENSIONS = (".xls", ".xlsm", ".xlsb", ".xltx", ".ods", ".fods", ".numbers", ".csv")
_MIME_KIND = {
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-excel.sheet.macroEnabled.12": ".xlsm",
    "application/vnd.ms-excel.sheet.binary.macroEnabled.12": ".xlsb",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.apple.numbers": ".numbers",
    "text/csv": ".csv",
}


class SurveyHandlers:
    """The surveys flow and its Telegram entry points."""

    def __init__(self) -> None:
        self.survey = Survey()

    async def _member(self, update: Update, context: BotContext) -> tuple[Member | None, str]:
        user = update.effective_user
        member = await context.services.registration.member(user.id) if user else None
        return member, member_language(context, member, user.language_code if user else None)

    async def list_surveys(self, update: Update, context: BotContext) -> None:
        """/surveys: my open surveys, my progress, a Start or Continue button each; for staff
        also the surveys to open and close."""
        message = update.effective_message
        if message is None:
            return
        member, language = await self._member(update, context)
        texts = context.services.texts
        user = update.effective_user
        staff = user is not None and await context.services.permissions.allows(
            member, user.id, Permission.LOAD_SURVEYS
        )
        if member is None or member.status != "active":
            if staff:  # an operator without a profile manages surveys, answers none
                await show_managed(message, context, member, language)
                return
            await message.chat.send_message(texts.get(language, "survey.list.not_member"))
            return
        await self._list_mine(message, context, member, language, quiet=staff)
        if staff:
            await show_managed(message, context, member, language)

    async def _list_mine(
        self, message: Message, context: BotContext, member: Member, language: str, quiet: bool
    ) -> None:
        """The member's own open surveys; `quiet`: say nothing when there are none (staff)."""
        texts = context.services.texts
        mine = await self.survey.service(context).mine(member)
        if not mine:
            if not quiet:
                await message.chat.send_message(texts.get(language, "survey.list.none"))
            return
        lines, rows = [texts.get(language, "survey.list.header")], []
        for item in mine:
            if item.submitted:
                key, button = "survey.list.submitted", "survey.button.review"
            elif item.answered:
                key, button = "survey.list.progress_upto", "survey.button.continue"
            else:
                key, button = "survey.list.new_upto", "survey.button.start"
            lines.append(
                texts.get(
                    language,
                    key,
                    title=item.title,
                    answered=item.answered,
                    total=item.total,
                    count=item.total,
                )
            )
            label = texts.plain(language, button, title=item.title[:40])
            rows.append([InlineKeyboardButton(label, callback_data=start_data(item.survey.id))])
        await message.chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))

    async def on_start_button(self, update: Update, context: BotContext) -> None:
        """Start (or resume) a survey from an invitation or /surveys; refuse politely otherwise."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        member, language = await self._member(update, context)
        texts = context.services.texts
        press = SurveyStart.parse(query.data)
        if press is None or member is None or member.status != "active":
            await query.answer(texts.plain(language, "error.button_unknown"))
            return
        try:
            session = await self.survey.service(context).start(member, press.survey)
        except InputError as error:
            await query.answer(texts.plain(language, error.key), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await self.survey.open_session(
                query.message, context, user.id, member.language, session
            )

    async def _form_upload(self, update: Update, context: BotContext) -> str | None:
        """The sender's language when this document is staff sending a form; otherwise None,
        and the general handler has answered as for any document (members, flows)."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.document is None:
            return None
        member, language = await self._member(update, context)
        services = context.services
        allowed = await services.permissions.allows(member, user.id, Permission.LOAD_SURVEYS)
        conversation = await active(context, user.id)
        flow = routes(context, conversation) if conversation is not None else None
        if not allowed or (flow is not None and flow.on_document is not None):
            # Not a form upload: let the general handler answer as for any document.
            await common.on_other(update, context)
            return None
        return language

    async def on_other_spreadsheet(self, update: Update, context: BotContext) -> None:
        """Staff send an .xls, .ods, .csv...: say it is not read and how to save it as .xlsx."""
        language = await self._form_upload(update, context)
        message = update.effective_message
        if language is None or message is None or message.document is None:
            return
        name = message.document.file_name or ""
        suffix = Path(name).suffix.lower()
        typed = {mime.lower(): kind for mime, kind in _MIME_KIND.items()}
        mime_type = (message.document.mime_type or "").lower()
        kind = suffix if suffix in _OTHER_EXTENSIONS else typed.get(mime_type, suffix or "?")
        texts = context.services.texts
        await message.chat.send_message(
            texts.get(language, "survey.load.old_format", name=name or kind, kind=kind)
        )

    async def on_document(self, update: Update, context: BotContext) -> None:
        """Staff send an .xlsx form: load it and answer with the survey id or every error."""
        language = await self._form_upload(update, context)
        message, user = update.effective_message, update.effective_user
        if language is None or message is None or user is None or message.document is None:
            return
        services = context.services
        texts = services.texts
        options = caption_options(message.caption or "")
        document = message.document
        name = document.file_name or "form.xlsx"
        if document.file_size is not None and document.file_size > 5 * 1024 * 1024:
            await message.chat.send_message(texts.get(language, "survey.load.too_big"))
            return
        try:
            round_, theme = _recorded(context, language, options)
        except InputError as error:
            await message.chat.send_message("⚠️ " + texts.get(language, error.key, **error.values))
            return
        file = await document.get_file()
        content = bytes(await file.download_as_bytearray())
        actor = await services.people.actor_of(user.id)
        outcome = await self.survey.service(context).load_bytes(name, content, actor, round_, theme)
        parts = split_message(_load_report(context, language, outcome))
        for part in parts[:-1]:
            await message.chat.send_message(part)
        # A form loaded is a draft: the next step, opening it to members, is one press away.
        opening = None
        if outcome.survey is not None:
            opening = InlineKeyboardMarkup([[open_button(context, language, outcome.survey.id)]])
        await message.chat.send_message(parts[-1], reply_markup=opening)


def caption_options(caption: str) -> dict[str, str]:
    """`round=…` and `theme=…` in a form's caption, each value to the next option or the line's
    end ("round=Round 2: draft policy theme=health" gives both whole)."""
    found: dict[str, str] = {}
    for line in caption.splitlines():
        marks = list(_CAPTION_OPTION.finditer(line))
        if not marks:
            continue
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            end = following.start() if following is not None else len(line)
            found[mark.group(1).lower()] = line[mark.end() : end].strip()
    return found


def _recorded(
    context: BotContext, language: str, options: dict[str, str]
) -> tuple[str | None, str | None]:
    """The round and theme the caption names, as stored: a round by its number or exact name
    (as `consultbot surveys load --round`), a theme by its key or name; else an InputError."""
    programme = context.services.config.programme
    texts = context.services.texts
    round_ = theme = None
    if (typed := options.get("round")) is not None:
        round_ = round_name(typed, programme.rounds)
        if round_ is None:
            known = numbered_rounds(programme.rounds) or "—"
            raise InputError("survey.load.bad_round", round=typed[:80], known=known)
    if (typed := options.get("theme")) is not None:
        themes = programme.thematic_groups
        names = {key: texts.label(language, "theme", key) for key in themes}
        theme = configured_key(typed, themes, names)
        if theme is None:
            known = ", ".join(f"{key} ({names[key]})" for key in themes) or "—"
            raise InputError("survey.load.bad_theme", theme=typed[:80], known=known)
    return round_, theme


def _load_report(context: BotContext, language: str, outcome: LoadOutcome) -> list[str]:
    """The staff member's answer to an upload, as lines: the survey, or the errors (HTML)."""
    texts = context.services.texts
    survey = outcome.survey
    if survey is None:
        shown = outcome.messages(texts, language)[:ERRORS_SHOWN]
        lines = [texts.get(language, "survey.load.refused", count=len(outcome.errors))]
        lines += [f"• {html.escape(error, quote=False)}" for error in shown]
        if len(outcome.errors) > len(shown):
            lines.append(texts.get(language, "survey.load.more", count=len(outcome.errors)))
        return lines
    lines = [
        texts.get(
            language,
            "survey.load.ok",
            id=survey.id,
            form_id=survey.form_id,
            version=survey.version,
            count=survey.question_count,
        )
    ]
    programme = context.services.config.programme
    if survey.round:
        lines.append(texts.get(language, "survey.load.round", round=survey.round))
    else:
        known = numbered_rounds(programme.rounds) or "—"
        lines.append(texts.get(language, "survey.load.no_round", known=known))
    if survey.theme:
        theme = texts.label(language, "theme", survey.theme)
        lines.append(texts.get(language, "survey.load.theme", theme=theme))
    if outcome.warnings:
        lines.append(texts.get(language, "survey.load.warnings", count=len(outcome.warnings)))
        lines += [f"• {html.escape(w, quote=False)}" for w in outcome.warnings[:10]]
    return lines


def register_surveys(application: Application) -> None:  # type: ignore[type-arg]
    """Add the surveys flow and its entry points (before the generic handlers)."""
    handlers = SurveyHandlers()
    flows.register(application, handlers.survey.plugged({"surveys": handlers.list_surveys}))
    register_survey_admin(application)
    application.add_handler(CallbackQueryHandler(handlers.on_start_button, pattern="^v1:svy:"))
    application.add_handler(
        MessageHandler(filters.Document.FileExtension("xlsx"), handlers.on_document)
    )
    # Other spreadsheets (after .xlsx: a file named .xlsx is read whatever its MIME type says).
    application.add_handler(MessageHandler(_other_spreadsheets(), handlers.on_other_spreadsheet))


def _other_spreadsheets() -> filters.BaseFilter:
    """Documents named or typed as a spreadsheet other than .xlsx."""
    found: filters.BaseFilter = filters.Document.FileExtension(_OTHER_EXTENSIONS[0][1:])
    for extension in _OTHER_EXTENSIONS[1:]:
        found = found | filters.Document.FileExtension(extension[1:])
    for mime_type in _MIME_KIND:
        found = found | filters.Document.MimeType(mime_type)
    return found
