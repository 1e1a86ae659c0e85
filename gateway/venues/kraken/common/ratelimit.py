"""The Kraken Spot rate governor (DESIGN.md section 7, wire section 5).

Per key it models Kraken's own budgets as decaying counters and spends from the model *before*
each call:

- Spot REST call counter: +1 per private call (+2 for ledger/trade-history calls, wire 5.1
  CONFLICT: configurable), max and decay by tier; order entry does not count here.
- Spot trading counter, one per pair: fixed costs plus order-age penalties for cancel, amend
  and edit (wire 5.2), threshold and decay by tier.

A spend reserves its cost at once (so concurrent callers queue FIFO) and then waits until the
modelled counter has decayed under the limit. If that wait is short (<= `max_wait`) the caller
sleeps; otherwise nothing is spent and `ResourceExhausted(retry_after=...)` is raised. Cancels
are never refused: they reduce risk, so they wait up to `cancel_max_wait` and then go; a batch
cancel does not wait at all, because Kraken accepts it even past the threshold.

Headroom for cancels: everything else must leave a reserve under each limit (`cancel_reserve`
points of a pair's trading counter: the dearest single cancel; `rest_reserve` of the REST
counter: a CancelAll or CancelAllOrdersAfter). Futures budgets are `futures/rate_budget.py`'s.
So new orders and reads can never spend the last of a budget a cancel, a cancel-all or the kill
switch will need, and a cancel never waits behind them, only behind other cancels.

A call that failed before anything was sent (connection refused: the venue never saw it) gives
its cost back (`refund_rest`, `refund_trade`), so an outage does not use up the model.
`observe_ratecounter` corrects a pair's model from the executions channel. The clock and sleep
are injectable, so tests advance a fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.core.model import RateBudget
from gateway.core.telemetry import NO_TELEMETRY, Telemetry


class KrakenTier(enum.Enum):
    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


@dataclass(frozen=True, slots=True)
class KrakenTierLimits:
    rest_max: float
    rest_decay_per_s: float
    trade_threshold: float
    trade_decay_per_s: float
    max_open_orders_per_pair: int


TIER_LIMITS: Mapping[KrakenTier, KrakenTierLimits] = {
    KrakenTier.STARTER: KrakenTierLimits(15, 0.33, 60, 1.0, 60),
    KrakenTier.INTERMEDIATE: KrakenTierLimits(20, 0.5, 125, 2.34, 80),
    KrakenTier.PRO: KrakenTierLimits(20, 1.0, 180, 3.75, 225),
}

# REST methods that do not touch the REST counter (they use the per-pair trading counter).
REST_UNCOUNTED_METHODS: frozenset[str] = frozenset(
    {"AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder", "CancelOrderBatch"}
)
REST_HEAVY_METHODS: frozenset[str] = frozenset({"Ledgers", "QueryLedgers", "TradesHistory"})


class KrakenTradeAction(enum.Enum):
    ADD = "add"
    AMEND = "amend"
    EDIT = "edit"
    CANCEL = "cancel"
    BATCH_ADD = "batch_add"
    BATCH_CANCEL = "batch_cancel"


# Order-age penalty brackets (upper bound in seconds, exclusive -> points), wire 5.2.
_AGE_PENALTIES: Mapping[KrakenTradeAction, tuple[tuple[float, float], ...]] = {
    KrakenTradeAction.AMEND: ((5, 3), (10, 2), (15, 1)),
    KrakenTradeAction.EDIT: ((5, 6), (10, 5), (15, 4), (45, 2), (90, 1)),
    KrakenTradeAction.CANCEL: ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1)),
}
_FIXED_COST: Mapping[KrakenTradeAction, float] = {
    KrakenTradeAction.ADD: 1,
    KrakenTradeAction.AMEND: 1,
    KrakenTradeAction.EDIT: 1,
    KrakenTradeAction.CANCEL: 0,
}


def age_penalty(action: KrakenTradeAction, order_age_s: float) -> float:
    """Decaying penalty of acting on an order `order_age_s` after its creation or last amend."""
    for upper, points in _AGE_PENALTIES.get(action, ()):
        if order_age_s < upper:
            return points
    return 0


def trade_cost(
    action: KrakenTradeAction, *, order_ages_s: Sequence[float] = (), count: int = 1
) -> float:
    """Points one request adds to the pair's trading counter.

    ADD: 1. AMEND/EDIT/CANCEL: fixed + age penalty of `order_ages_s[0]` (unknown age counts as
    the worst bracket). BATCH_ADD: count/2. BATCH_CANCEL: sum of cancel penalties per order.
    """
    if action is KrakenTradeAction.BATCH_ADD:
        return count / 2
    if action is KrakenTradeAction.BATCH_CANCEL:
        ages = list(order_ages_s) + [0.0] * max(0, count - len(order_ages_s))
        return sum(age_penalty(KrakenTradeAction.CANCEL, a) for a in ages)
    if action is KrakenTradeAction.ADD:
        return _FIXED_COST[action]
    age = order_ages_s[0] if order_ages_s else 0.0
    return _FIXED_COST[action] + age_penalty(action, age)


# Headroom kept for cancels (see the module docstring): the dearest single cancel (an order
# younger than 5 s), one REST-counted CancelAll / CancelAllOrdersAfter.
CANCEL_RESERVE = 8.0
REST_RESERVE = 1.0
# REST-counted writes that cancel (they may use the REST reserve).
REST_CANCEL_METHODS: frozenset[str] = frozenset({"CancelAll", "CancelAllOrdersAfter"})

# Kraken's `ratecount` is an integer: within this of the model it carries no news.
RATECOUNT_RESOLUTION = 1.0


class DecayingCounter:
    """A counter that decays linearly to zero; `level_at(now)` is its modelled value."""

    __slots__ = ("_level", "_t", "decay_per_s", "limit", "name")

    def __init__(self, name: str, limit: float, decay_per_s: float, now: float) -> None:
        if limit <= 0 or decay_per_s <= 0:
            raise ValueError("limit and decay must be positive")
        self.name = name
        self.limit = limit
        self.decay_per_s = decay_per_s
        self._level = 0.0
        self._t = now

    def level_at(self, now: float) -> float:
        return max(0.0, self._level - self.decay_per_s * max(0.0, now - self._t))

    def _settle(self, now: float) -> None:
        self._level = self.level_at(now)
        self._t = max(self._t, now)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` more keeps the counter within its limit (0 if it does now)."""
        excess = self.level_at(now) + cost - self.limit
        return max(0.0, excess / self.decay_per_s)

    def add(self, cost: float, now: float) -> None:
        self._settle(now)
        self._level += cost

    def set_level(self, level: float, now: float) -> None:
        self._settle(now)
        self._level = max(0.0, level)

    def remove(self, cost: float, now: float) -> None:
        """Give back a spend that never reached the venue."""
        self._settle(now)
        self._level = max(0.0, self._level - cost)


@dataclass(frozen=True, slots=True)
class KrakenCounterHeadroom:
    """One counter at one moment. `pair` is set on the per-pair trading counters; `retry_after`
    while the governor refuses a call of cost 1 on this counter (the seconds it would name in
    its RESOURCE_EXHAUSTED; the headroom kept for cancels counts as spent)."""

    name: str
    level: float
    limit: float
    decay_per_s: float
    pair: str | None = None
    retry_after: float | None = None

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.level)


@dataclass(frozen=True, slots=True)
class KrakenRateHeadroom:
    """Snapshot for GetLimits and metrics."""

    tier: KrakenTier
    rest: KrakenCounterHeadroom
    trading: tuple[KrakenCounterHeadroom, ...]  # one per pair seen so far


def _snapshot(
    counter: DecayingCounter,
    now: float,
    max_wait: float,
    pair: str | None = None,
    reserve: float = 0.0,
) -> KrakenCounterHeadroom:
    wait = counter.wait_for(1.0 + min(reserve, counter.limit / 2), now)
    return KrakenCounterHeadroom(
        counter.name,
        counter.level_at(now),
        counter.limit,
        counter.decay_per_s,
        pair,
        wait if wait > max_wait else None,
    )


class KrakenPairCounters:
    """The per-pair trading counters of one Kraken account.

    Kraken keeps this counter per account and pair, shared by REST, WS and FIX and by every key
    of the account, so governors of keys on the same account must share one instance.
    """

    def __init__(
        self,
        threshold: float,
        decay_per_s: float,
        *,
        safety_margin: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.decay_per_s = decay_per_s
        self._margin = safety_margin
        self._clock = clock
        self.counters: dict[str, DecayingCounter] = {}
        self.last_spend: dict[str, float] = {}

    def counter(self, pair: str) -> DecayingCounter:
        counter = self.counters.get(pair)
        if counter is None:
            counter = DecayingCounter(
                f"spot_trading:{pair}",
                self.threshold - self._margin,
                self.decay_per_s,
                self._clock(),
            )
            self.counters[pair] = counter
        return counter

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        for counter in self.counters.values():
            counter.limit = threshold - self._margin


class KrakenRateGovernor:
    """All of one API key's modelled Kraken budgets (the trading counters possibly shared)."""

    def __init__(
        self,
        tier: KrakenTier = KrakenTier.STARTER,
        *,
        trading: KrakenPairCounters | None = None,
        max_wait: float = 2.0,
        cancel_max_wait: float = 60.0,
        heavy_rest_cost: float = 2.0,
        safety_margin: float = 1.0,
        settle_s: float = 2.0,
        cancel_reserve: float = CANCEL_RESERVE,
        rest_reserve: float = REST_RESERVE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.tier = tier
        self._cancel_reserve = cancel_reserve
        self._rest_reserve = rest_reserve
        limits = TIER_LIMITS[tier]
        self._max_wait = max_wait
        self._cancel_max_wait = cancel_max_wait
        self._heavy_rest_cost = heavy_rest_cost
        self._settle_s = settle_s
        self._clock = clock
        self._sleep = sleep
        # Where waits and refusals are reported, under the key's non-secret id (set by the
        # venue's builder; the governor itself does not know its key).
        self.telemetry: Telemetry = NO_TELEMETRY
        self.key_id = ""
        now = clock()
        self._rest = DecayingCounter(
            "spot_rest", limits.rest_max - safety_margin, limits.rest_decay_per_s, now
        )
        self.trading = trading or KrakenPairCounters(
            limits.trade_threshold,
            limits.trade_decay_per_s,
            safety_margin=safety_margin,
            clock=clock,
        )

    def set_max_ratecount(self, max_ratecount: float) -> None:
        """Adopt the tier threshold announced by the executions ack (`maxratecount`)."""
        self.trading.set_threshold(max_ratecount)

    def _pair(self, pair: str) -> DecayingCounter:
        return self.trading.counter(pair)

    async def _spend(
        self,
        counter: DecayingCounter,
        cost: float,
        max_wait: float | None,
        reserve: float = 0.0,
    ) -> None:
        """Reserve `cost` now, then wait until the counter plus `cost` is `reserve` under its
        limit (the headroom kept for cancels; cancels pass 0).

        `max_wait=None` never refuses (waits at most cancel_max_wait, then proceeds anyway).
        """
        now = self._clock()
        wait = counter.wait_for(cost + min(reserve, counter.limit / 2), now)
        budget, _, pair = counter.name.partition(":")
        if max_wait is not None and wait > max_wait:
            self.telemetry.governor_refusal(self.key_id, budget, pair)
            raise ResourceExhausted(
                f"{counter.name} budget spent; retry in {wait:.2f}s",
                ErrorReason.RATE_LIMITED,
                metadata={"counter": counter.name, "limit": f"{counter.limit:g}"},
                retry_after=wait,
            )
        counter.add(cost, now)
        if wait > 0:
            held = wait if max_wait is not None else min(wait, self._cancel_max_wait)
            self.telemetry.governor_wait(self.key_id, budget, pair, held)
            await self._sleep(held)

    async def acquire_rest(self, method: str) -> None:
        """Before a private Spot REST call named like the URL (`OpenOrders`, `Ledgers`)."""
        if method in REST_UNCOUNTED_METHODS:
            return
        reserve = 0.0 if method in REST_CANCEL_METHODS else self._rest_reserve
        await self._spend(self._rest, self._rest_cost(method), self._max_wait, reserve)

    def _rest_cost(self, method: str) -> float:
        if method in REST_UNCOUNTED_METHODS:
            return 0.0
        return self._heavy_rest_cost if method in REST_HEAVY_METHODS else 1.0

    def refund_rest(self, method: str) -> None:
        """The call `acquire_rest(method)` paid for never reached Kraken: give its cost back."""
        cost = self._rest_cost(method)
        if cost:
            self._rest.remove(cost, self._clock())

    def refund_trade(self, pair: str, cost: float) -> None:
        """An order-entry request that `acquire_trade` paid `cost` for never reached Kraken."""
        self._pair(pair).remove(cost, self._clock())

    async def acquire_trade(
        self,
        pair: str,
        action: KrakenTradeAction,
        *,
        order_ages_s: Sequence[float] = (),
        count: int = 1,
    ) -> float:
        """Before an order-entry request on `pair` (REST or WS; the counter is shared).
        Returns the cost spent (for `refund_trade` if the request is never sent)."""
        cost = trade_cost(action, order_ages_s=order_ages_s, count=count)
        now = self._clock()
        counter = self._pair(pair)
        # A reservation that waits for decay reaches Kraken only after its wait: until then (and
        # `settle_s` after) Kraken's figure cannot include it, so no downward correction.
        self._spent_until(pair, now + counter.wait_for(cost, now))
        if action is KrakenTradeAction.BATCH_CANCEL:
            counter.add(cost, now)  # accepted past the maximum (wire 5.2): just count it
            return cost
        if action is KrakenTradeAction.CANCEL:
            await self._spend(counter, cost, None)
        else:
            await self._spend(counter, cost, self._max_wait, self._cancel_reserve)
        self._spent_until(pair, self._clock())
        return cost

    def _spent_until(self, pair: str, when: float) -> None:
        last = self.trading.last_spend
        last[pair] = max(last.get(pair, when), when)

    def observe_ratecounter(self, value: Decimal | float, pair: str | None = None) -> None:
        """Correct the trading model from Kraken's live counter.

        Upward corrections apply when Kraken counts more than we do by over a point: Kraken
        sends the counter as an integer, so a rounding up is not news, and taking it would also
        drop from the model the requests still in flight (Kraken's figure cannot include them),
        letting the next ones overshoot. Downward ones only when nothing was spent on the pair
        within `settle_s`, for the same reason. Without a pair the value is applied to the
        busiest pair.
        """
        now = self._clock()
        observed = float(value)
        if pair is None:
            counters = self.trading.counters
            if not counters:
                return
            pair = max(counters, key=lambda p: counters[p].level_at(now))
        counter = self._pair(pair)
        modelled = counter.level_at(now)
        recent = now - self.trading.last_spend.get(pair, float("-inf")) < self._settle_s
        if observed > modelled + RATECOUNT_RESOLUTION or not recent:
            counter.set_level(observed, now)

    def observe_venue_rate_limited(self, pair: str | None = None) -> None:
        """Kraken said we are over a limit: saturate the model so the next spend waits."""
        now = self._clock()
        counter = self._rest if pair is None else self._pair(pair)
        counter.set_level(counter.limit, now)

    def headroom(self) -> KrakenRateHeadroom:
        now = self._clock()
        wait = self._max_wait
        return KrakenRateHeadroom(
            tier=self.tier,
            rest=_snapshot(self._rest, now, wait, reserve=self._rest_reserve),
            trading=tuple(
                _snapshot(c, now, wait, pair, self._cancel_reserve)
                for pair, c in self.trading.counters.items()
            ),
        )


_MILLI = Decimal("0.001")


def _budget_decimal(value: float) -> Decimal:
    """A modelled (float) counter figure as a Decimal to 3 places, trailing zeros dropped."""
    quantized = Decimal(value).quantize(_MILLI)
    normal = quantized.normalize()
    return normal if int(normal.as_tuple().exponent) <= 0 else quantized.quantize(Decimal(1))


def spot_rate_budgets(
    headroom: KrakenRateHeadroom, venue: str, *, time: datetime | None = None
) -> list[RateBudget]:
    """The Spot budgets of a governor snapshot, venue-neutral: `spot_rest`, then one
    `spot_trading` per pair (symbol = the unified symbol the counter is kept under)."""
    budgets = [_budget("spot_rest", headroom.rest, venue, time)]
    for counter in sorted(headroom.trading, key=lambda c: c.pair or ""):
        budgets.append(_budget("spot_trading", counter, venue, time))
    return budgets


def _budget(
    name: str, counter: KrakenCounterHeadroom, venue: str, time: datetime | None
) -> RateBudget:
    return RateBudget(
        name=name,
        venue=venue,
        symbol=counter.pair,
        limit=_budget_decimal(counter.limit),
        used=_budget_decimal(counter.level),
        decay_per_second=_budget_decimal(counter.decay_per_s),
        retry_after_s=counter.retry_after,
        time=time,
    )
