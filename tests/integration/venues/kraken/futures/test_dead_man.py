"""cancelallordersafter armed per futures key while its trading session is live (the Spot
guard's rules): logon arms Kraken's timer, a clean logout disarms it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from simulator.app import SimulatorServer
from tests.integration.venues.kraken.futures.conftest import WAIT_S, start_harness


def _armed_accounts(sim: SimulatorServer) -> set[str]:
    engine = sim.ctx.futures_engine
    assert engine is not None
    return set(engine._dead_man._deadlines)


async def test_session_arms_and_clean_end_disarms(sim: SimulatorServer, tmp_path: Path) -> None:
    h = await start_harness(
        sim, tmp_path / "gw", dead_man_switch=True, dead_man_timeout_s=60, dead_man_refresh_s=20
    )
    try:
        guard = h.bundle.dead_man
        assert guard is not None and _armed_accounts(sim) == set()
        guard.session_started()
        async with asyncio.timeout(WAIT_S):
            await h.venue.dead_man.armed.wait()
        assert _armed_accounts(sim) == {"FF000000000000"}
        await guard.session_ended(clean=True)
        assert _armed_accounts(sim) == set()
    finally:
        await h.close()
