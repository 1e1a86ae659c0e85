"""Memory soak of `kraken-gateway serve` with a trading client: rounds of a batch of orders that
the venue fills, then a burst of execution streams that replay the whole session from the start
and end. The gateway's RSS is printed after every round and must stay within a bound of its
warmed-up size: per-stream buffers are released when streams end, replays do not pile up.

SOAK=short: about half a minute, 40 replaying streams a round. Full: 30 minutes, 200 a round.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest

from krakengw import AsyncClient, ExecType
from tests.e2e.chaos_support import (
    BATCH,
    QTY,
    SOAK_SHORT,
    Recorder,
    Taker,
    Venue,
    gateway,
    rss_kib,
    write_config,
)

DURATION_S = 30 if SOAK_SHORT else 1800
STREAMS = 40 if SOAK_SHORT else 200
WARM_ROUNDS = 3
# Growth allowed over the warmed-up RSS, whatever the duration: the journal, the order book
# and the reports live on disk, so a gateway that frees its streams stays near its warm size.
BOUND_KIB = 64 * 1024


async def _replay_all(client: AsyncClient, upto: int) -> None:
    """`STREAMS` streams of the trading session (its own logged-on client: a call must carry
    the logon's id), each replaying from 0 to `upto`, then ending."""

    async def one() -> None:
        stream = client.stream_executions(0)
        async for report in stream:
            if report.sequence >= upto:
                break
        await stream.aclose()

    await asyncio.gather(*(one() for _ in range(STREAMS)))


@pytest.mark.slow
async def test_gateway_memory_stays_bounded_under_trading_and_replays(tmp_path: Path) -> None:
    venue = Venue()
    sim = await venue.start()
    write_config(tmp_path, sim)
    gw = gateway(tmp_path)
    await gw.start()
    assert gw.proc is not None
    recorder = Recorder(gw.target)
    taker = Taker(sim)
    samples: list[int] = []
    try:
        await recorder.start()
        deadline = time.monotonic() + DURATION_S
        round_no = 0
        while time.monotonic() < deadline or round_no < WARM_ROUNDS + 2:
            prices = [Decimal(30000 + round_no * BATCH + i) for i in range(BATCH)]
            await recorder.place(f"r{round_no}", prices)
            await taker.sell(QTY * BATCH, min(prices))
            fills = (round_no + 1) * BATCH
            await recorder.wait(
                lambda reports, want=fills: (
                    sum(r.exec_type is ExecType.FILL for r in reports) >= want
                )
            )
            assert recorder.client is not None
            await _replay_all(recorder.client, recorder.reports[-1].sequence)
            samples.append(rss_kib(gw.proc.pid))
            print(
                f"round {round_no}: {len(recorder.reports)} reports, "
                f"{STREAMS} replays, gateway RSS {samples[-1] / 1024:.1f} MiB"
            )
            round_no += 1
    finally:
        await recorder.close()
        await taker.close()
        await gw.terminate()
        await venue.stop()

    warm = samples[WARM_ROUNDS - 1]
    peak = max(samples[WARM_ROUNDS:])
    print(f"warm RSS {warm / 1024:.1f} MiB, peak after warm-up {peak / 1024:.1f} MiB")
    assert peak <= warm + BOUND_KIB, samples
