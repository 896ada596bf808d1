"""python-telegram-bot's HTTP transport on aiohttp.

PTB's default transport (httpx) costs about twice the CPU per Bot API call here (measured with
bench/registration.py); every bot method, retry and error mapping of PTB stays as it is.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from storage.db import current_update

logger = logging.getLogger(__name__)
MAX_FLOOD_WAIT = 60.0  # seconds one retry may wait; a longer retry_after is Telegram's to enforce


class AiohttpRequest(BaseRequest):
    """A pooled aiohttp session behind PTB's BaseRequest interface."""

    def __init__(
        self,
        pool_size: int = 16,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
        flood_retries: int = 0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        # How many times a call refused with 429 is retried after waiting retry_after. Replies
        # are retried (late beats lost); bulk delivery keeps 0 and paces itself instead.
        self.flood_retries = flood_retries
        self.floods_waited = 0
        # Told about every send* call, so bulk delivery can leave room for it.
        self.on_send: Callable[[], None] | None = None
        # Told (with the update id) about every reply that went out while handling an update.
        self.on_replied: Callable[[int], Awaitable[None]] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request (waiting out up to flood_retries 429s); map aiohttp's failures."""
        is_send = url.rsplit("/", 1)[-1].startswith(("send", "copy", "forward"))
        attempt = 0
        while True:
            if self.on_send is not None and is_send:
                self.on_send()
            status, body = await self._request_once(
                url, method, request_data, read_timeout, write_timeout, connect_timeout
            )
            wait = _retry_after(status, body)
            if wait is None or attempt >= self.flood_retries:
                if is_send and status == 200:
                    await self._replied()
                return status, body
            attempt += 1
            self.floods_waited += 1
            logger.info("Flood control: waiting %.0f s before retrying", wait)
            await asyncio.sleep(wait)

    async def _replied(self) -> None:
        scope = current_update.get()
        if scope is not None and self.on_replied is not None:
            await self.on_replied(scope.update_id)

    async def _request_once(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
            if isinstance(write_timeout, DefaultValue):
                read = max(read or 0, self._media_write_timeout or 0) or None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as answer:
                return answer.status, await answer.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport, keeping each update as Telegram sent it.

    The inbox stores an update's JSON before it is confirmed; keeping the decoded dict spares
    turning PTB's parsed objects back into JSON (`to_dict` was 7 % of the bot's CPU under load).
    """

    def __init__(self, pool_size: int = 1, read_timeout: float | None = 5.0) -> None:
        super().__init__(pool_size=pool_size, read_timeout=read_timeout)
        self.received: dict[int, JSONDict] = {}

    # PTB declares it static but calls it on the instance (self.parse_json_payload), and its
    # documentation invites overriding it: an instance method is what keeps the batch.
    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        decoded = super().parse_json_payload(payload)
        result = decoded.get("result") if isinstance(decoded, dict) else None
        self.received = {}
        if isinstance(result, list):
            for item in result:
                if isinstance(item, dict) and isinstance(item.get("update_id"), int):
                    self.received[item["update_id"]] = item
        return decoded

    def take(self, update_id: int) -> JSONDict | None:
        """The update as received (None: not from the latest batch)."""
        return self.received.pop(update_id, None)


def _retry_after(status: int, body: bytes) -> float | None:
    """Seconds Telegram asks us to wait (a 429 with parameters.retry_after), else None."""
    if status != 429:
        return None
    try:
        answer = json.loads(body)
        seconds = float(answer["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None
    return min(max(seconds, 0.0), MAX_FLOOD_WAIT)
