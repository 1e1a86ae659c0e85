"""ccxt.pro's `kraken` class (PyPI, unmodified except its URLs) over the simulator's WS v2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.pro as ccxt_pro
import pytest

from simulator.accounts import DEMO_ACCOUNT_ID, DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from simulator.engine.model import OrderParams, OrderType, Side
from simulator.engine.spot import SpotEngine


@pytest.fixture
async def kraken(sim: SimulatorServer) -> AsyncIterator[Any]:
    exchange = ccxt_pro.kraken(
        {"apiKey": DEMO_SPOT_KEY, "secret": DEMO_SPOT_SECRET, "enableRateLimit": False}
    )
    exchange.urls["api"]["public"] = sim.base_url
    exchange.urls["api"]["private"] = sim.base_url
    exchange.urls["api"]["ws"]["publicV2"] = sim.spot_ws_public_url
    exchange.urls["api"]["ws"]["privateV2"] = sim.spot_ws_private_url
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_watch_order_book_and_ticker(kraken: Any, engine: SpotEngine) -> None:
    # ccxt's own checksum option stays off: its Python port formats floats and crashes.
    book = await kraken.watch_order_book("BTC/USD")
    assert book["bids"][0][0] == float(engine.book_levels("XXBTZUSD", Side.BUY, 1)[0][0])
    engine.add_order(
        DEMO_ACCOUNT_ID,
        OrderParams(pair="XXBTZUSD", side=Side.BUY, ordertype=OrderType.MARKET, volume="0.1"),
    )
    book = await kraken.watch_order_book("BTC/USD")
    assert book["asks"][0][1] == 0.4
    ticker = await kraken.watch_ticker("BTC/USD")
    assert ticker["bid"] < ticker["ask"]


async def test_ws_orders_round_trip(kraken: Any) -> None:
    await kraken.load_markets()
    order = await kraken.create_order_ws("BTC/USD", "limit", "buy", 0.01, 80000)
    assert order["id"].startswith("O")
    watched = await kraken.watch_orders("BTC/USD")
    assert any(o["id"] == order["id"] for o in watched)
    canceled = await kraken.cancel_order_ws(order["id"])
    assert canceled is not None
    watched = await kraken.watch_orders("BTC/USD")
    assert [o["status"] for o in watched if o["id"] == order["id"]][-1] == "canceled"


async def test_market_order_then_snapshots_show_my_trade_and_the_print(kraken: Any) -> None:
    await kraken.load_markets()
    order = await kraken.create_order_ws("BTC/USD", "market", "sell", 0.05)
    # Snapshots (snap_trades, trade snapshot) carry the fill: no race with the subscriptions.
    mine = await kraken.watch_my_trades("BTC/USD", params={"snap_trades": True})
    assert any(t["order"] == order["id"] and t["side"] == "sell" for t in mine)
    prints = await kraken.watch_trades("BTC/USD", params={"snapshot": True})
    assert prints[-1]["side"] == "sell" and prints[-1]["amount"] == 0.05
