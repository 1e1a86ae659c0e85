"""Linear and inverse perpetual arithmetic: notional, PnL, average entry, flips, margin tiers."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.futures_instruments import KrakenFuturesInstrument, find_instrument
from simulator.engine.futures_margin import (
    apply_fill,
    initial_margin,
    notional,
    trade_fee,
    unrealised_pnl,
)

D = Decimal


def instrument(symbol: str) -> KrakenFuturesInstrument:
    found = find_instrument(symbol)
    assert found is not None
    return found


PI = instrument("pi_xbtusd")  # symbols are case-insensitive
PF = instrument("PF_XBTUSD")


def test_notional_and_pnl_linear_vs_inverse() -> None:
    assert notional(PF, D("2"), D(50000)) == D(100000)  # USD
    assert notional(PI, D(10000), D(50000)) == D("0.2")  # XBT
    assert unrealised_pnl(PF, D("-2"), D(50000), D(49000)) == D(2000)
    # long 10000 USD of XBT from 50000 to 40000: 10000/50000 - 10000/40000 = -0.05 XBT
    assert unrealised_pnl(PI, D(10000), D(50000), D(40000)) == D("-0.05")


def test_inverse_average_entry_is_harmonic() -> None:
    change = apply_fill(PI, D(10000), D(40000), D(10000), D(60000))
    assert change.size == D(20000)
    assert change.entry_price == D(48000)  # 20000 / (10000/40000 + 10000/60000)
    assert change.realised_pnl == 0
    linear = apply_fill(PF, D(1), D(40000), D(1), D(60000))
    assert linear.entry_price == D(50000)


def test_reduce_keeps_entry_and_flip_reopens_at_fill_price() -> None:
    reduced = apply_fill(PF, D(2), D(50000), D(-1), D(51000))
    assert (reduced.size, reduced.entry_price, reduced.realised_pnl) == (D(1), D(50000), D(1000))
    flipped = apply_fill(PF, D(1), D(50000), D(-3), D(49000))
    assert (flipped.size, flipped.entry_price, flipped.realised_pnl) == (D(-2), D(49000), D(-1000))
    closed = apply_fill(PI, D(-5000), D(50000), D(5000), D(50000))
    assert (closed.size, closed.realised_pnl) == (D(0), D(0))


def test_margin_tiers_and_fees() -> None:
    assert initial_margin(PF, D(1), D(100000)) == D(2000)  # 2% below 2M USD notional
    assert initial_margin(PF, D(30), D(100000)) == D(120000)  # 4% from 2M on
    assert initial_margin(PI, D(100000), D(50000)) == D("0.04")  # 2 XBT notional at 2%
    assert trade_fee(PF, D(1), D(100000), maker=True) == D(20)
    assert trade_fee(PI, D(10000), D(50000), maker=False) == D("0.0001")
