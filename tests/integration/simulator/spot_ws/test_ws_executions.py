"""Executions, balances and the trading methods on the auth endpoint, over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.accounts import DEMO_ACCOUNT_ID
from simulator.app import SimulatorServer
from simulator.engine.spot import SpotEngine
from simulator.faults import FaultAction, FaultRule, SystemStatus
from tests.fixtures import kraken_fixture
from tests.integration.simulator.spot_ws.conftest import Message, WsClient

Connect = Callable[..., Any]
SYMBOL = "BTC/USD"


class Executions:
    """An executions subscriber that checks the channel's sequence never skips."""

    def __init__(self, client: WsClient) -> None:
        self.client = client
        self.last_sequence = 0

    async def next(self) -> Message:
        message = await self.client.channel("executions")
        assert message["sequence"] == self.last_sequence + 1
        self.last_sequence = message["sequence"]
        return message

    async def reports(self, count: int) -> list[Message]:
        out: list[Message] = []
        while len(out) < count:
            out.extend((await self.next())["data"])
        return out


async def _subscribed(connect: Connect, token: str, **params: Any) -> tuple[WsClient, Executions]:
    client: WsClient = await connect(private=True)
    ack = await client.call("subscribe", {"channel": "executions", "token": token, **params})
    assert ack["success"] is True, ack
    feed = Executions(client)
    snapshot = await feed.next()
    assert snapshot["type"] == "snapshot"
    return client, feed


def _market(side: str, qty: str, token: str) -> dict[str, Any]:
    return {
        "order_type": "market",
        "side": side,
        "order_qty": qty,
        "symbol": SYMBOL,
        "token": token,
    }


def _limit(price: int | str, qty: str = "0.01", side: str = "buy", **extra: Any) -> dict[str, Any]:
    return {
        "order_type": "limit",
        "side": side,
        "order_qty": qty,
        "limit_price": price,
        "symbol": SYMBOL,
        **extra,
    }


async def test_add_amend_cancel_lifecycle(connect: Connect, token: str) -> None:
    client, feed = await _subscribed(connect, token, snap_trades=True)
    request = kraken_fixture("ws_add_order_request.json")
    params = {**request["params"], "token": token, "limit_price": 90000}
    added = await client.call("add_order", params)
    fixture = kraken_fixture("ws_add_order_response_success.json")
    assert set(added) == set(fixture)
    assert set(added["result"]) == set(fixture["result"])
    assert added["result"]["cl_ord_id"] == "O-20260505-000001"
    order_id = added["result"]["order_id"]
    pending, new = await feed.reports(2)
    assert pending["exec_type"] == "pending_new" and pending["order_status"] == "pending_new"
    assert pending["order_id"] == order_id and pending["cl_ord_id"] == "O-20260505-000001"
    assert pending["symbol"] == SYMBOL and pending["side"] == "buy"
    assert str(pending["order_qty"]) == "0.01" and pending["limit_price"] == 90000
    assert pending["time_in_force"] == "GTC" and pending["post_only"] is True
    assert new["exec_type"] == "new" and new["order_status"] == "new"

    amended = await client.call(
        "amend_order", {"order_id": order_id, "order_qty": "0.02", "token": token}
    )
    assert amended["success"] is True
    assert set(amended["result"]) == {"amend_id", "order_id"}
    (amend,) = await feed.reports(1)
    assert amend["exec_type"] == "amended" and amend["amended"] is True
    assert str(amend["order_qty"]) == "0.02"

    canceled = await client.call("cancel_order", {"order_id": [order_id], "token": token})
    assert canceled["result"] == {"order_id": order_id, "cl_ord_id": "O-20260505-000001"}
    (cancel,) = await feed.reports(1)
    assert cancel["exec_type"] == "canceled" and cancel["order_status"] == "canceled"
    assert cancel["reason"] == "User requested"

    again = await client.call("cancel_order", {"order_id": [order_id], "token": token})
    assert again["success"] is False and again["error"] == "EOrder:Unknown order"


async def test_fill_reports_trade_then_filled_and_balances(
    connect: Connect, token: str, engine: SpotEngine
) -> None:
    client, feed = await _subscribed(connect, token)
    ack = await client.call("subscribe", {"channel": "balances", "token": token})
    assert ack["result"] == {"channel": "balances", "snapshot": True}
    balances = await client.channel("balances", "snapshot")
    assert balances["sequence"] == 1
    assert {row["asset"] for row in balances["data"]} >= {"USD", "BTC"}

    added = await client.call("add_order", _market("buy", "0.1", token))
    order_id = added["result"]["order_id"]
    reports = await feed.reports(4)
    kinds = [r["exec_type"] for r in reports]
    assert kinds == ["pending_new", "new", "trade", "filled"]
    trade, filled = reports[2], reports[3]
    assert trade["order_id"] == order_id and trade["liquidity_ind"] == "t"
    assert trade["exec_id"].startswith("T") and isinstance(trade["trade_id"], int)
    assert str(trade["last_qty"]) == "0.1" and trade["fees"][0]["asset"] == "USD"
    assert trade["fees"][0]["qty"] > 0
    assert filled["order_status"] == "filled" and str(filled["cum_qty"]) == "0.1"
    fill = engine.trades_history(DEMO_ACCOUNT_ID).items[0]
    assert fill.txid == trade["exec_id"] and fill.price == trade["last_price"]

    updates = [await client.channel("balances", "update") for _ in range(2)]
    assert [u["sequence"] for u in updates] == [2, 3]
    rows = [u["data"][0] for u in updates]
    assert {r["asset"] for r in rows} == {"USD", "BTC"}
    assert all(r["ref_id"] == trade["exec_id"] or r["type"] == "trade" for r in rows)


async def test_snapshot_lists_open_orders_and_recent_trades(connect: Connect, token: str) -> None:
    client: WsClient = await connect(private=True)
    placed = await client.call("add_order", {**_limit(80000), "token": token})
    order_id = placed["result"]["order_id"]
    await client.call("add_order", _market("sell", "0.01", token))
    ack = await client.call(
        "subscribe", {"channel": "executions", "token": token, "snap_trades": True}
    )
    assert ack["result"] == {"channel": "executions", "snap_orders": True, "snap_trades": True}
    snapshot = await client.channel("executions", "snapshot")
    assert snapshot["sequence"] == 1
    orders = [r for r in snapshot["data"] if r["exec_type"] != "trade"]
    trades = [r for r in snapshot["data"] if r["exec_type"] == "trade"]
    assert [o["order_id"] for o in orders] == [order_id]
    assert orders[0]["order_status"] == "new" and orders[0]["limit_price"] == 80000
    assert len(trades) >= 1 and trades[0]["side"] == "sell"


async def test_batch_add_and_batch_cancel(connect: Connect, token: str) -> None:
    client, feed = await _subscribed(connect, token)
    request = kraken_fixture("ws_batch_add_request.json")
    params = {**request["params"], "token": token}
    params["orders"][0]["limit_price"] = 90000
    params["orders"][1]["limit_price"] = 110000
    batch = await client.call("batch_add", params)
    assert batch["success"] is True
    results = batch["result"]
    assert [r["cl_ord_id"] for r in results] == ["O-A", "O-B"]
    assert all(r["order_id"].startswith("O") for r in results)
    await feed.reports(4)
    cancel = await client.call(
        "batch_cancel", {"orders": [r["order_id"] for r in results], "token": token}
    )
    assert cancel["result"] == {"count": 2}
    reports = await feed.reports(2)
    assert {r["exec_type"] for r in reports} == {"canceled"}

    bad = await client.call(
        "batch_add",
        {"symbol": SYMBOL, "orders": [_limit(90000), {"order_type": "limit"}], "token": token},
    )
    assert bad["success"] is False and bad["error"].startswith("EGeneral:Invalid arguments")


async def test_cancel_all_and_dead_man_switch(connect: Connect, token: str) -> None:
    client: WsClient = await connect(private=True)
    for price in (81000, 82000, 83000):
        assert (await client.call("add_order", {**_limit(price), "token": token}))["success"]
    counted = await client.call("cancel_all", {"token": token})
    assert counted["result"] == {"count": 3}
    armed = await client.call("cancel_all_orders_after", {"timeout": 60, "token": token})
    assert set(armed["result"]) == {"currentTime", "triggerTime"}
    assert armed["result"]["currentTime"].endswith("Z") and armed["result"]["triggerTime"] != "0"
    disarmed = await client.call("cancel_all_orders_after", {"timeout": 0, "token": token})
    assert disarmed["result"]["triggerTime"] == "0"


async def test_failed_add_order_echoes_req_id_and_kraken_error(
    connect: Connect, token: str
) -> None:
    client: WsClient = await connect(private=True)
    reply = await client.call("add_order", {**_limit(50000, qty="1000000"), "token": token})
    fixture = kraken_fixture("ws_add_order_response_failure.json")
    assert set(reply) == set(fixture)
    assert reply["error"] == "EOrder:Insufficient funds" and reply["req_id"] == 1
    unknown = await client.call("add_order", {**_limit(50000), "symbol": "XBT/USD", "token": token})
    assert unknown["success"] is False


async def test_maintenance_status_is_pushed_and_refuses_orders(
    sim: SimulatorServer, connect: Connect, token: str
) -> None:
    client: WsClient = await connect(private=True)
    sim.ctx.faults.system_status = SystemStatus.MAINTENANCE
    await client.send("ping")
    status = await client.channel("status")
    assert status["data"][0]["system"] == "maintenance"
    refused = await client.call("add_order", {**_limit(80000), "token": token})
    assert refused["error"] == "EService:Unavailable"
    sim.ctx.faults.system_status = SystemStatus.CANCEL_ONLY
    refused = await client.call("add_order", {**_limit(80000), "token": token})
    assert refused["error"] == "EService:Market in cancel_only mode"
    assert (await client.call("cancel_all", {"token": token}))["success"] is True


async def test_disconnect_fault_then_reconnect_snapshot_has_the_order(
    sim: SimulatorServer, connect: Connect, token: str
) -> None:
    client, _feed = await _subscribed(connect, token)
    sim.ctx.faults.add(FaultRule(match="ws:executions", action=FaultAction.DISCONNECT, times=1))
    placed = await client.call("add_order", {**_limit(85000), "token": token})
    order_id = placed["result"]["order_id"]
    closed = await client.ws.receive()
    assert closed.type.name in ("CLOSE", "CLOSED", "CLOSING")
    # A reconnecting client recovers the order from the snapshot.
    again: WsClient = await connect(private=True)
    await again.call("subscribe", {"channel": "executions", "token": token})
    snapshot = await again.channel("executions", "snapshot")
    assert [r["order_id"] for r in snapshot["data"]] == [order_id]


async def test_duplicate_and_drop_faults_are_visible_in_the_sequence(
    sim: SimulatorServer, connect: Connect, token: str
) -> None:
    client, _feed = await _subscribed(connect, token)
    sim.ctx.faults.add(FaultRule(match="ws:executions", action=FaultAction.DROP, times=1))
    await client.call("add_order", {**_limit(86000), "token": token})
    # pending_new (sequence 2) was dropped: the client sees the gap.
    message = await client.channel("executions")
    assert message["sequence"] == 3 and message["data"][0]["exec_type"] == "new"
    sim.ctx.faults.add(FaultRule(match="ws:executions", action=FaultAction.DUPLICATE, times=1))
    await client.call("cancel_all", {"token": token})
    first = await client.channel("executions")
    second = await client.channel("executions")
    assert first == second and first["sequence"] == 4


async def test_order_status_false_sends_only_the_essential_transitions(
    connect: Connect, token: str
) -> None:
    client, feed = await _subscribed(connect, token, order_status=False, ratecounter=True)
    placed = await client.call("add_order", {**_limit(87000), "token": token})
    (new,) = await feed.reports(1)
    assert new["exec_type"] == "new" and new["order_id"] == placed["result"]["order_id"]
    assert new["ratecount"] >= 1


async def test_edit_order_replaces_with_a_new_id(connect: Connect, token: str) -> None:
    client, feed = await _subscribed(connect, token)
    placed = await client.call("add_order", {**_limit(84000), "order_userref": 7, "token": token})
    original = placed["result"]["order_id"]
    assert placed["result"]["order_userref"] == 7
    await feed.reports(2)
    edited = await client.call(
        "edit_order",
        {
            "order_id": original,
            "symbol": SYMBOL,
            "order_qty": "0.02",
            "limit_price": 84500,
            "token": token,
        },
    )
    assert edited["success"] is True, edited
    assert edited["result"]["original_order_id"] == original
    replacement = edited["result"]["order_id"]
    assert replacement != original
    reports = await feed.reports(3)
    by_order = {(r["order_id"], r["exec_type"]) for r in reports}
    assert (original, "canceled") in by_order and (replacement, "new") in by_order


async def test_amend_by_cl_ord_id_and_triggered_orders(connect: Connect, token: str) -> None:
    client, feed = await _subscribed(connect, token)
    placed = await client.call(
        "add_order",
        {
            "order_type": "stop-loss-limit",
            "side": "sell",
            "order_qty": "0.01",
            "symbol": SYMBOL,
            "limit_price": 89000,
            "triggers": {"reference": "last", "price": 90000, "price_type": "static"},
            "cl_ord_id": "stop-1",
            "token": token,
        },
    )
    assert placed["success"] is True, placed
    pending, _new = await feed.reports(2)
    assert pending["order_type"] == "stop-loss-limit" and pending["limit_price"] == 89000
    assert pending["triggers"]["price"] == 90000
    assert pending["triggers"]["status"] == "untriggered"
    amended = await client.call(
        "amend_order", {"cl_ord_id": "stop-1", "limit_price": 88000, "token": token}
    )
    assert amended["success"] is True, amended
    assert amended["result"]["cl_ord_id"] == "stop-1"
    (amend,) = await feed.reports(1)
    assert amend["exec_type"] == "amended" and amend["limit_price"] == 88000

    trailing = await client.call(
        "add_order",
        {
            "order_type": "trailing-stop",
            "side": "sell",
            "order_qty": "0.01",
            "symbol": SYMBOL,
            "triggers": {"price": 1, "price_type": "pct"},
            "token": token,
        },
    )
    assert trailing["success"] is True, trailing
    pending, _new = await feed.reports(2)
    assert pending["triggers"]["price_type"] == "pct" and pending["triggers"]["price"] == 1


async def test_iceberg_reports_display_qty(connect: Connect, token: str) -> None:
    client, feed = await _subscribed(connect, token)
    placed = await client.call(
        "add_order",
        {**_limit(83000, qty="1.5"), "order_type": "iceberg", "display_qty": "0.1", "token": token},
    )
    assert placed["success"] is True, placed
    pending, _new = await feed.reports(2)
    assert str(pending["display_qty"]) == "0.1"


async def test_delay_fault_reorders_messages(
    sim: SimulatorServer, connect: Connect, token: str
) -> None:
    client, _feed = await _subscribed(connect, token)
    sim.ctx.faults.add(
        FaultRule(match="ws:executions", action=FaultAction.DELAY, delay_s=0.05, times=1)
    )
    await client.call("add_order", {**_limit(86500), "token": token})
    first = await client.channel("executions")
    second = await client.channel("executions")
    # pending_new (sequence 2) was held back; new (sequence 3) overtook it.
    assert [first["sequence"], second["sequence"]] == [3, 2]
    assert second["data"][0]["exec_type"] == "pending_new"


async def test_trading_counter_refuses_at_the_tier_threshold(connect: Connect, token: str) -> None:
    """Intermediate tier: threshold 125; an add costs 1, cancelling a <5 s old order 8."""
    client: WsClient = await connect(private=True)
    outcomes: list[str] = []
    for _ in range(14):
        placed = await client.call("add_order", {**_limit(80000), "token": token})
        outcomes.append(placed.get("error", "ok"))
        order_id = placed["result"]["order_id"]
        canceled = await client.call("cancel_order", {"order_id": [order_id], "token": token})
        outcomes.append(canceled.get("error", "ok"))
    # The clock stands still, so nothing decays: 13 * 9 = 117, +1 = 118, +8 = 126 > 125.
    assert outcomes[:27] == ["ok"] * 27
    assert outcomes[27] == "EOrder:Rate limit exceeded"
