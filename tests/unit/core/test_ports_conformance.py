"""The venue double and the SQLite journal satisfy the core's Protocols (checked by mypy through
the annotated assignments, and at run time by isinstance)."""

from __future__ import annotations

import pytest

from gateway.core.errors import NotFound
from gateway.core.ports import (
    AccountPort,
    InstrumentPort,
    JournalPort,
    MarketDataPort,
    OrderEntryPort,
    ReportSubscription,
)
from gateway.core.service import TradingService
from gateway.journal import SqliteJournal
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import TRADER, limit


async def test_implementations_match_the_protocols(journal: SqliteJournal) -> None:
    venue = VenueDouble()
    order_entry: OrderEntryPort = venue
    account: AccountPort = venue
    instruments: InstrumentPort = venue
    market: MarketDataPort = venue
    store: JournalPort = journal
    subscription: ReportSubscription = journal.subscribe("s", 0)
    for value, protocol in [
        (order_entry, OrderEntryPort),
        (account, AccountPort),
        (instruments, InstrumentPort),
        (market, MarketDataPort),
        (store, JournalPort),
        (subscription, ReportSubscription),
    ]:
        assert isinstance(value, protocol)
    subscription.close()


async def test_validate_only_reaches_the_venue_but_creates_nothing(
    service: TradingService, venue: VenueDouble
) -> None:
    probe = await service.submit(TRADER, limit("v1", validate_only=True))
    assert probe.client_order_id == "v1"
    assert venue.count("submit") == 1 and venue.orders == {}
    with pytest.raises(NotFound):
        await service.get_order(TRADER, "v1")
    assert await service.last_sequence(TRADER) == 0
