"""Submit, fills, cancel, amend, replace and the outcome-unknown path through TradingService."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from gateway.core.errors import (
    ErrorReason,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    VenueRejected,
)
from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    ExecType,
    Fee,
    Liquidity,
    Order,
    OrdStatus,
    ReplaceRequest,
)
from gateway.core.service import TradingService
from tests.support.venue_double import RATE_LIMIT_RETRY_AFTER, Outcome, VenueDouble
from tests.unit.core.conftest import TRADER, limit, next_report, reports_until

D = Decimal


async def test_submit_reports_pending_new_then_new(service: TradingService) -> None:
    sub = service.stream_executions(TRADER, 0)
    order = await service.submit(TRADER, limit())
    assert order.status is OrdStatus.NEW
    assert order.venue_order_id
    first, second = await next_report(sub), await next_report(sub)
    assert (first.exec_type, first.ord_status, first.sequence) == (
        ExecType.PENDING_NEW,
        OrdStatus.PENDING_NEW,
        1,
    )
    assert (second.exec_type, second.ord_status, second.sequence) == (
        ExecType.NEW,
        OrdStatus.NEW,
        2,
    )
    assert second.leaves_qty == D(1) and second.cum_qty == 0
    assert first.exec_id != second.exec_id


async def test_fills_compute_cum_leaves_avg_and_ignore_repeated_trade_ids(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit(qty=D("1.0")))
    sub = service.stream_executions(TRADER, 2)
    fee = Fee(asset="USD", amount=D("0.26"))
    first = await venue.fill("c1", D("0.4"), D("100"), trade_id="T1", fee=fee)
    await venue.push(first)  # the same trade again (reconnect snapshot): no double count
    await venue.fill("c1", D("0.6"), D("101"), trade_id="T2", liquidity=Liquidity.MAKER)
    partial, full = await next_report(sub), await next_report(sub)
    assert (partial.exec_type, partial.ord_status) == (
        ExecType.PARTIAL_FILL,
        OrdStatus.PARTIALLY_FILLED,
    )
    assert (partial.last_qty, partial.last_px, partial.cum_qty, partial.leaves_qty) == (
        D("0.4"),
        D("100"),
        D("0.4"),
        D("0.6"),
    )
    assert partial.fee == fee and partial.trade_id == "T1" and partial.liquidity is Liquidity.TAKER
    assert (full.exec_type, full.ord_status, full.cum_qty, full.leaves_qty) == (
        ExecType.FILL,
        OrdStatus.FILLED,
        D("1.0"),
        D(0),
    )
    assert full.avg_px == D("100.6")
    assert full.sequence == partial.sequence + 1
    order = await service.get_order(TRADER, "c1")
    assert [f.trade_id for f in order.fills] == ["T1", "T2"]
    fills = await service.list_fills(TRADER)
    assert {f.trade_id for f in fills.items} == {"T1", "T2"}


async def test_venue_rejection_is_a_rejected_order_with_reason(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit", Outcome.REJECT)
    order = await service.submit(TRADER, limit())
    assert order.status is OrdStatus.REJECTED
    assert order.reject is not None
    assert order.reject.reason is ErrorReason.INSUFFICIENT_FUNDS
    assert order.reject.venue_text == "EOrder:Insufficient funds"
    assert order.leaves_qty == 0


async def test_governor_refusal_raises_resource_exhausted_with_retry_delay(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit", Outcome.RATE_LIMITED)
    sub = service.stream_executions(TRADER, 0)
    with pytest.raises(ResourceExhausted) as caught:
        await service.submit(TRADER, limit())
    assert caught.value.reason is ErrorReason.RATE_LIMITED
    assert caught.value.retry_after == RATE_LIMIT_RETRY_AFTER
    reports = await reports_until(sub, ExecType.REJECTED)
    assert [r.exec_type for r in reports] == [ExecType.PENDING_NEW, ExecType.REJECTED]
    assert reports[-1].reject is not None
    assert reports[-1].reject.reason is ErrorReason.RATE_LIMITED
    # The refused id is spent (FIX: a rejected ClOrdID is final); a new id goes through.
    assert (await service.submit(TRADER, limit("c2"))).status is OrdStatus.NEW


async def test_governor_refusal_in_a_batch_is_that_item_s_error(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit_batch", Outcome.ACCEPT, Outcome.RATE_LIMITED)
    results = await service.submit_batch(TRADER, [limit("b1"), limit("b2")])
    assert isinstance(results[0], Order) and results[0].status is OrdStatus.NEW
    assert isinstance(results[1], ResourceExhausted)
    assert results[1].retry_after == RATE_LIMIT_RETRY_AFTER


async def test_timeout_after_accept_stays_pending_then_resolves_by_query(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit", Outcome.ACCEPT_THEN_TIMEOUT)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 0)
    order = await service.submit(TRADER, limit())
    assert order.status is OrdStatus.PENDING_NEW
    venue.release("query_order")
    reports = await reports_until(sub, ExecType.NEW)
    assert [r.exec_type for r in reports] == [ExecType.PENDING_NEW, ExecType.NEW]
    assert venue.count("submit") == 1  # resolved by query, never resent
    assert venue.count("query_order") >= 1
    assert (await service.get_order(TRADER, "c1")).venue_order_id == venue.orders[
        "c1"
    ].venue_order_id


async def test_lost_submit_is_rejected_only_after_confirmed_absence(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit", Outcome.LOST)
    sub = service.stream_executions(TRADER, 0)
    await service.submit(TRADER, limit())
    reports = await reports_until(sub, ExecType.REJECTED)
    assert reports[-1].reject is not None
    assert reports[-1].reject.reason is ErrorReason.UNKNOWN_ORDER
    assert venue.count("submit") == 1
    assert venue.count("query_order") >= 2


async def test_cancel(service: TradingService, venue: VenueDouble) -> None:
    await service.submit(TRADER, limit())
    sub = service.stream_executions(TRADER, 2)
    order = await service.cancel(TRADER, CancelRequest(client_order_id="c1"))
    assert order.status is OrdStatus.CANCELED and order.leaves_qty == 0
    assert [(await next_report(sub)).exec_type for _ in range(2)] == [
        ExecType.PENDING_CANCEL,
        ExecType.CANCELED,
    ]
    with pytest.raises(FailedPrecondition) as err:
        await service.cancel(TRADER, CancelRequest(client_order_id="c1"))
    assert err.value.reason is ErrorReason.ORDER_NOT_CANCELABLE


async def test_cancel_refused_by_venue_restores_order(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    venue.reject_reason = ErrorReason.CANCEL_PENDING
    venue.script("cancel", Outcome.REJECT)
    with pytest.raises(VenueRejected):
        await service.cancel(TRADER, CancelRequest(client_order_id="c1"))
    assert (await service.get_order(TRADER, "c1")).status is OrdStatus.NEW


async def test_cancel_timeout_resolves_to_canceled(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    venue.script("cancel", Outcome.ACCEPT_THEN_TIMEOUT)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 2)
    order = await service.cancel(TRADER, CancelRequest(client_order_id="c1"))
    assert order.status is OrdStatus.PENDING_CANCEL
    venue.release("query_order")
    reports = await reports_until(sub, ExecType.CANCELED)
    assert reports[-1].ord_status is OrdStatus.CANCELED
    assert venue.count("cancel") == 1


async def test_amend_in_place(service: TradingService, venue: VenueDouble) -> None:
    await service.submit(TRADER, limit())
    await venue.fill("c1", D("0.25"), D("100"))
    order = await service.amend(
        TRADER, AmendRequest(client_order_id="c1", qty=D(2), price=D("99.5"))
    )
    assert (order.status, order.qty, order.price, order.leaves_qty) == (
        OrdStatus.PARTIALLY_FILLED,
        D(2),
        D("99.5"),
        D("1.75"),
    )
    assert venue.orders["c1"].price == D("99.5")


async def test_replace_creates_new_order_and_closes_old(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    new = await service.replace(
        TRADER, ReplaceRequest(orig_client_order_id="c1", new_order=limit("c2", price=D("101.0")))
    )
    assert new.status is OrdStatus.NEW and new.orig_client_order_id == "c1"
    assert (await service.get_order(TRADER, "c1")).status is OrdStatus.REPLACED
    again = await service.replace(
        TRADER, ReplaceRequest(orig_client_order_id="c1", new_order=limit("c2", price=D("101.0")))
    )
    assert again == new and venue.count("replace") == 1


async def test_unsolicited_expiry_and_triggers(service: TradingService, venue: VenueDouble) -> None:
    await service.submit(TRADER, limit())
    await venue.expire("c1")
    order = await service.get_order(TRADER, "c1")
    assert order.status is OrdStatus.EXPIRED
    await venue.cancel_at_venue("c1")  # news about a closed order changes nothing
    assert (await service.get_order(TRADER, "c1")).status is OrdStatus.EXPIRED


async def test_late_fill_after_cancel_is_recorded(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    await service.cancel(TRADER, CancelRequest(client_order_id="c1"))
    venue.orders["c1"].status = OrdStatus.NEW  # the venue traded before it saw the cancel
    await venue.fill("c1", D("0.5"), D("100"), trade_id="LATE")
    order = await service.get_order(TRADER, "c1")
    assert order.status is OrdStatus.CANCELED and order.cum_qty == D("0.5")


async def test_events_before_ack_are_not_duplicated(journal: object, tmp_path: object) -> None:
    from gateway.journal import SqliteJournal

    assert isinstance(journal, SqliteJournal)
    venue = VenueDouble(emit_events=True)
    svc = TradingService(journal, resolve_delays=(0,))
    svc.add_instruments(venue.instrument_list)
    svc.attach_venue("acct-1", venue)
    sub = svc.stream_executions(TRADER, 0)
    await svc.submit(TRADER, limit())
    await svc.cancel(TRADER, CancelRequest(client_order_id="c1"))
    types = [(await next_report(sub)).exec_type for _ in range(4)]
    assert types == [ExecType.PENDING_NEW, ExecType.NEW, ExecType.PENDING_CANCEL, ExecType.CANCELED]
    assert await svc.last_sequence(TRADER) == 4
    await svc.close()


async def test_caller_cancelled_mid_send_leaves_order_to_resolution(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.hold("submit")
    sub = service.stream_executions(TRADER, 0)
    call = asyncio.create_task(service.submit(TRADER, limit()))
    await asyncio.wait_for(venue.entered["submit"].wait(), 10)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    venue.release("submit")
    reports = await reports_until(sub, ExecType.REJECTED)  # the venue never got it
    assert [r.exec_type for r in reports] == [ExecType.PENDING_NEW, ExecType.REJECTED]
    again = await service.submit(TRADER, limit())
    assert again.status is OrdStatus.REJECTED and venue.count("submit") == 1


async def test_submit_batch_mixes_results_per_item(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit("dup"))
    venue.script("submit_batch", Outcome.ACCEPT, Outcome.REJECT)
    results = await service.submit_batch(
        TRADER,
        [
            limit("b1"),
            limit("b2"),
            limit("bad", price=D("100.05")),
            limit("dup"),
            limit("e1", symbol="ETH/USD"),
        ],
    )
    b1, b2, bad, dup, e1 = results
    assert isinstance(b1, Order) and b1.status is OrdStatus.NEW
    assert isinstance(b2, Order) and b2.status is OrdStatus.REJECTED
    assert isinstance(bad, InvalidArgument) and bad.reason is ErrorReason.PRICE_OFF_TICK
    assert isinstance(dup, Order) and dup.client_order_id == "dup"
    assert isinstance(e1, Order) and e1.status is OrdStatus.NEW
    assert venue.count("submit") == 4  # dup once before, b1, b2, e1; never "bad"


async def test_cancel_batch_and_cancel_all(service: TradingService, venue: VenueDouble) -> None:
    for cid in ("x1", "x2", "x3", "x4"):
        await service.submit(TRADER, limit(cid))
    await service.submit(TRADER, limit("e1", symbol="ETH/USD"))
    results = await service.cancel_batch(
        TRADER, [CancelRequest(client_order_id="x1"), CancelRequest(client_order_id="nope")]
    )
    assert isinstance(results[0], Order) and results[0].status is OrdStatus.CANCELED
    assert isinstance(results[1], NotFound)
    assert await service.cancel_all(TRADER, symbol="ETH/USD") == 1
    assert await service.cancel_all(TRADER) == 3
    assert await service.list_open_orders(TRADER) == []
    page = await service.list_orders(TRADER, page_size=3)
    assert len(page.items) == 3 and page.next_page_token
    rest = await service.list_orders(TRADER, page_size=3, page_token=page.next_page_token)
    assert len(rest.items) == 2 and not rest.next_page_token
