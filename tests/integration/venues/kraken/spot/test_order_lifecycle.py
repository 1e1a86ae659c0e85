"""Every order type, amend, replace, batches and cancel-all through the core, on a quiet market
(no market maker): the `maker` key supplies the only liquidity, so every fill is deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.core.errors import ErrorReason
from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    ExecType,
    Liquidity,
    OffsetUnit,
    Order,
    OrderRequest,
    OrderType,
    OrdStatus,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from gateway.core.venue_ids import scoped_client_order_id
from simulator.app import SimulatorServer
from tests.integration.venues.kraken.spot.conftest import (
    TRADER,
    SpotHarness,
    start_harness,
)

PX = Decimal("50000")


@pytest.fixture
def sim(quiet_sim: SimulatorServer) -> SimulatorServer:
    return quiet_sim


def exec_types(h: SpotHarness, client_order_id: str) -> list[ExecType]:
    return [r.exec_type for r in h.reports.of(client_order_id)]


async def cross(maker: SpotHarness, side: Side, qty: str, price: Decimal) -> Order:
    """The maker key takes liquidity with a limit IOC order."""
    request = maker.limit(side, qty, price, time_in_force=TimeInForce.IOC)
    return await maker.service.submit(maker.ctx, request)


async def test_partial_fill_then_fill(harness: SpotHarness, maker: SpotHarness) -> None:
    buy = harness.limit(Side.BUY, "1", PX)
    assert (await harness.service.submit(harness.ctx, buy)).status is OrdStatus.NEW
    await cross(maker, Side.SELL, "0.3", PX)
    partial = (
        await harness.reports.wait(
            lambda r: (
                r.client_order_id == buy.client_order_id and r.exec_type is ExecType.PARTIAL_FILL
            )
        )
    )[0]
    assert (partial.last_qty, partial.last_px) == (Decimal("0.3"), PX)
    assert (partial.cum_qty, partial.leaves_qty, partial.avg_px) == (
        Decimal("0.3"),
        Decimal("0.7"),
        PX,
    )
    assert partial.ord_status is OrdStatus.PARTIALLY_FILLED
    assert partial.liquidity is Liquidity.MAKER
    assert partial.fee is not None and partial.fee.asset == "USD" and partial.fee.amount > 0
    await cross(maker, Side.SELL, "0.7", PX - 10)  # fills at the resting price
    done = await harness.done(buy.client_order_id)
    assert done.exec_type is ExecType.FILL and done.ord_status is OrdStatus.FILLED
    assert (done.last_qty, done.last_px, done.cum_qty, done.leaves_qty, done.avg_px) == (
        Decimal("0.7"),
        PX,
        Decimal("1"),
        Decimal("0"),
        PX,
    )
    assert exec_types(harness, buy.client_order_id) == [
        ExecType.PENDING_NEW,
        ExecType.NEW,
        ExecType.PARTIAL_FILL,
        ExecType.FILL,
    ]


async def test_amend_in_place_keeps_ids(harness: SpotHarness, maker: SpotHarness) -> None:
    buy = harness.limit(Side.BUY, "1", PX)
    placed = await harness.service.submit(harness.ctx, buy)
    amended = await harness.service.amend(
        harness.ctx,
        AmendRequest(client_order_id=buy.client_order_id, qty=Decimal("0.4"), price=PX + 5),
    )
    assert amended.status is OrdStatus.NEW
    assert (amended.qty, amended.price) == (Decimal("0.4"), PX + 5)
    assert amended.venue_order_id == placed.venue_order_id
    await cross(maker, Side.SELL, "0.4", PX)
    done = await harness.done(buy.client_order_id)
    assert (done.last_px, done.cum_qty) == (PX + 5, Decimal("0.4"))
    # Kraken's own `amended` echo is not reported a second time.
    assert exec_types(harness, buy.client_order_id) == [
        ExecType.PENDING_NEW,
        ExecType.NEW,
        ExecType.PENDING_REPLACE,
        ExecType.REPLACED,
        ExecType.FILL,
    ]


async def test_replace_is_cancel_then_new_order(harness: SpotHarness) -> None:
    old = harness.limit(Side.BUY, "1", PX)
    await harness.service.submit(harness.ctx, old)
    new = harness.limit(Side.BUY, "2", PX - 100)
    order = await harness.service.replace(
        harness.ctx, ReplaceRequest(orig_client_order_id=old.client_order_id, new_order=new)
    )
    assert order.status is OrdStatus.NEW
    assert order.orig_client_order_id == old.client_order_id
    # The answer may come before the REPLACED report is committed and published.
    await harness.reports.wait(
        lambda r: r.client_order_id == old.client_order_id and r.exec_type is ExecType.REPLACED
    )
    assert exec_types(harness, old.client_order_id)[-1] is ExecType.REPLACED
    open_at_venue = await harness.venue.open_orders()
    assert [(s.client_order_id, s.qty) for s in open_at_venue] == [
        (order.id_at_venue, Decimal("2"))
    ]


async def test_batch_submit_and_batch_cancel(harness: SpotHarness) -> None:
    requests = [harness.limit(Side.BUY, "0.1", PX - i) for i in range(3)]
    orders = await harness.service.submit_batch(harness.ctx, requests)
    assert all(isinstance(o, Order) and o.status is OrdStatus.NEW for o in orders)
    assert len({o.venue_order_id for o in orders if isinstance(o, Order)}) == 3
    results = await harness.service.cancel_batch(
        harness.ctx, [CancelRequest(client_order_id=r.client_order_id) for r in requests]
    )
    assert all(isinstance(o, Order) and o.status is OrdStatus.CANCELED for o in results)
    assert await harness.venue.open_orders() == []


async def test_cancel_all(harness: SpotHarness) -> None:
    for i in range(4):
        await harness.service.submit(harness.ctx, harness.limit(Side.SELL, "0.1", PX + i))
    assert await harness.service.cancel_all(harness.ctx) == 4
    assert await harness.venue.open_orders() == []
    canceled = await harness.reports.wait(lambda r: r.exec_type is ExecType.CANCELED, count=4)
    assert len({r.client_order_id for r in canceled}) == 4


def resting(h: SpotHarness, order_type: OrderType, **kw: object) -> OrderRequest:
    return OrderRequest(
        client_order_id=h.next_id(order_type.name.lower()[:10]),
        symbol="BTC/USD",
        side=Side.SELL,
        order_type=order_type,
        qty=Decimal("0.1"),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("order_type", "fields"),
    [
        (OrderType.STOP_LOSS, {"stop_price": PX - 1000}),
        (OrderType.TAKE_PROFIT, {"stop_price": PX + 1000}),
        (OrderType.STOP_LOSS_LIMIT, {"stop_price": PX - 1000, "price": PX - 1100}),
        (OrderType.TAKE_PROFIT_LIMIT, {"stop_price": PX + 1000, "price": PX + 900}),
        (
            OrderType.TRAILING_STOP,
            {"trailing_offset": Decimal("1"), "trailing_offset_unit": OffsetUnit.PERCENT},
        ),
        (
            OrderType.TRAILING_STOP_LIMIT,
            {"trailing_offset": Decimal("100"), "limit_offset": Decimal("50")},
        ),
        (OrderType.ICEBERG, {"price": PX + 500, "display_qty": Decimal("0.01")}),
        (
            OrderType.LIMIT,
            {
                "price": PX + 700,
                "time_in_force": TimeInForce.GTD,
                "expire_time": datetime.now(UTC) + timedelta(hours=1),
            },
        ),
    ],
)
async def test_resting_order_types_round_trip(
    harness: SpotHarness, maker: SpotHarness, order_type: OrderType, fields: dict[str, object]
) -> None:
    # A last trade price for the triggers to reference.
    await harness.service.submit(harness.ctx, harness.limit(Side.BUY, "0.01", PX))
    await cross(maker, Side.SELL, "0.01", PX)
    request = resting(harness, order_type, **fields)
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.NEW, order.reject
    states = {s.client_order_id: s for s in await harness.venue.open_orders()}
    assert states[order.id_at_venue].venue_order_id == order.venue_order_id
    canceled = await harness.service.cancel(
        harness.ctx, CancelRequest(client_order_id=request.client_order_id)
    )
    assert canceled.status is OrdStatus.CANCELED


async def test_stop_loss_triggers_and_fills(harness: SpotHarness, maker: SpotHarness) -> None:
    bid = maker.limit(Side.BUY, "1", PX - 200)
    await maker.service.submit(maker.ctx, bid)
    stop = resting(harness, OrderType.STOP_LOSS, stop_price=PX - 100)
    assert (await harness.service.submit(harness.ctx, stop)).status is OrdStatus.NEW
    # A trade at PX - 150 (maker's sell against the trader's small bid) fires the trigger.
    await harness.service.submit(harness.ctx, harness.limit(Side.BUY, "0.01", PX - 150))
    await cross(maker, Side.SELL, "0.01", PX - 150)
    done = await harness.done(stop.client_order_id)
    assert done.ord_status is OrdStatus.FILLED
    assert (done.cum_qty, done.avg_px) == (Decimal("0.1"), PX - 200)
    assert ExecType.TRIGGERED in exec_types(harness, stop.client_order_id)


async def test_post_only_that_would_take_is_rejected(
    harness: SpotHarness, maker: SpotHarness
) -> None:
    await maker.service.submit(maker.ctx, maker.limit(Side.SELL, "1", PX))
    request = harness.limit(Side.BUY, "0.1", PX, post_only=True)
    order = await harness.service.submit(harness.ctx, request)
    assert order.status is OrdStatus.REJECTED
    assert order.reject is not None and order.reject.reason is ErrorReason.POST_ONLY_WOULD_TAKE
    assert "Post only" in order.reject.venue_text


async def test_ioc_without_liquidity_ends_canceled(harness: SpotHarness) -> None:
    request = harness.limit(Side.BUY, "0.1", PX, time_in_force=TimeInForce.IOC)
    await harness.service.submit(harness.ctx, request)
    done = await harness.done(request.client_order_id)
    assert done.ord_status in (OrdStatus.CANCELED, OrdStatus.EXPIRED)
    assert done.cum_qty == 0


async def test_validate_only_places_nothing(harness: SpotHarness) -> None:
    request = harness.limit(Side.BUY, "0.1", PX, validate_only=True)
    probe = await harness.service.submit(harness.ctx, request)
    assert probe.venue_order_id is None
    assert await harness.venue.open_orders() == []


async def test_long_client_id_goes_as_its_session_scoped_uuid(harness: SpotHarness) -> None:
    """Kraken takes free text of at most 18 characters; every order goes as the UUID5 of its
    session and client id, which Kraken takes as it is: no mapping to journal."""
    client_id = "strategy-alpha/leg-1/this-id-is-longer-than-eighteen"
    request = harness.limit(Side.BUY, "0.1", PX, client_order_id=client_id)
    order = await harness.service.submit(harness.ctx, request)
    [state] = await harness.venue.open_orders()
    assert state.client_order_id == order.id_at_venue
    assert order.id_at_venue == scoped_client_order_id(TRADER, harness.ctx.session_id, client_id)
    assert await harness.journal.venue_client_id(TRADER, "kraken", client_id) is None
    await harness.service.cancel(harness.ctx, CancelRequest(client_order_id=client_id))
    assert (await harness.done(client_id)).ord_status is OrdStatus.CANCELED


async def test_rest_order_entry_amend_and_batch(sim: SimulatorServer, tmp_path: Path) -> None:
    """The REST path (no WS trading): AddOrder, AmendOrder, AddOrderBatch, CancelOrderBatch."""
    h = await start_harness(sim, tmp_path / "rest", use_ws_trading=False)
    try:
        buy = h.limit(Side.BUY, "1", PX)
        await h.service.submit(h.ctx, buy)
        amended = await h.service.amend(
            h.ctx, AmendRequest(client_order_id=buy.client_order_id, price=PX - 7)
        )
        assert amended.price == PX - 7 and amended.status is OrdStatus.NEW
        [state] = await h.venue.open_orders()
        assert state.price == PX - 7
        requests = [h.limit(Side.SELL, "0.1", PX + 10 + i) for i in range(3)]
        orders = await h.service.submit_batch(h.ctx, requests)
        assert all(isinstance(o, Order) and o.status is OrdStatus.NEW for o in orders)
        assert await h.service.cancel_all(h.ctx) == 4
        assert await h.venue.open_orders() == []
    finally:
        await h.close()
