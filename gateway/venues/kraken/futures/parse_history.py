"""Kraken Futures account order history (`GET /api/history/v2/orders`) -> the orders it shows
closed, as core `VenueOrderState`s.

The history lists order events (`elements[].event`, one key naming the kind): `OrderPlaced`,
`OrderUpdated` (an edit, or a fill: `reason` `partial_fill` / `full_fill`), `OrderCancelled`,
`OrderRejected`, and `OrderNotFound` / `OrderEditRejected`, which change no order. An order's
state is its last event; it is closed when that event cancels or rejects it or fills it fully.
History orders name the order `uid`, the symbol `tradeable`, the cliOrdId `clientId` (empty
when none), quantities as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.core.events import VenueOrderState
from gateway.core.model import OrdStatus
from gateway.venues.kraken.common.wire_scalars import KrakenParseError, dec, opt_dec
from gateway.venues.kraken.futures.parse_instruments import KrakenFuturesSymbols
from gateway.venues.kraken.futures.wire_values import parse_ms

FULL_FILL = "full_fill"
# Event kinds that leave the order as it was.
_NO_CHANGE = frozenset({"OrderNotFound", "OrderEditRejected"})
_CLOSING = {"OrderCancelled": OrdStatus.CANCELED, "OrderRejected": OrdStatus.REJECTED}
_OPENING = frozenset({"OrderPlaced", "OrderUpdated"})


def _state(
    order: Mapping[str, Any], status: OrdStatus, reason: str, symbols: KrakenFuturesSymbols
) -> VenueOrderState:
    cli = order.get("clientId")
    return VenueOrderState(
        client_order_id=None if cli in (None, "") else str(cli),
        venue_order_id=str(order["uid"]),
        status=status,
        qty=dec(order.get("quantity", 0), "quantity"),
        cum_qty=dec(order.get("filled", 0), "filled"),
        price=opt_dec(order.get("limitPrice"), "limitPrice"),
        # A contract no longer listed (expired) is no reason to fail the whole listing.
        symbol=symbols.to_unified.get(str(order.get("tradeable", "")).upper(), ""),
        text=reason,
        venue_time=parse_ms(order.get("lastUpdateTimestamp")),
    )


def _last_events(elements: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Each order's last state-changing event (kind, body), events taken oldest first."""
    last: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for element in elements:
        event = element.get("event")
        if not isinstance(event, Mapping) or len(event) != 1:
            raise KrakenParseError("order history element without one event")
        [(kind, body)] = event.items()
        if kind in _NO_CHANGE:
            continue
        if kind not in _OPENING and kind not in _CLOSING:
            raise KrakenParseError(f"unknown Kraken Futures order history event: {kind!r}")
        order = body.get("newOrder") if kind == "OrderUpdated" else body.get("order")
        if not isinstance(order, Mapping) or "uid" not in order:
            raise KrakenParseError(f"order history {kind} without its order")
        last[str(order["uid"])] = (kind, body)
    return last


def parse_closed_orders(
    elements: Iterable[Mapping[str, Any]], symbols: KrakenFuturesSymbols
) -> list[VenueOrderState]:
    """The orders whose last event in `elements` (oldest first) closed them."""
    closed = []
    for kind, body in _last_events(elements).values():
        reason = str(body.get("reason") or "")
        if kind in _CLOSING:
            closed.append(_state(body["order"], _CLOSING[kind], reason, symbols))
        elif kind == "OrderUpdated" and reason == FULL_FILL:
            closed.append(_state(body["newOrder"], OrdStatus.FILLED, reason, symbols))
    return closed
