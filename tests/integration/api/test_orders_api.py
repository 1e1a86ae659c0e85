"""Order entry through the real server and client: idempotency, isolation, permissions,
the kill switch, invalid input (refused before any venue call) and the OrderEntry stream."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from gateway.core.venue_ids import scoped_client_order_id
from krakengw import KrakenGwError, OrdStatus, order_spec
from krakengw.v1 import common_pb2, orders_pb2, orders_pb2_grpc
from tests.integration.api.conftest import CONFIG, RunningGateway, start_gateway
from tests.integration.api.helpers import error_info

LOW = Decimal("40000")  # rests on the paper market (reference 50000)


async def test_duplicate_submit_returns_original_and_venue_sees_one_order(
    gateway: RunningGateway,
) -> None:
    client = gateway.client("a")
    await client.logon()
    first = await client.submit_order(
        "BTC/USD", "buy", Decimal("0.5"), price=LOW, client_order_id="dup-1"
    )
    again = await client.submit_order(
        "BTC/USD", "buy", Decimal("0.5"), price=LOW, client_order_id="dup-1"
    )
    assert again.venue_order_id == first.venue_order_id != ""
    assert again.ord_status is first.ord_status is OrdStatus.NEW
    # The venue is sent the session-scoped id, never the bare client id.
    assert gateway.venues["acct-a"].submitted == [scoped_client_order_id("acct-a", "a", "dup-1")]


async def test_same_client_id_for_a_different_order_is_refused(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    await client.submit_order("BTC/USD", "buy", Decimal("0.5"), price=LOW, client_order_id="x")
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order("BTC/USD", "buy", Decimal("0.6"), price=LOW, client_order_id="x")
    assert err.value.code is grpc.StatusCode.ALREADY_EXISTS
    assert gateway.venues["acct-a"].calls["submit"] == 1


async def test_other_session_gets_not_found_for_my_order(gateway: RunningGateway) -> None:
    a, b = gateway.client("a"), gateway.client("b")
    await a.logon()
    await b.logon()
    order = await a.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    for call in (
        b.get_order(order.client_order_id),
        b.cancel_order(order.client_order_id),
        b.get_order(venue_order_id=order.venue_order_id),
    ):
        with pytest.raises(KrakenGwError) as err:
            await call
        assert err.value.code is grpc.StatusCode.NOT_FOUND
        assert err.value.reason == "ORDER_NOT_FOUND"
    assert gateway.venues["acct-a"].calls["cancel"] == 0


async def test_read_only_session_is_denied_submit(gateway: RunningGateway) -> None:
    ro = gateway.client("ro")
    await ro.logon()
    with pytest.raises(KrakenGwError) as err:
        await ro.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert err.value.reason == "PERMISSION_DENIED_TRADE"
    assert gateway.venue_calls() == 0
    assert await ro.list_open_orders() == []  # reading is allowed


async def test_kill_switch_cancels_open_orders_and_refuses_new_ones(
    gateway: RunningGateway,
) -> None:
    client = gateway.client("a")
    await client.logon()
    open_ids = [
        (await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)).client_order_id
        for _ in range(3)
    ]
    assert await client.engage_kill_switch("test") == 3
    for cid in open_ids:
        assert (await client.get_order(cid)).ord_status is OrdStatus.CANCELED
    submits = gateway.venues["acct-a"].calls["submit"]
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.reason == "KILL_SWITCH_ACTIVE"
    assert gateway.venues["acct-a"].calls["submit"] == submits
    limits = await client.get_limits()
    assert limits.risk_limits.kill_switch_engaged
    await client.release_kill_switch()
    assert (await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)).ord_status


def _spec(**overrides: object) -> orders_pb2.OrderSpec:
    fields: dict[str, object] = {
        "client_order_id": "bad-1",
        "instrument": common_pb2.InstrumentId(symbol="BTC/USD"),
        "side": common_pb2.SIDE_BUY,
        "order_type": common_pb2.ORDER_TYPE_LIMIT,
        "order_qty": "0.1",
        "price": "40000",
    }
    fields.update(overrides)
    return orders_pb2.OrderSpec(**fields)  # type: ignore[arg-type]


INVALID = [
    ({"order_qty": "1e3"}, "INVALID_DECIMAL"),
    ({"order_qty": "abc"}, "INVALID_DECIMAL"),
    ({"price": "NaN"}, "INVALID_DECIMAL"),
    ({"price": "1,5"}, "INVALID_DECIMAL"),
    ({"order_qty": "0"}, "NON_POSITIVE_QUANTITY"),
    ({"order_qty": "-1"}, "NON_POSITIVE_QUANTITY"),
    ({"instrument": common_pb2.InstrumentId(symbol="NOPE/USD")}, "UNKNOWN_SYMBOL"),
    ({"price": "40000.05"}, "PRICE_OFF_TICK"),
    ({"client_order_id": "x" * 65}, "FIELD_TOO_LONG"),
    ({"text": "t" * 257}, "FIELD_TOO_LONG"),
    ({"instrument": common_pb2.InstrumentId(symbol="B" * 49)}, "FIELD_TOO_LONG"),
    ({"order_qty": "1" * 41}, "FIELD_TOO_LONG"),
    ({"client_order_id": ""}, "MISSING_FIELD"),
    ({"side": common_pb2.SIDE_UNSPECIFIED}, "MISSING_FIELD"),
    ({"order_type": common_pb2.ORDER_TYPE_UNSPECIFIED}, "MISSING_FIELD"),
    ({"order_qty": ""}, "MISSING_FIELD"),
    ({"instrument": common_pb2.InstrumentId()}, "MISSING_FIELD"),
    ({"client_order_id": "has space"}, "INVALID_CLIENT_ORDER_ID"),
    ({"side": 7}, "INVALID_FIELD"),
]


@pytest.mark.parametrize(("overrides", "reason"), INVALID)
async def test_invalid_submit_is_refused_before_the_venue(
    gateway: RunningGateway, overrides: dict[str, object], reason: str
) -> None:
    await gateway.client("a").logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)
        request = orders_pb2.SubmitOrderRequest(order=_spec(**overrides))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.SubmitOrder(request, metadata=gateway.metadata("a"))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(err.value)
    assert info.reason == f"ERROR_REASON_{reason}"
    assert info.domain == "krakengw"
    assert gateway.venue_calls() == 0


async def test_missing_order_is_refused(gateway: RunningGateway) -> None:
    await gateway.client("a").logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.SubmitOrder(orders_pb2.SubmitOrderRequest(), metadata=gateway.metadata("a"))
    assert error_info(err.value).reason == "ERROR_REASON_MISSING_FIELD"
    assert gateway.venue_calls() == 0


async def test_invalid_item_refuses_the_whole_batch(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    good = order_spec("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    bad = _spec(order_qty="zero")
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order_batch([good, bad])
    assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.metadata["field"] == "orders[1].order_qty"
    assert gateway.venue_calls() == 0


async def test_batch_returns_one_result_per_order(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    specs = [order_spec("BTC/USD", "buy", Decimal("0.1"), price=LOW) for _ in range(3)]
    results = await client.submit_order_batch(specs)
    assert [r.ord_status for r in results if not isinstance(r, KrakenGwError)] == [
        OrdStatus.NEW
    ] * 3


async def test_order_entry_stream_acks_each_request_by_correlation_id(
    gateway: RunningGateway,
) -> None:
    await gateway.client("a").logon()
    requests = [
        orders_pb2.OrderEntryRequest(
            correlation_id=f"c{i}",
            submit_order=orders_pb2.SubmitOrderRequest(
                order=_spec(client_order_id=f"oe-{i}", price="40000")
            ),
        )
        for i in range(5)
    ]
    requests.append(
        orders_pb2.OrderEntryRequest(
            correlation_id="bad",
            submit_order=orders_pb2.SubmitOrderRequest(order=_spec(order_qty="-2")),
        )
    )
    requests.append(
        orders_pb2.OrderEntryRequest(
            correlation_id="cancel",
            cancel_order=orders_pb2.CancelOrderRequest(client_order_id="no-such-order"),
        )
    )
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)
        call = stub.OrderEntry(iter(requests), metadata=gateway.metadata("a"))
        acks = {ack.correlation_id: ack async for ack in call}
    assert set(acks) == {f"c{i}" for i in range(5)} | {"bad", "cancel"}
    for i in range(5):
        assert acks[f"c{i}"].submit_order.order.ord_status == orders_pb2.ORD_STATUS_NEW
    assert acks["bad"].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert acks["cancel"].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert gateway.venues["acct-a"].calls["submit"] == 5


async def test_cancel_and_amend_by_venue_order_id(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    order = await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW)
    amended = await client.amend_order(venue_order_id=order.venue_order_id, price=Decimal("41000"))
    assert amended.price == Decimal("41000")
    canceled = await client.cancel_order(venue_order_id=order.venue_order_id)
    assert canceled.ord_status is OrdStatus.CANCELED


async def test_limits_show_the_reference_price_settings(tmp_path: Path) -> None:
    """GetLimits (and Logon) carry `reference_max_age_s` / `reference_wait_s` as durations:
    acct-b's own values, acct-a's defaults (10 s, 2 s)."""
    body = CONFIG.replace(
        'max_order_qty = "5"',
        'max_order_qty = "5"\nreference_max_age_s = 4.5\nreference_wait_s = 0.25',
    )
    running = await start_gateway(tmp_path, body)
    try:
        b, a = running.client("b"), running.client("a")
        logon = await b.logon()
        await a.logon()
        limits = (await b.get_limits()).risk_limits
        assert logon.risk_limits == limits
        assert (limits.reference_max_age, limits.reference_wait) == (
            timedelta(seconds=4.5),
            timedelta(milliseconds=250),
        )
        defaults = (await a.get_limits()).risk_limits
        assert (defaults.reference_max_age, defaults.reference_wait) == (
            timedelta(seconds=10),
            timedelta(seconds=2),
        )
    finally:
        for client in running.clients:
            await client.close()
        await running.app.stop()


async def test_risk_limit_from_config_refuses_before_the_venue(gateway: RunningGateway) -> None:
    client = gateway.client("b")
    info = await client.logon()
    assert info.risk_limits.max_order_qty == Decimal(5)
    with pytest.raises(KrakenGwError) as err:
        await client.submit_order("BTC/USD", "buy", Decimal(6), price=LOW)
    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.reason == "RISK_MAX_ORDER_QTY"
    assert gateway.venue_calls() == 0


async def test_order_entry_through_the_client(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    async with client.order_entry() as entry:
        orders = await asyncio.gather(
            *(entry.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW) for _ in range(10))
        )
        assert {o.ord_status for o in orders} == {OrdStatus.NEW}
        canceled = await entry.cancel_order(orders[0].client_order_id)
        assert canceled.ord_status is OrdStatus.CANCELED
        with pytest.raises(KrakenGwError) as err:
            await entry.cancel_order("never-submitted")
        assert err.value.code is grpc.StatusCode.NOT_FOUND
    assert gateway.venues["acct-a"].calls["submit"] == 10


async def test_order_text_is_kept_with_the_order(
    gateway: RunningGateway,
) -> None:
    await gateway.client("a").logon()
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)
        spec = _spec(client_order_id="txt-1", text="hedge for desk 7")
        submitted = await stub.SubmitOrder(
            orders_pb2.SubmitOrderRequest(order=spec), metadata=gateway.metadata("a")
        )
        fetched = await stub.GetOrder(
            orders_pb2.GetOrderRequest(client_order_id="txt-1"), metadata=gateway.metadata("a")
        )
    assert submitted.order.spec.text == fetched.order.spec.text == "hedge for desk 7"


async def test_cancel_all_names_the_orders_it_canceled(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    for cid in ("ca-1", "ca-2", "ca-done"):
        await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW, client_order_id=cid)
    await client.cancel_order("ca-done")
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)
        response = await stub.CancelAllOrders(
            orders_pb2.CancelAllOrdersRequest(), metadata=gateway.metadata("a")
        )
    assert response.canceled_count == 2
    assert sorted(response.client_order_ids) == ["ca-1", "ca-2"]


async def test_instrument_filters_honour_the_venue(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW, client_order_id="vf-1")
    elsewhere = common_pb2.InstrumentId(venue="krakenfutures", symbol="BTC/USD")
    venue_only = common_pb2.InstrumentId(venue="krakenfutures")
    here = common_pb2.InstrumentId(venue="kraken", symbol="BTC/USD")
    meta = gateway.metadata("a")
    async with grpc.aio.insecure_channel(gateway.target) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)

        async def open_ids(inst: common_pb2.InstrumentId) -> list[str]:
            got = await stub.ListOpenOrders(
                orders_pb2.ListOpenOrdersRequest(instrument=inst), metadata=meta
            )
            return [o.spec.client_order_id for o in got.orders]

        async def all_ids(inst: common_pb2.InstrumentId) -> list[str]:
            got = await stub.ListOrders(
                orders_pb2.ListOrdersRequest(instrument=inst), metadata=meta
            )
            return [o.spec.client_order_id for o in got.orders]

        assert await open_ids(elsewhere) == await open_ids(venue_only) == []
        assert await all_ids(elsewhere) == await all_ids(venue_only) == []
        assert await open_ids(here) == await all_ids(here) == ["vf-1"]
        for inst in (elsewhere, venue_only):
            missed = await stub.CancelAllOrders(
                orders_pb2.CancelAllOrdersRequest(instrument=inst), metadata=meta
            )
            assert missed.canceled_count == 0
        hit = await stub.CancelAllOrders(
            orders_pb2.CancelAllOrdersRequest(instrument=here), metadata=meta
        )
    assert list(hit.client_order_ids) == ["vf-1"]


async def test_client_venue_filter_without_a_symbol_is_sent(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    await client.submit_order("BTC/USD", "buy", Decimal("0.1"), price=LOW, client_order_id="cv-1")
    assert await client.list_open_orders(venue="krakenfutures") == []
    assert await client.list_orders(venue="krakenfutures") == []
    assert await client.cancel_all_orders(venue="krakenfutures") == 0
    assert [o.client_order_id for o in await client.list_open_orders(venue="kraken")] == ["cv-1"]
