"""Kraken Futures WebSocket v1 front end (wire 9) on `FUTURES_WS_PATH` (`/ws/v1`).

Public feeds: book (snapshot then one message per level change, `seq` contiguous per product),
ticker, ticker_lite, trade, heartbeat. Private feeds after the challenge flow: fills,
open_orders, open_orders_verbose, open_positions, balances. Engine events fan out
synchronously into each connection's send queue (the shared `WsConnection`, which applies the
fault plan per message under targets `fws:<feed>`), so a snapshot taken while
subscribing and the deltas after it can never interleave wrongly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from simulator.accounts import KrakenApiKey
from simulator.context import FUTURES_WS_PATH, SimContext
from simulator.engine.futures_accounts import FLEX_WALLET, INVERSE_XBT_WALLET
from simulator.engine.futures_engine import KrakenFuturesRequestError
from simulator.engine.futures_events import (
    KrakenFuturesAccountChanged,
    KrakenFuturesBookEvent,
    KrakenFuturesEvent,
    KrakenFuturesFillEvent,
    KrakenFuturesOrderUpdate,
    KrakenFuturesPriceEvent,
    KrakenFuturesTradeEvent,
)
from simulator.engine.futures_margin import initial_margin, maintenance_margin
from simulator.futures.rest_format import Json
from simulator.futures.venue import KrakenFuturesVenue, futures_venue
from simulator.futures.ws_format import (
    ws_balances_json,
    ws_book_delta_json,
    ws_book_snapshot_json,
    ws_fill_json,
    ws_order_json,
    ws_position_json,
    ws_ticker_json,
    ws_trade_json,
)
from simulator.wire.json_codec import decode, encode
from simulator.wire.ws_connection import WsConnection

PUBLIC_FEEDS = frozenset({"book", "ticker", "ticker_lite", "trade", "heartbeat"})
PRIVATE_FEEDS = frozenset(
    {
        "fills",
        "open_orders",
        "open_orders_verbose",
        "open_positions",
        "balances",
        "notifications_auth",
    }
)
HEARTBEAT_INTERVAL_MS = 5_000  # clock time between heartbeat feed messages (UNCONFIRMED period)
MAX_CHALLENGES = 10_000  # issued challenges remembered (oldest forgotten first)
_IDLE_NEVER_S = 3600.0  # the shared writer's idle heartbeat is not used by this protocol


@dataclass(eq=False)
class _Client:
    """Feeds of one connection and the account its private feeds are for."""

    conn: WsConnection
    public: dict[str, set[str]] = field(default_factory=dict)  # feed -> product ids
    private: set[str] = field(default_factory=set)
    key: KrakenApiKey | None = None
    seqs: dict[str, itertools.count[int]] = field(default_factory=dict)

    def next_seq(self, feed: str) -> int:
        return next(self.seqs.setdefault(feed, itertools.count(1)))


class FuturesWsHub:
    """All futures WS connections of one simulator and the engine event fan-out."""

    def __init__(self, ctx: SimContext, venue: KrakenFuturesVenue) -> None:
        self.ctx = ctx
        self.venue = venue
        self.engine = venue.engine
        self.clients: list[_Client] = []
        self._rng = random.Random(f"futures-ws:{ctx.seed}")
        self._challenges: dict[str, str] = {}  # challenge -> api key it was issued to
        # Challenges asked for per API key: each starts an authenticated session with the key
        # (tests prove a fenced gateway asks for none).
        self.challenges_requested: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._next_heartbeat_ms = self.engine.now_ms() + HEARTBEAT_INTERVAL_MS
        self.engine.subscribe(self.on_event)
        ctx.tick_hooks.append(self.tick)

    # ----------------------------------------------------------------- sending

    def _send(self, client: _Client, feed: str, message: Json) -> None:
        client.conn.deliver(f"fws:{feed}", encode(message))

    def _reply(self, client: _Client, message: Json) -> None:
        client.conn.send_now(encode(message))

    def tick(self) -> None:
        now = self.engine.now_ms()
        if now < self._next_heartbeat_ms:
            return
        self._next_heartbeat_ms = now + HEARTBEAT_INTERVAL_MS
        for client in self.clients:
            if "heartbeat" in client.public:
                self._send(client, "heartbeat", {"feed": "heartbeat", "time": now})

    # ----------------------------------------------------------------- engine events

    def on_event(self, event: KrakenFuturesEvent) -> None:
        for client in list(self.clients):
            if client.conn.closing:
                continue
            self._dispatch(client, event)

    def _dispatch(self, client: _Client, event: KrakenFuturesEvent) -> None:
        if isinstance(event, KrakenFuturesBookEvent):
            if event.symbol in client.public.get("book", ()):
                self._send(client, "book", ws_book_delta_json(event))
        elif isinstance(event, KrakenFuturesTradeEvent):
            if event.symbol in client.public.get("trade", ()):
                self._send(client, "trade", ws_trade_json(event))
        elif isinstance(event, KrakenFuturesPriceEvent):
            self._send_tickers(client, event.symbol)
        elif client.key is None or event.account_id != client.key.account_id:
            return
        elif isinstance(event, KrakenFuturesFillEvent):
            if "fills" in client.private:
                self._send(
                    client,
                    "fills",
                    {
                        "feed": "fills",
                        "username": event.account_id,
                        "fills": [ws_fill_json(event.fill)],
                    },
                )
        elif isinstance(event, KrakenFuturesOrderUpdate):
            for feed in ("open_orders", "open_orders_verbose"):
                if feed in client.private:
                    self._send(client, feed, self._order_update(feed, event))
        elif isinstance(event, KrakenFuturesAccountChanged):
            if "open_positions" in client.private:
                self._send(client, "open_positions", self._positions(client, "open_positions"))
            if "balances" in client.private:
                self._send(client, "balances", self._balances(client, "balances"))

    def _send_tickers(self, client: _Client, symbol: str) -> None:
        for feed in ("ticker", "ticker_lite"):
            if symbol in client.public.get(feed, ()):
                self._send(client, feed, self._ticker(feed, symbol))

    # ----------------------------------------------------------------- message bodies

    def _ticker(self, feed: str, symbol: str) -> Json:
        inst = self.engine.instrument(symbol)
        full = ws_ticker_json(self.engine.ticker(symbol), inst, self.engine.now_ms())
        if feed == "ticker":
            return full
        lite = (
            "bid",
            "ask",
            "change",
            "premium",
            "volume",
            "tag",
            "pair",
            "dtm",
            "maturityTime",
            "volumeQuote",
        )
        return {"feed": "ticker_lite", "product_id": symbol, **{k: full[k] for k in lite}}

    def _book_snapshot(self, symbol: str) -> Json:
        bids, asks, seq = self.engine.book_levels(symbol)
        return ws_book_snapshot_json(symbol, bids, asks, seq, self.engine.now_ms())

    def _order_update(self, feed: str, event: KrakenFuturesOrderUpdate) -> Json:
        order = event.order
        if event.is_cancel and event.reason != "full_fill":
            message: Json = {"feed": feed, "order_id": order.order_id}
            if order.cli_ord_id is not None:
                message["cli_ord_id"] = order.cli_ord_id
            message.update({"is_cancel": True, "reason": event.reason})
            return message
        return {
            "feed": feed,
            "order": ws_order_json(order),
            "is_cancel": event.is_cancel,
            "reason": event.reason,
        }

    def _account_id(self, client: _Client) -> str:
        assert client.key is not None
        return client.key.account_id

    def _positions(self, client: _Client, feed: str) -> Json:
        account_id = self._account_id(client)
        rows = []
        for pos in self.engine.positions(account_id):
            inst = self.engine.instrument(pos.symbol)
            mark = self.engine.mark_price(pos.symbol)
            size = abs(pos.size)
            rows.append(
                ws_position_json(
                    pos,
                    inst,
                    mark,
                    self.engine.index_price(pos.symbol),
                    initial_margin(inst, size, mark),
                    maintenance_margin(inst, size, mark),
                )
            )
        return {
            "feed": feed,
            "account": account_id,
            "positions": rows,
            "seq": client.next_seq(feed),
            "timestamp": self.engine.now_ms(),
        }

    def _balances(self, client: _Client, feed: str) -> Json:
        account_id = self._account_id(client)
        account = self.engine.account(account_id)
        prices = {c: self.engine.usd_price(c) for c in account.flex}
        body = ws_balances_json(
            account,
            self.engine.margin(account_id, FLEX_WALLET),
            self.engine.margin(account_id, INVERSE_XBT_WALLET),
            prices,
        )
        return {
            "feed": feed,
            "account": account_id,
            **body,
            "timestamp": self.engine.now_ms(),
            "seq": client.next_seq("balances"),
        }

    def _private_snapshot(self, client: _Client, feed: str) -> Json | None:
        account_id = self._account_id(client)
        if feed in ("open_orders", "open_orders_verbose"):
            orders = [ws_order_json(o) for o in self.engine.open_orders(account_id)]
            return {"feed": f"{feed}_snapshot", "account": account_id, "orders": orders}
        if feed == "fills":
            fills = [ws_fill_json(f) for f in self.engine.fills(account_id)]
            return {"feed": "fills_snapshot", "account": account_id, "fills": fills}
        if feed == "open_positions":
            return self._positions(client, feed)
        if feed == "balances":
            return self._balances(client, "balances_snapshot")
        return None  # notifications_auth: nothing to replay

    # ----------------------------------------------------------------- requests

    def handle(self, client: _Client, text: str) -> None:
        try:
            request = decode(text)
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("event"), str):
            self._reply(client, {"event": "error", "message": "Json Error"})
            return
        event = request["event"]
        if event == "challenge":
            self._challenge(client, request)
        elif event in ("subscribe", "unsubscribe"):
            self._subscription(client, request, subscribe=event == "subscribe")
        else:
            self._reply(client, {"event": "error", "message": "Json Error"})

    def _challenge(self, client: _Client, request: dict[str, Any]) -> None:
        api_key = request.get("api_key")
        try:
            if not isinstance(api_key, str):
                raise KrakenFuturesRequestError("authenticationError")
            self.venue.futures_key(api_key)
        except KrakenFuturesRequestError:
            self._reply(client, {"event": "error", "message": "Invalid API key"})
            return
        self.challenges_requested[api_key] += 1
        challenge = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        self._challenges[challenge] = api_key
        if len(self._challenges) > MAX_CHALLENGES:
            del self._challenges[next(iter(self._challenges))]
        self._reply(client, {"event": "challenge", "message": challenge})

    def _authorise(self, request: dict[str, Any]) -> KrakenApiKey | None:
        api_key = request.get("api_key")
        original = request.get("original_challenge")
        signed = request.get("signed_challenge")
        if not all(isinstance(v, str) for v in (api_key, original, signed)):
            return None
        assert isinstance(api_key, str) and isinstance(original, str) and isinstance(signed, str)
        if self._challenges.get(original) != api_key:
            return None
        return self.venue.verify_challenge(api_key, original, signed)

    def _subscription(self, client: _Client, request: dict[str, Any], *, subscribe: bool) -> None:
        feed = request.get("feed")
        if isinstance(feed, str) and feed in PUBLIC_FEEDS:
            self._public_subscription(client, request, feed, subscribe)
        elif isinstance(feed, str) and feed in PRIVATE_FEEDS:
            self._private_subscription(client, request, feed, subscribe)
        else:
            self._reply(client, {"event": "error", "message": "Invalid feed"})

    def _public_subscription(
        self, client: _Client, request: dict[str, Any], feed: str, subscribe: bool
    ) -> None:
        products = request.get("product_ids", [])
        if feed == "heartbeat":
            products = []
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            self._reply(client, {"event": "error", "message": "Json Error"})
            return
        symbols = []
        for product in products:
            try:
                symbols.append(self.engine.instrument(product).symbol)
            except KrakenFuturesRequestError:
                self._reply(client, {"event": "error", "message": "Invalid product id"})
                return
        ack: Json = {"event": "subscribed" if subscribe else "unsubscribed", "feed": feed}
        if feed != "heartbeat":
            ack["product_ids"] = symbols
        if not subscribe:
            remaining = client.public.get(feed, set()) - set(symbols)
            if feed == "heartbeat" or not remaining:
                client.public.pop(feed, None)
            else:
                client.public[feed] = remaining
            self._reply(client, ack)
            return
        client.public.setdefault(feed, set()).update(symbols)
        self._reply(client, ack)
        for symbol in symbols:
            self._public_snapshot(client, feed, symbol)

    def _public_snapshot(self, client: _Client, feed: str, symbol: str) -> None:
        if feed == "book":
            self._send(client, "book", self._book_snapshot(symbol))
        elif feed == "trade":
            trades = [ws_trade_json(t) for t in self.engine.recent_trades(symbol)]
            self._send(
                client, "trade", {"feed": "trade_snapshot", "product_id": symbol, "trades": trades}
            )
        elif feed in ("ticker", "ticker_lite"):
            self._send(client, feed, self._ticker(feed, symbol))

    def _private_subscription(
        self, client: _Client, request: dict[str, Any], feed: str, subscribe: bool
    ) -> None:
        key = self._authorise(request)
        if key is None or (client.key is not None and client.key.key != key.key):
            self._reply(client, {"event": "error", "message": "Invalid challenge"})
            return
        client.key = key
        ack: Json = {
            "event": "subscribed" if subscribe else "unsubscribed",
            "feed": feed,
            "api_key": key.key,
            "original_challenge": request["original_challenge"],
            "signed_challenge": request["signed_challenge"],
        }
        self._reply(client, ack)
        if not subscribe:
            client.private.discard(feed)
            return
        client.private.add(feed)
        snapshot = self._private_snapshot(client, feed)
        if snapshot is not None:
            self._send(client, feed, snapshot)

    # ----------------------------------------------------------------- connections

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = WsConnection(ws, next(self._ids), self.ctx.faults)
        client = _Client(conn)
        self.clients.append(client)
        writer = asyncio.create_task(conn.run_writer(_IDLE_NEVER_S, ""))
        try:
            conn.send_now(encode({"event": "info", "version": 1}))
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self.ctx.tick()  # state the client sees is current at the clock's time
                    self.handle(client, message.data)
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self.clients.remove(client)
            conn.close()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws


def futures_ws_hub(ctx: SimContext) -> FuturesWsHub:
    hub = ctx.extensions.get("futures_ws")
    if not isinstance(hub, FuturesWsHub):
        hub = FuturesWsHub(ctx, futures_venue(ctx))
        ctx.extensions["futures_ws"] = hub
    return hub


def register(app: web.Application, ctx: SimContext) -> None:
    """Serve the futures WS v1 endpoint on the simulator's port."""
    hub = futures_ws_hub(ctx)
    app.router.add_get(FUTURES_WS_PATH, hub.serve)

    async def close_all(app: web.Application) -> None:
        for client in list(hub.clients):
            client.conn.close()

    app.on_shutdown.append(close_all)
