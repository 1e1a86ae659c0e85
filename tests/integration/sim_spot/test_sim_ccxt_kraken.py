"""ccxt's `kraken` class from PyPI, unmodified except its URLs, drives the simulator end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer


@pytest.fixture
async def kraken(sim: SimulatorServer) -> AsyncIterator[Any]:
    exchange = ccxt_async.kraken({"apiKey": DEMO_SPOT_KEY, "secret": DEMO_SPOT_SECRET})
    exchange.urls["api"]["public"] = sim.base_url
    exchange.urls["api"]["private"] = sim.base_url
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_load_markets_lists_the_simulated_pairs(kraken: Any) -> None:
    markets = await kraken.load_markets()
    assert {"BTC/USD", "ETH/USD", "ETH/BTC", "DOGE/USD", "BTC/USDT"} <= set(markets)
    btc = markets["BTC/USD"]
    assert btc["id"] == "XXBTZUSD"
    assert btc["precision"]["price"] == 0.1
    assert btc["limits"]["amount"]["min"] == 0.00005
