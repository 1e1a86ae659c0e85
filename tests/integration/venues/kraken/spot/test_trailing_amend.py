"""Amending a live trailing stop's offsets in place, through the core and the Kraken Spot venue
against the simulator (quiet market: the `maker` key supplies the only liquidity and prints
the trades that move the last price). Over WS amend_order and over REST AmendOrder."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.api import convert
from gateway.core.model import (
    AmendRequest,
    ExecType,
    OffsetUnit,
    OrderRequest,
    OrderType,
    OrdStatus,
    Side,
    TimeInForce,
)
from krakengw import AsyncClient, KrakenGwError
from krakengw import OrdStatus as ClientOrdStatus
from krakengw.v1 import common_pb2
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    SpotHarness,
    start_harness,
)
from tests.integration.venues.kraken.spot.test_grpc_gateway import start_gateway

PX = Decimal("50000")


@pytest.fixture
def sim(quiet_sim: SimulatorServer) -> SimulatorServer:
    return quiet_sim


@pytest.fixture(params=["ws", "rest"])
async def trader(request: pytest.FixtureRequest, sim: SimulatorServer, tmp_path: Path) -> Any:
    """The gateway's trader: order entry over WS trading methods, or over REST only."""
    h = await start_harness(sim, tmp_path / "gw", use_ws_trading=request.param == "ws")
    try:
        yield h
    finally:
        await h.close()


async def print_trade(trader: SpotHarness, maker: SpotHarness, price: Decimal) -> None:
    """A last trade at `price`: the trader bids, the maker sells into it (IOC)."""
    bid = trader.limit(Side.BUY, "0.01", price)
    await trader.service.submit(trader.ctx, bid)
    ioc = maker.limit(Side.SELL, "0.01", price, time_in_force=TimeInForce.IOC)
    await maker.service.submit(maker.ctx, ioc)
    await trader.done(bid.client_order_id)


async def venue_order(h: SpotHarness, venue_order_id: str | None) -> dict[str, Any]:
    """The order as Kraken's QueryOrders describes it."""
    assert venue_order_id
    result = await h.bundle.rest.read("QueryOrders", {"txid": venue_order_id})
    info: dict[str, Any] = result[venue_order_id]
    return info


def trailing(h: SpotHarness, order_type: OrderType, **kw: Any) -> OrderRequest:
    return OrderRequest(
        client_order_id=h.next_id("trail"),
        symbol="BTC/USD",
        side=Side.SELL,
        order_type=order_type,
        qty=Decimal("0.1"),
        **kw,
    )


async def replaced(h: SpotHarness, client_order_id: str, count: int) -> None:
    # The answer may come before the REPLACED report is committed and published.
    await h.reports.wait(
        lambda r: r.client_order_id == client_order_id and r.exec_type is ExecType.REPLACED,
        count=count,
    )


async def test_trailing_stop_offset_amend_moves_the_trigger(
    trader: SpotHarness, maker: SpotHarness
) -> None:
    await print_trade(trader, maker, PX)
    await maker.service.submit(maker.ctx, maker.limit(Side.BUY, "1", PX - 1000))  # for the stop
    stop = trailing(
        trader,
        OrderType.TRAILING_STOP,
        trailing_offset=Decimal("0.2"),
        trailing_offset_unit=OffsetUnit.PERCENT,
    )
    placed = await trader.service.submit(trader.ctx, stop)
    assert placed.status is OrdStatus.NEW, placed.reject
    cid = stop.client_order_id
    assert (await venue_order(trader, placed.venue_order_id))["descr"]["price"] == "+0.2%"

    amended = await trader.service.amend(
        trader.ctx, AmendRequest(client_order_id=cid, trailing_offset=Decimal("0.6"))
    )
    assert amended.status is OrdStatus.NEW and amended.venue_order_id == placed.venue_order_id
    assert amended.trailing_offset == Decimal("0.6")
    await replaced(trader, cid, 1)
    spec = convert.order_spec(amended.request, await trader.service.get_order(trader.ctx, cid))
    assert (spec.trailing_offset, spec.trailing_offset_unit) == (
        "0.6",
        common_pb2.OFFSET_UNIT_PERCENT,
    )
    info = await venue_order(trader, placed.venue_order_id)
    assert info["descr"]["price"] == "+0.6%" and "amended" in info["misc"]

    # 49800 would have fired the old 0.2 % trigger (49900), not the new 0.6 % one (49700).
    await print_trade(trader, maker, PX - 200)
    assert (await venue_order(trader, placed.venue_order_id))["status"] == "open"
    await print_trade(trader, maker, PX - 300)
    done = await trader.done(cid)
    assert (done.ord_status, done.cum_qty, done.avg_px) == (
        OrdStatus.FILLED,
        Decimal("0.1"),
        PX - 1000,
    )
    kinds = [r.exec_type for r in trader.reports.of(cid)]
    assert kinds[:4] == [
        ExecType.PENDING_NEW,
        ExecType.NEW,
        ExecType.PENDING_REPLACE,
        ExecType.REPLACED,
    ]
    assert ExecType.TRIGGERED in kinds


async def test_trailing_stop_limit_offsets_amend(trader: SpotHarness, maker: SpotHarness) -> None:
    await print_trade(trader, maker, PX)
    tsl = trailing(
        trader,
        OrderType.TRAILING_STOP_LIMIT,
        trailing_offset=Decimal("100"),
        limit_offset=Decimal("50"),
    )
    placed = await trader.service.submit(trader.ctx, tsl)
    assert placed.status is OrdStatus.NEW, placed.reject
    cid = tsl.client_order_id
    descr = (await venue_order(trader, placed.venue_order_id))["descr"]
    assert (descr["price"], descr["price2"]) == ("+100", "-50")

    amended = await trader.service.amend(
        trader.ctx,
        AmendRequest(client_order_id=cid, trailing_offset=Decimal("300"), limit_offset=Decimal(80)),
    )
    assert (amended.trailing_offset, amended.limit_offset) == (Decimal("300"), Decimal("80"))
    amended = await trader.service.amend(  # the limit offset alone
        trader.ctx, AmendRequest(client_order_id=cid, limit_offset=Decimal("70"))
    )
    assert (amended.trailing_offset, amended.limit_offset) == (Decimal("300"), Decimal("70"))
    await replaced(trader, cid, 2)
    spec = convert.order_spec(amended.request, await trader.service.get_order(trader.ctx, cid))
    assert (spec.trailing_offset, spec.limit_offset) == ("300", "70")
    descr = (await venue_order(trader, placed.venue_order_id))["descr"]
    assert (descr["price"], descr["price2"]) == ("+300", "-70")

    await print_trade(trader, maker, PX - 200)  # above the new trigger (49700)
    info = await venue_order(trader, placed.venue_order_id)
    assert info["status"] == "open" and "stopped" not in info["misc"].split(",")
    await print_trade(trader, maker, PX - 300)  # fires: the limit rests 70 below, at 49630
    await trader.reports.wait(
        lambda r: r.client_order_id == cid and r.exec_type is ExecType.TRIGGERED
    )
    info = await venue_order(trader, placed.venue_order_id)
    assert (Decimal(info["stopprice"]), Decimal(info["limitprice"])) == (PX - 300, PX - 370)
    take = maker.limit(Side.BUY, "0.1", PX - 300, time_in_force=TimeInForce.IOC)
    await maker.service.submit(maker.ctx, take)
    done = await trader.done(cid)
    assert (done.ord_status, done.cum_qty, done.avg_px) == (
        OrdStatus.FILLED,
        Decimal("0.1"),
        PX - 370,
    )


async def test_invalid_trailing_amends_are_refused_before_kraken(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    """Over gRPC: INVALID_ARGUMENT with reason INVALID_FIELD and the field, and Kraken never
    sees an amend (the simulator's orders stay unamended)."""
    gateway = await start_gateway(sim, tmp_path)
    try:
        async with AsyncClient(gateway.target, gateway.token) as client:
            await client.logon()
            low = await client.submit_order(
                "BTC/USD", "buy", Decimal("0.1"), price=Decimal("20000"), client_order_id="low"
            )
            stop = await client.submit_order(
                "BTC/USD",
                "sell",
                Decimal("0.1"),
                order_type="TRAILING_STOP",
                trailing_offset=Decimal("100"),
                client_order_id="trail",
            )
            assert stop.ord_status is ClientOrdStatus.NEW, stop.reject
            cases: list[tuple[str, dict[str, Any], str]] = [
                ("low", {"trailing_offset": Decimal("5")}, "trailing_offset"),
                ("low", {"limit_offset": Decimal("5")}, "limit_offset"),
                ("trail", {"limit_offset": Decimal("5")}, "limit_offset"),
                ("trail", {"stop_price": Decimal("40000")}, "stop_price"),
                ("trail", {"price": Decimal("40000")}, "price"),
            ]
            for cid, changes, field in cases:
                with pytest.raises(KrakenGwError) as err:
                    await client.amend_order(cid, **changes)
                assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT, (cid, changes)
                assert err.value.reason == "INVALID_FIELD"
                assert err.value.metadata["field"] == field
            engine = sim.ctx.spot()  # the orders as the simulator holds them
            at_kraken = [engine.get_order(o.venue_order_id) for o in (low, stop)]
            assert all(o is not None and not o.amended for o in at_kraken)
            assert at_kraken[1] is not None and at_kraken[1].trailing_offset == 100
            still = await client.get_order("trail")
            assert still.ord_status is stop.ord_status
            assert still.trailing_offset == Decimal("100")
            moved = await client.amend_order("trail", trailing_offset=Decimal("250"))
            assert moved.trailing_offset == Decimal("250")
            assert (await client.get_order("trail")).trailing_offset == Decimal("250")
    finally:
        await gateway.app.stop()
