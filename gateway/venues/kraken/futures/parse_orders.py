"""Kraken Futures order payloads -> core values: the send/edit/cancel/batch answers, REST
`openorders` and `orders/status` rows, and WS v1 `open_orders` messages.

Order ids: every event names the order by Kraken's `order_id` and by the `cliOrdId` the
gateway sent (still Kraken's spelling here; the adapter maps it back to the client's id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.core.errors import GatewayError
from gateway.core.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderRestated,
    OrderTriggered,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.model import OrdStatus
from gateway.venues.kraken.common.wire_scalars import KrakenParseError, dec, opt_dec
from gateway.venues.kraken.futures.errors import (
    CANCEL_ACCEPTED,
    EDIT_ACCEPTED,
    SEND_ACCEPTED,
    status_error,
)
from gateway.venues.kraken.futures.parse_instruments import KrakenFuturesSymbols
from gateway.venues.kraken.futures.wire_values import (
    OPEN_ORDER_STATUS,
    OPEN_ORDERS_REASONS,
    ORDER_STATUS,
    KrakenFuturesOrderChange,
    exact,
    parse_time,
)

ZERO = Decimal(0)


def _cli_ord_id(row: Mapping[str, Any]) -> str | None:
    """Kraken spells the client id `cliOrdId` or `cli_ord_id` depending on the payload."""
    value = row.get("cliOrdId", row.get("cli_ord_id"))
    return None if value in (None, "") else str(value)


def _order_id(row: Mapping[str, Any]) -> str | None:
    value = row.get("order_id", row.get("orderId"))
    return None if value in (None, "") else str(value)


@dataclass(frozen=True, slots=True)
class KrakenFuturesOutcome:
    """A send/edit/cancel answer: Kraken's status, the order it names, and the refusal (None
    when the status means done)."""

    status: str
    order_id: str | None
    cli_ord_id: str | None
    error: GatewayError | None
    order_tag: str | None = None


def _outcome(body: Mapping[str, Any], accepted: frozenset[str]) -> KrakenFuturesOutcome:
    if not isinstance(body, Mapping) or "status" not in body:
        raise KrakenParseError("order answer without a status")
    status = str(body["status"])
    tag = body.get("order_tag")
    return KrakenFuturesOutcome(
        status=status,
        order_id=_order_id(body),
        cli_ord_id=_cli_ord_id(body),
        error=status_error(status, accepted),
        order_tag=None if tag is None else str(tag),
    )


def parse_send_status(payload: Mapping[str, Any]) -> KrakenFuturesOutcome:
    return _outcome(payload.get("sendStatus"), SEND_ACCEPTED)  # type: ignore[arg-type]


def parse_edit_status(payload: Mapping[str, Any]) -> KrakenFuturesOutcome:
    return _outcome(payload.get("editStatus"), EDIT_ACCEPTED)  # type: ignore[arg-type]


def parse_cancel_status(payload: Mapping[str, Any]) -> KrakenFuturesOutcome:
    return _outcome(payload.get("cancelStatus"), CANCEL_ACCEPTED)  # type: ignore[arg-type]


_BATCH_ACCEPTED = {"send": SEND_ACCEPTED, "edit": EDIT_ACCEPTED, "cancel": CANCEL_ACCEPTED}


def parse_batch_status(
    payload: Mapping[str, Any], kinds: Sequence[str]
) -> list[KrakenFuturesOutcome]:
    """`batchStatus[]`, in request order; `kinds[i]` is the i-th instruction (send/edit/cancel).

    Kraken echoes `order_tag` for sends; rows are matched by position otherwise.
    """
    rows = payload.get("batchStatus")
    if not isinstance(rows, list) or len(rows) != len(kinds):
        raise KrakenParseError("batchStatus does not answer every instruction")
    return [_outcome(row, _BATCH_ACCEPTED[kind]) for row, kind in zip(rows, kinds, strict=True)]


def parse_cancel_all(payload: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """cancelallorders -> (order_id, cliOrdId) of every cancelled order."""
    body = payload.get("cancelStatus") or {}
    return [
        (str(row["order_id"]), _cli_ord_id(row)) for row in body.get("cancelledOrders", []) or []
    ]


def parse_open_order(row: Mapping[str, Any], symbols: KrakenFuturesSymbols) -> VenueOrderState:
    """One REST `openOrders[]` row."""
    filled = dec(row.get("filledSize", 0), "filledSize")
    unfilled = dec(row.get("unfilledSize", 0), "unfilledSize")
    return VenueOrderState(
        client_order_id=_cli_ord_id(row),
        venue_order_id=str(row["order_id"]),
        status=exact(OPEN_ORDER_STATUS, row.get("status"), "open order status"),
        qty=filled + unfilled,
        cum_qty=filled,
        price=opt_dec(row.get("limitPrice"), "limitPrice"),
        stop_price=opt_dec(row.get("stopPrice"), "stopPrice"),
        symbol=symbols.unified(str(row["symbol"])),
        venue_time=parse_time(row.get("lastUpdateTime")),
    )


def parse_order_status(row: Mapping[str, Any], symbols: KrakenFuturesSymbols) -> VenueOrderState:
    """One `orders/status` row: `{order: {...}, status, updateReason, error}`."""
    order = row.get("order") or {}
    status = exact(ORDER_STATUS, row.get("status"), "orders/status status")
    filled = dec(order.get("filled", 0), "filled")
    return VenueOrderState(
        client_order_id=_cli_ord_id(order),
        venue_order_id=str(order["orderId"]),
        status=OrdStatus.PARTIALLY_FILLED if status is OrdStatus.NEW and filled > 0 else status,
        qty=dec(order.get("quantity", 0), "quantity"),
        cum_qty=filled,
        price=opt_dec(order.get("limitPrice"), "limitPrice"),
        symbol=symbols.unified(str(order["symbol"])),
        text=str(row.get("updateReason") or row.get("error") or ""),
        venue_time=parse_time(order.get("lastUpdateTimestamp")),
    )


@dataclass(frozen=True, slots=True)
class KrakenFuturesOrderUpdate:
    """One WS `open_orders` message: the change, the core event it makes (None for NONE), and
    the order fields needed to track it."""

    change: KrakenFuturesOrderChange
    event: VenueEvent | None
    order_id: str
    cli_ord_id: str | None
    symbol: str | None  # Kraken's, when the message carries the order
    is_cancel: bool
    reason: str


def _order_event(
    change: KrakenFuturesOrderChange, order: Mapping[str, Any], ids: dict[str, Any]
) -> VenueEvent | None:
    qty = dec(order.get("qty", 0), "qty") + dec(order.get("filled", 0), "filled")
    limit = opt_dec(order.get("limit_price"), "limit_price")
    stop = opt_dec(order.get("stop_price"), "stop_price")
    limit = limit if limit else None  # 0 = unset
    stop = stop if stop else None
    C = KrakenFuturesOrderChange
    if change is C.ACCEPTED:
        return OrderAccepted(**ids)
    if change is C.TRIGGERED:
        return OrderTriggered(**ids, trigger_price=stop)
    if change is C.AMENDED:
        return OrderAmended(**ids, qty=qty, price=limit, stop_price=stop)
    if change is C.RESTATED:
        return OrderRestated(**ids, qty=qty, text="reduce-only order cut to the position")
    return None


def parse_ws_open_orders(msg: Mapping[str, Any]) -> KrakenFuturesOrderUpdate:
    """A WS v1 `open_orders` (or `open_orders_verbose`) update message."""
    reason = str(msg.get("reason", ""))
    change = exact(OPEN_ORDERS_REASONS, reason, "open_orders reason")
    is_cancel = bool(msg.get("is_cancel", False))
    order = msg.get("order")
    if isinstance(order, Mapping):
        order_id, cli = str(order["order_id"]), _cli_ord_id(order)
        when = parse_time(order.get("last_update_time"))
        symbol: str | None = str(order.get("instrument", "")) or None
    else:
        order_id, cli, when, symbol = str(msg["order_id"]), _cli_ord_id(msg), None, None
    ids: dict[str, Any] = {"client_order_id": cli, "venue_order_id": order_id, "venue_time": when}
    C = KrakenFuturesOrderChange
    event: VenueEvent | None
    if change is C.CANCELED:
        event = OrderCanceled(**ids, text=reason)
    elif change is C.EXPIRED:
        event = OrderExpired(**ids, text=reason)
    elif isinstance(order, Mapping):
        event = _order_event(change, order, ids)
    else:
        event = None
    return KrakenFuturesOrderUpdate(change, event, order_id, cli, symbol, is_cancel, reason)


def parse_ws_open_order_snapshot(
    row: Mapping[str, Any], symbols: KrakenFuturesSymbols
) -> VenueOrderState:
    """One order of `open_orders_snapshot`."""
    filled = dec(row.get("filled", 0), "filled")
    qty = dec(row.get("qty", 0), "qty") + filled
    limit = opt_dec(row.get("limit_price"), "limit_price")
    stop = opt_dec(row.get("stop_price"), "stop_price")
    return VenueOrderState(
        client_order_id=_cli_ord_id(row),
        venue_order_id=str(row["order_id"]),
        status=OrdStatus.PARTIALLY_FILLED if filled > 0 else OrdStatus.NEW,
        qty=qty,
        cum_qty=filled,
        price=limit if limit else None,
        stop_price=stop if stop else None,
        symbol=symbols.unified(str(row["instrument"])),
        venue_time=parse_time(row.get("last_update_time")),
    )
