"""Rate counters of wire 5: REST call counter, per-pair trading counter with order-age penalties."""

from __future__ import annotations

import pytest

from simulator.accounts import KrakenTier
from simulator.engine.errors import KrakenError
from simulator.spot.limits import (
    KrakenLimits,
    amend_order_cost,
    batch_add_cost,
    batch_cancel_cost,
    cancel_order_cost,
    edit_order_cost,
)


@pytest.mark.parametrize(
    ("tier", "burst"),
    [(KrakenTier.STARTER, 15), (KrakenTier.INTERMEDIATE, 20), (KrakenTier.PRO, 20)],
)
def test_rest_counter_threshold_per_tier(tier: KrakenTier, burst: int) -> None:
    limits = KrakenLimits()
    for _ in range(burst):
        limits.spend_rest("k", tier, "Balance", 0)
    with pytest.raises(KrakenError, match="EAPI:Rate limit exceeded"):
        limits.spend_rest("k", tier, "Balance", 0)


def test_rest_counter_decays_and_history_costs_two() -> None:
    limits = KrakenLimits()
    for _ in range(10):
        limits.spend_rest("k", KrakenTier.PRO, "Ledgers", 0)  # 10 x 2 = 20
    assert limits.rest_counter("k", 0) == 20
    assert limits.rest_counter("k", 5) == 15  # pro decays 1/s
    limits.spend_rest("k", KrakenTier.PRO, "AddOrder", 0)  # order entry is free here
    assert limits.rest_counter("k", 5) == 15


def test_trading_counter_docs_example() -> None:
    # wire 5.2: add (+1) -> amend after 7 s (+1 +2) -> cancel 36 s after the amend (+4) = 8.
    assert amend_order_cost(7) == 3
    assert cancel_order_cost(36) == 4
    assert 1 + amend_order_cost(7) + cancel_order_cost(36) == 8


@pytest.mark.parametrize(
    ("age", "amend", "edit", "cancel"),
    [
        (0, 4, 7, 8),
        (5, 3, 6, 6),
        (10, 2, 5, 5),
        (15, 1, 3, 4),
        (45, 1, 2, 2),
        (90, 1, 1, 1),
        (299.9, 1, 1, 1),
        (300, 1, 1, 0),
    ],
)
def test_age_penalty_columns(age: float, amend: float, edit: float, cancel: float) -> None:
    assert (amend_order_cost(age), edit_order_cost(age), cancel_order_cost(age)) == (
        amend,
        edit,
        cancel,
    )


def test_batch_costs() -> None:
    assert batch_add_cost(15) == 7.5
    assert batch_cancel_cost([0, 0, 400]) == 16


def test_trading_threshold_and_decay() -> None:
    limits = KrakenLimits()
    tier = KrakenTier.INTERMEDIATE  # threshold 125, decay 2.34/s
    for _ in range(125):
        limits.spend_trading("acct", "XXBTZUSD", tier, 1, 0)
    with pytest.raises(KrakenError, match="EOrder:Rate limit exceeded"):
        limits.spend_trading("acct", "XXBTZUSD", tier, 1, 0)
    limits.spend_trading("acct", "XETHZUSD", tier, 1, 0)  # other pairs are separate
    limits.spend_trading("acct", "XXBTZUSD", tier, 8, 0, force=True)  # batch cancel passes
    assert limits.trading_counter("acct", "XXBTZUSD", 10) == pytest.approx(133 - 23.4)


def test_docs_decay_example() -> None:
    limits = KrakenLimits()
    for _ in range(50):
        limits.spend_trading("a", "P", KrakenTier.INTERMEDIATE, 1, 0)
    assert limits.trading_counter("a", "P", 10) == pytest.approx(26.6)


def test_open_orders_limit() -> None:
    limits = KrakenLimits()
    limits.check_open_orders(KrakenTier.STARTER, 59)
    with pytest.raises(KrakenError, match="EOrder:Orders limit exceeded"):
        limits.check_open_orders(KrakenTier.STARTER, 60)
