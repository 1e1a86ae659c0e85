"""Public WS v2 channels: ticker, book, trade, ohlc, instrument (wire 6.3).

Engine events only mark what changed; `flush()` (scheduled once per engine call) publishes one
message per changed (symbol, channel), encoded once and shared by every subscriber. Book
subscribers of one (symbol, depth) share one `L2View`, so the checksum is computed once too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simulator.engine.events import BookEvent, EngineEvent, PublicTradeEvent
from simulator.engine.model import Side
from simulator.engine.pairs import KrakenAsset, KrakenPair
from simulator.spot.ws_book import BOOK_DEPTHS, L2View
from simulator.spot.ws_engine import BookLike
from simulator.spot.ws_market import (
    OHLC_INTERVALS,
    PairMarket,
    asset_data,
    ohlc_data,
    pair_data,
    ticker_data,
    timestamp,
    trade_data,
)
from simulator.spot.ws_wire import push
from simulator.wire.json_codec import JsonObject, encode
from simulator.wire.ws_connection import Subscription, WsConnection

PUBLIC_CHANNELS = frozenset({"ticker", "book", "trade", "ohlc", "instrument"})
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
ALREADY_SUBSCRIBED = "Already subscribed"
NOT_SUBSCRIBED = "Subscription Not Found"


class SubscribeError(Exception):
    """A refused (un)subscription; `error` is the wire text, `symbol` set for per-symbol ones."""

    def __init__(self, error: str, symbol: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.symbol = symbol


def unsupported_pair(symbol: str) -> SubscribeError:
    return SubscribeError(f"Currency pair not supported {symbol}", symbol)


@dataclass
class _Audience:
    """The connections subscribed to one feed."""

    members: dict[WsConnection, Subscription] = field(default_factory=dict)


def _identity(channel: str, symbol: str, params: dict[str, Any]) -> tuple[str, ...]:
    """What makes two subscriptions of one connection the same: one book/ticker/trade per
    symbol, one ohlc per symbol and interval."""
    if channel == "ohlc":
        return ("ohlc", symbol, str(params.get("interval", 1)))
    return (channel, symbol)


def flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise SubscribeError(INVALID_ARGUMENTS)
    return value


class PublicFeeds:
    """Subscriptions and publication of the public channels of one simulator."""

    def __init__(
        self,
        pairs: Iterable[KrakenPair],
        assets: dict[str, KrakenAsset],
        book_of: Callable[[str], BookLike],
        now: Callable[[], Decimal],
    ) -> None:
        self.assets = assets
        self.pairs_by_symbol = {p.ws_symbol: p for p in pairs}
        self.pairs_by_id = {p.id: p for p in self.pairs_by_symbol.values()}
        self.markets = {p.id: PairMarket(p, p.start_price) for p in self.pairs_by_id.values()}
        self._book_of = book_of
        self._now = now
        self._audiences: dict[tuple[str, ...], _Audience] = {}
        self._views: dict[tuple[str, int], L2View] = {}
        self._dirty_books: set[str] = set()
        self._new_trades: dict[str, list[PublicTradeEvent]] = {}
        self._bbo: dict[str, tuple[object, object]] = {}

    # -- subscriptions -------------------------------------------------------------------

    def pair(self, symbol: object) -> KrakenPair:
        if not isinstance(symbol, str):
            raise SubscribeError(INVALID_ARGUMENTS)
        pair = self.pairs_by_symbol.get(symbol)
        if pair is None:
            raise unsupported_pair(symbol)
        return pair

    def subscribe(
        self, conn: WsConnection, channel: str, symbol: str | None, params: dict[str, Any]
    ) -> tuple[JsonObject, list[str]]:
        """Register one (channel, symbol) subscription: its ack `result` and snapshot frames."""
        if channel == "instrument":
            return self._subscribe_instrument(conn, params)
        pair = self.pair(symbol)
        key, result = self._key_and_result(channel, pair, params)
        identity = _identity(channel, pair.ws_symbol, result)
        if identity in conn.subscriptions:
            raise SubscribeError(ALREADY_SUBSCRIBED, pair.ws_symbol)
        sub = Subscription(channel, pair.ws_symbol, dict(result))
        self._audiences.setdefault(key, _Audience()).members[conn] = sub
        conn.subscriptions[identity] = sub
        frames = [self._snapshot(channel, pair, result)] if result.get("snapshot") else []
        if channel == "book" and not result["snapshot"]:
            self._view(pair, result["depth"])  # updates are relative to the current view
        return result, frames

    def _key_and_result(
        self, channel: str, pair: KrakenPair, params: dict[str, Any]
    ) -> tuple[tuple[str, ...], JsonObject]:
        symbol = pair.ws_symbol
        if channel == "book":
            depth = params.get("depth", 10)
            if depth not in BOOK_DEPTHS or isinstance(depth, bool):
                raise SubscribeError(INVALID_ARGUMENTS, symbol)
            snapshot = flag(params, "snapshot", True)
            result = {"channel": "book", "depth": depth, "snapshot": snapshot, "symbol": symbol}
            return ("book", symbol, str(depth)), result
        if channel == "ticker":
            trigger = params.get("event_trigger", "trades")
            if trigger not in ("trades", "bbo"):
                raise SubscribeError(INVALID_ARGUMENTS, symbol)
            result = {
                "channel": "ticker",
                "event_trigger": trigger,
                "snapshot": flag(params, "snapshot", True),
                "symbol": symbol,
            }
            return ("ticker", symbol, trigger), result
        if channel == "trade":
            result = {"channel": "trade", "snapshot": flag(params, "snapshot", False)}
            result["symbol"] = symbol
            return ("trade", symbol), result
        interval = params.get("interval", 1)
        if interval not in OHLC_INTERVALS or isinstance(interval, bool):
            raise SubscribeError(INVALID_ARGUMENTS, symbol)
        result = {
            "channel": "ohlc",
            "interval": interval,
            "snapshot": flag(params, "snapshot", True),
            "symbol": symbol,
        }
        return ("ohlc", symbol, str(interval)), result

    def _subscribe_instrument(
        self, conn: WsConnection, params: dict[str, Any]
    ) -> tuple[JsonObject, list[str]]:
        key = ("instrument",)
        audience = self._audiences.setdefault(key, _Audience())
        if conn in audience.members:
            raise SubscribeError(ALREADY_SUBSCRIBED)
        result: JsonObject = {"channel": "instrument", "snapshot": flag(params, "snapshot", True)}
        sub = Subscription("instrument", None, dict(result))
        audience.members[conn] = sub
        conn.subscriptions[key] = sub
        frames = [encode(push("instrument", "snapshot", self.instrument_data()))]
        return result, frames if result["snapshot"] else []

    def unsubscribe(
        self, conn: WsConnection, channel: str, symbol: str | None, params: dict[str, Any]
    ) -> JsonObject:
        if channel == "instrument":
            sub = conn.subscriptions.pop(("instrument",), None)
            if sub is None:
                raise SubscribeError(NOT_SUBSCRIBED)
            self._audiences[("instrument",)].members.pop(conn, None)
            return {"channel": "instrument"}
        pair = self.pair(symbol)
        sub = conn.subscriptions.get(_identity(channel, pair.ws_symbol, params))
        if sub is None:
            raise SubscribeError(NOT_SUBSCRIBED, pair.ws_symbol)
        if channel == "book" and "depth" in params and params["depth"] != sub.params["depth"]:
            raise SubscribeError(NOT_SUBSCRIBED, pair.ws_symbol)
        self._drop(conn, sub)
        result: JsonObject = {"channel": channel, "symbol": pair.ws_symbol}
        for extra in ("depth", "interval", "event_trigger"):
            if extra in sub.params:
                result[extra] = sub.params[extra]
        return result

    def _drop(self, conn: WsConnection, sub: Subscription) -> None:
        key = self._audience_key(sub)
        conn.subscriptions.pop(_identity(sub.channel, sub.symbol or "", sub.params), None)
        audience = self._audiences.get(key)
        if audience is not None:
            audience.members.pop(conn, None)

    @staticmethod
    def _audience_key(sub: Subscription) -> tuple[str, ...]:
        symbol = sub.symbol or ""
        if sub.channel == "book":
            return ("book", symbol, str(sub.params["depth"]))
        if sub.channel == "ticker":
            return ("ticker", symbol, str(sub.params["event_trigger"]))
        if sub.channel == "ohlc":
            return ("ohlc", symbol, str(sub.params["interval"]))
        return (sub.channel, symbol)

    def forget(self, conn: WsConnection) -> None:
        """Drop every public subscription of a closed connection."""
        for audience in self._audiences.values():
            audience.members.pop(conn, None)

    # -- snapshots -----------------------------------------------------------------------

    def _snapshot(self, channel: str, pair: KrakenPair, result: JsonObject) -> str:
        market = self.markets[pair.id]
        now = self._now()
        if channel == "book":
            view = self._view(pair, result["depth"])
            data = self._book_data(pair, view.asks, view.bids, view.checksum(), now)
            return encode(push("book", "snapshot", [data]))
        if channel == "ticker":
            return encode(push("ticker", "snapshot", [self._ticker(pair, now)]))
        if channel == "trade":
            trades = [trade_data(pair.ws_symbol, t) for t in market.recent_trades()]
            return encode(push("trade", "snapshot", trades))
        interval = result["interval"]
        market.candle_at(interval, now)
        candles = market.candles[interval]
        rows = [ohlc_data(pair.ws_symbol, interval, c, pair.pair_decimals) for c in candles]
        return encode(push("ohlc", "snapshot", rows, timestamp=timestamp(now)))

    def instrument_data(self) -> JsonObject:
        return {
            "assets": [asset_data(a) for a in self.assets.values()],
            "pairs": [pair_data(p, self.assets) for p in self.pairs_by_id.values()],
        }

    def _view(self, pair: KrakenPair, depth: int) -> L2View:
        view = self._views.get((pair.id, depth))
        if view is None:
            view = L2View(depth, pair.pair_decimals, pair.lot_decimals)
            book = self._book_of(pair.id)
            view.reset(book.levels(Side.SELL, depth), book.levels(Side.BUY, depth))
            self._views[(pair.id, depth)] = view
        return view

    @staticmethod
    def _book_data(
        pair: KrakenPair,
        asks: list[tuple[Decimal, Decimal]],
        bids: list[tuple[Decimal, Decimal]],
        checksum: int,
        now: Decimal,
    ) -> JsonObject:
        return {
            "symbol": pair.ws_symbol,
            "bids": [{"price": p, "qty": q} for p, q in bids],
            "asks": [{"price": p, "qty": q} for p, q in asks],
            "checksum": checksum,
            "timestamp": timestamp(now),
        }

    def _ticker(self, pair: KrakenPair, now: Decimal) -> JsonObject:
        book = self._book_of(pair.id)
        bids, asks = book.levels(Side.BUY, 1), book.levels(Side.SELL, 1)
        return ticker_data(
            self.markets[pair.id], bids[0] if bids else None, asks[0] if asks else None, now
        )

    # -- engine events -------------------------------------------------------------------

    def on_event(self, event: EngineEvent) -> bool:
        """Note a market event; True when a flush is needed."""
        if isinstance(event, BookEvent):
            self._dirty_books.add(event.pair)
            return True
        if isinstance(event, PublicTradeEvent):
            market = self.markets.get(event.pair)
            if market is not None:
                market.on_trade(event)
                self._new_trades.setdefault(event.pair, []).append(event)
            return True
        return False

    def flush(self) -> None:
        """Publish everything that changed since the last flush."""
        now = self._now()
        dirty, self._dirty_books = self._dirty_books, set()
        trades, self._new_trades = self._new_trades, {}
        for pair_id in dirty:
            pair = self.pairs_by_id.get(pair_id)
            if pair is not None:
                self._publish_book(pair, now)
                self._publish_bbo_ticker(pair, now)
        for pair_id, events in trades.items():
            pair = self.pairs_by_id[pair_id]
            self._publish_trades(pair, events, now)

    def _publish_book(self, pair: KrakenPair, now: Decimal) -> None:
        book = self._book_of(pair.id)

        def lookup(side: str, price: Decimal) -> Decimal:
            return book.level_qty(Side.SELL if side == "ask" else Side.BUY, price)

        for depth in BOOK_DEPTHS:
            view = self._views.get((pair.id, depth))
            if view is None:
                continue
            audience = self._audiences.get(("book", pair.ws_symbol, str(depth)))
            if audience is None or not audience.members:
                del self._views[(pair.id, depth)]  # nobody follows it: rebuilt on subscribe
                continue
            diff = view.advance(book.levels(Side.SELL, depth), book.levels(Side.BUY, depth), lookup)
            if diff is None:
                continue
            data = self._book_data(pair, diff.asks, diff.bids, diff.checksum, now)
            frame = encode(push("book", "update", [data]))

            def bad(data: JsonObject = data) -> str:
                return encode(push("book", "update", [{**data, "checksum": data["checksum"] ^ 1}]))

            for conn in list(audience.members):
                conn.deliver("ws:book", frame, bad_frame=bad)

    def _publish_bbo_ticker(self, pair: KrakenPair, now: Decimal) -> None:
        audience = self._audiences.get(("ticker", pair.ws_symbol, "bbo"))
        if audience is None or not audience.members:
            return
        book = self._book_of(pair.id)
        bbo = (tuple(book.levels(Side.BUY, 1)), tuple(book.levels(Side.SELL, 1)))
        if self._bbo.get(pair.id) == bbo:
            return
        self._bbo[pair.id] = bbo
        self._broadcast(audience, "ws:ticker", push("ticker", "update", [self._ticker(pair, now)]))

    def _publish_trades(
        self, pair: KrakenPair, events: list[PublicTradeEvent], now: Decimal
    ) -> None:
        symbol = pair.ws_symbol
        audience = self._audiences.get(("trade", symbol))
        if audience is not None and audience.members:
            data = [trade_data(symbol, t) for t in events]
            self._broadcast(audience, "ws:trade", push("trade", "update", data))
        audience = self._audiences.get(("ticker", symbol, "trades"))
        if audience is not None and audience.members:
            self._broadcast(
                audience, "ws:ticker", push("ticker", "update", [self._ticker(pair, now)])
            )
        market = self.markets[pair.id]
        for interval in OHLC_INTERVALS:
            audience = self._audiences.get(("ohlc", symbol, str(interval)))
            if audience is None or not audience.members:
                continue
            candle = market.candle_at(interval, now)
            data = [ohlc_data(symbol, interval, candle, pair.pair_decimals)]
            self._broadcast(
                audience, "ws:ohlc", push("ohlc", "update", data, timestamp=timestamp(now))
            )

    @staticmethod
    def _broadcast(audience: _Audience, target: str, message: JsonObject) -> None:
        frame = encode(message)
        for conn in list(audience.members):
            conn.deliver(target, frame)
