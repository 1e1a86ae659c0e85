"""`LimitsConfig(enforce=False)` (`--no-rate-limits`) turns the futures cost budget off too;
with it on, the same burst hits `apiLimitExceeded`."""

from __future__ import annotations

import httpx

from simulator.accounts import DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from simulator.spot.limits import LimitsConfig
from tests.integration.simulator.futures.conftest import FuturesRest

PATH = "/derivatives/api/v3/cancelallorders"  # cost 25: 21 calls = 525 > the 500 budget


async def _burst(sim: SimulatorServer) -> list[str]:
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        rest = FuturesRest(http, DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET)
        results = []
        for _ in range(21):
            response = await rest.call("POST", PATH, nonce=True)
            results.append(response.json()["result"])
        return results


async def test_budget_enforced_by_default_and_off_without_limits() -> None:
    # A manual clock: the budget does not drain between the calls, whatever their speed.
    async with SimulatorServer(host="127.0.0.1", port=0, clock=ManualClock()) as sim:
        assert (await _burst(sim))[-1] == "error"
    async with SimulatorServer(
        host="127.0.0.1", port=0, clock=ManualClock(), limits=LimitsConfig(enforce=False)
    ) as sim:
        assert set(await _burst(sim)) == {"success"}
