"""The order state machine and the pure functions that move an `Order` and describe each move as
an `ExecutionReport`. No I/O: the service decides when to call the venue and the journal.

Transitions (OrdStatus); terminal states have no way out except a late fill, which is recorded
without reopening the order (the venue traded before it processed our cancel):

    PENDING_NEW      -> NEW, PARTIALLY_FILLED, FILLED, REJECTED, CANCELED, EXPIRED, PENDING_CANCEL,
                        PENDING_REPLACE
    NEW              -> PARTIALLY_FILLED, FILLED, PENDING_CANCEL, PENDING_REPLACE, CANCELED, EXPIRED
    PARTIALLY_FILLED -> PARTIALLY_FILLED, FILLED, PENDING_CANCEL, PENDING_REPLACE, CANCELED, EXPIRED
    PENDING_CANCEL   -> NEW, PARTIALLY_FILLED (cancel refused), FILLED, CANCELED, EXPIRED
    PENDING_REPLACE  -> NEW, PARTIALLY_FILLED (amended or refused), FILLED, CANCELED, EXPIRED,
                        REPLACED (cancel/replace done), PENDING_CANCEL
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from gateway.core.errors import IllegalTransition
from gateway.core.events import OrderFilled
from gateway.core.model import (
    TERMINAL_STATUSES,
    ZERO,
    ExecType,
    ExecutionReport,
    Fee,
    Fill,
    Instrument,
    Liquidity,
    Order,
    OrderRequest,
    OrdStatus,
    RejectInfo,
)
from gateway.core.venue_ids import scoped_client_order_id

S = OrdStatus
_LIVE = frozenset({S.NEW, S.PARTIALLY_FILLED})
_ENDS = frozenset({S.FILLED, S.CANCELED, S.EXPIRED})

TRANSITIONS: dict[OrdStatus, frozenset[OrdStatus]] = {
    S.PENDING_NEW: _LIVE | _ENDS | {S.REJECTED, S.PENDING_CANCEL, S.PENDING_REPLACE},
    S.NEW: _LIVE | _ENDS | {S.PENDING_CANCEL, S.PENDING_REPLACE},
    S.PARTIALLY_FILLED: _ENDS | {S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE},
    S.PENDING_CANCEL: _LIVE | _ENDS | {S.PENDING_CANCEL},
    S.PENDING_REPLACE: _LIVE | _ENDS | {S.REPLACED, S.PENDING_CANCEL, S.PENDING_REPLACE},
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REPLACED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


def check_transition(old: OrdStatus, new: OrdStatus) -> None:
    if new not in TRANSITIONS[old]:
        raise IllegalTransition(f"order cannot go from {old.value} to {new.value}")


def live_status(order: Order) -> OrdStatus:
    """The status a working order has once nothing is pending."""
    if order.cum_qty >= order.qty > 0:
        return S.FILLED
    return S.PARTIALLY_FILLED if order.cum_qty > 0 else S.NEW


def _digest(*parts: str) -> str:
    # Stable across restarts and replays; unambiguous because parts are NUL-separated.
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=12).hexdigest()


def order_exec_id(order: Order) -> str:
    if order.venue_client_order_id is None:  # journaled before ids were scoped per session
        return "E" + _digest(order.account, order.client_order_id, str(order.version))
    return "E" + _digest(order.account, order.session_id, order.client_order_id, str(order.version))


def fill_exec_id(order: Order, trade_id: str) -> str:
    return trade_exec_id(order.account, order.venue, trade_id)


def trade_exec_id(account: str, venue: str, trade_id: str) -> str:
    """The exec_id of the FILL report of one venue trade (a Fill names its report by it)."""
    return "T" + _digest(account, venue, trade_id)


def new_order(
    *,
    account: str,
    session_id: str,
    request: OrderRequest,
    instrument: Instrument,
    now: datetime,
    orig_client_order_id: str | None = None,
) -> Order:
    return Order(
        account=account,
        session_id=session_id,
        request=request,
        venue=instrument.venue,
        status=S.PENDING_NEW,
        qty=request.qty if request.qty is not None else ZERO,
        price=request.price,
        stop_price=request.stop_price,
        display_qty=request.display_qty,
        orig_client_order_id=orig_client_order_id,
        created_at=now,
        updated_at=now,
        venue_client_order_id=scoped_client_order_id(account, session_id, request.client_order_id),
    )


def transition(order: Order, status: OrdStatus, now: datetime, **changes: object) -> Order:
    """A new snapshot in `status` (checked) with `changes` applied and the version bumped."""
    if status is not order.status:
        check_transition(order.status, status)
    return replace(order, status=status, updated_at=now, version=order.version + 1, **changes)  # type: ignore[arg-type]


def apply_fill(order: Order, event: OrderFilled, now: datetime) -> tuple[Order, ExecType] | None:
    """Merge one fill; None if its trade id is already on the order (no double count)."""
    if any(f.trade_id == event.trade_id for f in order.fills):
        return None
    cum = order.cum_qty + event.qty
    avg = (order.avg_px * order.cum_qty + event.price * event.qty) / cum
    fill = Fill(
        trade_id=event.trade_id,
        account=order.account,
        session_id=order.session_id,
        venue=order.venue,
        symbol=order.symbol,
        client_order_id=order.client_order_id,
        venue_order_id=event.venue_order_id or order.venue_order_id or "",
        side=order.side,
        qty=event.qty,
        price=event.price,
        fee=event.fee,
        liquidity=event.liquidity,
        venue_time=event.venue_time,
    )
    complete = (order.qty > 0 and cum >= order.qty) or event.order_done
    if order.status in TERMINAL_STATUSES:
        status = order.status  # late fill on a closed order: record it, keep the status
    elif complete:
        status = S.FILLED
    elif order.status in (S.PENDING_CANCEL, S.PENDING_REPLACE):
        status = order.status  # FIX: a partial fill does not end a pending request
    else:
        status = S.PARTIALLY_FILLED
    updated = replace(
        order,
        status=status,
        cum_qty=cum,
        avg_px=avg,
        venue_order_id=order.venue_order_id or event.venue_order_id,
        fills=(*order.fills, fill),
        fees=_add_fee(order.fees, event.fee),
        updated_at=now,
        version=order.version + 1,
    )
    return updated, ExecType.FILL if complete else ExecType.PARTIAL_FILL


def _add_fee(totals: tuple[Fee, ...], fee: Fee | None) -> tuple[Fee, ...]:
    """Fee totals per asset (bounded, unlike the fills)."""
    if fee is None:
        return totals
    if not any(t.asset == fee.asset for t in totals):
        return (*totals, fee)
    return tuple(
        Fee(asset=t.asset, amount=t.amount + fee.amount) if t.asset == fee.asset else t
        for t in totals
    )


def make_report(
    order: Order,
    exec_type: ExecType,
    now: datetime,
    *,
    last_qty: Decimal = ZERO,
    last_px: Decimal = ZERO,
    trade_id: str | None = None,
    fee: Fee | None = None,
    liquidity: Liquidity | None = None,
    reject: RejectInfo | None = None,
    text: str = "",
    venue_time: datetime | None = None,
) -> ExecutionReport:
    """Describe `order` (already in its new state) as a report; sequences come from the
    journal."""
    exec_id = fill_exec_id(order, trade_id) if trade_id is not None else order_exec_id(order)
    request = order.request
    return ExecutionReport(
        session_id=order.session_id,
        account=order.account,
        exec_id=exec_id,
        exec_type=exec_type,
        ord_status=order.status,
        client_order_id=order.client_order_id,
        orig_client_order_id=order.orig_client_order_id,
        venue_order_id=order.venue_order_id,
        venue=order.venue,
        symbol=order.symbol,
        side=order.side,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        order_qty=order.qty,
        price=order.price,
        stop_price=order.stop_price,
        cum_qty=order.cum_qty,
        leaves_qty=order.leaves_qty,
        avg_px=order.avg_px,
        last_qty=last_qty,
        last_px=last_px,
        trade_id=trade_id,
        fee=fee,
        liquidity=liquidity,
        reject=reject if reject is not None else order.reject,
        text=text,
        venue_time=venue_time,
        gateway_time=now,
    )


def same_request(a: OrderRequest, b: OrderRequest) -> bool:
    """Idempotency comparison: equal in everything but the per-attempt deadline."""
    return replace(a, deadline=None) == replace(b, deadline=None)
