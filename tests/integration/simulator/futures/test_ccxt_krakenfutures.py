"""ccxt's unmodified `krakenfutures` class drives the simulator (issue 3 acceptance)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt.async_support as ccxt_async
import pytest

from simulator.accounts import DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock


@pytest.fixture
async def exchange(sim: SimulatorServer) -> AsyncIterator[ccxt_async.krakenfutures]:
    ex = ccxt_async.krakenfutures(
        {"apiKey": DEMO_FUTURES_KEY, "secret": DEMO_FUTURES_SECRET, "enableRateLimit": False}
    )
    ex.urls["api"] = {
        "public": sim.base_url + "/derivatives/api/",
        "private": sim.base_url + "/derivatives/api/",
        "charts": sim.base_url + "/api/charts/",
        "history": sim.base_url + "/api/history/",
        "feeschedules": sim.base_url + "/api/feeschedules/",
    }
    try:
        yield ex
    finally:
        await ex.close()


async def test_markets_order_open_orders_cancel(exchange: ccxt_async.krakenfutures) -> None:
    markets = await exchange.load_markets()
    assert markets["BTC/USD:USD"]["id"] == "PF_XBTUSD"
    assert markets["BTC/USD:BTC"]["id"] == "PI_XBTUSD"
    assert markets["BTC/USD:BTC"]["inverse"] and markets["BTC/USD:USD"]["linear"]
    book = await exchange.fetch_order_book("BTC/USD:USD")
    price = book["bids"][0][0] - 100
    order = await exchange.create_order(
        "BTC/USD:USD", "limit", "buy", 0.01, price, {"clientOrderId": "ccxt-1"}
    )
    assert order["id"] and order["status"] == "open"
    open_orders = await exchange.fetch_open_orders()
    # This ccxt build ignores `limitPrice` when parsing (its price is None); read the wire field.
    assert [(o["id"], o["symbol"], o["info"]["limitPrice"], o["amount"]) for o in open_orders] == [
        (order["id"], "BTC/USD:USD", price, 0.01)
    ]
    assert open_orders[0]["clientOrderId"] == "ccxt-1"
    cancelled = await exchange.cancel_order(order["id"])
    assert cancelled["id"] == order["id"] and cancelled["status"] == "canceled"
    assert await exchange.fetch_open_orders() == []


async def test_market_order_positions_and_balance(exchange: ccxt_async.krakenfutures) -> None:
    await exchange.load_markets()
    before = await exchange.fetch_balance()
    linear = await exchange.create_order("BTC/USD:USD", "market", "buy", 0.05)
    assert linear["filled"] == 0.05 and linear["average"] > 0
    # ccxt leaves trade amounts of inverse markets undefined, so only the position shows the fill.
    await exchange.create_order("BTC/USD:BTC", "market", "sell", 2000)
    positions = await exchange.fetch_positions()
    assert sorted((p["symbol"], p["side"], p["contracts"]) for p in positions) == [
        ("BTC/USD:BTC", "short", 2000),
        ("BTC/USD:USD", "long", 0.05),
    ]
    after = await exchange.fetch_balance()
    fee = 0.05 * linear["average"] * 0.0005
    assert after["USD"]["total"] == pytest.approx(before["USD"]["total"] - fee)
    xbt_wallet = await exchange.fetch_balance({"type": "fi_xbtusd"})  # wallet keys are lowercase
    assert 0 < xbt_wallet["BTC"]["free"] < xbt_wallet["BTC"]["total"]  # margin is held


async def test_insufficient_funds_and_bad_key(
    exchange: ccxt_async.krakenfutures, sim: SimulatorServer
) -> None:
    await exchange.load_markets()
    with pytest.raises(ccxt_async.InsufficientFunds):
        await exchange.create_order("BTC/USD:USD", "limit", "buy", 500, 80000)
    exchange.secret = DEMO_FUTURES_SECRET[:-4] + "AAA="
    with pytest.raises(ccxt_async.AuthenticationError):
        await exchange.fetch_open_orders()


async def test_stop_edit_cancel_all_trades_and_closed_orders(
    exchange: ccxt_async.krakenfutures,
) -> None:
    await exchange.load_markets()
    bought = await exchange.create_order("ETH/USD:USD", "market", "buy", 0.5)
    book = await exchange.fetch_order_book("ETH/USD:USD")
    stop = await exchange.create_order(
        "ETH/USD:USD",
        "market",
        "sell",
        0.5,
        None,
        {"stopLossPrice": book["bids"][0][0] - 100, "triggerSignal": "mark"},
    )
    assert stop["id"] and stop["reduceOnly"] is True
    resting = await exchange.create_order(
        "ETH/USD:USD", "limit", "buy", 0.2, book["bids"][0][0] - 50
    )
    edited = await exchange.edit_order(resting["id"], "ETH/USD:USD", "limit", "buy", 0.3)
    assert edited["id"] == resting["id"] and edited["status"] == "open"
    rows = {o["id"]: o for o in await exchange.fetch_open_orders()}
    assert rows[resting["id"]]["amount"] == 0.3
    assert rows[stop["id"]]["triggerPrice"] == book["bids"][0][0] - 100
    cancelled = await exchange.cancel_all_orders()
    assert len(cancelled) == 2
    assert await exchange.fetch_open_orders() == []
    [trade] = await exchange.fetch_my_trades()
    assert (trade["order"], trade["side"], trade["takerOrMaker"]) == (bought["id"], "buy", "taker")
    closed = await exchange.fetch_closed_orders()
    assert [o["id"] for o in closed] == [bought["id"]]


async def test_public_trades_from_market_history(
    exchange: ccxt_async.krakenfutures, clock: ManualClock
) -> None:
    await exchange.load_markets()
    first = await exchange.create_order("BTC/USD:USD", "market", "buy", 0.02)
    clock.advance(1)  # ccxt orders trades by (timestamp, id)
    await exchange.create_order("BTC/USD:USD", "market", "sell", 0.01)
    trades = await exchange.fetch_trades("BTC/USD:USD")
    assert [(t["side"], t["amount"]) for t in trades] == [("buy", 0.02), ("sell", 0.01)]
    assert trades[0]["price"] == first["average"]


async def test_trading_fees_from_fee_schedules(exchange: ccxt_async.krakenfutures) -> None:
    await exchange.load_markets()
    await exchange.create_order("BTC/USD:USD", "market", "buy", 0.01)
    fees = await exchange.fetch_trading_fees()
    assert (fees["BTC/USD:USD"]["maker"], fees["BTC/USD:USD"]["taker"]) == (0.0002, 0.0005)
    assert fees["BTC/USD:BTC"]["taker"] == 0.0005


async def test_ledger_from_the_account_log(
    exchange: ccxt_async.krakenfutures, clock: ManualClock
) -> None:
    await exchange.load_markets()
    before = (await exchange.fetch_balance())["USD"]["total"]
    bought = await exchange.create_order("BTC/USD:USD", "market", "buy", 0.01)
    clock.advance(1)
    await exchange.create_order("BTC/USD:USD", "market", "sell", 0.01)
    entries = await exchange.fetch_ledger()
    assert [e["type"] for e in entries] == ["trade", "trade"]
    assert entries[0]["referenceId"] == (await exchange.fetch_my_trades())[0]["id"]
    assert entries[0]["before"] == before
    assert entries[0]["fee"]["cost"] == pytest.approx(0.01 * bought["average"] * 0.0005)
    after = (await exchange.fetch_balance())["USD"]["total"]
    assert entries[-1]["after"] == pytest.approx(after)
