"""Same seed, same clock, same requests: byte-identical futures responses from two simulators."""

from __future__ import annotations

import httpx

from simulator.accounts import DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock

from .conftest import FuturesRest

V3 = "/derivatives/api/v3/"


async def session(seed: int) -> list[str]:
    clock = ManualClock()
    out: list[str] = []
    server = SimulatorServer(port=0, seed=seed, clock=clock)
    async with server as sim, httpx.AsyncClient(base_url=sim.base_url) as http:
        rest = FuturesRest(http, DEMO_FUTURES_KEY, DEMO_FUTURES_SECRET)
        for step in range(5):
            clock.advance(3)  # the market walks between requests
            sent = await rest.call(
                "POST",
                V3 + "sendorder",
                {
                    "orderType": "mkt",
                    "symbol": "PF_XBTUSD",
                    "side": "buy" if step % 2 else "sell",
                    "size": "0.3",
                },
            )
            out.append(sent.text)
            out.append((await http.get(V3 + "orderbook", params={"symbol": "PF_XBTUSD"})).text)
        for path in ("fills", "openpositions", "accounts"):
            out.append((await rest.call("GET", V3 + path)).text)
    return out


async def test_same_seed_gives_byte_identical_responses() -> None:
    first, second = await session(21), await session(21)
    assert first == second
    assert await session(22) != first
