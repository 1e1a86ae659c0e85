"""Kraken Futures through the core against the simulator: each order type round-trips, amend,
cancel, batch, cancel-all, reduce-only refusal, positions after fills, unknown outcomes."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    ExecType,
    OffsetUnit,
    OrderType,
    OrdStatus,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerReference,
)
from tests.integration.venues.kraken.futures.conftest import SYMBOL, FuturesHarness


async def test_instruments_and_ticker(harness: FuturesHarness) -> None:
    symbols = {i.symbol: i for i in await harness.venue.instruments()}
    assert {"BTC/USD:USD", "BTC/USD:BTC", "ETH/USD:USD"} <= set(symbols)
    linear = symbols["BTC/USD:USD"]
    assert linear.venue == "krakenfutures" and linear.lot_size == Decimal("0.0001")
    assert linear.max_leverage == Decimal(50)
    ticker = await harness.bundle.market_data.ticker(SYMBOL)
    assert ticker.mark_price is not None and ticker.index_price is not None


async def test_limit_rests_then_amend_then_cancel(harness: FuturesHarness) -> None:
    bid, _ = await harness.prices()
    price = (bid * Decimal("0.9")).quantize(Decimal(1))
    order = await harness.service.submit(
        harness.ctx, harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=price)
    )
    assert order.status is OrdStatus.NEW and order.venue_order_id
    cid = order.client_order_id
    amended = await harness.service.amend(
        harness.ctx, AmendRequest(client_order_id=cid, qty=Decimal("0.02"), price=price - 10)
    )
    assert amended.qty == Decimal("0.02") and amended.price == price - 10
    open_at_venue = {s.venue_order_id: s for s in await harness.venue.open_orders()}
    assert open_at_venue[order.venue_order_id].qty == Decimal("0.02")
    assert open_at_venue[order.venue_order_id].price == price - 10
    await harness.service.cancel(harness.ctx, CancelRequest(client_order_id=cid))
    done = await harness.done(cid)
    assert done.exec_type is ExecType.CANCELED
    assert order.venue_order_id not in {s.venue_order_id for s in await harness.venue.open_orders()}


@pytest.mark.parametrize(
    ("order_type", "kw"),
    [
        (OrderType.MARKET, {}),
        (OrderType.LIMIT, {"time_in_force": TimeInForce.IOC, "cross": True}),
    ],
)
async def test_taking_orders_fill(
    harness: FuturesHarness, order_type: OrderType, kw: dict[str, object]
) -> None:
    _, ask = await harness.prices()
    if kw.pop("cross", False):
        kw["price"] = (ask * Decimal("1.01")).quantize(Decimal(1))
    order = await harness.service.submit(
        harness.ctx, harness.order(order_type, Side.BUY, "0.01", **kw)
    )
    done = await harness.done(order.client_order_id)
    assert done.exec_type is ExecType.FILL and done.cum_qty == Decimal("0.01")
    assert done.avg_px > 0 and done.trade_id


async def test_post_only_that_would_take_is_rejected(harness: FuturesHarness) -> None:
    _, ask = await harness.prices()
    order = await harness.service.submit(
        harness.ctx,
        harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=ask + 100, post_only=True),
    )
    assert order.status is OrdStatus.REJECTED and order.reject is not None
    assert order.reject.reason is ErrorReason.POST_ONLY_WOULD_TAKE
    assert order.reject.venue_text == "postWouldExecute"


@pytest.mark.parametrize(
    ("order_type", "kw"),
    [
        (OrderType.STOP_LOSS, {"stop": 1.2}),
        (OrderType.STOP_LOSS_LIMIT, {"stop": 1.2, "limit": 1.25}),
        (OrderType.TAKE_PROFIT, {"stop": 0.8}),
        (OrderType.TAKE_PROFIT_LIMIT, {"stop": 0.8, "limit": 0.85}),
        (
            OrderType.TRAILING_STOP,
            {"trailing_offset": Decimal(5), "trailing_offset_unit": OffsetUnit.PERCENT},
        ),
        (
            OrderType.TRAILING_STOP_LIMIT,
            {"trailing_offset": Decimal(5000), "limit_offset": Decimal(100)},
        ),
    ],
)
async def test_trigger_orders_rest_untriggered_then_cancel(
    harness: FuturesHarness, order_type: OrderType, kw: dict[str, object]
) -> None:
    bid, _ = await harness.prices()
    stop = kw.pop("stop", None)
    limit = kw.pop("limit", None)
    if stop is not None:
        kw["stop_price"] = (bid * Decimal(str(stop))).quantize(Decimal(1))
    if limit is not None:
        kw["price"] = (bid * Decimal(str(limit))).quantize(Decimal(1))
    order = await harness.service.submit(
        harness.ctx,
        harness.order(order_type, Side.BUY, "0.01", trigger_reference=TriggerReference.MARK, **kw),
    )
    assert order.status is OrdStatus.NEW
    states = {s.venue_order_id: s for s in await harness.venue.open_orders()}
    assert order.venue_order_id in states
    await harness.service.cancel(harness.ctx, CancelRequest(client_order_id=order.client_order_id))
    assert (await harness.done(order.client_order_id)).exec_type is ExecType.CANCELED


async def test_reduce_only_that_would_increase_is_rejected(harness: FuturesHarness) -> None:
    request = harness.order(OrderType.MARKET, Side.SELL, "0.01", reduce_only=True)
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.REJECTED and order.reject is not None
    assert order.reject.reason is ErrorReason.REDUCE_ONLY_VIOLATION
    assert order.reject.venue_text == "wouldNotReducePosition"
    report = await harness.done(request.client_order_id)
    assert report.exec_type is ExecType.REJECTED and report.reject is not None
    assert report.reject.reason is ErrorReason.REDUCE_ONLY_VIOLATION


async def test_unsupported_fields_never_reach_kraken(harness: FuturesHarness) -> None:
    # Refused before the order exists (the adapter's OrderRulesPort): nothing journaled or sent.
    with pytest.raises(InvalidArgument) as err:
        await harness.service.submit(
            harness.ctx,
            harness.order(
                OrderType.LIMIT,
                Side.BUY,
                "0.01",
                price=Decimal(1),
                self_trade_prevention=SelfTradePrevention.CANCEL_BOTH,
            ),
        )
    assert err.value.reason is ErrorReason.INVALID_FIELD
    assert err.value.metadata == {"field": "self_trade_prevention"}
    assert await harness.venue.open_orders() == []
    assert await harness.service.list_open_orders(harness.ctx) == []


async def test_positions_after_two_fills_and_a_reduce_only_close(harness: FuturesHarness) -> None:
    prices: list[Decimal] = []
    for expected in (Decimal(1), Decimal(2)):
        order = await harness.service.submit(
            harness.ctx, harness.order(OrderType.MARKET, Side.BUY, "1")
        )
        fill = await harness.done(order.client_order_id)
        assert fill.exec_type is ExecType.FILL
        prices.append(fill.avg_px)
        (position,) = await harness.venue.positions()
        assert position.symbol == SYMBOL and position.qty == expected
        assert position.entry_price == sum(prices) / len(prices)
    close = await harness.service.submit(
        harness.ctx, harness.order(OrderType.MARKET, Side.SELL, "1", reduce_only=True)
    )
    assert (await harness.done(close.client_order_id)).exec_type is ExecType.FILL
    (position,) = await harness.venue.positions()
    assert position.qty == Decimal(1) and position.entry_price == sum(prices) / 2


async def test_batch_submit_and_batch_cancel_and_cancel_all(harness: FuturesHarness) -> None:
    bid, _ = await harness.prices()
    price = (bid * Decimal("0.8")).quantize(Decimal(1))
    requests = [harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=price - i) for i in range(3)]
    results = await harness.service.submit_batch(harness.ctx, requests)
    assert all(not isinstance(r, Exception) and r.status is OrdStatus.NEW for r in results)
    canceled = await harness.service.cancel_batch(
        harness.ctx, [CancelRequest(client_order_id=r.client_order_id) for r in requests[:2]]
    )
    assert all(not isinstance(c, Exception) for c in canceled)
    for r in requests[:2]:
        assert (await harness.done(r.client_order_id)).exec_type is ExecType.CANCELED
    more = [harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=price) for _ in range(2)]
    for r in more:
        await harness.service.submit(harness.ctx, r)
    count = await harness.service.cancel_all(harness.ctx, SYMBOL)
    assert count == 3
    for r in [requests[2], *more]:
        assert (await harness.done(r.client_order_id)).exec_type is ExecType.CANCELED


async def test_public_trades_stream_starts_with_recent_trades(harness: FuturesHarness) -> None:
    order = await harness.service.submit(
        harness.ctx, harness.order(OrderType.MARKET, Side.BUY, "0.01")
    )
    fill = await harness.done(order.client_order_id)
    trades = harness.bundle.market_data.stream_trades(SYMBOL)
    try:
        async with asyncio.timeout(15):
            async for trade in trades:
                if trade.price == fill.last_px and trade.qty == fill.last_qty:
                    break
        assert trade.venue == "krakenfutures" and trade.symbol == SYMBOL and trade.trade_id
    finally:
        await trades.aclose()


async def test_positions_carry_the_feeds_mark_and_pnl(harness: FuturesHarness) -> None:
    stream = harness.venue.stream_positions()
    try:
        await anext(stream)  # the snapshot
        order = await harness.service.submit(
            harness.ctx, harness.order(OrderType.MARKET, Side.BUY, "0.01")
        )
        await harness.done(order.client_order_id)
        async with asyncio.timeout(15):
            async for update in stream:  # the feed's view reached the new size
                if any(p.symbol == SYMBOL and p.qty == Decimal("0.01") for p in update):
                    break
    finally:
        await stream.aclose()
    (position,) = await harness.venue.positions()
    assert position.qty == Decimal("0.01") and position.entry_price
    assert position.mark_price is not None and position.unrealized_pnl is not None
    assert position.margin is not None and position.margin > 0
