"""Hostile parameter values never crash the futures front end: always a Kraken envelope."""

from __future__ import annotations

import json

from simulator.app import SimulatorServer
from simulator.futures.limits import KrakenFuturesBudget
from simulator.futures.venue import futures_venue

from .conftest import FuturesRest

V3 = "/derivatives/api/v3/"
NASTY = [
    "",
    "0",
    "-1",
    "1e999999",
    "-1e-999999",
    "1e-999999",
    "NaN",
    "Infinity",
    "sNaN",
    "1" * 60,
    "0.00000001",
    "abc",
    "1,5",
    " 1 ",
    "\u0661",
    "True",
    "null",
    "{}",
    "%00",
    "x" * 101,
    "2000-01-01T00:00:00Z",
    "9" * 30,
    "1E+5",
]
BASE_ORDERS = {
    "lmt": {
        "orderType": "lmt",
        "symbol": "PF_ETHUSD",
        "side": "buy",
        "size": "0.1",
        "limitPrice": "3000",
    },
    "trailing": {
        "orderType": "trailing_stop",
        "symbol": "PF_ETHUSD",
        "side": "sell",
        "size": "0.1",
        "trailingStopMaxDeviation": "5",
        "trailingStopDeviationUnit": "QUOTE_CURRENCY",
        "limitPriceOffsetValue": "1",
        "limitPriceOffsetUnit": "QUOTE_CURRENCY",
    },
}
OTHER_CALLS = {
    ("POST", "editorder"): {"orderId": "none", "size": "1", "limitPrice": "1", "stopPrice": "1"},
    ("POST", "cancelallordersafter"): {"timeout": "60"},
    ("POST", "transfer"): {
        "fromAccount": "flex",
        "toAccount": "cash",
        "unit": "usd",
        "amount": "1",
    },
    ("GET", "fills"): {"lastFillTime": "2000-01-01T00:00:00Z"},
    ("PUT", "leveragepreferences"): {"symbol": "PF_ETHUSD", "maxLeverage": "5"},
}


async def expect_envelope(rest: FuturesRest, method: str, path: str, params: dict[str, str]) -> str:
    response = await rest.call(method, V3 + path, params)
    assert response.status_code == 200, (path, params, response.text)
    body = json.loads(response.text)
    assert body["result"] in ("success", "error"), body
    return str(body.get("error") or "success")


async def test_every_field_of_every_call_survives_every_hostile_value(
    sim: SimulatorServer, rest: FuturesRest
) -> None:
    # Hundreds of calls in one clock instant: lift the cost budget (tested elsewhere).
    futures_venue(sim.ctx).budget = KrakenFuturesBudget(capacity=1e9, window_s=1.0)
    outcomes = set()
    calls = [(("POST", "sendorder"), base) for base in BASE_ORDERS.values()]
    calls += list(OTHER_CALLS.items())
    for (method, path), base in calls:
        for field in base:
            for value in NASTY:
                params = {**base, field: value}
                outcomes.add(await expect_envelope(rest, method, path, params))
    assert {"success", "requiredArgumentMissing", "invalidArgument"} <= outcomes


async def test_history_paging_parameters_survive_hostile_values(rest: FuturesRest) -> None:
    for value in NASTY:
        for path, name in (
            ("/api/history/v2/orders", "since"),
            ("/api/history/v2/orders", "count"),
            ("/api/history/v3/account-log", "count"),
            ("/api/history/v3/market/PF_ETHUSD/executions", "before"),
            ("/api/history/v3/market/PF_ETHUSD/executions", "count"),
            ("/api/history/v3/market/PF_ETHUSD/executions", "sort"),
        ):
            response = await rest.call("GET", path, {name: value})
            assert response.status_code == 200, (path, name, value, response.text)
