"""The one delivery worker: drains the outbox at Telegram's pace, retries, and reports progress.

Crash safety: rows are claimed (state 'sending') in small batches before they are sent and their
results are written right after; at start-up claimed-but-unrecorded rows go back to 'pending'. So a
kill -9 can duplicate at most the rows of the batch in flight (``claim_size``), never lose one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.render import NoticeRenderer
from bot.services.broadcasts import BroadcastService
from bot.services.notices import NoticesService
from storage.models import Broadcast, NoticeState, OutboxRow, SendResult

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[Broadcast, bool], Awaitable[None]]
# How often a worker looks for rows left in flight by a worker that died beside it.
TAKEBACK_SECONDS = 30.0


class Pacer:
    """Spaces sends at the allowed rate; a 429 pauses everyone and slows the rate down."""

    def __init__(self, rate: float, per_chat_interval: float) -> None:
        self.ceiling = rate
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self._next_slot = time.monotonic()
        self._chat_ready: dict[int, float] = {}
        self._successes = 0

    def chat_ready_in(self, chat_id: int) -> float:
        return max(0.0, self._chat_ready.get(chat_id, 0.0) - time.monotonic())

    async def slot(self, chat_id: int) -> None:
        """Wait for the next global slot, then book this chat for its interval."""
        now = time.monotonic()
        wait = self._next_slot - now
        self._next_slot = max(now, self._next_slot) + 1.0 / self.rate
        if wait > 0:
            await asyncio.sleep(wait)
        self._chat_ready[chat_id] = time.monotonic() + self.per_chat_interval
        if len(self._chat_ready) > 50_000:
            horizon = time.monotonic()
            self._chat_ready = {k: v for k, v in self._chat_ready.items() if v > horizon}

    def consume(self) -> None:
        """Another send of this bot (a reply) used a slot: notices yield to conversations."""
        now = time.monotonic()
        self._next_slot = max(now, self._next_slot) + 1.0 / self.rate

    def flooded(self, retry_after: float) -> None:
        self._next_slot = max(self._next_slot, time.monotonic() + retry_after)
        self.rate = max(1.0, self.rate * 0.8)
        self._successes = 0

    def succeeded(self) -> None:
        self._successes += 1
        if self.rate < self.ceiling and self._successes >= 50:
            self.rate = min(self.ceiling, self.rate * 1.1)
            self._successes = 0


@dataclass
class Tally:
    """What happened in this process (the database holds the durable truth)."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    floods: int = 0


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        notices: NoticesService,
        broadcasts: BroadcastService,
        renderers: Mapping[str, NoticeRenderer],
        config: DeliveryConfig,
        clock: Clock,
        unreachable: set[int],
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._unreachable = unreachable
        self._bot = bot
        self._notices = notices
        self._broadcasts = broadcasts
        self._renderers = renderers
        self._config = config
        self._clock = clock
        self._on_progress = on_progress
        rate = config.rate_per_second
        self.pacer = Pacer(rate, config.per_chat_interval_seconds)
        self.claim_size = max(4, min(config.max_in_flight * 2, int(rate / 4)))
        self.tally = Tally()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._last_progress: dict[int, float] = {}
        self._in_flight = asyncio.Semaphore(config.max_in_flight)
        self._next_takeback = 0.0

    async def start(self) -> None:
        await self._take_back_claims()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="delivery")

    def wake(self) -> None:
        """Look at the outbox now (a broadcast was just queued)."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the batch in hand, record it, and stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        tally = self.tally
        logger.info(
            "Delivery stopped: %d sent, %d blocked, %d failed, %d retried, %d floods this run",
            tally.sent,
            tally.blocked,
            tally.failed,
            tally.retried,
            tally.floods,
        )

    async def _run(self) -> None:
        while not self._stopping:
            try:
                rows = await self._notices.claim_due(self._clock.now(), self.claim_size)
                if rows:
                    await self._deliver(rows)
                    continue
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Delivery loop failed; retrying in a second")
                await asyncio.sleep(1)

    async def _take_back_claims(self) -> None:
        """Rows a dead worker claimed and never recorded go back to pending (at start, and with
        other workers every TAKEBACK_SECONDS, for those that died beside this one)."""
        self._next_takeback = time.monotonic() + TAKEBACK_SECONDS
        reset = await self._notices.reset_in_flight(self._clock.now())
        if reset:
            logger.warning("%d sends were in flight when a worker stopped; retrying them", reset)

    async def _idle(self) -> None:
        """Report finished broadcasts, then sleep until the next row is due (at most 1 s)."""
        # Alone on its database (SQLite) a worker took everything back at start: nobody else
        # can die beside it.
        if self._notices.shared and time.monotonic() >= self._next_takeback:
            await self._take_back_claims()
        for broadcast_id in await self._broadcasts.finish_completed():
            await self._progress(broadcast_id, final=True)
        next_due = await self._notices.next_due()
        delay = 1.0
        if next_due is not None:
            delay = min(delay, max(0.0, (next_due - self._clock.now()).total_seconds()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _deliver(self, rows: list[OutboxRow]) -> None:
        results: list[SendResult] = []
        sends = []
        # Other bot processes may send with the same token: wait for this batch's window of the
        # shared budget (nothing to wait for with one process), then pace within it as before.
        wait = await self._notices.reserve_sending(len(rows) / self.pacer.rate)
        if wait > 0:
            await asyncio.sleep(wait)
        for row in rows:
            ready_in = self.pacer.chat_ready_in(row.chat_id)
            if ready_in > 0:
                # The same chat got a message less than the interval ago: try it a bit later.
                due = self._clock.now() + timedelta(seconds=ready_in)
                results.append(self._result(row, "pending", row.attempts, row.last_error, due))
                continue
            await self.pacer.slot(row.chat_id)
            await self._in_flight.acquire()
            sends.append(asyncio.ensure_future(self._send(row)))
        for outcome in await asyncio.gather(*sends):
            results.append(outcome)
        await self._notices.record(results)
        for broadcast_id in {row.broadcast_id for row in rows if row.broadcast_id is not None}:
            await self._progress(broadcast_id, final=False)

    async def _send(self, row: OutboxRow) -> SendResult:
        """Render and send one notice; return what became of it."""
        try:
            renderer = self._renderers.get(row.kind)
            rendered = await renderer.render(row) if renderer is not None else None
            if rendered is None:
                logger.info("Notice %s (%s) is obsolete; skipped", row.id, row.kind)
                return self._result(row, "skipped", row.attempts, "obsolete")
            message = await self._bot.send_message(
                row.chat_id,
                rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
                allow_paid_broadcast=rendered.paid or None,
            )
            if rendered.document is not None:
                filename, content = rendered.document
                await self._bot.send_document(row.chat_id, content, filename=filename)
            if rendered.photo is not None:
                await self._bot.send_photo(row.chat_id, rendered.photo)
        except RetryAfter as flood:
            wait = _seconds(flood.retry_after)
            self.pacer.flooded(wait)
            self.tally.floods += 1
            # A flood is nobody's fault: the attempt is not counted.
            due = self._clock.now() + timedelta(seconds=wait)
            return self._result(row, "pending", row.attempts, "429", due)
        except Forbidden as error:
            self.tally.blocked += 1
            await self._notices.mark_unreachable(row.chat_id)
            self._unreachable.add(row.chat_id)
            return self._result(row, "blocked", row.attempts + 1, str(error))
        except BadRequest as error:
            self.tally.failed += 1
            logger.warning("Notice %s to member %s refused: %s", row.id, row.member_id, error)
            return self._result(row, "failed", row.attempts + 1, str(error))
        except (TimedOut, NetworkError) as error:
            return self._retry_later(row, error)
        except Exception as error:
            logger.exception("Unexpected failure sending notice %s", row.id)
            return self._retry_later(row, error)
        finally:
            self._in_flight.release()
        self.pacer.succeeded()
        self.tally.sent += 1
        return self._result(row, "sent", row.attempts + 1, None, message_id=message.message_id)

    def _retry_later(self, row: OutboxRow, error: Exception) -> SendResult:
        attempts = row.attempts + 1
        if attempts >= self._config.max_attempts:
            self.tally.failed += 1
            return self._result(row, "failed", attempts, str(error))
        self.tally.retried += 1
        backoff = min(300.0, self._config.retry_base_seconds * 2 ** (attempts - 1))
        due = self._clock.now() + timedelta(seconds=backoff)
        return self._result(row, "pending", attempts, str(error), due)

    def _result(
        self,
        row: OutboxRow,
        state: NoticeState,
        attempts: int,
        error: str | None,
        due: datetime | None = None,
        message_id: int | None = None,
    ) -> SendResult:
        return SendResult(
            row_id=row.id,
            state=state,
            attempts=attempts,
            next_attempt_at=due or self._clock.now(),
            error=error,
            message_id=message_id,
        )

    async def _progress(self, broadcast_id: int, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self._last_progress.get(broadcast_id, 0.0) < 2.0:
            return
        self._last_progress[broadcast_id] = now
        broadcast = await self._broadcasts.get(broadcast_id)
        if broadcast is not None and self._on_progress is not None:
            try:
                await self._on_progress(broadcast, final)
            except Exception:
                logger.exception("Could not report progress of broadcast %s", broadcast_id)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
