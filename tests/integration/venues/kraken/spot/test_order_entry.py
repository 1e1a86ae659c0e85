"""Order entry through the core to the simulator: reports carry the venue's truth."""

from __future__ import annotations

from decimal import Decimal

from gateway.core.model import (
    CancelRequest,
    ExecType,
    OrderRequest,
    OrderType,
    OrdStatus,
    Side,
)
from tests.integration.venues.kraken.spot.conftest import SpotHarness


async def test_resting_limit_then_cancel(harness: SpotHarness) -> None:
    bid, _ = await harness.prices()
    request = harness.limit(Side.BUY, "0.5", (bid * Decimal("0.9")).quantize(Decimal("0.1")))
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.NEW
    assert order.venue_order_id
    canceled = await harness.service.cancel(
        harness.ctx, CancelRequest(client_order_id=request.client_order_id)
    )
    assert canceled.status is OrdStatus.CANCELED
    await harness.done(request.client_order_id)  # the report may follow the answer
    kinds = [r.exec_type for r in harness.reports.of(request.client_order_id)]
    assert kinds == [ExecType.PENDING_NEW, ExecType.NEW, ExecType.PENDING_CANCEL, ExecType.CANCELED]
    last = harness.reports.of(request.client_order_id)[-1]
    assert last.cum_qty == 0 and last.leaves_qty == 0


async def test_market_order_fills_with_fees(harness: SpotHarness) -> None:
    request = OrderRequest(
        client_order_id="mkt-1",
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
    )
    await harness.service.submit(harness.ctx, request)
    done = await harness.done("mkt-1")
    fills = [r for r in harness.reports.of("mkt-1") if r.trade_id]
    assert done.ord_status is OrdStatus.FILLED
    assert sum(r.last_qty for r in fills) == Decimal("0.01") == done.cum_qty
    notional = sum(r.last_qty * r.last_px for r in fills)
    assert done.avg_px == notional / done.cum_qty
    for r in fills:
        assert r.fee is not None and r.fee.asset == "USD" and r.fee.amount > 0
        assert r.liquidity is not None
    assert len({r.trade_id for r in fills}) == len(fills)
