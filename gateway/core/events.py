"""What a venue adapter tells the core about its orders, in venue-neutral terms.

Adapters push these into the `VenueEventSink` the core hands them (see ports.py), in the order
the venue produced them. Every event names its order by `client_order_id` (the id the core sent
the venue, `Order.id_at_venue`, after undoing any venue-specific mapping) and/or
`venue_order_id`; at least one is set.
Events are idempotent for the core: a repeated event (reconnect snapshot, REST reconciliation)
changes nothing, and fills are merged by `trade_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.core.errors import ErrorReason
from gateway.core.model import Fee, Liquidity, OrdStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrderEvent:
    client_order_id: str | None = None
    venue_order_id: str | None = None
    venue_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(VenueOrderEvent):
    """The order is live at the venue (Kraken `new`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(VenueOrderEvent):
    """The venue refused the order definitively."""

    reason: ErrorReason
    text: str
    venue_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(VenueOrderEvent):
    """One execution. `trade_id` is the venue's and is the de-dup key across reconnects."""

    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Fee | None = None
    liquidity: Liquidity | None = None
    # The venue says this fill completes the order. Needed when the order's size is in quote
    # currency (cash_order_qty): its base quantity is known only once the venue is done.
    order_done: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCanceled(VenueOrderEvent):
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(VenueOrderEvent):
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAmended(VenueOrderEvent):
    """The order was changed in place at our request; None = unchanged."""

    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    display_qty: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRestated(VenueOrderEvent):
    """The venue changed the order on its own (e.g. qty reduced); None = unchanged."""

    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered(VenueOrderEvent):
    """A stop / take-profit / trailing trigger fired; the order is now working."""

    trigger_price: Decimal | None = None


VenueEvent = (
    OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCanceled
    | OrderExpired
    | OrderAmended
    | OrderRestated
    | OrderTriggered
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitAck:
    """The venue took the order. `status` is what the venue said at ack time (usually NEW;
    PENDING_NEW if it only acknowledged receipt)."""

    venue_order_id: str
    status: OrdStatus = OrdStatus.NEW
    venue_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendAck:
    """The venue applied an amend; `venue_order_id` may change (venues that re-key on edit)."""

    venue_order_id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    venue_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrderState:
    """An order as the venue reports it on a query (unknown-outcome resolution, restart).

    `cum_qty` is the venue's executed quantity; `fills` may be empty when the venue's order
    query does not list trades (the core then fetches `recent_fills`).
    """

    client_order_id: str | None
    venue_order_id: str
    status: OrdStatus
    qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    symbol: str = ""
    fills: tuple[OrderFilled, ...] = ()
    text: str = ""
    venue_time: datetime | None = None
