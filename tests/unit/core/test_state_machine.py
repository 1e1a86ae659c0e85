"""The transition table and the pure fill arithmetic of orders.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import IllegalTransition
from gateway.core.events import OrderFilled
from gateway.core.model import TERMINAL_STATUSES, ExecType, Fee, OrdStatus
from gateway.core.orders import (
    TRANSITIONS,
    apply_fill,
    check_transition,
    make_report,
    new_order,
    transition,
)
from tests.support.venue_double import default_instruments
from tests.unit.core.conftest import limit

D = Decimal
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BTC = default_instruments("double")[0]


def test_terminal_states_have_no_exit() -> None:
    for status in TERMINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
        for target in OrdStatus:
            with pytest.raises(IllegalTransition):
                check_transition(status, target)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (OrdStatus.NEW, OrdStatus.REJECTED),
        (OrdStatus.NEW, OrdStatus.PENDING_NEW),
        (OrdStatus.PARTIALLY_FILLED, OrdStatus.NEW),
        (OrdStatus.PENDING_CANCEL, OrdStatus.PENDING_REPLACE),
        (OrdStatus.NEW, OrdStatus.REPLACED),
    ],
)
def test_illegal_transitions_raise(old: OrdStatus, new: OrdStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(old, new)


def test_transition_bumps_version_and_gives_unique_exec_ids() -> None:
    order = new_order(account="a", session_id="s", request=limit(), instrument=BTC, now=NOW)
    moved = transition(order, OrdStatus.NEW, NOW)
    assert moved.version == order.version + 1
    ids = {make_report(o, ExecType.NEW, NOW).exec_id for o in (order, moved)}
    assert len(ids) == 2
    with pytest.raises(IllegalTransition):
        transition(transition(moved, OrdStatus.CANCELED, NOW), OrdStatus.NEW, NOW)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=8),  # trade id, repeats likely
            st.decimals(min_value=D("0.01"), max_value=D("0.5"), places=2),
            st.decimals(min_value=D("90"), max_value=D("110"), places=1),
        ),
        max_size=20,
    )
)
def test_fill_merge_by_trade_id(fills: list[tuple[int, Decimal, Decimal]]) -> None:
    order = transition(
        new_order(account="a", session_id="s", request=limit(qty=D(2)), instrument=BTC, now=NOW),
        OrdStatus.NEW,
        NOW,
    )
    first_seen: dict[int, tuple[Decimal, Decimal]] = {}
    for trade_id, qty, px in fills:
        result = apply_fill(
            order, OrderFilled(trade_id=str(trade_id), qty=qty, price=px, client_order_id="c1"), NOW
        )
        if trade_id in first_seen:
            assert result is None
            continue
        assert result is not None
        first_seen[trade_id] = (qty, px)
        order, exec_type = result
        assert exec_type is (ExecType.FILL if order.cum_qty >= order.qty else ExecType.PARTIAL_FILL)
    cum = sum((q for q, _ in first_seen.values()), D(0))
    assert order.cum_qty == cum
    assert order.leaves_qty == (max(D(2) - cum, D(0)) if order.is_open else D(0))
    if cum:
        notional = sum((q * p for q, p in first_seen.values()), D(0))
        assert abs(order.avg_px - notional / cum) < D("1e-20")
        assert order.status in (OrdStatus.PARTIALLY_FILLED, OrdStatus.FILLED)


def test_fees_are_totalled_per_asset() -> None:
    order = transition(
        new_order(account="a", session_id="s", request=limit(qty=D(3)), instrument=BTC, now=NOW),
        OrdStatus.NEW,
        NOW,
    )
    for n, (asset, amount) in enumerate([("USD", "0.1"), ("USD", "0.2"), ("BTC", "0.001")]):
        fee = Fee(asset=asset, amount=D(amount))
        event = OrderFilled(trade_id=str(n), qty=D(1), price=D(100), fee=fee, client_order_id="c1")
        merged = apply_fill(order, event, NOW)
        assert merged is not None
        order = merged[0]
    assert order.fees == (Fee(asset="USD", amount=D("0.3")), Fee(asset="BTC", amount=D("0.001")))
