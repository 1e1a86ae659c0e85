"""The venue conformance suite on the Kraken Futures adapter against the local simulator.

The simulator's market maker keeps BTC/USD:USD books alive: resting buys go 10% under the bid,
a market buy fills against the maker's asks, a post-only buy through the ask is refused
(`postWouldExecute`). Lost answers come from the fault plan (sendorder executed, answer
dropped).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

from gateway.core.model import Order, OrderRequest, OrderType, Side
from gateway.core.ports import JournalPort
from gateway.venues.kraken.futures.factory import build_kraken_futures_venue
from simulator.app import SimulatorServer
from tests.contract.venue_suite import OpenedVenue, VenueSuite
from tests.integration.venues.kraken.futures.conftest import (
    MAKER,
    SYMBOL,
    TRADER,
    credentials,
    futures_accounts,
)
from tests.integration.venues.kraken.spot.conftest import set_faults


def _order(client_order_id: str, order_type: OrderType, **kw: object) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=order_type,
        qty=Decimal("0.01"),
        **kw,  # type: ignore[arg-type]
    )


class TestKrakenFuturesVenue(VenueSuite):
    ACCOUNT = TRADER
    sim: SimulatorServer
    bid: Decimal
    ask: Decimal

    async def open_venue(self, tmp_path: Path, journal: JournalPort) -> OpenedVenue:
        stack = contextlib.AsyncExitStack()
        try:
            self.sim = await stack.enter_async_context(
                SimulatorServer(
                    host="127.0.0.1", port=0, seed=7, accounts=futures_accounts([TRADER, MAKER])
                )
            )
            bundle = await build_kraken_futures_venue(
                account=TRADER,
                credentials=credentials(TRADER),
                journal=journal,
                rest_url=self.sim.base_url,
                ws_url=self.sim.futures_ws_url,
            )
            stack.push_async_callback(bundle.close)
            ticker = await bundle.market_data.ticker(SYMBOL)
            assert ticker.bid is not None and ticker.ask is not None
            self.bid, self.ask = ticker.bid, ticker.ask
            instruments = await bundle.venue.instruments()
        except BaseException:
            await stack.aclose()
            raise
        return OpenedVenue(bundle.venue, instruments, stack.aclose, bundle.venue.wait_ready)

    def resting_request(self, client_order_id: str) -> OrderRequest:
        price = (self.bid * Decimal("0.9")).quantize(Decimal(1))
        return _order(client_order_id, OrderType.LIMIT, price=price)

    def refused_request(self, client_order_id: str) -> OrderRequest:
        price = (self.ask * Decimal("1.05")).quantize(Decimal(1))
        return _order(client_order_id, OrderType.LIMIT, price=price, post_only=True)

    def fill_request(self, client_order_id: str) -> OrderRequest:
        return _order(client_order_id, OrderType.MARKET)

    async def make_fill(self, order: Order) -> None:
        return None  # a market buy fills against the simulator's market maker

    async def lose_next_submit_answer(self) -> None:
        rule = {"match": "/derivatives/api/v3/sendorder", "action": "drop_after_accept", "times": 1}
        await set_faults(self.sim, {"rules": [rule]})
