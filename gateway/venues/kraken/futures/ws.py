"""Kraken Futures WebSocket v1 clients (wire 9).

`KrakenFuturesWsConnection` is one socket: every decoded message goes, in arrival order, to an
inbox the owner drains (`parse_float=Decimal`, so prices and quantities stay exact). Liveness:
the websockets library's protocol pings (Kraken wants one at least every 60 s) and the
`heartbeat` feed.

`KrakenFuturesPrivateWs` keeps the authenticated connection of one key alive: it asks for a
challenge, signs it (`signed_challenge`), subscribes `open_orders`, `fills`, `open_positions`,
`balances` and `heartbeat`, hands every message to the owner's handler in order, and after a
drop reconnects after a jittered exponential delay (capped; see `_run`). A connection silent
for `stale_after_s` (no heartbeat, no data) counts as dropped: it is closed and replaced. Every
(re)connect starts with fresh snapshots: the owner's cue to reconcile. With `before_send` (a
fleet's lease fence) every frame of that connection, the challenge request and the subscriptions
carrying the signed challenge, first passes it, right before it is written with no await in
between (websockets writes an unfragmented message before its first await); once it refuses,
nothing is sent and the connection is not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from gateway.core.backoff import ReconnectPacer
from gateway.venues.kraken.common.errors import log_feed_handler_failure
from gateway.venues.kraken.futures.auth import KrakenFuturesSigner

log = logging.getLogger(__name__)
# The websockets library logs frames at DEBUG; private frames carry the signed challenge.
_protocol_log = logging.getLogger(f"{__name__}.protocol")
_protocol_log.setLevel(logging.INFO)

JsonMessage = dict[str, Any]
PRIVATE_FEEDS = ("open_orders", "fills", "open_positions", "balances")
DEFAULT_TIMEOUT_S = 10.0
# Kraken's heartbeat feed ticks every few seconds; this much silence means a dead connection.
DEFAULT_STALE_AFTER_S = 30.0
_CLOSED = object()


class KrakenFuturesWsError(ConnectionError):
    """The WS session could not be established (challenge refused, subscribe failed)."""


def decode(text: str | bytes) -> JsonMessage:
    msg = json.loads(text, parse_float=Decimal)
    if not isinstance(msg, dict):
        raise ValueError("not a JSON object")
    return msg


class KrakenFuturesWsRefused(Exception):
    """`before_send` refused a frame: nothing was sent."""


class KrakenFuturesWsConnection:
    """One WS v1 socket with an ordered inbox."""

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = DEFAULT_TIMEOUT_S,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self._before_send = before_send
        self._open_timeout = open_timeout_s
        self._ws: ClientConnection | None = None
        self.inbox: asyncio.Queue[JsonMessage | object] = asyncio.Queue()
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        return self._ws is not None and not self.closed.is_set()

    async def open(self) -> None:
        self._ws = await connect(
            self.url,
            open_timeout=self._open_timeout,
            max_size=1 << 24,
            compression=None,
            logger=_protocol_log,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def send(self, message: Mapping[str, Any]) -> None:
        if self._ws is None or self.closed.is_set():
            raise KrakenFuturesWsError("WebSocket not open")
        frame = json.dumps(message, separators=(",", ":"))
        if self._before_send is not None:
            try:
                self._before_send()
            except Exception as exc:
                raise KrakenFuturesWsRefused(str(exc)) from exc
        await self._ws.send(frame)

    async def next(self) -> JsonMessage | None:
        """The next message, or None once the connection has ended and the inbox is empty."""
        item = await self.inbox.get()
        if item is _CLOSED:
            self.inbox.put_nowait(_CLOSED)  # stay closed for later readers
            return None
        assert isinstance(item, dict)
        return item

    async def wait_for(
        self, match: Callable[[JsonMessage], bool], timeout_s: float
    ) -> tuple[JsonMessage, list[JsonMessage]]:
        """The first message `match` accepts, and the messages before it (kept for the owner)."""
        before: list[JsonMessage] = []
        async with asyncio.timeout(timeout_s):
            while True:
                msg = await self.next()
                if msg is None:
                    raise KrakenFuturesWsError("WebSocket closed during the handshake")
                if match(msg):
                    return msg, before
                before.append(msg)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                try:
                    self.inbox.put_nowait(decode(raw))
                except ValueError:
                    log.warning("undecodable WebSocket message from Kraken Futures ignored")
        except WebSocketException:
            pass  # a drop; handled like a close
        finally:
            self.closed.set()
            self.inbox.put_nowait(_CLOSED)


MessageHandler = Callable[[JsonMessage], Awaitable[None]]


class KrakenFuturesPrivateWs:
    """The authenticated WS v1 connection of one key, kept alive across drops."""

    def __init__(
        self,
        url: str,
        signer: KrakenFuturesSigner,
        handler: MessageHandler,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        backoff_s: float = 0.1,
        backoff_max_s: float = 5.0,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        stable_s: float = 30.0,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        self._before_send = before_send
        self._signer = signer
        self._handler = handler
        self._stale_after = stale_after_s
        self.stale_drops = 0  # connections replaced for silence (tests, metrics)
        self._timeout = timeout_s
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self._stable_s = stable_s
        self._conn: KrakenFuturesWsConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connects = 0  # sessions established (tests, metrics)

    def __repr__(self) -> str:
        return f"KrakenFuturesPrivateWs(url={self._url!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

    @property
    def running(self) -> bool:
        """The connect loop runs (it ends on `stop`, or once `before_send` refused a frame)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._conn is not None:
            await self._conn.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reconnect(self) -> None:
        """Drop the current connection; the loop reconnects and re-snapshots."""
        if self._conn is not None:
            await self._conn.close()

    async def _run(self) -> None:
        """Like the Spot feed: failed connects and connections that did not last `stable_s`
        are followed by the next jittered exponential delay (capped), so an outage or a venue
        restart sees no reconnect storm; a connection that lasted starts the delays over."""
        pacer = ReconnectPacer(self._backoff, self._backoff_max, self._stable_s)
        while not self._stopping:
            try:
                conn, early = await self._connect_once()
            except KrakenFuturesWsRefused as exc:
                log.warning("Kraken Futures private WebSocket not sent (%s); it stays closed", exc)
                return
            except (OSError, WebSocketException, TimeoutError) as exc:
                wait = pacer.failed()
                log.warning(
                    "Kraken Futures private WebSocket connect failed (%s); retrying in %.2fs",
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            self.connects += 1
            pacer.opened()
            try:
                for first in early:
                    await self._handle(conn, first)
                while (msg := await self._next(conn)) is not None:
                    await self._handle(conn, msg)
            finally:
                self._conn = None
            if self._stopping:
                return
            wait = pacer.closed()
            log.warning("Kraken Futures private WebSocket closed; reconnecting in %.2fs", wait)
            await asyncio.sleep(wait)

    async def _next(self, conn: KrakenFuturesWsConnection) -> JsonMessage | None:
        """The next message, or None when the connection ended or went silent (closed then)."""
        try:
            async with asyncio.timeout(self._stale_after):
                return await conn.next()
        except TimeoutError:
            self.stale_drops += 1
            log.warning("Kraken Futures private WebSocket silent; reconnecting")
            await conn.close()
            return None

    async def _handle(self, conn: KrakenFuturesWsConnection, msg: JsonMessage) -> None:
        try:
            await self._handler(msg)
        except Exception as exc:
            # Never let one bad message kill the feed; the reconnect's snapshots re-sync.
            log_feed_handler_failure(log, "Kraken Futures feed", exc)
            await conn.close()

    async def _connect_once(self) -> tuple[KrakenFuturesWsConnection, list[JsonMessage]]:
        conn = KrakenFuturesWsConnection(
            self._url, open_timeout_s=self._timeout, before_send=self._before_send
        )
        await conn.open()
        try:
            api_key = self._signer.api_key
            await conn.send({"event": "challenge", "api_key": api_key})
            reply, early = await conn.wait_for(
                lambda m: m.get("event") in ("challenge", "error"), self._timeout
            )
            if reply.get("event") != "challenge" or not isinstance(reply.get("message"), str):
                raise KrakenFuturesWsError(f"challenge refused: {reply.get('message')}")
            challenge = reply["message"]
            auth = {
                "api_key": api_key,
                "original_challenge": challenge,
                "signed_challenge": self._signer.sign_challenge(challenge),
            }
            await conn.send({"event": "subscribe", "feed": "heartbeat"})
            for feed in PRIVATE_FEEDS:
                await conn.send({"event": "subscribe", "feed": feed, **auth})
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn, [m for m in early if m.get("event") != "info"]
