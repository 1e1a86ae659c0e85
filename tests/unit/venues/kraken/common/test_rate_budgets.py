"""The governor's snapshot as venue-neutral RateBudgets (what GetLimits shows), on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.core.errors import ResourceExhausted
from gateway.core.model import RateBudget
from gateway.venues.kraken.common.ratelimit import (
    CANCEL_RESERVE,
    KrakenRateGovernor,
    KrakenTier,
    KrakenTradeAction,
    spot_rate_budgets,
)

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def governor(t: FakeTime, tier: KrakenTier = KrakenTier.PRO) -> KrakenRateGovernor:
    return KrakenRateGovernor(tier, max_wait=2.0, clock=t.clock, sleep=t.sleep)


def by_key(budgets: list[RateBudget]) -> dict[tuple[str, str | None], RateBudget]:
    return {(b.name, b.symbol): b for b in budgets}


async def test_rest_and_per_pair_trading_counters_become_decimal_budgets() -> None:
    t = FakeTime()
    g = governor(t)
    assert spot_rate_budgets(g.headroom(), "kraken") == [
        RateBudget(
            name="spot_rest",
            venue="kraken",
            limit=Decimal(19),  # pro max 20 minus the safety margin
            used=Decimal(0),
            decay_per_second=Decimal(1),
        )
    ]
    for _ in range(3):
        await g.acquire_trade("BTC/USD", KrakenTradeAction.ADD)
    await g.acquire_trade("BTC/USD", KrakenTradeAction.CANCEL, order_ages_s=[1.0])  # +8
    await g.acquire_trade("ETH/USD", KrakenTradeAction.ADD)
    await g.acquire_rest("OpenOrders")
    await g.acquire_rest("Ledgers")  # heavy: +2
    t.now += 0.5

    budgets = spot_rate_budgets(g.headroom(), "kraken", time=AT)

    assert [(b.name, b.symbol) for b in budgets] == [
        ("spot_rest", None),
        ("spot_trading", "BTC/USD"),
        ("spot_trading", "ETH/USD"),
    ]
    got = by_key(budgets)
    rest = got[("spot_rest", None)]
    assert (rest.limit, rest.used, rest.headroom) == (Decimal(19), Decimal("2.5"), Decimal("16.5"))
    btc = got[("spot_trading", "BTC/USD")]
    assert btc.venue == "kraken" and btc.time == AT
    assert btc.limit == Decimal(179) and btc.decay_per_second == Decimal("3.75")
    assert btc.used == Decimal("9.125")  # 11 points, 0.5 s of decay at 3.75/s
    assert btc.headroom == btc.limit - btc.used == Decimal("169.875")
    assert got[("spot_trading", "ETH/USD")].used == 0  # 1 point decayed in 0.27 s
    assert all(b.retry_after_s is None for b in budgets)


async def test_fractional_counters_are_quantized_to_three_places() -> None:
    t = FakeTime()
    g = governor(t, KrakenTier.STARTER)  # REST decays 0.33/s
    await g.acquire_rest("Balance")
    t.now += 1.0
    rest = by_key(spot_rate_budgets(g.headroom(), "kraken"))[("spot_rest", None)]
    assert rest.used == Decimal("0.67")
    assert rest.decay_per_second == Decimal("0.33")
    t.now += 1.0 / 3.0
    rest = by_key(spot_rate_budgets(g.headroom(), "kraken"))[("spot_rest", None)]
    assert rest.used == Decimal("0.56")  # 0.67 - 0.11


async def test_a_refusing_budget_names_the_delay_the_governor_refuses_with() -> None:
    t = FakeTime()
    g = governor(t)
    g.observe_ratecounter(Decimal(500), "ETH/USD")  # Kraken reports far more than modelled

    eth = by_key(spot_rate_budgets(g.headroom(), "kraken"))[("spot_trading", "ETH/USD")]

    assert eth.used == Decimal(500) and eth.headroom == 0  # over the limit: no headroom
    assert eth.retry_after_s == pytest.approx((500 + 1 + CANCEL_RESERVE - 179) / 3.75)
    with pytest.raises(ResourceExhausted) as refused:
        await g.acquire_trade("ETH/USD", KrakenTradeAction.ADD)
    assert refused.value.retry_after == pytest.approx(eth.retry_after_s)
    rest = by_key(spot_rate_budgets(g.headroom(), "kraken"))[("spot_rest", None)]
    assert rest.retry_after_s is None  # only the saturated pair refuses


async def test_a_wait_short_enough_to_absorb_is_not_a_refusal() -> None:
    t = FakeTime()
    g = governor(t)
    # At the line new orders may not cross (the cancel reserve under the limit): the next add
    # waits 0.27 s.
    g.observe_ratecounter(Decimal(179 - CANCEL_RESERVE), "BTC/USD")
    btc = by_key(spot_rate_budgets(g.headroom(), "kraken"))[("spot_trading", "BTC/USD")]
    assert btc.headroom == CANCEL_RESERVE and btc.retry_after_s is None
    await g.acquire_trade("BTC/USD", KrakenTradeAction.ADD)  # absorbed, not refused
    assert t.now == pytest.approx(1 / 3.75)
