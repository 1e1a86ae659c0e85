"""Kraken Futures restart reconciliation costs a bounded number of private calls, not one
orders/status per journaled order: many open orders, some filled and some cancelled while the
gateway is down; after the restart each order is in its true state, each fill reported once, and
the private calls are the same few whatever the number of orders."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import aiohttp

from gateway.core.model import ExecType, OrderType, OrdStatus, Side
from gateway.venues.kraken.common.nonce import InMemoryNonceStore, KrakenNonceSource
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor
from gateway.venues.kraken.futures.rest import KrakenFuturesRestClient
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.futures.conftest import (
    MAKER,
    TRADER,
    FuturesHarness,
    credentials,
    futures_accounts,
    start_harness,
)

QTY = Decimal("0.01")
FILLED = 3  # the first placed (time priority), filled by another key while the gateway is down
CANCELLED = 4  # cancelled on Kraken (same key, another client) while it is down


class PrivateCalls:
    """The signed REST calls (an `Authent` header) of one gateway run, by path."""

    def __init__(self) -> None:
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._seen)
        self.paths: Counter[str] = Counter()
        self.http = aiohttp.ClientSession(trace_configs=[trace])

    async def _seen(
        self,
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        request: aiohttp.TraceRequestStartParams,
    ) -> None:
        if "Authent" in request.headers:
            self.paths[request.url.path] += 1


async def _rest(sim: SimulatorServer, name: str) -> KrakenFuturesRestClient:
    return KrakenFuturesRestClient(
        sim.base_url,
        credentials(name),
        KrakenNonceSource(f"{name}-direct", InMemoryNonceStore()),
        KrakenFuturesRateGovernor(),
    )


async def _place(h: FuturesHarness, n: int) -> tuple[list[str], Decimal]:
    """N buys at one price inside the spread, so a sell there fills the first placed."""
    bid, ask = await h.prices()
    price = bid + 1
    assert price < ask
    requests = [
        h.order(OrderType.LIMIT, Side.BUY, str(QTY), price=price, client_order_id=f"b{i}")
        for i in range(n)
    ]
    placed = await h.service.submit_batch(h.ctx, requests)
    assert all(not isinstance(o, Exception) and o.status is OrdStatus.NEW for o in placed)
    return [r.client_order_id for r in requests], price


async def _restart_with(n: int, tmp_path: Path) -> Counter[str]:
    """N open orders, some filled and cancelled while down; the restart's private calls."""
    accounts = futures_accounts([TRADER, MAKER])
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=11, accounts=accounts, market_maker=False
    ) as sim:
        data = tmp_path / f"gw{n}"
        before = await start_harness(sim, data)
        try:
            ids, price = await _place(before, n)
            venue_ids = {
                cid: (await before.service.get_order(before.ctx, cid)).venue_order_id for cid in ids
            }
        finally:
            await before.close()
        maker, trader = await _rest(sim, MAKER), await _rest(sim, TRADER)
        try:
            sold = await maker.write(
                "sendorder",
                {
                    "orderType": "ioc",
                    "symbol": "PF_XBTUSD",
                    "side": "sell",
                    "size": str(QTY * FILLED),
                    "limitPrice": str(price),
                },
            )
            assert sold["sendStatus"]["status"] == "placed"
            for cid in ids[-CANCELLED:]:
                gone = await trader.write("cancelorder", {"order_id": venue_ids[cid] or ""})
                assert gone["cancelStatus"]["status"] == "cancelled"
        finally:
            await maker.close()
            await trader.close()

        calls = PrivateCalls()
        after = await start_harness(sim, data, http=calls.http)
        try:
            for cid in ids[:FILLED]:
                report = await after.done(cid)
                assert report.exec_type is ExecType.FILL and report.cum_qty == QTY
                fills = [r for r in after.reports.of(cid) if r.trade_id]
                assert len(fills) == 1, fills
            for cid in ids[-CANCELLED:]:
                report = await after.done(cid)
                assert report.exec_type is ExecType.CANCELED
                assert "does not know" not in report.text  # Kraken's cancel, not a lost order
                assert [r.exec_type for r in after.reports.of(cid)].count(ExecType.CANCELED) == 1
            still_open = set(ids[FILLED:-CANCELLED])
            open_now = {o.client_order_id for o in await after.service.list_open_orders(after.ctx)}
            assert open_now == still_open
            for cid in ids:
                order = await after.service.get_order(after.ctx, cid)
                expected = (
                    OrdStatus.FILLED
                    if cid in ids[:FILLED]
                    else OrdStatus.NEW
                    if cid in still_open
                    else OrdStatus.CANCELED
                )
                assert order.status is expected, (cid, order.status)
        finally:
            await after.close()
            await calls.http.close()
        return calls.paths


async def test_restart_costs_the_same_few_calls_whatever_the_number_of_orders(
    tmp_path: Path,
) -> None:
    forty, sixty = await _restart_with(40, tmp_path), await _restart_with(60, tmp_path)
    print(f"restart private calls: 40 orders {dict(forty)}, 60 orders {dict(sixty)}")
    assert forty == sixty
    # openorders, fills, one page of order history; no orders/status per order.
    assert sum(forty.values()) <= 4, forty
    assert forty["/api/history/v2/orders"] == 1
    assert forty["/derivatives/api/v3/orders/status"] == 0


async def test_restart_with_every_order_still_open_spends_no_history_call(
    tmp_path: Path,
) -> None:
    # Kraken Futures' history pool is 100 calls per 10 minutes: not spent when nothing closed.
    accounts = futures_accounts([TRADER])
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=11, accounts=accounts, market_maker=False
    ) as sim:
        before = await start_harness(sim, tmp_path / "gw")
        try:
            ids, _ = await _place(before, 5)
        finally:
            await before.close()
        calls = PrivateCalls()
        after = await start_harness(sim, tmp_path / "gw", http=calls.http)
        try:
            open_now = {o.client_order_id for o in await after.service.list_open_orders(after.ctx)}
            assert open_now == set(ids)
            assert calls.paths["/api/history/v2/orders"] == 0, calls.paths
            assert calls.paths["/derivatives/api/v3/orders/status"] == 0, calls.paths
            assert calls.paths["/derivatives/api/v3/openorders"] == 1, calls.paths
        finally:
            await after.close()
            await calls.http.close()
