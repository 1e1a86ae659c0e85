"""Gateway restart with orders open and fills while it was down: every missed fill is reported
once, in venue order, and the open orders are tracked again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.model import CancelRequest, ExecType, OrdStatus, Side
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    MAKER,
    TRADER,
    RestMaker,
    accounts,
    start_harness,
)

PX = Decimal("50000")


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(
        host="127.0.0.1", port=0, seed=9, accounts=accounts([TRADER, MAKER]), market_maker=False
    ) as server:
        yield server


async def test_fills_while_down_reported_once_in_order(
    sim: SimulatorServer, tmp_path: Path, rest_maker: RestMaker
) -> None:
    data = tmp_path / "gw"
    before = await start_harness(sim, data)
    a = before.limit(Side.BUY, "1", PX, client_order_id="A")
    b = before.limit(Side.BUY, "0.5", PX - 10, client_order_id="B")
    c = before.limit(Side.BUY, "0.5", PX - 1000, client_order_id="C")
    for request in (a, b, c):
        assert (await before.service.submit(before.ctx, request)).status is OrdStatus.NEW
    last_seq = await before.journal.last_sequence(before.ctx.session_id)
    await before.close()

    # While the gateway is down: A partially, then A's rest and all of B.
    await rest_maker.take(Side.SELL, "0.3", PX)
    await rest_maker.take(Side.SELL, "1.2", PX - 10)

    after = await start_harness(sim, data)
    try:
        await after.done("B")
        missed = [
            r for r in after.reports.items if r.sequence > last_seq and r.trade_id is not None
        ]
        assert [(r.client_order_id, r.last_qty, r.last_px) for r in missed] == [
            ("A", Decimal("0.3"), PX),
            ("A", Decimal("0.7"), PX),
            ("B", Decimal("0.5"), PX - 10),
        ]
        assert [r.exec_type for r in missed] == [
            ExecType.PARTIAL_FILL,
            ExecType.FILL,
            ExecType.FILL,
        ]
        # C is still open at Kraken and tracked: it can be canceled, and a new fill streams in.
        open_ids = [o.client_order_id for o in await after.service.list_open_orders(after.ctx)]
        assert open_ids == ["C"]
        d = after.limit(Side.BUY, "0.1", PX, client_order_id="D")
        await after.service.submit(after.ctx, d)
        await rest_maker.take(Side.SELL, "0.1", PX)
        assert (await after.done("D")).ord_status is OrdStatus.FILLED
        canceled = await after.service.cancel(after.ctx, CancelRequest(client_order_id="C"))
        assert canceled.status is OrdStatus.CANCELED
        trade_ids = [r.trade_id for r in after.reports.items if r.trade_id]
        assert len(trade_ids) == len(set(trade_ids)) == 4
    finally:
        await after.close()
