"""Core order requests -> Kraken Futures `sendorder` / `editorder` / `batchorder` parameters.

    core order type          orderType       prices
    MARKET                   mkt             (Kraken adds a 1% protected limit)
    LIMIT                    lmt             limitPrice; post-only -> post, IOC -> ioc, FOK -> fok
    STOP_LOSS                stp             stopPrice (market on trigger)
    STOP_LOSS_LIMIT          stp             stopPrice, limitPrice
    TAKE_PROFIT              take_profit     stopPrice
    TAKE_PROFIT_LIMIT        take_profit     stopPrice, limitPrice
    TRAILING_STOP            trailing_stop   trailingStopMaxDeviation + DeviationUnit
    TRAILING_STOP_LIMIT      trailing_stop   ... + limitPriceOffsetValue + limitPriceOffsetUnit

Trigger orders take `triggerSignal` mark|index|last (the request's trigger_reference; Kraken's
default `last` when unset). `reduceOnly`, `processBefore` (the request's deadline) pass through.
Anything Kraken Futures has no field for (iceberg, GTD, scheduled start, quote quantities,
self-trade prevention, validate-only) is refused before any send. Leverage is not an order field
at Kraken Futures but a per-symbol preference: an order naming it first sets the symbol's
`maxLeverage` (`leverage_preference_params`), which Kraken reads as isolated margin at that
leverage (a symbol without one trades on cross margin).

`cliOrdId`: Kraken takes up to 100 characters; client ids of letters, digits, `-` and `_` go
verbatim, any other becomes a deterministic UUID5 the caller journals (as for Spot).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import (
    STOP_LIMIT_TYPES,
    TRAILING_TYPES,
    AmendRequest,
    Instrument,
    OffsetUnit,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)
from gateway.venues.kraken.common.client_ids import KrakenClOrdId
from gateway.venues.kraken.common.wire_format import encode_ws_message, fmt
from gateway.venues.kraken.futures.wire_values import TRIGGER_SIGNALS

MAX_BATCH_ORDERS = 100  # CCXT's cap for batchorder

# Fixed forever: changing it would orphan every journaled mapping.
CLI_ORD_ID_NAMESPACE = uuid.UUID("0b6f1a52-5d0e-4d7b-8f0e-3f1c9a7e2b64")
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

SIDES: Mapping[Side, str] = {Side.BUY: "buy", Side.SELL: "sell"}
TRIGGER_TYPES: Mapping[OrderType, str] = {
    OrderType.STOP_LOSS: "stp",
    OrderType.STOP_LOSS_LIMIT: "stp",
    OrderType.TAKE_PROFIT: "take_profit",
    OrderType.TAKE_PROFIT_LIMIT: "take_profit",
    OrderType.TRAILING_STOP: "trailing_stop",
    OrderType.TRAILING_STOP_LIMIT: "trailing_stop",
}
_LIMIT_TIF: Mapping[TimeInForce, str] = {
    TimeInForce.GTC: "lmt",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
}
_UNITS: Mapping[OffsetUnit, str] = {
    OffsetUnit.PERCENT: "PERCENT",
    OffsetUnit.ABSOLUTE: "QUOTE_CURRENCY",
}


def kraken_futures_cli_ord_id(client_order_id: str) -> KrakenClOrdId:
    if _PLAIN_ID.fullmatch(client_order_id):
        return KrakenClOrdId(client_order_id, mapped=False)
    return KrakenClOrdId(str(uuid.uuid5(CLI_ORD_ID_NAMESPACE, client_order_id)), mapped=True)


def _invalid(
    field: str, message: str, reason: ErrorReason = ErrorReason.INVALID_FIELD
) -> InvalidArgument:
    return InvalidArgument(message, reason, metadata={"field": field})


def _require(value: Decimal | None, field: str, order_type: OrderType) -> Decimal:
    if value is None:
        raise _invalid(
            field, f"{field} is required for {order_type.name}", ErrorReason.MISSING_FIELD
        )
    return value


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def refuse_unsupported(request: OrderRequest) -> None:
    """Raise InvalidArgument for what Kraken Futures orders have no field for."""
    unsupported: list[tuple[str, bool]] = [
        ("quote_qty", request.quote_qty is not None),
        ("display_qty", request.display_qty is not None),
        ("expire_time", request.expire_time is not None),
        ("start_time", request.start_time is not None),
        ("self_trade_prevention", request.self_trade_prevention is not None),
        ("validate_only", request.validate_only),
    ]
    for field, present in unsupported:
        if present:
            raise _invalid(field, f"Kraken Futures orders have no {field}")
    if request.order_type is OrderType.ICEBERG:
        raise _invalid(
            "order_type", "Kraken Futures has no iceberg orders", ErrorReason.UNSUPPORTED_ORDER_TYPE
        )
    if request.time_in_force is TimeInForce.GTD:
        raise _invalid("time_in_force", "Kraken Futures has no good-till-date orders")


def leverage_preference_params(instrument: Instrument, leverage: Decimal) -> dict[str, str]:
    """`PUT leveragepreferences`: isolated margin at `leverage` for the instrument's symbol."""
    return {"symbol": instrument.venue_symbol, "maxLeverage": fmt(leverage)}


def _order_type(request: OrderRequest) -> str:
    t, tif = request.order_type, request.time_in_force
    if request.post_only and (t is not OrderType.LIMIT or tif is not TimeInForce.GTC):
        raise _invalid("post_only", "Kraken Futures post-only orders are GTC limit orders")
    if t is OrderType.LIMIT:
        return "post" if request.post_only else _LIMIT_TIF[tif]
    if t is OrderType.MARKET:
        if tif is TimeInForce.FOK:
            raise _invalid("time_in_force", "Kraken Futures market orders are IOC")
        return "mkt"
    if tif is not TimeInForce.GTC:
        raise _invalid("time_in_force", f"Kraken Futures {t.name} orders are GTC")
    return TRIGGER_TYPES[t]


def build_send_order_params(
    request: OrderRequest, instrument: Instrument, *, cli_ord_id: str
) -> dict[str, str]:
    """sendorder parameters (all strings, in a stable order) for one validated request."""
    refuse_unsupported(request)
    t = request.order_type
    qty = _require(request.qty, "qty", t)
    params: dict[str, str] = {
        "orderType": _order_type(request),
        "symbol": instrument.venue_symbol,
        "side": SIDES[request.side],
        "size": fmt(qty),
    }
    if t is OrderType.LIMIT or t in STOP_LIMIT_TYPES:
        params["limitPrice"] = fmt(_require(request.price, "price", t))
    elif request.price is not None:
        raise _invalid("price", f"a {t.name} order has no limit price")
    if t in TRIGGER_TYPES and t not in TRAILING_TYPES:
        params["stopPrice"] = fmt(_require(request.stop_price, "stop_price", t))
    elif request.stop_price is not None:
        raise _invalid("stop_price", f"a {t.name} order has no stop price")
    if t in TRAILING_TYPES:
        offset = abs(_require(request.trailing_offset, "trailing_offset", t))
        params["trailingStopMaxDeviation"] = fmt(offset)
        params["trailingStopDeviationUnit"] = _UNITS[request.trailing_offset_unit]
        if t is OrderType.TRAILING_STOP_LIMIT:
            limit = abs(_require(request.limit_offset, "limit_offset", t))
            params["limitPriceOffsetValue"] = fmt(limit)
            params["limitPriceOffsetUnit"] = _UNITS[request.limit_offset_unit]
    if request.trigger_reference is not None:
        if t not in TRIGGER_TYPES:
            raise _invalid("trigger_reference", f"a {t.name} order has no trigger")
        params["triggerSignal"] = TRIGGER_SIGNALS[request.trigger_reference]
    if request.reduce_only:
        params["reduceOnly"] = "true"
    params["cliOrdId"] = cli_ord_id
    if request.deadline is not None:
        params["processBefore"] = rfc3339(request.deadline)
    return params


def build_edit_order_params(
    amend: AmendRequest, original: OrderRequest, *, order_id: str | None, cli_ord_id: str
) -> dict[str, str]:
    """editorder parameters. `qty` is the order's new total (`qtyMode=ABSOLUTE`)."""
    t = original.order_type
    for field, present in (
        ("display_qty", amend.display_qty is not None),
        ("post_only", amend.post_only is not None),
        ("limit_offset", amend.limit_offset is not None),
    ):
        if present:
            raise _invalid(field, f"Kraken Futures cannot amend {field}")
    has_limit = t is OrderType.LIMIT or t in STOP_LIMIT_TYPES
    if amend.price is not None and not has_limit:
        raise _invalid("price", f"a {t.name} order has no limit price to amend")
    is_stop = t in TRIGGER_TYPES and t not in TRAILING_TYPES
    if amend.stop_price is not None and not is_stop:
        raise _invalid("stop_price", f"a {t.name} order has no stop price to amend")
    if amend.trailing_offset is not None and t not in TRAILING_TYPES:
        raise _invalid("trailing_offset", f"a {t.name} order has no trailing offset")
    params: dict[str, str] = {"orderId": order_id} if order_id else {"cliOrdId": cli_ord_id}
    if amend.qty is not None:
        params["size"] = fmt(amend.qty)
        params["qtyMode"] = "ABSOLUTE"
    if amend.price is not None:
        params["limitPrice"] = fmt(amend.price)
    if amend.stop_price is not None:
        params["stopPrice"] = fmt(amend.stop_price)
    if amend.trailing_offset is not None:
        params["trailingStopMaxDeviation"] = fmt(abs(amend.trailing_offset))
        params["trailingStopDeviationUnit"] = _UNITS[original.trailing_offset_unit]
    if amend.deadline is not None:
        params["processBefore"] = rfc3339(amend.deadline)
    return params


def _as_batch_value(key: str, value: str) -> Any:
    """batchorder JSON carries numbers as numbers and reduceOnly as a boolean."""
    if key == "reduceOnly":
        return value == "true"
    if key in (
        "size",
        "limitPrice",
        "stopPrice",
        "trailingStopMaxDeviation",
        "limitPriceOffsetValue",
    ):
        return Decimal(value)
    return value


def batch_send_element(params: Mapping[str, str], order_tag: str) -> dict[str, Any]:
    element: dict[str, Any] = {"order": "send", "order_tag": order_tag}
    for key, value in params.items():
        if key != "processBefore":  # batch-wide (ProcessBefore), not per element
            element[key] = _as_batch_value(key, value)
    return element


def batch_cancel_element(order_id: str | None, cli_ord_id: str) -> dict[str, Any]:
    if order_id:
        return {"order": "cancel", "order_id": order_id}
    return {"order": "cancel", "cliOrdId": cli_ord_id}


def encode_batch(elements: Sequence[Mapping[str, Any]]) -> str:
    """The `json` field of batchorder: `{"batchOrder":[...]}` with exact decimal numbers."""
    return encode_ws_message({"batchOrder": list(elements)})
