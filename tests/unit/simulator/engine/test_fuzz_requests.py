"""Arbitrary wire text in AddOrder/AmendOrder/EditOrder fields: KrakenError or success, no crash."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import (
    KrakenError,
    ManualClock,
    OrderParams,
    OrderType,
    Side,
    SpotEngine,
    StpType,
    TimeInForce,
    TriggerRef,
)
from tests.unit.simulator.engine.random_flow import RandomFlow, check_invariants

VALID = ["0.01", "1", "100", "100000.0", "3500.00", "0.03500", "0.1500000", "1.00000", "+10"]
NUMBERISH = st.one_of(
    st.sampled_from([*VALID, "-1%", "#0.5%", "0", "-1", "1e3", "NaN", "inf", "+", "%", "", " 1 "]),
    st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=9).map(str),
    st.text(max_size=8),
)
LIKELY_VALID = st.one_of(st.sampled_from(VALID), NUMBERISH)
PAIRS = st.sampled_from(["XBTUSD", "XETHZUSD", "ETH/BTC", "DOGE/USD", "USDTUSD", "XBTUSDT", "NOPE"])


def mostly(valid: list[Any], invalid: str) -> st.SearchStrategy[Any]:
    """A valid choice most of the time, the invalid spelling about one time in ten."""
    return st.sampled_from([*valid * 3, invalid])


@st.composite
def order_params(draw: st.DrawFn) -> OrderParams:
    return OrderParams(
        pair=draw(PAIRS),
        side=draw(mostly(list(Side), "sideways")),
        ordertype=draw(mostly(list(OrderType), "settle-position")),
        volume=draw(LIKELY_VALID),
        price=draw(st.none() | LIKELY_VALID),
        price2=draw(st.none() | LIKELY_VALID),
        displayvol=draw(st.none() | NUMBERISH),
        trigger=draw(mostly(list(TriggerRef), "mark")),
        oflags=frozenset(
            draw(st.sets(st.sampled_from(["post", "fcib", "fciq", "viqc", "x"]), max_size=2))
        ),
        timeinforce=draw(mostly([*TimeInForce, "gtd"], "day")),
        starttm=draw(st.none() | NUMBERISH),
        expiretm=draw(st.none() | NUMBERISH),
        userref=draw(st.none() | st.integers(min_value=-(2**32), max_value=2**32)),
        cl_ord_id=draw(st.none() | st.none() | st.text(max_size=40)),
        stptype=draw(mostly(list(StpType), "none")),
        reduce_only=draw(mostly([False], "yes")) == "yes",
        validate=draw(st.booleans()),
    )


def make_flow() -> RandomFlow:
    clock = ManualClock(Decimal("1700000000"))
    return RandomFlow(SpotEngine(seed=1, clock=clock), clock, 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(order_params(), min_size=1, max_size=6), NUMBERISH, NUMBERISH)
def test_random_wire_values_never_crash_the_engine(
    requests: list[OrderParams], qty: str, price: str
) -> None:
    flow = make_flow()
    engine = flow.engine
    for params in requests:
        try:
            engine.add_order("U1", params)
        except KrakenError as err:
            assert err.code.startswith(("EGeneral:", "EOrder:", "EQuery:"))
    for order in engine.open_orders("U1"):
        with suppress(KrakenError):
            engine.amend_order("U1", txid=order.txid, order_qty=qty, limit_price=price)
        with suppress(KrakenError):
            engine.edit_order("U1", order.txid, order.pair, volume=qty, price=price)
    flow.clock.advance(100)
    engine.tick()
    check_invariants(flow)
