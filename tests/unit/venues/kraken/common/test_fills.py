"""KrakenFills: each trade id reaches the sink once whatever the source, oldest first, with the
client's ids; memory of seen trades is bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.core.events import OrderFilled, VenueEvent
from gateway.venues.kraken.common.fills import KrakenFills

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fill(trade_id: str, seconds: int) -> OrderFilled:
    return OrderFilled(
        client_order_id="kraken-cl-1",
        venue_order_id="O1",
        venue_time=T0 + timedelta(seconds=seconds),
        trade_id=trade_id,
        qty=Decimal("0.1"),
        price=Decimal("100"),
    )


async def test_each_trade_once_oldest_first_normalised() -> None:
    sent: list[VenueEvent] = []

    async def normalise(f: OrderFilled) -> VenueEvent:
        return replace(f, client_order_id="client-1")

    async def emit(event: VenueEvent) -> None:
        sent.append(event)

    fills = KrakenFills(normalise, emit)
    await fills.emit_one(fill("T2", 2))  # live feed first
    # REST catch-up later repeats T2 and brings older and newer trades, in any order.
    await fills.emit([fill("T3", 3), fill("T2", 2), fill("T1", 1), fill("T1", 1)])
    assert [e.trade_id for e in sent if isinstance(e, OrderFilled)] == ["T2", "T1", "T3"]
    assert {e.client_order_id for e in sent} == {"client-1"}
    assert fills.last_fill_time == T0 + timedelta(seconds=3)
    assert fills.seen("T1") and not fills.seen("T9")


async def test_seen_trades_are_bounded_oldest_forgotten_first() -> None:
    sent: list[str] = []

    async def same(f: OrderFilled) -> VenueEvent:
        return f

    async def emit(event: VenueEvent) -> None:
        assert isinstance(event, OrderFilled)
        sent.append(event.trade_id)

    fills = KrakenFills(same, emit, max_seen=2)
    await fills.emit([fill("A", 1), fill("B", 2), fill("C", 3)])
    assert not fills.seen("A") and fills.seen("B") and fills.seen("C")
    await fills.emit_one(fill("B", 2))
    assert sent == ["A", "B", "C"]
