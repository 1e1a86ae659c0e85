"""The futures cost budget (wire 8.6): costs per endpoint and the leaky bucket."""

from __future__ import annotations

from simulator.futures.limits import (
    derivatives_budget,
    derivatives_cost,
    history_budget,
    history_cost,
)


def test_costs_follow_the_published_table() -> None:
    assert derivatives_cost("POST", "sendorder", {}, 0) == 10
    assert derivatives_cost("POST", "batchorder", {}, 7) == 16
    assert derivatives_cost("GET", "fills", {}, 0) == 2
    assert derivatives_cost("GET", "fills", {"lastFillTime": "x"}, 0) == 25
    assert derivatives_cost("POST", "cancelallordersafter", {}, 0) == 25
    assert derivatives_cost("GET", "orders/status", {}, 0) == 1
    assert history_cost("account-log", {"count": "26"}) == 2
    assert history_cost("account-log", {}) == 3  # default count 500
    assert history_cost("accountlogcsv", {}) == 6


def test_budget_refuses_without_spending_and_drains_over_time() -> None:
    budget = derivatives_budget()
    assert all(budget.spend("k", 10, 100.0) for _ in range(50))
    assert not budget.spend("k", 10, 100.0)
    assert budget.level("k", 100.0) == 500
    assert budget.spend("other", 10, 100.0)  # per key
    assert budget.spend("k", 10, 100.2)  # 0.2 s drained 10 units
    assert not budget.spend("k", 1, 100.2)


def test_history_pool_refills_slowly() -> None:
    pool = history_budget()
    assert all(pool.spend("k", 1, 0.0) for _ in range(100))
    assert not pool.spend("k", 1, 5.0)
    assert pool.spend("k", 1, 6.0)  # 100 per 600 s = one token per 6 s
