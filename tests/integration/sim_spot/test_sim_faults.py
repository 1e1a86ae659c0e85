"""The fault plan over real HTTP: 5xx, Kraken service errors, accept-then-drop, system status."""

from __future__ import annotations

import json

import aiohttp
import pytest

from simulator.app import SimulatorServer
from tests.integration.sim_spot.conftest import SpotClient


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
