"""Kraken Futures orders, fills and order events as the futures engine keeps them (wire 8.4)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from simulator.engine.model import Side

ZERO = Decimal(0)


class KrakenFuturesOrderType(StrEnum):
    """`orderType` of sendorder, plus the venue's own `liquidation` orders."""

    LMT = "lmt"
    POST = "post"
    IOC = "ioc"
    MKT = "mkt"
    FOK = "fok"
    STP = "stp"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    LIQUIDATION = "liquidation"  # placed by the venue, never accepted from a client

    @property
    def client_may_send(self) -> bool:
        return self is not KrakenFuturesOrderType.LIQUIDATION

    @property
    def is_trigger(self) -> bool:
        return self in (
            KrakenFuturesOrderType.STP,
            KrakenFuturesOrderType.TAKE_PROFIT,
            KrakenFuturesOrderType.TRAILING_STOP,
        )

    @property
    def rests(self) -> bool:
        """Left in the book after matching (as opposed to immediate-or-cancel kinds)."""
        return self in (KrakenFuturesOrderType.LMT, KrakenFuturesOrderType.POST)


class KrakenTriggerSignal(StrEnum):
    MARK = "mark"
    INDEX = "index"
    LAST = "last"

    @property
    def wire_name(self) -> str:
        """Spelling inside `orderTrigger` events: mark_price, spot_price, last_price."""
        return {"mark": "mark_price", "index": "spot_price", "last": "last_price"}[self.value]


class KrakenDeviationUnit(StrEnum):
    PERCENT = "PERCENT"
    QUOTE_CURRENCY = "QUOTE_CURRENCY"


class KrakenFuturesOrderState(StrEnum):
    UNTOUCHED = "untouched"
    PARTIALLY_FILLED = "partiallyFilled"
    FILLED = "filled"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class KrakenFuturesOrderRequest:
    """A sendorder request after wire parsing (Decimals, enums); validation is the engine's."""

    symbol: str
    side: Side
    order_type: KrakenFuturesOrderType
    size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    cli_ord_id: str | None = None
    trigger_signal: KrakenTriggerSignal = KrakenTriggerSignal.LAST
    reduce_only: bool = False
    trailing_deviation: Decimal | None = None
    trailing_unit: KrakenDeviationUnit | None = None
    limit_offset: Decimal | None = None
    limit_offset_unit: KrakenDeviationUnit | None = None


@dataclass(slots=True)
class KrakenFuturesOrder:
    """A live or finished futures order. Mutated only by the engine; events carry snapshots."""

    order_id: str
    account_id: str
    symbol: str
    side: Side
    order_type: KrakenFuturesOrderType
    quantity: Decimal
    received_ms: int
    updated_ms: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    cli_ord_id: str | None = None
    reduce_only: bool = False
    trigger_signal: KrakenTriggerSignal = KrakenTriggerSignal.LAST
    trailing_deviation: Decimal | None = None
    trailing_unit: KrakenDeviationUnit | None = None
    limit_offset: Decimal | None = None
    limit_offset_unit: KrakenDeviationUnit | None = None
    filled: Decimal = ZERO
    state: KrakenFuturesOrderState = KrakenFuturesOrderState.UNTOUCHED
    triggered: bool = False  # trigger orders: became a live lmt/ioc order
    peak_price: Decimal | None = None  # trailing_stop: best signal price seen

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        return self.state in (
            KrakenFuturesOrderState.UNTOUCHED,
            KrakenFuturesOrderState.PARTIALLY_FILLED,
        )

    @property
    def waiting_for_trigger(self) -> bool:
        return self.order_type.is_trigger and not self.triggered and self.is_open

    @property
    def wire_type(self) -> str:
        """Order JSON `type`: a `mkt` order is reported as `ioc` with its protected limit, a
        fired trigger order as the `lmt` order it became."""
        if self.order_type is KrakenFuturesOrderType.MKT:
            return "ioc"
        if self.order_type.is_trigger:
            return "lmt"
        return self.order_type.value

    def snapshot(self) -> KrakenFuturesOrder:
        return copy.copy(self)


@dataclass(frozen=True, slots=True)
class KrakenFuturesFill:
    fill_id: str
    account_id: str
    symbol: str
    side: Side
    order_id: str
    cli_ord_id: str | None
    size: Decimal
    price: Decimal
    time_ms: int
    maker: bool
    fee: Decimal
    fee_currency: str
    order_type: KrakenFuturesOrderType
    taker_order_type: KrakenFuturesOrderType
    remaining_order_qty: Decimal
    seq: int


class KrakenOrderEventType(StrEnum):
    PLACE = "PLACE"
    CANCEL = "CANCEL"
    EDIT = "EDIT"
    REJECT = "REJECT"
    EXECUTION = "EXECUTION"


@dataclass(frozen=True, slots=True)
class KrakenFuturesOrderEvent:
    """One `orderEvents[]` element; `order` is the snapshot after (or, for EDIT, before) it."""

    type: KrakenOrderEventType
    order: KrakenFuturesOrder
    new_order: KrakenFuturesOrder | None = None  # EDIT: the order after the edit
    reduced_quantity: Decimal | None = None
    reason: str | None = None  # REJECT: POST_WOULD_EXECUTE, IOC_WOULD_NOT_EXECUTE, ...
    execution_id: str | None = None  # EXECUTION
    price: Decimal | None = None
    amount: Decimal | None = None
    order_prior_execution: KrakenFuturesOrder | None = None
    time_ms: int = 0


@dataclass(frozen=True, slots=True)
class KrakenFuturesResult:
    """Outcome of sendorder / editorder / cancelorder: a wire `status` and the events."""

    status: str
    order_id: str | None
    cli_ord_id: str | None
    received_ms: int
    events: tuple[KrakenFuturesOrderEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class KrakenHistoryEntry:
    """One order event of an account, for `/api/history/v2/orders`."""

    uid: str
    time_ms: int
    account_id: str
    event: KrakenFuturesOrderEvent
