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
    exchange = ccxt_async.kraken(
        {"apiKey": DEMO_SPOT_KEY, "secret": DEMO_SPOT_SECRET, "enableRateLimit": False}
    )
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


async def test_ccxt_trading_flow(kraken: Any) -> None:
    await kraken.load_markets()
    ticker = await kraken.fetch_ticker("BTC/USD")
    assert ticker["bid"] < ticker["ask"]
    book = await kraken.fetch_order_book("BTC/USD", 10)
    assert book["bids"] and book["asks"]
    assert book["bids"][0][0] == ticker["bid"]

    balance = await kraken.fetch_balance()
    assert balance["BTC"]["total"] == 100
    assert balance["USD"]["free"] == 1_000_000

    # A resting limit buy well below the market.
    price = round(ticker["bid"] * 0.9, 1)
    order = await kraken.create_order("BTC/USD", "limit", "buy", 0.01, price)
    assert order["id"]
    open_orders = await kraken.fetch_open_orders("BTC/USD")
    assert [o["id"] for o in open_orders] == [order["id"]]
    assert open_orders[0]["price"] == price
    assert open_orders[0]["amount"] == 0.01
    held = await kraken.fetch_balance()
    assert held["USD"]["used"] > 0

    await kraken.cancel_order(order["id"])
    assert await kraken.fetch_open_orders("BTC/USD") == []
    closed = await kraken.fetch_closed_orders("BTC/USD")
    assert [(o["id"], o["status"]) for o in closed] == [(order["id"], "canceled")]

    market = await kraken.create_order("BTC/USD", "market", "buy", 0.02)
    trades = await kraken.fetch_my_trades("BTC/USD")
    assert trades and {t["order"] for t in trades} == {market["id"]}
    assert sum(t["amount"] for t in trades) == pytest.approx(0.02)
    assert all(t["side"] == "buy" and t["fee"]["cost"] > 0 for t in trades)
    after = await kraken.fetch_balance()
    assert after["BTC"]["total"] == pytest.approx(100.02)


async def test_ccxt_more_calls(kraken: Any) -> None:
    await kraken.load_markets()
    bid = (await kraken.fetch_ticker("ETH/USD"))["bid"]
    price = round(bid * 0.9, 2)
    order = await kraken.create_order(
        "ETH/USD", "limit", "buy", 0.1, price, {"clientOrderId": "ccxt-1"}
    )
    fetched = await kraken.fetch_order(order["id"])
    assert fetched["status"] == "open" and fetched["clientOrderId"] == "ccxt-1"
    edited = await kraken.edit_order(order["id"], "ETH/USD", "limit", "buy", 0.2, price)
    assert edited["id"]
    batch = await kraken.create_orders([
        {"symbol": "ETH/USD", "type": "limit", "side": "buy", "amount": 0.1, "price": price},
        {"symbol": "ETH/USD", "type": "limit", "side": "buy", "amount": 0.1, "price": price - 1},
    ])  # fmt: skip
    assert len(batch) == 2 and all(o["id"] for o in batch)
    assert len(await kraken.fetch_open_orders("ETH/USD")) == 3
    await kraken.cancel_all_orders()
    assert await kraken.fetch_open_orders() == []
    fee = await kraken.fetch_trading_fee("ETH/USD")
    assert fee["taker"] == 0.004 and fee["maker"] == 0.0025
    ledger = await kraken.fetch_ledger("USD")
    assert ledger and ledger[0]["currency"] == "USD"
