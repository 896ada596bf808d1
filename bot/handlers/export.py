"""/export for staff, all by buttons (dataset → survey → filter → format → labels → PII → a
document), and /audit; the file is written in a separate process, so chat never waits on it."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.flows.steps import Choice, Step, StepFlow, StepList, StepView
from bot.handlers.access import refuse
from bot.handlers.chunks import split_message
from bot.handlers.export_values import (
    FILTERS,
    TYPED,
    configured,
    parse_filter,
    parse_value,
    value_choices,
)
from bot.i18n import Markup, Texts
from bot.language import conversation_language, language_of
from bot.services.errors import InputError
from bot.services.export import ExportFailed, ExportRequest
from bot.services.exports import fit_for_telegram
from bot.services.permissions import Permission
from bot.services.zones import member_zone
from storage.models import Conversation

logger = logging.getLogger(__name__)
FLOW = "export"
_DATASETS = ("answers", "answers-long", "proposals", "meetings", "members", "evidence", "record")
_FORMATS = ("csv", "xlsx", "jsonl")
# Which filters narrow each dataset (the others would be ignored, so they are not offered).
_APPLIES = {
    "answers": FILTERS,
    "answers-long": FILTERS,
    "proposals": FILTERS,
    "meetings": ("round",),
    "members": ("country", "region", "sector"),
    "record": FILTERS,
    "evidence": (),
}


def _choices(prefix: str, values: tuple[str, ...]) -> Any:
    def build(view: StepView) -> list[Choice]:
        return [Choice(v, view.texts.plain(view.language, f"{prefix}.{v}")) for v in values]

    return build


def _question(key: str) -> Any:
    return lambda view: view.texts.get(view.language, key)


def _offered_filters(view: StepView) -> list[str]:
    """The filters that narrow this dataset and have values to pick from."""
    options = view.extra.get("options", {})
    dataset = str(view.values.get("dataset", ""))
    return [name for name in _APPLIES.get(dataset, ()) if options.get(name)]


def _after_dataset(view: StepView) -> str | None:
    if view.values.get("dataset") == "answers" and view.extra.get("surveys"):
        return "survey"
    return "filter" if _offered_filters(view) else "format"


def _survey_choices(view: StepView) -> list[Choice]:
    found = []
    for survey_id, titles in view.extra.get("surveys", []):
        title = titles.get(view.language) or next(iter(titles.values()), "")
        found.append(Choice(str(survey_id), f"#{survey_id} {title}"[:60]))
    return found


def _parse_survey(text: str, view: StepView) -> str:
    typed = text.strip().lstrip("#")
    if typed not in {str(item[0]) for item in view.extra.get("surveys", [])}:
        raise InputError("export.error.survey", survey=text.strip()[:20])
    return typed


def _after_survey(view: StepView) -> str | None:
    return "filter" if _offered_filters(view) else "format"


def _filter_choices(view: StepView) -> list[Choice]:
    label = view.texts.plain
    return [Choice("none", label(view.language, "export.filter.none"))] + [
        Choice(name, label(view.language, f"export.filter.{name}"))
        for name in _offered_filters(view)
    ]


def _after_filter(view: StepView) -> str | None:
    chosen = str(view.values.get("filter", "none"))
    return "filter_value" if chosen in FILTERS else "format"


def _value_question(view: StepView) -> str:
    name = str(view.values.get("filter", ""))
    return view.texts.get(view.language, f"export.ask.{name}")


def _format_question(view: StepView) -> str:
    """The record is one ZIP of several tables: the format chosen is that of the tables in it."""
    record = view.values.get("dataset") == "record"
    return view.texts.get(
        view.language, "export.ask.format_record" if record else "export.ask.format"
    )


def _after_format(view: StepView) -> str | None:
    if view.values.get("dataset") == "answers":
        return "labels"
    return _pii_next(view)


def _pii_next(view: StepView) -> str | None:
    personal = view.values.get("dataset") in ("members", "record")
    return "pii" if view.extra.get("may_pii") and personal else None


STEPS = StepList(
    [
        Step(
            "dataset",
            "choice",
            _question("export.ask.dataset"),
            choices=_choices("export.dataset", _DATASETS),
            next=_after_dataset,
        ),
        Step(
            "survey",
            "choice",
            _question("export.ask.survey"),
            parse=_parse_survey,
            choices=_survey_choices,
            next=_after_survey,
        ),
        Step(
            "filter",
            "choice",
            _question("export.ask.filter"),
            parse=parse_filter,
            choices=_filter_choices,
            columns=2,
            next=_after_filter,
        ),
        Step(
            "filter_value",
            "choice",
            _value_question,
            parse=parse_value,
            choices=value_choices,
            columns=2,
        ),
        Step(
            "format",
            "choice",
            _format_question,
            choices=_choices("export.format", _FORMATS),
            next=_after_format,
        ),
        Step(
            "labels",
            "choice",
            _question("export.ask.labels"),
            choices=_choices("export.labels", ("labels", "values")),
            next=_pii_next,
        ),
        Step(
            "pii",
            "choice",
            _question("export.ask.pii"),
            choices=_choices("export.pii", ("no", "yes")),
        ),
    ]
)


async def _grants(context: BotContext, telegram_id: int) -> list[tuple[str, str]]:
    services = context.services
    member = await services.registration.member(telegram_id)
    return await services.permissions.grants(member, telegram_id)


async def start_export(update: Update, context: BotContext, engine: StepFlow) -> None:
    """/export: staff only; starts the steps."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.registration.member(user.id)
    language = await language_of(context, user.id, user.language_code)
    if not await services.permissions.allows(member, user.id, Permission.EXPORT):
        await refuse(context, message, user.id, language, Permission.EXPORT.value)
        return
    may_pii = await services.permissions.allows(member, user.id, Permission.EXPORT_PII)
    extra = {
        "may_pii": may_pii,
        "options": await services.exports.filter_options(),
        "surveys": (await services.exports.survey_titles())[:20],
        "configured": configured(services),
    }
    await engine.begin(message, context, user.id, language, extra=extra)


def request_of(values: dict[str, Any], language: str, zone: str | None) -> ExportRequest:
    """The export a finished conversation asks for."""
    filters: dict[str, Any] = {}
    chosen = str(values.get("filter", "none"))
    if chosen in FILTERS and values.get("filter_value"):
        filters[chosen] = str(values["filter_value"])
    elif "=" in chosen:
        key, _, value = chosen.partition("=")
        filters[key] = value
    survey = values.get("survey")
    return ExportRequest(
        str(values.get("dataset", "answers")),
        format=str(values.get("format", "csv")),
        survey_id=int(survey) if survey else None,
        labels=values.get("labels", "labels") == "labels",
        language=language,
        pii=values.get("pii") == "yes",
        zone=zone,
        **filters,
    )


async def _finish(message: Message, context: BotContext, conversation: Conversation) -> None:
    """All steps answered: export in a separate process and send the file as a document."""
    services = context.services
    await services.conversations.end(conversation.telegram_id, FLOW)
    language = conversation_language(context, conversation)
    member = await services.registration.member(conversation.telegram_id)
    zone = member.time_zone if member is not None else None
    request = request_of(dict(conversation.state.get("values", {})), language, zone)
    actor = await services.people.actor_of(conversation.telegram_id)
    # The rights are read again now: a right revoked while the steps ran no longer counts.
    grants = await _grants(context, conversation.telegram_id)
    await message.chat.send_message(services.texts.get(language, "export.working"))
    with tempfile.TemporaryDirectory() as folder:
        # A folder: the export names its files <form_id>_<dataset>_<YYYY-MM-DD>.<ext>.
        out = Path(folder)
        try:
            result = await services.exports.export(
                request, actor, grants, out, separate_process=True
            )
        except InputError as error:
            await message.chat.send_message(
                "⚠️ " + services.texts.get(language, error.key, **error.values)
            )
            return
        except ExportFailed:
            # The service logged the child's error and audited the failure; no file was made.
            await message.chat.send_message(
                "⚠️ " + services.texts.get(language, "export.error.failed")
            )
            return
        parts = await asyncio.to_thread(fit_for_telegram, result.path)
        caption = _caption(services.texts, language, request, result.total)
        for part in [*parts, *result.also]:
            content = await asyncio.to_thread(part.read_bytes)
            shown = caption if part in parts else None
            await message.chat.send_document(content, filename=part.name, caption=shown)
    key = "export.done" if len(parts) == 1 else "export.done_parts"
    await message.chat.send_message(
        services.texts.get(language, key, count=result.total, parts=len(parts))
    )


def _caption(texts: Texts, language: str, request: ExportRequest, rows: int) -> str:
    """What the file holds, under it in chat: dataset, rows and the filter that narrowed it."""
    narrowed = [
        f"{texts.get(language, f'export.filter.{name}')}: {html.escape(str(value))}"
        for name in TYPED
        if (value := getattr(request, name, None))
    ]
    return texts.get(
        language,
        "export.caption",
        dataset=texts.get(language, f"export.dataset.{request.dataset}"),
        count=rows,
        filters=Markup("; ".join(narrowed) or texts.get(language, "export.filter.none")),
    )


def export_flow() -> flows.Flow:
    """/export's steps and /audit."""
    engine = StepFlow(FLOW, STEPS, _finish, cancel_key="export.cancelled")

    async def export(update: Update, context: BotContext) -> None:
        await start_export(update, context, engine)

    return flows.Flow(engine, commands={"export": export, "audit": show_audit})


def _detail(raw: str) -> str:
    """An audit detail as short key: value pairs."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return raw[:200]
    if not isinstance(data, dict):
        return raw[:200]
    parts = []
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "—"
        parts.append(f"{key}: {value}")
    return "; ".join(parts)[:200]


async def show_audit(update: Update, context: BotContext) -> None:
    """/audit: the latest audit entries, for those who may see them."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.registration.member(user.id)
    language = await language_of(context, user.id, user.language_code)
    if not await services.permissions.allows(member, user.id, Permission.VIEW_AUDIT):
        await refuse(context, message, user.id, language, Permission.VIEW_AUDIT.value)
        return
    entries = await services.roles.recent_audit(20)
    # The reader's own clock, named in the heading: UTC times read as wrong by hours.
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    where = member_zone(zone, language, *((member.country, member.region) if member else ("", "")))
    lines = [
        services.texts.get(
            language,
            "audit.line",
            at=f"{entry.at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}",
            actor=entry.actor,
            action=services.texts.plain(language, f"audit.action.{entry.action}")
            if services.texts.has(language, f"audit.action.{entry.action}")
            else entry.action,
            target=entry.target,
            detail=_detail(entry.detail),
        )
        for entry in entries
    ]
    header = services.texts.get(language, "staff.audit.title", zone=where)
    for part in split_message([header, *lines]):
        await message.chat.send_message(part)


def register_export(application: Application) -> None:  # type: ignore[type-arg]
    """Add /export (its steps and buttons) and /audit."""
    flows.register(application, export_flow())
