"""Reads through the core: finding an order by the venue's order id (from the index)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.core.errors import NotFound
from gateway.core.model import CancelRequest
from gateway.core.service import TradingService
from tests.support.venue_double import VenueDouble
from tests.unit.core.conftest import DROP_COPY, OTHER, TRADER, limit


async def test_find_by_venue_order_id_sees_open_and_closed_orders_of_the_session(
    service: TradingService, venue: VenueDouble
) -> None:
    done = await service.submit(TRADER, limit("c1"))
    await venue.fill("c1", Decimal("1"), Decimal("100"))
    for i in range(50):  # more history than any page: the index answers, not a page scan
        await service.submit(TRADER, limit(f"x{i}"))
    await service.cancel(TRADER, CancelRequest(client_order_id="x0"))
    assert done.venue_order_id
    assert service.find_by_venue_order_id(TRADER, done.venue_order_id).client_order_id == "c1"
    x0 = await service.get_order(TRADER, "x0")
    assert x0.venue_order_id
    assert service.find_by_venue_order_id(TRADER, x0.venue_order_id).client_order_id == "x0"
    # Drop copy sees the account's orders; another trading session does not see this one.
    assert service.find_by_venue_order_id(DROP_COPY, done.venue_order_id).client_order_id == "c1"
    with pytest.raises(NotFound):
        service.find_by_venue_order_id(OTHER, done.venue_order_id)
    with pytest.raises(NotFound):
        service.find_by_venue_order_id(TRADER, "no-such-id")
