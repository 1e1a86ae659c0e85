"""Same seed, same clock, same requests: two simulators answer byte for byte the same."""

from __future__ import annotations

import aiohttp

from simulator.accounts import DEMO_SPOT_KEY, DEMO_SPOT_SECRET
from simulator.app import SimulatorServer
from simulator.engine.clock import ManualClock
from tests.integration.simulator.spot.conftest import SpotClient


async def _session_transcript(http: aiohttp.ClientSession, seed: int) -> list[bytes]:
    clock = ManualClock(1_700_000_000)
    out: list[bytes] = []
    async with SimulatorServer(port=0, seed=seed, clock=clock) as sim:
        client = SpotClient(http, sim.base_url, DEMO_SPOT_KEY, DEMO_SPOT_SECRET)

        async def public(method: str, **params: str) -> None:
            async with http.get(f"{sim.base_url}/0/public/{method}", params=params) as r:
                out.append(await r.read())

        async def private(method: str, **params: str) -> None:
            out.append(await client.raw_private(method, params))

        await public("Time")
        await public("Ticker", pair="XBTUSD,ETHUSD")
        await public("Depth", pair="XBTUSD", count="10")
        await private("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.3")
        clock.advance(5)
        await private("AddOrder", pair="ETHUSD", type="sell", ordertype="limit", volume="1",
                      price="1000000")  # fmt: skip
        await private("AddOrder", pair="XDGUSD", type="sell", ordertype="market", volume="5000")
        clock.advance(30)
        await public("Trades", pair="XBTUSD")
        await public("OHLC", pair="XBTUSD")
        await private("OpenOrders", trades="true")
        await private("ClosedOrders", trades="true")
        await private("TradesHistory", ledgers="true")
        await private("Ledgers")
        await private("BalanceEx")
        await private("GetWebSocketsToken")
    return out


async def test_same_seed_same_bytes_and_other_seed_differs(http: aiohttp.ClientSession) -> None:
    first = await _session_transcript(http, seed=11)
    second = await _session_transcript(http, seed=11)
    assert all(b'"error":[]' in body for body in first), first
    assert first == second
    other = await _session_transcript(http, seed=12)
    assert other != first
