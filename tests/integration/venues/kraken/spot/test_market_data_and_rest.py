"""Market data (ticker, book, public trades), REST nonce order under concurrency, the REST
fallback of order entry, and the governor fed from the executions channel."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal

from gateway.core.model import (
    BookSnapshot,
    BookUpdate,
    CancelRequest,
    OrderRequest,
    OrderType,
    OrdStatus,
    PublicTrade,
    Side,
)
from gateway.venues.kraken.common.ratelimit import TIER_LIMITS, KrakenTier
from tests.integration.venues.kraken.spot.conftest import SpotHarness, set_faults


async def test_ticker_and_checksummed_book(harness: SpotHarness) -> None:
    market = harness.bundle.market_data
    ticker = await market.ticker("ETH/USD")
    assert ticker.symbol == "ETH/USD"
    assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
    stream = market.stream_book("BTC/USD", 10)
    async with asyncio.timeout(15):
        first = await anext(stream)
        update = await anext(stream)
    await stream.aclose()
    assert isinstance(first, BookSnapshot) and first.checksum is not None
    assert 0 < len(first.bids) <= 10 and first.bids[0].price < first.asks[0].price
    assert isinstance(update, BookUpdate | BookSnapshot)
    assert market.book_messages >= 2 and not market.resyncs


async def test_public_trades_stream(harness: SpotHarness) -> None:
    stream = harness.bundle.market_data.stream_trades("BTC/USD")
    first = asyncio.ensure_future(anext(stream))
    # Market sells until one shows on the public feed (the first may precede the subscription).
    order = OrderRequest(
        client_order_id="t1",
        symbol="BTC/USD",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        qty=Decimal("0.02"),
    )
    async with asyncio.timeout(15):
        while True:
            await harness.service.submit(harness.ctx, order)
            done, _ = await asyncio.wait({first}, timeout=1)
            if done:
                break
            order = replace(order, client_order_id=harness.next_id("t"))
    trade = first.result()
    await stream.aclose()
    assert isinstance(trade, PublicTrade) and trade.symbol == "BTC/USD"
    assert trade.price > 0 and trade.qty > 0


async def test_concurrent_reads_on_one_key_keep_nonce_order(harness: SpotHarness) -> None:
    calls = [harness.venue.balances() for _ in range(8)] + [
        harness.venue.open_orders() for _ in range(8)
    ]
    results = await asyncio.gather(*calls)  # any EAPI:Invalid nonce would raise here
    assert all(r is not None for r in results)


async def test_order_entry_falls_back_to_rest_without_websocket(harness: SpotHarness) -> None:
    await harness.venue.ws.stop()
    assert not harness.venue.ws.connected
    bid, _ = await harness.prices()
    request = harness.limit(Side.BUY, "0.1", (bid * Decimal("0.8")).quantize(Decimal("0.1")))
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.NEW and order.venue_order_id
    canceled = await harness.service.cancel(
        harness.ctx, CancelRequest(client_order_id=request.client_order_id)
    )
    assert canceled.status is OrdStatus.CANCELED
    assert await harness.venue.open_orders() == []


async def test_governor_learns_the_tier_threshold_from_executions(harness: SpotHarness) -> None:
    governor = harness.venue._governor
    assert governor.trading.threshold == TIER_LIMITS[KrakenTier.PRO].trade_threshold
    bid, _ = await harness.prices()
    request = harness.limit(Side.BUY, "0.1", (bid * Decimal("0.8")).quantize(Decimal("0.1")))
    await harness.service.submit(harness.ctx, request)
    headroom = {c.name: c for c in harness.venue.rate_headroom().trading}
    assert headroom["spot_trading:BTC/USD"].level > 0
    await harness.service.cancel(
        harness.ctx, CancelRequest(client_order_id=request.client_order_id)
    )


class _Reconnects(logging.Handler):
    """The waits the public feed announced after its connection closed."""

    def __init__(self, enough: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self._enough = enough
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Kraken public WebSocket closed; reconnecting in"):
            assert isinstance(record.args, tuple)
            self.waits.append(float(record.args[0]))
            if len(self.waits) >= self._enough:
                self.seen.set()


async def test_a_public_feed_dropped_on_every_message_backs_off(harness: SpotHarness) -> None:
    # Every ticker frame cuts the connection: each one closes early, so each reconnect waits
    # the next (jittered, doubling) delay instead of reconnecting in a tight loop.
    await set_faults(harness.sim, {"rules": [{"match": "ws:ticker", "action": "disconnect"}]})
    watcher = _Reconnects(enough=3)
    feed_log = logging.getLogger("gateway.venues.kraken.spot.market_data")
    feed_log.addHandler(watcher)
    stream = harness.bundle.market_data.stream_ticker("BTC/USD")
    first = asyncio.ensure_future(anext(stream))
    try:
        async with asyncio.timeout(15):
            await watcher.seen.wait()
        assert all(wait > 0 for wait in watcher.waits), watcher.waits
        assert watcher.waits[2] > watcher.waits[0]  # [0.2, 0.4] s after [0.05, 0.1] s
        await set_faults(harness.sim, {"rules": []})  # the venue recovers: so does the feed
        async with asyncio.timeout(15):
            ticker = await first
        assert ticker.symbol == "BTC/USD"
    finally:
        feed_log.removeHandler(watcher)
        first.cancel()
        await stream.aclose()
