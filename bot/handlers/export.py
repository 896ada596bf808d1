"""/export for staff (dataset → survey → filter → format → labels → PII → a document), /audit,
/evidence and /phrases; the export itself runs in a worker thread, off the event loop."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.services.clauses import ClausesService
from bot.services.export import ExportRequest, ExportService
from bot.services.exports import TextItem, fit_for_telegram, key_phrases
from bot.services.permissions import Permission
from bot.services.registration import InputError
from bot.steps import Choice, Step, StepFlow, StepList, StepView
from storage.exports import ExportFilters
from storage.models import Conversation

logger = logging.getLogger(__name__)
FLOW = "export"
_DATASETS = ("answers", "answers-long", "proposals", "meetings", "members", "evidence", "record")
_FORMATS = ("csv", "xlsx", "jsonl")


def _choices(prefix: str, values: tuple[str, ...]) -> Any:
    def build(view: StepView) -> list[Choice]:
        return [Choice(v, view.texts.plain(view.language, f"{prefix}.{v}")) for v in values]

    return build


def _question(key: str) -> Any:
    return lambda view: view.texts.get(view.language, key)


def _after_dataset(view: StepView) -> str | None:
    if view.values.get("dataset") == "record":
        return "filter"
    return "survey" if view.values.get("dataset") == "answers" else "filter"


def _parse_survey(text: str, view: StepView) -> int:
    if not text.strip().isdigit():
        raise InputError("export.error.survey", survey=text.strip()[:20])
    return int(text.strip())


def _parse_filter(text: str, view: StepView) -> str:
    """A filter typed as key=value (country, region, sector, round), or '-' for none."""
    cleaned = text.strip()
    if cleaned in ("-", ""):
        return ""
    key, _, value = cleaned.partition("=")
    if key.strip() not in ("country", "region", "sector", "round") or not value.strip():
        raise InputError("export.error.filter")
    return f"{key.strip()}={value.strip()[:40]}"


def _after_format(view: StepView) -> str | None:
    if view.values.get("dataset") == "answers":
        return "labels"
    return (
        "pii"
        if view.extra.get("may_pii")
        and view.values.get("dataset")
        in (
            "members",
            "record",
        )
        else None
    )


def _after_labels(view: StepView) -> str | None:
    return None


STEPS = StepList(
    [
        Step(
            "dataset",
            "choice",
            _question("export.ask.dataset"),
            choices=_choices("export.dataset", _DATASETS),
            columns=2,
            next=_after_dataset,
        ),
        Step("survey", "text", _question("export.ask.survey"), parse=_parse_survey),
        Step("filter", "text", _question("export.ask.filter"), parse=_parse_filter),
        Step(
            "format",
            "choice",
            _question("export.ask.format"),
            choices=_choices("export.format", _FORMATS),
            columns=3,
            next=_after_format,
        ),
        Step(
            "labels",
            "choice",
            _question("export.ask.labels"),
            choices=_choices("export.labels", ("labels", "values")),
            next=_after_labels,
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
    member = await services.store.members.by_telegram_id(telegram_id)
    return await services.permissions.grants(member, telegram_id)


async def _language(context: BotContext, telegram_id: int) -> str:
    member = await context.services.store.members.by_telegram_id(telegram_id)
    return member.language if member else context.services.config.programme.default_language


async def start_export(update: Update, context: BotContext) -> None:
    """/export: staff only; starts the steps."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.store.members.by_telegram_id(user.id)
    language = await _language(context, user.id)
    if not await services.permissions.allows(member, user.id, Permission.EXPORT):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    may_pii = await services.permissions.allows(member, user.id, Permission.EXPORT_PII)
    await FLOW_ENGINE.begin(message, context, user.id, language, extra={"may_pii": may_pii})


async def _finish(message: Message, context: BotContext, conversation: Conversation) -> None:
    """All steps answered: export in a worker thread and send the file as a document."""
    services = context.services
    await services.store.conversations.end(conversation.telegram_id, FLOW)
    values = conversation.state.get("values", {})
    language = str(conversation.state.get("language", "es"))
    filters: dict[str, Any] = {}
    if values.get("filter"):
        key, _, value = str(values["filter"]).partition("=")
        filters[key] = value
    dataset = str(values.get("dataset", "answers"))
    request = ExportRequest(
        dataset,
        format=str(values.get("format", "csv")),
        survey_id=values.get("survey"),
        labels=values.get("labels", "labels") == "labels",
        language=language,
        pii=values.get("pii") == "yes",
        **filters,
    )
    actor = await services.store.actors.of(conversation.telegram_id)
    grants = await _grants(context, conversation.telegram_id)
    await message.chat.send_message(services.texts.get(language, "export.working"))
    suffix = "zip" if dataset == "record" else request.format
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{dataset}.{suffix}"
        try:
            result = await ExportService(services.store, services.config, services.clock).export(
                request, actor, grants, out
            )
        except InputError as error:
            await message.chat.send_message(
                "⚠️ " + services.texts.get(language, error.key, **error.values)
            )
            return
        for part in fit_for_telegram(result.path):
            await message.chat.send_document(part.read_bytes(), filename=part.name)
    await message.chat.send_message(services.texts.get(language, "export.done", rows=result.total))


FLOW_ENGINE = StepFlow(FLOW, STEPS, _finish, cancel_key="export.cancelled")


async def show_audit(update: Update, context: BotContext) -> None:
    """/audit: the latest audit entries, for those who may see them."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.store.members.by_telegram_id(user.id)
    language = await _language(context, user.id)
    if not await services.permissions.allows(member, user.id, Permission.VIEW_AUDIT):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    entries = await services.store.audit.recent(20)
    lines = [
        services.texts.get(
            language,
            "audit.line",
            at=f"{entry.at:%Y-%m-%d %H:%M}",
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            detail=entry.detail[:200],
        )
        for entry in entries
    ]
    header = services.texts.get(language, "audit.title")
    await message.chat.send_message("\n".join([header, *lines]))


async def evidence_command(update: Update, context: BotContext) -> None:
    """/evidence C1 (list) or /evidence C1 answer|proposal|meeting ID (link)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.store.members.by_telegram_id(user.id)
    language = await _language(context, user.id)
    if not await services.permissions.allows(member, user.id, Permission.EXPORT):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    clauses = ClausesService(services.store, services.clock)
    words = (message.text or "").split()[1:]
    try:
        if not words:
            found = await clauses.clauses()
            listed = ", ".join(clause.id for clause in found) or "—"
            await message.chat.send_message(
                services.texts.get(language, "evidence.usage", clauses=listed)
            )
        elif len(words) == 1:
            linked = await clauses.evidence(words[0])
            items = ", ".join(f"{e.kind} #{e.ref}" for e in linked)
            key = "evidence.list" if linked else "evidence.none"
            await message.chat.send_message(
                services.texts.get(language, key, clause=words[0], items=items)
            )
        elif len(words) == 3 and words[2].isdigit():
            actor = await services.store.actors.of(user.id)
            await clauses.link(words[0], words[1], int(words[2]), actor)
            await message.chat.send_message(
                services.texts.get(language, "evidence.linked", clause=words[0])
            )
        else:
            raise InputError("evidence.bad")
    except InputError as error:
        await message.chat.send_message(
            "⚠️ " + services.texts.get(language, error.key, **error.values)
        )


async def phrases_command(update: Update, context: BotContext) -> None:
    """/phrases SURVEY QUESTION [country|region|sector]: key phrases of a free-text question."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member = await services.store.members.by_telegram_id(user.id)
    language = await _language(context, user.id)
    if not await services.permissions.allows(member, user.id, Permission.VIEW_RESULTS):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    words = (message.text or "").split()[1:]
    if len(words) < 2 or not words[0].isdigit():
        await message.chat.send_message(services.texts.get(language, "phrases.usage"))
        return
    by = words[2] if len(words) > 2 and words[2] in ("country", "region", "sector") else "country"
    service = ExportService(services.store, services.config, services.clock)
    k = service.min_cell

    def compute() -> dict[str, Any]:
        with service.repository.reader() as reader:
            rows = reader.texts(ExportFilters(survey_id=int(words[0])), words[1])
        items = [TextItem(str(r["value"]), str(r[by] or "?"), str(r["pseudonym"])) for r in rows]
        return dict(key_phrases(items, min_group_size=k, top=5, examples=1))

    groups = await asyncio.to_thread(compute)
    lines = [services.texts.get(language, "phrases.title", question=words[1], by=by)]
    for group, result in groups.items():
        if result.suppressed:
            lines.append(services.texts.get(language, "phrases.suppressed", group=group, k=k))
            continue
        shown = ", ".join(f"{p.phrase} ({p.count})" for p in result.phrases) or "—"
        lines.append(services.texts.get(language, "phrases.group", group=group, phrases=shown))
    if not groups:
        lines.append(services.texts.get(language, "phrases.empty"))
    await message.chat.send_message("\n".join(lines))


def register_export(application: Application) -> None:  # type: ignore[type-arg]
    """Add /export (its steps and buttons), /audit, /evidence and /phrases."""
    application.add_handler(CommandHandler("export", start_export))
    application.add_handler(CommandHandler("audit", show_audit))
    application.add_handler(CommandHandler("evidence", evidence_command))
    application.add_handler(CommandHandler("phrases", phrases_command))
    FLOW_ENGINE.register(application)
