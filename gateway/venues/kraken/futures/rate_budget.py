"""The Kraken Futures rate governor: the key's `/derivatives` cost budget and `/history` pool
(wire 8.6), modelled as leaky buckets and spent before each call.

`/derivatives`: 500 cost units draining 500 per 10 s; `/history`: 100 tokens refilling 100 per
10 minutes. A call whose cost does not fit waits for the bucket to drain when the wait is short
(`max_wait_s`), and is refused with `ResourceExhausted(RATE_LIMITED, retry_after)` otherwise,
so the gateway never provokes Kraken's `apiLimitExceeded`. When Kraken says it anyway (another
client on the key), the model is set full.

Headroom for cancels: every other `/derivatives` call leaves `cancel_reserve` (one cancel-all,
25 units) unspent, and cancels (`cancel=True`) are never refused: they use the reserve, wait for
room at most `cancel_max_wait_s`, then go anyway. A cancel never waits behind new orders.

Kraken counts a call when it arrives, the model when it is spent: a call in flight would drain in
the model before Kraken has even counted it, so the next calls could overshoot. `spending` holds
a call's cost from the spend until its answer (`landed` puts back what drained meanwhile, as if
Kraken had counted it at the last moment it could have).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason, ResourceExhausted
from gateway.core.model import RateBudget

DERIVATIVES_BUDGET = 500.0
DERIVATIVES_WINDOW_S = 10.0
HISTORY_POOL = 100.0
HISTORY_REFILL_S = 600.0
DEFAULT_MAX_WAIT_S = 2.0
CANCEL_RESERVE = 25.0  # a cancelallorders / cancelallordersafter
CANCEL_MAX_WAIT_S = 10.0
# The /derivatives calls that cancel (a batchorder of cancels says so itself).
CANCEL_ENDPOINTS = frozenset({"cancelorder", "cancelallorders", "cancelallordersafter"})

# Cost per (method, endpoint) on /derivatives/api/v3 (wire 8.6); unlisted private calls cost 2.
DERIVATIVES_COSTS: Mapping[tuple[str, str], int] = {
    ("POST", "sendorder"): 10,
    ("POST", "editorder"): 10,
    ("POST", "cancelorder"): 10,
    ("POST", "cancelallorders"): 25,
    ("POST", "cancelallordersafter"): 25,
    ("POST", "transfer"): 10,
    ("POST", "transfer/subaccount"): 10,
    ("POST", "withdrawaltospotwallet"): 100,
    ("GET", "unwindqueue"): 200,
    ("GET", "accounts"): 2,
    ("GET", "openpositions"): 2,
    ("GET", "openorders"): 2,
    ("GET", "fills"): 2,
    ("GET", "orders/status"): 1,
    ("POST", "orders/status"): 1,
    ("GET", "leveragepreferences"): 2,
    ("PUT", "leveragepreferences"): 10,
}
DEFAULT_PRIVATE_COST = 2
FILLS_SINCE_COST = 25
BATCH_BASE_COST = 9
HISTORY_COSTS: Mapping[str, int] = {"orders": 1, "triggers": 1, "executions": 1}


def derivatives_cost(
    method: str, endpoint: str, *, batch_size: int = 0, with_last_fill_time: bool = False
) -> int:
    if endpoint == "batchorder":
        return BATCH_BASE_COST + batch_size
    if endpoint == "fills" and with_last_fill_time:
        return FILLS_SINCE_COST
    return DERIVATIVES_COSTS.get((method, endpoint), DEFAULT_PRIVATE_COST)


@dataclass(slots=True)
class _Bucket:
    name: str
    capacity: float
    drain_per_s: float
    level: float = 0.0
    at: float = 0.0

    def now_level(self, now: float) -> float:
        return max(0.0, self.level - (now - self.at) * self.drain_per_s)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` fits (0 = now)."""
        over = self.now_level(now) + cost - self.capacity
        return max(0.0, over / self.drain_per_s)

    def spend(self, cost: float, now: float) -> None:
        self.level, self.at = self.now_level(now) + cost, now


def _d(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))


class KrakenFuturesRateGovernor:
    """Both Futures budgets of one key."""

    def __init__(
        self,
        *,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        derivatives_budget: float = DERIVATIVES_BUDGET,
        cancel_reserve: float = CANCEL_RESERVE,
        cancel_max_wait_s: float = CANCEL_MAX_WAIT_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait_s
        self._cancel_reserve = cancel_reserve
        self._cancel_max_wait = cancel_max_wait_s
        self.derivatives = _Bucket(
            "futures_derivatives", derivatives_budget, derivatives_budget / DERIVATIVES_WINDOW_S
        )
        self.history = _Bucket("futures_history", HISTORY_POOL, HISTORY_POOL / HISTORY_REFILL_S)

    @asynccontextmanager
    async def spending(
        self, cost: int, *, history: bool = False, cancel: bool = False
    ) -> AsyncIterator[None]:
        """`acquire(cost)` before the call, `landed` after it (answered or not)."""
        await self.acquire(cost, history=history, cancel=cancel)
        since = self._clock()
        try:
            yield
        finally:
            self.landed(cost, since, history=history)

    def landed(self, cost: int, since: float, *, history: bool = False) -> None:
        """A call spent at `since` is answered: Kraken may have counted it only now, so what the
        model drained of it meanwhile goes back (never more than the cost itself)."""
        bucket = self.history if history else self.derivatives
        now = self._clock()
        back = min(float(cost), max(0.0, now - since) * bucket.drain_per_s)
        bucket.level, bucket.at = bucket.now_level(now) + back, now

    async def acquire(self, cost: int, *, history: bool = False, cancel: bool = False) -> None:
        """Spend `cost` from the pool, waiting while the wait is short; else refuse. Other calls
        leave the cancel reserve; a cancel uses it and is never refused."""
        bucket = self.history if history else self.derivatives
        if cost > bucket.capacity:
            raise ValueError(f"cost {cost} exceeds the {bucket.name} budget")
        reserve = 0.0 if history or cancel else min(self._cancel_reserve, bucket.capacity / 2)
        give_up_at = self._clock() + self._cancel_max_wait
        while True:
            now = self._clock()
            wait = bucket.wait_for(cost + reserve, now)
            if wait == 0.0 or (cancel and now >= give_up_at):
                bucket.spend(cost, now)
                return
            if cancel:
                await self._sleep(min(wait, give_up_at - now))
                continue
            if wait > self._max_wait:
                raise ResourceExhausted(
                    f"Kraken Futures {bucket.name} budget spent; retry in {wait:.1f}s",
                    ErrorReason.RATE_LIMITED,
                    metadata={"budget": bucket.name},
                    retry_after=wait,
                )
            await self._sleep(wait)  # the bucket drains with time; re-check then

    def observe_venue_rate_limited(self, *, history: bool = False) -> None:
        """Kraken said apiLimitExceeded: someone else spends on this key; assume it full."""
        bucket = self.history if history else self.derivatives
        now = self._clock()
        bucket.level, bucket.at = bucket.capacity, now

    def rate_budgets(self, venue: str, *, time: datetime | None = None) -> Sequence[RateBudget]:
        now = self._clock()
        out = []
        for bucket in (self.derivatives, self.history):
            wait = bucket.wait_for(1.0, now)
            out.append(
                RateBudget(
                    name=bucket.name,
                    venue=venue,
                    limit=_d(bucket.capacity),
                    used=_d(bucket.now_level(now)),
                    decay_per_second=_d(bucket.drain_per_s),
                    retry_after_s=wait if wait > 0 else None,
                    time=time,
                )
            )
        return out
