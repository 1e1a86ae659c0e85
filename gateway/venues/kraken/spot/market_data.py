"""Kraken Spot market data: REST ticker, WS v2 ticker, L2 book (checksum-verified) and public
trades.

One public WebSocket serves every subscriber. Each symbol's book is replayed into a
`KrakenL2Book` and its checksum verified on every message; on a mismatch only that symbol is
unsubscribed and subscribed again (a fresh snapshot follows), the bad message is not forwarded,
and other symbols are untouched. After a dropped connection every subscription is renewed.
A book depth Kraken does not serve (it has 10, 25, 100, 500 and 1000) is refused before
anything is subscribed: Kraken would refuse the subscription and the stream would never start.
The ticker stream subscribes `ticker` with `event_trigger: bbo` (an update on every best bid or
offer change) and passes the latest ticker on again on each WS heartbeat (~1/s when nothing
else moves), so a consumer sees the feed is alive (`TickerFeedPort`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import WebSocketException

from gateway.core.backoff import ReconnectPacer
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import BookLevel, BookSnapshot, BookUpdate, PublicTrade, Ticker
from gateway.venues.kraken.common.l2_book import KrakenBookChecksumMismatch, KrakenL2Book
from gateway.venues.kraken.common.symbols import KrakenSymbolMap, unified_from_wsname
from gateway.venues.kraken.spot.parse import (
    parse_ticker,
    parse_ws_book,
    parse_ws_ticker,
    parse_ws_trade,
    ws_book_levels,
)
from gateway.venues.kraken.spot.rest import KrakenSpotRestClient
from gateway.venues.kraken.spot.ws import JsonMessage, KrakenSpotWsConnection, drain

log = logging.getLogger(__name__)

BookItem = BookSnapshot | BookUpdate
SUBSCRIBE_TIMEOUT_S = 10.0
QUEUE_MAX = 10_000
# WS v2 `book` depths (wire: book channel).
BOOK_DEPTHS = (10, 25, 100, 500, 1000)


@dataclass
class _BookFeed:
    symbol: str
    depth: int
    book: KrakenL2Book
    queues: set[asyncio.Queue[BookItem]] = field(default_factory=set)


class KrakenSpotMarketData:
    """MarketDataPort over Kraken Spot's public REST and WS v2."""

    def __init__(
        self,
        ws_url: str,
        rest: KrakenSpotRestClient,
        symbols: KrakenSymbolMap,
        precision: Callable[[str], tuple[int, int]],
        *,
        backoff_s: float = 0.1,
        backoff_max_s: float = 5.0,
        stable_s: float = 30.0,
    ) -> None:
        self._url = ws_url
        self._rest = rest
        self._symbols = symbols
        self._precision = precision
        self._pacer = ReconnectPacer(backoff_s, backoff_max_s, stable_s)
        self._books: dict[str, _BookFeed] = {}
        self._trades: dict[str, set[asyncio.Queue[PublicTrade]]] = {}
        self._tickers: dict[str, set[asyncio.Queue[Ticker]]] = {}
        self._last_tickers: dict[str, Ticker] = {}
        self._conn: KrakenSpotWsConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.resyncs: Counter[str] = Counter()
        self.book_messages = 0

    # -- MarketDataPort -------------------------------------------------------------------
    async def ticker(self, symbol: str) -> Ticker:
        pair = self._symbols.by_unified(symbol).pair_id
        result = await self._rest.public("Ticker", {"pair": pair})
        key, entry = next(iter(result.items()))
        return parse_ticker(key, entry, self._symbols)

    async def stream_book(self, symbol: str, depth: int) -> AsyncGenerator[BookItem, None]:
        if depth not in BOOK_DEPTHS:
            raise InvalidArgument(
                f"depth: Kraken Spot serves book depths {', '.join(map(str, BOOK_DEPTHS))}",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "depth"},
            )
        queue: asyncio.Queue[BookItem] = asyncio.Queue(QUEUE_MAX)
        feed = self._books.get(symbol)
        if feed is None:
            pdec, qdec = self._precision(symbol)
            feed = _BookFeed(symbol, depth, KrakenL2Book(symbol, depth, pdec, qdec))
            self._books[symbol] = feed
        feed.queues.add(queue)
        try:
            if len(feed.queues) == 1:
                await self._when_connected(self._subscribe_book(feed))
            else:
                queue.put_nowait(self._current_snapshot(feed))
            while True:
                yield await queue.get()
        finally:
            feed.queues.discard(queue)
            if not feed.queues:
                self._books.pop(symbol, None)
                await self._unsubscribe("book", symbol)

    async def stream_trades(self, symbol: str) -> AsyncGenerator[PublicTrade, None]:
        queue: asyncio.Queue[PublicTrade] = asyncio.Queue(QUEUE_MAX)
        subscribers = self._trades.setdefault(symbol, set())
        subscribers.add(queue)
        try:
            if len(subscribers) == 1:
                await self._when_connected(
                    self._send("subscribe", {"channel": "trade", "symbol": [symbol]})
                )
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)
            if not subscribers:
                self._trades.pop(symbol, None)
                await self._unsubscribe("trade", symbol)

    async def stream_ticker(self, symbol: str) -> AsyncGenerator[Ticker, None]:
        queue: asyncio.Queue[Ticker] = asyncio.Queue(QUEUE_MAX)
        subscribers = self._tickers.setdefault(symbol, set())
        subscribers.add(queue)
        try:
            if len(subscribers) == 1:
                await self._when_connected(self._subscribe_tickers([symbol]))
            elif symbol in self._last_tickers:
                queue.put_nowait(self._last_tickers[symbol])
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)
            if not subscribers:
                self._tickers.pop(symbol, None)
                self._last_tickers.pop(symbol, None)
                await self._unsubscribe("ticker", symbol)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._conn.close()

    # -- connection -----------------------------------------------------------------------
    async def _ensure_connected(self) -> KrakenSpotWsConnection:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        await self._connected.wait()
        assert self._conn is not None
        return self._conn

    async def _when_connected(self, subscribe: Coroutine[Any, Any, None]) -> None:
        """Subscribe now if connected; else the connect's `_renew_all` subscribes it."""
        if self._connected.is_set():
            await subscribe
        else:
            subscribe.close()
            await self._ensure_connected()

    async def _run(self) -> None:
        while True:
            conn = KrakenSpotWsConnection(self._url)
            try:
                await conn.open()
            except (OSError, WebSocketException, TimeoutError) as exc:
                wait = self._pacer.failed()
                log.warning(
                    "Kraken public WebSocket connect failed (%s); retrying in %.2fs",
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            self._pacer.opened()
            self._conn = conn
            # A heartbeat vouches only for a ticker of its own connection: until the fresh
            # snapshot arrives, the old one is not confirmed (the market may have moved).
            self._last_tickers.clear()
            self._connected.set()
            renew = asyncio.get_running_loop().create_task(self._renew_all())
            try:
                while (msg := await drain(conn)) is not None:
                    await self._on_message(msg)
            finally:
                self._connected.clear()
                renew.cancel()
            wait = self._pacer.closed()
            log.warning("Kraken public WebSocket closed; reconnecting in %.2fs", wait)
            await asyncio.sleep(wait)

    async def _renew_all(self) -> None:
        """After a (re)connect: subscribe everything again (books get fresh snapshots)."""
        for feed in list(self._books.values()):
            await self._subscribe_book(feed)
        if self._trades:
            await self._send("subscribe", {"channel": "trade", "symbol": list(self._trades)})
        if self._tickers:
            await self._subscribe_tickers(list(self._tickers))

    async def _subscribe_tickers(self, symbols: list[str]) -> None:
        await self._send(
            "subscribe", {"channel": "ticker", "symbol": symbols, "event_trigger": "bbo"}
        )

    async def _send(self, method: str, params: dict[str, Any]) -> None:
        conn = await self._ensure_connected()
        ack = await conn.request(method, params, timeout_s=SUBSCRIBE_TIMEOUT_S)
        if not ack.get("success", False):
            log.warning("Kraken %s %s refused: %s", method, params.get("channel"), ack.get("error"))

    async def _subscribe_book(self, feed: _BookFeed) -> None:
        await self._send(
            "subscribe", {"channel": "book", "symbol": [feed.symbol], "depth": feed.depth}
        )

    async def _unsubscribe(self, channel: str, symbol: str) -> None:
        if self._conn is None or not self._conn.is_open:
            return
        with contextlib.suppress(Exception):
            await self._conn.request(
                "unsubscribe",
                {"channel": channel, "symbol": [symbol]},
                timeout_s=SUBSCRIBE_TIMEOUT_S,
            )

    async def resync(self, symbol: str) -> None:
        """Fetch a fresh snapshot of one symbol's book (unsubscribe + subscribe)."""
        feed = self._books.get(symbol)
        if feed is None:
            return
        self.resyncs[symbol] += 1
        await self._unsubscribe("book", symbol)
        await self._subscribe_book(feed)

    # -- messages -------------------------------------------------------------------------
    async def _on_message(self, msg: JsonMessage) -> None:
        channel = msg.get("channel")
        if channel == "book":
            for data in msg.get("data", ()):
                self._on_book(data, snapshot=msg.get("type") == "snapshot")
        elif channel == "trade":
            for data in msg.get("data", ()):
                trade = parse_ws_trade(data)
                for queue in self._trades.get(trade.symbol, ()):
                    _offer(queue, trade)
        elif channel == "ticker":
            for data in msg.get("data", ()):
                ticker = parse_ws_ticker(data)
                if ticker.symbol in self._tickers:
                    self._last_tickers[ticker.symbol] = ticker
                    for ticker_queue in self._tickers[ticker.symbol]:
                        _offer(ticker_queue, ticker)
        elif channel == "heartbeat":
            # Nothing moved since the last ticker: it is still the current one.
            for symbol, queues in self._tickers.items():
                last = self._last_tickers.get(symbol)
                for ticker_queue in queues if last is not None else ():
                    _offer(ticker_queue, last)

    def _on_book(self, data: Any, *, snapshot: bool) -> None:
        symbol = unified_from_wsname(str(data.get("symbol", "")))
        feed = self._books.get(symbol)
        if feed is None:
            return
        self.book_messages += 1
        checksum = data.get("checksum")
        try:
            feed.book.apply(
                ws_book_levels(data, "asks"),
                ws_book_levels(data, "bids"),
                snapshot=snapshot,
                checksum=None if checksum is None else int(checksum),
            )
        except KrakenBookChecksumMismatch as exc:
            log.warning("%s; resyncing that symbol", exc)
            asyncio.get_running_loop().create_task(self.resync(symbol))
            return
        item = parse_ws_book(data, snapshot=snapshot)
        for queue in feed.queues:
            _offer(queue, item)

    def _current_snapshot(self, feed: _BookFeed) -> BookSnapshot:
        return BookSnapshot(
            venue="kraken",
            symbol=feed.symbol,
            bids=tuple(BookLevel(p, q) for p, q in feed.book.bids()),
            asks=tuple(BookLevel(p, q) for p, q in feed.book.asks()),
            checksum=feed.book.checksum(),
        )


def _offer(queue: asyncio.Queue[Any], item: Any) -> None:
    """A slow consumer loses the oldest item rather than stalling every other subscriber."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)
