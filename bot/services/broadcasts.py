"""Notices to audience segments: composing, quiet hours, scheduling, enqueueing. No Telegram."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Config
from bot.services import regions, typed_dates
from bot.services.errors import InputError, clean_text
from storage import Store
from storage.models import Association, AudienceFilter, Broadcast, DeliveryCounts, Recipient

TEXT_MAX = 3500  # leaves room for the header and escaping within Telegram's 4,096
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(text: str) -> tuple[str, str]:
    """'09:00-21:00' -> ('09:00', '21:00'): deliver only between these local times."""
    match = _QUIET.match(text or "")
    if not match:
        raise InputError("error.quiet_hours")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if not (0 <= start_h < 24 and 0 <= end_h < 24 and start_m < 60 and end_m < 60):
        raise InputError("error.quiet_hours")
    if (start_h, start_m) == (end_h, end_m):
        raise InputError("error.quiet_hours")
    return f"{start_h:02d}:{start_m:02d}", f"{end_h:02d}:{end_m:02d}"


def parse_send_time(text: str, zone: str, now: datetime, language: str = "es") -> datetime:
    """A sending time as people type it ('mañana 18h', '2026-12-05 18:00') in the organiser's
    zone -> an aware UTC instant in the future (the meetings' parser, the same words)."""
    try:
        moment = typed_dates.parse_when(text, zone, now, language, refusal="error.send_time")
    except InputError as error:
        if error.key == "meeting.error.zone":
            raise
        # A DST gap or fold is as unreadable as a typo for a sending time.
        raise InputError("error.send_time") from None
    if moment <= now:
        raise InputError("error.send_time_past")
    return moment


def first_allowed(due: datetime, zone: str | None, start: str | None, end: str | None) -> datetime:
    """The first instant at or after `due` that falls inside the member's delivery window."""
    if not start or not end:
        return due
    tz = ZoneInfo(zone or "UTC")
    local = due.astimezone(tz)
    opens = time.fromisoformat(start)
    closes = time.fromisoformat(end)
    now_t = local.time()
    inside = (opens <= now_t < closes) if opens < closes else (now_t >= opens or now_t < closes)
    if inside:
        return due
    candidate = datetime.combine(local.date(), opens, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), opens, tzinfo=tz)
    return candidate.astimezone(ZoneInfo("UTC"))


def clean_notice(text: str | None) -> str:
    """A notice keeps its line breaks; each line is validated like any other free text."""
    if text is None or not text.strip():
        raise InputError("error.empty")
    lines = [
        clean_text(line, TEXT_MAX, need_letter=False) if line.strip() else ""
        for line in text.strip().splitlines()
    ]
    cleaned = "\n".join(lines)
    if len(cleaned) > TEXT_MAX:
        raise InputError("error.too_long", maximum=TEXT_MAX)
    return cleaned


def message_text(broadcast: Broadcast, language: str) -> str:
    """The version for this language, else the fallback language's, else any."""
    texts = broadcast.texts
    return (
        texts.get(language) or texts.get(broadcast.fallback_language) or next(iter(texts.values()))
    )


class BroadcastService:
    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    def now(self) -> datetime:
        """The service's current instant (the injected clock)."""
        return self._clock.now()

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self._store.broadcasts.get(broadcast_id)

    async def finish_completed(self) -> list[int]:
        """Mark every queued broadcast with nothing left to send as done; their ids."""
        finished = []
        for broadcast in await self._store.broadcasts.unfinished():
            if await self._store.broadcasts.finish_if_complete(broadcast.id):
                finished.append(broadcast.id)
        return finished

    async def counts(self, broadcast_id: int) -> DeliveryCounts:
        return await self._store.broadcasts.counts(broadcast_id)

    async def recent(self, limit: int) -> list[Broadcast]:
        """The latest notices queued for sending, newest first (a draft dropped before it was
        sent is no notice: never listed)."""
        return await self._store.broadcasts.recent(limit)

    async def stop(self, broadcast_id: int) -> bool:
        """Stop a notice being delivered: rows not yet claimed stay unsent."""
        return await self._store.broadcasts.stop(broadcast_id)

    async def start_draft(
        self, created_by: str, language: str, zone: str, chat_id: int | None
    ) -> Broadcast:
        existing = await self._store.broadcasts.draft_of(created_by)
        if existing is not None:
            await self._store.broadcasts.update(existing.id, {"status": "cancelled"})
        return await self._store.broadcasts.create_draft(created_by, language, zone, chat_id)

    async def draft(self, created_by: str) -> Broadcast | None:
        return await self._store.broadcasts.draft_of(created_by)

    async def set_text(self, broadcast: Broadcast, language: str, text: str | None) -> Broadcast:
        texts = {**broadcast.texts, language: clean_notice(text)}
        return await self._store.broadcasts.update(broadcast.id, {"texts": texts})

    async def set_step(self, broadcast: Broadcast, step: str | None) -> Broadcast:
        return await self._store.broadcasts.update(broadcast.id, {"step": step})

    async def update(self, broadcast: Broadcast, **fields: object) -> Broadcast:
        return await self._store.broadcasts.update(broadcast.id, fields)

    async def toggle(self, broadcast: Broadcast, field: str, value: str | int) -> Broadcast:
        current = list(getattr(broadcast.audience, field))
        if value in current:
            current.remove(value)
        else:
            current.append(value)
        audience = broadcast.audience.model_copy(update={field: tuple(current)})
        return await self._store.broadcasts.update(broadcast.id, {"audience": audience})

    async def set_regions(self, broadcast: Broadcast, text: str | None) -> Broadcast:
        """Typed province/state codes or names, comma-separated, in Canada or the US."""
        found: list[str] = []
        for part in (text or "").split(","):
            if not part.strip():
                continue
            code = regions.code_of(part)
            if code is None:
                # Typed with no buttons to choose from: the refusal names what was not understood.
                raise InputError("bc.region_unknown", typed=part.strip()[:40])
            found.append(code)
        if not found:
            raise InputError("error.empty")
        audience = broadcast.audience.model_copy(update={"regions": tuple(dict.fromkeys(found))})
        return await self._store.broadcasts.update(broadcast.id, {"audience": audience})

    async def set_cities(self, broadcast: Broadcast, text: str | None) -> Broadcast:
        cities = [clean_text(part, 80) for part in (text or "").split(",") if part.strip()]
        if not cities:
            raise InputError("error.empty")
        audience = broadcast.audience.model_copy(update={"cities": tuple(cities)})
        return await self._store.broadcasts.update(broadcast.id, {"audience": audience})

    async def find_associations(self, text: str | None) -> list[Association]:
        """Approved associations in either country whose name contains the text."""
        query = clean_text(text, 80, need_letter=False)
        found: list[Association] = []
        for country in regions.COUNTRIES:
            found.extend(await self._store.associations.search(country, None, query, 6))
        return found

    async def association_exists(self, association_id: int) -> bool:
        association = await self._store.associations.by_id(association_id)
        return association is not None and association.status == "approved"

    async def clear_audience(self, broadcast: Broadcast) -> Broadcast:
        return await self._store.broadcasts.update(broadcast.id, {"audience": AudienceFilter()})

    async def recipient_count(self, broadcast: Broadcast) -> int:
        return await self._store.broadcasts.audience_count(broadcast.audience)

    async def queue(self, broadcast: Broadcast, payload: Mapping[str, object] | None = None) -> int:
        """Resolve the audience now and write the outbox; return how many will receive it.

        `payload` rides on every row (the renderer reads it; "what we heard" puts its cards)."""
        if not broadcast.texts:
            raise InputError("error.empty")
        start = broadcast.send_at or self._clock.now()

        async def rows() -> AsyncIterator[list[tuple[int, int, str, datetime]]]:
            async for chunk in self._store.broadcasts.audience(broadcast.audience):
                yield [self._row(broadcast, recipient, start) for recipient in chunk]

        return await self._store.broadcasts.enqueue(broadcast.id, rows(), payload)

    def _row(
        self, broadcast: Broadcast, recipient: Recipient, start: datetime
    ) -> tuple[int, int, str, datetime]:
        due = first_allowed(start, recipient.time_zone, broadcast.quiet_start, broadcast.quiet_end)
        return recipient.member_id, recipient.telegram_id, recipient.language, due

    async def acknowledge(self, broadcast_id: int, member_id: int) -> bool | None:
        return await self._store.broadcasts.acknowledge(broadcast_id, member_id)

    async def create_queued(
        self,
        created_by: str,
        texts: dict[str, str],
        fallback_language: str,
        audience: AudienceFilter,
        ask_ack: bool = False,
        quiet: tuple[str, str] | None = None,
        send_at: datetime | None = None,
        zone: str | None = None,
        payload: Mapping[str, object] | None = None,
    ) -> tuple[Broadcast, int]:
        """One call for the CLI: draft, fill, queue."""
        broadcast = await self._store.broadcasts.create_draft(
            created_by, fallback_language, zone or self._config.programme.default_time_zone, None
        )
        for language, text in texts.items():
            broadcast = await self.set_text(broadcast, language, text)
        broadcast = await self._store.broadcasts.update(
            broadcast.id,
            {
                "audience": audience,
                "ask_ack": ask_ack,
                "quiet_start": quiet[0] if quiet else None,
                "quiet_end": quiet[1] if quiet else None,
                "send_at": send_at,
                "paid": self._config.delivery.paid_broadcasts,
            },
        )
        count = await self.queue(broadcast, payload)
        return broadcast, count
