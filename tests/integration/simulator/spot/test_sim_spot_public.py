"""Spot public endpoints (wire 4): shapes, pair spellings, parameters and errors."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from kraken.spot import Market

from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot.conftest import SpotClient


async def test_time_and_status(client: SpotClient) -> None:
    time = await client.public("Time")
    assert time == {
        "error": [],
        "result": {"unixtime": 1_700_000_000, "rfc1123": "Tue, 14 Nov 23 22:13:20 +0000"},
    }
    status = await client.public("SystemStatus")
    assert status["result"] == {"status": "online", "timestamp": "2023-11-14T22:13:20Z"}


async def test_asset_pairs_matches_the_recorded_fixture(client: SpotClient) -> None:
    recorded = kraken_fixture("http_asset_pairs.json")["result"]["XBTUSDT"]
    reply = await client.public("AssetPairs", pair="XBTUSDT")
    assert list(reply["result"]) == ["XBTUSDT"]
    served = reply["result"]["XBTUSDT"]
    assert set(served) == set(recorded)
    for name in ("altname", "wsname", "base", "quote", "pair_decimals", "lot_decimals", "ordermin",
                 "costmin", "tick_size", "status"):  # fmt: skip
        assert served[name] == recorded[name], name


async def test_asset_pairs_spellings_and_info(client: SpotClient) -> None:
    reply = await client.public("AssetPairs", pair="XBTUSD,XXBTZUSD,BTC/USD,ETH/USD", info="fees")
    # Altname and id give the id; a slash name is echoed as asked (as Kraken does).
    assert list(reply["result"]) == ["XXBTZUSD", "BTC/USD", "ETH/USD"]
    assert reply["result"]["BTC/USD"] == reply["result"]["XXBTZUSD"]
    assert set(reply["result"]["XXBTZUSD"]) == {"fees", "fees_maker", "fee_volume_currency"}
    assert (await client.public("AssetPairs", pair="NOPE")) == {
        "error": ["EQuery:Unknown asset pair"]
    }
    assert (await client.public("AssetPairs", info="bogus"))["error"] == [
        "EGeneral:Invalid arguments:info"
    ]
    everything = (await client.public("AssetPairs"))["result"]
    assert {"XXBTZUSD", "XETHZUSD", "XETHXXBT", "XDGUSD"} <= set(everything)


@pytest.mark.parametrize(
    ("asked", "key"),
    [
        ("BTC/USD", "BTC/USD"),
        ("XBT/USD", "XBT/USD"),
        ("XBTUSD", "XXBTZUSD"),
        ("XXBTZUSD", "XXBTZUSD"),
    ],
)
async def test_asset_pairs_is_keyed_by_the_name_asked_for(
    client: SpotClient, asked: str, key: str
) -> None:
    reply = await client.public("AssetPairs", pair=asked)
    assert list(reply["result"]) == [key]
    assert reply["result"][key]["altname"] == "XBTUSD"


async def test_python_kraken_sdk_market_reads_asset_pairs_by_slash_name(
    sim: SimulatorServer,
) -> None:
    """SpotOrderBookClient's first step on a new book: `get_asset_pairs(pair=symbol)[symbol]`."""
    market = Market(url=sim.base_url)
    info = await asyncio.to_thread(market.get_asset_pairs, pair="BTC/USD")  # the SDK is sync
    assert int(info["BTC/USD"]["pair_decimals"]) == 1
    assert int(info["BTC/USD"]["lot_decimals"]) == 8


async def test_assets(client: SpotClient) -> None:
    reply = await client.public("Assets", asset="XBT,ETH")
    assert set(reply["result"]) == {"XXBT", "XETH"}
    assert reply["result"]["XXBT"]["altname"] == "XBT"
    assert (await client.public("Assets", asset="NOPE")) == {"error": ["EQuery:Unknown asset"]}


async def test_ticker_depth_spread(client: SpotClient) -> None:
    ticker = (await client.public("Ticker", pair="XBTUSD"))["result"]["XXBTZUSD"]
    assert set(ticker) == {"a", "b", "c", "v", "p", "t", "l", "h", "o"}
    ask, bid = Decimal(ticker["a"][0]), Decimal(ticker["b"][0])
    assert bid < ask
    assert len(ticker["a"]) == 3 and ticker["a"][0].endswith(ticker["a"][0][-5:])
    depth = (await client.public("Depth", pair="BTC/USD", count=3))["result"]["XXBTZUSD"]
    assert len(depth["asks"]) == len(depth["bids"]) == 3
    assert Decimal(depth["asks"][0][0]) == ask and Decimal(depth["bids"][0][0]) == bid
    prices = [Decimal(level[0]) for level in depth["asks"]]
    assert prices == sorted(prices)
    assert isinstance(depth["asks"][0][2], int)
    spread = (await client.public("Spread", pair="XBTUSD"))["result"]
    assert spread["XXBTZUSD"][0][1:] == [ticker["b"][0], ticker["a"][0]]
    assert (await client.public("Depth", pair="XBTUSD", count=0))["error"] == [
        "EGeneral:Invalid arguments:count"
    ]
    assert (await client.public("Depth"))["error"] == ["EGeneral:Invalid arguments:pair"]


async def test_trades_and_ohlc_after_a_fill(client: SpotClient, clock: ManualClock) -> None:
    reply = await client.private(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.5"
    )
    assert reply["error"] == []
    trades = (await client.public("Trades", pair="XBTUSD"))["result"]
    rows = trades["XXBTZUSD"]
    assert rows and all(row[3] == "b" and row[4] == "m" for row in rows)
    assert sum(Decimal(row[1]) for row in rows) == Decimal("0.5")
    assert trades["last"] == str(int(rows[-1][2] * 1_000_000_000))
    later = (await client.public("Trades", pair="XBTUSD", since=trades["last"]))["result"]
    assert later["XXBTZUSD"] == []
    clock.advance(120)
    ohlc = (await client.public("OHLC", pair="XBTUSD", interval=1))["result"]
    candles = ohlc["XXBTZUSD"]
    assert candles[0][0] == 1_700_000_000 // 60 * 60 and candles[0][7] == len(rows)
    assert candles[-1][0] == ohlc["last"]
    assert (await client.public("OHLC", pair="XBTUSD", interval=7))["error"] == [
        "EGeneral:Invalid arguments:interval"
    ]
