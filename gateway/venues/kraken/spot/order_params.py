"""Core order requests -> Kraken Spot order parameters (REST AddOrder form and WS v2 add_order).

Field mapping per order type (REST `price` / `price2`; WS v2 `limit_price` / `triggers`):

    MARKET, LIMIT, ICEBERG        price = limit price                 limit_price
    STOP_LOSS, TAKE_PROFIT        price = stop (trigger)              triggers.price
    *_LIMIT                       price = stop, price2 = limit        triggers.price, limit_price
    TRAILING_STOP                 price = +offset[%]                  triggers.price (pct|quote)
    TRAILING_STOP_LIMIT           price = +offset[%], price2 = +/-limit offset[%]

Amends (REST AmendOrder / WS v2 amend_order) of a trailing order: `trailing_offset` ->
`trigger_price` (REST `+x[%]`; WS the number + `trigger_price_type` pct|quote) and, for
TRAILING_STOP_LIMIT, `limit_offset` -> `limit_price` (REST `+/-x[%]`; WS signed number +
`limit_price_type` pct|quote), in the units the order was placed with. `stop_price` on a
trailing order and `price` on a TRAILING_STOP are refused (see `_check_amend`).

Kraken's `cl_ord_id` accepts a UUID (36 chars), 32 hex chars, or free text of <= 18 chars; any
other client id becomes a deterministic UUID5 and the caller must journal the mapping.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import (
    STOP_LIMIT_TYPES,
    STOP_TYPES,
    TRAILING_TYPES,
    AmendRequest,
    FeeCurrency,
    Instrument,
    OffsetUnit,
    OrderRequest,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TriggerReference,
)
from gateway.venues.kraken.common.client_ids import KrakenClOrdId
from gateway.venues.kraken.common.wire_format import fmt

FeePreference = Literal["base", "quote"]

KRAKEN_ORDER_TYPES: Mapping[OrderType, str] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.ICEBERG: "iceberg",
    OrderType.STOP_LOSS: "stop-loss",
    OrderType.TAKE_PROFIT: "take-profit",
    OrderType.STOP_LOSS_LIMIT: "stop-loss-limit",
    OrderType.TAKE_PROFIT_LIMIT: "take-profit-limit",
    OrderType.TRAILING_STOP: "trailing-stop",
    OrderType.TRAILING_STOP_LIMIT: "trailing-stop-limit",
}
KRAKEN_SIDES: Mapping[Side, str] = {Side.BUY: "buy", Side.SELL: "sell"}
KRAKEN_TIF: Mapping[TimeInForce, str] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.GTD: "GTD",
    TimeInForce.FOK: "FOK",
}
KRAKEN_TRIGGERS: Mapping[TriggerReference, str] = {
    TriggerReference.LAST: "last",
    TriggerReference.INDEX: "index",
}
KRAKEN_STP_REST: Mapping[SelfTradePrevention, str] = {
    SelfTradePrevention.CANCEL_NEWEST: "cancel-newest",
    SelfTradePrevention.CANCEL_OLDEST: "cancel-oldest",
    SelfTradePrevention.CANCEL_BOTH: "cancel-both",
}
KRAKEN_STP_WS: Mapping[SelfTradePrevention, str] = {
    k: v.replace("-", "_") for k, v in KRAKEN_STP_REST.items()
}

# ---- client order ids -----------------------------------------------------------------------

# Namespace of the UUID5s made from client ids that Kraken would not accept (fixed forever:
# changing it would orphan every journaled mapping).
CL_ORD_ID_NAMESPACE = uuid.UUID("5b0e7a3c-1f0d-4c53-9a51-6b7d8e2f4a10")
_LONG_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_SHORT_UUID = re.compile(r"[0-9a-fA-F]{32}")
_FREE_TEXT = re.compile(r"[\x21-\x7e]{1,18}")


def fits_kraken_cl_ord_id(client_order_id: str) -> bool:
    return bool(
        _LONG_UUID.fullmatch(client_order_id)
        or _SHORT_UUID.fullmatch(client_order_id)
        or _FREE_TEXT.fullmatch(client_order_id)
    )


def kraken_cl_ord_id(client_order_id: str) -> KrakenClOrdId:
    if fits_kraken_cl_ord_id(client_order_id):
        return KrakenClOrdId(client_order_id, mapped=False)
    return KrakenClOrdId(str(uuid.uuid5(CL_ORD_ID_NAMESPACE, client_order_id)), mapped=True)


def _signed(value: Decimal, unit: OffsetUnit) -> str:
    sign = "-" if value < 0 else "+"
    return f"{sign}{fmt(abs(value))}{'%' if unit is OffsetUnit.PERCENT else ''}"


def _unix(value: datetime) -> str:
    return str(int(value.timestamp()))


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invalid(field: str, message: str) -> InvalidArgument:
    return InvalidArgument(message, ErrorReason.INVALID_FIELD, metadata={"field": field})


def _require(value: Decimal | None, field: str, order_type: OrderType) -> Decimal:
    if value is None:
        raise InvalidArgument(
            f"{field} is required for {order_type.name}",
            ErrorReason.MISSING_FIELD,
            metadata={"field": field},
        )
    return value


def _limit_offset(request: OrderRequest) -> Decimal:
    """Trailing-stop-limit: the limit sits `limit_offset` beyond the trigger in the direction
    that lets the order fill (below for a sell, above for a buy)."""
    offset = _require(request.limit_offset, "limit_offset", request.order_type)
    return offset if request.side is Side.BUY else -offset


def _trigger(request: OrderRequest) -> str | None:
    ref = request.trigger_reference
    if ref is None:
        return None
    if ref not in KRAKEN_TRIGGERS:
        raise _invalid("trigger_reference", f"Kraken Spot has no {ref.name} trigger")
    return KRAKEN_TRIGGERS[ref]


def _quantity_fields(request: OrderRequest) -> tuple[Decimal, bool]:
    """(volume, volume-in-quote flag)."""
    if request.quote_qty is not None:
        if request.order_type is not OrderType.MARKET or request.side is not Side.BUY:
            raise _invalid("quote_qty", "Kraken accepts a quote quantity for market buys only")
        return request.quote_qty, True
    return _require(request.qty, "qty", request.order_type), False


# ---- REST AddOrder --------------------------------------------------------------------------


def _rest_prices(request: OrderRequest) -> dict[str, str]:
    t = request.order_type
    if t in (OrderType.LIMIT, OrderType.ICEBERG):
        return {"price": fmt(_require(request.price, "price", t))}
    if t in STOP_TYPES:
        return {"price": fmt(_require(request.stop_price, "stop_price", t))}
    if t in STOP_LIMIT_TYPES:
        return {
            "price": fmt(_require(request.stop_price, "stop_price", t)),
            "price2": fmt(_require(request.price, "price", t)),
        }
    if t in TRAILING_TYPES:
        offset = abs(_require(request.trailing_offset, "trailing_offset", t))
        params = {"price": _signed(offset, request.trailing_offset_unit)}
        if t is OrderType.TRAILING_STOP_LIMIT:
            params["price2"] = _signed(_limit_offset(request), request.limit_offset_unit)
        return params
    return {}


# GTD bounds: Kraken takes an expiry at least 5 s after the later of now and the start time
# (AddOrder expiretm), and at most one month ahead (WS v2 add_order expire_time). The month is
# taken as 28 days (the shortest), and both bounds hold on either transport, so the answer does
# not depend on the route an order takes.
GTD_MIN_AHEAD = timedelta(seconds=5)
GTD_MAX_AHEAD = timedelta(days=28)


def check_expire_time(request: OrderRequest, now: datetime) -> None:
    """Refuse an expire_time Kraken Spot would refuse (INVALID_FIELD, field expire_time)."""
    expire = request.expire_time
    if expire is None:
        return
    start = request.start_time if request.start_time is not None else now
    if expire < max(now, start) + GTD_MIN_AHEAD:
        after = "start_time" if start > now else "now"
        raise _invalid(
            "expire_time",
            f"Kraken Spot needs expire_time at least {GTD_MIN_AHEAD.seconds} s after {after}",
        )
    if expire - now > GTD_MAX_AHEAD:
        raise _invalid(
            "expire_time",
            f"Kraken Spot takes expire_time at most one month ({GTD_MAX_AHEAD.days} days) ahead",
        )


def build_add_order_params(
    request: OrderRequest,
    instrument: Instrument,
    *,
    cl_ord_id: str | None = None,
    fee_preference: FeePreference | None = None,
) -> dict[str, str]:
    """AddOrder form params (without `nonce`). `cl_ord_id` defaults to
    `kraken_cl_ord_id(request.client_order_id).value`; pass "" to send none."""
    volume, in_quote = _quantity_fields(request)
    params: dict[str, str] = {
        "ordertype": KRAKEN_ORDER_TYPES[request.order_type],
        "type": KRAKEN_SIDES[request.side],
        "volume": fmt(volume),
        "pair": instrument.venue_symbol,
    }
    params.update(_rest_prices(request))
    oflags = []
    if request.post_only:
        oflags.append("post")
    fee_preference = fee_preference or _fee_preference(request)
    if fee_preference is not None:
        oflags.append("fcib" if fee_preference == "base" else "fciq")
    if in_quote:
        oflags.append("viqc")
    if oflags:
        params["oflags"] = ",".join(oflags)
    if request.time_in_force is not TimeInForce.GTC:
        params["timeinforce"] = KRAKEN_TIF[request.time_in_force]
    if request.expire_time is not None:
        params["expiretm"] = _unix(request.expire_time)
    if request.start_time is not None:
        params["starttm"] = _unix(request.start_time)
    if request.order_type is OrderType.ICEBERG and request.display_qty is not None:
        params["displayvol"] = fmt(request.display_qty)
    trigger = _trigger(request)
    if trigger is not None:
        params["trigger"] = trigger
    if request.leverage is not None:
        params["leverage"] = fmt(request.leverage)
    if request.reduce_only:
        params["reduce_only"] = "true"
    if request.self_trade_prevention is not None:
        params["stptype"] = KRAKEN_STP_REST[request.self_trade_prevention]
    if request.deadline is not None:
        params["deadline"] = _rfc3339(request.deadline)
    if request.validate_only:
        params["validate"] = "true"
    cl = kraken_cl_ord_id(request.client_order_id).value if cl_ord_id is None else cl_ord_id
    if cl:
        params["cl_ord_id"] = cl
    return params


def _check_amend(amend: AmendRequest, original: OrderRequest) -> None:
    """Refuse amend fields that mean nothing for the order's type (before any venue call).

    On Kraken a trailing order's `trigger_price` *is* its trailing offset, so an absolute
    `stop_price` would silently become an offset of that size: refused, amend
    `trailing_offset`. A TRAILING_STOP has no limit price at all.
    """
    t = original.order_type
    if amend.trailing_offset is not None and t not in TRAILING_TYPES:
        raise _invalid("trailing_offset", f"{t.name} has no trailing offset")
    if amend.limit_offset is not None and t is not OrderType.TRAILING_STOP_LIMIT:
        raise _invalid("limit_offset", f"{t.name} has no limit offset")
    if amend.stop_price is not None and t in TRAILING_TYPES:
        raise _invalid(
            "stop_price", f"{t.name} trails the market: amend trailing_offset, not stop_price"
        )
    if amend.price is not None and t is OrderType.TRAILING_STOP:
        raise _invalid("price", "TRAILING_STOP has no limit price")


def _amend_limit_offset(amend: AmendRequest, original: OrderRequest) -> Decimal | None:
    """The new limit offset, signed as AddOrder's price2 (above the trigger for a buy)."""
    if amend.limit_offset is None:
        return None
    return _limit_offset(replace(original, limit_offset=amend.limit_offset))


def build_amend_order_params(
    amend: AmendRequest,
    original: OrderRequest,
    *,
    txid: str | None = None,
    cl_ord_id: str | None = None,
) -> dict[str, str]:
    """AmendOrder params (REST); identify the order by `txid` or `cl_ord_id`. `original` is
    the order's request (its type and offset units).

    Trailing orders: `trailing_offset` -> `trigger_price` `+<offset>[%]`, `limit_offset` ->
    `limit_price` `+/-<offset>[%]` (the forms AddOrder's price / price2 use)."""
    if (txid is None) == (cl_ord_id is None):
        raise ValueError("exactly one of txid and cl_ord_id")
    _check_amend(amend, original)
    params: dict[str, str] = {"txid": txid} if txid is not None else {"cl_ord_id": str(cl_ord_id)}
    for key, value in (
        ("order_qty", amend.qty),
        ("limit_price", amend.price),
        ("trigger_price", amend.stop_price),
        ("display_qty", amend.display_qty),
    ):
        if value is not None:
            params[key] = fmt(value)
    if amend.trailing_offset is not None:
        params["trigger_price"] = _signed(abs(amend.trailing_offset), original.trailing_offset_unit)
    limit_offset = _amend_limit_offset(amend, original)
    if limit_offset is not None:
        params["limit_price"] = _signed(limit_offset, original.limit_offset_unit)
    if amend.post_only is not None:
        params["post_only"] = "true" if amend.post_only else "false"
    if amend.deadline is not None:
        params["deadline"] = _rfc3339(amend.deadline)
    return params


# ---- WS v2 add_order ------------------------------------------------------------------------


def _price_type(unit: OffsetUnit) -> str:
    return "pct" if unit is OffsetUnit.PERCENT else "quote"


def _ws_prices(request: OrderRequest, params: dict[str, Any]) -> None:
    t = request.order_type
    triggers: dict[str, Any] = {}
    if t in (OrderType.LIMIT, OrderType.ICEBERG):
        params["limit_price"] = _require(request.price, "price", t)
    elif t in STOP_TYPES or t in STOP_LIMIT_TYPES:
        triggers = {"price": _require(request.stop_price, "stop_price", t), "price_type": "static"}
        if t in STOP_LIMIT_TYPES:
            params["limit_price"] = _require(request.price, "price", t)
    elif t in TRAILING_TYPES:
        offset = abs(_require(request.trailing_offset, "trailing_offset", t))
        triggers = {"price": offset, "price_type": _price_type(request.trailing_offset_unit)}
        if t is OrderType.TRAILING_STOP_LIMIT:
            params["limit_price"] = _limit_offset(request)
            params["limit_price_type"] = _price_type(request.limit_offset_unit)
    if triggers:
        trigger = _trigger(request)
        if trigger is not None:
            triggers["reference"] = trigger
        params["triggers"] = triggers


def _fee_preference(request: OrderRequest) -> FeePreference | None:
    """The request's fee currency as Kraken's preference (REST oflags fcib/fciq)."""
    if request.fee_currency is FeeCurrency.BASE:
        return "base"
    if request.fee_currency is FeeCurrency.QUOTE:
        return "quote"
    return None


def build_ws_add_order_params(
    request: OrderRequest,
    instrument: Instrument,
    *,
    cl_ord_id: str | None = None,
    fee_preference: FeePreference | None = None,
    include_symbol: bool = True,
) -> dict[str, Any]:
    """WS v2 add_order `params` (without `token`); decimals stay `Decimal` for
    `encode_ws_message`. `include_symbol=False` for batch_add entries."""
    volume, in_quote = _quantity_fields(request)
    params: dict[str, Any] = {
        "order_type": KRAKEN_ORDER_TYPES[request.order_type],
        "side": KRAKEN_SIDES[request.side],
    }
    if in_quote:
        params["cash_order_qty"] = volume
    else:
        params["order_qty"] = volume
    if include_symbol:
        params["symbol"] = instrument.symbol  # WS v2 uses BTC/USD, the unified spelling
    _ws_prices(request, params)
    if request.time_in_force is not TimeInForce.GTC:
        params["time_in_force"] = KRAKEN_TIF[request.time_in_force].lower()
    if request.expire_time is not None:
        params["expire_time"] = _rfc3339(request.expire_time)
    if request.start_time is not None:
        params["effective_time"] = _rfc3339(request.start_time)
    if request.post_only:
        params["post_only"] = True
    if request.reduce_only:
        params["reduce_only"] = True
    if request.leverage is not None:
        params["margin"] = True  # WS v2 has no leverage value; it trades on margin
    if request.order_type is OrderType.ICEBERG and request.display_qty is not None:
        params["display_qty"] = request.display_qty
    fee_preference = fee_preference or _fee_preference(request)
    if fee_preference is not None:
        params["fee_preference"] = fee_preference
    if request.self_trade_prevention is not None:
        params["stp_type"] = KRAKEN_STP_WS[request.self_trade_prevention]
    if request.deadline is not None:
        params["deadline"] = _rfc3339(request.deadline)
    if request.validate_only:
        params["validate"] = True
    cl = kraken_cl_ord_id(request.client_order_id).value if cl_ord_id is None else cl_ord_id
    if cl:
        params["cl_ord_id"] = cl
    return params


def build_ws_amend_order_params(
    amend: AmendRequest,
    original: OrderRequest,
    *,
    order_id: str | None = None,
    cl_ord_id: str | None = None,
) -> dict[str, Any]:
    """WS v2 amend_order `params` (without `token`). Trailing orders: `trailing_offset` ->
    `trigger_price` + `trigger_price_type` pct|quote, `limit_offset` -> signed `limit_price` +
    `limit_price_type` pct|quote (units from the original request, as add_order sent them)."""
    if (order_id is None) == (cl_ord_id is None):
        raise ValueError("exactly one of order_id and cl_ord_id")
    _check_amend(amend, original)
    params: dict[str, Any] = {"order_id": order_id} if order_id else {"cl_ord_id": cl_ord_id}
    for key, value in (
        ("order_qty", amend.qty),
        ("limit_price", amend.price),
        ("trigger_price", amend.stop_price),
        ("display_qty", amend.display_qty),
    ):
        if value is not None:
            params[key] = value
    if amend.trailing_offset is not None:
        params["trigger_price"] = abs(amend.trailing_offset)
        params["trigger_price_type"] = _price_type(original.trailing_offset_unit)
    limit_offset = _amend_limit_offset(amend, original)
    if limit_offset is not None:
        params["limit_price"] = limit_offset
        params["limit_price_type"] = _price_type(original.limit_offset_unit)
    if amend.post_only is not None:
        params["post_only"] = amend.post_only
    if amend.deadline is not None:
        params["deadline"] = _rfc3339(amend.deadline)
    return params


MAX_BATCH_ORDERS = 15  # AddOrderBatch / batch_add: 2..15 orders, one pair


def _check_batch(requests: Sequence[OrderRequest], instrument: Instrument) -> None:
    if not 2 <= len(requests) <= MAX_BATCH_ORDERS:
        raise InvalidArgument(
            f"a Kraken batch holds 2 to {MAX_BATCH_ORDERS} orders, got {len(requests)}",
            ErrorReason.BATCH_TOO_LARGE,
            metadata={"field": "orders"},
        )
    if any(r.symbol != instrument.symbol for r in requests):
        raise _invalid("symbol", "every order of a Kraken batch must be for the same pair")


def build_add_order_batch_params(
    requests: Sequence[OrderRequest],
    instrument: Instrument,
    *,
    cl_ord_ids: Sequence[str] | None = None,
    deadline: datetime | None = None,
    validate_only: bool = False,
) -> dict[str, Any]:
    """REST AddOrderBatch JSON body (without `nonce`): `pair` once, then `orders`."""
    _check_batch(requests, instrument)
    orders: list[dict[str, str]] = []
    for i, request in enumerate(requests):
        cl = None if cl_ord_ids is None else cl_ord_ids[i]
        order = build_add_order_params(request, instrument, cl_ord_id=cl)
        for batch_level in ("pair", "deadline", "validate"):
            order.pop(batch_level, None)
        orders.append(order)
    body: dict[str, Any] = {"pair": instrument.venue_symbol, "orders": orders}
    if deadline is not None:
        body["deadline"] = _rfc3339(deadline)
    if validate_only:
        body["validate"] = True
    return body


def build_ws_batch_add_params(
    requests: Sequence[OrderRequest],
    instrument: Instrument,
    *,
    cl_ord_ids: Sequence[str] | None = None,
    deadline: datetime | None = None,
    validate_only: bool = False,
) -> dict[str, Any]:
    """WS v2 batch_add `params` (without `token`)."""
    _check_batch(requests, instrument)
    orders = []
    for i, request in enumerate(requests):
        cl = None if cl_ord_ids is None else cl_ord_ids[i]
        order = build_ws_add_order_params(request, instrument, cl_ord_id=cl, include_symbol=False)
        for batch_level in ("deadline", "validate"):
            order.pop(batch_level, None)
        orders.append(order)
    params: dict[str, Any] = {"symbol": instrument.symbol, "orders": orders}
    if deadline is not None:
        params["deadline"] = _rfc3339(deadline)
    if validate_only:
        params["validate"] = True
    return params
