"""Chaos: kill -9 of a real `kraken-gateway serve` during live trading, against a simulator the
test runs (so the venue outlives the gateway), with fills while the gateway is down.

Each cycle tops the resting orders up to the cycle's count, starts a batch of new orders, kills
the gateway while that batch is in flight, fills the best bids at the venue, and restarts. Every
restart serves (it prints `serving` once reconciled; the time is printed per cycle); the
client's stream, resuming across restarts, sees every report exactly once and in order (no gap,
no duplicate); every fill made during a downtime is reported; nothing is canceled (the downtime
is shorter than the dead man's switch countdown, re-armed first at each restart).

SOAK=short: 3 cycles with ~100 open orders. Full: 20 cycles with 100-500 open orders.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest

from krakengw import ExecType, ExecutionReport
from tests.e2e.chaos_support import (
    QTY,
    SOAK_SHORT,
    Recorder,
    Taker,
    Venue,
    gateway,
    write_config,
)

FILLS_PER_DOWNTIME = 5
PAIRS = (("BTC/USD", Decimal("20000"), QTY), ("ETH/USD", Decimal("1000"), Decimal("0.01")))
PER_PAIR_MAX = 200  # under the simulator's open-orders-per-pair limit


def _open_target(cycle: int, cycles: int) -> int:
    if SOAK_SHORT:
        return 100
    return 100 + (400 * cycle) // max(1, cycles - 1)


@pytest.mark.slow
async def test_kill_9_during_trading_every_restart_serves_and_loses_nothing(
    tmp_path: Path,
) -> None:
    cycles = 3 if SOAK_SHORT else 20
    venue = Venue()
    sim = await venue.start()
    write_config(tmp_path, sim)
    gw = gateway(tmp_path)
    await gw.start()
    recorder = Recorder(gw.target)
    taker = Taker(sim)
    resting: dict[str, list[Decimal]] = {symbol: [] for symbol, _, _ in PAIRS}
    placed = 0
    filled = 0
    figures: list[str] = []
    try:
        await recorder.start()
        for cycle in range(cycles):
            # Top up to this cycle's count of resting orders (unique prices, under the book).
            target = _open_target(cycle, cycles)
            for symbol, top, qty in PAIRS:
                want = min(PER_PAIR_MAX, target // len(PAIRS)) - len(resting[symbol])
                prices = [top - Decimal(placed + i) for i in range(max(0, want))]
                await recorder.place(f"c{cycle}-{symbol[:3]}", prices, symbol, qty)
                resting[symbol].extend(prices)
                placed += len(prices)
            open_before = sum(len(p) for p in resting.values())
            # Live trading when the gateway dies: a batch in flight.
            live_prices = [Decimal(1000 + cycle * 20 + i) for i in range(15)]
            live = asyncio.create_task(recorder.place(f"live{cycle}", live_prices))
            await asyncio.sleep(0)  # let the batch leave
            await gw.kill()
            # While it is down, the venue fills the best BTC bids.
            best = sorted(resting["BTC/USD"], reverse=True)[:FILLS_PER_DOWNTIME]
            await taker.sell(QTY * len(best), min(best))
            resting["BTC/USD"] = [p for p in resting["BTC/USD"] if p not in best]
            filled += len(best)
            began = time.monotonic()
            await gw.start()  # returns once it printed `serving`
            serving_s = gw.serving_at - began
            reconciling_s = gw.serving_at - gw.listening_at
            await live
            resting["BTC/USD"].extend(live_prices)
            placed += len(live_prices)
            await recorder.wait(
                lambda reports, want=filled: (
                    sum(r.exec_type is ExecType.FILL for r in reports) >= want
                )
            )

            figures.append(
                f"cycle {cycle}: {open_before} open orders; restart to serving {serving_s:.2f}s "
                f"(port open to serving {reconciling_s:.2f}s)"
            )
            print(figures[-1])
        # Every order the client placed is settled: NEW (resting or filled since) or, for one
        # of a batch the kill caught before it reached the venue, REJECTED as unknown there.
        await recorder.wait(lambda reports: _settled(reports) >= placed)
    finally:
        await recorder.close()
        await taker.close()
        await gw.terminate()
        await venue.stop()

    reports = recorder.reports
    sequences = [r.sequence for r in reports]
    assert sequences == list(range(1, len(reports) + 1))  # none lost, doubled or reordered
    assert len({r.exec_id for r in reports}) == len(reports)
    assert sum(r.exec_type is ExecType.FILL for r in reports) == filled
    assert _settled(reports) == placed  # each order once: never both, never twice
    assert not [r for r in reports if r.exec_type is ExecType.CANCELED]  # no dead man cancels
    print("\n".join(figures))


def _settled(reports: list[ExecutionReport]) -> int:
    return sum(r.exec_type in (ExecType.NEW, ExecType.REJECTED) for r in reports)
