"""Kraken Futures market data: REST ticker (mark, index, funding, open interest), WS v1 ticker,
L2 book with sequence-gap detection, and public trades.

Each stream owns one public WS connection. The trade stream starts with the feed's snapshot of
recent trades (oldest first), then each new trade. The book feed sends a snapshot, then one
message per level change with a per-product `seq` that must be contiguous (wire 9.3; Futures has no
checksum): on a gap the stream unsubscribes and subscribes again, drops what it held, and the
fresh snapshot is passed on as a new `BookSnapshot`. A dropped connection reconnects with
jittered exponential backoff (a connection that closes early waits too; see
`ReconnectPacer`) and resumes the same way. The ticker stream also subscribes the
`heartbeat` feed on its connection and passes the latest ticker on again on each heartbeat, so a
consumer sees the feed is alive (`TickerFeedPort`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from websockets.exceptions import WebSocketException

from gateway.core.backoff import ReconnectPacer
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import BookLevel, BookSnapshot, BookUpdate, PublicTrade, Ticker
from gateway.venues.kraken.common.wire_scalars import dec
from gateway.venues.kraken.futures.parse_instruments import (
    KrakenFuturesSymbols,
    parse_ticker,
    parse_ws_ticker,
)
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from gateway.venues.kraken.futures.wire_values import SIDES, VENUE, exact, parse_time
from gateway.venues.kraken.futures.ws import JsonMessage, KrakenFuturesWsConnection

log = logging.getLogger(__name__)

BookItem = BookSnapshot | BookUpdate


def _levels(rows: Any, *, descending: bool, depth: int) -> tuple[BookLevel, ...]:
    levels = [BookLevel(dec(r["price"], "price"), dec(r["qty"], "qty")) for r in rows or []]
    levels = [lvl for lvl in levels if lvl.qty > 0]
    levels.sort(key=lambda lvl: lvl.price, reverse=descending)
    return tuple(levels[:depth])


def parse_book_snapshot(msg: Mapping[str, Any], symbol: str, depth: int) -> BookSnapshot:
    return BookSnapshot(
        venue=VENUE,
        symbol=symbol,
        bids=_levels(msg.get("bids"), descending=True, depth=depth),
        asks=_levels(msg.get("asks"), descending=False, depth=depth),
        sequence=int(msg.get("seq", 0)),
        time=parse_time(msg.get("timestamp")),
    )


def parse_book_delta(msg: Mapping[str, Any], symbol: str) -> BookUpdate:
    level = (BookLevel(dec(msg["price"], "price"), dec(msg["qty"], "qty")),)
    buy = msg.get("side") == "buy"
    return BookUpdate(
        venue=VENUE,
        symbol=symbol,
        bids=level if buy else (),
        asks=() if buy else level,
        sequence=int(msg["seq"]),
        time=parse_time(msg.get("timestamp")),
    )


def parse_trade(msg: Mapping[str, Any], symbol: str) -> PublicTrade:
    return PublicTrade(
        venue=VENUE,
        symbol=symbol,
        trade_id=str(msg["uid"]),
        side=exact(SIDES, msg.get("side"), "trade side"),
        price=dec(msg["price"], "price"),
        qty=dec(msg["qty"], "qty"),
        time=parse_time(msg.get("time")),
    )


class KrakenFuturesMarketData:
    """MarketDataPort over Kraken Futures' public REST and WS v1."""

    def __init__(
        self,
        ws_url: str,
        rest: KrakenFuturesRestClient,
        symbols: KrakenFuturesSymbols,
        *,
        backoff_s: float = 0.1,
        backoff_max_s: float = 5.0,
        stable_s: float = 30.0,
    ) -> None:
        self._url = ws_url
        self._rest = rest
        self._symbols = symbols
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self._stable = stable_s
        self.sequence_gaps = 0  # book resyncs after a seq gap (tests, metrics)

    def _kraken(self, symbol: str) -> str:
        try:
            return self._symbols.to_kraken[symbol]
        except KeyError:
            raise InvalidArgument(
                f"unknown symbol {symbol}", ErrorReason.UNKNOWN_SYMBOL, metadata={"field": "symbol"}
            ) from None

    async def ticker(self, symbol: str) -> Ticker:
        kraken = self._kraken(symbol)
        payload = await self._rest.public("tickers")
        for row in payload.get("tickers") or []:
            if str(row.get("symbol", "")).upper() == kraken:
                return parse_ticker(row, self._symbols)
        raise InvalidArgument(
            f"no ticker for {symbol}", ErrorReason.UNKNOWN_SYMBOL, metadata={"field": "symbol"}
        )

    async def close(self) -> None:
        """Streams own their connections and close them when their consumer stops."""

    def _pacer(self) -> ReconnectPacer:
        return ReconnectPacer(self._backoff, self._backoff_max, self._stable)

    async def _connect(
        self, feed: str, product: str, pacer: ReconnectPacer
    ) -> KrakenFuturesWsConnection:
        while True:
            conn = KrakenFuturesWsConnection(self._url)
            try:
                await conn.open()
                await conn.send({"event": "subscribe", "feed": feed, "product_ids": [product]})
            except (OSError, WebSocketException, TimeoutError) as exc:
                await conn.close()
                wait = pacer.failed()
                log.warning(
                    "Kraken Futures %s feed connect failed (%s); retrying in %.2fs",
                    feed,
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            pacer.opened()
            return conn

    async def _reconnect_wait(self, feed: str, pacer: ReconnectPacer) -> None:
        wait = pacer.closed()
        log.warning("Kraken Futures %s feed closed; reconnecting in %.2fs", feed, wait)
        await asyncio.sleep(wait)

    async def stream_book(self, symbol: str, depth: int) -> AsyncGenerator[BookItem, None]:
        product = self._kraken(symbol)
        pacer = self._pacer()
        while True:
            conn = await self._connect("book", product, pacer)
            try:
                last: int | None = None
                while (msg := await conn.next()) is not None:
                    feed = msg.get("feed")
                    if feed == "book_snapshot" and msg.get("product_id") == product:
                        snapshot = parse_book_snapshot(msg, symbol, depth)
                        last = snapshot.sequence
                        yield snapshot
                    elif feed == "book" and msg.get("product_id") == product and last is not None:
                        update = parse_book_delta(msg, symbol)
                        if update.sequence <= last:
                            continue  # already applied
                        if update.sequence != last + 1:
                            self.sequence_gaps += 1
                            log.warning(
                                "futures book %s: seq %s after %s; resyncing",
                                product,
                                update.sequence,
                                last,
                            )
                            last = None
                            await self._resubscribe(conn, product)
                            continue
                        last = update.sequence
                        yield update
            finally:
                await conn.close()
            await self._reconnect_wait("book", pacer)

    async def _resubscribe(self, conn: KrakenFuturesWsConnection, product: str) -> None:
        base: JsonMessage = {"feed": "book", "product_ids": [product]}
        await conn.send({"event": "unsubscribe", **base})
        await conn.send({"event": "subscribe", **base})

    async def stream_ticker(self, symbol: str) -> AsyncGenerator[Ticker, None]:
        product = self._kraken(symbol)
        pacer = self._pacer()
        while True:
            conn = await self._connect("ticker", product, pacer)
            try:
                await conn.send({"event": "subscribe", "feed": "heartbeat"})
                last: Ticker | None = None
                while (msg := await conn.next()) is not None:
                    feed = msg.get("feed")
                    if feed == "ticker" and msg.get("product_id") == product:
                        last = parse_ws_ticker(msg, self._symbols)
                        yield last
                    elif feed == "heartbeat" and last is not None:
                        yield last  # nothing moved: the last ticker is still the current one
            finally:
                await conn.close()
            await self._reconnect_wait("ticker", pacer)

    async def stream_trades(self, symbol: str) -> AsyncGenerator[PublicTrade, None]:
        product = self._kraken(symbol)
        pacer = self._pacer()
        while True:
            conn = await self._connect("trade", product, pacer)
            try:
                while (msg := await conn.next()) is not None:
                    if msg.get("product_id") != product:
                        continue
                    if msg.get("feed") == "trade_snapshot":
                        # Recent trades first (oldest first), like Spot's trade snapshot.
                        rows = sorted(msg.get("trades") or [], key=lambda t: int(t.get("seq", 0)))
                        for row in rows:
                            yield parse_trade(row, symbol)
                    elif msg.get("feed") == "trade":
                        yield parse_trade(msg, symbol)
            finally:
                await conn.close()
            await self._reconnect_wait("trade", pacer)


__all__ = ["KrakenFuturesMarketData", "parse_book_delta", "parse_book_snapshot", "parse_trade"]
