"""Issue 9 (trust): the permission model through the real server. A risk desk (cancel_only)
sees and cancels every order of its account beside the live trader, without the trader's key
lease; read-only sessions are refused before any order lookup; validate_only answers VALIDATED."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import grpc
import pytest

from krakengw import ExecType, ExecutionReport, KrakenGwError, OrdStatus
from tests.integration.api.conftest import RunningGateway

PRICE = Decimal("40000")


async def test_risk_desk_sees_and_cancels_the_traders_orders_beside_the_live_trader(
    gateway: RunningGateway,
) -> None:
    trader = gateway.client("a")
    await trader.logon()
    first = await trader.submit_order("BTC/USD", "buy", Decimal("0.01"), price=PRICE)
    second = await trader.submit_order("BTC/USD", "buy", Decimal("0.02"), price=PRICE)
    desk = gateway.client("desk")
    await desk.logon(cancel_on_disconnect=True)  # no KEY_LEASED: the desk takes no lease
    seen = {o.client_order_id for o in await desk.list_open_orders()}
    assert seen == {first.client_order_id, second.client_order_id}
    assert (await desk.get_order(first.client_order_id)).session_id == "a"
    canceled = await desk.cancel_order(first.client_order_id)
    assert canceled.ord_status is OrdStatus.CANCELED
    assert (await trader.get_order(first.client_order_id)).ord_status is OrdStatus.CANCELED
    with pytest.raises(KrakenGwError) as err:
        await desk.submit_order("BTC/USD", "buy", Decimal("0.01"), price=PRICE)
    assert err.value.reason == "PERMISSION_DENIED_TRADE"
    with pytest.raises(KrakenGwError) as err:
        await desk.amend_order(second.client_order_id, qty=Decimal("0.03"))
    assert err.value.reason == "PERMISSION_DENIED_TRADE"
    # The trader keeps trading on its key while the desk is logged on.
    third = await trader.submit_order("BTC/USD", "buy", Decimal("0.03"), price=PRICE)
    assert third.ord_status is OrdStatus.NEW
    assert await desk.cancel_all_orders() == 2
    assert await trader.list_open_orders() == []
    # The desk's own logout with cancel-on-disconnect cancels nothing of the trader's.
    fourth = await trader.submit_order("BTC/USD", "buy", Decimal("0.04"), price=PRICE)
    assert await desk.logout() == 0
    assert (await trader.get_order(fourth.client_order_id)).ord_status is OrdStatus.NEW


async def test_a_read_only_cancel_by_venue_id_is_permission_denied(
    gateway: RunningGateway,
) -> None:
    trader = gateway.client("a")
    await trader.logon()
    order = await trader.submit_order("BTC/USD", "buy", Decimal("0.01"), price=PRICE)
    audit = gateway.client("audit")  # read + drop_copy: sees the order, may not cancel it
    await audit.logon()
    for venue_order_id in (order.venue_order_id, "no-such-venue-id"):
        with pytest.raises(KrakenGwError) as err:
            await audit.cancel_order(venue_order_id=venue_order_id)
        assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
        assert err.value.reason == "PERMISSION_DENIED_CANCEL"
    ro = gateway.client("ro")
    await ro.logon()
    with pytest.raises(KrakenGwError) as err:
        await ro.cancel_order(venue_order_id="anything")
    assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert (await trader.get_order(order.client_order_id)).ord_status is OrdStatus.NEW


async def test_validate_only_answers_validated_not_new(gateway: RunningGateway) -> None:
    client = gateway.client("a")
    await client.logon()
    probe = await client.submit_order(
        "BTC/USD", "buy", Decimal("0.01"), price=PRICE, validate_only=True
    )
    assert probe.ord_status is OrdStatus.VALIDATED
    assert probe.venue_order_id == ""
    assert gateway.venue_calls() == 1  # the venue validated it
    with pytest.raises(KrakenGwError) as err:
        await client.get_order(probe.client_order_id)
    assert err.value.reason == "ORDER_NOT_FOUND"
    assert await client.list_open_orders() == []


async def test_the_desk_names_one_of_two_sessions_orders_sharing_a_client_id(
    gateway: RunningGateway,
) -> None:
    """Client order ids belong to sessions: `a` and `a2` (one key lease: one after the other)
    each place "same"; the desk, which sees both, is told the id is ambiguous and cancels by
    venue order id exactly the one it names."""
    first_session = gateway.client("a")
    await first_session.logon()
    first = await first_session.submit_order(
        "BTC/USD", "buy", Decimal("0.01"), price=PRICE, client_order_id="same"
    )
    await first_session.logout()
    second_session = gateway.client("a2")
    await second_session.logon()
    second = await second_session.submit_order(
        "BTC/USD", "buy", Decimal("0.02"), price=PRICE, client_order_id="same"
    )
    assert first.venue_order_id != second.venue_order_id
    desk = gateway.client("desk")
    await desk.logon()
    with pytest.raises(KrakenGwError) as err:
        await desk.cancel_order("same")
    assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT
    canceled = await desk.cancel_order(venue_order_id=second.venue_order_id)
    assert canceled.session_id == "a2" and canceled.ord_status is OrdStatus.CANCELED
    assert (await second_session.get_order("same")).ord_status is OrdStatus.CANCELED
    assert (await desk.get_order(venue_order_id=first.venue_order_id)).ord_status is OrdStatus.NEW
    # The canceled order still carries the id: by client order id alone it stays ambiguous.
    with pytest.raises(KrakenGwError):
        await desk.get_order("same")


async def test_drop_copy_fills_name_the_session_of_two_orders_sharing_a_client_id(
    gateway: RunningGateway,
) -> None:
    """`a` and `a2` each fill an order "same" (marketable on the paper venue); the drop-copy
    observer's ListFills by that client id tells the two fills apart by session, and so do the
    fill reports of its drop-copy stream."""
    orders = {}
    for session, qty in (("a", "0.01"), ("a2", "0.02")):
        trader = gateway.client(session)
        await trader.logon()
        orders[session] = await trader.submit_order(
            "BTC/USD", "buy", Decimal(qty), price=Decimal("60000"), client_order_id="same"
        )
        await trader.logout()  # one key lease: one session after the other
    audit = gateway.client("audit")
    await audit.logon()
    stream = audit.stream_executions(0, drop_copy=True)

    async def fill_reports() -> list[ExecutionReport]:
        got = []
        async for report in stream:
            if report.exec_type is ExecType.FILL:
                got.append(report)
                if len(got) == 2:
                    return got
        raise AssertionError("the drop-copy stream ended")

    reports = await asyncio.wait_for(fill_reports(), 10)
    await stream.aclose()
    assert sorted((r.session_id, r.trade_id != "") for r in reports) == [
        ("a", True),
        ("a2", True),
    ]
    fills = await audit.list_fills("BTC/USD", client_order_id="same")
    by_session = {f.session_id: f for f in fills}
    assert len(fills) == 2 and set(by_session) == {"a", "a2"}
    for session, order in orders.items():
        fill = by_session[session]
        assert (fill.client_order_id, fill.venue_order_id) == ("same", order.venue_order_id)
        assert fill.qty == order.order_qty
    assert {r.trade_id: r.session_id for r in reports} == {f.trade_id: f.session_id for f in fills}
    # Each fill names the FILL report of its trade.
    assert {r.trade_id: r.exec_id for r in reports} == {f.trade_id: f.exec_id for f in fills}
    assert all(f.exec_id for f in fills)
