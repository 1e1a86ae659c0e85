"""Kraken Spot WebSocket v2 front end: public `/ws/v2` and authenticated `/ws-auth/v2`.

(Paths from `simulator.context`; a client's base URL is `ws://HOST:PORT/ws/v2`, like
`wss://ws.kraken.com/v2`.) Each connection gets a `status` message, answers `ping` with `pong`,
and after its first subscription a `heartbeat` whenever it has been idle for `heartbeat_s`.
The auth endpoint also serves the private channels and trading methods; every private request
carries a token from GetWebSocketsToken (unknown or expired -> `ESession:Invalid session`).
`level3` is served on `/ws-l3/v2` (Kraken: `wss://ws-l3.kraken.com/v2`), also with a token.
Fault targets: `ws:<channel>` for channel data, `ws:<method>` for request acks.

Engine events arrive synchronously inside engine calls; they are collected and published from
one `call_soon` flush, so a request's ack goes out before the executions it caused and every
feed message is encoded once for all its subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from aiohttp import WSMsgType, web

from simulator.context import SPOT_WS_PRIVATE_PATH, SPOT_WS_PUBLIC_PATH, SimContext
from simulator.engine.errors import KrakenError
from simulator.engine.events import EngineEvent
from simulator.engine.pairs import ASSETS, PAIRS
from simulator.faults import SystemStatus
from simulator.spot.auth import SignedRequest, peer_address
from simulator.spot.ws_engine import BookLike, SpotEngineLike
from simulator.spot.ws_l3 import L3Feed
from simulator.spot.ws_market import to_datetime
from simulator.spot.ws_private import PRIVATE_CHANNELS, PrivateFeeds
from simulator.spot.ws_public import INVALID_ARGUMENTS, PUBLIC_CHANNELS, PublicFeeds, SubscribeError
from simulator.spot.ws_trading import TRADING_METHODS, Caller, SpotWsTrading
from simulator.spot.ws_wire import HEARTBEAT, ack, failure, pong, push
from simulator.wire.json_codec import JsonObject, decode, encode
from simulator.wire.ws_connection import DEFAULT_QUEUE_FRAMES, WsConnection

log = logging.getLogger(__name__)

EXTENSION_KEY = "simulator.spot.ws"
# Kraken serves `level3` on its own host (wss://ws-l3.kraken.com/v2); here it is this path.
SPOT_WS_L3_PATH = "/ws-l3/v2"
API_VERSION = "v2"
SERVER_VERSION = "2.0.0"
INVALID_SESSION = "ESession:Invalid session"
PERMISSION_DENIED = "EGeneral:Permission denied"
INTERNAL_ERROR = "EGeneral:Internal error"
UNKNOWN_METHOD = "Method not found"  # UNCONFIRMED wire text
MAX_MESSAGE_BYTES = 1 << 20


@dataclass(frozen=True)
class SpotWsConfig:
    heartbeat_s: float = 1.0
    queue_frames: int = DEFAULT_QUEUE_FRAMES


class SpotWsServer:
    """Connections, subscriptions and the engine event fan-out of one simulator."""

    def __init__(self, ctx: SimContext, config: SpotWsConfig | None = None) -> None:
        self.ctx = ctx
        self.config = config or SpotWsConfig()
        market = getattr(ctx.market, "pairs", None)
        pairs = list(market.values()) if isinstance(market, dict) else list(PAIRS.values())
        assets = getattr(ctx.market, "assets", None)
        self.assets = dict(assets) if isinstance(assets, dict) else dict(ASSETS)
        self.public = PublicFeeds(pairs, self.assets, self._book, ctx.clock.now)
        self.private = PrivateFeeds(
            self._engine,
            self.public.pairs_by_id,
            self.assets,
            lambda account, pair: ctx.limits.trading_counter(account, pair, ctx.now()),
            lambda account: ctx.limits.trading_threshold(ctx.accounts.tier_of(account)),
        )
        self.level3 = L3Feed(self.public.pair, self._book, ctx.clock.now)
        self.trading = SpotWsTrading(ctx, self._engine, self.public.pairs_by_symbol)
        self.connections: set[WsConnection] = set()
        self._rng = random.Random(f"spot-ws:{ctx.seed}")
        self._flush_scheduled = False
        self._token_users: Counter[str] = Counter()
        self._status = ctx.faults.system_status
        self._attached = False

    # -- engine ---------------------------------------------------------------------------

    def _engine(self) -> SpotEngineLike:
        if self.ctx.engine is None:
            raise KrakenError("EService:Unavailable")
        return cast(SpotEngineLike, self.ctx.engine)

    def _book(self, pair_id: str) -> BookLike:
        return self._engine().book(pair_id)

    def attach(self) -> None:
        """Follow the engine's event stream (once the engine exists)."""
        if not self._attached and self.ctx.engine is not None:
            self._engine().subscribe(self.on_event)
            self._attached = True

    def on_event(self, event: EngineEvent) -> None:
        """Engine listener: note the event, publish after the engine call returns.

        It runs inside the engine's call, so it must never raise into the matching logic.
        """
        try:
            wanted = (
                self.public.on_event(event)
                | self.private.on_event(event)
                | self.level3.on_event(event)
            )
            if not wanted or self._flush_scheduled:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # engine driven outside the event loop: publish right away
                self.flush()
                return
            self._flush_scheduled = True
            loop.call_soon(self.flush)
        except Exception:
            log.exception("spot ws: dropping engine event %s", type(event).__name__)

    def flush(self) -> None:
        self._flush_scheduled = False
        try:
            self._check_status()
            self.public.flush()
            self.level3.flush()
            self.private.flush()
        except Exception:
            log.exception("spot ws: publishing failed")

    def _check_status(self) -> None:
        """A system status change (fault plan) is pushed to every connection."""
        status = self.ctx.faults.system_status
        if status is not self._status:
            self._status = status
            for conn in list(self.connections):
                conn.send_now(self._status_frame(conn))

    def _status_frame(self, conn: WsConnection) -> str:
        data = {
            "api_version": API_VERSION,
            "connection_id": conn.connection_id,
            "system": SystemStatus(self.ctx.faults.system_status).value,
            "version": SERVER_VERSION,
        }
        return encode(push("status", "update", [data]))

    # -- connections ----------------------------------------------------------------------

    async def handle_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, private=False)

    async def handle_private(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, private=True)

    async def handle_level3(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, private=True, level3=True)

    async def _serve(
        self, request: web.Request, *, private: bool, level3: bool = False
    ) -> web.WebSocketResponse:
        self.attach()
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, autoping=True)
        transport = request.transport
        peer = peer_address(transport.get_extra_info("peername")) if transport else ""
        await ws.prepare(request)
        conn = WsConnection(
            ws,
            self._rng.getrandbits(64),
            self.ctx.faults,
            queue_frames=self.config.queue_frames,
            on_close=self._forget,
            on_idle=self._check_status,
        )
        conn.level3 = level3
        conn.peer = peer
        self.connections.add(conn)
        conn.send_now(self._status_frame(conn))
        writer = asyncio.create_task(conn.run_writer(self.config.heartbeat_s, HEARTBEAT))
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._on_text(conn, message.data, private)
                elif message.type is WSMsgType.ERROR:
                    break
                if conn.closing:
                    break
        finally:
            conn.close()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    def _forget(self, conn: WsConnection) -> None:
        self.connections.discard(conn)
        self.public.forget(conn)
        self.level3.forget(conn)
        for token in self.private.forget(conn):
            self._release(token)

    def _release(self, token: str) -> None:
        self._token_users[token] -= 1
        if self._token_users[token] <= 0:
            del self._token_users[token]
            self.ctx.ws_tokens.release(token)

    async def shutdown(self, _app: web.Application) -> None:
        for conn in list(self.connections):
            conn.close()

    # -- requests -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return to_datetime(self.ctx.clock.now())

    def _on_text(self, conn: WsConnection, text: str, private: bool) -> None:
        time_in = self._now()
        self._check_status()
        try:
            request = decode(text)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            conn.deliver("ws:error", encode(failure("", None, INVALID_ARGUMENTS, time_in, time_in)))
            return
        method = request.get("method")
        req_id = request.get("req_id")
        if isinstance(req_id, bool) or not isinstance(req_id, int):
            req_id = None
        params = request.get("params", {})
        if not isinstance(method, str) or not isinstance(params, dict):
            self._fail(conn, str(method or ""), req_id, INVALID_ARGUMENTS, time_in)
            return
        if method == "ping":
            conn.deliver("ws:ping", encode(pong(req_id, time_in, self._now())))
        elif method in ("subscribe", "unsubscribe"):
            self._subscription(conn, method, req_id, params, private, time_in)
        elif method in TRADING_METHODS:
            self._trade(conn, method, req_id, params, private, time_in)
        else:
            self._fail(conn, method, req_id, UNKNOWN_METHOD, time_in)

    def _fail(
        self,
        conn: WsConnection,
        method: str,
        req_id: int | None,
        error: str,
        time_in: datetime,
        extra: JsonObject | None = None,
    ) -> None:
        frame = encode(failure(method, req_id, error, time_in, self._now(), extra=extra))
        conn.deliver(f"ws:{method}", frame)

    def _caller(self, params: dict[str, Any]) -> tuple[Caller, str]:
        token = params.get("token")
        if not isinstance(token, str) or not token:
            raise KrakenError(INVALID_ARGUMENTS)
        key = self.ctx.ws_tokens.resolve(token, self.ctx.now())
        if key is None:
            raise KrakenError(INVALID_SESSION)
        if not key.allows("websocket"):
            raise KrakenError(PERMISSION_DENIED)
        return Caller(key, key.account_id), token

    def _subscription(
        self,
        conn: WsConnection,
        method: str,
        req_id: int | None,
        params: dict[str, Any],
        private: bool,
        time_in: datetime,
    ) -> None:
        channel = params.get("channel")
        if channel in PRIVATE_CHANNELS:
            self._private_subscription(conn, method, req_id, params, private, time_in)
            return
        if channel == "level3":
            self._level3_subscription(conn, method, req_id, params, time_in)
            return
        if channel not in PUBLIC_CHANNELS:
            self._fail(conn, method, req_id, INVALID_ARGUMENTS, time_in)
            return
        assert isinstance(channel, str)
        symbols: list[Any] = [None]
        if channel != "instrument":
            raw = params.get("symbol")
            if not isinstance(raw, list) or not raw:
                self._fail(conn, method, req_id, INVALID_ARGUMENTS, time_in)
                return
            symbols = raw
        for symbol in symbols:
            try:
                if method == "subscribe":
                    result, frames = self.public.subscribe(conn, channel, symbol, params)
                else:
                    result, frames = self.public.unsubscribe(conn, channel, symbol, params), []
            except SubscribeError as exc:
                extra = {"symbol": exc.symbol} if exc.symbol is not None else None
                self._fail(conn, method, req_id, exc.error, time_in, extra)
                continue
            except KrakenError as exc:  # no engine yet
                self._fail(conn, method, req_id, exc.code, time_in)
                continue
            conn.deliver(f"ws:{method}", encode(ack(method, req_id, time_in, self._now(), result)))
            for frame in frames:
                conn.deliver(f"ws:{channel}", frame)
        conn.heartbeats = bool(conn.subscriptions)

    def _level3_subscription(
        self,
        conn: WsConnection,
        method: str,
        req_id: int | None,
        params: dict[str, Any],
        time_in: datetime,
    ) -> None:
        symbols = params.get("symbol")
        try:
            if not conn.level3:
                raise KrakenError(PERMISSION_DENIED)
            self._caller(params)
            if not isinstance(symbols, list) or not symbols:
                raise KrakenError(INVALID_ARGUMENTS)
        except KrakenError as exc:
            self._fail(conn, method, req_id, exc.code, time_in)
            return
        for symbol in symbols:
            try:
                if method == "subscribe":
                    result, frames = self.level3.subscribe(conn, symbol, params)
                else:
                    result, frames = self.level3.unsubscribe(conn, symbol), []
            except SubscribeError as exc:
                extra = {"symbol": exc.symbol} if exc.symbol is not None else None
                self._fail(conn, method, req_id, exc.error, time_in, extra)
                continue
            conn.deliver(f"ws:{method}", encode(ack(method, req_id, time_in, self._now(), result)))
            for frame in frames:
                conn.deliver("ws:level3", frame)
        conn.heartbeats = bool(conn.subscriptions)

    def _private_subscription(
        self,
        conn: WsConnection,
        method: str,
        req_id: int | None,
        params: dict[str, Any],
        private: bool,
        time_in: datetime,
    ) -> None:
        channel = str(params["channel"])
        try:
            if not private:
                raise KrakenError(PERMISSION_DENIED)
            caller, token = self._caller(params)
            if method == "subscribe":
                result, frames = self.private.subscribe(
                    conn, caller.account_id, token, channel, params
                )
                self._token_users[token] += 1
            else:
                result, held = self.private.unsubscribe(conn, channel)
                frames = []
                if held is not None:
                    self._release(held)
        except KrakenError as exc:
            self._fail(conn, method, req_id, exc.code, time_in)
            return
        except SubscribeError as exc:
            self._fail(conn, method, req_id, exc.error, time_in)
            return
        conn.deliver(f"ws:{method}", encode(ack(method, req_id, time_in, self._now(), result)))
        for frame in frames:
            conn.deliver(f"ws:{channel}", frame)
        conn.heartbeats = bool(conn.subscriptions)

    def _trade(
        self,
        conn: WsConnection,
        method: str,
        req_id: int | None,
        params: dict[str, Any],
        private: bool,
        time_in: datetime,
    ) -> None:
        try:
            if not private:
                raise KrakenError(PERMISSION_DENIED)
            caller, token = self._caller(params)
            # Logged with the signed REST requests: the token is the key's credential here,
            # and names the lease its GetWebSocketsToken request was sent under.
            sender = self.ctx.ws_tokens.sender(token)
            sent = SignedRequest(self.ctx.now(), sender, f"ws {method}", conn.peer)
            self.ctx.spot_auth.log_signed(caller.key.key, sent)
            results = self.trading.call(method, caller, params)
        except KrakenError as exc:
            self._fail(conn, method, req_id, exc.code, time_in)
            return
        except Exception:  # a simulator bug must not take the connection down
            log.exception("spot ws: %s failed", method)
            self._fail(conn, method, req_id, INTERNAL_ERROR, time_in)
            return
        for result in results:
            conn.deliver(f"ws:{method}", encode(ack(method, req_id, time_in, self._now(), result)))


def register(
    app: web.Application, ctx: SimContext, config: SpotWsConfig | None = None
) -> SpotWsServer:
    """Add the Spot WS v2 endpoints to the simulator's app (see simulator/app.py)."""
    server = SpotWsServer(ctx, config)
    ctx.extensions[EXTENSION_KEY] = server
    app.router.add_get(SPOT_WS_PUBLIC_PATH, server.handle_public)
    app.router.add_get(SPOT_WS_PRIVATE_PATH, server.handle_private)
    app.router.add_get(SPOT_WS_L3_PATH, server.handle_level3)

    async def on_startup(_app: web.Application) -> None:
        server.attach()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(server.shutdown)
    return server


def server_of(ctx: SimContext) -> SpotWsServer:
    """The Spot WS server registered on this simulator (tests, benchmarks)."""
    return cast(SpotWsServer, ctx.extensions[EXTENSION_KEY])


__all__ = [
    "EXTENSION_KEY",
    "SPOT_WS_L3_PATH",
    "SpotWsConfig",
    "SpotWsServer",
    "register",
    "server_of",
]
