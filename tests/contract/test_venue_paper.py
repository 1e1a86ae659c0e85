"""The venue conformance suite on the paper venue (gateway/venues/paper.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.core.model import Order, OrderRequest, OrderType, Side
from gateway.core.ports import JournalPort
from gateway.venues.paper import PaperMarket, PaperVenue
from tests.contract.venue_suite import OpenedVenue, VenueSuite


def _limit(client_order_id: str, price: str, *, post_only: bool = False) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal(price),
        post_only=post_only,
    )


class TestPaperVenue(VenueSuite):
    NOT_APPLICABLE = {
        "test_lost_answer_is_settled_by_query": (
            "the paper venue runs in-process: a call returns or raises, its answer cannot be "
            "lost between venue and gateway"
        ),
    }

    async def open_venue(self, tmp_path: Path, journal: JournalPort) -> OpenedVenue:
        market = PaperMarket()
        venue = PaperVenue(market, self.ACCOUNT)
        return OpenedVenue(venue, await market.instruments(), venue.close)

    def resting_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "40000")  # below the 50000 reference: rests

    def refused_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "60000", post_only=True)  # post-only would take

    def fill_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "60000")  # marketable: fills right after its ack

    async def make_fill(self, order: Order) -> None:
        return None  # the paper venue fills a marketable order by itself
