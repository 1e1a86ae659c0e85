"""The fault plan reaches the futures front ends: system status, HTTP faults, WS drops."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from simulator.app import SimulatorServer
from simulator.faults import FaultAction, FaultRule, SystemStatus

from .conftest import Client, FuturesRest

V3 = "/derivatives/api/v3/"


async def send(rest: FuturesRest, order_type: str, price: str = "3000") -> Any:
    params = {"orderType": order_type, "symbol": "PF_ETHUSD", "side": "buy", "size": "0.1"}
    if order_type != "mkt":
        params["limitPrice"] = price
    return json.loads((await rest.call("POST", V3 + "sendorder", params)).text)


async def test_system_status_gates_futures_orders(sim: SimulatorServer, rest: FuturesRest) -> None:
    placed = await send(rest, "lmt")
    order_id = placed["sendStatus"]["order_id"]
    sim.ctx.faults.system_status = SystemStatus.POST_ONLY
    assert (await send(rest, "lmt"))["sendStatus"]["status"] == "marketIsPostOnly"
    assert (await send(rest, "post"))["sendStatus"]["status"] == "placed"
    sim.ctx.faults.system_status = SystemStatus.CANCEL_ONLY
    assert (await send(rest, "post"))["sendStatus"]["status"] == "marketSuspended"
    cancel = await rest.call("POST", V3 + "cancelorder", {"order_id": order_id})
    assert json.loads(cancel.text)["cancelStatus"]["status"] == "cancelled"
    sim.ctx.faults.system_status = SystemStatus.MAINTENANCE
    down = await rest.http.get(V3 + "tickers")
    assert down.status_code == 503 and json.loads(down.text)["error"] == "Unavailable"


async def test_http_fault_rule_on_a_futures_path(sim: SimulatorServer, rest: FuturesRest) -> None:
    sim.ctx.faults.add(
        FaultRule(
            match="/derivatives/api/v3/sendorder",
            action=FaultAction.HTTP_STATUS,
            status=502,
            times=1,
        )
    )
    failed = await rest.call(
        "POST",
        V3 + "sendorder",
        {"orderType": "mkt", "symbol": "PF_ETHUSD", "side": "buy", "size": "0.1"},
    )
    assert failed.status_code == 502
    assert (await send(rest, "mkt"))["sendStatus"]["status"] == "placed"


async def test_dropped_book_message_leaves_a_seq_gap(
    sim: SimulatorServer, client: Client, rest: FuturesRest
) -> None:
    await client.send({"event": "subscribe", "feed": "book", "product_ids": ["PF_ETHUSD"]})
    await client.until(lambda m: m.get("event") == "subscribed")
    snapshot = await client.next()
    below = Decimal(snapshot["bids"][-1]["price"]) - 1
    sim.ctx.faults.add(FaultRule(match="fws:book", action=FaultAction.DROP, times=1))
    await send(rest, "lmt", str(below))  # its level event is dropped
    await send(rest, "lmt", str(below - 1))
    delta = await client.until(lambda m: m.get("feed") == "book")
    assert delta["seq"] == snapshot["seq"] + 2 and delta["price"] == below - 1
