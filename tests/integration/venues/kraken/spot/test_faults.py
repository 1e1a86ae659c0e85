"""The simulator's fault plan against the venue: lost answers, lost feed messages, bad
checksums, 5xx on reads, maintenance."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.errors import ErrorReason
from gateway.core.model import BookSnapshot, ExecType, OrdStatus, Side
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    RestMaker,
    SpotHarness,
    set_faults,
    start_harness,
)

PX = Decimal("50000")


@pytest.mark.parametrize("use_ws", [False, True], ids=["rest", "ws"])
async def test_accept_then_drop_ends_new_once(
    quiet_sim: SimulatorServer, tmp_path: Path, use_ws: bool, caplog: pytest.LogCaptureFixture
) -> None:
    h = await start_harness(quiet_sim, tmp_path / "gw", use_ws_trading=use_ws, ack_timeout_s=0.5)
    try:
        rule = "ws:add_order" if use_ws else "/0/private/AddOrder"
        action = "drop" if use_ws else "drop_after_accept"
        await set_faults(quiet_sim, {"rules": [{"match": rule, "action": action, "times": 1}]})
        request = h.limit(Side.BUY, "0.2", PX)
        order = await h.service.submit(h.ctx, request)
        # No answer: resolved by query (or already by the executions feed's `new`).
        assert order.status in (OrdStatus.PENDING_NEW, OrdStatus.NEW)
        assert "submit outcome unknown" in caplog.text
        new = await h.reports.wait(
            lambda r: r.client_order_id == request.client_order_id and r.exec_type is ExecType.NEW
        )
        assert new[0].venue_order_id
        assert [s.client_order_id for s in await h.venue.open_orders()] == [order.id_at_venue]
        kinds = [r.exec_type for r in h.reports.of(request.client_order_id)]
        assert kinds == [ExecType.PENDING_NEW, ExecType.NEW]
    finally:
        await h.close()


@pytest.mark.parametrize("action", ["drop", "disconnect", "duplicate"])
async def test_feed_fault_during_fills_reports_each_fill_once(
    quiet_sim: SimulatorServer, tmp_path: Path, action: str
) -> None:
    h = await start_harness(quiet_sim, tmp_path / "gw")
    maker = RestMaker(quiet_sim)
    try:
        buy = h.limit(Side.BUY, "1", PX)
        await h.service.submit(h.ctx, buy)
        await h.reports.wait(lambda r: r.exec_type is ExecType.NEW)
        connects = h.venue.ws.connects
        # The trader's next executions message (its first fill) is dropped / cut / doubled.
        await set_faults(
            quiet_sim, {"rules": [{"match": "ws:executions", "action": action, "times": 1}]}
        )
        for _ in range(4):
            await maker.take(Side.SELL, "0.25", PX)
        done = await h.done(buy.client_order_id)
        assert done.cum_qty == Decimal("1") and done.ord_status is OrdStatus.FILLED
        fills = [r for r in h.reports.of(buy.client_order_id) if r.trade_id]
        assert len(fills) == 4
        assert len({r.trade_id for r in fills}) == 4
        assert [r.cum_qty for r in fills] == [Decimal("0.25") * i for i in range(1, 5)]
        if action != "duplicate":
            assert h.venue.ws.connects > connects  # it had to re-sync
    finally:
        await maker.close()
        await h.close()


async def test_bad_checksum_resyncs_only_that_symbol(harness: SpotHarness) -> None:
    market = harness.bundle.market_data
    snapshots: Counter[str] = Counter()
    first = {"BTC/USD": asyncio.Event(), "ETH/USD": asyncio.Event()}
    resynced = asyncio.Event()

    async def follow(symbol: str) -> None:
        async for item in market.stream_book(symbol, 10):
            if isinstance(item, BookSnapshot):
                snapshots[symbol] += 1
                if snapshots[symbol] == 2:
                    resynced.set()  # the fresh snapshot after a resync
            first[symbol].set()

    tasks = [asyncio.create_task(follow(s)) for s in first]
    try:
        async with asyncio.timeout(15):
            for event in first.values():
                await event.wait()
            await set_faults(
                harness.sim, {"rules": [{"match": "ws:book", "action": "bad_checksum", "times": 1}]}
            )
            await resynced.wait()
        [(bad, count)] = market.resyncs.items()
        assert count == 1 and snapshots[bad] == 2
        good = next(s for s in first if s != bad)
        assert snapshots[good] == 1  # the other symbol never re-subscribed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "http_status", "status": 502, "times": 2},
        {"action": "error", "error": "EService:Busy", "times": 2},
        {"action": "error", "error": "EService:Unavailable", "times": 1},
    ],
)
async def test_read_failures_are_retried(harness: SpotHarness, fault: dict[str, object]) -> None:
    await set_faults(harness.sim, {"rules": [{"match": "/0/private/BalanceEx", **fault}]})
    balances = {b.asset: b for b in await harness.venue.balances()}
    assert balances["USD"].total > 0
    rules = harness.sim.ctx.faults.to_json()["rules"]
    assert rules[0]["times"] == 0  # every injected failure was met, and retried past


async def test_maintenance_refuses_new_orders(harness: SpotHarness) -> None:
    await set_faults(harness.sim, {"system_status": "maintenance", "rules": []})
    bid, _ = await harness.prices()
    request = harness.limit(Side.BUY, "0.1", (bid * Decimal("0.9")).quantize(Decimal("0.1")))
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.REJECTED
    assert order.reject is not None
    assert order.reject.reason in (ErrorReason.VENUE_MAINTENANCE, ErrorReason.VENUE_UNAVAILABLE)
    assert order.reject.text
    assert await harness.venue.open_orders() == []


async def test_5xx_on_a_write_is_never_resent(quiet_sim: SimulatorServer, tmp_path: Path) -> None:
    h = await start_harness(quiet_sim, tmp_path / "gw", use_ws_trading=False)
    try:
        # The 502 comes from the edge: the order never reached the engine.
        await set_faults(
            quiet_sim,
            {
                "rules": [
                    {
                        "match": "/0/private/AddOrder",
                        "action": "http_status",
                        "status": 502,
                        "times": 5,
                    }
                ]
            },
        )
        request = h.limit(Side.BUY, "0.2", PX)
        await h.service.submit(h.ctx, request)
        done = await h.done(request.client_order_id)  # settled by query: Kraken never had it
        assert done.ord_status is OrdStatus.REJECTED
        assert done.reject is not None and done.reject.reason is ErrorReason.UNKNOWN_ORDER
        rules = quiet_sim.ctx.faults.to_json()["rules"]
        assert rules[0]["times"] == 4  # AddOrder went out exactly once
        assert await h.venue.open_orders() == []
    finally:
        await h.close()
