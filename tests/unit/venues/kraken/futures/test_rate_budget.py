"""The Futures governor: derivatives cost budget and history pool (wire 8.6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.venues.kraken.futures.rate_budget import KrakenFuturesRateGovernor, derivatives_cost


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_costs() -> None:
    assert derivatives_cost("POST", "sendorder") == 10
    assert derivatives_cost("POST", "batchorder", batch_size=5) == 14
    assert derivatives_cost("GET", "fills", with_last_fill_time=True) == 25
    assert derivatives_cost("GET", "orders/status") == 1
    assert derivatives_cost("GET", "somethingelse") == 2


async def test_spends_then_refuses_with_retry_after_then_recovers() -> None:
    clock = Clock()
    gov = KrakenFuturesRateGovernor(clock=clock, max_wait_s=0.0, cancel_reserve=0)
    for _ in range(50):
        await gov.acquire(10)  # 500: the whole budget
    with pytest.raises(ResourceExhausted) as err:
        await gov.acquire(10)
    assert err.value.reason is ErrorReason.RATE_LIMITED
    assert err.value.retry_after == pytest.approx(0.2)  # drains 50 units/s
    clock.now = 0.2
    await gov.acquire(10)


async def test_history_pool_is_separate_and_budgets_are_shown() -> None:
    clock = Clock()
    gov = KrakenFuturesRateGovernor(clock=clock, max_wait_s=0.0)
    await gov.acquire(100, history=True)
    await gov.acquire(10)
    derivatives, history = gov.rate_budgets("krakenfutures")
    assert (derivatives.name, history.name) == ("futures_derivatives", "futures_history")
    assert derivatives.limit == Decimal(500) and derivatives.used == Decimal(10)
    assert history.used == Decimal(100) and history.retry_after_s is not None
    assert history.decay_per_second == Decimal(repr(round(100 / 600, 6)))


async def test_venue_limit_marks_the_model_full() -> None:
    clock = Clock()
    gov = KrakenFuturesRateGovernor(clock=clock, max_wait_s=0.0)
    gov.observe_venue_rate_limited()
    with pytest.raises(ResourceExhausted):
        await gov.acquire(1)


async def test_a_call_in_flight_does_not_drain_before_it_is_answered() -> None:
    """Kraken counts a call on arrival: the model puts back what drained while it flew."""
    clock = Clock()
    gov = KrakenFuturesRateGovernor(clock=clock, max_wait_s=0.0)
    async with gov.spending(10):
        clock.now = 0.1  # 5 units drained in the model, none at Kraken yet
    assert gov.derivatives.now_level(clock.now) == 10
    async with gov.spending(10):
        clock.now = 5.0  # a slow answer never puts back more than the call's cost
    assert gov.derivatives.now_level(clock.now) == 10


async def test_new_orders_leave_a_cancel_all_and_cancels_are_never_refused() -> None:
    clock = Clock()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    gov = KrakenFuturesRateGovernor(clock=clock, max_wait_s=0.0, sleep=sleep)
    for _ in range(47):
        await gov.acquire(10)  # 470: one more would eat into the 25 kept for cancels
    with pytest.raises(ResourceExhausted):
        await gov.acquire(10)
    await gov.acquire(25, cancel=True)  # a cancel-all uses the reserve at once
    assert gov.derivatives.now_level(clock.now) == 495
    gov.observe_venue_rate_limited()  # Kraken says full: a cancel still goes, after a wait
    await gov.acquire(10, cancel=True)
    assert sleeps == [pytest.approx(0.2)]  # waited for room, was not refused
