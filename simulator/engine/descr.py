"""Kraken's human-readable order text (`descr.order`, `descr.close`)."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.model import CloseParams, Order, OrderType
from simulator.engine.pairs import KrakenPair

_WORDS = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.ICEBERG: "iceberg",
    OrderType.STOP_LOSS: "stop loss",
    OrderType.TAKE_PROFIT: "take profit",
    OrderType.STOP_LOSS_LIMIT: "stop loss",
    OrderType.TAKE_PROFIT_LIMIT: "take profit",
    OrderType.TRAILING_STOP: "trailing stop",
    OrderType.TRAILING_STOP_LIMIT: "trailing stop",
}


def fmt_price(price: Decimal, pair: KrakenPair) -> str:
    return f"{price:.{pair.pair_decimals}f}"


def fmt_volume(volume: Decimal, pair: KrakenPair) -> str:
    return f"{volume:.{pair.lot_decimals}f}"


def _price_part(
    ordertype: OrderType,
    price: str,
    price2: str,
) -> str:
    words = _WORDS[ordertype]
    if ordertype is OrderType.MARKET:
        return words
    if ordertype.has_limit_after_trigger:
        return f"{words} {price} -> limit {price2}"
    return f"{words} {price}"


def order_text(order: Order, pair: KrakenPair) -> str:
    """E.g. `buy 1.25000000 XBTUSD @ limit 27500.0` or `sell 1.00000000 ETHUSD @ market`."""
    price = order.price_text or (fmt_price(order.price, pair) if order.price is not None else "")
    price2 = order.price2_text or (
        fmt_price(order.price2, pair) if order.price2 is not None else ""
    )
    volume = order.quote_volume if order.quote_volume is not None else order.volume
    text = f"{order.side} {fmt_volume(volume, pair)} {pair.altname} @ "
    text += _price_part(order.ordertype, price, price2)
    if order.leverage and order.leverage != "none":
        text += f" with {order.leverage}:1 leverage"
    return text


def close_text(close: CloseParams | None) -> str:
    """`descr.close`: e.g. `close position @ stop loss 22000.0 -> limit 21000.0`, else ``."""
    if close is None:
        return ""
    return "close position @ " + _price_part(close.ordertype, close.price or "", close.price2 or "")
