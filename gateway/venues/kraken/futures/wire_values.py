"""Kraken Futures wire values -> core enums: explicit tables, exact (case-sensitive) lookups.

Kraken Futures spells its states in camelCase (`partiallyFilled`) and upper snake case
(`FULLY_EXECUTED`); a value missing from a table raises `KrakenParseError`, because guessing an
order's state is how fills get lost. The scalar decoders (decimals, RFC3339) are the common ones
(`common/wire_scalars.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from gateway.core.model import Liquidity, OrdStatus, Side, TriggerReference
from gateway.venues.kraken.common.wire_scalars import KrakenParseError, dec, parse_rfc3339

VENUE = "krakenfutures"

T = TypeVar("T")


def exact(table: Mapping[str, T], value: object, what: str) -> T:
    """`table[value]`, or KrakenParseError naming what was unknown."""
    try:
        return table[str(value)]
    except KeyError:
        raise KrakenParseError(f"unknown Kraken Futures {what}: {value!r}") from None


def parse_ms(value: object) -> datetime | None:
    """WS v1 times are unix milliseconds."""
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(dec(value, "time")) / 1000, tz=UTC)


def parse_time(value: object) -> datetime | None:
    """REST times are RFC3339 strings; WS ones unix milliseconds."""
    if isinstance(value, str) and not value.isdigit():
        return parse_rfc3339(value)
    return parse_ms(value)


SIDES: Mapping[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}
# WS open_orders `direction`
DIRECTIONS: Mapping[str, Side] = {"0": Side.BUY, "1": Side.SELL}
POSITION_SIDES: Mapping[str, int] = {"long": 1, "short": -1}
LIQUIDITY: Mapping[str, Liquidity | None] = {
    "maker": Liquidity.MAKER,
    "taker": Liquidity.TAKER,
    # Kraken's non-trading fill types: no side of the book was taken.
    "liquidation": Liquidity.TAKER,
    "assignor": None,
    "assignee": None,
    "takerAfterEdit": Liquidity.TAKER,
    "unwindBankrupt": None,
    "unwindCounterparty": None,
}

TRIGGER_SIGNALS: Mapping[TriggerReference, str] = {
    TriggerReference.MARK: "mark",
    TriggerReference.INDEX: "index",
    TriggerReference.LAST: "last",
}

# REST openorders `status`.
OPEN_ORDER_STATUS: Mapping[str, OrdStatus] = {
    "untouched": OrdStatus.NEW,
    "partiallyFilled": OrdStatus.PARTIALLY_FILLED,
}

# orders/status `status`.
ORDER_STATUS: Mapping[str, OrdStatus] = {
    "ENTERED_BOOK": OrdStatus.NEW,
    "TRIGGER_PLACED": OrdStatus.NEW,
    "PARTIALLY_FILLED": OrdStatus.PARTIALLY_FILLED,
    "FULLY_EXECUTED": OrdStatus.FILLED,
    "CANCELLED": OrdStatus.CANCELED,
    "REJECTED": OrdStatus.REJECTED,
    "TRIGGER_ACTIVATION_FAILURE": OrdStatus.CANCELED,
}


class KrakenFuturesOrderChange(Enum):
    """What a WS `open_orders` update's `reason` means for the core."""

    ACCEPTED = "accepted"  # live at the venue
    TRIGGERED = "triggered"  # a stop fired; the order now works
    NONE = "none"  # fills and the send answer carry it (partial_fill, full_fill, rejects)
    AMENDED = "amended"  # changed by our editorder
    RESTATED = "restated"  # the venue changed it (reduce-only clip)
    CANCELED = "canceled"
    EXPIRED = "expired"


_C = KrakenFuturesOrderChange

# WS open_orders `reason` (docs' list plus the simulator's).
OPEN_ORDERS_REASONS: Mapping[str, KrakenFuturesOrderChange] = {
    "new_placed_order_by_user": _C.ACCEPTED,
    "liquidation": _C.ACCEPTED,
    "stop_order_triggered": _C.TRIGGERED,
    "limit_order_from_stop": _C.TRIGGERED,
    "partial_fill": _C.NONE,
    "full_fill": _C.NONE,
    # A refused send (post-only would take, IOC found nothing): sendStatus already said so.
    "post_order_failed_because_it_would_filled": _C.NONE,
    "ioc_order_failed_because_it_would_not_be_executed": _C.NONE,
    "edited_by_user": _C.AMENDED,
    "reduce_only_reduced": _C.RESTATED,
    "cancelled_by_user": _C.CANCELED,
    "cancelled_by_admin": _C.CANCELED,
    "dead_man_switch": _C.CANCELED,
    "not_enough_margin": _C.CANCELED,
    "market_inactive": _C.CANCELED,
    "would_execute_self": _C.CANCELED,
    "self_fill": _C.CANCELED,
    "would_not_reduce_position": _C.CANCELED,
    "reduce_only_would_not_reduce": _C.CANCELED,
    "contract_expired": _C.EXPIRED,
}


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", "none", ""):
        return False
    raise KrakenParseError(f"not a boolean: {value!r}")
