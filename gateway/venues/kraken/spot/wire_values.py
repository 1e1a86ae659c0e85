"""Kraken Spot wire values -> Python: the explicit enum tables (Kraken string -> core enum) used
by the parse modules (the scalar decoders are the common ones, `common/wire_scalars.py`).

An unknown value in a table raises `KrakenParseError` (via `lookup`): guessing an order's
state is how fills get lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.core.model import (
    InstrumentStatus,
    Liquidity,
    OrderType,
    OrdStatus,
    Side,
    TimeInForce,
)
from gateway.venues.kraken.common.wire_scalars import KrakenParseError

VENUE = "kraken"


# ---- mapping tables -------------------------------------------------------------------------

SIDES: Mapping[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}

ORDER_TYPES: Mapping[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "iceberg": OrderType.ICEBERG,
    "stop-loss": OrderType.STOP_LOSS,
    "take-profit": OrderType.TAKE_PROFIT,
    "stop-loss-limit": OrderType.STOP_LOSS_LIMIT,
    "take-profit-limit": OrderType.TAKE_PROFIT_LIMIT,
    "trailing-stop": OrderType.TRAILING_STOP,
    "trailing-stop-limit": OrderType.TRAILING_STOP_LIMIT,
    "settle-position": OrderType.MARKET,  # margin settlement at market
}
TIME_IN_FORCE: Mapping[str, TimeInForce] = {
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "gtd": TimeInForce.GTD,
    "fok": TimeInForce.FOK,
}

# REST order `status`; `open` with executed volume is refined to PARTIALLY_FILLED.
REST_ORDER_STATUS: Mapping[str, OrdStatus] = {
    "pending": OrdStatus.PENDING_NEW,
    "open": OrdStatus.NEW,
    "closed": OrdStatus.FILLED,
    "canceled": OrdStatus.CANCELED,
    "expired": OrdStatus.EXPIRED,
}

# WS v2 executions `order_status`.
WS_ORDER_STATUS: Mapping[str, OrdStatus] = {
    "pending_new": OrdStatus.PENDING_NEW,
    "new": OrdStatus.NEW,
    "partially_filled": OrdStatus.PARTIALLY_FILLED,
    "filled": OrdStatus.FILLED,
    "canceled": OrdStatus.CANCELED,
    "expired": OrdStatus.EXPIRED,
}

# WS v2 `exec_type`s that produce no core event: `pending_new` (the core already holds the
# order PENDING_NEW), `filled` (the core derives FILLED from cum_qty of the `trade` events),
# `iceberg_refill` (display refresh only). `status` yields OrderTriggered only when a trigger
# fired. Anything not in either set fails loudly.
WS_SILENT_EXEC_TYPES = frozenset({"pending_new", "filled", "iceberg_refill"})
WS_EVENT_EXEC_TYPES = frozenset(
    {"new", "trade", "canceled", "expired", "amended", "restated", "status"}
)

LIQUIDITY: Mapping[str, Liquidity] = {"m": Liquidity.MAKER, "t": Liquidity.TAKER}

INSTRUMENT_STATUS: Mapping[str, InstrumentStatus] = {
    "online": InstrumentStatus.ONLINE,
    "cancel_only": InstrumentStatus.CANCEL_ONLY,
    "post_only": InstrumentStatus.POST_ONLY,
    "limit_only": InstrumentStatus.LIMIT_ONLY,
    "reduce_only": InstrumentStatus.REDUCE_ONLY,
    "maintenance": InstrumentStatus.MAINTENANCE,
    "work_in_progress": InstrumentStatus.MAINTENANCE,
    "delisted": InstrumentStatus.DELISTED,
}


def lookup(table: Mapping[str, Any], value: object, what: str) -> Any:
    try:
        return table[str(value).lower()]
    except KeyError:
        raise KrakenParseError(f"unknown Kraken {what}: {value!r}") from None
