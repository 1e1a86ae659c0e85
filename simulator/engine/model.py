"""The engine's data: order requests, live orders, fills, ledger rows and call results."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

ZERO = Decimal(0)
T = TypeVar("T")


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    ICEBERG = "iceberg"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"
    STOP_LOSS_LIMIT = "stop-loss-limit"
    TAKE_PROFIT_LIMIT = "take-profit-limit"
    TRAILING_STOP = "trailing-stop"
    TRAILING_STOP_LIMIT = "trailing-stop-limit"

    @property
    def is_triggered(self) -> bool:
        """Waits for a trigger price before it becomes a market or limit order."""
        return self not in (OrderType.MARKET, OrderType.LIMIT, OrderType.ICEBERG)

    @property
    def is_trailing(self) -> bool:
        return self in (OrderType.TRAILING_STOP, OrderType.TRAILING_STOP_LIMIT)

    @property
    def has_limit_after_trigger(self) -> bool:
        return self in (
            OrderType.STOP_LOSS_LIMIT,
            OrderType.TAKE_PROFIT_LIMIT,
            OrderType.TRAILING_STOP_LIMIT,
        )


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"
    FOK = "FOK"


class StpType(StrEnum):
    CANCEL_NEWEST = "cancel-newest"
    CANCEL_OLDEST = "cancel-oldest"
    CANCEL_BOTH = "cancel-both"


class TriggerRef(StrEnum):
    LAST = "last"
    INDEX = "index"


class OrderStatus(StrEnum):
    """REST `status` of an order; WS `order_status` is derived (see `Order.ws_status`)."""

    PENDING = "pending"  # accepted, not live yet (starttm in the future)
    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"


OFLAGS = frozenset({"post", "fcib", "fciq", "viqc", "nompp"})


@dataclass(frozen=True, slots=True)
class CloseParams:
    """Conditional close (OTO) attached to an order: `close[ordertype]`, `close[price]`, ..."""

    ordertype: OrderType
    price: str | None = None
    price2: str | None = None


@dataclass(frozen=True, slots=True)
class OrderParams:
    """An AddOrder request, fields spelled as on the REST wire.

    Numbers may be given as `Decimal` or as the wire text; the engine parses the text so every
    front end gets the same error strings. `price`/`price2` accept Kraken's relative forms
    (`+100`, `-1.5%`, `#2`; wire 3.1). `starttm`/`expiretm` accept `0`, a unix time or `+<secs>`.
    `oflags` holds any of `post`, `fcib`, `fciq`, `viqc`, `nompp`.
    """

    pair: str
    side: Side
    ordertype: OrderType
    volume: Decimal | str
    price: Decimal | str | None = None
    price2: Decimal | str | None = None
    displayvol: Decimal | str | None = None
    trigger: TriggerRef = TriggerRef.LAST
    oflags: frozenset[str] = frozenset()
    timeinforce: TimeInForce = TimeInForce.GTC
    starttm: Decimal | str | None = None
    expiretm: Decimal | str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    stptype: StpType = StpType.CANCEL_NEWEST
    leverage: str | None = None
    reduce_only: bool = False
    close: CloseParams | None = None
    validate: bool = False


@dataclass
class Order:
    """A live or finished spot order. Mutated only by the engine; events carry `snapshot()`s."""

    txid: str
    account_id: str
    pair: str  # pair id, e.g. "XXBTZUSD"
    side: Side
    ordertype: OrderType
    volume: Decimal  # base qty ordered (for viqc market buys: filled qty is bounded by quote)
    opentm: Decimal
    status: OrderStatus = OrderStatus.PENDING
    price: Decimal | None = None  # limit price (limit/iceberg) or trigger price (stops)
    price2: Decimal | None = None  # limit price after trigger (*-limit types)
    price_text: str = ""  # as given (relative forms kept for descr)
    price2_text: str = ""
    trailing_offset: Decimal | None = None  # trailing: distance from the peak
    trailing_pct: bool = False
    limit_offset: Decimal | None = None  # trailing-stop-limit: limit = trigger +/- offset
    limit_offset_pct: bool = False
    displayvol: Decimal | None = None
    quote_volume: Decimal | None = None  # viqc: quote amount to spend
    trigger: TriggerRef = TriggerRef.LAST
    oflags: frozenset[str] = frozenset()
    timeinforce: TimeInForce = TimeInForce.GTC
    starttm: Decimal = ZERO
    expiretm: Decimal = ZERO
    userref: int | None = None
    cl_ord_id: str | None = None
    stptype: StpType = StpType.CANCEL_NEWEST
    leverage: str | None = None
    reduce_only: bool = False
    close: CloseParams | None = None
    refid: str | None = None  # the primary order's txid when this is its conditional close
    # execution state
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO  # charged so far, in fee_asset
    fee_exact: Decimal = ZERO  # exact accrued fee (see funds.py for the rounding rule)
    taker_pct: Decimal = ZERO  # fee rates fixed when the order is accepted
    maker_pct: Decimal = ZERO
    fee_asset: str = ""
    closetm: Decimal | None = None
    reason: str | None = None
    triggered: bool = False
    triggered_at: Decimal | None = None
    peak_price: Decimal | None = None  # trailing: best reference price seen since placement
    amended: bool = False
    misc: tuple[str, ...] = ()
    trades: list[str] = field(default_factory=list)  # trade txids
    book_seq: int = 0  # time priority within a price level
    display_remaining: Decimal = ZERO  # iceberg: visible part left in the current slice
    hold_asset: str = ""
    hold_amount: Decimal = ZERO  # funds reserved for this order (BalanceEx hold_trade)
    last_modified: Decimal = ZERO  # creation or last amend (trading-counter age)

    @property
    def remaining(self) -> Decimal:
        return self.volume - self.vol_exec

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.PENDING, OrderStatus.OPEN)

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags

    @property
    def fee_in_base(self) -> bool:
        return "fcib" in self.oflags

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def limit_price(self) -> Decimal | None:
        """The price the order rests or matches at (None for market / untriggered market)."""
        if self.ordertype in (OrderType.LIMIT, OrderType.ICEBERG):
            return self.price
        if self.ordertype.has_limit_after_trigger:
            return self.price2
        return None

    @property
    def trigger_price(self) -> Decimal | None:
        return self.price if self.ordertype.is_triggered else None

    @property
    def ws_status(self) -> str:
        """WS v2 `order_status`: pending_new, new, partially_filled, filled, canceled, expired."""
        if self.status is OrderStatus.CLOSED:
            return "filled"
        if self.status is OrderStatus.CANCELED:
            return "canceled"
        if self.status is OrderStatus.EXPIRED:
            return "expired"
        if self.status is OrderStatus.PENDING:
            return "pending_new"
        return "partially_filled" if self.vol_exec > 0 else "new"

    def snapshot(self) -> Order:
        """An independent copy for events and query results (a dict copy: copy.copy is slow)."""
        clone = object.__new__(Order)
        clone.__dict__.update(self.__dict__)
        clone.trades = list(self.trades)
        return clone


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of one execution (REST TradesHistory row / WS `trade` execution)."""

    txid: str  # trade txid "TCWJEG-FL4SZ-3FKGH6" (WS exec_id)
    trade_id: int  # public integer id shared by both sides
    order_txid: str
    account_id: str
    pair: str
    time: Decimal
    side: Side
    ordertype: OrderType
    price: Decimal
    volume: Decimal
    cost: Decimal  # quote
    fee: Decimal
    fee_asset: str
    maker: bool
    postxid: str  # id of the match (same for both sides), like Kraken's `postxid`
    ledger_ids: tuple[str, ...] = ()
    userref: int | None = None
    cl_ord_id: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One `Ledgers` row: a signed balance change of one asset on one account."""

    id: str
    account_id: str
    refid: str  # trade txid, transfer id, ...
    time: Decimal
    type: str  # trade, deposit, withdrawal, transfer, adjustment
    subtype: str
    asset: str
    amount: Decimal
    fee: Decimal
    balance: Decimal  # balance after this entry


@dataclass(frozen=True, slots=True)
class AddResult:
    """AddOrder outcome. `txid` is None for validate=true (only `descr` is returned)."""

    txid: str | None
    descr_order: str
    descr_close: str | None = None
    order: Order | None = None  # snapshot right after placement (it may already be filled)


@dataclass(frozen=True, slots=True)
class AmendResult:
    amend_id: str
    order: Order


@dataclass(frozen=True, slots=True)
class EditResult:
    """EditOrder outcome (REST field names)."""

    txid: str | None  # new order id (None for validate)
    originaltxid: str
    volume: Decimal
    price: Decimal | None
    price2: Decimal | None
    orders_cancelled: int
    descr_order: str
    newuserref: int | None = None
    olduserref: int | None = None
    order: Order | None = None


@dataclass(frozen=True, slots=True)
class AmendRecord:
    """One row of `OrderAmends` (the original placement is the first row, amend_type original)."""

    amend_id: str
    amend_type: str  # original | user
    order_qty: Decimal
    display_qty: Decimal | None
    remaining_qty: Decimal
    limit_price: Decimal | None
    trigger_price: Decimal | None
    reason: str | None
    post_only: bool
    timestamp: Decimal


@dataclass(frozen=True, slots=True)
class CancelAfterResult:
    current_time: Decimal
    trigger_time: Decimal | None  # None = disabled


@dataclass(frozen=True, slots=True)
class BalanceEx:
    balance: Decimal
    hold_trade: Decimal


@dataclass(frozen=True, slots=True)
class TradeBalance:
    """`TradeBalance` figures valued in one asset (spot only: no margin positions)."""

    eb: Decimal
    tb: Decimal
    m: Decimal
    n: Decimal
    c: Decimal
    v: Decimal
    e: Decimal
    mf: Decimal
    ml: Decimal | None
    uv: Decimal


@dataclass(frozen=True, slots=True)
class TransferResult:
    transfer_id: str
    status: str  # "complete"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a history query plus the total count (Kraken's `count`)."""

    items: list[T]
    count: int
