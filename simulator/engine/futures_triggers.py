"""When stp, take_profit and trailing_stop orders fire, and at what limit (pure functions).

stp fires when the signal reaches the stop price moving against the position it protects
(buy: at or above, sell: at or below); take_profit the other way round. A trailing_stop follows
the best signal price seen since placement (the peak) at a fixed distance and fires when the
signal falls back to that distance.
"""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.futures_orders import (
    KrakenDeviationUnit,
    KrakenFuturesOrder,
    KrakenFuturesOrderType,
)
from simulator.engine.model import Side


def trigger_side(order: KrakenFuturesOrder) -> str:
    """`triggerSide` of the wire: trigger_above or trigger_below."""
    above = (order.side is Side.BUY) == (order.order_type is not KrakenFuturesOrderType.TAKE_PROFIT)
    return "trigger_above" if above else "trigger_below"


def _offset(reference: Decimal, amount: Decimal, unit: KrakenDeviationUnit | None) -> Decimal:
    return reference * amount / 100 if unit is KrakenDeviationUnit.PERCENT else amount


def trailing_trigger_price(order: KrakenFuturesOrder) -> Decimal | None:
    """Current trigger price of a trailing stop (None before any signal was seen)."""
    if order.peak_price is None or order.trailing_deviation is None:
        return None
    distance = _offset(order.peak_price, order.trailing_deviation, order.trailing_unit)
    return order.peak_price + distance if order.side is Side.BUY else order.peak_price - distance


def update_peak(order: KrakenFuturesOrder, signal: Decimal) -> None:
    """Trailing stops remember the lowest (buy) or highest (sell) signal seen."""
    if order.peak_price is None:
        order.peak_price = signal
    elif order.side is Side.BUY:
        order.peak_price = min(order.peak_price, signal)
    else:
        order.peak_price = max(order.peak_price, signal)


def should_fire(order: KrakenFuturesOrder, signal: Decimal) -> bool:
    if order.order_type is KrakenFuturesOrderType.TRAILING_STOP:
        update_peak(order, signal)
        level = trailing_trigger_price(order)
    else:
        level = order.stop_price
    if level is None:
        return False
    if trigger_side(order) == "trigger_above":
        return signal >= level
    return signal <= level


def limit_after_trigger(order: KrakenFuturesOrder, trigger_price: Decimal) -> Decimal | None:
    """The limit of the order a trigger turns into; None = market (with price protection)."""
    if order.limit_offset is not None:
        offset = _offset(trigger_price, order.limit_offset, order.limit_offset_unit)
        return trigger_price + offset if order.side is Side.BUY else trigger_price - offset
    return order.limit_price
