"""ticker, trade and ohlc channels follow the engine's trades and book."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.accounts import DEMO_ACCOUNT_ID
from simulator.engine.model import OrderParams, OrderType, Side
from simulator.engine.spot import SpotEngine
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot_ws.conftest import WsClient

Connect = Callable[..., Any]
PAIR = "XXBTZUSD"
SYMBOL = "BTC/USD"


def _market_buy(engine: SpotEngine, qty: str) -> None:
    engine.add_order(
        DEMO_ACCOUNT_ID,
        OrderParams(pair=PAIR, side=Side.BUY, ordertype=OrderType.MARKET, volume=qty),
    )


async def test_ticker_snapshot_then_update_on_trade(connect: Connect, engine: SpotEngine) -> None:
    client: WsClient = await connect()
    ack = await client.call("subscribe", {"channel": "ticker", "symbol": [SYMBOL]})
    fixture_ack = kraken_fixture("ws_subscribe_response.json")
    assert set(ack) == set(fixture_ack)
    assert set(fixture_ack["result"]) <= set(ack["result"])
    snapshot = await client.channel("ticker", "snapshot")
    (ticker,) = snapshot["data"]
    assert set(ticker) == set(kraken_fixture("ws_ticker_snapshot.json")["data"][0])
    best_bid = engine.book_levels(PAIR, Side.BUY, 1)[0]
    assert (ticker["bid"], ticker["bid_qty"]) == best_bid
    _market_buy(engine, "0.6")
    update = await client.channel("ticker", "update")
    (ticker,) = update["data"]
    assert ticker["last"] == engine.last_price(PAIR)
    assert str(ticker["volume"]) == "0.6"
    assert ticker["ask"] == engine.book_levels(PAIR, Side.SELL, 1)[0][0]


async def test_trade_channel_prints_taker_side_and_snapshot(
    connect: Connect, engine: SpotEngine
) -> None:
    _market_buy(engine, "0.2")
    client: WsClient = await connect()
    await client.call("subscribe", {"channel": "trade", "symbol": [SYMBOL], "snapshot": True})
    snapshot = await client.channel("trade", "snapshot")
    assert [t["side"] for t in snapshot["data"]] == ["buy"]
    _market_buy(engine, "0.6")  # two levels: two prints in one message
    update = await client.channel("trade", "update")
    fixture = kraken_fixture("ws_trade_update.json")["data"][0]
    assert all(set(t) == set(fixture) for t in update["data"])
    assert [t["side"] for t in update["data"]] == ["buy", "buy"]
    assert all(t["ord_type"] == "market" for t in update["data"])
    ids = [t["trade_id"] for t in snapshot["data"] + update["data"]]
    assert ids == sorted(ids) and len(set(ids)) == 3


async def test_ohlc_candle_counts_trades(connect: Connect, engine: SpotEngine) -> None:
    client: WsClient = await connect()
    ack = await client.call("subscribe", {"channel": "ohlc", "symbol": [SYMBOL], "interval": 5})
    assert ack["result"]["interval"] == 5
    snapshot = await client.channel("ohlc", "snapshot")
    assert snapshot["data"][-1]["interval"] == 5
    _market_buy(engine, "0.1")
    update = await client.channel("ohlc", "update")
    (candle,) = update["data"]
    assert set(kraken_fixture("ws_ohlc_update.json")["data"][0]) <= set(candle)
    assert candle["trades"] == 1 and str(candle["volume"]) == "0.1"
    assert len(candle["interval_begin"]) == len("2023-10-04T16:25:00.000000000Z")
    bad = await client.call("subscribe", {"channel": "ohlc", "symbol": [SYMBOL], "interval": 2})
    assert bad["success"] is False
