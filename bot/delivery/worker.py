"""The one delivery worker: drains the outbox at Telegram's pace, retries, and reports progress.

Crash safety: rows are claimed (state 'sending') in small batches before they are sent and their
results are written right after; at start-up claimed-but-unrecorded rows go back to 'pending'. So a
kill -9 can duplicate at most the rows of the batch in flight (``claim_size``), never lose one.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.callbacks import button_data
from bot.config import DeliveryConfig
from bot.i18n import Texts
from bot.services.broadcasts import message_text
from storage import Store
from storage.db import to_db_time, utc_now
from storage.models import Broadcast, OutboxRow

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[Broadcast, bool], Awaitable[None]]


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
        store: Store,
        texts: Texts,
        config: DeliveryConfig,
        programme_name: str,
        unreachable: set[int],
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._unreachable = unreachable
        self._bot = bot
        self._store = store
        self._texts = texts
        self._config = config
        self._programme = programme_name
        self._on_progress = on_progress
        rate = config.rate_per_second
        self.pacer = Pacer(rate, config.per_chat_interval_seconds)
        self.claim_size = max(4, min(config.max_in_flight * 2, int(rate / 4)))
        self.tally = Tally()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._broadcasts: dict[int, Broadcast] = {}
        self._last_progress: dict[int, float] = {}
        self._in_flight = asyncio.Semaphore(config.max_in_flight)

    async def start(self) -> None:
        reset = await self._store.broadcasts.reset_in_flight()
        if reset:
            logger.warning("%d sends were in flight at the last stop; they will be retried", reset)
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
                rows = await self._store.broadcasts.claim_due(utc_now(), self.claim_size)
                if rows:
                    await self._deliver(rows)
                    continue
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Delivery loop failed; retrying in a second")
                await asyncio.sleep(1)

    async def _idle(self) -> None:
        """Report finished broadcasts, then sleep until the next row is due (at most 1 s)."""
        for broadcast in await self._store.broadcasts.unfinished():
            if await self._store.broadcasts.finish_if_complete(broadcast.id):
                await self._progress(broadcast.id, final=True)
        next_due = await self._store.broadcasts.next_due()
        delay = 1.0
        if next_due is not None:
            delay = min(delay, max(0.0, (next_due - utc_now()).total_seconds()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _deliver(self, rows: list[OutboxRow]) -> None:
        results: list[tuple[Any, ...]] = []
        sends = []
        for row in rows:
            ready_in = self.pacer.chat_ready_in(row.chat_id)
            if ready_in > 0:
                # The same chat got a message less than the interval ago: try it a bit later.
                due = utc_now() + timedelta(seconds=ready_in)
                results.append(_outcome(row, "pending", row.attempts, due, row.last_error))
                continue
            await self.pacer.slot(row.chat_id)
            await self._in_flight.acquire()
            sends.append(asyncio.ensure_future(self._send(row)))
        for outcome in await asyncio.gather(*sends):
            results.append(outcome)
        await self._store.broadcasts.record(results)
        for broadcast_id in {row.broadcast_id for row in rows}:
            await self._progress(broadcast_id, final=False)

    async def _send(self, row: OutboxRow) -> tuple[Any, ...]:
        """Send one notice; return the row's new state as a `record` tuple."""
        try:
            broadcast = await self._broadcast(row.broadcast_id)
            text, markup = self._render(broadcast, row.language)
            message = await self._bot.send_message(
                row.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                allow_paid_broadcast=broadcast.paid or None,
            )
        except RetryAfter as flood:
            wait = _seconds(flood.retry_after)
            self.pacer.flooded(wait)
            self.tally.floods += 1
            # A flood is nobody's fault: the attempt is not counted.
            return _outcome(
                row, "pending", row.attempts, utc_now() + timedelta(seconds=wait), "429"
            )
        except Forbidden as error:
            self.tally.blocked += 1
            await self._store.members.set_unreachable(row.chat_id, True)
            self._unreachable.add(row.chat_id)
            return _outcome(row, "blocked", row.attempts + 1, utc_now(), str(error))
        except BadRequest as error:
            self.tally.failed += 1
            logger.warning(
                "Notice %s to member %s refused: %s", row.broadcast_id, row.member_id, error
            )
            return _outcome(row, "failed", row.attempts + 1, utc_now(), str(error))
        except (TimedOut, NetworkError) as error:
            return self._retry_later(row, error)
        except Exception as error:
            logger.exception("Unexpected failure sending notice %s", row.broadcast_id)
            return self._retry_later(row, error)
        finally:
            self._in_flight.release()
        self.pacer.succeeded()
        self.tally.sent += 1
        return _outcome(row, "sent", row.attempts + 1, utc_now(), None, message.message_id)

    def _retry_later(self, row: OutboxRow, error: Exception) -> tuple[Any, ...]:
        attempts = row.attempts + 1
        if attempts >= self._config.max_attempts:
            self.tally.failed += 1
            return _outcome(row, "failed", attempts, utc_now(), str(error))
        self.tally.retried += 1
        backoff = min(300.0, self._config.retry_base_seconds * 2 ** (attempts - 1))
        return _outcome(
            row, "pending", attempts, utc_now() + timedelta(seconds=backoff), str(error)
        )

    async def _broadcast(self, broadcast_id: int) -> Broadcast:
        cached = self._broadcasts.get(broadcast_id)
        if cached is None:
            cached = await self._store.broadcasts.get(broadcast_id)
            assert cached is not None
            self._broadcasts[broadcast_id] = cached
        return cached

    def _render(
        self, broadcast: Broadcast, language: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        body = html.escape(message_text(broadcast, language), quote=False)
        header = self._texts.get(language, "notice.header", programme=self._programme)
        markup = None
        if broadcast.ask_ack:
            label = self._texts.plain(language, "button.ack")
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            label, callback_data=button_data("ack", "yes", broadcast.id)
                        )
                    ]
                ]
            )
        return f"{header}\n\n{body}", markup

    async def _progress(self, broadcast_id: int, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self._last_progress.get(broadcast_id, 0.0) < 2.0:
            return
        self._last_progress[broadcast_id] = now
        broadcast = await self._store.broadcasts.get(broadcast_id)
        if broadcast is not None and self._on_progress is not None:
            try:
                await self._on_progress(broadcast, final)
            except Exception:
                logger.exception("Could not report progress of broadcast %s", broadcast_id)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _outcome(
    row: OutboxRow,
    state: str,
    attempts: int,
    due: datetime,
    error: str | None,
    message_id: int | None = None,
) -> tuple[Any, ...]:
    """A row's new state in the order BroadcastsRepository.record expects."""
    sent_at = to_db_time(due) if state == "sent" else None
    return (
        state,
        attempts,
        to_db_time(due),
        error[:200] if error else None,
        sent_at,
        message_id,
        row.id,
    )
