"""Client calls: request building (Decimal to strings, defaults), result conversion, batches,
pagination and session metadata, against the fake gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import grpc

from krakengw import (
    AsyncClient,
    Client,
    KrakenGwError,
    Order,
    OrderType,
    OrdStatus,
    Permission,
    Side,
    order_spec,
)
from krakengw.v1 import common_pb2, orders_pb2
from tests.unit.client.fake_gateway import TOKEN, FakeGateway


def test_submit_order_sends_decimal_strings_and_returns_decimals(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    deadline = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Client(target, TOKEN) as client:
        order = client.submit_order(
            "BTC/USD",
            "buy",
            Decimal("0.75000"),
            price=Decimal("50000.5"),
            time_in_force="ioc",
            post_only=True,
            trailing_offset_unit="percent",
            deadline=deadline,
            client_order_id="my-1",
        )
    sent = gw.order_requests[0].order
    assert sent.client_order_id == "my-1"
    assert sent.instrument == common_pb2.InstrumentId(venue="", symbol="BTC/USD")
    assert sent.order_type == common_pb2.ORDER_TYPE_LIMIT  # inferred from the price
    assert (sent.order_qty, sent.price, sent.stop_price) == ("0.75000", "50000.5", "")
    assert sent.time_in_force == common_pb2.TIME_IN_FORCE_IOC
    assert sent.trailing_offset_unit == common_pb2.OFFSET_UNIT_PERCENT
    assert sent.post_only
    assert sent.deadline.ToDatetime(tzinfo=UTC) == deadline
    assert gw.authorizations == [f"Bearer {TOKEN}"]

    assert isinstance(order, Order)
    assert order.ord_status is OrdStatus.NEW
    assert order.side is Side.BUY
    assert order.order_type is OrderType.LIMIT
    assert order.order_qty == Decimal("0.75")
    assert isinstance(order.cum_qty, Decimal)
    assert (order.cum_qty, order.leaves_qty, order.avg_px) == (
        Decimal("0.25"),
        Decimal("0.75"),
        Decimal("50000.10"),
    )
    assert order.stop_price is None
    assert order.venue_order_id == "OABCDE-FGHIJ-KLMNOP"


def test_market_order_without_client_id_gets_a_fresh_one(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, _ = fake_gateway
    with Client(target, TOKEN) as client:
        first = client.submit_order("BTC/USD:USD", Side.SELL, 3, venue="krakenfutures")
        second = client.submit_order("BTC/USD:USD", Side.SELL, 3, venue="krakenfutures")
    assert first.order_type is OrderType.MARKET
    assert first.venue == "krakenfutures"
    assert first.client_order_id and first.client_order_id != second.client_order_id


def test_batch_returns_orders_and_per_item_errors(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, _ = fake_gateway
    specs = [
        order_spec("BTC/USD", "buy", 1, price="100.0", client_order_id="a"),
        order_spec("BTC/USD", "buy", 1, price="100.5", client_order_id="b"),
    ]
    with Client(target, TOKEN) as client:
        results = client.submit_order_batch(specs)
    assert isinstance(results[0], Order)
    assert results[0].client_order_id == "a"
    assert isinstance(results[1], KrakenGwError)
    assert results[1].code is grpc.StatusCode.INVALID_ARGUMENT
    assert results[1].reason == "PRICE_OFF_TICK"


def _page(ids: list[str], next_token: str) -> orders_pb2.ListOpenOrdersResponse:
    orders = [orders_pb2.Order(spec=orders_pb2.OrderSpec(client_order_id=i)) for i in ids]
    return orders_pb2.ListOpenOrdersResponse(orders=orders, next_page_token=next_token)


def test_list_follows_every_page(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, gw = fake_gateway
    gw.list_pages = [_page(["a", "b"], "1"), _page(["c"], "2"), _page([], "")]
    with Client(target, TOKEN) as client:
        orders = client.list_open_orders("BTC/USD")
    assert [o.client_order_id for o in orders] == ["a", "b", "c"]
    assert [r.page_token for r in gw.order_requests] == ["", "1", "2"]


async def test_async_list_stops_on_a_repeated_page_token(
    fake_gateway: tuple[str, FakeGateway],
) -> None:
    target, gw = fake_gateway
    gw.list_pages = [_page(["a"], "1"), _page(["b"], "1")]
    async with AsyncClient(target, TOKEN) as client:
        orders = await client.list_open_orders()
    assert [o.client_order_id for o in orders] == ["a", "b"]


async def test_async_logon_returns_session_info(fake_gateway: tuple[str, FakeGateway]) -> None:
    target, _ = fake_gateway
    async with AsyncClient(target, TOKEN) as client:
        info = await client.logon(cancel_on_disconnect=True)
    assert info.session_id == "s1"
    assert info.permissions == {Permission.READ, Permission.TRADE}
    assert info.last_sequence == 7
    assert info.cancel_on_disconnect
    assert TOKEN not in repr(client)
