"""The venue conformance suite on the in-memory venue double (tests/support/venue_double.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.core.model import Order, OrderRequest, OrderType, Side
from gateway.core.ports import JournalPort
from tests.contract.venue_suite import OpenedVenue, VenueSuite
from tests.support.venue_double import Outcome, VenueDouble


def _limit(client_order_id: str, price: str = "100.0") -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.5"),
        price=Decimal(price),
    )


class TestVenueDouble(VenueSuite):
    double: VenueDouble

    async def open_venue(self, tmp_path: Path, journal: JournalPort) -> OpenedVenue:
        self.double = VenueDouble()

        async def close() -> None:
            return None

        return OpenedVenue(self.double, self.double.instrument_list, close)

    def resting_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id)

    def refused_request(self, client_order_id: str) -> OrderRequest:
        self.double.script("submit", Outcome.REJECT)
        return _limit(client_order_id)

    def fill_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id)

    async def make_fill(self, order: Order) -> None:
        await self.double.fill(order.id_at_venue, order.qty, Decimal("100.0"))

    async def lose_next_submit_answer(self) -> None:
        self.double.script("submit", Outcome.ACCEPT_THEN_TIMEOUT)
