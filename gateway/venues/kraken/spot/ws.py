"""Kraken Spot WebSocket v2 clients.

`KrakenSpotWsConnection` is one socket: requests carry a `req_id` and await their ack; every other
message (channel data, status, heartbeats) goes, in arrival order, to an `asyncio.Queue` the
owner drains. Messages decode with `parse_float=Decimal`, so prices and quantities stay exact.

`KrakenSpotPrivateWs` keeps the authenticated connection alive: it fetches a token with
GetWebSocketsToken, subscribes `executions` (open orders and recent trades in the snapshot, the
rate counter) and `balances`, hands every message to the owner's handler in order, and after a
drop reconnects with a fresh token after a jittered exponential delay (capped; see `_run`).
Each (re)connect's snapshot is the owner's cue to reconcile. Trading methods go over this
connection: a request that could not be sent raises `KrakenSpotWsNotSent` (the caller may use
REST instead); one whose answer was lost raises `OutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from gateway.core.backoff import ReconnectPacer
from gateway.core.errors import ErrorReason, GatewayError, OutcomeUnknown
from gateway.core.tracing import span
from gateway.venues.kraken.common.errors import log_feed_handler_failure
from gateway.venues.kraken.common.wire_format import encode_ws_message
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient
from gateway.venues.kraken.spot.wire_values import VENUE

log = logging.getLogger(__name__)
# The websockets library logs frames at DEBUG; private frames carry the session token, so its
# logger for our connections never goes below INFO.
_protocol_log = logging.getLogger(f"{__name__}.protocol")
_protocol_log.setLevel(logging.INFO)

JsonMessage = dict[str, Any]
DEFAULT_ACK_TIMEOUT_S = 5.0
_CLOSED = object()  # queue sentinel: the connection ended


class KrakenSpotWsClosed(ConnectionError):
    """The connection is gone (pending requests fail with this)."""


class KrakenSpotWsNotSent(ConnectionError):
    """No live connection: the request was not sent."""


def decode(text: str | bytes) -> JsonMessage:
    msg = json.loads(text, parse_float=Decimal)
    if not isinstance(msg, dict):
        raise ValueError("not a JSON object")
    return msg


class KrakenSpotWsConnection:
    """One WS v2 socket with request/ack matching and an ordered inbox for everything else."""

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = 10.0,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self._open_timeout = open_timeout_s
        self._before_send = before_send
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[JsonMessage]] = {}
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

    async def request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout_s: float
    ) -> JsonMessage:
        """Send one request and return its ack (success or not).

        Raises KrakenSpotWsNotSent if nothing was sent, KrakenSpotWsClosed / TimeoutError if the ack
        was lost after sending. `before_send` runs right before the frame is written, with no
        await in between (websockets writes an unfragmented message before its first await):
        whatever it raises, nothing was sent.
        """
        if self._ws is None or self.closed.is_set():
            raise KrakenSpotWsNotSent("no WebSocket connection")
        req_id = next(self._ids)
        message: dict[str, Any] = {"method": method, "req_id": req_id}
        if params is not None:
            message["params"] = params
        future: asyncio.Future[JsonMessage] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            frame = encode_ws_message(message)
            if self._before_send is not None:
                self._before_send()
            try:
                await self._ws.send(frame)
            except WebSocketException as exc:
                raise KrakenSpotWsNotSent("WebSocket closed before the request went out") from exc
            async with asyncio.timeout(timeout_s):
                return await future
        finally:
            self._pending.pop(req_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: the failure was raised above in another form

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                try:
                    msg = decode(raw)
                except ValueError:
                    log.warning("undecodable WebSocket message from Kraken ignored")
                    continue
                req_id = msg.get("req_id")
                future = self._pending.get(req_id) if isinstance(req_id, int) else None
                if future is not None and "method" in msg:
                    if not future.done():
                        future.set_result(msg)
                    continue
                self.inbox.put_nowait(msg)
        except WebSocketException:
            pass  # a drop; handled below like a close
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(KrakenSpotWsClosed("WebSocket closed"))
            self.inbox.put_nowait(_CLOSED)


async def drain(conn: KrakenSpotWsConnection) -> Any:
    """The next inbox item, or None once the connection has ended and the inbox is empty."""
    item = await conn.inbox.get()
    return None if item is _CLOSED else item


MessageHandler = Callable[[JsonMessage], Awaitable[None]]


class KrakenSpotPrivateWs:
    """The authenticated WS v2 connection of one key, kept alive across drops."""

    def __init__(
        self,
        url: str,
        rest: KrakenSpotRestClient,
        handler: MessageHandler,
        *,
        ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
        backoff_s: float = 0.1,
        backoff_max_s: float = 5.0,
        stable_s: float = 30.0,
        snap_trades: bool = True,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        # Run right before each request is written to the socket (a fleet's lease fence: a
        # gateway frozen between an earlier check and the write must not send once it resumes).
        self._before_send = before_send
        self._rest = rest
        self._handler = handler
        self.ack_timeout_s = ack_timeout_s
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self._stable_s = stable_s
        self._snap_trades = snap_trades
        self._conn: KrakenSpotWsConnection | None = None
        self._token = ""
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connects = 0  # how many sessions were established (for tests and metrics)

    def __repr__(self) -> str:
        return f"KrakenSpotPrivateWs(url={self._url!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

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
        """Drop the current connection (e.g. after a sequence gap); the loop reconnects."""
        if self._conn is not None:
            await self._conn.close()

    async def trade(self, method: str, params: Mapping[str, Any]) -> JsonMessage:
        """A trading method with the session token. KrakenSpotWsNotSent when not connected;
        OutcomeUnknown when the ack was lost after sending."""
        conn = self._conn
        if conn is None or not conn.is_open:
            raise KrakenSpotWsNotSent("WebSocket not connected")
        started = time.perf_counter()
        telemetry = self._rest.telemetry
        try:
            with span("kraken.ws " + method):
                msg = await conn.request(
                    method, {**params, "token": self._token}, timeout_s=self.ack_timeout_s
                )
        except KrakenSpotWsNotSent:
            raise
        except (KrakenSpotWsClosed, TimeoutError) as exc:
            telemetry.venue_request(VENUE, method, time.perf_counter() - started, "no_answer")
            raise OutcomeUnknown(
                f"no answer to {method} from Kraken; the outcome is being resolved",
                ErrorReason.VENUE_CONNECTION_LOST
                if isinstance(exc, KrakenSpotWsClosed)
                else ErrorReason.VENUE_TIMEOUT,
            ) from None
        outcome = "ok" if msg.get("success", True) else "error"
        telemetry.venue_request(VENUE, method, time.perf_counter() - started, outcome)
        return msg

    async def _run(self) -> None:
        """Connect, serve, reconnect. Failed connects and connections that did not last
        `stable_s` are followed by the next jittered exponential delay (capped), so a venue that
        accepts and then drops us (an outage, a restart) sees no reconnect storm; a connection
        that lasted starts the delays over."""
        pacer = ReconnectPacer(self._backoff, self._backoff_max, self._stable_s)
        while not self._stopping:
            try:
                conn = await self._connect_once()
            except (OSError, WebSocketException, GatewayError, TimeoutError) as exc:
                wait = pacer.failed()
                log.warning(
                    "Kraken private WebSocket connect failed (%s); retrying in %.2fs",
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            self.connects += 1
            if self.connects > 1:
                self._rest.telemetry.venue_reconnect(VENUE, "private_ws")
            pacer.opened()
            try:
                while (msg := await drain(conn)) is not None:
                    try:
                        await self._handler(msg)
                    except Exception as exc:
                        # Never let one bad message kill the feed; a reconnect re-syncs state.
                        log_feed_handler_failure(log, "Kraken executions", exc)
                        await conn.close()
            finally:
                self._conn = None
            if self._stopping:
                return
            wait = pacer.closed()
            log.warning("Kraken private WebSocket closed; reconnecting in %.2fs", wait)
            await asyncio.sleep(wait)

    async def _connect_once(self) -> KrakenSpotWsConnection:
        result = await self._rest.read("GetWebSocketsToken")
        token = str(result["token"])
        conn = KrakenSpotWsConnection(self._url, before_send=self._before_send)
        await conn.open()
        try:
            for channel, extra in (
                (
                    "executions",
                    {"snap_orders": True, "snap_trades": self._snap_trades, "ratecounter": True},
                ),
                ("balances", {"snapshot": True}),
            ):
                ack = await conn.request(
                    "subscribe",
                    {"channel": channel, "token": token, **extra},
                    timeout_s=self.ack_timeout_s,
                )
                if not ack.get("success", False):
                    raise OSError(f"subscribe {channel} refused: {ack.get('error')}")
                if channel == "executions":
                    await self._handler({"channel": "_subscribed", "result": ack.get("result")})
        except BaseException:
            await conn.close()
            raise
        self._token = token
        self._conn = conn
        return conn
