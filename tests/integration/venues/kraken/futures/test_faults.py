"""Kraken Futures under faults: a lost sendorder answer is settled by query (never resent), a
dropped private feed re-syncs from its snapshots without losing or doubling a fill, and a gap
in the book feed's sequence resyncs the book."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from gateway.core.model import (
    BookSnapshot,
    BookUpdate,
    ExecType,
    OrderType,
    OrdStatus,
    Side,
)
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from tests.integration.venues.kraken.futures.conftest import (
    SYMBOL,
    TRADER,
    WAIT_S,
    FuturesHarness,
    futures_accounts,
    start_harness,
)
from tests.integration.venues.kraken.spot.conftest import set_faults


async def test_lost_sendorder_answer_is_settled_by_query_not_resent(
    harness: FuturesHarness,
) -> None:
    await set_faults(
        harness.sim,
        {
            "rules": [
                {
                    "match": "/derivatives/api/v3/sendorder",
                    "action": "drop_after_accept",
                    "times": 1,
                }
            ]
        },
    )
    bid, _ = await harness.prices()
    price = (bid * Decimal("0.9")).quantize(Decimal(1))
    request = harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=price)
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.PENDING_NEW
    new = await harness.reports.wait(
        lambda r: r.client_order_id == request.client_order_id and r.exec_type is ExecType.NEW
    )
    assert new[0].venue_order_id
    at_venue = [s for s in await harness.venue.open_orders() if s.price == price]
    assert len(at_venue) == 1 and at_venue[0].client_order_id == order.id_at_venue


async def test_feed_drop_resyncs_from_snapshots_without_losing_or_doubling_fills(
    harness: FuturesHarness,
) -> None:
    reconciled = harness.venue.reconciliations
    # The next fills message is lost and the private connection is cut right after it.
    await set_faults(
        harness.sim,
        {"rules": [{"match": "fws:fills", "action": "disconnect", "times": 1}]},
    )
    order = await harness.service.submit(
        harness.ctx, harness.order(OrderType.MARKET, Side.BUY, "0.01")
    )
    done = await harness.done(order.client_order_id)
    assert done.exec_type is ExecType.FILL and done.cum_qty == Decimal("0.01")
    await harness.venue.wait_reconciliations(reconciled + 1, WAIT_S)
    # A second fill after the reconnect; the first is never reported twice.
    second = await harness.service.submit(
        harness.ctx, harness.order(OrderType.MARKET, Side.BUY, "0.01")
    )
    await harness.done(second.client_order_id)
    fills = [r for r in harness.reports.items if r.trade_id]
    assert len(fills) == len({r.trade_id for r in fills}) == 2


async def test_book_sequence_gap_resyncs(harness: FuturesHarness) -> None:
    await set_faults(
        harness.sim,
        {"rules": [{"match": "fws:book", "action": "drop", "skip": 3, "times": 1}]},
    )
    stream = harness.bundle.market_data.stream_book(SYMBOL, 10)
    kinds: list[type] = []
    try:
        async with asyncio.timeout(WAIT_S):
            async for item in stream:
                kinds.append(type(item))
                if kinds.count(BookSnapshot) == 2:
                    break
                if isinstance(item, BookSnapshot):
                    assert item.bids and item.asks and item.bids[0].price < item.asks[0].price
                    # make the book move so deltas flow
                    _, ask = await harness.prices()
                    await harness.service.submit(
                        harness.ctx,
                        harness.order(
                            OrderType.LIMIT,
                            Side.BUY,
                            "0.01",
                            price=(ask * Decimal("0.99")).quantize(Decimal(1)),
                        ),
                    )
    finally:
        await stream.aclose()
    assert kinds[0] is BookSnapshot and BookUpdate in kinds
    assert harness.bundle.market_data.sequence_gaps == 1


async def test_silent_private_feed_is_replaced(tmp_path: Path) -> None:
    """With a manual clock the simulator sends no heartbeats: after the snapshots the private
    connection goes silent, so it is replaced and the new one reconciles again."""
    async with SimulatorServer(
        host="127.0.0.1", port=0, clock=ManualClock(), accounts=futures_accounts([TRADER])
    ) as sim:
        h = await start_harness(sim, tmp_path / "gw", ws_stale_after_s=0.3)
        try:
            await h.venue.wait_reconciliations(2, WAIT_S)
            assert h.venue.ws.stale_drops >= 1
        finally:
            await h.close()


async def test_5xx_on_a_read_is_retried(harness: FuturesHarness) -> None:
    """Two HTTP 503s (no Kraken envelope) on openorders: the read is retried and answers."""
    path = "/derivatives/api/v3/openorders"
    await set_faults(
        harness.sim,
        {"rules": [{"match": path, "action": "http_status", "status": 503, "times": 2}]},
    )
    bid, _ = await harness.prices()
    price = (bid * Decimal("0.9")).quantize(Decimal(1))
    order = await harness.service.submit(
        harness.ctx, harness.order(OrderType.LIMIT, Side.BUY, "0.01", price=price)
    )
    states = await harness.venue.open_orders()
    assert [s.venue_order_id for s in states] == [order.venue_order_id]
    (rule,) = [r for r in harness.sim.ctx.faults.rules if r.match == path]
    assert rule.times == 0  # both 503s were served: the read was sent three times
