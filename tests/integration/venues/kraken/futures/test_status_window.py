"""Kraken answers orders/status only for orders open or closed in the last 5 seconds (the
simulator too; these tests shrink the window to 0 so nothing waits): an order that closed
out of sight is settled from the order history, never taken for unknown to the venue."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from gateway.core.model import ExecType, OrderType, OrdStatus, Side, TimeInForce
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.futures.conftest import (
    TRADER,
    WAIT_S,
    FuturesHarness,
    credentials,
)
from tests.integration.venues.kraken.spot.conftest import set_faults


async def close_status_window(sim: SimulatorServer) -> None:
    async with httpx.AsyncClient() as http:
        url = f"{sim.base_url}/_sim/futures/settings"
        response = await http.post(url, content=json.dumps({"order_status_window_s": 0}))
        assert response.status_code == 200, response.text
        assert (await http.get(url)).json() == {"order_status_window_s": 0.0}
        for bad in ({"order_status_window_s": -1}, {"order_status_window_s": "0"}, [0]):
            refused = await http.post(url, content=json.dumps(bad))
            assert refused.status_code == 400, refused.text


@pytest.fixture
async def trader_rest(sim: SimulatorServer) -> AsyncIterator[KrakenFuturesRestClient]:
    """The trader's own futures key over plain REST: someone else acting on the account."""
    rest = KrakenFuturesRestClient(
        sim.base_url,
        credentials(TRADER),
        KrakenNonceSource("ftrader-other", InMemoryNonceStore()),
        KrakenFuturesRateGovernor(),
    )
    try:
        yield rest
    finally:
        await rest.close()


async def test_simulator_status_window_leaves_closed_orders_out(
    harness: FuturesHarness, trader_rest: KrakenFuturesRestClient
) -> None:
    bid, _ = await harness.prices()
    request = harness.order(
        OrderType.LIMIT, Side.BUY, "0.01", price=(bid * Decimal("0.9")).quantize(Decimal(1))
    )
    order = await harness.service.submit(harness.ctx, request)
    assert order.venue_order_id
    params = [("orderIds", order.venue_order_id)]
    assert len((await trader_rest.read("orders/status", params))["orders"]) == 1  # open
    await trader_rest.write("cancelorder", {"order_id": order.venue_order_id})
    assert len((await trader_rest.read("orders/status", params))["orders"]) == 1  # just closed
    await close_status_window(harness.sim)
    assert (await trader_rest.read("orders/status", params))["orders"] == []


async def test_cancel_while_the_feed_is_down_is_reported_with_kraken_reason(
    harness: FuturesHarness, trader_rest: KrakenFuturesRestClient
) -> None:
    await close_status_window(harness.sim)
    bid, _ = await harness.prices()
    request = harness.order(
        OrderType.LIMIT, Side.BUY, "0.01", price=(bid * Decimal("0.9")).quantize(Decimal(1))
    )
    order = await harness.service.submit(harness.ctx, request)
    assert order.venue_order_id
    reconciled = harness.venue.reconciliations
    # The cancel's open_orders message is lost and the private feed cut right after it.
    await set_faults(
        harness.sim,
        {"rules": [{"match": "fws:open_orders", "action": "disconnect", "times": 1}]},
    )
    await trader_rest.write("cancelorder", {"order_id": order.venue_order_id})
    await harness.venue.wait_reconciliations(reconciled + 1, WAIT_S)
    done = await harness.done(request.client_order_id)
    assert done.exec_type is ExecType.CANCELED
    assert done.ord_status is OrdStatus.CANCELED
    assert done.text == "cancelled_by_user"


LOST_SUBMIT_AND_SILENT_FEED = {
    "rules": [
        {"match": "/derivatives/api/v3/sendorder", "action": "drop_after_accept"},
        {"match": "fws:open_orders", "action": "drop"},
        {"match": "fws:fills", "action": "drop"},
    ]
}


async def test_lost_submit_answer_of_a_filled_order_is_settled_from_the_history(
    harness: FuturesHarness,
) -> None:
    await close_status_window(harness.sim)
    # The sendorder answer is lost and the feed says nothing of the order: only a query
    # (orders/status, then the history) can tell what became of it.
    await set_faults(harness.sim, LOST_SUBMIT_AND_SILENT_FEED)
    request = harness.order(OrderType.MARKET, Side.BUY, "0.01")
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.PENDING_NEW
    done = await harness.done(request.client_order_id)
    assert done.exec_type is ExecType.FILL
    assert done.ord_status is OrdStatus.FILLED and done.cum_qty == Decimal("0.01")


async def test_lost_submit_answer_of_a_rejected_ioc_is_settled_from_the_history(
    harness: FuturesHarness,
) -> None:
    await close_status_window(harness.sim)
    await set_faults(harness.sim, LOST_SUBMIT_AND_SILENT_FEED)
    bid, _ = await harness.prices()
    # An IOC far below the market: Kraken takes it, then closes it (ioc_would_not_execute).
    request = harness.order(
        OrderType.LIMIT,
        Side.BUY,
        "0.01",
        price=(bid * Decimal("0.9")).quantize(Decimal(1)),
        time_in_force=TimeInForce.IOC,
    )
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.PENDING_NEW
    done = await harness.done(request.client_order_id)
    assert done.ord_status is OrdStatus.REJECTED and done.cum_qty == 0
    assert done.venue_order_id  # the order Kraken had, not "unknown to the venue"
    assert done.reject is not None and done.reject.text == "ioc_would_not_execute"


async def test_lost_submit_answer_of_an_order_cancelled_since_is_settled_from_the_history(
    harness: FuturesHarness, trader_rest: KrakenFuturesRestClient
) -> None:
    await close_status_window(harness.sim)
    # orders/status fails until the order is cancelled, so the resolver cannot see it open.
    status_down = {
        "match": "/derivatives/api/v3/orders/status",
        "action": "http_status",
        "status": 503,
    }
    rules = LOST_SUBMIT_AND_SILENT_FEED["rules"]
    await set_faults(harness.sim, {"rules": [*rules, status_down]})
    bid, _ = await harness.prices()
    request = harness.order(
        OrderType.LIMIT, Side.BUY, "0.01", price=(bid * Decimal("0.9")).quantize(Decimal(1))
    )
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.PENDING_NEW
    opened = await trader_rest.read("openorders")
    [venue_order] = opened["openOrders"]
    await trader_rest.write("cancelorder", {"order_id": venue_order["order_id"]})
    await set_faults(harness.sim, {"rules": rules[1:]})  # the feed stays silent
    done = await harness.done(request.client_order_id)
    assert done.exec_type is ExecType.CANCELED and done.ord_status is OrdStatus.CANCELED
    assert done.venue_order_id == venue_order["order_id"]
    assert done.text == "cancelled_by_user"
