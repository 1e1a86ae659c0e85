"""Kraken Futures rate limits (wire 8.6): the `/derivatives` cost budget and the `/history` pool.

Both are modelled as leaky buckets per API key: `/derivatives` holds 500 cost units and drains
500 per 10 s; `/history` holds 100 tokens and refills 100 per 10 min. A request that does not
fit is refused with `apiLimitExceeded` and spends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.futures.params import parse_count

DERIVATIVES_BUDGET = 500.0
DERIVATIVES_WINDOW_S = 10.0
HISTORY_POOL = 100.0
HISTORY_REFILL_S = 600.0

# Cost per (method, endpoint); endpoints not listed cost 0 (public) or DEFAULT_PRIVATE_COST.
DERIVATIVES_COSTS: dict[tuple[str, str], int] = {
    ("POST", "sendorder"): 10,
    ("POST", "editorder"): 10,
    ("POST", "cancelorder"): 10,
    ("POST", "cancelallorders"): 25,
    ("POST", "cancelallordersafter"): 25,
    ("POST", "withdrawal"): 100,
    ("POST", "transfer"): 10,
    ("POST", "transfer/subaccount"): 10,
    ("GET", "accounts"): 2,
    ("GET", "openpositions"): 2,
    ("GET", "openorders"): 2,
    ("GET", "fills"): 2,
    ("GET", "orders/status"): 1,
    ("POST", "orders/status"): 1,
    ("GET", "unwindqueue"): 200,
    ("GET", "leveragepreferences"): 2,
    ("PUT", "leveragepreferences"): 10,
    ("GET", "pnlpreferences"): 2,
    ("PUT", "pnlpreferences"): 10,
    ("GET", "self-trade-strategy"): 2,
    ("PUT", "self-trade-strategy"): 2,
}
DEFAULT_PRIVATE_COST = 2
FILLS_WITH_LAST_FILL_TIME_COST = 25
BATCH_BASE_COST = 9
HISTORY_COSTS = {"orders": 1, "triggers": 1, "executions": 1, "accountlogcsv": 6}


def derivatives_cost(method: str, endpoint: str, params: dict[str, str], batch_size: int) -> int:
    """Cost of one private `/derivatives` call (wire 8.6)."""
    if endpoint == "batchorder":
        return BATCH_BASE_COST + batch_size
    if endpoint == "fills" and "lastFillTime" in params:
        return FILLS_WITH_LAST_FILL_TIME_COST
    if endpoint.startswith("subaccount/") and endpoint.endswith("/trading-enabled"):
        return 2
    return DERIVATIVES_COSTS.get((method, endpoint), DEFAULT_PRIVATE_COST)


def history_cost(endpoint: str, params: dict[str, str]) -> int:
    if endpoint == "account-log":
        count = parse_count(params.get("count"), 500) or 500  # unreadable: the default count
        for bound, cost in ((25, 1), (50, 2), (1000, 3), (5000, 6)):
            if count <= bound:
                return cost
        return 10
    return HISTORY_COSTS.get(endpoint, 1)


@dataclass
class _Bucket:
    level: float = 0.0
    at: float = 0.0


@dataclass
class KrakenFuturesBudget:
    """One leaky bucket per key: `capacity` units, draining `capacity` per `window_s`."""

    capacity: float
    window_s: float
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def level(self, api_key: str, now: float) -> float:
        bucket = self._buckets.get(api_key)
        if bucket is None:
            return 0.0
        drained = (now - bucket.at) * self.capacity / self.window_s
        return max(0.0, bucket.level - drained)

    def spend(self, api_key: str, cost: float, now: float) -> bool:
        """Spend `cost` if it fits; False (and nothing spent) when the budget is exceeded."""
        current = self.level(api_key, now)
        if current + cost > self.capacity:
            return False
        self._buckets[api_key] = _Bucket(current + cost, now)
        return True


def derivatives_budget() -> KrakenFuturesBudget:
    return KrakenFuturesBudget(DERIVATIVES_BUDGET, DERIVATIVES_WINDOW_S)


def history_budget() -> KrakenFuturesBudget:
    return KrakenFuturesBudget(HISTORY_POOL, HISTORY_REFILL_S)
