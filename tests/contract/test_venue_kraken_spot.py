"""The venue conformance suite on the Kraken Spot adapter against the local simulator.

The simulator runs without its market maker, so prices are the test's: resting buys at 40,000
stay put, and the `maker` key takes them over plain REST (`RestMaker`) to make a fill. Lost
answers come from the simulator's fault plan (the WS add_order answer is dropped after the order
was placed; the adapter gives up waiting after `ack_timeout_s`).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

from gateway.core.model import Order, OrderRequest, OrderType, Side
from gateway.core.ports import JournalPort
from gateway.venues.kraken.common.ratelimit import KrakenTier
from gateway.venues.kraken.spot.factory import build_kraken_spot_venue
from simulator.app import SimulatorServer
from tests.contract.venue_suite import OpenedVenue, VenueSuite
from tests.integration.venues.kraken.spot.conftest import (
    MAKER,
    TRADER,
    RestMaker,
    accounts,
    credentials,
    set_faults,
)

PX = Decimal("40000")


def _limit(client_order_id: str, qty: str, price: Decimal = PX) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=price,
    )


class TestKrakenSpotVenue(VenueSuite):
    ACCOUNT = TRADER
    sim: SimulatorServer
    maker: RestMaker

    async def open_venue(self, tmp_path: Path, journal: JournalPort) -> OpenedVenue:
        stack = contextlib.AsyncExitStack()
        try:
            self.sim = await stack.enter_async_context(
                SimulatorServer(
                    host="127.0.0.1",
                    port=0,
                    seed=5,
                    accounts=accounts([TRADER, MAKER]),
                    market_maker=False,
                )
            )
            self.maker = RestMaker(self.sim)
            stack.push_async_callback(self.maker.close)
            bundle = await build_kraken_spot_venue(
                account=TRADER,
                credentials=credentials(TRADER),
                journal=journal,
                rest_url=self.sim.base_url,
                ws_public_url=self.sim.spot_ws_public_url,
                ws_private_url=self.sim.spot_ws_private_url,
                tier=KrakenTier.PRO,
                ack_timeout_s=0.5,
            )
            stack.push_async_callback(bundle.close)
            instruments = await bundle.venue.instruments()
        except BaseException:
            await stack.aclose()
            raise
        return OpenedVenue(bundle.venue, instruments, stack.aclose, bundle.venue.wait_ready)

    def resting_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "0.01")

    def refused_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "1000")  # 40M USD: more than the account holds

    def fill_request(self, client_order_id: str) -> OrderRequest:
        return _limit(client_order_id, "0.01")

    async def make_fill(self, order: Order) -> None:
        await self.maker.take(Side.SELL, str(order.qty), PX)

    async def lose_next_submit_answer(self) -> None:
        await set_faults(
            self.sim, {"rules": [{"match": "ws:add_order", "action": "drop", "times": 1}]}
        )
