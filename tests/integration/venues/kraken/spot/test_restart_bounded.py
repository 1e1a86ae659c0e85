"""Restart reconciliation costs a bounded number of Kraken calls, not one per order; orders the
venue does not know (it lost its state: a simulator restarted empty) end in a definite state,
each reported once, with the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from gateway.core.model import ExecType, OrdStatus, Side
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    MAKER,
    TRADER,
    RestMaker,
    SpotHarness,
    accounts,
    start_harness,
)

PX = Decimal("40000")
ORDERS = 60  # four batches; the old reconciliation asked Kraken about each one


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=9, accounts=accounts([TRADER, MAKER]), market_maker=False
    ) as server:
        yield server


class PrivateCalls:
    """Counts the signed REST calls of one gateway run, by method."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.http = httpx.AsyncClient(event_hooks={"request": [self._seen]})

    async def _seen(self, request: httpx.Request) -> None:
        if "/0/private/" in request.url.path:
            self.methods.append(request.url.path.rsplit("/", 1)[-1])


async def _place(h: SpotHarness, n: int) -> list[str]:
    requests = [h.limit(Side.BUY, "0.01", PX - i) for i in range(n)]
    placed = await h.service.submit_batch(h.ctx, requests)
    assert all(not isinstance(o, Exception) and o.status is OrdStatus.NEW for o in placed)
    return [r.client_order_id for r in requests]


async def test_restart_with_many_open_orders_costs_a_few_calls(
    sim: SimulatorServer, tmp_path: Path, rest_maker: RestMaker
) -> None:
    data = tmp_path / "gw"
    before = await start_harness(sim, data)
    ids = await _place(before, ORDERS)
    await before.close()
    await rest_maker.take(Side.SELL, "0.01", PX)  # the best bid fills while the gateway is down

    calls = PrivateCalls()
    after = await start_harness(sim, data, http=calls.http)
    try:
        await after.done(ids[0])
        open_now = {o.client_order_id for o in await after.service.list_open_orders(after.ctx)}
        assert open_now == set(ids[1:])
        # Token, open orders (WS snapshot and REST), trades since, closed orders since: a
        # handful whatever the number of orders (one QueryOrders per order before).
        print(f"restart with {ORDERS} open orders: {len(calls.methods)} private calls")
        assert len(calls.methods) <= 8, calls.methods
        assert "QueryOrders" not in calls.methods
    finally:
        await after.close()
        await calls.http.aclose()


async def test_orders_a_venue_lost_are_settled_once_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    names = accounts([TRADER, MAKER])
    async with SimulatorServer(host="127.0.0.1", port=0, seed=3, accounts=names) as first:
        before = await start_harness(first, data)
        ids = await _place(before, 20)
        await before.close()
    # The venue restarts with no memory of those orders.
    async with SimulatorServer(host="127.0.0.1", port=0, seed=3, accounts=names) as empty:
        calls = PrivateCalls()
        after = await start_harness(empty, data, http=calls.http)
        try:
            assert await after.service.list_open_orders(after.ctx) == []
            for client_order_id in ids:
                report = await after.done(client_order_id)
                assert report.exec_type is ExecType.CANCELED
                assert "does not know this order" in report.text
                reports = after.reports.of(client_order_id)
                assert [r.exec_type for r in reports].count(ExecType.CANCELED) == 1
            assert len(calls.methods) <= 8, calls.methods
        finally:
            await after.close()
            await calls.http.aclose()
