"""A fleet's lease fence on the Futures private WebSocket: every frame of it (the challenge
request, the subscriptions carrying the signed challenge) passes `before_send` right before it
is written. Once the fence refuses, a reconnect asks the simulator for no challenge and the
connect loop stops instead of retrying."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.core.leases import LeaseLost
from simulator.app import SimulatorServer
from simulator.futures.ws import futures_ws_hub
from tests.integration.venues.kraken.futures.conftest import TRADER, credentials, start_harness


async def test_a_refusing_fence_stops_the_private_ws_before_its_challenge(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    checks: list[bool] = []
    holds = True

    def gate() -> None:
        checks.append(holds)
        if not holds:
            raise LeaseLost("lease gone")

    hub = futures_ws_hub(sim.ctx)
    api_key = credentials(TRADER).api_key
    h = await start_harness(sim, tmp_path / "gw", before_send=gate)
    try:
        ws = h.bundle.venue.ws
        assert ws.connects == 1 and ws.running
        asked = hub.challenges_requested[api_key]
        assert asked >= 1 and checks and all(checks)
        holds = False  # the lease is gone
        await ws.reconnect()
        async with asyncio.timeout(15):
            while ws.running:
                await asyncio.sleep(0.02)
        assert checks[-1] is False  # the reconnect's first frame was refused
        assert hub.challenges_requested[api_key] == asked  # nothing reached the simulator
        assert ws.connects == 1 and not ws.connected
    finally:
        await h.close()
