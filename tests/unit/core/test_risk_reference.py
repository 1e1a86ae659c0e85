"""Pre-trade risk against the market reference price: the arithmetic of core/risk.py and the
freshness rules of core/reference_prices.py (pure: a fake clock and an in-memory ticker feed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest

from gateway.core.errors import ErrorReason, RiskRejected
from gateway.core.model import Instrument, OrderRequest, OrderType, ProductType, Side, Ticker
from gateway.core.ports import TickerFeedPort
from gateway.core.reference_prices import ReferencePrices, reference_of
from gateway.core.risk import RiskEngine, RiskLimits

ACCOUNT = "acct"
SPOT = Instrument(
    venue="kraken",
    symbol="BTC/USD",
    venue_symbol="XBTUSD",
    product_type=ProductType.SPOT,
    base="BTC",
    quote="USD",
    tick_size=D("0.1"),
    lot_size=D("0.0001"),
)
INVERSE = Instrument(
    venue="krakenfutures",
    symbol="BTC/USD:BTC",
    venue_symbol="PI_XBTUSD",
    product_type=ProductType.PERPETUAL,
    base="BTC",
    quote="USD",
    settle="BTC",
    tick_size=D("0.5"),
    lot_size=D(1),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ticker(**fields: Any) -> Ticker:
    return Ticker(venue="kraken", symbol="BTC/USD", **fields)


def order(**fields: Any) -> OrderRequest:
    base: dict[str, Any] = {
        "client_order_id": "c1",
        "symbol": "BTC/USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": D(1),
        "price": D(100000),
    }
    base.update(fields)
    return OrderRequest(**base)


def engine(clock: Clock, **limits: Any) -> RiskEngine:
    risk = RiskEngine(ReferencePrices(clock))
    risk.set_limits(ACCOUNT, RiskLimits(**limits))
    return risk


def refused(risk: RiskEngine, request: OrderRequest, instrument: Instrument = SPOT) -> RiskRejected:
    with pytest.raises(RiskRejected) as err:
        risk.check(ACCOUNT, request, instrument, open_orders=0)
    return err.value


def test_reference_is_mark_then_mid_then_last() -> None:
    assert reference_of(ticker(mark_price=D(7), bid=D(1), ask=D(3), last=D(9))) == (D(7), "mark")
    assert reference_of(ticker(bid=D("99999.9"), ask=D("100000.1"), last=D(1))) == (
        D("100000.0"),
        "mid",
    )
    # A one-sided or crossed book has no meaningful mid: the last trade is the reference.
    assert reference_of(ticker(bid=D(0), ask=D(5), last=D(4))) == (D(4), "last")
    assert reference_of(ticker(bid=D(6), ask=D(5), last=D(4))) == (D(4), "last")
    assert reference_of(ticker(bid=D(0), ask=D(0), last=D(0))) is None


def test_band_measures_limit_and_stop_prices_from_the_market_reference() -> None:
    clock = Clock()
    risk = engine(clock, price_band_pct=D(10))
    risk.references.update("kraken", "BTC/USD", ticker(bid=D(99990), ask=D(100010)))
    err = refused(risk, order(price=D(50000)))
    assert err.reason is ErrorReason.RISK_PRICE_BAND
    assert err.metadata == {"band_pct": "10", "field": "price", "reference_price": "100000"}
    stop = order(order_type=OrderType.STOP_LOSS, price=None, stop_price=D(120000))
    assert refused(risk, stop).metadata["field"] == "stop_price"
    risk.check(ACCOUNT, order(price=D(91000)), SPOT, open_orders=0)
    risk.check(ACCOUNT, order(price=D(110000)), SPOT, open_orders=0)  # exactly 10%: inside


def test_market_notional_and_quote_quantity_use_the_reference() -> None:
    clock = Clock()
    risk = engine(clock, max_notional=D(250000), max_order_qty=D(4))
    risk.references.update("kraken", "BTC/USD", ticker(last=D(100000)))
    market = order(order_type=OrderType.MARKET, price=None, qty=D(3))
    err = refused(risk, market)
    assert err.reason is ErrorReason.RISK_MAX_NOTIONAL
    assert err.metadata["notional"] == "300000" and err.metadata["reference_price"] == "100000"
    risk.check(ACCOUNT, order(order_type=OrderType.MARKET, price=None, qty=D(2)), SPOT, 0)
    # 450,000 USD at 100,000 is 4.5 BTC: over max_order_qty 4, though under no notional limit.
    cash = order(order_type=OrderType.MARKET, price=None, qty=None, quote_qty=D(200000))
    risk.check(ACCOUNT, cash, SPOT, open_orders=0)
    risk.set_limits(ACCOUNT, RiskLimits(max_order_qty=D(4)))
    big_cash = order(order_type=OrderType.MARKET, price=None, qty=None, quote_qty=D(450000))
    assert refused(risk, big_cash).reason is ErrorReason.RISK_MAX_ORDER_QTY


def test_no_fresh_reference_refuses_unless_the_account_allows_it() -> None:
    clock = Clock()
    risk = engine(clock, price_band_pct=D(10), reference_max_age_s=5.0)
    err = refused(risk, order(price=D(50000)))
    assert err.reason is ErrorReason.RISK_NO_REFERENCE_PRICE
    assert err.metadata == {"symbol": "BTC/USD", "venue": "kraken"}
    risk.references.update("kraken", "BTC/USD", ticker(last=D(100000)))
    assert refused(risk, order(price=D(50000))).reason is ErrorReason.RISK_PRICE_BAND
    clock.now += 5.5  # the feed said nothing for longer than the max age: stale
    assert refused(risk, order(price=D(50000))).reason is ErrorReason.RISK_NO_REFERENCE_PRICE
    risk.references.update("kraken", "BTC/USD", ticker(last=D(100000)))  # a heartbeat confirms
    assert refused(risk, order(price=D(50000))).reason is ErrorReason.RISK_PRICE_BAND
    clock.now += 60
    risk.set_limits(ACCOUNT, RiskLimits(price_band_pct=D(10), allow_no_reference_price=True))
    risk.check(ACCOUNT, order(price=D(50000)), SPOT, open_orders=0)


def test_orders_no_limit_measures_against_the_market_need_no_reference() -> None:
    risk = engine(Clock(), max_notional=D(1000), max_order_qty=D(5))
    # A limit order's notional is its own price; an inverse contract is sized in quote units.
    assert refused(risk, order(price=D(2000))).reason is ErrorReason.RISK_MAX_NOTIONAL
    risk.check(ACCOUNT, order(price=D(900)), SPOT, open_orders=0)
    assert refused(risk, order(qty=D(6), price=D(1))).reason is ErrorReason.RISK_MAX_ORDER_QTY
    risk.set_limits(ACCOUNT, RiskLimits(max_notional=D(1000)))
    inverse = order(symbol="BTC/USD:BTC", order_type=OrderType.MARKET, price=None, qty=D(900))
    risk.check(ACCOUNT, inverse, INVERSE, open_orders=0)
    assert refused(risk, replace(inverse, qty=D(1001)), INVERSE).metadata["notional"] == "1001"


class QueueFeed:
    """A TickerFeedPort whose stream yields what the test puts in."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Ticker] = asyncio.Queue()
        self.opened = 0

    async def stream_ticker(self, symbol: str) -> AsyncIterator[Ticker]:
        self.opened += 1
        while True:
            yield await self.queue.get()


async def test_first_order_waits_for_the_feed_then_follows_it() -> None:
    clock = Clock()
    risk = engine(clock, price_band_pct=D(10), reference_wait_s=30.0)
    feed = QueueFeed()
    assert isinstance(feed, TickerFeedPort)
    assert risk.references.get("kraken", "BTC/USD", 10.0) is None
    feed.queue.put_nowait(ticker(bid=D(99990), ask=D(100010)))
    # No reference yet: this follows the feed and returns once its first ticker is in.
    await asyncio.wait_for(risk.reference_ready(ACCOUNT, order(), SPOT, feed), 10)
    risk.check(ACCOUNT, order(price=D(100500)), SPOT, open_orders=0)
    await risk.reference_ready(ACCOUNT, order(), SPOT, feed)  # fresh: returns at once
    assert feed.opened == 1
    await risk.close()


async def test_wait_gives_up_without_a_ticker_and_the_check_refuses() -> None:
    risk = engine(Clock(), price_band_pct=D(10), reference_wait_s=0.05)
    await risk.reference_ready(ACCOUNT, order(), SPOT, QueueFeed())
    assert refused(risk, order()).reason is ErrorReason.RISK_NO_REFERENCE_PRICE
    await risk.close()
