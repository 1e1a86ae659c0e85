"""A restart with a futures order open: the order fills while the gateway is down; the restarted
gateway reports that fill once (from the feed's snapshot), then the order is FILLED."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.core.model import ExecType, OrderType, OrdStatus, Side
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.futures.conftest import start_harness


async def test_fill_while_down_is_reported_once_after_restart(
    sim: SimulatorServer, tmp_path: Path, maker_rest: KrakenFuturesRestClient
) -> None:
    data = tmp_path / "gw"
    first = await start_harness(sim, data)
    try:
        bid, ask = await first.prices()
        price = bid + 1 if bid + 1 < ask else bid
        request = first.order(OrderType.LIMIT, Side.BUY, "0.01", price=price)
        order = await first.service.submit(first.ctx, request)
        assert order.status is OrdStatus.NEW
    finally:
        await first.close()
    # While the gateway is down, another key sells through the order's price.
    result = await maker_rest.write(
        "sendorder",
        {
            "orderType": "ioc",
            "symbol": "PF_XBTUSD",
            "side": "sell",
            "size": "5",
            "limitPrice": str(price),
        },
    )
    assert result["sendStatus"]["status"] == "placed"
    second = await start_harness(sim, data)
    try:
        done = await second.done(request.client_order_id)
        assert done.exec_type is ExecType.FILL and done.cum_qty == Decimal("0.01")
        restored = await second.service.get_order(second.ctx, request.client_order_id)
        assert restored.status is OrdStatus.FILLED
        fills = [
            r
            for r in second.reports.items
            if r.client_order_id == request.client_order_id and r.trade_id
        ]
        assert len(fills) == 1
    finally:
        await second.close()
