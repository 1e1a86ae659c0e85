"""cliOrdId mapping (journaled when the client id had to become a UUID), fill de-duplication by
fill id across sources, and the gateway's own amend echoes swallowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.core.events import OrderAccepted, OrderAmended, OrderFilled, VenueEvent
from gateway.venues.kraken.futures.executions import KrakenFuturesFeed, kraken_futures_order_ids

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeJournal:
    """Only the client-id mapping part of JournalPort."""

    def __init__(self) -> None:
        self.mappings: dict[tuple[str, str, str], str] = {}

    async def save_client_id_mapping(
        self, account: str, venue: str, client_order_id: str, venue_client_id: str
    ) -> None:
        self.mappings[(account, venue, venue_client_id)] = client_order_id

    async def client_order_id_for(
        self, account: str, venue: str, venue_client_id: str
    ) -> str | None:
        return self.mappings.get((account, venue, venue_client_id))


async def test_mapped_ids_are_journaled_and_found_again_after_a_restart() -> None:
    journal = FakeJournal()
    ids = kraken_futures_order_ids(journal, "acct")  # type: ignore[arg-type]
    assert await ids.venue_client_id_for("plain-id_1") == "plain-id_1"
    mapped = await ids.venue_client_id_for("needs mapping/#1")
    assert mapped != "needs mapping/#1" and len(mapped) == 36
    assert journal.mappings == {("acct", "krakenfutures", mapped): "needs mapping/#1"}
    restarted = kraken_futures_order_ids(journal, "acct")  # type: ignore[arg-type]
    assert await restarted.client_id(mapped) == "needs mapping/#1"
    assert await restarted.client_id("plain-id_1") == "plain-id_1"


def _fill(trade_id: str, minutes: int, cli: str = "c1") -> OrderFilled:
    return OrderFilled(
        client_order_id=cli,
        venue_order_id="o1",
        trade_id=trade_id,
        qty=Decimal(1),
        price=Decimal(100),
        venue_time=T0 + timedelta(minutes=minutes),
    )


async def test_each_fill_once_oldest_first_and_own_amend_echo_swallowed() -> None:
    pushed: list[VenueEvent] = []

    async def sink(event: VenueEvent) -> None:
        pushed.append(event)

    ids = kraken_futures_order_ids(FakeJournal(), "acct")  # type: ignore[arg-type]
    feed = KrakenFuturesFeed(ids, sink)
    await feed.emit_fills([_fill("f2", 2), _fill("f1", 1)])  # a snapshot
    await feed.emit_fill(_fill("f2", 2))  # the same fill from REST catch-up
    await feed.emit(_fill("f3", 3))  # live
    assert [e.trade_id for e in pushed if isinstance(e, OrderFilled)] == ["f1", "f2", "f3"]
    assert feed.last_fill_time == T0 + timedelta(minutes=3)
    feed.expect_amended["o1"] += 1
    amended: Any = OrderAmended(venue_order_id="o1", qty=Decimal(2))
    await feed.emit(amended)  # our own editorder's echo
    await feed.emit(amended)  # a second one is news
    await feed.emit(OrderAccepted(venue_order_id="o2", client_order_id="c2"))
    assert [type(e).__name__ for e in pushed[3:]] == ["OrderAmended", "OrderAccepted"]
