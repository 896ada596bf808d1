"""Staff exports: validate, check the PII right, write the file off the event loop, audit.

Every export, and every refused PII request, goes to the audit log (who = the actor's pseudonym).
Datasets: answers (a row per submission), answers-long (a row per answer with its provenance),
proposals, meetings, members, evidence, and record (a ZIP of CSVs with a data dictionary).
The writing itself (bot.services.exports.job) runs in a worker thread, or for chat in a separate
process (bot.services.exports.worker) so xlsxwriter never competes with the event loop for the GIL.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Config
from bot.services.errors import InputError
from bot.services.exports import GroupPhrases, ReadmeInfo, TextItem, key_phrases
from bot.services.exports.job import (
    ExportJob,
    ExportRequest,
    ExportResult,
    JobRefused,
    Progress,
    evidence_counts,
    evidence_rows,
    write_export,
)
from bot.services.exports.worker import ExportFailed, write_in_process
from bot.services.permissions import Permission, allows
from bot.services.regions import region as find_region
from storage import Store
from storage.exports import ExportFilters

__all__ = [
    "DATASETS",
    "FORMATS",
    "ExportFailed",
    "ExportRequest",
    "ExportResult",
    "ExportService",
    "evidence_counts",
    "evidence_rows",
]
logger = logging.getLogger(__name__)
DATASETS = ("answers", "answers-long", "proposals", "meetings", "members", "evidence", "record")
FORMATS = ("csv", "xlsx", "jsonl")


class ExportService:
    """Builds export files from the store; knows nothing of Telegram."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._repository = store.exports

    async def filter_options(self) -> dict[str, list[str]]:
        """The countries, provinces/states, sectors ... an export may be narrowed to."""
        return await self._repository.filter_options()

    async def survey_titles(self) -> list[tuple[int, dict[str, str]]]:
        """Every survey's id and title in each language."""
        return await self._repository.survey_titles()

    async def key_phrases(
        self, by: str, theme: str | None = None, survey_id: int | None = None, question: str = ""
    ) -> dict[str, GroupPhrases]:
        """Recurring key phrases of a theme's proposals or a question's answers, per group `by`."""
        k = self.min_cell

        def compute() -> dict[str, GroupPhrases]:
            with self._repository.reader() as reader:
                if theme is not None:
                    rows = reader.proposal_texts(ExportFilters(), theme)
                else:
                    rows = reader.texts(ExportFilters(survey_id=survey_id), question)
            items = [TextItem(str(r["value"]), _group(r, by), str(r["pseudonym"])) for r in rows]
            return dict(key_phrases(items, min_group_size=k, top=5, examples=1))

        return await asyncio.to_thread(compute)

    @property
    def min_cell(self) -> int:
        return int(getattr(self._config.programme, "min_cell", 5))

    # ---- validation ----------------------------------------------------------------------
    async def filters(self, request: ExportRequest) -> ExportFilters:
        """Check the request and turn it into UTC-bounded filters (InputError when refused)."""
        if request.dataset not in DATASETS:
            raise InputError("export.error.dataset", dataset=request.dataset)
        if request.format not in FORMATS:
            raise InputError("export.error.format", format=request.format)
        if request.multi not in ("split", "single"):
            raise InputError("export.error.multi")
        if request.language is not None and request.language not in ("es", "en", "fr"):
            raise InputError("export.error.language", language=request.language)
        if request.survey_id is not None and not await self._repository.survey_exists(
            request.survey_id
        ):
            raise InputError("export.error.survey", survey=request.survey_id)
        country = request.country.upper() if request.country else None
        if country is not None and country not in ("CA", "US"):
            raise InputError("export.error.country", country=request.country)
        region = None
        if request.region:
            typed = request.region.upper()
            prefix, _, code = typed.rpartition("-")
            countries = [prefix] if prefix else ([country] if country else ["CA", "US"])
            if not any(find_region(c, code) for c in countries if c in ("CA", "US")):
                raise InputError("export.error.region", region=request.region)
            region = code
            if prefix and country is None:
                country = prefix
        if request.date_from and request.date_to and request.date_from > request.date_to:
            raise InputError(
                "export.error.backwards",
                start=request.date_from.isoformat(),
                end=request.date_to.isoformat(),
            )
        zone = ZoneInfo(request.zone or self._config.programme.default_time_zone)
        start = end = None
        if request.date_from:
            start = datetime.combine(request.date_from, time(0), zone).astimezone(UTC)
        if request.date_to:
            following = request.date_to + timedelta(days=1)
            end = datetime.combine(following, time(0), zone).astimezone(UTC)
        return ExportFilters(
            survey_id=request.survey_id,
            round=request.round,
            theme=request.theme,
            start=start,
            end=end,
            country=country,
            region=region,
            sector=request.sector,
        )

    # ---- the export ----------------------------------------------------------------------
    async def export(
        self,
        request: ExportRequest,
        actor: str,
        grants: list[tuple[str, str]],
        out: Path,
        progress: Progress | None = None,
        *,
        separate_process: bool = False,
    ) -> ExportResult:
        """Write the export to `out` and audit it; refusals and failures are audited too.

        In a worker thread with progress (the CLI), or in a separate process (chat: no progress).
        A failed export raises ExportFailed and leaves `out` untouched.
        """
        try:
            filters = await self.filters(request)
        except InputError as error:
            await self._store.audit.record(
                actor, "export_refused", request.dataset, {"reason": error.key}
            )
            raise
        if request.pii and not allows(grants, Permission.EXPORT_PII):
            await self._store.audit.record(
                actor,
                "export_refused",
                request.dataset,
                {"reason": "pii_without_right", "format": request.format},
            )
            raise InputError("export.error.pii")
        if not allows(grants, Permission.EXPORT):
            await self._store.audit.record(
                actor, "export_refused", request.dataset, {"reason": "no_export_right"}
            )
            raise InputError("export.error.right")
        zone = request.zone or self._config.programme.default_time_zone
        job = ExportJob(
            request=request,
            filters=filters,
            database=self._repository.target,
            out=Path(out),
            language=request.language or self._config.programme.default_language,
            min_cell=self.min_cell,
            readme=self._readme(request),
            zone=zone,
            day=self._clock.now().astimezone(ZoneInfo(zone)).date(),
        )
        try:
            if separate_process:
                result, rss_kb = await write_in_process(job)
                megabytes = rss_kb // 1024
                logger.info("export: %d rows, process peak RSS %d MB", result.total, megabytes)
            else:
                result = await asyncio.to_thread(write_export, job, progress)
        except JobRefused as refused:
            await self._store.audit.record(
                actor, "export_refused", request.dataset, {"reason": refused.key}
            )
            raise InputError(refused.key) from None
        except ExportFailed as failure:
            logger.error("export of %s failed: %s", request.dataset, failure.detail)
            await self._store.audit.record(
                actor,
                "export_failed",
                request.dataset,
                {"format": request.format, "filters": _shown_filters(request)},
            )
            raise
        detail: dict[str, Any] = {
            "dataset": request.dataset,
            "format": "zip" if request.dataset == "record" else request.format,
            "filters": _shown_filters(request),
            "rows": result.total,
            "pii": result.pii,
        }
        await self._store.audit.record(actor, "export", request.dataset, detail)
        return result

    def _readme(self, request: ExportRequest) -> ReadmeInfo:
        now = self._clock.now()
        zone = request.zone or self._config.programme.default_time_zone
        local = now.astimezone(ZoneInfo(zone))
        return ReadmeInfo(
            title=f"{self._config.programme.name}: {request.dataset}",
            generated_utc=now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            generated_local=f"{local:%Y-%m-%d %H:%M} {zone}",
            filters=[(k, v) for k, v in _shown_filters(request).items()],
            notes=[
                "Members appear by pseudonym; erased members never show personal data.",
                f"Summary counts under {self.min_cell} are suppressed.",
            ],
        )


def _shown_filters(request: ExportRequest) -> dict[str, str]:
    """The filters and options of a request, as text, for the audit log and the README."""
    shown = {
        "survey": request.survey_id,
        "round": request.round,
        "theme": request.theme,
        "from": request.date_from.isoformat() if request.date_from else None,
        "to": request.date_to.isoformat() if request.date_to else None,
        "country": request.country,
        "region": request.region,
        "sector": request.sector,
    }
    if request.dataset == "answers":
        shown["labels"] = "labels" if request.labels else "values"
        shown["multi"] = request.multi
        shown["language"] = request.language
    return {key: str(value) for key, value in shown.items() if value is not None}


def _group(row: dict[str, Any], by: str) -> str:
    """The group a text belongs to: its country, province/state (CA-QC) or sector."""
    if by == "region" and row.get("country") and row.get("region"):
        return f"{row['country']}-{row['region']}"
    return str(row.get(by) or "?")
