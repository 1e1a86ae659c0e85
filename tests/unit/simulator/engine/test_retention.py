"""Retention: an idle simulator stays bounded; clients keep their recent history queryable."""

from __future__ import annotations

import gc

import pytest

from simulator.context import make_context
from simulator.engine import KrakenError, ManualClock, Side, SpotEngine
from simulator.engine.spot import Retention
from tests.unit.simulator.engine.conftest import START
from tests.unit.simulator.engine.helpers import limit, market


def test_idle_simulator_with_a_requoting_market_maker_stays_bounded() -> None:
    """The embedded simulator's context (as `kraken-gateway serve` builds it): the market maker
    requotes every pair every second (~50 quote orders per second before this change kept
    every one, ~1000 objects a second)."""
    clock = ManualClock(1_700_000_000)
    ctx = make_context(seed=1, clock=clock)
    engine = ctx.spot()

    def run(seconds: int) -> None:
        for _ in range(seconds):
            clock.advance(1)
            ctx.tick()

    run(100)  # warm up: every lazily built structure exists
    gc.collect()
    counts, objects = engine.stored_counts(), len(gc.get_objects())
    run(400)
    gc.collect()
    assert engine.stored_counts() == counts
    assert engine.stored_counts()["orders"] <= 2 * 5 * len(engine.directory.pairs)  # open quotes
    assert len(gc.get_objects()) < objects + 1000  # unbounded growth would add ~400,000


def test_client_history_is_kept_up_to_the_retention_newest_first(clock: ManualClock) -> None:
    engine = SpotEngine(
        seed=3,
        clock=clock,
        market_maker=False,
        retention=Retention(closed_orders=5, fills=4, ledger=6),
    )
    engine.create_account("A", START)
    engine.create_account("B", START)
    txids = []
    for i in range(12):
        txid = engine.add_order("A", limit(Side.BUY, "0.01", str(50_000 + i))).txid
        assert txid is not None
        txids.append(txid)
        clock.advance(1)
        engine.cancel_order("A", txid)
    assert engine.stored_counts()["closed_orders"] == 5
    page = engine.closed_orders("A")
    assert [o.txid for o in page.items] == txids[::-1][:5]  # newest first, the last five
    assert [o.txid for o in engine.query_orders("A", txids[-5:])] == txids[-5:]
    assert engine.order_amends("A", txids[-1])
    with pytest.raises(KrakenError, match="EOrder:Invalid order"):
        engine.query_orders("A", [txids[0]])  # forgotten: older than the retention

    for _ in range(6):  # B rests, A takes: one fill per side per round
        engine.add_order("B", limit(Side.SELL, "0.01", "60000"))
        engine.add_order("A", market(Side.BUY, "0.01"))
    counts = engine.stored_counts()
    assert counts["fills"] == 2 * 4
    fills = engine.trades_history("A").items
    assert len(fills) == 4
    assert [f.txid for f in engine.query_trades("A", [fills[0].txid])] == [fills[0].txid]
    assert len(engine.ledgers("A").items) == 6
