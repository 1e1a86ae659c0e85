"""The fault plan over real HTTP: 5xx, Kraken service errors, accept-then-drop, system status."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from simulator.app import SimulatorServer
from tests.integration.simulator.spot.conftest import SpotClient


async def _set_plan(http: aiohttp.ClientSession, sim: SimulatorServer, plan: object) -> int:
    async with http.post(f"{sim.base_url}/_sim/faults", json=plan) as r:
        return r.status


async def test_http_status_fault_fires_the_given_number_of_times(
    sim: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    plan = {
        "rules": [{"match": "/0/public/Time", "action": "http_status", "status": 502, "times": 2}]
    }
    assert await _set_plan(http, sim, plan) == 200
    statuses = []
    for _ in range(3):
        async with http.get(f"{sim.base_url}/0/public/Time") as r:
            statuses.append(r.status)
    assert statuses == [502, 502, 200]


async def test_service_error_in_kraken_envelope(
    sim: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    plan = {
        "rules": [{"match": "/0/public/*", "action": "error", "error": "EService:Busy", "skip": 1}]
    }
    assert await _set_plan(http, sim, plan) == 200
    async with http.get(f"{sim.base_url}/0/public/Assets") as r:
        assert json.loads(await r.read())["error"] == []
    async with http.get(f"{sim.base_url}/0/public/Assets") as r:
        assert await r.read() == b'{"error":["EService:Busy"]}'


async def test_accept_then_drop_applies_the_call_but_never_answers(
    sim: SimulatorServer, client: SpotClient, http: aiohttp.ClientSession
) -> None:
    plan = {
        "rules": [
            {"match": "/0/private/GetWebSocketsToken", "action": "drop_after_accept", "times": 1}
        ]
    }
    assert await _set_plan(http, sim, plan) == 200
    with pytest.raises(aiohttp.ClientError):
        await client.raw_private("GetWebSocketsToken", {}, nonce=9000)
    # The dropped call was processed: its nonce is spent.
    again = await client.raw_private("GetWebSocketsToken", {}, nonce=9000)
    assert again == b'{"error":["EAPI:Invalid nonce"]}'


async def test_system_status_and_clear(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    assert await _set_plan(http, sim, {"system_status": "cancel_only"}) == 200
    async with http.get(f"{sim.base_url}/0/public/SystemStatus") as r:
        assert json.loads(await r.read())["result"]["status"] == "cancel_only"
    async with http.delete(f"{sim.base_url}/_sim/faults") as r:
        assert (await r.json())["system_status"] == "online"


async def test_malformed_plan_is_refused(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    assert await _set_plan(http, sim, {"rules": [{"match": "x", "action": "explode"}]}) == 400
    assert await _set_plan(http, sim, {"system_status": "sleeping"}) == 400


async def test_delay_after_accept_times_out_the_client_but_places_the_order(
    sim: SimulatorServer, client: SpotClient, http: aiohttp.ClientSession
) -> None:
    plan = {"rules": [{"match": "/0/private/AddOrder", "action": "delay_after_accept",
                       "delay_s": 30, "times": 1}]}  # fmt: skip
    assert await _set_plan(http, sim, plan) == 200
    body = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": "10000", "cl_ord_id": "slow-1"}  # fmt: skip
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.raw_private("AddOrder", body), 0.5)
    open_orders = (await client.private("OpenOrders", cl_ord_id="slow-1"))["result"]["open"]
    assert len(open_orders) == 1


async def test_delay_then_serve(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    plan = {"rules": [{"match": "/0/public/Time", "action": "delay", "delay_s": 0.01}]}
    assert await _set_plan(http, sim, plan) == 200
    async with http.get(f"{sim.base_url}/0/public/Time") as r:
        assert json.loads(await r.read())["error"] == []
