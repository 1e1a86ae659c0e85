"""Spot REST private methods over real HTTP, form and JSON bodies, with Kraken's shapes."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from simulator.engine.events import EngineEvent, ExecutionEvent
from tests.integration.simulator.spot.conftest import SpotClient


async def _best_bid(client: SpotClient) -> Decimal:
    ticker = await client.public("Ticker", pair="XBTUSD")
    return Decimal(ticker["result"]["XXBTZUSD"]["b"][0])


async def _rest_buy(client: SpotClient, **extra: Any) -> str:
    price = (await _best_bid(client) * Decimal("0.9")).quantize(Decimal("0.1"))
    reply = await client.private(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="limit", volume="0.01",
        price=str(price), **extra,
    )  # fmt: skip
    assert reply["error"] == [], reply
    txid: str = reply["result"]["txid"][0]
    return txid


async def test_add_order_shape_and_order_info(client: SpotClient) -> None:
    price = (await _best_bid(client) * Decimal("0.9")).quantize(Decimal("0.1"))
    reply = await client.private(
        "AddOrder", pair="XXBTZUSD", type="buy", ordertype="limit", volume="0.01",
        price=str(price), oflags="post", userref="42",
    )  # fmt: skip
    txid = reply["result"]["txid"][0]
    assert reply["result"]["descr"] == {"order": f"buy 0.01000000 XBTUSD @ limit {price}"}
    info = (await client.private("QueryOrders", txid=txid, trades="true"))["result"][txid]
    assert info["status"] == "open"
    assert info["userref"] == 42
    assert info["vol"] == "0.01000000" and info["vol_exec"] == "0.00000000"
    assert info["descr"]["pair"] == "XBTUSD" and info["descr"]["price"] == str(price)
    assert info["oflags"] == "post"
    assert info["opentm"] == 1_700_000_000


async def test_validate_only_returns_no_txid(client: SpotClient) -> None:
    reply = await client.private(
        "AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="0.01", validate="True"
    )
    assert reply == {"error": [], "result": {"descr": {"order": "sell 0.01000000 XBTUSD @ market"}}}
    assert (await client.private("OpenOrders"))["result"]["open"] == {}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"pair": "NOPE"}, "EQuery:Unknown asset pair"),
        ({"type": "hold"}, "EGeneral:Invalid arguments:type"),
        ({"ordertype": "bogus"}, "EGeneral:Invalid arguments:ordertype"),
        ({"volume": "1000000"}, "EOrder:Insufficient funds"),
        ({"validate": "maybe"}, "EGeneral:Invalid arguments:validate"),
    ],
)
async def test_add_order_errors(client: SpotClient, params: dict[str, str], error: str) -> None:
    base = {
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "volume": "0.01",
        "price": "1000",
    }
    reply = await client.private("AddOrder", **{**base, **params})
    assert reply == {"error": [error]}


async def test_batch_add_json_and_batch_cancel(client: SpotClient) -> None:
    bid = await _best_bid(client)
    orders = [
        {"ordertype": "limit", "type": "buy", "volume": "0.01",
         "price": str((bid * Decimal(f"0.{9 - i}")).quantize(Decimal("0.1")))}
        for i in range(3)
    ]  # fmt: skip
    orders.append({"ordertype": "limit", "type": "buy", "volume": "5000", "price": "1000.0"})
    raw = await client.raw_private(
        "AddOrderBatch", {"pair": "BTC/USD", "orders": orders}, as_json=True
    )
    result = json.loads(raw)["result"]["orders"]
    assert [("txid" in r, r.get("error")) for r in result] == [
        (True, None), (True, None), (True, None), (False, "EOrder:Insufficient funds"),
    ]  # fmt: skip
    txids = [r["txid"] for r in result[:3]]
    raw = await client.raw_private("CancelOrderBatch", {"orders": txids[:2]}, as_json=True)
    assert json.loads(raw) == {"error": [], "result": {"count": 2}}
    assert list((await client.private("OpenOrders"))["result"]["open"]) == [txids[2]]


async def test_amend_keeps_txid_and_edit_replaces_it(client: SpotClient) -> None:
    txid = await _rest_buy(client, cl_ord_id="my-order-1")
    amend = await client.private("AmendOrder", cl_ord_id="my-order-1", order_qty="0.02")
    assert amend["error"] == [] and amend["result"]["amend_id"].startswith("T")
    info = (await client.private("QueryOrders", txid=txid))["result"][txid]
    assert info["vol"] == "0.02000000" and "amended" in info["misc"]

    other = await _rest_buy(client, userref="7")
    edit = await client.private("EditOrder", txid=other, pair="XBTUSD", volume="0.03")
    result = edit["result"]
    assert result["originaltxid"] == other and result["txid"] != other
    assert result["volume"] == "0.03000000" and result["status"] == "ok"
    open_ids = set((await client.private("OpenOrders"))["result"]["open"])
    assert open_ids == {txid, result["txid"]}


async def test_cancel_by_userref_and_unknown(client: SpotClient) -> None:
    for _ in range(2):
        await _rest_buy(client, userref="99")
    assert await client.private("CancelOrder", txid="99") == {"error": [], "result": {"count": 2}}
    assert await client.private("CancelOrder", txid="OAAAAA-BBBBB-CCCCCC") == {
        "error": ["EOrder:Unknown order"]
    }


async def test_cancel_all_and_closed_orders_pagination(
    client: SpotClient, clock: ManualClock
) -> None:
    txids = []
    for _ in range(55):
        txids.append(await _rest_buy(client))
        clock.advance(1)
    assert (await client.private("CancelAll"))["result"] == {"count": 55}
    first = (await client.private("ClosedOrders"))["result"]
    assert first["count"] == 55 and len(first["closed"]) == 50
    second = (await client.private("ClosedOrders", ofs="50"))["result"]
    assert len(second["closed"]) == 5
    assert set(first["closed"]) | set(second["closed"]) == set(txids)
    assert all(o["status"] == "canceled" for o in first["closed"].values())
    window = (await client.private("ClosedOrders", start=txids[49], closetime="open"))["result"]
    assert set(window["closed"]) == set(txids[50:])


async def test_market_order_trades_ledgers_balances(client: SpotClient) -> None:
    reply = await client.private(
        "AddOrder", pair="ETHUSD", type="sell", ordertype="market", volume="0.5"
    )
    txid = reply["result"]["txid"][0]
    order = (await client.private("QueryOrders", txid=txid, trades=True))["result"][txid]
    assert order["status"] == "closed" and order["vol_exec"] == "0.50000000"
    history = (await client.private("TradesHistory", ledgers="1"))["result"]
    assert history["count"] == len(order["trades"]) > 0
    trade_id = order["trades"][0]
    trade = history["trades"][trade_id]
    assert trade["ordertxid"] == txid and trade["pair"] == "XETHZUSD" and trade["maker"] is False
    queried = (await client.private("QueryTrades", txid=trade_id))["result"]
    assert queried[trade_id]["vol"] == trade["vol"]
    ledgers = (await client.private("Ledgers", asset="ETH"))["result"]
    assert {e["type"] for e in ledgers["ledger"].values()} >= {"trade"}
    one = next(iter(ledgers["ledger"]))
    assert one in (await client.private("QueryLedgers", id=one))["result"]
    balance = (await client.private("Balance"))["result"]
    assert Decimal(balance["XETH"]) == Decimal("999.5")
    ex = (await client.private("BalanceEx"))["result"]
    assert ex["XETH"] == {"balance": balance["XETH"], "hold_trade": "0.0000000000"}
    trade_balance = (await client.private("TradeBalance", asset="ZUSD"))["result"]
    assert set(trade_balance) >= {"eb", "tb", "m", "n", "c", "v", "e", "mf", "uv"}
    assert (await client.private("OpenPositions", docalcs="true", consolidation="market"))[
        "result"
    ] == []


async def test_system_status_gates_orders(
    sim: SimulatorServer, client: SpotClient, http: aiohttp.ClientSession
) -> None:
    txid = await _rest_buy(client)
    async with http.post(f"{sim.base_url}/_sim/faults", json={"system_status": "cancel_only"}):
        pass
    base = {
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "volume": "0.01",
        "price": "1000",
    }
    assert await client.private("AddOrder", **base) == {
        "error": ["EService:Market in cancel_only mode"]
    }
    assert (await client.private("CancelOrder", txid=txid))["result"]["count"] == 1
    async with http.post(f"{sim.base_url}/_sim/faults", json={"system_status": "post_only"}):
        pass
    assert await client.private("AddOrder", **base) == {
        "error": ["EService:Market in post_only mode"]
    }
    assert (await client.private("AddOrder", **base, oflags="post"))["error"] == []


async def test_accept_then_drop_places_the_order(
    sim: SimulatorServer, client: SpotClient, http: aiohttp.ClientSession
) -> None:
    plan = {"rules": [{"match": "/0/private/AddOrder", "action": "drop_after_accept", "times": 1}]}
    async with http.post(f"{sim.base_url}/_sim/faults", json=plan):
        pass
    with pytest.raises(aiohttp.ClientError):
        await _rest_buy(client, cl_ord_id="dropped-1")
    found = (await client.private("OpenOrders", cl_ord_id="dropped-1"))["result"]["open"]
    assert len(found) == 1


async def test_trading_counter_burst_hits_the_threshold(client: SpotClient) -> None:
    base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": "1000", "validate": "true"}  # fmt: skip
    for _ in range(125):  # intermediate tier threshold; the clock is frozen
        assert (await client.private("AddOrder", **base))["error"] == []
    assert await client.private("AddOrder", **base) == {"error": ["EOrder:Rate limit exceeded"]}
    other_pair = {**base, "pair": "ETHUSD", "price": "100"}
    assert (await client.private("AddOrder", **other_pair))["error"] == []


async def test_open_orders_limit_per_pair(client: SpotClient) -> None:
    for _ in range(80):  # intermediate tier
        await _rest_buy(client)
    base = {
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "volume": "0.01",
        "price": "1000",
    }
    assert await client.private("AddOrder", **base) == {"error": ["EOrder:Orders limit exceeded"]}


async def test_cancel_all_orders_after_fires_on_a_real_timer(http: aiohttp.ClientSession) -> None:
    from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET

    async with SimulatorServer(port=0, seed=3) as sim:  # wall clock: the timer is real
        client = SpotClient(http, sim.base_url, DEMO_SPOT_KEY, DEMO_SPOT_SECRET)
        assert sim.ctx.engine is not None
        demo_key = sim.ctx.accounts.key(DEMO_SPOT_KEY)
        assert demo_key is not None
        canceled = asyncio.Event()

        def on_event(event: EngineEvent) -> None:
            # Only the demo account's cancel: the market maker requotes on the same wall clock.
            if (
                isinstance(event, ExecutionEvent)
                and event.exec_type == "canceled"
                and event.account_id == demo_key.account_id
            ):
                canceled.set()

        sim.ctx.engine.subscribe(on_event)
        txid = await _rest_buy(client)
        armed = (await client.private("CancelAllOrdersAfter", timeout="1"))["result"]
        assert set(armed) == {"currentTime", "triggerTime"} and armed["triggerTime"] != "0"
        await asyncio.wait_for(canceled.wait(), 10)
        info = (await client.private("QueryOrders", txid=txid))["result"][txid]
        assert info["status"] == "canceled"
        disarmed = (await client.private("CancelAllOrdersAfter", timeout="0"))["result"]
        assert disarmed["triggerTime"] == "0"


async def test_order_amends_history_and_trade_volume(client: SpotClient) -> None:
    txid = await _rest_buy(client)
    await client.private("AmendOrder", txid=txid, order_qty="0.05")
    history = (await client.private("OrderAmends", order_id=txid))["result"]
    assert history["count"] == 2
    assert [a["amend_type"] for a in history["amends"]] == ["original", "user"]
    assert history["amends"][1]["order_qty"] == "0.05000000"
    volume = (await client.private("TradeVolume", pair="XBTUSD"))["result"]
    assert volume["currency"] == "ZUSD" and volume["volume"] == "0.0000"
    assert volume["fees"]["XXBTZUSD"]["fee"] == "0.4000"
    assert volume["fees"]["XXBTZUSD"]["nextvolume"] == "10000.0000"
    assert volume["fees_maker"]["XXBTZUSD"]["fee"] == "0.2500"
