"""When stop, take-profit and trailing orders fire, and how trailing triggers follow the market.

Stop-loss (and trailing) sells fire when the reference falls to the trigger, buys when it rises
to it; take-profit is the mirror image. A trailing order remembers the best reference seen since
it was placed (highest for sells, lowest for buys) and keeps its trigger `offset` away from it.
"""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.model import Order, OrderType, Side
from simulator.engine.pairs import KrakenPair
from simulator.engine.parsing import HUNDRED, round_to_tick

_TAKE_PROFIT = (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)


def fires(order: Order, reference: Decimal) -> bool:
    """True when `reference` has reached the order's trigger price."""
    trigger = order.price
    if trigger is None:
        return False
    rising = (order.side is Side.BUY) != (order.ordertype in _TAKE_PROFIT)
    return reference >= trigger if rising else reference <= trigger


def trail(order: Order, reference: Decimal, pair: KrakenPair) -> bool:
    """Move a trailing order's peak and trigger with `reference`; True if the trigger moved."""
    if order.trailing_offset is None:
        return False
    peak = order.peak_price
    if peak is None or (reference > peak if order.side is Side.SELL else reference < peak):
        order.peak_price = peak = reference
    distance = (
        peak * order.trailing_offset / HUNDRED if order.trailing_pct else order.trailing_offset
    )
    sign = -1 if order.side is Side.SELL else 1
    trigger = round_to_tick(peak + sign * distance, pair)
    if trigger <= 0:
        trigger = pair.tick_size
    if trigger == order.price:
        return False
    order.price = trigger
    return True


def limit_after_trigger(order: Order, pair: KrakenPair) -> Decimal | None:
    """Trailing-stop-limit: the limit is the trigger price plus/minus the `price2` offset."""
    if order.ordertype is not OrderType.TRAILING_STOP_LIMIT:
        return order.price2
    assert order.price is not None and order.limit_offset is not None
    offset = order.limit_offset
    if order.limit_offset_pct:
        offset = order.price * offset / HUNDRED
    price = round_to_tick(order.price + offset, pair)
    return price if price > 0 else pair.tick_size
