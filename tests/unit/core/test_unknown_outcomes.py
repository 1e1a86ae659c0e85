"""Every venue call that may or may not have happened is settled by query, never resent."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from gateway.core.model import (
    AmendRequest,
    CancelRequest,
    ExecType,
    Order,
    OrdStatus,
    ReplaceRequest,
)
from gateway.core.service import TradingService
from gateway.core.telemetry import NullTelemetry
from tests.support.venue_double import Outcome, VenueDouble
from tests.unit.core.conftest import TRADER, limit, reports_until, until

D = Decimal


async def test_batch_item_with_unknown_outcome_is_resolved(
    service: TradingService, venue: VenueDouble
) -> None:
    venue.script("submit_batch", Outcome.ACCEPT, Outcome.ACCEPT_THEN_TIMEOUT, Outcome.LOST)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 0)
    first, second, third = await service.submit_batch(
        TRADER, [limit("b1"), limit("b2"), limit("b3")]
    )
    assert isinstance(first, Order) and first.status is OrdStatus.NEW
    assert isinstance(second, Order) and second.status is OrdStatus.PENDING_NEW
    assert isinstance(third, Order) and third.status is OrdStatus.PENDING_NEW
    venue.release("query_order")
    seen = await reports_until(sub, ExecType.REJECTED)  # b3 never reached the venue
    final = {r.client_order_id: r.exec_type for r in seen}
    assert final == {"b1": ExecType.NEW, "b2": ExecType.NEW, "b3": ExecType.REJECTED}
    assert venue.count("submit") == 3


async def test_cancel_batch_item_with_unknown_outcome_is_resolved(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit("x1"))
    await service.submit(TRADER, limit("x2"))
    venue.script("cancel_batch", Outcome.ACCEPT_THEN_TIMEOUT, Outcome.ACCEPT)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 4)
    x1, x2 = await service.cancel_batch(
        TRADER, [CancelRequest(client_order_id="x1"), CancelRequest(client_order_id="x2")]
    )
    assert isinstance(x1, Order) and x1.status is OrdStatus.PENDING_CANCEL
    assert isinstance(x2, Order) and x2.status is OrdStatus.CANCELED
    venue.release("query_order")

    async def x1_canceled() -> bool:
        return (await service.get_order(TRADER, "x1")).status is OrdStatus.CANCELED

    await until(sub, x1_canceled)
    assert venue.count("cancel") == 2


async def test_amend_with_unknown_outcome_takes_the_venues_values(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    venue.script("amend", Outcome.ACCEPT_THEN_TIMEOUT)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 2)
    pending = await service.amend(TRADER, AmendRequest(client_order_id="c1", price=D("99.0")))
    assert pending.status is OrdStatus.PENDING_REPLACE
    venue.release("query_order")
    seen = await reports_until(sub, ExecType.REPLACED)
    assert seen[-1].price == D("99.0") and seen[-1].ord_status is OrdStatus.NEW
    assert venue.count("amend") == 1


async def test_replace_with_unknown_outcome_settles_both_orders(
    service: TradingService, venue: VenueDouble
) -> None:
    await service.submit(TRADER, limit())
    venue.script("replace", Outcome.ACCEPT_THEN_TIMEOUT)
    venue.hold("query_order")
    new = await service.replace(
        TRADER, ReplaceRequest(orig_client_order_id="c1", new_order=limit("c2", qty=D(2)))
    )
    assert new.status is OrdStatus.PENDING_NEW
    sub = service.stream_executions(TRADER, 0)
    venue.release("query_order")

    async def both_settled() -> bool:
        old = await service.get_order(TRADER, "c1")
        replacement = await service.get_order(TRADER, "c2")
        return old.status is OrdStatus.REPLACED and replacement.status is OrdStatus.NEW

    await until(sub, both_settled)
    assert venue.count("replace") == 1 and venue.count("submit") == 1


class _RecordingTelemetry(NullTelemetry):
    def __init__(self, expect_resolved: int) -> None:
        self.unknown: list[str] = []
        self.resolved: list[str] = []
        self._expect = expect_resolved
        self.all_resolved = asyncio.Event()

    def outcome_unknown(self, action: str) -> None:
        self.unknown.append(action)

    def outcome_resolved(self, resolution: str) -> None:
        self.resolved.append(resolution)
        if len(self.resolved) >= self._expect:
            self.all_resolved.set()


async def test_unknown_outcomes_and_their_resolution_reach_telemetry(
    service: TradingService, venue: VenueDouble
) -> None:
    telemetry = _RecordingTelemetry(expect_resolved=2)
    service.telemetry = telemetry
    venue.script("submit_batch", Outcome.ACCEPT_THEN_TIMEOUT, Outcome.LOST)
    venue.hold("query_order")
    sub = service.stream_executions(TRADER, 0)
    await service.submit_batch(TRADER, [limit("t1"), limit("t2")])
    assert telemetry.unknown == ["submit_batch", "submit_batch"]
    assert telemetry.resolved == []
    venue.release("query_order")
    await asyncio.wait_for(telemetry.all_resolved.wait(), 10)
    assert sorted(telemetry.resolved) == ["NEW", "REJECTED"]  # t2 never reached the venue
    sub.close()
