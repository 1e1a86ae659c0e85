"""What news from the venue does to an order, as pure functions.

Three kinds of news: an event pushed by the adapter (events.py), the venue's answer to a query
(`VenueOrderState`, used to settle outcome-unknown requests and after restarts), and the venue
saying it has no such order. Each function returns an `Update` (the new snapshot and the report
to emit) or None when the news changes nothing; the service journals it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from gateway.core.errors import ErrorReason, Internal
from gateway.core.events import (
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRestated,
    OrderTriggered,
    VenueEvent,
    VenueOrderState,
)
from gateway.core.model import PENDING_STATUSES, ExecType, Order, OrdStatus, RejectInfo
from gateway.core.orders import apply_fill, live_status, transition

_CLOSING = {
    OrdStatus.CANCELED: ExecType.CANCELED,
    OrdStatus.EXPIRED: ExecType.EXPIRED,
    OrdStatus.REPLACED: ExecType.REPLACED,
}
ABSENT_TEXT = "the venue has no record of the order"


@dataclass(frozen=True, slots=True)
class Update:
    """A new order snapshot and the report describing it (exec_type None: store it silently,
    e.g. a venue order id learnt late). `report` holds make_report's keyword arguments."""

    order: Order
    exec_type: ExecType | None = None
    report: dict[str, Any] = field(default_factory=dict)


def from_event(order: Order, event: VenueEvent, now: datetime) -> Update | None:
    if event.venue_order_id and not order.venue_order_id:
        order = replace(order, venue_order_id=event.venue_order_id)
    when = {"venue_time": event.venue_time}
    if isinstance(event, OrderFilled):
        merged = apply_fill(order, event, now)
        if merged is None:
            return None  # this trade id is already on the order
        filled, exec_type = merged
        fill = {
            "last_qty": event.qty,
            "last_px": event.price,
            "trade_id": event.trade_id,
            "fee": event.fee,
            "liquidity": event.liquidity,
        }
        return Update(filled, exec_type, {**fill, **when})
    if order.is_terminal:
        return None  # late or repeated news about a closed order
    if isinstance(event, OrderAccepted):
        if order.status is OrdStatus.PENDING_NEW:
            return Update(transition(order, OrdStatus.NEW, now), ExecType.NEW, when)
        return Update(order)
    if isinstance(event, OrderRejected):
        if order.status is not OrdStatus.PENDING_NEW:
            return Update(order)
        reject = RejectInfo(reason=event.reason, text=event.text, venue_text=event.venue_text)
        moved = transition(order, OrdStatus.REJECTED, now, reject=reject)
        return Update(moved, ExecType.REJECTED, when)
    if isinstance(event, OrderCanceled | OrderExpired):
        target = OrdStatus.CANCELED if isinstance(event, OrderCanceled) else OrdStatus.EXPIRED
        return Update(
            transition(order, target, now), _CLOSING[target], {"text": event.text, **when}
        )
    if isinstance(event, OrderAmended | OrderRestated):
        return _changed_in_place(order, event, now)
    if isinstance(event, OrderTriggered):
        return Update(transition(order, order.status, now), ExecType.TRIGGERED, when)
    raise Internal(f"unhandled venue event {type(event).__name__}")


def _changed_in_place(order: Order, event: OrderAmended | OrderRestated, now: datetime) -> Update:
    changed = replace(
        order,
        qty=event.qty if event.qty is not None else order.qty,
        price=event.price if event.price is not None else order.price,
        stop_price=event.stop_price if event.stop_price is not None else order.stop_price,
    )
    amended = isinstance(event, OrderAmended)
    if isinstance(event, OrderAmended) and event.display_qty is not None:
        changed = replace(changed, display_qty=event.display_qty)
    # An amend answers our PENDING_REPLACE; a cancel in flight stays pending either way.
    keep_pending = order.status is OrdStatus.PENDING_CANCEL or (
        not amended and order.status in PENDING_STATUSES
    )
    status = order.status if keep_pending else live_status(changed)
    text = event.text if isinstance(event, OrderRestated) else ""
    exec_type = ExecType.REPLACED if amended else ExecType.RESTATED
    return Update(
        transition(changed, status, now), exec_type, {"text": text, "venue_time": event.venue_time}
    )


def from_venue_state(order: Order, state: VenueOrderState, now: datetime) -> Update | None:
    """Settle our status from the venue's (fills are merged before, by trade id)."""
    if state.venue_order_id and not order.venue_order_id:
        order = replace(order, venue_order_id=state.venue_order_id)
    if order.is_terminal:
        return None
    venue_status = state.status
    if venue_status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED, OrdStatus.PENDING_NEW):
        return _still_open(order, state, now)
    if venue_status is OrdStatus.FILLED:
        if order.status is OrdStatus.FILLED:
            return None
        return Update(
            transition(order, OrdStatus.FILLED, now), ExecType.ORDER_STATUS, {"text": state.text}
        )
    if venue_status in _CLOSING:
        target = venue_status
        if venue_status is OrdStatus.REPLACED and order.status is not OrdStatus.PENDING_REPLACE:
            target = OrdStatus.CANCELED  # replaced by someone else: for us it is gone
        return Update(transition(order, target, now), _CLOSING[target], {"text": state.text})
    if venue_status is OrdStatus.REJECTED and order.status is OrdStatus.PENDING_NEW:
        reject = RejectInfo(
            reason=ErrorReason.VENUE_REJECTED_OTHER, text=state.text or "rejected by the venue"
        )
        return Update(transition(order, OrdStatus.REJECTED, now, reject=reject), ExecType.REJECTED)
    return Update(order)


def _still_open(order: Order, state: VenueOrderState, now: datetime) -> Update:
    if order.status is OrdStatus.PENDING_NEW:
        if state.status is OrdStatus.PENDING_NEW:
            return Update(order)
        return Update(transition(order, live_status(order), now), ExecType.NEW)
    if order.status is OrdStatus.PENDING_REPLACE:
        changed = replace(
            order,
            qty=state.qty,
            price=state.price if state.price is not None else order.price,
            stop_price=state.stop_price if state.stop_price is not None else order.stop_price,
        )
        exec_type = ExecType.REPLACED if changed != order else ExecType.ORDER_STATUS
        return Update(transition(changed, live_status(changed), now), exec_type)
    if order.status is OrdStatus.PENDING_CANCEL:
        text = "cancel not confirmed: the order is still open at the venue"
        return Update(
            transition(order, live_status(order), now), ExecType.ORDER_STATUS, {"text": text}
        )
    return Update(order)


def unknown_at_venue(order: Order, now: datetime, text: str) -> Update | None:
    """Restart reconciliation found the order nowhere at the venue (not open, not among the
    orders closed since it was placed, no trade of it): settled for good, with why. A submit
    the venue never saw is REJECTED; an order it had (its state lost with the venue's) is
    CANCELED, keeping the fills known."""
    if order.is_terminal:
        return None
    if order.status is OrdStatus.PENDING_NEW:
        reject = RejectInfo(reason=ErrorReason.UNKNOWN_ORDER, text=text)
        return Update(transition(order, OrdStatus.REJECTED, now, reject=reject), ExecType.REJECTED)
    return Update(transition(order, OrdStatus.CANCELED, now), ExecType.CANCELED, {"text": text})


def absent_at_venue(order: Order, now: datetime) -> Update | None:
    """The venue repeatedly says it has no such order: a pending order is over."""
    if order.status is OrdStatus.PENDING_NEW:
        reject = RejectInfo(reason=ErrorReason.UNKNOWN_ORDER, text=ABSENT_TEXT)
        return Update(transition(order, OrdStatus.REJECTED, now, reject=reject), ExecType.REJECTED)
    if order.status in PENDING_STATUSES:
        moved = transition(order, OrdStatus.CANCELED, now)
        return Update(moved, ExecType.CANCELED, {"text": ABSENT_TEXT})
    return None
