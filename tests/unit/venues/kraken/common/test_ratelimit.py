"""Rate governor: cost tables, waits vs refusals, ratecounter corrections, headroom (fake clock)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.venues.kraken.common.ratelimit import (
    CANCEL_RESERVE,
    KrakenPairCounters,
    KrakenRateGovernor,
    KrakenTier,
    KrakenTradeAction,
    age_penalty,
    trade_cost,
)

A = KrakenTradeAction


class FakeTime:
    """A clock whose sleep advances it instantly and records each wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


NO_RESERVES: dict[str, float] = {"cancel_reserve": 0, "rest_reserve": 0}


def governor(
    t: FakeTime,
    tier: KrakenTier = KrakenTier.INTERMEDIATE,
    *,
    max_wait: float = 2.0,
    cancel_max_wait: float = 10.0,
    settle_s: float = 2.0,
    reserves: bool = False,
) -> KrakenRateGovernor:
    """Without `reserves`, no headroom is kept for cancels (the cost mechanics alone)."""
    kept = {} if reserves else NO_RESERVES
    return KrakenRateGovernor(
        tier,
        max_wait=max_wait,
        cancel_max_wait=cancel_max_wait,
        settle_s=settle_s,
        **kept,
        clock=t.clock,
        sleep=t.sleep,
    )


def test_docs_worked_example() -> None:
    # add (+1) -> amend after 7 s (+1 fixed +2) -> cancel 36 s after the amend (+4): total 8.
    total = trade_cost(A.ADD)
    total += trade_cost(A.AMEND, order_ages_s=[7])
    total += trade_cost(A.CANCEL, order_ages_s=[36])
    assert total == 8


@pytest.mark.parametrize(
    ("action", "age", "points"),
    [(A.CANCEL, 0, 8), (A.CANCEL, 4.99, 8), (A.CANCEL, 5, 6), (A.CANCEL, 89, 2),
     (A.CANCEL, 299, 1), (A.CANCEL, 300, 0), (A.AMEND, 14, 1), (A.AMEND, 15, 0),
     (A.EDIT, 44, 2), (A.EDIT, 89.9, 1), (A.EDIT, 90, 0)],
)  # fmt: skip
def test_age_brackets(action: KrakenTradeAction, age: float, points: float) -> None:
    assert age_penalty(action, age) == points


def test_batch_costs() -> None:
    assert trade_cost(A.BATCH_ADD, count=15) == 7.5
    assert trade_cost(A.BATCH_CANCEL, order_ages_s=[1, 7, 400], count=3) == 8 + 6 + 0


async def test_short_wait_absorbed_long_wait_refused() -> None:
    t = FakeTime()
    g = governor(t, max_wait=2.0)  # intermediate: threshold 125 (-1 margin), decay 2.34/s
    await g.acquire_trade("BTC/USD", A.BATCH_ADD, count=15)
    for _ in range(116):
        await g.acquire_trade("BTC/USD", A.ADD)
    assert t.sleeps == []
    level = g.headroom().trading[0].level
    assert level == pytest.approx(123.5)
    await g.acquire_trade("BTC/USD", A.ADD)  # 124.5 > 124 -> waits 0.5/2.34 s
    assert t.sleeps == [pytest.approx(0.5 / 2.34)]
    with pytest.raises(ResourceExhausted) as info:
        await g.acquire_trade("BTC/USD", A.BATCH_ADD, count=15)
    err = info.value
    assert err.reason is ErrorReason.RATE_LIMITED
    # After the wait the counter sits exactly at 124: 7.5 more needs 7.5/2.34 s.
    assert err.retry_after == pytest.approx(7.5 / 2.34)
    # The refused request spent nothing; other pairs are independent.
    assert g.headroom().trading[0].level == pytest.approx(124.0)
    await g.acquire_trade("ETH/USD", A.ADD)
    assert len(t.sleeps) == 1


async def test_cancel_is_never_refused() -> None:
    t = FakeTime()
    g = governor(t, max_wait=0.1, cancel_max_wait=1.0)
    await g.acquire_trade("P", A.BATCH_ADD, count=248)  # 124: full
    await g.acquire_trade("P", A.BATCH_CANCEL, order_ages_s=[0] * 50, count=50)  # +400, no wait
    assert t.sleeps == []
    assert g.headroom().trading[0].level == pytest.approx(524)
    await g.acquire_trade("P", A.CANCEL, order_ages_s=[0])  # waits its bounded time, then goes
    assert t.sleeps == [1.0]


async def test_rest_counter_and_heavy_calls() -> None:
    t = FakeTime()
    g = governor(t, KrakenTier.STARTER, max_wait=1.0)  # max 15 (-1), decay 0.33/s
    await g.acquire_rest("AddOrder")  # not counted
    for _ in range(7):
        await g.acquire_rest("TradesHistory")  # 2 each -> 14
    assert g.headroom().rest.level == 14
    with pytest.raises(ResourceExhausted) as info:
        await g.acquire_rest("Balance")
    assert info.value.retry_after == pytest.approx(1 / 0.33)
    t.now += 1 / 0.33
    await g.acquire_rest("Balance")
    assert t.sleeps == []


async def test_concurrent_waiters_queue_fifo() -> None:
    t = FakeTime()

    async def concurrent_sleep(seconds: float) -> None:  # real sleeps overlap: no clock advance
        t.sleeps.append(seconds)
        await asyncio.sleep(0)

    g = KrakenRateGovernor(
        KrakenTier.PRO, max_wait=100.0, clock=t.clock, sleep=concurrent_sleep, **NO_RESERVES
    )
    for _ in range(19):
        await g.acquire_rest("Balance")
    await asyncio.gather(*(g.acquire_rest("Balance") for _ in range(3)))
    # Each later caller reserved behind the earlier ones: waits of 1, 2, 3 s from the same instant.
    assert sorted(t.sleeps) == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


async def test_observe_ratecounter_corrects_up_always_down_when_settled() -> None:
    t = FakeTime()
    g = governor(t, settle_s=2.0)
    await g.acquire_trade("P", A.ADD)
    g.observe_ratecounter(Decimal("50"), "P")
    assert g.headroom().trading[0].level == 50
    g.observe_ratecounter(10, "P")  # our spend was 0 s ago: in flight, keep the model
    assert g.headroom().trading[0].level == 50
    t.now += 3
    g.observe_ratecounter(10, "P")
    assert g.headroom().trading[0].level == 10
    g.observe_ratecounter(120)  # no pair: the busiest one
    assert g.headroom().trading[0].level == 120


async def test_a_rounded_ratecount_keeps_the_requests_in_flight() -> None:
    t = FakeTime()
    g = governor(t, settle_s=2.0)
    for _ in range(4):  # reserved and sent; Kraken has processed the first only
        await g.acquire_trade("P", A.ADD)
    modelled = g.headroom().trading[0].level
    # Kraken's integer counter rounds up past our model without counting the 3 in flight:
    # replacing the model with it would forget them.
    g.observe_ratecounter(int(modelled) + 1, "P")
    assert g.headroom().trading[0].level == pytest.approx(modelled)
    g.observe_ratecounter(int(modelled) + 2, "P")  # more than rounding: someone else spends
    assert g.headroom().trading[0].level == int(modelled) + 2


async def test_a_reservation_waiting_for_decay_is_not_corrected_away() -> None:
    t = FakeTime()
    sleeping = asyncio.Event()
    release = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        t.sleeps.append(seconds)
        sleeping.set()
        await release.wait()

    g = KrakenRateGovernor(
        KrakenTier.PRO,
        max_wait=100.0,
        settle_s=2.0,
        clock=t.clock,
        sleep=held_sleep,
        **NO_RESERVES,
    )
    limit = 179  # PRO: Kraken's 180 less the safety margin
    await g.acquire_trade("P", A.BATCH_ADD, count=int(2 * limit))  # the counter is full
    waiting = asyncio.create_task(g.acquire_trade("P", A.CANCEL, order_ages_s=[0.0]))
    await asyncio.wait_for(sleeping.wait(), 5)
    wait = t.sleeps[-1]
    assert wait > 2.0  # the cancel's penalty waits longer than settle_s
    modelled = g.headroom().trading[0].level
    t.now += wait - 0.1  # still waiting; the last reservation was made > settle_s ago
    g.observe_ratecounter(int(limit), "P")  # Kraken has not seen the waiting cancel
    assert g.headroom().trading[0].level == pytest.approx(modelled - (wait - 0.1) * 3.75)
    release.set()
    await waiting


async def test_max_ratecount_from_ack_and_venue_rate_limited() -> None:
    t = FakeTime()
    g = governor(t, KrakenTier.STARTER, max_wait=0.0)
    g.set_max_ratecount(180)
    await g.acquire_trade("P", A.BATCH_ADD, count=300)  # 150 fits under 179
    g.observe_venue_rate_limited("P")
    with pytest.raises(ResourceExhausted):
        await g.acquire_trade("P", A.ADD)
    g.observe_venue_rate_limited()
    with pytest.raises(ResourceExhausted):
        await g.acquire_rest("Balance")


@settings(max_examples=50, deadline=None)
@example(ops=[(A.BATCH_CANCEL, 0.0, 15, 0.0), (A.ADD, 0.0, 1, 0.0), (A.CANCEL, 0.0, 1, 0.0)])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(list(A)), st.floats(0, 400), st.integers(1, 15), st.floats(0, 5)),
        min_size=1,
        max_size=60,
    )
)
def test_property_never_exceeds_threshold(ops: list[tuple[A, float, int, float]]) -> None:
    """Whatever the mix, every admitted request except a batch cancel (which Kraken accepts past
    the maximum) arrives with Kraken's counter <= threshold."""

    async def run() -> None:
        t = FakeTime()
        g = governor(t, KrakenTier.STARTER, max_wait=1.0, cancel_max_wait=1e9)
        for action, age, count, gap in ops:
            t.now += gap
            try:
                await g.acquire_trade("P", action, order_ages_s=[age] * count, count=count)
            except ResourceExhausted as exc:
                assert exc.retry_after is not None and exc.retry_after > 1.0
                continue
            # Level right after our request "arrives" (after the wait) is within the threshold.
            if action is not A.BATCH_CANCEL:
                assert g.headroom().trading[0].level <= 60 + 1e-9

    asyncio.run(run())


async def test_keys_of_one_account_share_the_trading_counter() -> None:
    t = FakeTime()
    shared = KrakenPairCounters(60, 1.0, clock=t.clock)
    a = KrakenRateGovernor(
        KrakenTier.STARTER,
        trading=shared,
        max_wait=0,
        clock=t.clock,
        sleep=t.sleep,
        **NO_RESERVES,
    )
    b = KrakenRateGovernor(
        KrakenTier.STARTER,
        trading=shared,
        max_wait=0,
        clock=t.clock,
        sleep=t.sleep,
        **NO_RESERVES,
    )
    await a.acquire_trade("P", A.BATCH_ADD, count=118)  # 59 = threshold - margin
    with pytest.raises(ResourceExhausted):
        await b.acquire_trade("P", A.ADD)
    await b.acquire_rest("Balance")  # REST counters stay per key
    assert a.headroom().rest.level == 0 and b.headroom().rest.level == 1


async def test_new_orders_leave_headroom_for_a_cancel() -> None:
    """New orders may not spend the last of a pair's budget: a cancel of the youngest order
    (the dearest) then goes at once, never waiting behind them."""
    t = FakeTime()
    g = governor(t, max_wait=0.0, reserves=True)
    limit = g.trading.counter("BTC/USD").limit
    adds = 0
    with pytest.raises(ResourceExhausted):
        while True:
            await g.acquire_trade("BTC/USD", A.ADD)
            adds += 1
    assert adds == limit - CANCEL_RESERVE  # the reserve is left
    await g.acquire_trade("BTC/USD", A.CANCEL, order_ages_s=[0.0])  # 8 points: the whole reserve
    assert t.sleeps == []  # the cancel did not wait


async def test_reads_leave_the_rest_counter_for_cancel_all() -> None:
    t = FakeTime()
    g = governor(t, max_wait=0.0, reserves=True)
    with pytest.raises(ResourceExhausted):
        while True:
            await g.acquire_rest("OpenOrders")
    await g.acquire_rest("CancelAllOrdersAfter")  # the kill switch / dead man still goes out
    assert t.sleeps == []


async def test_a_call_that_never_reached_kraken_gives_its_cost_back() -> None:
    t = FakeTime()
    g = governor(t)
    await g.acquire_rest("TradesHistory")
    cost = await g.acquire_trade("BTC/USD", A.ADD)
    g.refund_rest("TradesHistory")
    g.refund_trade("BTC/USD", cost)
    room = g.headroom()
    assert room.rest.level == 0
    assert room.trading[0].level == 0
