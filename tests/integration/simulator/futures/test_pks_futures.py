"""python-kraken-sdk's Futures clients (unmodified, base URL pointed at the simulator).

PKS signs `query + form body` with a Nonce header and form-encodes batchorder's `json` field;
it is synchronous, so its calls run in a worker thread while the simulator serves in the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kraken.exceptions import KrakenAuthenticationError
from kraken.futures import Market, Trade, User

from simulator.accounts import DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
from simulator.app import SimulatorServer


async def run(call: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


async def test_pks_market_trade_and_user(sim: SimulatorServer) -> None:
    market = Market(url=sim.base_url)
    trade = Trade(DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET, url=sim.base_url)
    user = User(DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET, url=sim.base_url)
    symbols = [i["symbol"] for i in (await run(market.get_instruments))["instruments"]]
    assert {"PI_XBTUSD", "PF_XBTUSD", "PF_ETHUSD"} <= set(symbols)
    book = (await run(market.get_orderbook, symbol="PF_XBTUSD"))["orderBook"]
    price = book["bids"][0][0] - 50
    placed = await run(
        trade.create_order,
        orderType="lmt",
        size=0.01,
        symbol="PF_XBTUSD",
        side="buy",
        limitPrice=price,
        cliOrdId="pks-1",
    )
    order_id = placed["sendStatus"]["order_id"]
    [row] = (await run(user.get_open_orders))["openOrders"]
    assert (row["order_id"], row["limitPrice"], row["cliOrdId"]) == (order_id, price, "pks-1")
    batch = await run(
        trade.create_batch_order,
        batchorder_list=[
            {
                "order": "send",
                "order_tag": "1",
                "orderType": "mkt",
                "symbol": "PF_XBTUSD",
                "side": "buy",
                "size": 0.02,
            },
            {"order": "cancel", "order_id": order_id},
        ],
        processBefore="2100-01-01T00:00:00Z",
    )
    assert [s["status"] for s in batch["batchStatus"]] == ["placed", "cancelled"]
    [position] = (await run(user.get_open_positions))["openPositions"]
    assert (position["symbol"], position["side"], position["size"]) == ("PF_XBTUSD", "long", 0.02)
    wallets = (await run(user.get_wallets))["accounts"]
    assert wallets["flex"]["initialMargin"] > 0
    closing = await run(
        trade.create_order,
        orderType="mkt",
        size=0.02,
        symbol="PF_XBTUSD",
        side="sell",
        reduceOnly=True,
    )
    assert closing["sendStatus"]["status"] == "placed"
    assert (await run(user.get_open_positions))["openPositions"] == []


async def test_pks_wrong_secret_raises_its_authentication_error(sim: SimulatorServer) -> None:
    user = User(DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET[:-4] + "AAA=", url=sim.base_url)
    with pytest.raises(KrakenAuthenticationError):
        await run(user.get_open_orders)
