"""What the futures engine tells the futures front ends (WS v1 feeds), in order, synchronously.

Listeners are called inside the engine call that caused the change, like the spot engine's
event stream; they must not call back into the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.futures_orders import KrakenFuturesFill, KrakenFuturesOrder
from simulator.engine.model import Side


@dataclass(frozen=True, slots=True)
class KrakenFuturesBookEvent:
    """One price level changed; `seq` is contiguous per product (qty 0 = level removed)."""

    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class KrakenFuturesTradeEvent:
    """A public trade print; `side` is the taker's side."""

    symbol: str
    uid: str
    side: Side
    price: Decimal
    qty: Decimal
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class KrakenFuturesFillEvent:
    account_id: str
    fill: KrakenFuturesFill


@dataclass(frozen=True, slots=True)
class KrakenFuturesOrderUpdate:
    """An open_orders change: placed/edited/triggered (`is_cancel` False) or gone (True).

    `reason` uses the WS v1 spellings: new_placed_order_by_user, edited_by_user,
    cancelled_by_user, full_fill, partial_fill, post_order_failed_because_it_would_filled,
    stop_order_triggered, ...
    """

    account_id: str
    order: KrakenFuturesOrder
    is_cancel: bool
    reason: str


@dataclass(frozen=True, slots=True)
class KrakenFuturesAccountChanged:
    """Balances, margin or positions of an account changed (fill, transfer, mark move)."""

    account_id: str


@dataclass(frozen=True, slots=True)
class KrakenFuturesPriceEvent:
    """Index/mark/last or top of book of `symbol` moved (ticker feed)."""

    symbol: str


KrakenFuturesEvent = (
    KrakenFuturesBookEvent
    | KrakenFuturesTradeEvent
    | KrakenFuturesFillEvent
    | KrakenFuturesOrderUpdate
    | KrakenFuturesAccountChanged
    | KrakenFuturesPriceEvent
)
KrakenFuturesListener = Callable[[KrakenFuturesEvent], None]
